/*
 * libiommu - per-thread IOVA magazine cache in front of an extent.
 *
 * Design.  One instance per IOVA arena (domain):
 *
 *   iommu_iova_magazine
 *     m_ex ----------------> extent (owns every range, cached or not)
 *     m_key                  pthread key -> this thread's mag_thread
 *     m_id                   never reused: mag_last, this thread's last
 *                            (instance, mag_thread), answers without the
 *                            key lookup
 *     m_lock  protects:      m_threads (registry), m_depot[], m_spare[],
 *                            m_retired (counters of exited threads and
 *                            adjustments made by flushes)
 *     m_depot[k]: up to depot_max FULL magazines of class k
 *     m_spare:    up to spare_max EMPTY magazines (any class)
 *
 *   mag_thread (one per thread that used the instance; only that thread
 *   touches it, except destroy and stats)
 *     t_cls[k].loaded / .prev: two magazines of class k (never NULL)
 *     t_cnt: counters, written by the owner only (relaxed atomics so that
 *            get_stats may read them from another thread)
 *
 * A magazine is a stack of mag_size IOVAs, all of one class: a range of
 * 2^k pages that the extent has allocated (page aligned only, so it may
 * cross a bus_dma boundary line even when the boundary is larger than the
 * class: alloc_constrained checks before it hands one out).  Allocation
 * pops from loaded; when loaded is empty it is swapped with prev if prev
 * has any, else with a full magazine from the depot, else the extent
 * serves the request.  Free pushes onto loaded; when loaded is full and
 * prev is not, they swap; when both are full, loaded goes to the depot
 * (an empty one replaces it) or, if the depot is full, its IOVAs go back
 * to the extent.
 *
 * Invariants: every IOVA in a magazine is allocated in the extent with
 * exactly its class size and appears in exactly one magazine slot; no
 * IOVA is both cached and handed out (pop removes it before returning).
 * Memory is bounded per instance by 2 * nclasses magazines per live
 * thread + depot_max per class + spare_max.  Lock order: m_lock, then
 * the extent's own lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <iommu/extent.h>
#include <iommu/iova_magazine.h>

#include "iommu_internal.h"

struct mag {
	unsigned mg_n;
	uint64_t mg_iova[];
};

struct mag_class {
	struct mag *loaded;
	struct mag *prev;
};

/* Bonwick's exchange: the previous magazine becomes the loaded one. */
static inline void
class_swap(struct mag_class *c)
{
	struct mag *mg = c->loaded;

	c->loaded = c->prev;
	c->prev = mg;
}

/*
 * Written by one thread (or under m_lock), read by get_stats.  The fast
 * paths touch two counters each (a hit: hits[k] and requested; a cached
 * free: frees[k] and freed_req); everything else is derived in get_stats
 * (cached ranges of class k = frees[k] - hits[k] - drained[k]).
 */
struct mag_counters {
	_Atomic uint64_t hits[IOMMU_IOVA_MAGAZINE_MAX_CLASSES];
	_Atomic uint64_t misses[IOMMU_IOVA_MAGAZINE_MAX_CLASSES];
	_Atomic uint64_t frees[IOMMU_IOVA_MAGAZINE_MAX_CLASSES];
	_Atomic uint64_t drained[IOMMU_IOVA_MAGAZINE_MAX_CLASSES];
	_Atomic uint64_t depot_hits;
	_Atomic uint64_t depot_full;
	_Atomic uint64_t bypass;       /* large allocations */
	_Atomic uint64_t bypass_units; /* ... their rounded units */
	_Atomic uint64_t bypass_frees; /* large frees */
	_Atomic uint64_t bypass_freed; /* ... their rounded units */
	_Atomic uint64_t requested;    /* sizes asked by allocations */
	_Atomic uint64_t freed_req;    /* sizes given back by frees */
};

struct mag_thread {
	struct iommu_iova_magazine *t_owner;
	struct mag_thread	   *t_next;
	struct mag_thread	  **t_prevp;
	struct mag_counters	    t_cnt;
	struct mag_class	    t_cls[];
};

struct mag_depot {
	struct mag **d_mags; /* depot_max slots */
	unsigned     d_n;
};

