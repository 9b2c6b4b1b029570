/*
 * Tests of the per-thread IOVA magazine cache (src/iova_magazine.c):
 * size-class rounding and its reported waste, hits from the loaded and
 * previous magazines, the depot and its overflow back to the extent, the
 * bypass for large requests, constrained allocations (alignment and
 * boundary; a cached range that does not fit stays cached), flush-and-
 * retry when the extent is full, allocation failures, a randomized run
 * against a reference ownership map (no IOVA handed out twice, the extent
 * holds exactly what is outstanding plus what is cached, teardown returns
 * everything), and threads that share one cache (ownership by atomics;
 * thread exit returns the thread's magazines).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/extent.h>
#include <iommu/iova_magazine.h>

#include "test_alloc.h"

#define PG 4096u

struct fixture {
	struct iommu_extent	   *ex;
	struct iommu_iova_magazine *mg;
};

static int
count_region(void *arg, uint64_t start, uint64_t end)
{
	(void)start;
	(void)end;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
extent_regions(struct iommu_extent *ex)
{
	size_t n = 0;

	assert_int_equal(iommu_extent_foreach(ex, count_region, &n), 0);
	return n;
}

/* A byte-addressed extent over [PG, PG * (pages + 1)). */
static void
setup(struct fixture *f, uint64_t pages, unsigned mag_size, unsigned depot,
    const struct iommu_allocator *a)
{
	struct iommu_iova_magazine_config cfg;

	assert_int_equal(iommu_extent_create("mag", PG, PG * (pages + 1) - 1, a,
			     NULL, 0, IOMMU_EX_NOCOALESCE, &f->ex),
	    0);
	iommu_iova_magazine_config_init(&cfg);
	cfg.mc_mag_size = mag_size;
	cfg.mc_depot_max = depot;
	cfg.mc_alloc = a;
	assert_int_equal(iommu_iova_magazine_create(f->ex, &cfg, &f->mg), 0);
}

static void
teardown(struct fixture *f)
{
	iommu_iova_magazine_destroy(f->mg);
	iommu_extent_destroy(f->ex);
}

static void
test_create_invalid(void **state)
{
	struct iommu_iova_magazine_config cfg;
	struct iommu_iova_magazine	 *mg = (void *)1;
	struct iommu_extent		 *ex;

	(void)state;
	assert_int_equal(
	    iommu_extent_create("x", 0, 1 << 20, NULL, NULL, 0, 0, &ex), 0);
	iommu_iova_magazine_config_init(&cfg);
	assert_int_equal(iommu_iova_magazine_create(NULL, &cfg, &mg), EINVAL);
	assert_null(mg);
	assert_int_equal(iommu_iova_magazine_create(ex, NULL, &mg), EINVAL);
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, NULL), EINVAL);
	cfg.mc_page = 3000;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	iommu_iova_magazine_config_init(&cfg);
	cfg.mc_max_pages = 24;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	cfg.mc_max_pages = 1u << 16;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	iommu_iova_magazine_config_init(&cfg);
	cfg.mc_mag_size = 0;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	iommu_iova_magazine_config_init(&cfg);
	cfg.mc_size = 1;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	iommu_iova_magazine_config_init(&cfg);
	cfg.mc_extent_flags = IOMMU_EX_WAITOK;
	assert_int_equal(iommu_iova_magazine_create(ex, &cfg, &mg), EINVAL);
	iommu_extent_destroy(ex);
	/* NULL-safe. */
	iommu_iova_magazine_destroy(NULL);
	iommu_iova_magazine_config_init(NULL);
	assert_int_equal(iommu_iova_magazine_flush(NULL), EINVAL);
	assert_int_equal(iommu_iova_magazine_rounded_size(NULL, 1), 0);
}

