/*
 * libiommu - fixed-size item pools in the manner of pool(9), with
 * optional per-thread caches in front of the shared pool.
 *
 * Shared pool.  Items are carved from pool pages (blocks of pr_pgsize
 * bytes from the pool's allocator; pr_pgsize is IOMMU_PAGE_SIZE unless
 * that would hold fewer than POOL_MIN_ITEMS items):
 *
 *	block: | pool_page hdr | pad | item 0 | item 1 | ... | item ipp-1 |
 *
 * The pad aligns item 0 to pr_align; every page holds exactly pr_ipp
 * items (the count assumes the worst padding).  A free item is overlaid by
 * struct pool_item {next, magic} and sits on a singly linked free list.
 * Pages stay until the pool is destroyed (pool(9) may return idle pages
 * earlier; this pool does not, so pst_pages only grows).
 *
 * Per-thread caches (IOMMU_POOL_PERTHREAD).  Each thread that uses the
 * pool gets a struct pool_cache through a pthread key: a free list of at
 * most POOL_CACHE_MAX items owned by that thread alone, so get/put on it
 * take no lock.  An empty cache refills POOL_CACHE_BATCH items from the
 * shared pool in one locked step; a full one returns POOL_CACHE_BATCH.
 * Caches are registered on pr_caches (under pr_lock) so that destroy can
 * reclaim the caches of threads that are still alive; the key's
 * destructor returns a cache when its thread exits.  Items in caches count
 * as out of the shared pool (pr_nout).  While a hard limit is set, the
 * caches are bypassed so that a put wakes a waiting get at once.
 *
 * Invariants (pr_lock held): pr_nfree + pr_nout == pr_npages * pr_ipp;
 * pr_nout == items held by callers + items in caches; pr_nout <=
 * pr_hardlimit except after sethardlimit lowered it while caches of
 * other threads still held items.  At IOMMU_DEBUG >= 1 a free item's magic
 * word is checked on get (write after put) and on put (double put).
 *
 * Memory checkers: free items (shared or cached) are no-access; the
 * library opens a free item's link word only for the instant it reads or
 * writes it (iommu_track.h).  A got item is undefined, or zeroed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "iommu_internal.h"
#include "iommu_track.h"

#define POOL_MIN_ITEMS	   4
#define POOL_MIN_ALIGN	   8
#define POOL_CACHE_MAX	   32
#define POOL_CACHE_BATCH   16
#define POOL_MAGIC	   0x9e3779b97f4a7c15ull
#define POOL_ITEM_MAGIC(i) (POOL_MAGIC ^ (uint64_t)(uintptr_t)(i))
/* Checker annotations cost a client request each: skip them natively. */
#define POOL_TRACK(pp, call)                                                   \
	do {                                                                   \
		if ((pp)->pr_track)                                            \
			call;                                                  \
	} while (0)

struct pool_item {
	struct pool_item *pi_next;
	uint64_t	  pi_magic;
};

struct pool_page {
	struct pool_page *ph_next;
	uint64_t	  ph_pad;
};

struct pool_cache {
	struct iommu_pool *pc_pool;
	struct pool_item  *pc_head; /* owner thread only */
	unsigned	   pc_count;
	/* Written by the owner only; read by iommu_pool_get_stats(). */
	_Atomic uint64_t   pc_gets;
	_Atomic uint64_t   pc_puts;
	_Atomic uint64_t   pc_hits;
	struct pool_cache *pc_next; /* pr_caches, under pr_lock */
	struct pool_cache *pc_prev;
};

struct iommu_pool {
	char			      pr_name[32];
	const struct iommu_allocator *pr_alloc;
	size_t			      pr_size;
	size_t			      pr_stride;
	size_t			      pr_align;
	size_t			      pr_pgsize;
	size_t			      pr_ipp;
	unsigned		      pr_flags;
	bool pr_track; /* a memory checker is watching */

	pthread_mutex_t	  pr_lock;
	pthread_cond_t	  pr_cv;
	unsigned	  pr_nwaiters;
	struct pool_item *pr_free;
	uint64_t	  pr_nfree;
	struct pool_page *pr_pages;
	uint64_t	  pr_npages;
	uint64_t	  pr_pages_hwm;
	uint64_t	  pr_nout;
	uint64_t	  pr_nout_hwm;
	size_t		  pr_hardlimit;
	atomic_bool	  pr_limited; /* pr_hardlimit != SIZE_MAX */
	/* Counts of the locked paths and of caches already retired. */
	uint64_t pr_gets;
	uint64_t pr_puts;
	uint64_t pr_fails;
	uint64_t pr_hits;
	uint64_t pr_waits;