struct iommu_iova_magazine {
	struct iommu_extent		 *m_ex;
	const struct iommu_allocator	 *m_alloc;
	struct iommu_iova_magazine_config m_cfg;
	unsigned			  m_page_shift;
	unsigned			  m_nclasses;
	size_t				  m_mag_bytes;
	pthread_key_t			  m_key;
	uint64_t			  m_id;
	pthread_mutex_t			  m_lock;
	struct mag_thread		 *m_threads;
	struct mag_depot    m_depot[IOMMU_IOVA_MAGAZINE_MAX_CLASSES];
	struct mag	  **m_spare;
	unsigned	    m_nspare;
	unsigned	    m_spare_max;
	struct mag_counters m_retired;
	_Atomic uint64_t    m_nmags;
};

/*
 * The calling thread's cache of the instance it used last.  m_id is
 * unique for the life of the process, so a destroyed instance's entry
 * never matches again; thread_exit clears it before freeing t.
 */
static _Atomic uint64_t mag_next_id = 1;
static _Thread_local struct mag_last {
	uint64_t	   ml_id;
	struct mag_thread *ml_t;
} mag_last;

static void	   cnt_add(_Atomic uint64_t *, uint64_t);
static void	   cnt_fold(struct mag_counters *, const struct mag_counters *);
static int	   size_class(const struct iommu_iova_magazine *, uint64_t size,
	    unsigned *klass, uint64_t *units);
static struct mag *mag_new(struct iommu_iova_magazine *);
static void	   mag_delete(struct iommu_iova_magazine *, struct mag *);
static void	   mag_to_spare(struct iommu_iova_magazine *, struct mag *);
static void	   mag_drain(struct iommu_iova_magazine *, struct mag *,
	   unsigned klass, struct mag_counters *);
static struct mag_thread *thread_cache(struct iommu_iova_magazine *);
static void		  thread_release(
		  struct iommu_iova_magazine *, struct mag_thread *, bool to_depot);
static void thread_exit(void *);
static void flush_locked(struct iommu_iova_magazine *, struct mag_thread *);
static int  extent_alloc(struct iommu_iova_magazine *, uint64_t units,
     uint64_t alignment, uint64_t boundary, struct mag_thread *, uint64_t *iova);

static void
cnt_add(_Atomic uint64_t *c, uint64_t v)
{
	/* Single writer: a plain load and store, no locked instruction. */
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + v,
	    memory_order_relaxed);
}

static void
cnt_fold(struct mag_counters *dst, const struct mag_counters *src)
{
	const _Atomic uint64_t *s = (const _Atomic uint64_t *)src;
	_Atomic uint64_t       *d = (_Atomic uint64_t *)dst;
	size_t			i, n = sizeof(*src) / sizeof(*s);

	for (i = 0; i < n; i++)
		cnt_add(
		    &d[i], atomic_load_explicit(&s[i], memory_order_relaxed));
}

static unsigned
log2_ceil(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
	return x <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(x - 1);
#else
	unsigned k = 0;

	while (k < 64 && ((uint64_t)1 << k) < x)
		k++;
	return k;
#endif
}

/*
 * The class of a request and the units it really takes; klass ==
 * m_nclasses means "too large, bypass the cache".
 */
static int
size_class(const struct iommu_iova_magazine *m, uint64_t size, unsigned *klass,
    uint64_t *units)
{
	uint64_t pages;

	if (size == 0)
		return EINVAL;
	pages =
	    (size >> m->m_page_shift) + ((size & (m->m_cfg.mc_page - 1)) != 0);
	if (pages <= m->m_cfg.mc_max_pages) {
		*klass = log2_ceil(pages);
		*units = (uint64_t)1 << (*klass + m->m_page_shift);
		return 0;
	}
	if (pages > (UINT64_MAX >> m->m_page_shift))
		return EINVAL;
	*klass = m->m_nclasses;
	*units = pages << m->m_page_shift;
	return 0;
}

void
iommu_iova_magazine_config_init(struct iommu_iova_magazine_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->mc_size = sizeof(*cfg);
	cfg->mc_page = 4096;
	cfg->mc_max_pages = 32;
	cfg->mc_mag_size = 127;
	cfg->mc_depot_max = 32;
}

int
iommu_iova_magazine_create(struct iommu_extent *ex,
    const struct iommu_iova_magazine_config    *cfg,
    struct iommu_iova_magazine		      **out)
{
	const struct iommu_allocator *a;
	struct iommu_iova_magazine   *m;
	unsigned		      k;
	int			      error;