static void
test_rounding_and_waste(void **state)
{
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	uint64_t			 a, b;

	(void)state;
	setup(&f, 1024, 8, 4, test_cmocka_allocator());
	assert_int_equal(iommu_iova_magazine_rounded_size(f.mg, 0), 0);
	assert_int_equal(iommu_iova_magazine_rounded_size(f.mg, 1), PG);
	assert_int_equal(iommu_iova_magazine_rounded_size(f.mg, PG), PG);
	assert_int_equal(
	    iommu_iova_magazine_rounded_size(f.mg, PG + 1), 2 * PG);
	assert_int_equal(
	    iommu_iova_magazine_rounded_size(f.mg, 3 * PG), 4 * PG);
	assert_int_equal(
	    iommu_iova_magazine_rounded_size(f.mg, 17 * PG), 32 * PG);
	assert_int_equal(
	    iommu_iova_magazine_rounded_size(f.mg, 33 * PG), 33 * PG);
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 0, &a), EINVAL);

	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 3 * PG, &a), 0);
	assert_int_equal(a % PG, 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_allocs, 1);
	assert_int_equal(st.ms_misses, 1);
	assert_int_equal(st.ms_waste_units, PG);
	assert_int_equal(st.ms_requested_total, 3 * PG);
	/* The extent holds the rounded size: freeing 4 pages there works. */
	assert_int_equal(iommu_iova_magazine_free(f.mg, a + 1, 3 * PG), EINVAL);
	assert_int_equal(iommu_iova_magazine_free(f.mg, a, 3 * PG), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_waste_units, 0);
	assert_int_equal(st.ms_waste_total, PG);
	assert_int_equal(st.ms_cached, 1);
	assert_int_equal(st.ms_cached_units, 4 * PG);
	assert_int_equal(extent_regions(f.ex), 1);
	/* A 4-page request is the same class: the cached range comes back. */
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 4 * PG, &b), 0);
	assert_int_equal(b, a);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_hits, 1);
	assert_int_equal(st.ms_cached, 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, b, 4 * PG), 0);
	/* Another class does not see it. */
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, PG, &b), 0);
	assert_int_not_equal(b, a);
	assert_int_equal(iommu_iova_magazine_free(f.mg, b, PG), 0);
	teardown(&f);
}

static void
test_bypass_large(void **state)
{
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	uint64_t			 a;

	(void)state;
	setup(&f, 1024, 8, 4, test_cmocka_allocator());
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 40 * PG - 5, &a), 0);
	assert_int_equal(extent_regions(f.ex), 1);
	assert_int_equal(iommu_iova_magazine_free(f.mg, a, 40 * PG - 5), 0);
	assert_int_equal(extent_regions(f.ex), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_bypass, 1);
	assert_int_equal(st.ms_cached, 0);
	assert_int_equal(st.ms_waste_total, 5);
	/* An unknown large range is the extent's EINVAL. */
	assert_int_equal(iommu_iova_magazine_free(f.mg, a, 40 * PG), EINVAL);
	/* Larger than the extent: the extent's "can never fit". */
	assert_int_equal(
	    iommu_iova_magazine_alloc(f.mg, 2048 * PG, &a), EINVAL);
	teardown(&f);
}

/*
 * Class ranges are aligned to their class size whatever the extent's
 * holes, so none crosses a line of a larger power of two (a level-3
 * table's 2 MiB of IOVA: a span); a constrained request with a smaller
 * alignment still gets it; a bypass size is only page aligned.
 */
