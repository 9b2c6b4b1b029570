/*
 * libiommu - the IOVA extent allocator: extent(9) semantics over 64-bit
 * inclusive ranges, with an internal lock (see include/iommu/extent.h).
 *
 * Design.  struct iommu_extent holds the bounds, a singly linked list of
 * allocated regions sorted by address, the free list of fixed-storage
 * descriptors, and a mutex + condition variable.  A fixed extent lives in
 * the caller's storage, laid out as
 *
 *   storage: [pad to 16][struct iommu_extent][region][region]...[region]
 *
 * with every descriptor on ex_freelist until used.  The free space is never
 * stored: it is the complement of the region list, so allocation walks the
 * list once, looking at the gap before each region (O(outstanding regions),
 * the cost profile the bench measures; faster layers come later).
 *
 * Invariants (iommu_extent_check(), run after every mutation when
 * IOMMU_DEBUG >= 3): regions are non-empty, inside [ex_start, ex_end],
 * sorted and disjoint; unless IOMMU_EX_NOCOALESCE no two regions touch;
 * ex_nregions counts the list and ex_nfree_fixed the free list.  Caller-
 * owned descriptors (er_flags 0) only ever live in NOCOALESCE extents, so a
 * merge never has to give one back.
 *
 * A region descriptor is acquired before the list is changed, so every
 * failure leaves the extent as it was.  Waiting (for a fixed descriptor
 * with IOMMU_EX_WAITOK, for space with IOMMU_EX_WAITSPACE) sleeps on the
 * condition variable, which frees and descriptor returns broadcast, and
 * then redoes the whole search, since the list may have changed.  A wait
 * that nothing could ever end (no fixed descriptor in use, no region
 * allocated) returns the error instead.  An allocator failure is ENOMEM
 * even with IOMMU_EX_WAITOK: there is nothing to wait for.
 *
 * Differences from OpenBSD subr_extent.c, on purpose: no global extent
 * list; the name is copied; what OpenBSD panics on under DIAGNOSTIC (a
 * free matching no allocation or outside the extent, a bad size or
 * boundary, _with_descr on a coalescing extent) returns EINVAL, as does an
 * alignment that is not a power of two; a descriptor is taken only when
 * the region will not merge into a neighbour, so a coalescing extent whose
 * fixed storage is exhausted can still grow its regions; best-fit "waste"
 * is measured inside the subregion; EX_CONFLICTOK on alloc_region absorbs
 * every overlapping region into one (reusing one of their descriptors),
 * which stays correct when windows nest; extent_free takes no
 * EX_CONFLICTOK; there is no EX_CATCH (no signals to catch).
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <iommu/extent.h>

#include "iommu_internal.h"

#define EXF_FIXED    0x10000 /* lives in caller storage */
#define EX_CREATE_OK (IOMMU_EX_NOCOALESCE | IOMMU_EX_MALLOCOK | IOMMU_EX_FILLED)
#define EX_ALLOC_OK                                                            \
	(IOMMU_EX_WAITOK | IOMMU_EX_WAITSPACE | IOMMU_EX_FAST |                \
	    IOMMU_EX_BOUNDZERO)
#define EX_REGION_OK                                                           \
	(IOMMU_EX_WAITOK | IOMMU_EX_WAITSPACE | IOMMU_EX_CONFLICTOK)
#define EX_FREE_OK    IOMMU_EX_WAITOK
#define EX_RETRY      (-1) /* region_get() slept: search again */
#define STORAGE_ALIGN 16u

struct iommu_extent {
	pthread_mutex_t		      ex_lock;
	pthread_cond_t		      ex_cv;
	struct iommu_extent_region   *ex_regions;  /* sorted by address */
	struct iommu_extent_region   *ex_freelist; /* fixed descriptors */
	const struct iommu_allocator *ex_alloc;
	uint64_t		      ex_start;
	uint64_t		      ex_end;
	size_t			      ex_nregions;
	size_t			      ex_nfixed;
	size_t			      ex_nfree_fixed;
	unsigned		      ex_nwaiters;
	int			      ex_flags;
	char			      ex_name[IOMMU_EXTENT_NAMELEN];
};