	bool		   pr_haskey;
	pthread_key_t	   pr_key;
	struct pool_cache *pr_caches;
};

static size_t		 pool_items_per_page(size_t, size_t, size_t);
static struct pool_item *item_next(struct iommu_pool *, struct pool_item *);
static void		 item_set_next(
		 struct iommu_pool *, struct pool_item *, struct pool_item *);
static void item_check_free(struct iommu_pool *, struct pool_item *);
static void item_hand_out(struct iommu_pool *, void *, int);
static void item_take_back(struct iommu_pool *, struct pool_item *);
static bool pool_page_add(struct iommu_pool *);
static struct pool_item *pool_shared_pop(struct iommu_pool *);
static void  pool_shared_push(struct iommu_pool *, struct pool_item *);
static void  pool_note_out(struct iommu_pool *, uint64_t);
static void  pool_note_back(struct iommu_pool *, uint64_t);
static void *pool_get_locked(struct iommu_pool *, int);
static struct pool_cache *cache_lookup(struct iommu_pool *);
static void		  cache_drain(struct pool_cache *, unsigned);
static void		  cache_retire(struct pool_cache *);
static void		  cache_thread_exit(void *);
static bool		  cache_refill(struct pool_cache *);
static void		  counter_inc(_Atomic uint64_t *);

static size_t
pool_items_per_page(size_t pgsize, size_t stride, size_t align)
{
	size_t head = sizeof(struct pool_page);

	/* Blocks are at least POOL_MIN_ALIGN aligned: pad at most this. */
	if (align > POOL_MIN_ALIGN)
		head += align - POOL_MIN_ALIGN;
	return pgsize > head ? (pgsize - head) / stride : 0;
}

int
iommu_pool_create(const char *name, size_t item_size, size_t align,
    unsigned flags, const struct iommu_allocator *pagealloc,
    struct iommu_pool **out)
{
	struct iommu_pool *pp;
	size_t		   stride, pgsize;
	int		   error;

	if (out == NULL || item_size == 0 || item_size > IOMMU_POOL_MAX_ITEM ||
	    (align & (align - 1)) != 0 || align > IOMMU_PAGE_SIZE ||
	    (flags & ~(unsigned)IOMMU_POOL_PERTHREAD) != 0)
		return EINVAL;
	if (align < POOL_MIN_ALIGN)
		align = POOL_MIN_ALIGN;
	stride = item_size < sizeof(struct pool_item) ? sizeof(struct pool_item)
						      : item_size;
	stride = (stride + align - 1) & ~(align - 1);
	for (pgsize = IOMMU_PAGE_SIZE;
	     pool_items_per_page(pgsize, stride, align) < POOL_MIN_ITEMS;
	     pgsize *= 2)
		;
	pagealloc = iommu__allocator_or_default(pagealloc);
	pp = iommu__zalloc(pagealloc, sizeof(*pp));
	if (pp == NULL)
		return ENOMEM;
	if (name != NULL) {
		strncpy(pp->pr_name, name, sizeof(pp->pr_name) - 1);
		pp->pr_name[sizeof(pp->pr_name) - 1] = '\0';
	}
	pp->pr_alloc = pagealloc;
	pp->pr_size = item_size;
	pp->pr_stride = stride;
	pp->pr_align = align;
	pp->pr_pgsize = pgsize;
	pp->pr_ipp = pool_items_per_page(pgsize, stride, align);
	pp->pr_flags = flags;
	pp->pr_track = iommu__track_enabled();
	pp->pr_hardlimit = SIZE_MAX;
	atomic_init(&pp->pr_limited, false);
	if ((error = pthread_mutex_init(&pp->pr_lock, NULL)) != 0)
		goto fail;
	if ((error = pthread_cond_init(&pp->pr_cv, NULL)) != 0) {
		pthread_mutex_destroy(&pp->pr_lock);
		goto fail;
	}
	if (flags & IOMMU_POOL_PERTHREAD) {
		if ((error = pthread_key_create(
			 &pp->pr_key, cache_thread_exit)) != 0) {
			pthread_cond_destroy(&pp->pr_cv);
			pthread_mutex_destroy(&pp->pr_lock);
			goto fail;
		}
		pp->pr_haskey = true;
	}
	*out = pp;
	return 0;
fail:
	iommu__free(pagealloc, pp, sizeof(*pp));
	return error == ENOMEM ? ENOMEM : EAGAIN;
}