	if (out != NULL)
		*out = NULL;
	if (ex == NULL || cfg == NULL || out == NULL ||
	    cfg->mc_size != sizeof(*cfg) || cfg->mc_page == 0 ||
	    (cfg->mc_page & (cfg->mc_page - 1)) != 0 ||
	    cfg->mc_max_pages == 0 ||
	    (cfg->mc_max_pages & (cfg->mc_max_pages - 1)) != 0 ||
	    log2_ceil(cfg->mc_max_pages) >= IOMMU_IOVA_MAGAZINE_MAX_CLASSES ||
	    cfg->mc_mag_size == 0 || cfg->mc_mag_size > (1u << 20) ||
	    cfg->mc_depot_max > (1u << 20) ||
	    (cfg->mc_extent_flags & ~IOMMU_EX_FAST) != 0)
		return EINVAL;
	if (log2_ceil(cfg->mc_page) + log2_ceil(cfg->mc_max_pages) >= 64)
		return EINVAL;

	a = iommu__allocator_or_default(cfg->mc_alloc);
	m = iommu__zalloc(a, sizeof(*m));
	if (m == NULL)
		return ENOMEM;
	m->m_ex = ex;
	m->m_alloc = a;
	m->m_cfg = *cfg;
	m->m_page_shift = log2_ceil(cfg->mc_page);
	m->m_nclasses = log2_ceil(cfg->mc_max_pages) + 1;
	m->m_mag_bytes =
	    sizeof(struct mag) + (size_t)cfg->mc_mag_size * sizeof(uint64_t);
	m->m_spare_max = m->m_nclasses * 2;
	error = ENOMEM;
	m->m_spare = iommu__zalloc(a, m->m_spare_max * sizeof(struct mag *));
	if (m->m_spare == NULL)
		goto fail;
	for (k = 0; k < m->m_nclasses && cfg->mc_depot_max > 0; k++) {
		m->m_depot[k].d_mags =
		    iommu__zalloc(a, cfg->mc_depot_max * sizeof(struct mag *));
		if (m->m_depot[k].d_mags == NULL)
			goto fail;
	}
	if (pthread_mutex_init(&m->m_lock, NULL) != 0)
		goto fail;
	if (pthread_key_create(&m->m_key, thread_exit) != 0) {
		pthread_mutex_destroy(&m->m_lock);
		error = EAGAIN;
		goto fail;
	}
	m->m_id =
	    atomic_fetch_add_explicit(&mag_next_id, 1, memory_order_relaxed);
	*out = m;
	return 0;
fail:
	for (k = 0; k < m->m_nclasses; k++)
		if (m->m_depot[k].d_mags != NULL)
			iommu__free(a, m->m_depot[k].d_mags,
			    cfg->mc_depot_max * sizeof(struct mag *));
	if (m->m_spare != NULL)
		iommu__free(
		    a, m->m_spare, m->m_spare_max * sizeof(struct mag *));
	iommu__free(a, m, sizeof(*m));
	return error;
}

static struct mag *
mag_new(struct iommu_iova_magazine *m)
{
	struct mag *mg;

	mg = iommu__zalloc(m->m_alloc, m->m_mag_bytes);
	if (mg != NULL)
		atomic_fetch_add_explicit(&m->m_nmags, 1, memory_order_relaxed);
	return mg;
}

static void
mag_delete(struct iommu_iova_magazine *m, struct mag *mg)
{
	if (mg == NULL)
		return;
	IOMMU_ASSERT(mg->mg_n == 0);
	atomic_fetch_sub_explicit(&m->m_nmags, 1, memory_order_relaxed);
	iommu__free(m->m_alloc, mg, m->m_mag_bytes);
}

/* Keeps an empty magazine for reuse, or frees it.  m_lock held. */
static void
mag_to_spare(struct iommu_iova_magazine *m, struct mag *mg)
{
	if (m->m_nspare < m->m_spare_max)
		m->m_spare[m->m_nspare++] = mg;
	else
		mag_delete(m, mg);
}

/* Returns a magazine's IOVAs to the extent; cnt records the change. */
static void
mag_drain(struct iommu_iova_magazine *m, struct mag *mg, unsigned klass,
    struct mag_counters *cnt)
{
	uint64_t units = (uint64_t)1 << (klass + m->m_page_shift);
	int	 error;

