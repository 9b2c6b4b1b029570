/*
 * libiommu - internal helpers shared by the components: assertions,
 * allocation through the instance's allocator ops, little-endian access.
 * Never installed.
 *
 * IOMMU_ASSERT is for internal invariants only (a library bug), never for
 * caller or guest input: those get an errno-style return or an
 * architectural event.  IOMMU_DEBUG levels (set at configure time):
 *   1  cheap checks (magic numbers, double frees)
 *   2  + internal asserts
 *   3  + whole-structure validators after each mutation
 */
#ifndef IOMMU_INTERNAL_H
#define IOMMU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <iommu/alloc.h>

#ifndef IOMMU_DEBUG
#define IOMMU_DEBUG 0
#endif

#define IOMMU_PANIC(...)                                                       \
	do {                                                                   \
		fprintf(stderr, "libiommu: %s: ", __func__);                   \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

#if IOMMU_DEBUG >= 2
#define IOMMU_ASSERT(x)                                                        \
	do {                                                                   \
		if (!(x))                                                      \
			IOMMU_PANIC("assertion \"%s\" failed (%s:%d)", #x,     \
			    __FILE__, __LINE__);                               \
	} while (0)
#else
#define IOMMU_ASSERT(x) ((void)0)
#endif

#define IOMMU_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const struct iommu_allocator *iommu__allocator_or_default(
    const struct iommu_allocator *);
void *iommu__zalloc(const struct iommu_allocator *, size_t);
void  iommu__free(const struct iommu_allocator *, void *, size_t);

/* Explicit little-endian encoding of structures in simulated memory. */
static inline uint64_t
iommu__le_dec(const void *buf, unsigned nbytes)
{
	const uint8_t *p = buf;
	uint64_t       v = 0;

	while (nbytes-- > 0)
		v = (v << 8) | p[nbytes];
	return v;
}

static inline void
iommu__le_enc(void *buf, uint64_t v, unsigned nbytes)
{
	uint8_t *p = buf;
	unsigned i;

	for (i = 0; i < nbytes; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
iommu__le64_dec(const void *buf)
{
	return iommu__le_dec(buf, 8);
}

static inline void
iommu__le64_enc(void *buf, uint64_t v)
{
	iommu__le_enc(buf, v, 8);
}

#endif /* IOMMU_INTERNAL_H */
