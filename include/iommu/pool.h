/*
 * libiommu - fixed-size item pools in the manner of pool(9).
 *
 * A pool hands out items of one size and alignment, carved from
 * page-sized blocks obtained from the pool's own backing allocator (so a
 * test can plug in one that fails at the N-th call).  Pages go back to the
 * allocator when the pool is destroyed.  Used for PTEDs (per-page
 * descriptors) and VP table levels.
 *
 * With IOMMU_POOL_PERTHREAD each thread keeps a small cache of free items
 * (at most 32, moved to and from the shared pool 16 at a time) in front
 * of the shared pool; get/put on a warm cache take no lock.  A
 * thread's cache is returned to the shared pool when the thread exits, on
 * iommu_pool_cache_flush(), and when the pool is destroyed (whichever
 * comes first).  An item may be put by a thread other than the one that
 * got it.
 *
 * Under Valgrind or AddressSanitizer, a put item is marked no-access and a
 * got item undefined (or zeroed with IOMMU_PR_ZERO), so use-after-put is
 * reported.
 *
 * Every function is thread-safe.
 */
#ifndef IOMMU_POOL_H
#define IOMMU_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* iommu_pool_get() flags (pool(9) PR_*). */
#define IOMMU_PR_WAITOK 0x0 /* at the hard limit, sleep until a put */
#define IOMMU_PR_NOWAIT 0x1 /* at the hard limit or out of pages: NULL */
#define IOMMU_PR_ZERO	0x2 /* zero the item */

/* Largest item size. */
#define IOMMU_POOL_MAX_ITEM (1u << 20)

/* iommu_pool_create() flags. */
#define IOMMU_POOL_PERTHREAD 0x1 /* per-thread caches in front of the pool */

struct iommu_pool;

struct iommu_pool_stats {
	uint64_t pst_gets;	/* successful gets */
	uint64_t pst_puts;	/* puts */
	uint64_t pst_fails;	/* gets that returned NULL */
	uint64_t pst_pages;	/* pages currently held from the allocator */
	uint64_t pst_pages_hwm; /* high-water mark of pst_pages */
	uint64_t pst_items_out; /* items got and not yet put */
	/*
	 * High-water mark of items out of the shared pool; items sitting in
	 * per-thread caches count as out, so with IOMMU_POOL_PERTHREAD this
	 * can exceed the peak of pst_items_out.
	 */
	uint64_t pst_items_hwm;
	uint64_t pst_cache_hits; /* gets served by a warm per-thread cache */
	uint64_t pst_hardlimit;	 /* current hard limit (SIZE_MAX = none) */
	uint64_t pst_items_per_page; /* items carved from each page */
	uint64_t pst_waits;	     /* WAITOK gets that had to sleep */
	uint64_t pst_page_size;	     /* bytes per page asked of the allocator */
	uint64_t pst_items_cached;   /* free items in per-thread caches */
};

/*
 * Creates a pool of items of item_size bytes aligned to align (a power of
 * two up to IOMMU_PAGE_SIZE; 0 or anything below 8 means 8).  Pages are
 * IOMMU_PAGE_SIZE bytes, or the smallest power of two above that holding
 * at least 4 items (pst_page_size).  EINVAL for item_size 0 or above
 * IOMMU_POOL_MAX_ITEM, a bad alignment or unknown flags; ENOMEM; EAGAIN
 * when the system is out of thread-specific keys (one per
 * IOMMU_POOL_PERTHREAD pool).  pagealloc (NULL for the default) supplies
 * the item pages and the pool's bookkeeping; it must return blocks
 * aligned to at least 8 bytes.  name is copied (truncated to 31
 * characters) and shown in diagnostics.
 */
IOMMU_EXPORT int iommu_pool_create(const char *name, size_t item_size,
    size_t align, unsigned flags, const struct iommu_allocator *pagealloc,
    struct iommu_pool **out);
/*
 * Destroys the pool and returns its pages.  All items should have been
 * put (items still out die with their pages); the per-thread caches of
 * all threads are reclaimed, and later exits of those threads are
 * harmless.  No other thread may use the pool during or after the call,
 * and no thread that used it may be exiting at the same time (its cache
 * would be returned to a pool being freed): join such threads first or
 * let them live past the destroy.
 */
IOMMU_EXPORT void iommu_pool_destroy(struct iommu_pool *pp);

/*
 * Gets an item.  With IOMMU_PR_NOWAIT returns NULL at the hard limit or
 * when the backing allocator fails; with IOMMU_PR_WAITOK sleeps at the
 * hard limit until another thread puts an item, and returns NULL only
 * when the allocator fails.  IOMMU_PR_ZERO zeroes the item.
 */
IOMMU_EXPORT void *iommu_pool_get(struct iommu_pool *pp, int prflags);
/*
 * Returns an item got from this pool (from any thread).  NULL is ignored.
 * A double put is detected under Valgrind/ASan and at IOMMU_DEBUG >= 1
 * and panics.  A write to a put item is reported by Valgrind/ASan when it
 * happens, and at IOMMU_DEBUG >= 1 panics the next get of that item if it
 * hit the item's first 16 bytes.
 */
IOMMU_EXPORT void iommu_pool_put(struct iommu_pool *pp, void *item);
/*
 * n items at once: 0 with items[0..n)
 * set, or ENOMEM (EINVAL for bad flags) with nothing taken.  The put
 * returns n items, skipping NULLs.  Otherwise as iommu_pool_get / _put.
 */
IOMMU_EXPORT int iommu_pool_get_n(
    struct iommu_pool *pp, int prflags, void **items, size_t n);
IOMMU_EXPORT void iommu_pool_put_n(
    struct iommu_pool *pp, void *const *items, size_t n);

/*
 * Limits the number of items out at once (as pool_sethardlimit(9)):
 * EINVAL, with the limit unchanged, if more than max_items are out right
 * now.  SIZE_MAX removes the limit.  Items sitting in per-thread caches
 * count as out of the shared pool.
 */
IOMMU_EXPORT int iommu_pool_sethardlimit(
    struct iommu_pool *pp, size_t max_items);

IOMMU_EXPORT void iommu_pool_get_stats(
    struct iommu_pool *pp, struct iommu_pool_stats *st);

/*
 * Returns the calling thread's cached items to the shared pool.  0, also
 * for pools without per-thread caches.
 */
IOMMU_EXPORT int iommu_pool_cache_flush(struct iommu_pool *pp);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_POOL_H */