void
iommu_pool_destroy(struct iommu_pool *pp)
{
	struct pool_page *ph;

	if (pp == NULL)
		return;
	/*
	 * No destructor runs for the key after this, so threads exiting
	 * later never touch the pool; their caches are reclaimed here.
	 */
	if (pp->pr_haskey)
		pthread_key_delete(pp->pr_key);
	pthread_mutex_lock(&pp->pr_lock);
	while (pp->pr_caches != NULL)
		cache_retire(pp->pr_caches);
	pthread_mutex_unlock(&pp->pr_lock);
	while ((ph = pp->pr_pages) != NULL) {
		pp->pr_pages = ph->ph_next;
		/* Hand the block back fully addressable. */
		POOL_TRACK(pp, iommu__track_undefined(ph, pp->pr_pgsize));
		pp->pr_alloc->ia_free(pp->pr_alloc->ia_ctx, ph, pp->pr_pgsize);
	}
	pthread_cond_destroy(&pp->pr_cv);
	pthread_mutex_destroy(&pp->pr_lock);
	iommu__free(pp->pr_alloc, pp, sizeof(*pp));
}

/* Reads a free item's link, opening the word only for the read. */
static struct pool_item *
item_next(struct iommu_pool *pp, struct pool_item *pi)
{
	struct pool_item *next;

	POOL_TRACK(pp, iommu__track_defined(pi, sizeof(pi->pi_next)));
	next = pi->pi_next;
	POOL_TRACK(pp, iommu__track_noaccess(pi, sizeof(pi->pi_next)));
	return next;
}

static void
item_set_next(
    struct iommu_pool *pp, struct pool_item *pi, struct pool_item *next)
{
	POOL_TRACK(pp, iommu__track_defined(pi, sizeof(pi->pi_next)));
	pi->pi_next = next;
	POOL_TRACK(pp, iommu__track_noaccess(pi, sizeof(pi->pi_next)));
}

/* A free item about to be handed out: was it written after its put? */
static void
item_check_free(struct iommu_pool *pp, struct pool_item *pi)
{
#if IOMMU_DEBUG >= 1
	uint64_t magic;

	POOL_TRACK(
	    pp, iommu__track_defined(&pi->pi_magic, sizeof(pi->pi_magic)));
	magic = pi->pi_magic;
	pi->pi_magic = 0;
	if (magic != POOL_ITEM_MAGIC(pi))
		IOMMU_PANIC("pool %s: item %p modified after put", pp->pr_name,
		    (void *)pi);
#else
	(void)pp;
	(void)pi;
#endif
}

/* Makes a free item (already unlinked) the caller's. */
static void
item_hand_out(struct iommu_pool *pp, void *item, int prflags)
{
	item_check_free(pp, item);
	POOL_TRACK(pp, iommu__track_noaccess(item, pp->pr_stride));
	POOL_TRACK(pp, iommu__track_undefined(item, pp->pr_size));
	if (prflags & IOMMU_PR_ZERO)
		memset(item, 0, pp->pr_size);
}

/* Checks a put item and turns it into a free item (not yet linked). */
static void
item_take_back(struct iommu_pool *pp, struct pool_item *pi)
{
	if (pp->pr_track && iommu__track_is_noaccess(pi))
		IOMMU_PANIC(
		    "pool %s: item %p put twice", pp->pr_name, (void *)pi);
	POOL_TRACK(pp, iommu__track_defined(pi, sizeof(*pi)));
#if IOMMU_DEBUG >= 1
	if (pi->pi_magic == POOL_ITEM_MAGIC(pi))
		IOMMU_PANIC(
		    "pool %s: item %p put twice", pp->pr_name, (void *)pi);
	pi->pi_magic = POOL_ITEM_MAGIC(pi);
#endif
	POOL_TRACK(pp, iommu__track_noaccess(pi, pp->pr_stride));
}