_Static_assert(sizeof(struct iommu_extent) + STORAGE_ALIGN <=
	IOMMU_EXTENT_FIXED_HEADER_SIZE,
    "IOMMU_EXTENT_FIXED_HEADER_SIZE too small");

static void ex_lock(struct iommu_extent *);
static void ex_unlock(struct iommu_extent *);
static void ex_wait(struct iommu_extent *);
static void ex_wakeup(struct iommu_extent *);
static int  region_get(
     struct iommu_extent *, int, struct iommu_extent_region **);
static void region_put(struct iommu_extent *, struct iommu_extent_region *);
static int  check_locked(const struct iommu_extent *);
static int  would_merge(const struct iommu_extent *,
     const struct iommu_extent_region *, uint64_t, uint64_t,
     const struct iommu_extent_region *);
static void insert(struct iommu_extent *, struct iommu_extent_region *,
    uint64_t, uint64_t, struct iommu_extent_region *);
static int  align_up(uint64_t, uint64_t, uint64_t, uint64_t *);
static int  place_in_gap(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
     uint64_t, uint64_t, uint64_t *);
static int  find_space(struct iommu_extent *, uint64_t, uint64_t, uint64_t,
     uint64_t, uint64_t, uint64_t, int, struct iommu_extent_region **,
     uint64_t *);
static int  alloc_common(struct iommu_extent *, uint64_t, uint64_t, uint64_t,
     uint64_t, uint64_t, uint64_t, int, struct iommu_extent_region *,
     uint64_t *);

#if IOMMU_DEBUG >= 3
#define EXTENT_VALIDATE(ex)                                                    \
	do {                                                                   \
		if (check_locked(ex) != 0)                                     \
			IOMMU_PANIC("extent \"%s\" corrupt", (ex)->ex_name);   \
	} while (0)
#else
#define EXTENT_VALIDATE(ex) ((void)0)
#endif

static void
ex_lock(struct iommu_extent *ex)
{
	if (pthread_mutex_lock(&ex->ex_lock) != 0)
		IOMMU_PANIC("pthread_mutex_lock failed");
}

static void
ex_unlock(struct iommu_extent *ex)
{
	if (pthread_mutex_unlock(&ex->ex_lock) != 0)
		IOMMU_PANIC("pthread_mutex_unlock failed");
}

static void
ex_wait(struct iommu_extent *ex)
{
	ex->ex_nwaiters++;
	if (pthread_cond_wait(&ex->ex_cv, &ex->ex_lock) != 0)
		IOMMU_PANIC("pthread_cond_wait failed");
	ex->ex_nwaiters--;
}

static void
ex_wakeup(struct iommu_extent *ex)
{
	if (ex->ex_nwaiters > 0)
		pthread_cond_broadcast(&ex->ex_cv);
}

/* 0 with *rpp set, ENOMEM, or EX_RETRY after sleeping (lock retaken). */
static int
region_get(struct iommu_extent *ex, int flags, struct iommu_extent_region **rpp)
{
	struct iommu_extent_region *rp;

	if ((rp = ex->ex_freelist) != NULL) {
		ex->ex_freelist = rp->er_next;
		ex->ex_nfree_fixed--;
		rp->er_flags = IOMMU_ER_FIXED;
		*rpp = rp;
		return 0;
	}
	if ((ex->ex_flags & EXF_FIXED) == 0 ||
	    (ex->ex_flags & IOMMU_EX_MALLOCOK) != 0) {
		rp = ex->ex_alloc->ia_alloc(ex->ex_alloc->ia_ctx, sizeof(*rp));
		if (rp == NULL)
			return ENOMEM;
		rp->er_flags = IOMMU_ER_ALLOC;
		*rpp = rp;
		return 0;
	}
	/* Every fixed descriptor is in use; only a free can return one. */
	if ((flags & IOMMU_EX_WAITOK) != 0 && ex->ex_nfixed > 0) {
		ex_wait(ex);
		return EX_RETRY;
	}
	return ENOMEM;
}