static void
test_class_ranges_are_size_aligned(void **state)
{
	struct fixture f;
	uint64_t       one, two, three, eight, cons, big;

	(void)state;
	setup(&f, 1024, 8, 4, test_cmocka_allocator());
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, PG, &one), 0);
	assert_int_equal(one, PG);
	/* First fit would be 2PG-4PG; the 4-page class starts at 4PG. */
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 3 * PG, &three), 0);
	assert_int_equal(three, 4 * PG);
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 2 * PG, &two), 0);
	assert_int_equal(two, 2 * PG);
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 5 * PG, &eight), 0);
	assert_int_equal(eight, 8 * PG);
	assert_int_equal(iommu_iova_magazine_alloc_constrained(
			     f.mg, 4 * PG, 2 * PG, 0, &cons),
	    0);
	assert_int_equal(cons, 16 * PG);
	/* 33 pages bypass the cache: the first hole that fits, at 20PG. */
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 33 * PG, &big), 0);
	assert_int_equal(big, 20 * PG);
	assert_int_equal(iommu_iova_magazine_free(f.mg, one, PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, two, 2 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, three, 3 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, eight, 5 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, cons, 4 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, big, 33 * PG), 0);
	assert_int_equal(iommu_iova_magazine_flush(f.mg), 0);
	assert_int_equal(extent_regions(f.ex), 0);
	teardown(&f);
}

/*
 * alloc_constrained: argument errors; a cached range that does not fit is
 * left cached and the extent serves instead, with boundary lines at
 * multiples of the boundary (not counted from the extent's start, PG);
 * one that fits is a hit; bypass sizes honour the alignment; counters.
 */
static void
test_constrained(void **state)
{
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	uint64_t			 a, b, c, d, x;

	(void)state;
	setup(&f, 1024, 8, 4, test_cmocka_allocator());
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(NULL, PG, 0, 0, &x), EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, 0, 0, NULL),
	    EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, 0, 0, 2 * PG, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, 3 * PG, 0, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, PG / 2, 0, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, 0, 3 * PG, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, 0, PG / 2, &x),
	    EINVAL);
	/* The class (4 pages) or the bypass size exceeds the boundary. */
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, 3 * PG, 0, 2 * PG, &x),
	    EFBIG);
	assert_int_equal(iommu_iova_magazine_alloc_constrained(
			     f.mg, 40 * PG, 0, 32 * PG, &x),
	    EFBIG);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_allocs, 0);
	assert_int_equal(extent_regions(f.ex), 0);

	/* 2PG-4PG: a 2-page class is 2-page aligned (PG-3PG would cross). */
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, 2 * PG, 0, 2 * PG, &a),
	    0);
	assert_int_equal(a, 2 * PG);
	assert_int_equal(iommu_iova_magazine_free(f.mg, a, 2 * PG), 0);
	/* Cached a is not 4-page aligned: stays cached, the extent serves. */
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, 2 * PG, 4 * PG, 0, &b),
	    0);
	assert_int_equal(b, 4 * PG);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_misses, 2);
	assert_int_equal(st.ms_cached, 1);
	/* a fits a 4-page boundary: a hit. */
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, 2 * PG, 0, 4 * PG, &c),
	    0);
	assert_int_equal(c, a);
	/* Plain constraints are the plain call: a miss of class 1 page. */
	assert_int_equal(
	    iommu_iova_magazine_alloc_constrained(f.mg, PG, PG, 0, &x), 0);
	assert_int_equal(x, PG);
	/* Bypass, 64-page aligned. */
	assert_int_equal(iommu_iova_magazine_alloc_constrained(
			     f.mg, 40 * PG - 5, 64 * PG, 0, &d),
	    0);
	assert_int_equal(d % (64 * PG), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_allocs, 5);
	assert_int_equal(st.ms_hits, 1);
	assert_int_equal(st.ms_misses, 3);
	assert_int_equal(st.ms_bypass, 1);
	assert_int_equal(st.ms_requested_total, 7 * PG + 40 * PG - 5);
	assert_int_equal(st.ms_waste_units, 5);
	assert_int_equal(iommu_iova_magazine_free(f.mg, b, 2 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, c, 2 * PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, x, PG), 0);
	assert_int_equal(iommu_iova_magazine_free(f.mg, d, 40 * PG - 5), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_frees, 5);
	assert_int_equal(st.ms_requested_total, st.ms_freed_total);
	assert_int_equal(iommu_iova_magazine_flush(f.mg), 0);
	assert_int_equal(extent_regions(f.ex), 0);
	teardown(&f);
}

