/*
 * libiommu - IOVA extent allocator with OpenBSD extent(9) semantics.
 *
 * An extent manages the integer range [start, end] (inclusive, 64-bit) as a
 * sorted list of allocated regions.  Allocations take a size, an alignment
 * (power of two, IOMMU_EX_NOALIGN for none), a skew (the result is congruent
 * to skew modulo the alignment) and a boundary (power of two or
 * IOMMU_EX_NOBOUNDARY): boundary lines lie at start + k * boundary, or at
 * k * boundary with IOMMU_EX_BOUNDZERO; a region may begin on a line but
 * never cross one.  Placement is best fit (the free gap that leaves the
 * least space after the region; ties go to the lowest address; an exact
 * fit ends the search) or, with IOMMU_EX_FAST, first fit (lowest address).
 *
 * Locking: every extent carries its own mutex and condition variable; all
 * functions take the lock themselves, so one extent may be used from any
 * number of threads without outside locking.  This lock is the domain's
 * "IOVA lock" of the seed (sd_iova_mtx).  The instance allocator is called
 * with the lock held and must not call back into the extent; the same holds
 * for the iommu_extent_foreach() callback.
 *
 * Region descriptors come from the instance allocator, from the fixed
 * storage given at creation (IOMMU_EXTENT_FIXED_STORAGE_SIZE(n) bytes hold
 * the extent and n descriptors), or from the caller (the _with_descr
 * variants, allowed only on IOMMU_EX_NOCOALESCE extents, which never
 * allocate).  A caller-provided descriptor belongs to the extent from a
 * successful allocation until the matching free (or destroy).
 *
 * Errors: EINVAL for invalid arguments (zero size, alignment or boundary
 * not a power of two, boundary smaller than size, ranges outside the
 * extent or wrapping past 2^64 - 1, a size that can never fit the
 * subregion, unknown flags, a free that matches no allocation), EAGAIN when
 * there is no room, ENOMEM when no region descriptor can be had.
 */
#ifndef IOMMU_EXTENT_H
#define IOMMU_EXTENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One allocated region [er_start, er_end].  Public so that callers can
 * embed one in per-mapping state for the _with_descr hot path; the members
 * belong to the extent while the region is allocated.
 */
struct iommu_extent_region {
	struct iommu_extent_region *er_next; /* next region, higher address */
	uint64_t		    er_start;
	uint64_t		    er_end;
	unsigned		    er_flags; /* IOMMU_ER_*: who owns it */
};

#define IOMMU_ER_ALLOC 0x1u /* from the instance allocator */
#define IOMMU_ER_FIXED 0x2u /* from the fixed storage */

/* Creation flags. */
#define IOMMU_EX_NOCOALESCE 0x0008 /* regions never merge; free exactly */
#define IOMMU_EX_MALLOCOK   0x0010 /* fixed extent may use the allocator */
#define IOMMU_EX_FILLED	    0x0100 /* start with [start, end] allocated */

/* Operation flags. */
#define IOMMU_EX_NOWAIT	    0x0000 /* never sleep */
#define IOMMU_EX_WAITOK	    0x0001 /* may wait for a fixed descriptor */
#define IOMMU_EX_FAST	    0x0002 /* first fit instead of best fit */
#define IOMMU_EX_WAITSPACE  0x0020 /* wait until space is freed */
#define IOMMU_EX_BOUNDZERO  0x0040 /* boundary lines count from 0 */
#define IOMMU_EX_CONFLICTOK 0x0080 /* alloc_region may overlap regions */

#define IOMMU_EX_NOALIGN    ((uint64_t)1)
#define IOMMU_EX_NOBOUNDARY ((uint64_t)0)

#define IOMMU_EXTENT_NAMELEN 32 /* longer names are truncated */

/*
 * Bytes of fixed storage for an extent with n descriptors: storage_size
 * bytes hold exactly (storage_size - IOMMU_EXTENT_FIXED_HEADER_SIZE) /
 * sizeof(struct iommu_extent_region) of them, at any buffer alignment.
 * The header part is a fixed upper bound (checked at compile time in
 * extent.c) with slack for aligning the buffer.
 */
#define IOMMU_EXTENT_FIXED_HEADER_SIZE 512u
#define IOMMU_EXTENT_FIXED_STORAGE_SIZE(n)                                     \
	((size_t)IOMMU_EXTENT_FIXED_HEADER_SIZE +                              \
	    (size_t)(n) * sizeof(struct iommu_extent_region))

struct iommu_extent;

/* Same as the macro, or 0 if n descriptors do not fit in a size_t. */
IOMMU_EXPORT size_t iommu_extent_fixed_storage_size(size_t nregions);