	cnt_add(&cnt->drained[klass], mg->mg_n);
	while (mg->mg_n > 0) {
		error = iommu_extent_free(
		    m->m_ex, mg->mg_iova[--mg->mg_n], units, IOMMU_EX_NOWAIT);
		/* Only a caller freeing what it never allocated gets here. */
		IOMMU_ASSERT(error == 0);
		(void)error;
	}
}

static struct mag_thread *
thread_cache(struct iommu_iova_magazine *m)
{
	struct mag_thread *t;
	unsigned	   k;

	if (mag_last.ml_id == m->m_id)
		return mag_last.ml_t;
	t = pthread_getspecific(m->m_key);
	if (t != NULL)
		goto remember;
	t = iommu__zalloc(
	    m->m_alloc, sizeof(*t) + m->m_nclasses * sizeof(struct mag_class));
	if (t == NULL)
		return NULL;
	t->t_owner = m;
	for (k = 0; k < m->m_nclasses; k++) {
		t->t_cls[k].loaded = mag_new(m);
		t->t_cls[k].prev = mag_new(m);
		if (t->t_cls[k].loaded == NULL || t->t_cls[k].prev == NULL)
			goto fail;
	}
	if (pthread_setspecific(m->m_key, t) != 0)
		goto fail;
	pthread_mutex_lock(&m->m_lock);
	t->t_next = m->m_threads;
	if (t->t_next != NULL)
		t->t_next->t_prevp = &t->t_next;
	t->t_prevp = &m->m_threads;
	m->m_threads = t;
	pthread_mutex_unlock(&m->m_lock);
remember:
	mag_last.ml_id = m->m_id;
	mag_last.ml_t = t;
	return t;
fail:
	for (k = 0; k < m->m_nclasses; k++) {
		mag_delete(m, t->t_cls[k].loaded);
		mag_delete(m, t->t_cls[k].prev);
	}
	iommu__free(m->m_alloc, t,
	    sizeof(*t) + m->m_nclasses * sizeof(struct mag_class));
	return NULL;
}

/*
 * Unregisters and frees a thread's cache, moving its full magazines to
 * the depot when to_depot and there is room, the rest to the extent.
 * m_lock held.
 */
static void
thread_release(
    struct iommu_iova_magazine *m, struct mag_thread *t, bool to_depot)
{
	struct mag_depot *d;
	struct mag	 *mg;
	unsigned	  k, i;

	for (k = 0; k < m->m_nclasses; k++) {
		d = &m->m_depot[k];
		for (i = 0; i < 2; i++) {
			mg = i == 0 ? t->t_cls[k].loaded : t->t_cls[k].prev;
			if (to_depot && mg->mg_n == m->m_cfg.mc_mag_size &&
			    d->d_n < m->m_cfg.mc_depot_max) {
				d->d_mags[d->d_n++] = mg;
				continue;
			}
			mag_drain(m, mg, k, &t->t_cnt);
			mag_to_spare(m, mg);
		}
	}
	cnt_fold(&m->m_retired, &t->t_cnt);
	*t->t_prevp = t->t_next;
	if (t->t_next != NULL)
		t->t_next->t_prevp = t->t_prevp;
	iommu__free(m->m_alloc, t,
	    sizeof(*t) + m->m_nclasses * sizeof(struct mag_class));
}

/* pthread key destructor: the thread is exiting. */
static void
thread_exit(void *arg)
{
	struct mag_thread	   *t = arg;
	struct iommu_iova_magazine *m = t->t_owner;

	/* A later key destructor of this thread may still use m. */
	if (mag_last.ml_t == t)
		mag_last.ml_id = 0;
	pthread_mutex_lock(&m->m_lock);
	thread_release(m, t, true);
	pthread_mutex_unlock(&m->m_lock);
}

void
iommu_iova_magazine_destroy(struct iommu_iova_magazine *m)
{
	unsigned k;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->m_lock);
	/*
	 * A live caller thread must not find its freed cache again (no
	 * thread's mag_last can match m_id again: ids are never reused).
	 */
	if (pthread_getspecific(m->m_key) != NULL)
		pthread_setspecific(m->m_key, NULL);
	while (m->m_threads != NULL)
		thread_release(m, m->m_threads, false);
	flush_locked(m, NULL);
	while (m->m_nspare > 0)
		mag_delete(m, m->m_spare[--m->m_nspare]);
	pthread_mutex_unlock(&m->m_lock);
	pthread_key_delete(m->m_key);
	pthread_mutex_destroy(&m->m_lock);
	IOMMU_ASSERT(atomic_load(&m->m_nmags) == 0);
	for (k = 0; k < m->m_nclasses; k++)
		if (m->m_depot[k].d_mags != NULL)
			iommu__free(m->m_alloc, m->m_depot[k].d_mags,
			    m->m_cfg.mc_depot_max * sizeof(struct mag *));
	iommu__free(
	    m->m_alloc, m->m_spare, m->m_spare_max * sizeof(struct mag *));
	iommu__free(m->m_alloc, m, sizeof(*m));
}