/* loaded + prev hold 2 * mag_size; then the depot; then the extent. */
static void
test_depot_and_overflow(void **state)
{
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	uint64_t			 iova[40];
	unsigned			 i;

	(void)state;
	setup(&f, 1024, 4, 2, test_cmocka_allocator());
	for (i = 0; i < 40; i++)
		assert_int_equal(
		    iommu_iova_magazine_alloc(f.mg, PG, &iova[i]), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(
		    iommu_iova_magazine_free(f.mg, iova[i], PG), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	/* 2 thread magazines + 2 in the depot = 16 at most, at least 12. */
	assert_true(st.ms_cached <= 16 && st.ms_cached >= 12);
	assert_true(st.ms_depot_full > 0);
	assert_int_equal(extent_regions(f.ex), st.ms_cached);
	/* Everything cached comes back before the extent is asked again. */
	for (i = 0; i < st.ms_cached; i++)
		assert_int_equal(
		    iommu_iova_magazine_alloc(f.mg, PG, &iova[i]), 0);
	{
		struct iommu_iova_magazine_stats st2;

		iommu_iova_magazine_get_stats(f.mg, &st2);
		assert_int_equal(st2.ms_misses, 40);
		assert_int_equal(st2.ms_depot_hits, 2);
		assert_int_equal(st2.ms_cached, 0);
	}
	for (i = 0; i < st.ms_cached; i++)
		assert_int_equal(
		    iommu_iova_magazine_free(f.mg, iova[i], PG), 0);
	assert_int_equal(iommu_iova_magazine_flush(f.mg), 0);
	assert_int_equal(extent_regions(f.ex), 0);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_cached, 0);
	assert_int_equal(st.ms_cached_units, 0);
	teardown(&f);
}

/* The extent is full of cached 1-page ranges; a 2-page request flushes. */
static void
test_full_extent_flushes(void **state)
{
	struct fixture f;
	uint64_t       iova[64], a;
	unsigned       i;

	(void)state;
	setup(&f, 64, 16, 8, test_cmocka_allocator());
	for (i = 0; i < 64; i++)
		assert_int_equal(
		    iommu_iova_magazine_alloc(f.mg, PG, &iova[i]), 0);
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, PG, &a), EAGAIN);
	for (i = 0; i < 64; i++)
		assert_int_equal(
		    iommu_iova_magazine_free(f.mg, iova[i], PG), 0);
	assert_int_equal(extent_regions(f.ex), 64);
	assert_int_equal(iommu_iova_magazine_alloc(f.mg, 2 * PG, &a), 0);
	assert_int_equal(extent_regions(f.ex), 1);
	assert_int_equal(iommu_iova_magazine_free(f.mg, a, 2 * PG), 0);
	teardown(&f);
}

/* Destroy returns cached ranges; outstanding ones stay the caller's. */
static void
test_destroy_returns_cached(void **state)
{
	struct fixture f;
	uint64_t       iova[10];
	unsigned       i;

	(void)state;
	setup(&f, 1024, 4, 2, test_cmocka_allocator());
	for (i = 0; i < 10; i++)
		assert_int_equal(
		    iommu_iova_magazine_alloc(f.mg, (i % 3 + 1) * PG, &iova[i]),
		    0);
	for (i = 0; i < 7; i++)
		assert_int_equal(
		    iommu_iova_magazine_free(f.mg, iova[i], (i % 3 + 1) * PG),
		    0);
	assert_int_equal(extent_regions(f.ex), 10);
	iommu_iova_magazine_destroy(f.mg);
	assert_int_equal(extent_regions(f.ex), 3);
	for (i = 7; i < 10; i++)
		assert_int_equal(iommu_extent_free(f.ex, iova[i],
				     i % 3 == 2 ? 4 * PG : (i % 3 + 1) * PG, 0),
		    0);
	assert_int_equal(extent_regions(f.ex), 0);
	iommu_extent_destroy(f.ex);
}