static void
region_put(struct iommu_extent *ex, struct iommu_extent_region *rp)
{
	if (rp->er_flags & IOMMU_ER_FIXED) {
		rp->er_next = ex->ex_freelist;
		ex->ex_freelist = rp;
		ex->ex_nfree_fixed++;
		ex_wakeup(ex);
	} else if (rp->er_flags & IOMMU_ER_ALLOC) {
		ex->ex_alloc->ia_free(ex->ex_alloc->ia_ctx, rp, sizeof(*rp));
	}
	/* A caller's descriptor simply goes back to the caller. */
}

size_t
iommu_extent_fixed_storage_size(size_t nregions)
{
	if (nregions > (SIZE_MAX - IOMMU_EXTENT_FIXED_HEADER_SIZE) /
		sizeof(struct iommu_extent_region))
		return 0;
	return IOMMU_EXTENT_FIXED_STORAGE_SIZE(nregions);
}

int
iommu_extent_create(const char *name, uint64_t start, uint64_t end,
    const struct iommu_allocator *alloc, void *storage, size_t storage_size,
    int flags, struct iommu_extent **exp)
{
	struct iommu_extent	   *ex;
	struct iommu_extent_region *rp;
	uintptr_t		    base, p;
	size_t			    n, i;
	int			    error;

	if (exp == NULL || start > end || (flags & ~EX_CREATE_OK) != 0)
		return EINVAL;
	alloc = iommu__allocator_or_default(alloc);
	if (storage != NULL) {
		if (storage_size < IOMMU_EXTENT_FIXED_HEADER_SIZE)
			return EINVAL;
		base = (uintptr_t)storage;
		p = (base + STORAGE_ALIGN - 1) &
		    ~(uintptr_t)(STORAGE_ALIGN - 1);
		ex = (struct iommu_extent *)p;
		memset(ex, 0, sizeof(*ex));
		ex->ex_flags = flags | EXF_FIXED;
		/*
		 * Exactly (size - header) / sizeof(descriptor), whatever the
		 * alignment, so a count is the same on every platform.
		 */
		n = (storage_size - IOMMU_EXTENT_FIXED_HEADER_SIZE) /
		    sizeof(*rp);
		rp = (struct iommu_extent_region *)(ex + 1);
		for (i = n; i-- > 0;) {
			rp[i].er_next = ex->ex_freelist;
			ex->ex_freelist = &rp[i];
		}
		ex->ex_nfixed = ex->ex_nfree_fixed = n;
	} else {
		ex = iommu__zalloc(alloc, sizeof(*ex));
		if (ex == NULL)
			return ENOMEM;
		ex->ex_flags = flags;
	}
	ex->ex_alloc = alloc;
	ex->ex_start = start;
	ex->ex_end = end;
	if (name != NULL) {
		strncpy(ex->ex_name, name, sizeof(ex->ex_name) - 1);
		ex->ex_name[sizeof(ex->ex_name) - 1] = '\0';
	}
	if ((error = pthread_mutex_init(&ex->ex_lock, NULL)) != 0)
		goto fail;
	if ((error = pthread_cond_init(&ex->ex_cv, NULL)) != 0) {
		pthread_mutex_destroy(&ex->ex_lock);
		goto fail;
	}
	if (flags & IOMMU_EX_FILLED) {
		if (region_get(ex, IOMMU_EX_NOWAIT, &rp) != 0) {
			pthread_cond_destroy(&ex->ex_cv);
			pthread_mutex_destroy(&ex->ex_lock);
			error = ENOMEM;
			goto fail;
		}
		insert(ex, NULL, start, end, rp);
	}
	*exp = ex;
	return 0;

fail:
	if ((ex->ex_flags & EXF_FIXED) == 0)
		iommu__free(alloc, ex, sizeof(*ex));
	return error == ENOMEM || error == EAGAIN ? ENOMEM : error;
}