/*
 * Creates an extent over [start, end] (start <= end).  With storage !=
 * NULL the extent and as many descriptors as fit are carved from
 * storage[0..storage_size) and nothing is allocated (unless
 * IOMMU_EX_MALLOCOK); alloc may be NULL for the default allocator.
 * flags: IOMMU_EX_NOCOALESCE, IOMMU_EX_MALLOCOK, IOMMU_EX_FILLED.
 */
IOMMU_EXPORT int iommu_extent_create(const char *name, uint64_t start,
    uint64_t end, const struct iommu_allocator *alloc, void *storage,
    size_t storage_size, int flags, struct iommu_extent **exp);

/* Frees every descriptor the extent owns; nobody may be waiting on it. */
IOMMU_EXPORT void iommu_extent_destroy(struct iommu_extent *);

/*
 * Allocates size units anywhere in the extent (or in [substart, subend]);
 * *result receives the first unit.  flags: IOMMU_EX_WAITOK,
 * IOMMU_EX_WAITSPACE, IOMMU_EX_FAST, IOMMU_EX_BOUNDZERO.
 */
IOMMU_EXPORT int iommu_extent_alloc(struct iommu_extent *, uint64_t size,
    uint64_t alignment, uint64_t skew, uint64_t boundary, int flags,
    uint64_t *result);
IOMMU_EXPORT int iommu_extent_alloc_subregion(struct iommu_extent *,
    uint64_t substart, uint64_t subend, uint64_t size, uint64_t alignment,
    uint64_t skew, uint64_t boundary, int flags, uint64_t *result);

/* As above with a caller-owned descriptor; IOMMU_EX_NOCOALESCE only. */
IOMMU_EXPORT int iommu_extent_alloc_with_descr(struct iommu_extent *,
    uint64_t size, uint64_t alignment, uint64_t skew, uint64_t boundary,
    int flags, struct iommu_extent_region *, uint64_t *result);
IOMMU_EXPORT int iommu_extent_alloc_subregion_with_descr(struct iommu_extent *,
    uint64_t substart, uint64_t subend, uint64_t size, uint64_t alignment,
    uint64_t skew, uint64_t boundary, int flags, struct iommu_extent_region *,
    uint64_t *result);

/*
 * Allocates exactly [start, start + size - 1].  flags: IOMMU_EX_WAITOK,
 * IOMMU_EX_WAITSPACE, IOMMU_EX_CONFLICTOK.  With IOMMU_EX_CONFLICTOK, the
 * regions overlapping the range are absorbed: the result is one region
 * covering the range and all of them (freed as one region later).
 */
IOMMU_EXPORT int iommu_extent_alloc_region(
    struct iommu_extent *, uint64_t start, uint64_t size, int flags);

/*
 * Frees [start, start + size - 1].  On a coalescing extent the range must
 * lie inside one region; freeing its middle splits it, which needs a
 * descriptor (ENOMEM, or a wait with IOMMU_EX_WAITOK, when none is left).
 * On an IOMMU_EX_NOCOALESCE extent the range must equal a region.
 * flags: IOMMU_EX_WAITOK.  Wakes every waiter.
 */
IOMMU_EXPORT int iommu_extent_free(
    struct iommu_extent *, uint64_t start, uint64_t size, int flags);

/*
 * The region [start, start + size - 1], allocated with a caller's
 * descriptor, moves to a descriptor of the extent's own (allocator or
 * fixed storage) and stays allocated: the caller's descriptor is free for
 * reuse, a later iommu_extent_free() releases the region.  0 also when the
 * descriptor already is the extent's; EINVAL when no region is exactly
 * that range; ENOMEM (or a wait, IOMMU_EX_WAITOK) when no descriptor is left.
 */
IOMMU_EXPORT int iommu_extent_release_descr(
    struct iommu_extent *, uint64_t start, uint64_t size, int flags);

/*
 * Writes the extent to fp in this stable format (hex is 16 digits,
 * lower case; flags are "none" or a comma list of nocoalesce, fixed,
 * mallocok):
 *   extent "NAME" 0xSTART-0xEND flags=FLAGS regions=N
 *     0xSTART-0xEND size=0xSIZE        (one line per region, ascending)
 * size is printed as 0x0 for a region spanning all 2^64 units.
 */
IOMMU_EXPORT void iommu_extent_print(struct iommu_extent *, FILE *fp);

/*
 * Calls fn for each region in address order, with the lock held, until fn
 * returns non-zero; returns that value, or 0 (EINVAL for NULL arguments).
 * fn must not call into the extent.
 */
typedef int iommu_extent_region_fn(void *arg, uint64_t start, uint64_t end);
IOMMU_EXPORT int iommu_extent_foreach(
    struct iommu_extent *, iommu_extent_region_fn *fn, void *arg);

/*
 * Validates the region list: sorted, non-overlapping, inside the extent,
 * coalesced unless IOMMU_EX_NOCOALESCE, counts consistent.  0 or EINVAL.
 */
IOMMU_EXPORT int iommu_extent_check(struct iommu_extent *);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_EXTENT_H */