/* Carves one more page into free items (pr_lock held). */
static bool
pool_page_add(struct iommu_pool *pp)
{
	struct pool_page *ph;
	uintptr_t	  first;
	size_t		  i;

	ph = pp->pr_alloc->ia_alloc(pp->pr_alloc->ia_ctx, pp->pr_pgsize);
	if (ph == NULL)
		return false;
	IOMMU_ASSERT(((uintptr_t)ph & (POOL_MIN_ALIGN - 1)) == 0);
	ph->ph_next = pp->pr_pages;
	pp->pr_pages = ph;
	first = ((uintptr_t)(ph + 1) + pp->pr_align - 1) &
	    ~(uintptr_t)(pp->pr_align - 1);
	POOL_TRACK(pp,
	    iommu__track_noaccess((void *)first, pp->pr_ipp * pp->pr_stride));
	/* Push in reverse so the lowest address is handed out first. */
	for (i = pp->pr_ipp; i-- > 0;) {
		struct pool_item *pi = (void *)(first + i * pp->pr_stride);

#if IOMMU_DEBUG >= 1
		POOL_TRACK(pp,
		    iommu__track_defined(&pi->pi_magic, sizeof(pi->pi_magic)));
		pi->pi_magic = POOL_ITEM_MAGIC(pi);
		POOL_TRACK(pp,
		    iommu__track_noaccess(&pi->pi_magic, sizeof(pi->pi_magic)));
#endif
		pool_shared_push(pp, pi);
	}
	if (++pp->pr_npages > pp->pr_pages_hwm)
		pp->pr_pages_hwm = pp->pr_npages;
	return true;
}

/* An unlinked free item from the shared list, or NULL (pr_lock held). */
static struct pool_item *
pool_shared_pop(struct iommu_pool *pp)
{
	struct pool_item *pi;

	if (pp->pr_free == NULL && !pool_page_add(pp))
		return NULL;
	pi = pp->pr_free;
	pp->pr_free = item_next(pp, pi);
	pp->pr_nfree--;
	return pi;
}

static void
pool_shared_push(struct iommu_pool *pp, struct pool_item *pi)
{
	item_set_next(pp, pi, pp->pr_free);
	pp->pr_free = pi;
	pp->pr_nfree++;
}

static void
pool_note_out(struct iommu_pool *pp, uint64_t n)
{
	pp->pr_nout += n;
	if (pp->pr_nout > pp->pr_nout_hwm)
		pp->pr_nout_hwm = pp->pr_nout;
}

static void
pool_note_back(struct iommu_pool *pp, uint64_t n)
{
	pp->pr_nout -= n;
	if (pp->pr_nwaiters > 0)
		pthread_cond_broadcast(&pp->pr_cv);
}

/* The shared path: honours the hard limit (pr_lock held). */
static void *
pool_get_locked(struct iommu_pool *pp, int prflags)
{
	struct pool_item *pi;

	while (pp->pr_nout >= pp->pr_hardlimit) {
		if (prflags & IOMMU_PR_NOWAIT)
			goto fail;
		pp->pr_waits++;
		pp->pr_nwaiters++;
		pthread_cond_wait(&pp->pr_cv, &pp->pr_lock);
		pp->pr_nwaiters--;
	}
	if ((pi = pool_shared_pop(pp)) == NULL)
		goto fail;
	pool_note_out(pp, 1);
	pp->pr_gets++;
	return pi;
fail:
	pp->pr_fails++;
	return NULL;
}

static void
counter_inc(_Atomic uint64_t *c)
{
	/* Single writer: no read-modify-write bus lock needed. */
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + 1,
	    memory_order_relaxed);
}

/* The calling thread's cache, created on first use; NULL if none. */
static struct pool_cache *
cache_lookup(struct iommu_pool *pp)
{
	struct pool_cache *pc;

	if ((pc = pthread_getspecific(pp->pr_key)) != NULL)
		return pc;
	pc = iommu__zalloc(pp->pr_alloc, sizeof(*pc));
	if (pc == NULL)
		return NULL;
	pc->pc_pool = pp;
	atomic_init(&pc->pc_gets, 0);
	atomic_init(&pc->pc_puts, 0);
	atomic_init(&pc->pc_hits, 0);
	if (pthread_setspecific(pp->pr_key, pc) != 0) {
		iommu__free(pp->pr_alloc, pc, sizeof(*pc));
		return NULL;
	}
	pthread_mutex_lock(&pp->pr_lock);
	pc->pc_next = pp->pr_caches;
	if (pp->pr_caches != NULL)
		pp->pr_caches->pc_prev = pc;
	pp->pr_caches = pc;
	pthread_mutex_unlock(&pp->pr_lock);
	return pc;
}

