/*
 * libiommu - per-thread IOVA magazine cache in front of an extent.
 *
 * A layer that sits in front of an IOVA extent (iommu/extent.h) and makes
 * the common case - freeing an IOVA range and soon allocating one of the
 * same size - a pop or push on a small per-thread array, in the manner of
 * Bonwick's magazines (Bonwick & Adams, USENIX 2001) and Linux's IOVA
 * rcache (Peleg et al., ATC'15).  The extent itself is not changed; it
 * still owns every range, cached or not.
 *
 * Requests are rounded up to a power-of-two number of pages (a size
 * class, 1 .. max_pages pages); larger requests go straight to the extent.
 * Each thread keeps, per class, a "loaded" and a "previous" magazine (an
 * array of IOVAs); a per-instance depot under a lock holds up to depot_max
 * full magazines per class.  When the depot is full, a full magazine is
 * returned to the extent.  Destroying the cache returns everything it
 * holds to the extent; a thread's magazines are returned when it exits.
 * The rounding wastes IOVA space (a 3-page request holds 4 pages); the
 * statistics report how much.
 *
 * Contract: free exactly what was allocated (same IOVA, same size) and
 * only once the range is unmapped and its invalidation has completed: a
 * cached range may be handed out again immediately.  Any thread may
 * allocate and free.  Destroy only after every thread that used the cache
 * has either exited (joined) or stopped using it; a thread still alive
 * keeps a dangling, never-again-used TLS slot (pthread keys are per
 * instance, so each live cache uses one of the process's
 * PTHREAD_KEYS_MAX keys; create fails with EAGAIN when none is left).
 */
#ifndef IOMMU_IOVA_MAGAZINE_H
#define IOMMU_IOVA_MAGAZINE_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_extent;
struct iommu_iova_magazine;

#define IOMMU_IOVA_MAGAZINE_MAX_CLASSES 16 /* max_pages <= 2^15 */

struct iommu_iova_magazine_config {
	size_t	 mc_size;      /* sizeof(struct iommu_iova_magazine_config) */
	uint64_t mc_page;      /* extent units per IOVA page, power of two */
	unsigned mc_max_pages; /* largest cached class, power of two */
	unsigned mc_mag_size;  /* IOVAs per magazine, >= 1 */
	unsigned mc_depot_max; /* full magazines per class in the depot */
	int	 mc_extent_flags; /* extra flags for extent alloc (EX_FAST) */
	const struct iommu_allocator *mc_alloc; /* NULL: malloc */
};

/* Defaults: 4096-unit pages (a byte-addressed extent), 32 pages, 127
 * IOVAs per magazine and 32 depot magazines per class (Linux's rcache). */
IOMMU_EXPORT void iommu_iova_magazine_config_init(
    struct iommu_iova_magazine_config *);

/*
 * Creates a cache in front of ex (which the caller keeps and destroys
 * after the cache).  ex must be able to allocate region descriptors on
 * its own (no _with_descr): the cache allocates with
 * iommu_extent_alloc().  EINVAL: bad config; ENOMEM; EAGAIN: no pthread
 * key left.
 */
IOMMU_EXPORT int iommu_iova_magazine_create(struct iommu_extent *ex,
    const struct iommu_iova_magazine_config *,
    struct iommu_iova_magazine **out);
/* Returns every cached IOVA to the extent and frees the cache. */
IOMMU_EXPORT void iommu_iova_magazine_destroy(struct iommu_iova_magazine *);

/*
 * Allocates size units, rounded up to the size class.  A class's range is
 * aligned to the class size (so it crosses no line of a larger power of
 * two); a larger request, to a page.
 * EINVAL: size 0; EAGAIN: no room in the extent even after flushing the
 * depot and this thread's magazines; ENOMEM.
 */
IOMMU_EXPORT int iommu_iova_magazine_alloc(
    struct iommu_iova_magazine *, uint64_t size, uint64_t *iova);
/*
 * As alloc, and the class-sized range also starts on a multiple of
 * alignment (0: a page) and crosses no multiple of boundary (0: none).
 * Both are extent units, powers of two, at least a page.  A cached range
 * serves only if it fits; otherwise the extent provides one with those
 * constraints.  Free it with iommu_iova_magazine_free (same size).
 * EINVAL: size 0, bad alignment or boundary; EFBIG: the class-sized range
 * is larger than boundary; EAGAIN; ENOMEM.
 */
IOMMU_EXPORT int iommu_iova_magazine_alloc_constrained(
    struct iommu_iova_magazine *, uint64_t size, uint64_t alignment,
    uint64_t boundary, uint64_t *iova);
/* Frees what alloc returned (same size).  EINVAL: size 0 or misaligned
 * iova; errors from the extent for ranges it does not know. */
IOMMU_EXPORT int iommu_iova_magazine_free(
    struct iommu_iova_magazine *, uint64_t iova, uint64_t size);

/* Returns the depot and the calling thread's magazines to the extent. */
IOMMU_EXPORT int iommu_iova_magazine_flush(struct iommu_iova_magazine *);

/* Extent units an allocation of size really holds (0 for size 0). */
IOMMU_EXPORT uint64_t iommu_iova_magazine_rounded_size(
    const struct iommu_iova_magazine *, uint64_t size);

struct iommu_iova_magazine_stats {
	uint64_t ms_allocs;	  /* successful allocations */
	uint64_t ms_hits;	  /* served from a thread's magazines */
	uint64_t ms_depot_hits;	  /* ... after swapping in a depot magazine */
	uint64_t ms_misses;	  /* served by the extent (cacheable class) */
	uint64_t ms_bypass;	  /* larger than max_pages: extent */
	uint64_t ms_frees;	  /* successful frees */
	uint64_t ms_frees_cached; /* kept in a magazine */
	uint64_t ms_depot_full;	  /* magazines emptied into the extent */
	uint64_t ms_cached;	  /* IOVA ranges held by the cache now */
	uint64_t ms_cached_units; /* extent units held by the cache now */
	uint64_t ms_waste_units;  /* rounding waste of live allocations */
	uint64_t ms_waste_total;  /* rounding waste, all allocations */
	uint64_t ms_requested_total; /* units requested, all allocations */
	uint64_t ms_magazines;	     /* magazines allocated now */
	uint64_t ms_threads;	     /* per-thread caches alive now */
	uint64_t ms_freed_total;     /* sizes given back, all frees */
};
/*
 * Sums every thread's counters.  Other threads' counters are read without
 * stopping them, so on a busy cache the totals are approximate.
 */
IOMMU_EXPORT void iommu_iova_magazine_get_stats(
    struct iommu_iova_magazine *, struct iommu_iova_magazine_stats *);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_IOVA_MAGAZINE_H */