/* An instance's magazine hits and frees. */
static void
mag_counts(struct iommu_iova_magazine *m, uint64_t *hits, uint64_t *frees)
{
	struct iommu_iova_magazine_stats st;

	iommu_iova_magazine_get_stats(m, &st);
	*hits = st.ms_hits;
	*frees = st.ms_frees;
}

/*
 * An allocator that hands a freed block out again for the next request
 * of its size (as malloc often does), so an instance created after a
 * destroy reuses the old instance's address.  Blocks it still holds at
 * the end are freed by recycler_fini.
 */
#define RECYCLER_SLOTS 64

struct recycler {
	void  *rc_block[RECYCLER_SLOTS];
	size_t rc_size[RECYCLER_SLOTS];
};

static void *
recycler_alloc(void *ctx, size_t size)
{
	struct recycler *rc = ctx;
	void		*p;
	unsigned	 i;

	for (i = RECYCLER_SLOTS; i-- > 0;)
		if (rc->rc_block[i] != NULL && rc->rc_size[i] == size) {
			p = rc->rc_block[i];
			rc->rc_block[i] = NULL;
			return p;
		}
	return test_malloc(size);
}

static void
recycler_free(void *ctx, void *ptr, size_t size)
{
	struct recycler *rc = ctx;
	unsigned	 i;

	for (i = 0; i < RECYCLER_SLOTS; i++)
		if (rc->rc_block[i] == NULL) {
			rc->rc_block[i] = ptr;
			rc->rc_size[i] = size;
			return;
		}
	test_free(ptr);
}

static void
recycler_fini(struct recycler *rc)
{
	unsigned i;

	for (i = 0; i < RECYCLER_SLOTS; i++)
		if (rc->rc_block[i] != NULL)
			test_free(rc->rc_block[i]);
}

struct reuse_ctx {
	struct iommu_iova_magazine **rx_mg; /* the instance to use now */
	pthread_barrier_t	     rx_step;
};

static void
alloc_free_pages(struct iommu_iova_magazine *m, unsigned n)
{
	uint64_t iova;

	while (n-- > 0) {
		assert_int_equal(iommu_iova_magazine_alloc(m, PG, &iova), 0);
		assert_int_equal(iommu_iova_magazine_free(m, iova, PG), 0);
	}
}

/* Uses the instance, waits while it is replaced, uses the new one. */
static void *
reuse_worker(void *arg)
{
	struct reuse_ctx *rx = arg;

	alloc_free_pages(*rx->rx_mg, 3);
	pthread_barrier_wait(&rx->rx_step);
	pthread_barrier_wait(&rx->rx_step);
	alloc_free_pages(*rx->rx_mg, 3);
	return NULL;
}

/*
 * A thread used an instance last; another thread destroys it and creates
 * a new one at the same address (the recycler makes sure).  The first
 * thread must get a new cache for the new instance, not its freed one.
 */
static void
test_new_instance_at_a_freed_address_is_new_to_every_thread(void **state)
{
	struct recycler		    rc;
	struct iommu_allocator	    a = {recycler_alloc, recycler_free, &rc};
	struct fixture		    f;
	struct reuse_ctx	    rx;
	struct iommu_iova_magazine *gone;
	pthread_t		    th;
	uint64_t		    hits, frees;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	setup(&f, 256, 4, 2, &a);
	rx.rx_mg = &f.mg;
	assert_int_equal(pthread_barrier_init(&rx.rx_step, NULL, 2), 0);
	assert_int_equal(pthread_create(&th, NULL, reuse_worker, &rx), 0);
	pthread_barrier_wait(&rx.rx_step);
	gone = f.mg;
	teardown(&f);
	setup(&f, 256, 4, 2, &a);
	assert_ptr_equal(f.mg, gone);
	pthread_barrier_wait(&rx.rx_step);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* A miss, then two hits; three frees, all cached. */
	mag_counts(f.mg, &hits, &frees);
	assert_int_equal(hits, 2);
	assert_int_equal(frees, 3);
	pthread_barrier_destroy(&rx.rx_step);
	teardown(&f);
	recycler_fini(&rc);
}