/* Empties the depot and t's magazines into the extent.  m_lock held. */
static void
flush_locked(struct iommu_iova_magazine *m, struct mag_thread *t)
{
	struct mag_depot *d;
	unsigned	  k;

	for (k = 0; k < m->m_nclasses; k++) {
		d = &m->m_depot[k];
		while (d->d_n > 0) {
			struct mag *mg = d->d_mags[--d->d_n];

			mag_drain(m, mg, k, &m->m_retired);
			mag_to_spare(m, mg);
		}
		if (t != NULL) {
			mag_drain(m, t->t_cls[k].loaded, k, &t->t_cnt);
			mag_drain(m, t->t_cls[k].prev, k, &t->t_cnt);
		}
	}
}

int
iommu_iova_magazine_flush(struct iommu_iova_magazine *m)
{
	if (m == NULL)
		return EINVAL;
	pthread_mutex_lock(&m->m_lock);
	flush_locked(m, pthread_getspecific(m->m_key));
	pthread_mutex_unlock(&m->m_lock);
	return 0;
}

/* The slow path: the extent, retried once after a flush when full. */
/*
 * Counts an allocation (or free) that bypassed the magazines, in the
 * thread's counters or, without a thread cache (its registration failed),
 * in m_retired under m_lock: every success is counted, so the totals are
 * exact (the domain's IOVA statistics are derived from them).
 */
static void
cnt_bypass(struct iommu_iova_magazine *m, struct mag_thread *t, bool free,
    uint64_t units, uint64_t size)
{
	struct mag_counters *c = t != NULL ? &t->t_cnt : &m->m_retired;

	if (t == NULL)
		pthread_mutex_lock(&m->m_lock);
	if (free) {
		cnt_add(&c->bypass_frees, 1);
		cnt_add(&c->bypass_freed, units);
		cnt_add(&c->freed_req, size);
	} else {
		cnt_add(&c->bypass, 1);
		cnt_add(&c->bypass_units, units);
		cnt_add(&c->requested, size);
	}
	if (t == NULL)
		pthread_mutex_unlock(&m->m_lock);
}

/*
 * Invariant: a cached class's range is aligned to its size (Linux's IOVA
 * allocator aligns to the rounded size too), so it never crosses a line
 * of a larger power of two: a level-3 table's 2 MiB of IOVA, or a
 * constrained request's boundary.  Larger requests are page aligned.
 */
static inline uint64_t
class_alignment(const struct iommu_iova_magazine *m, unsigned k, uint64_t units)
{
	return k < m->m_nclasses ? units : m->m_cfg.mc_page;
}

static int
extent_alloc(struct iommu_iova_magazine *m, uint64_t units, uint64_t alignment,
    uint64_t boundary, struct mag_thread *t, uint64_t *iova)
{
	int error;

	/* Boundary lines at multiples of boundary, as range_fits sees them. */
	error = iommu_extent_alloc(m->m_ex, units, alignment, 0, boundary,
	    IOMMU_EX_NOWAIT | IOMMU_EX_BOUNDZERO | m->m_cfg.mc_extent_flags,
	    iova);
	if (error != EAGAIN)
		return error;
	pthread_mutex_lock(&m->m_lock);
	flush_locked(m, t);
	pthread_mutex_unlock(&m->m_lock);
	return iommu_extent_alloc(m->m_ex, units, alignment, 0, boundary,
	    IOMMU_EX_NOWAIT | IOMMU_EX_BOUNDZERO | m->m_cfg.mc_extent_flags,
	    iova);
}

int
iommu_iova_magazine_alloc(
    struct iommu_iova_magazine *m, uint64_t size, uint64_t *iova)
{
	struct mag_thread *t;
	struct mag_class  *c;
	struct mag_depot  *d;
	struct mag	  *spare = NULL;
	uint64_t	   units;
	unsigned	   k;
	int		   error;

