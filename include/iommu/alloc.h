/*
 * libiommu - per-instance host memory allocator ops.
 *
 * Every object that allocates host memory (extent maps, pools, page-table
 * shadows, the SMMUv3 model) takes one of these at creation, in the manner
 * of pool(9)'s per-pool backend.  Nothing in the library calls malloc()
 * directly, so tests can plug in an allocator that fails at the N-th call
 * or one that records every block for a leak check.  Passing NULL where an
 * allocator is expected selects iommu_default_allocator().
 */
#ifndef IOMMU_ALLOC_H
#define IOMMU_ALLOC_H

#include <stddef.h>

#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_allocator {
	/* Returns uninitialised memory, or NULL on failure. */
	void *(*ia_alloc)(void *ctx, size_t size);
	/* Frees a block from ia_alloc; size is the size it was asked for. */
	void (*ia_free)(void *ctx, void *ptr, size_t size);
	void *ia_ctx;
};

/* malloc(3)/free(3). */
IOMMU_EXPORT const struct iommu_allocator *iommu_default_allocator(void);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_ALLOC_H */