/* Moves all but keep cached items to the shared pool (pr_lock held). */
static void
cache_drain(struct pool_cache *pc, unsigned keep)
{
	struct iommu_pool *pp = pc->pc_pool;
	struct pool_item  *pi;
	unsigned	   n = 0;

	while (pc->pc_count > keep) {
		pi = pc->pc_head;
		pc->pc_head = item_next(pp, pi);
		pc->pc_count--;
		pool_shared_push(pp, pi);
		n++;
	}
	if (n > 0)
		pool_note_back(pp, n);
}

/* Empties a cache, folds its counters in and frees it (pr_lock held). */
static void
cache_retire(struct pool_cache *pc)
{
	struct iommu_pool *pp = pc->pc_pool;

	cache_drain(pc, 0);
	pp->pr_gets += atomic_load_explicit(&pc->pc_gets, memory_order_relaxed);
	pp->pr_puts += atomic_load_explicit(&pc->pc_puts, memory_order_relaxed);
	pp->pr_hits += atomic_load_explicit(&pc->pc_hits, memory_order_relaxed);
	if (pc->pc_prev != NULL)
		pc->pc_prev->pc_next = pc->pc_next;
	else
		pp->pr_caches = pc->pc_next;
	if (pc->pc_next != NULL)
		pc->pc_next->pc_prev = pc->pc_prev;
	iommu__free(pp->pr_alloc, pc, sizeof(*pc));
}

/* pthread key destructor: the owning thread is exiting. */
static void
cache_thread_exit(void *arg)
{
	struct pool_cache *pc = arg;
	struct iommu_pool *pp = pc->pc_pool;

	pthread_mutex_lock(&pp->pr_lock);
	cache_retire(pc);
	pthread_mutex_unlock(&pp->pr_lock);
}

/* Fills an empty cache with up to a batch of items; false if none. */
static bool
cache_refill(struct pool_cache *pc)
{
	struct iommu_pool *pp = pc->pc_pool;
	struct pool_item  *pi;
	unsigned	   n;

	pthread_mutex_lock(&pp->pr_lock);
	for (n = 0; n < POOL_CACHE_BATCH; n++) {
		if ((pi = pool_shared_pop(pp)) == NULL)
			break;
		item_set_next(pp, pi, pc->pc_head);
		pc->pc_head = pi;
		pc->pc_count++;
	}
	if (n > 0)
		pool_note_out(pp, n);
	else
		pp->pr_fails++;
	pthread_mutex_unlock(&pp->pr_lock);
	return n > 0;
}

void *
iommu_pool_get(struct iommu_pool *pp, int prflags)
{
	struct pool_cache *pc = NULL;
	struct pool_item  *pi;
	bool		   hit;

	if (pp == NULL)
		return NULL;
	if ((prflags & ~(IOMMU_PR_NOWAIT | IOMMU_PR_ZERO)) != 0) {
		pthread_mutex_lock(&pp->pr_lock);
		pp->pr_fails++;
		pthread_mutex_unlock(&pp->pr_lock);
		return NULL;
	}
	if (pp->pr_haskey &&
	    !atomic_load_explicit(&pp->pr_limited, memory_order_relaxed))
		pc = cache_lookup(pp);
	if (pc != NULL) {
		hit = pc->pc_count > 0;
		if (!hit && !cache_refill(pc))
			return NULL;
		pi = pc->pc_head;
		pc->pc_head = item_next(pp, pi);
		pc->pc_count--;
		counter_inc(&pc->pc_gets);
		if (hit)
			counter_inc(&pc->pc_hits);
	} else {
		pthread_mutex_lock(&pp->pr_lock);
		if (pp->pr_haskey &&
		    (pc = pthread_getspecific(pp->pr_key)) != NULL)
			cache_drain(pc, 0);
		pi = pool_get_locked(pp, prflags);
		pthread_mutex_unlock(&pp->pr_lock);
		if (pi == NULL)
			return NULL;
	}
	item_hand_out(pp, pi, prflags);
	return pi;
}