void
iommu_extent_destroy(struct iommu_extent *ex)
{
	struct iommu_extent_region *rp, *next;

	if (ex == NULL)
		return;
	for (rp = ex->ex_regions; rp != NULL; rp = next) {
		next = rp->er_next;
		region_put(ex, rp);
	}
	ex->ex_regions = NULL;
	pthread_cond_destroy(&ex->ex_cv);
	pthread_mutex_destroy(&ex->ex_lock);
	if ((ex->ex_flags & EXF_FIXED) == 0)
		iommu__free(ex->ex_alloc, ex, sizeof(*ex));
}

/*
 * Would [s, e], going between prev and next, merge with either?  Only
 * coalescing extents merge.
 */
static int
would_merge(const struct iommu_extent *ex,
    const struct iommu_extent_region *prev, uint64_t s, uint64_t e,
    const struct iommu_extent_region *next)
{
	if (ex->ex_flags & IOMMU_EX_NOCOALESCE)
		return 0;
	return (prev != NULL && prev->er_end + 1 == s) ||
	    (next != NULL && e + 1 == next->er_start);
}

/*
 * Links [s, e] after prev (NULL: at the head), merging with the neighbours
 * on a coalescing extent.  nrp may be NULL only if would_merge(); an
 * unused nrp is released.
 */
static void
insert(struct iommu_extent *ex, struct iommu_extent_region *prev, uint64_t s,
    uint64_t e, struct iommu_extent_region *nrp)
{
	struct iommu_extent_region **linkp, *next;
	int			     mprev, mnext;

	linkp = prev != NULL ? &prev->er_next : &ex->ex_regions;
	next = *linkp;
	mprev = mnext = 0;
	if ((ex->ex_flags & IOMMU_EX_NOCOALESCE) == 0) {
		mprev = prev != NULL && prev->er_end + 1 == s;
		mnext = next != NULL && e + 1 == next->er_start;
	}
	if (mprev && mnext) {
		prev->er_end = next->er_end;
		prev->er_next = next->er_next;
		ex->ex_nregions--;
		region_put(ex, next);
	} else if (mprev) {
		prev->er_end = e;
	} else if (mnext) {
		next->er_start = s;
	} else {
		IOMMU_ASSERT(nrp != NULL);
		nrp->er_start = s;
		nrp->er_end = e;
		nrp->er_next = next;
		*linkp = nrp;
		ex->ex_nregions++;
		return;
	}
	if (nrp != NULL)
		region_put(ex, nrp);
}

/* Smallest r >= v with r == skew (mod align); 0 if it would wrap. */
static int
align_up(uint64_t v, uint64_t align, uint64_t skew, uint64_t *r)
{
	uint64_t d;

	d = (skew - v) & (align - 1);
	if (d > UINT64_MAX - v)
		return 0;
	*r = v + d;
	return 1;
}

/*
 * Lowest start s in [lo, hi] for size units that honours alignment, skew
 * and boundary (lines at bbase + k * boundary).  Aligned starts keep one
 * offset from the lines (or the lowest offset, after moving onto a line),
 * so if the start after the first crossing line still crosses, nothing in
 * the gap can fit.
 */