/* Every allocation failure during create and first use unwinds cleanly. */
static void
test_alloc_failures(void **state)
{
	struct iommu_iova_magazine_config cfg;
	struct test_counting_alloc	  ca;
	struct iommu_iova_magazine	 *mg;
	struct iommu_extent		 *ex;
	unsigned long			  n;
	uint64_t			  a;
	int				  error, created = 0;

	(void)state;
	assert_int_equal(iommu_extent_create("x", PG, PG * 1025 - 1, NULL, NULL,
			     0, IOMMU_EX_NOCOALESCE, &ex),
	    0);
	for (n = 1; n < 64; n++) {
		test_counting_alloc_init(&ca);
		test_counting_alloc_fail_after(&ca, n, 0);
		iommu_iova_magazine_config_init(&cfg);
		cfg.mc_alloc = &ca.tc_ops;
		error = iommu_iova_magazine_create(ex, &cfg, &mg);
		if (error != 0) {
			assert_int_equal(error, ENOMEM);
			assert_int_equal(ca.tc_live_blocks, 0);
			continue;
		}
		created++;
		/* The thread cache may fail: the extent serves directly. */
		assert_int_equal(iommu_iova_magazine_alloc(mg, PG, &a), 0);
		assert_int_equal(iommu_iova_magazine_free(mg, a, PG), 0);
		assert_int_equal(iommu_iova_magazine_alloc(mg, PG, &a), 0);
		assert_int_equal(iommu_iova_magazine_free(mg, a, PG), 0);
		iommu_iova_magazine_destroy(mg);
		assert_int_equal(ca.tc_live_blocks, 0);
		assert_int_equal(extent_regions(ex), 0);
	}
	assert_true(created > 0);
	iommu_extent_destroy(ex);
}

/*
 * Random alloc/free against an ownership map of the extent's pages: no
 * page is ever handed out twice, and the extent holds exactly the
 * outstanding plus the cached ranges.
 */
#define RPAGES 2048
#define RSLOTS 256

static void
test_randomized(void **state)
{
	static unsigned char		 owner[RPAGES + 1];
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	struct test_rng			 rng;
	uint64_t      iova[RSLOTS], size[RSLOTS], rounded, p, live = 0;
	unsigned long it, iters = test_scale(40000);
	unsigned      s;
	int	      error;

	(void)state;
	memset(owner, 0, sizeof(owner));
	memset(size, 0, sizeof(size));
	setup(&f, RPAGES, 8, 4, test_cmocka_allocator());
	test_rng_seed(&rng, 0x6d6167);
	for (it = 0; it < iters; it++) {
		s = (unsigned)test_rng_below(&rng, RSLOTS);
		if (size[s] != 0) {
			rounded =
			    iommu_iova_magazine_rounded_size(f.mg, size[s]);
			for (p = iova[s] / PG; p < (iova[s] + rounded) / PG;
			     p++)
				owner[p] = 0;
			assert_int_equal(
			    iommu_iova_magazine_free(f.mg, iova[s], size[s]),
			    0);
			size[s] = 0;
			live--;
			continue;
		}
		size[s] = 1 +
		    test_rng_below(
			&rng, test_rng_below(&rng, 8) == 0 ? 48 * PG : 4 * PG);
		error = iommu_iova_magazine_alloc(f.mg, size[s], &iova[s]);
		if (error == EAGAIN) {
			size[s] = 0;
			continue;
		}
		assert_int_equal(error, 0);
		rounded = iommu_iova_magazine_rounded_size(f.mg, size[s]);
		assert_true(rounded >= size[s]);
		assert_true(
		    iova[s] >= PG && iova[s] + rounded <= (RPAGES + 1) * PG);
		/* A class's range is aligned to its size. */
		if (rounded <= 32 * PG)
			assert_int_equal(iova[s] % rounded, 0);
		for (p = iova[s] / PG; p < (iova[s] + rounded) / PG; p++) {
			assert_int_equal(owner[p], 0);
			owner[p] = 1;
		}
		live++;
		if (it % 512 == 0) {
			iommu_iova_magazine_get_stats(f.mg, &st);
			assert_int_equal(
			    extent_regions(f.ex), live + st.ms_cached);
			assert_int_equal(iommu_extent_check(f.ex), 0);
		}
	}
	for (s = 0; s < RSLOTS; s++)
		if (size[s] != 0)
			assert_int_equal(
			    iommu_iova_magazine_free(f.mg, iova[s], size[s]),
			    0);
	iommu_iova_magazine_destroy(f.mg);
	assert_int_equal(extent_regions(f.ex), 0);
	iommu_extent_destroy(f.ex);
}