	if (m == NULL || iova == NULL)
		return EINVAL;
	error = size_class(m, size, &k, &units);
	if (error != 0)
		return error;
	t = thread_cache(m);
	if (t == NULL || k == m->m_nclasses) {
		error = extent_alloc(m, units, class_alignment(m, k, units),
		    IOMMU_EX_NOBOUNDARY, t, iova);
		if (error == 0)
			cnt_bypass(m, t, false, units, size);
		return error;
	}
	c = &t->t_cls[k];
	if (c->loaded->mg_n == 0) {
		if (c->prev->mg_n > 0) {
			class_swap(c);
		} else {
			d = &m->m_depot[k];
			pthread_mutex_lock(&m->m_lock);
			if (d->d_n > 0) {
				spare = c->loaded;
				c->loaded = d->d_mags[--d->d_n];
				mag_to_spare(m, spare);
			}
			pthread_mutex_unlock(&m->m_lock);
			if (spare == NULL) {
				error = extent_alloc(m, units,
				    class_alignment(m, k, units),
				    IOMMU_EX_NOBOUNDARY, t, iova);
				if (error != 0)
					return error;
				cnt_add(&t->t_cnt.misses[k], 1);
				cnt_add(&t->t_cnt.requested, size);
				return 0;
			}
			cnt_add(&t->t_cnt.depot_hits, 1);
		}
	}
	*iova = c->loaded->mg_iova[--c->loaded->mg_n];
	cnt_add(&t->t_cnt.hits[k], 1);
	cnt_add(&t->t_cnt.requested, size);
	return 0;
}

static bool
is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/*
 * Whether the range [iova, iova + units) starts on an alignment multiple
 * and crosses no boundary line (boundary 0: none).
 */
static bool
range_fits(uint64_t iova, uint64_t units, uint64_t alignment, uint64_t boundary)
{
	if ((iova & (alignment - 1)) != 0)
		return false;
	return boundary == 0 ||
	    ((iova ^ (iova + units - 1)) & ~(boundary - 1)) == 0;
}

/*
 * Cached ranges are aligned to their class size (class_alignment), so a
 * cached range crosses no boundary its class fits in, but it may not meet
 * a larger alignment.  Only the top of this thread's loaded magazine is tried
 * (no swap, no depot: a constrained request should not reshuffle the cache);
 * anything else takes a class-sized range from the extent with the
 * constraints, counted as a miss, so that free by size, and the cache's
 * invariant (every cached IOVA holds exactly its class size in the
 * extent), are unchanged.
 */
int
iommu_iova_magazine_alloc_constrained(struct iommu_iova_magazine *m,
    uint64_t size, uint64_t alignment, uint64_t boundary, uint64_t *iova)
{
	struct mag_thread *t;
	struct mag	  *mg;
	uint64_t	   units, page;
	unsigned	   k;
	int		   error;

	if (m == NULL || iova == NULL)
		return EINVAL;
	page = m->m_cfg.mc_page;
	if (alignment == 0)
		alignment = page;
	if (!is_pow2(alignment) || alignment < page ||
	    (boundary != 0 && (!is_pow2(boundary) || boundary < page)))
		return EINVAL;
	if (alignment == page && boundary == 0)
		return iommu_iova_magazine_alloc(m, size, iova);
	error = size_class(m, size, &k, &units);
	if (error != 0)
		return error;
	if (boundary != 0 && units > boundary)
		return EFBIG;
	t = thread_cache(m);
	if (t != NULL && k < m->m_nclasses) {
		mg = t->t_cls[k].loaded;
		if (mg->mg_n > 0 &&
		    range_fits(mg->mg_iova[mg->mg_n - 1], units, alignment,
			boundary)) {
			*iova = mg->mg_iova[--mg->mg_n];
			cnt_add(&t->t_cnt.hits[k], 1);
			cnt_add(&t->t_cnt.requested, size);
			return 0;
		}
	}
	if (alignment < class_alignment(m, k, units))
		alignment = class_alignment(m, k, units);
	error = extent_alloc(m, units, alignment, boundary, t, iova);
	if (error != 0)
		return error;
	if (t != NULL && k < m->m_nclasses) {
		cnt_add(&t->t_cnt.misses[k], 1);
		cnt_add(&t->t_cnt.requested, size);
	} else {
		cnt_bypass(m, t, false, units, size);
	}
	return 0;
}