static int
place_in_gap(uint64_t lo, uint64_t hi, uint64_t size, uint64_t align,
    uint64_t skew, uint64_t boundary, uint64_t bbase, uint64_t *sp)
{
	uint64_t s, step;
	int	 tries;

	if (!align_up(lo, align, skew, &s))
		return 0;
	for (tries = 0; boundary != 0; tries++) {
		if (s > hi)
			return 0;
		step = boundary - ((s - bbase) & (boundary - 1));
		if (step > UINT64_MAX - s || step >= size)
			break; /* no line above s, or the region ends first */
		if (tries == 1 || !align_up(s + step, align, skew, &s))
			return 0;
	}
	if (s > hi || hi - s < size - 1)
		return 0;
	*sp = s;
	return 1;
}

/*
 * Finds room in [substart, subend]; on success *prevp is the region to
 * insert after (NULL: the head) and *sp the start.  EAGAIN if none.
 */
static int
find_space(struct iommu_extent *ex, uint64_t substart, uint64_t subend,
    uint64_t size, uint64_t align, uint64_t skew, uint64_t boundary, int flags,
    struct iommu_extent_region **prevp, uint64_t *sp)
{
	struct iommu_extent_region *prev, *rp, *bestprev;
	uint64_t gs, lo, hi, s, waste, bestwaste, best, bbase;
	int	 found;

	bbase = (flags & IOMMU_EX_BOUNDZERO) ? 0 : ex->ex_start;
	prev = NULL;
	gs = ex->ex_start;
	for (rp = ex->ex_regions; rp != NULL && rp->er_end < substart;
	     rp = rp->er_next) {
		gs = rp->er_end + 1;
		prev = rp;
	}
	found = 0;
	bestprev = NULL;
	best = bestwaste = 0;
	for (;;) {
		lo = gs > substart ? gs : substart;
		if (lo > subend)
			break;
		if (rp == NULL || rp->er_start > lo) {
			hi = subend;
			if (rp != NULL && rp->er_start - 1 < hi)
				hi = rp->er_start - 1;
			if (place_in_gap(lo, hi, size, align, skew, boundary,
				bbase, &s)) {
				waste = hi - (s + size - 1);
				if ((flags & IOMMU_EX_FAST) || waste == 0) {
					*prevp = prev;
					*sp = s;
					return 0;
				}
				if (!found || waste < bestwaste) {
					found = 1;
					bestwaste = waste;
					best = s;
					bestprev = prev;
				}
			}
		}
		if (rp == NULL || rp->er_end >= subend)
			break;
		gs = rp->er_end + 1;
		prev = rp;
		rp = rp->er_next;
	}
	if (!found)
		return EAGAIN;
	*prevp = bestprev;
	*sp = best;
	return 0;
}

static int
alloc_common(struct iommu_extent *ex, uint64_t substart, uint64_t subend,
    uint64_t size, uint64_t align, uint64_t skew, uint64_t boundary, int flags,
    struct iommu_extent_region *descr, uint64_t *result)
{
	struct iommu_extent_region *prev, *nrp, *next;
	uint64_t		    s;
	int			    error;

	if (ex == NULL || result == NULL || (flags & ~EX_ALLOC_OK) != 0 ||
	    size == 0 || align == 0 || (align & (align - 1)) != 0 ||
	    (boundary != 0 &&
		((boundary & (boundary - 1)) != 0 || boundary < size)) ||
	    substart > subend || substart < ex->ex_start ||
	    subend > ex->ex_end || size - 1 > subend - substart)
		return EINVAL;
	if (descr != NULL && (ex->ex_flags & IOMMU_EX_NOCOALESCE) == 0)
		return EINVAL;

	ex_lock(ex);
	for (;;) {
		error = find_space(ex, substart, subend, size, align, skew,
		    boundary, flags, &prev, &s);
		if (error != 0) {
			if ((flags & IOMMU_EX_WAITSPACE) &&
			    ex->ex_nregions > 0) {
				ex_wait(ex);
				continue;
			}
			break;
		}
		nrp = descr;
		next = prev != NULL ? prev->er_next : ex->ex_regions;
		if (nrp != NULL) {
			nrp->er_flags = 0;
		} else if (!would_merge(ex, prev, s, s + size - 1, next)) {
			error = region_get(ex, flags, &nrp);
			if (error == EX_RETRY)
				continue;
			if (error != 0)
				break;
		}
		insert(ex, prev, s, s + size - 1, nrp);
		*result = s;
		break;
	}
	EXTENT_VALIDATE(ex);
	ex_unlock(ex);
	return error;
}