void
iommu_pool_put(struct iommu_pool *pp, void *item)
{
	struct pool_cache *pc = NULL;
	struct pool_item  *pi = item;

	if (pp == NULL || item == NULL)
		return;
	item_take_back(pp, pi);
	if (pp->pr_haskey &&
	    !atomic_load_explicit(&pp->pr_limited, memory_order_relaxed))
		pc = cache_lookup(pp);
	if (pc != NULL) {
		item_set_next(pp, pi, pc->pc_head);
		pc->pc_head = pi;
		pc->pc_count++;
		counter_inc(&pc->pc_puts);
		if (pc->pc_count > POOL_CACHE_MAX) {
			pthread_mutex_lock(&pp->pr_lock);
			cache_drain(pc, POOL_CACHE_MAX - POOL_CACHE_BATCH);
			pthread_mutex_unlock(&pp->pr_lock);
		}
		return;
	}
	pthread_mutex_lock(&pp->pr_lock);
	if (pp->pr_haskey && (pc = pthread_getspecific(pp->pr_key)) != NULL)
		cache_drain(pc, 0);
	pool_shared_push(pp, pi);
	pp->pr_puts++;
	pool_note_back(pp, 1);
	pthread_mutex_unlock(&pp->pr_lock);
}

int
iommu_pool_sethardlimit(struct iommu_pool *pp, size_t max_items)
{
	struct pool_cache *pc;
	int		   error = 0;

	if (pp == NULL)
		return EINVAL;
	pthread_mutex_lock(&pp->pr_lock);
	if (pp->pr_haskey && (pc = pthread_getspecific(pp->pr_key)) != NULL)
		cache_drain(pc, 0);
	if (pp->pr_nout > max_items) {
		error = EINVAL;
	} else {
		pp->pr_hardlimit = max_items;
		atomic_store(&pp->pr_limited, max_items != SIZE_MAX);
		if (pp->pr_nwaiters > 0)
			pthread_cond_broadcast(&pp->pr_cv);
	}
	pthread_mutex_unlock(&pp->pr_lock);
	return error;
}

int
iommu_pool_cache_flush(struct iommu_pool *pp)
{
	struct pool_cache *pc;

	if (pp == NULL)
		return EINVAL;
	if (!pp->pr_haskey || (pc = pthread_getspecific(pp->pr_key)) == NULL)
		return 0;
	pthread_mutex_lock(&pp->pr_lock);
	cache_drain(pc, 0);
	pthread_mutex_unlock(&pp->pr_lock);
	return 0;
}

void
iommu_pool_get_stats(struct iommu_pool *pp, struct iommu_pool_stats *st)
{
	struct pool_cache *pc;

	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	if (pp == NULL)
		return;
	pthread_mutex_lock(&pp->pr_lock);
	st->pst_gets = pp->pr_gets;
	st->pst_puts = pp->pr_puts;
	st->pst_cache_hits = pp->pr_hits;
	for (pc = pp->pr_caches; pc != NULL; pc = pc->pc_next) {
		st->pst_gets +=
		    atomic_load_explicit(&pc->pc_gets, memory_order_relaxed);
		st->pst_puts +=
		    atomic_load_explicit(&pc->pc_puts, memory_order_relaxed);
		st->pst_cache_hits +=
		    atomic_load_explicit(&pc->pc_hits, memory_order_relaxed);
	}
	st->pst_fails = pp->pr_fails;
	st->pst_pages = pp->pr_npages;
	st->pst_pages_hwm = pp->pr_pages_hwm;
	st->pst_items_out = st->pst_gets - st->pst_puts;
	st->pst_items_hwm = pp->pr_nout_hwm;
	st->pst_hardlimit = pp->pr_hardlimit;
	st->pst_items_per_page = pp->pr_ipp;
	st->pst_waits = pp->pr_waits;
	st->pst_page_size = pp->pr_pgsize;
	/* Cache counters move without the lock: clamp a transient skew. */
	st->pst_items_cached = pp->pr_nout > st->pst_items_out
	    ? pp->pr_nout - st->pst_items_out
	    : 0;
	pthread_mutex_unlock(&pp->pr_lock);
}

/*
 * The batch calls are loops over the single ones: a shared cache lookup
 * measured no faster on the hot path than the single calls inlined as
 * they are (iommu-bench map_ns), so the single calls stay as they were.
 */
int
iommu_pool_get_n(struct iommu_pool *pp, int prflags, void **items, size_t n)
{
	size_t i;

	if (pp == NULL || items == NULL ||
	    (prflags & ~(IOMMU_PR_NOWAIT | IOMMU_PR_ZERO)) != 0)
		return EINVAL;
	for (i = 0; i < n; i++) {
		if ((items[i] = iommu_pool_get(pp, prflags)) == NULL) {
			while (i-- > 0)
				iommu_pool_put(pp, items[i]);
			return ENOMEM;
		}
	}
	return 0;
}

void
iommu_pool_put_n(struct iommu_pool *pp, void *const *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		iommu_pool_put(pp, items[i]); /* NULL is ignored */
}