/* Threads sharing one cache; ownership of every page by atomics. */
#define TPAGES	 8192
#define NTHREADS 4
#define TSLOTS	 48

struct tshared {
	struct iommu_iova_magazine *mg;
	_Atomic unsigned char	    owner[TPAGES + 1];
	atomic_int		    collisions;
	unsigned long		    iters;
};

struct tworker {
	struct tshared *sh;
	unsigned	id;
};

static void *
thread_main(void *arg)
{
	struct tworker *w = arg;
	struct tshared *sh = w->sh;
	struct test_rng rng;
	uint64_t	iova[TSLOTS], size[TSLOTS] = {0}, rounded, p;
	unsigned long	it;
	unsigned	s;
	unsigned char	zero;

	test_rng_seed(&rng, 77 + w->id);
	for (it = 0; it < sh->iters; it++) {
		s = (unsigned)test_rng_below(&rng, TSLOTS);
		if (size[s] != 0) {
			rounded =
			    iommu_iova_magazine_rounded_size(sh->mg, size[s]);
			for (p = iova[s] / PG; p < (iova[s] + rounded) / PG;
			     p++)
				atomic_store(&sh->owner[p], 0);
			if (iommu_iova_magazine_free(
				sh->mg, iova[s], size[s]) != 0)
				atomic_fetch_add(&sh->collisions, 1000);
			size[s] = 0;
			continue;
		}
		size[s] = 1 + test_rng_below(&rng, 5 * PG);
		if (iommu_iova_magazine_alloc(sh->mg, size[s], &iova[s]) != 0) {
			size[s] = 0;
			continue;
		}
		rounded = iommu_iova_magazine_rounded_size(sh->mg, size[s]);
		for (p = iova[s] / PG; p < (iova[s] + rounded) / PG; p++) {
			zero = 0;
			if (!atomic_compare_exchange_strong(&sh->owner[p],
				&zero, (unsigned char)(w->id + 1)))
				atomic_fetch_add(&sh->collisions, 1);
		}
	}
	for (s = 0; s < TSLOTS; s++) {
		if (size[s] == 0)
			continue;
		rounded = iommu_iova_magazine_rounded_size(sh->mg, size[s]);
		for (p = iova[s] / PG; p < (iova[s] + rounded) / PG; p++)
			atomic_store(&sh->owner[p], 0);
		iommu_iova_magazine_free(sh->mg, iova[s], size[s]);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	static struct tshared		 sh;
	struct iommu_iova_magazine_stats st;
	struct tworker			 w[NTHREADS];
	pthread_t			 tid[NTHREADS];
	struct fixture			 f;
	unsigned			 i, round;

	(void)state;
	/* Thread exit runs in other threads: the default allocator. */
	setup(&f, TPAGES, 16, 4, NULL);
	for (round = 0; round < 2; round++) {
		memset(&sh, 0, sizeof(sh));
		sh.mg = f.mg;
		sh.iters = test_scale(20000);
		for (i = 0; i < NTHREADS; i++) {
			w[i].sh = &sh;
			w[i].id = i;
			assert_int_equal(
			    pthread_create(&tid[i], NULL, thread_main, &w[i]),
			    0);
		}
		for (i = 0; i < NTHREADS; i++)
			assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(atomic_load(&sh.collisions), 0);
		iommu_iova_magazine_get_stats(f.mg, &st);
		/* Exited threads left only depot magazines behind. */
		assert_int_equal(st.ms_threads, 0);
		assert_int_equal(extent_regions(f.ex), st.ms_cached);
		assert_true(st.ms_cached <= 6u * 4 * 16);
		assert_int_equal(st.ms_waste_units, 0);
		assert_true(st.ms_hits > 0);
	}
	iommu_iova_magazine_destroy(f.mg);
	assert_int_equal(extent_regions(f.ex), 0);
	iommu_extent_destroy(f.ex);
}

/* A live thread's magazines are returned by destroy. */
struct hold {
	struct iommu_iova_magazine *mg;
	pthread_mutex_t		    mtx;
	pthread_cond_t		    cv;
	int			    stage;
};

static void *
holder_main(void *arg)
{
	struct hold *h = arg;
	uint64_t     a[3];
	unsigned     i;

	for (i = 0; i < 3; i++)
		iommu_iova_magazine_alloc(h->mg, PG, &a[i]);
	for (i = 0; i < 3; i++)
		iommu_iova_magazine_free(h->mg, a[i], PG);
	pthread_mutex_lock(&h->mtx);
	h->stage = 1;
	pthread_cond_broadcast(&h->cv);
	while (h->stage != 2)
		pthread_cond_wait(&h->cv, &h->mtx);
	pthread_mutex_unlock(&h->mtx);
	return NULL;
}

static void
test_destroy_with_live_thread(void **state)
{
	struct iommu_iova_magazine_stats st;
	struct fixture			 f;
	struct hold			 h;
	pthread_t			 tid;

	(void)state;
	setup(&f, 1024, 8, 4, NULL);
	h.mg = f.mg;
	h.stage = 0;
	pthread_mutex_init(&h.mtx, NULL);
	pthread_cond_init(&h.cv, NULL);
	assert_int_equal(pthread_create(&tid, NULL, holder_main, &h), 0);
	pthread_mutex_lock(&h.mtx);
	while (h.stage != 1)
		pthread_cond_wait(&h.cv, &h.mtx);
	pthread_mutex_unlock(&h.mtx);
	iommu_iova_magazine_get_stats(f.mg, &st);
	assert_int_equal(st.ms_threads, 1);
	assert_int_equal(st.ms_cached, 3);
	assert_int_equal(extent_regions(f.ex), 3);
	iommu_iova_magazine_destroy(f.mg);
	assert_int_equal(extent_regions(f.ex), 0);
	pthread_mutex_lock(&h.mtx);
	h.stage = 2;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mtx);
	assert_int_equal(pthread_join(tid, NULL), 0);
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.mtx);
	iommu_extent_destroy(f.ex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_invalid),
	    cmocka_unit_test(test_rounding_and_waste),
	    cmocka_unit_test(test_bypass_large),
	    cmocka_unit_test(test_class_ranges_are_size_aligned),
	    cmocka_unit_test(test_constrained),
	    cmocka_unit_test(test_depot_and_overflow),
	    cmocka_unit_test(test_full_extent_flushes),
	    cmocka_unit_test(test_destroy_returns_cached),
	    cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(
		test_new_instance_at_a_freed_address_is_new_to_every_thread),
	    cmocka_unit_test(test_randomized),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_destroy_with_live_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