int
iommu_extent_alloc(struct iommu_extent *ex, uint64_t size, uint64_t alignment,
    uint64_t skew, uint64_t boundary, int flags, uint64_t *result)
{
	if (ex == NULL)
		return EINVAL;
	return alloc_common(ex, ex->ex_start, ex->ex_end, size, alignment, skew,
	    boundary, flags, NULL, result);
}

int
iommu_extent_alloc_subregion(struct iommu_extent *ex, uint64_t substart,
    uint64_t subend, uint64_t size, uint64_t alignment, uint64_t skew,
    uint64_t boundary, int flags, uint64_t *result)
{
	return alloc_common(ex, substart, subend, size, alignment, skew,
	    boundary, flags, NULL, result);
}

int
iommu_extent_alloc_with_descr(struct iommu_extent *ex, uint64_t size,
    uint64_t alignment, uint64_t skew, uint64_t boundary, int flags,
    struct iommu_extent_region *rp, uint64_t *result)
{
	if (ex == NULL || rp == NULL)
		return EINVAL;
	return alloc_common(ex, ex->ex_start, ex->ex_end, size, alignment, skew,
	    boundary, flags, rp, result);
}

int
iommu_extent_alloc_subregion_with_descr(struct iommu_extent *ex,
    uint64_t substart, uint64_t subend, uint64_t size, uint64_t alignment,
    uint64_t skew, uint64_t boundary, int flags, struct iommu_extent_region *rp,
    uint64_t *result)
{
	if (rp == NULL)
		return EINVAL;
	return alloc_common(ex, substart, subend, size, alignment, skew,
	    boundary, flags, rp, result);
}

/* [start, start + size - 1] is non-empty, does not wrap, lies in ex. */
static bool
range_in_extent(const struct iommu_extent *ex, uint64_t start, uint64_t size)
{
	return size != 0 && size - 1 <= UINT64_MAX - start &&
	    start >= ex->ex_start && start + (size - 1) <= ex->ex_end;
}

int
iommu_extent_alloc_region(
    struct iommu_extent *ex, uint64_t start, uint64_t size, int flags)
{
	struct iommu_extent_region **linkp, *prev, *rp, *q, *next, *reuse;
	struct iommu_extent_region  *nrp;
	uint64_t		     end, ns, ne;
	int			     error;

	if (ex == NULL || (flags & ~EX_REGION_OK) != 0 ||
	    !range_in_extent(ex, start, size))
		return EINVAL;
	end = start + (size - 1);

	ex_lock(ex);
	for (;;) {
		prev = NULL;
		for (rp = ex->ex_regions; rp != NULL && rp->er_end < start;
		     rp = rp->er_next)
			prev = rp;
		ns = start;
		ne = end;
		reuse = NULL;
		q = rp;
		if (rp != NULL && rp->er_start <= end) {
			if ((flags & IOMMU_EX_CONFLICTOK) == 0) {
				if (flags & IOMMU_EX_WAITSPACE) {
					ex_wait(ex);
					continue;
				}
				error = EAGAIN;
				break;
			}
			/* Absorb every overlapping region into one. */
			if (rp->er_start < ns)
				ns = rp->er_start;
			for (; q != NULL && q->er_start <= end;
			     q = q->er_next) {
				if (q->er_end > ne)
					ne = q->er_end;
				if (reuse == NULL && q->er_flags != 0)
					reuse = q;
			}
		}
		nrp = reuse;
		if (nrp == NULL && !would_merge(ex, prev, ns, ne, q)) {
			error = region_get(ex, flags, &nrp);
			if (error == EX_RETRY)
				continue;
			if (error != 0)
				break;
		}
		/* Unlink the absorbed regions [rp, q). */
		linkp = prev != NULL ? &prev->er_next : &ex->ex_regions;
		*linkp = q;
		for (; rp != q; rp = next) {
			next = rp->er_next;
			ex->ex_nregions--;
			if (rp != reuse)
				region_put(ex, rp);
		}
		insert(ex, prev, ns, ne, nrp);
		error = 0;
		break;
	}
	EXTENT_VALIDATE(ex);
	ex_unlock(ex);
	return error;
}

