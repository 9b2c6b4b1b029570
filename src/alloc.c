/*
 * libiommu - the default host allocator (malloc/free) and the zeroing
 * helpers every component uses on top of its instance's allocator ops.
 */
#include <stdlib.h>
#include <string.h>

#include <iommu/alloc.h>

#include "iommu_internal.h"

static void *default_alloc(void *, size_t);
static void  default_free(void *, void *, size_t);

static const struct iommu_allocator default_allocator = {
    .ia_alloc = default_alloc,
    .ia_free = default_free,
    .ia_ctx = NULL,
};

static void *
default_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void
default_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

const struct iommu_allocator *
iommu_default_allocator(void)
{
	return &default_allocator;
}

const struct iommu_allocator *
iommu__allocator_or_default(const struct iommu_allocator *a)
{
	return a != NULL ? a : &default_allocator;
}

void *
iommu__zalloc(const struct iommu_allocator *a, size_t size)
{
	void *p;

	p = a->ia_alloc(a->ia_ctx, size);
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

void
iommu__free(const struct iommu_allocator *a, void *ptr, size_t size)
{
	if (ptr != NULL)
		a->ia_free(a->ia_ctx, ptr, size);
}