int
iommu_iova_magazine_free(
    struct iommu_iova_magazine *m, uint64_t iova, uint64_t size)
{
	struct mag_thread *t;
	struct mag_class  *c;
	struct mag_depot  *d;
	struct mag	  *mg;
	uint64_t	   units;
	unsigned	   k;
	bool		   deposited = false;
	int		   error;

	if (m == NULL)
		return EINVAL;
	error = size_class(m, size, &k, &units);
	if (error != 0)
		return error;
	if ((iova & (m->m_cfg.mc_page - 1)) != 0)
		return EINVAL;
	t = thread_cache(m);
	if (t == NULL || k == m->m_nclasses) {
		error =
		    iommu_extent_free(m->m_ex, iova, units, IOMMU_EX_NOWAIT);
		if (error == 0)
			cnt_bypass(m, t, true, units, size);
		return error;
	}
	c = &t->t_cls[k];
	if (c->loaded->mg_n == m->m_cfg.mc_mag_size) {
		if (c->prev->mg_n < m->m_cfg.mc_mag_size) {
			class_swap(c);
		} else {
			d = &m->m_depot[k];
			pthread_mutex_lock(&m->m_lock);
			if (d->d_n < m->m_cfg.mc_depot_max) {
				mg = m->m_nspare > 0 ? m->m_spare[--m->m_nspare]
						     : mag_new(m);
				if (mg != NULL) {
					d->d_mags[d->d_n++] = c->loaded;
					c->loaded = mg;
					deposited = true;
				}
			}
			if (!deposited) {
				/* Depot full: the oldest IOVAs go back. */
				mag_drain(m, c->loaded, k, &t->t_cnt);
				cnt_add(&t->t_cnt.depot_full, 1);
			}
			pthread_mutex_unlock(&m->m_lock);
		}
	}
	c->loaded->mg_iova[c->loaded->mg_n++] = iova;
	cnt_add(&t->t_cnt.frees[k], 1);
	cnt_add(&t->t_cnt.freed_req, size);
	return 0;
}

uint64_t
iommu_iova_magazine_rounded_size(
    const struct iommu_iova_magazine *m, uint64_t size)
{
	uint64_t units;
	unsigned k;

	if (m == NULL || size_class(m, size, &k, &units) != 0)
		return 0;
	return units;
}

void
iommu_iova_magazine_get_stats(
    struct iommu_iova_magazine *m, struct iommu_iova_magazine_stats *st)
{
	struct mag_counters sum;
	struct mag_thread  *t;
	uint64_t	    nthreads = 0, alloc_units, freed_units;
	unsigned	    k;

	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	if (m == NULL)
		return;
	memset(&sum, 0, sizeof(sum));
	pthread_mutex_lock(&m->m_lock);
	cnt_fold(&sum, &m->m_retired);
	for (t = m->m_threads; t != NULL; t = t->t_next) {
		cnt_fold(&sum, &t->t_cnt);
		nthreads++;
	}
	pthread_mutex_unlock(&m->m_lock);
#define GET(f) atomic_load_explicit(&sum.f, memory_order_relaxed)
	alloc_units = GET(bypass_units);
	freed_units = GET(bypass_freed);
	for (k = 0; k < m->m_nclasses; k++) {
		uint64_t units = (uint64_t)1 << (k + m->m_page_shift);
		uint64_t hits = GET(hits[k]), misses = GET(misses[k]);
		uint64_t frees = GET(frees[k]);
		uint64_t cached = frees - hits - GET(drained[k]);

		st->ms_hits += hits;
		st->ms_misses += misses;
		st->ms_frees_cached += frees;
		st->ms_cached += cached;
		st->ms_cached_units += cached * units;
		alloc_units += (hits + misses) * units;
		freed_units += frees * units;
	}
	st->ms_bypass = GET(bypass);
	st->ms_allocs = st->ms_hits + st->ms_misses + st->ms_bypass;
	st->ms_frees = st->ms_frees_cached + GET(bypass_frees);
	st->ms_depot_hits = GET(depot_hits);
	st->ms_depot_full = GET(depot_full);
	st->ms_requested_total = GET(requested);
	st->ms_freed_total = GET(freed_req);
	st->ms_waste_total = alloc_units - GET(requested);
	st->ms_waste_units =
	    st->ms_waste_total - (freed_units - GET(freed_req));
#undef GET
	st->ms_magazines =
	    atomic_load_explicit(&m->m_nmags, memory_order_relaxed);
	st->ms_threads = nthreads;
}