/* The link to the first region ending at or after addr (lock held). */
static struct iommu_extent_region **
region_link(struct iommu_extent *ex, uint64_t addr)
{
	struct iommu_extent_region **linkp = &ex->ex_regions;

	while (*linkp != NULL && (*linkp)->er_end < addr)
		linkp = &(*linkp)->er_next;
	return linkp;
}

int
iommu_extent_free(
    struct iommu_extent *ex, uint64_t start, uint64_t size, int flags)
{
	struct iommu_extent_region **linkp, *rp, *nrp;
	uint64_t		     end;
	int			     error;

	if (ex == NULL || (flags & ~EX_FREE_OK) != 0 ||
	    !range_in_extent(ex, start, size))
		return EINVAL;
	end = start + (size - 1);

	ex_lock(ex);
	for (;;) {
		rp = *(linkp = region_link(ex, start));
		error = EINVAL;
		if (rp == NULL || rp->er_start > start || rp->er_end < end)
			break; /* not (inside) an allocated region */
		if (rp->er_start == start && rp->er_end == end) {
			*linkp = rp->er_next;
			ex->ex_nregions--;
			region_put(ex, rp);
		} else if (ex->ex_flags & IOMMU_EX_NOCOALESCE) {
			break;
		} else if (rp->er_start == start) {
			rp->er_start = end + 1;
		} else if (rp->er_end == end) {
			rp->er_end = start - 1;
		} else {
			error = region_get(ex, flags, &nrp);
			if (error == EX_RETRY)
				continue;
			if (error != 0)
				break;
			nrp->er_start = end + 1;
			nrp->er_end = rp->er_end;
			nrp->er_next = rp->er_next;
			rp->er_end = start - 1;
			rp->er_next = nrp;
			ex->ex_nregions++;
		}
		error = 0;
		ex_wakeup(ex);
		break;
	}
	EXTENT_VALIDATE(ex);
	ex_unlock(ex);
	return error;
}

/*
 * The region stays allocated; only who holds its descriptor changes, so
 * the caller's storage may be reused at once (a bus_dma map whose IOVA
 * must outlive its unload: a deferred or failed invalidation).
 */
int
iommu_extent_release_descr(
    struct iommu_extent *ex, uint64_t start, uint64_t size, int flags)
{
	struct iommu_extent_region **linkp, *rp, *nrp;
	uint64_t		     end;
	int			     error;

	if (ex == NULL || (flags & ~EX_FREE_OK) != 0 ||
	    !range_in_extent(ex, start, size))
		return EINVAL;
	end = start + (size - 1);
	ex_lock(ex);
	for (;;) {
		rp = *(linkp = region_link(ex, start));
		error = EINVAL;
		if (rp == NULL || rp->er_start != start || rp->er_end != end)
			break;
		error = 0;
		if (rp->er_flags & (IOMMU_ER_ALLOC | IOMMU_ER_FIXED))
			break; /* already the extent's own */
		error = region_get(ex, flags, &nrp);
		if (error == EX_RETRY)
			continue;
		if (error != 0)
			break;
		nrp->er_start = rp->er_start;
		nrp->er_end = rp->er_end;
		nrp->er_next = rp->er_next;
		*linkp = nrp;
		break;
	}
	EXTENT_VALIDATE(ex);
	ex_unlock(ex);
	return error;
}

