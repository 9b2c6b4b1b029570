/*
 * libiommu - memory-checker annotations for memory the library recycles
 * itself (pool items), in the manner of mimalloc's track.h.
 *
 * Under Valgrind (headers present at build time, effective only when
 * running under it) these are memcheck client requests; under
 * AddressSanitizer they poison and unpoison shadow memory.  Otherwise they
 * compile to nothing.  States:
 *   noaccess   - any access is reported (an item on a free list)
 *   undefined  - accessible, contents uninitialised (a freshly got item)
 *   defined    - accessible and initialised (bytes the library wrote)
 * iommu__track_is_noaccess() queries the state without reporting an error,
 * for double-put detection.
 *
 * ASan tracks poisoning in 8-byte granules, so callers annotate regions
 * that start 8-byte aligned (pool items are).
 */
#ifndef IOMMU_TRACK_H
#define IOMMU_TRACK_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define IOMMU_TRACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOMMU_TRACK_ASAN 1
#endif
#endif

#if defined(IOMMU_TRACK_ASAN)
#include <sanitizer/asan_interface.h>
#elif defined(IOMMU_HAVE_VALGRIND_H)
#define IOMMU_TRACK_VALGRIND 1
#include <valgrind/memcheck.h>
#endif

/*
 * Whether annotating is worth it: always under ASan, under Valgrind only
 * when actually running on it (a client request costs a few instructions
 * even natively; a process cannot come under Valgrind later).
 */
static inline bool
iommu__track_enabled(void)
{
#if defined(IOMMU_TRACK_ASAN)
	return true;
#elif defined(IOMMU_TRACK_VALGRIND)
	return RUNNING_ON_VALGRIND != 0;
#else
	return false;
#endif
}

static inline void
iommu__track_noaccess(void *p, size_t n)
{
#if defined(IOMMU_TRACK_ASAN)
	__asan_poison_memory_region(p, n);
#elif defined(IOMMU_TRACK_VALGRIND)
	(void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
#else
	(void)p;
	(void)n;
#endif
}

static inline void
iommu__track_undefined(void *p, size_t n)
{
#if defined(IOMMU_TRACK_ASAN)
	__asan_unpoison_memory_region(p, n);
#elif defined(IOMMU_TRACK_VALGRIND)
	(void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#else
	(void)p;
	(void)n;
#endif
}

static inline void
iommu__track_defined(void *p, size_t n)
{
#if defined(IOMMU_TRACK_ASAN)
	__asan_unpoison_memory_region(p, n);
#elif defined(IOMMU_TRACK_VALGRIND)
	(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
	(void)p;
	(void)n;
#endif
}

/* True if the first byte at p is marked no-access; never reports. */
static inline bool
iommu__track_is_noaccess(const void *p)
{
#if defined(IOMMU_TRACK_ASAN)
	return __asan_address_is_poisoned(p) != 0;
#elif defined(IOMMU_TRACK_VALGRIND)
	unsigned char vbits;

	/* 3: some byte is unaddressable (0 when not under Valgrind). */
	return VALGRIND_GET_VBITS(p, &vbits, 1) == 3;
#else
	(void)p;
	return false;
#endif
}

#endif /* IOMMU_TRACK_H */