void
iommu_extent_print(struct iommu_extent *ex, FILE *fp)
{
	const struct iommu_extent_region *rp;
	const char			 *sep = "";

	if (ex == NULL || fp == NULL)
		return;
	ex_lock(ex);
	fprintf(fp, "extent \"%s\" 0x%016" PRIx64 "-0x%016" PRIx64 " flags=",
	    ex->ex_name, ex->ex_start, ex->ex_end);
	if ((ex->ex_flags &
		(IOMMU_EX_NOCOALESCE | EXF_FIXED | IOMMU_EX_MALLOCOK)) == 0)
		fputs("none", fp);
	if (ex->ex_flags & IOMMU_EX_NOCOALESCE) {
		fputs("nocoalesce", fp);
		sep = ",";
	}
	if (ex->ex_flags & EXF_FIXED) {
		fprintf(fp, "%sfixed", sep);
		sep = ",";
	}
	if (ex->ex_flags & IOMMU_EX_MALLOCOK)
		fprintf(fp, "%smallocok", sep);
	fprintf(fp, " regions=%zu\n", ex->ex_nregions);
	for (rp = ex->ex_regions; rp != NULL; rp = rp->er_next)
		fprintf(fp,
		    "  0x%016" PRIx64 "-0x%016" PRIx64 " size=0x%" PRIx64 "\n",
		    rp->er_start, rp->er_end, rp->er_end - rp->er_start + 1);
	ex_unlock(ex);
}

int
iommu_extent_foreach(
    struct iommu_extent *ex, iommu_extent_region_fn *fn, void *arg)
{
	const struct iommu_extent_region *rp;
	int				  ret = 0;

	if (ex == NULL || fn == NULL)
		return EINVAL;
	ex_lock(ex);
	for (rp = ex->ex_regions; rp != NULL && ret == 0; rp = rp->er_next)
		ret = fn(arg, rp->er_start, rp->er_end);
	ex_unlock(ex);
	return ret;
}

static int
check_locked(const struct iommu_extent *ex)
{
	const struct iommu_extent_region *rp, *prev;
	size_t				  n;

	n = 0;
	prev = NULL;
	for (rp = ex->ex_regions; rp != NULL; prev = rp, rp = rp->er_next) {
		if (++n > ex->ex_nregions)
			return EINVAL; /* too many, or a cycle */
		if (rp->er_start > rp->er_end || rp->er_start < ex->ex_start ||
		    rp->er_end > ex->ex_end ||
		    (rp->er_flags & ~(IOMMU_ER_ALLOC | IOMMU_ER_FIXED)) != 0)
			return EINVAL;
		if (rp->er_flags != 0 && (ex->ex_flags & EXF_FIXED) == 0 &&
		    rp->er_flags != IOMMU_ER_ALLOC)
			return EINVAL;
		if (rp->er_flags == 0 &&
		    (ex->ex_flags & IOMMU_EX_NOCOALESCE) == 0)
			return EINVAL; /* caller descriptors never merge */
		if (prev == NULL)
			continue;
		if (prev->er_end >= rp->er_start)
			return EINVAL;
		if ((ex->ex_flags & IOMMU_EX_NOCOALESCE) == 0 &&
		    prev->er_end + 1 == rp->er_start)
			return EINVAL;
	}
	if (n != ex->ex_nregions)
		return EINVAL;
	n = 0;
	for (rp = ex->ex_freelist; rp != NULL; rp = rp->er_next)
		if (++n > ex->ex_nfree_fixed)
			return EINVAL;
	if (n != ex->ex_nfree_fixed || n > ex->ex_nfixed)
		return EINVAL;
	return 0;
}

int
iommu_extent_check(struct iommu_extent *ex)
{
	int error;

	if (ex == NULL)
		return EINVAL;
	ex_lock(ex);
	error = check_locked(ex);
	ex_unlock(ex);
	return error;
}
