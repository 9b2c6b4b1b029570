/*
 * Tests of the pool(9)-style item pools on one or two threads: argument
 * checks, page geometry and alignment, statistics, IOMMU_PR_ZERO, the hard
 * limit with NOWAIT and with WAITOK woken by another thread's put, a
 * backing allocator that fails at the N-th call, destroy with items and
 * caches still out, per-thread caches (flush, thread exit, cross-thread
 * put, a pool destroyed under a live thread's cache), and the memory
 * checker marks on put and got items.  Many-thread stress is in
 * test_pool_threads.c, the reported use-after-put in test_pool_uaf.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "iommu_internal.h"
#include "test_alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(TEST_ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(IOMMU_HAVE_VALGRIND_H)
#include <valgrind/memcheck.h>
#endif

struct pted_like {
	uint64_t pd_va;
	uint64_t pd_pte;
	void	*pd_next;
	uint32_t pd_flags;
};

static void
create_rejects_bad_arguments(void **state)
{
	struct iommu_pool *pp = NULL;

	(void)state;
	assert_int_equal(iommu_pool_create("x", 0, 0, 0, NULL, &pp), EINVAL);
	assert_int_equal(
	    iommu_pool_create("x", IOMMU_POOL_MAX_ITEM + 1, 0, 0, NULL, &pp),
	    EINVAL);
	assert_int_equal(iommu_pool_create("x", 64, 24, 0, NULL, &pp), EINVAL);
	assert_int_equal(
	    iommu_pool_create("x", 64, 2 * IOMMU_PAGE_SIZE, 0, NULL, &pp),
	    EINVAL);
	assert_int_equal(
	    iommu_pool_create("x", 64, 0, 0x10, NULL, &pp), EINVAL);
	assert_int_equal(iommu_pool_create("x", 64, 0, 0, NULL, NULL), EINVAL);
	assert_null(pp);
	assert_null(iommu_pool_get(NULL, IOMMU_PR_NOWAIT));
	iommu_pool_put(NULL, &pp);
	iommu_pool_destroy(NULL);
}

static void
geometry_and_alignment(void **state)
{
	static const struct {
		size_t size, align, pgsize, ipp;
	} cases[] = {
	    /* 16-byte header, 8-byte blocks: worst-case pad is align - 8. */
	    {sizeof(struct pted_like), 0, 4096, (4096 - 16) / 32},
	    {1, 0, 4096, (4096 - 16) / 16},
	    {100, 64, 4096, (4096 - 16 - 56) / 128},
	    {4096, 4096, 32768, (32768 - 16 - 4088) / 4096},
	    {8192, 0, 65536, (65536 - 16) / 8192},
	};
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	uint8_t		       *items[64];
	size_t			i, j, n;

	(void)state;
	for (i = 0; i < IOMMU_ARRAY_SIZE(cases); i++) {
		assert_int_equal(
		    iommu_pool_create("geo", cases[i].size, cases[i].align, 0,
			test_cmocka_allocator(), &pp),
		    0);
		iommu_pool_get_stats(pp, &st);
		assert_int_equal(st.pst_page_size, cases[i].pgsize);
		assert_int_equal(st.pst_items_per_page, cases[i].ipp);
		n = cases[i].ipp + 2 < 64 ? cases[i].ipp + 2 : 64;
		for (j = 0; j < n; j++) {
			items[j] = iommu_pool_get(pp, IOMMU_PR_NOWAIT);
			assert_non_null(items[j]);
			assert_int_equal((uintptr_t)items[j] %
				(cases[i].align ? cases[i].align : 8),
			    0);
			/* The whole item is writable. */
			memset(items[j], (int)j, cases[i].size);
		}
		for (j = 0; j < n; j++) {
			assert_int_equal(items[j][0], (uint8_t)j);
			assert_int_equal(
			    items[j][cases[i].size - 1], (uint8_t)j);
		}
		iommu_pool_get_stats(pp, &st);
		assert_int_equal(
		    st.pst_pages, (n + cases[i].ipp - 1) / cases[i].ipp);
		for (j = 0; j < n; j++)
			iommu_pool_put(pp, items[j]);
		iommu_pool_destroy(pp);
	}
}

static void
statistics_count_gets_puts_pages_and_peaks(void **state)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	void		       *it[300];
	size_t			i, ipp;

	(void)state;
	assert_int_equal(iommu_pool_create("stats", sizeof(struct pted_like), 0,
			     0, test_cmocka_allocator(), &pp),
	    0);
	iommu_pool_get_stats(pp, &st);
	ipp = st.pst_items_per_page;
	assert_int_equal(st.pst_pages, 0);
	assert_int_equal(st.pst_hardlimit, SIZE_MAX);
	for (i = 0; i < 300; i++)
		assert_non_null(it[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	for (i = 0; i < 100; i++)
		iommu_pool_put(pp, it[i]);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_gets, 300);
	assert_int_equal(st.pst_puts, 100);
	assert_int_equal(st.pst_fails, 0);
	assert_int_equal(st.pst_items_out, 200);
	assert_int_equal(st.pst_items_hwm, 300);
	assert_int_equal(st.pst_pages, (300 + ipp - 1) / ipp);
	assert_int_equal(st.pst_pages_hwm, st.pst_pages);
	assert_int_equal(st.pst_cache_hits, 0);
	assert_int_equal(st.pst_items_cached, 0);
	/* Freed items are reused before any new page is taken. */
	for (i = 0; i < 100; i++)
		assert_non_null(it[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_pages, (300 + ipp - 1) / ipp);
	assert_int_equal(st.pst_items_hwm, 300);
	assert_null(iommu_pool_get(pp, 0x40)); /* unknown flag */
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_fails, 1);
	for (i = 0; i < 300; i++)
		iommu_pool_put(pp, it[i]);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_out, 0);
	iommu_pool_destroy(pp);
}

static void
zero_flag_zeroes_a_reused_item(void **state)
{
	struct iommu_pool *pp;
	uint8_t		  *p, *q;
	size_t		   i;

	(void)state;
	assert_int_equal(
	    iommu_pool_create("zero", 200, 0, 0, test_cmocka_allocator(), &pp),
	    0);
	p = iommu_pool_get(pp, IOMMU_PR_NOWAIT);
	assert_non_null(p);
	memset(p, 0xff, 200);
	iommu_pool_put(pp, p);
	q = iommu_pool_get(pp, IOMMU_PR_NOWAIT | IOMMU_PR_ZERO);
	assert_ptr_equal(p, q); /* LIFO reuse: the dirty item */
	for (i = 0; i < 200; i++)
		assert_int_equal(q[i], 0);
	iommu_pool_put(pp, q);
	iommu_pool_destroy(pp);
}

static void
hard_limit_with_nowait(void **state)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	void		       *it[4];
	int			i;

	(void)state;
	assert_int_equal(
	    iommu_pool_create("limit", 64, 0, 0, test_cmocka_allocator(), &pp),
	    0);
	assert_int_equal(iommu_pool_sethardlimit(pp, 3), 0);
	for (i = 0; i < 3; i++)
		assert_non_null(it[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	assert_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	assert_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT | IOMMU_PR_ZERO));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_fails, 2);
	assert_int_equal(st.pst_hardlimit, 3);
	/* Below what is out: refused, limit unchanged. */
	assert_int_equal(iommu_pool_sethardlimit(pp, 2), EINVAL);
	iommu_pool_put(pp, it[2]);
	assert_non_null(it[2] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	assert_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	assert_int_equal(iommu_pool_sethardlimit(pp, SIZE_MAX), 0);
	assert_non_null(it[3] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_hwm, 4);
	for (i = 0; i < 4; i++)
		iommu_pool_put(pp, it[i]);
	iommu_pool_destroy(pp);
}

/* get_n / put_n: all or nothing, with and without per-thread caches. */
static void
get_n_is_all_or_nothing(void **state)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	void		       *it[40], *more[8];
	int			flags, i, j;

	(void)state;
	for (flags = 0; flags <= IOMMU_POOL_PERTHREAD; flags++) {
		assert_int_equal(iommu_pool_create("n", 64, 0, flags,
				     test_cmocka_allocator(), &pp),
		    0);
		/* More than a cache holds: refills along the way. */
		assert_int_equal(iommu_pool_get_n(pp,
				     IOMMU_PR_NOWAIT | IOMMU_PR_ZERO, it, 40),
		    0);
		for (i = 0; i < 40; i++) {
			assert_non_null(it[i]);
			assert_int_equal(((uint8_t *)it[i])[63], 0);
			for (j = 0; j < i; j++)
				assert_ptr_not_equal(it[i], it[j]);
		}
		assert_int_equal(iommu_pool_get_n(pp, 0x400, more, 2), EINVAL);
		iommu_pool_put_n(pp, it, 40);
		/* At the limit: nothing taken, nothing lost. */
		assert_int_equal(iommu_pool_sethardlimit(pp, 6), 0);
		assert_int_equal(
		    iommu_pool_get_n(pp, IOMMU_PR_NOWAIT, it, 4), 0);
		assert_int_equal(
		    iommu_pool_get_n(pp, IOMMU_PR_NOWAIT, more, 3), ENOMEM);
		iommu_pool_get_stats(pp, &st);
		assert_int_equal(st.pst_items_out, 4);
		assert_int_equal(
		    iommu_pool_get_n(pp, IOMMU_PR_NOWAIT, more, 2), 0);
		it[4] = more[0];
		it[5] = NULL; /* skipped */
		iommu_pool_put_n(pp, it, 6);
		iommu_pool_put(pp, more[1]);
		iommu_pool_get_stats(pp, &st);
		assert_int_equal(st.pst_items_out, 0);
		assert_int_equal(st.pst_gets, st.pst_puts);
		iommu_pool_destroy(pp);
	}
}

struct putter {
	struct iommu_pool *pp;
	void		  *item;
};

/* Puts its item once the main thread is asleep in a WAITOK get. */
static void *
put_when_waiting(void *arg)
{
	struct putter	       *pu = arg;
	struct iommu_pool_stats st;
	struct timespec		ms = {0, 1000000};

	do {
		nanosleep(&ms, NULL);
		iommu_pool_get_stats(pu->pp, &st);
	} while (st.pst_waits == 0);
	iommu_pool_put(pu->pp, pu->item);
	return NULL;
}

static void
hard_limit_waitok_sleeps_until_a_put(unsigned flags)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	struct putter		pu;
	pthread_t		t;
	void		       *a, *b;

	assert_int_equal(iommu_pool_create("wait", 64, 0, flags, NULL, &pp), 0);
	assert_int_equal(iommu_pool_sethardlimit(pp, 2), 0);
	assert_non_null(a = iommu_pool_get(pp, IOMMU_PR_WAITOK));
	assert_non_null(b = iommu_pool_get(pp, IOMMU_PR_WAITOK));
	pu.pp = pp;
	pu.item = b;
	assert_int_equal(pthread_create(&t, NULL, put_when_waiting, &pu), 0);
	/* Blocks until the other thread puts b, then gets it. */
	assert_ptr_equal(iommu_pool_get(pp, IOMMU_PR_WAITOK), b);
	pthread_join(t, NULL);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_waits, 1);
	assert_int_equal(st.pst_fails, 0);
	assert_int_equal(st.pst_items_out, 2);
	iommu_pool_put(pp, a);
	iommu_pool_put(pp, b);
	iommu_pool_destroy(pp);
}

static void
hard_limit_with_waitok(void **state)
{
	(void)state;
	hard_limit_waitok_sleeps_until_a_put(0);
	hard_limit_waitok_sleeps_until_a_put(IOMMU_POOL_PERTHREAD);
}

static void
failing_backing_allocator_gives_null_without_leaks(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_pool_stats	   st;
	struct iommu_pool	  *pp;
	void			  *it[200];
	size_t			   i, n, ipp;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(
	    iommu_pool_create("fail", 48, 0, 0, &tc.tc_ops, &pp), 0);
	iommu_pool_get_stats(pp, &st);
	ipp = st.pst_items_per_page;
	/* The first page allocation fails: NULL, counted, nothing held. */
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_null(iommu_pool_get(pp, IOMMU_PR_WAITOK));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_fails, 1);
	assert_int_equal(st.pst_pages, 0);
	assert_int_equal(st.pst_items_out, 0);
	assert_non_null(it[0] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_pages, 1);
	/* From now on every page allocation fails: one page's worth only. */
	test_counting_alloc_fail_after(&tc, 1, 1);
	for (n = 1; n < 200; n++)
		if ((it[n] = iommu_pool_get(pp, IOMMU_PR_NOWAIT)) == NULL)
			break;
	assert_int_equal(n, ipp);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_fails, 2);
	assert_int_equal(st.pst_pages, 1);
	for (i = 0; i < n; i++)
		iommu_pool_put(pp, it[i]);
	iommu_pool_put(pp, iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_destroy(pp);
	assert_int_equal(tc.tc_live_blocks, 0);
	assert_int_equal(tc.tc_live_bytes, 0);
}

static void
create_fails_cleanly_when_allocator_fails(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_pool	  *pp = NULL;

	(void)state;
	test_counting_alloc_init(&tc);
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_int_equal(
	    iommu_pool_create("f", 8, 0, IOMMU_POOL_PERTHREAD, &tc.tc_ops, &pp),
	    ENOMEM);
	assert_null(pp);
	/* A per-thread cache that cannot be allocated: the shared path. */
	assert_int_equal(
	    iommu_pool_create("f", 8, 0, IOMMU_POOL_PERTHREAD, &tc.tc_ops, &pp),
	    0);
	test_counting_alloc_fail_after(&tc, 1, 0);
	iommu_pool_put(pp, iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_destroy(pp);
	assert_int_equal(tc.tc_live_blocks, 0);
}

static void
destroy_with_items_out_releases_all_pages(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_pool	  *pp;
	int			   i;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(iommu_pool_create("out", 512, 0, IOMMU_POOL_PERTHREAD,
			     &tc.tc_ops, &pp),
	    0);
	for (i = 0; i < 40; i++)
		assert_non_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_put(pp, iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	iommu_pool_destroy(pp);
	assert_int_equal(tc.tc_live_blocks, 0);
}

static void
cache_serves_gets_and_flushes_on_request(void **state)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	void		       *it[8], *burst[200];
	int			i;

	(void)state;
	assert_int_equal(
	    iommu_pool_create("cache", 64, 0, IOMMU_POOL_PERTHREAD, NULL, &pp),
	    0);
	for (i = 0; i < 8; i++)
		assert_non_null(it[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	for (i = 0; i < 8; i++)
		iommu_pool_put(pp, it[i]);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_out, 0);
	assert_true(st.pst_items_cached >= 8);
	/* The first get refilled the cache; the next seven hit it. */
	assert_int_equal(st.pst_cache_hits, 7);
	assert_non_null(it[0] = iommu_pool_get(pp, IOMMU_PR_ZERO));
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_cache_hits, 8);
	iommu_pool_put(pp, it[0]);
	/* A cache is bounded: a burst of puts spills to the shared pool. */
	for (i = 0; i < 200; i++)
		assert_non_null(burst[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	for (i = 0; i < 200; i++)
		iommu_pool_put(pp, burst[i]);
	iommu_pool_get_stats(pp, &st);
	assert_true(st.pst_items_cached > 0 && st.pst_items_cached <= 64);
	assert_int_equal(iommu_pool_cache_flush(pp), 0);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_cached, 0);
	assert_int_equal(st.pst_gets, 209);
	assert_int_equal(st.pst_puts, 209);
	iommu_pool_destroy(pp);
}

struct cache_thread {
	struct iommu_pool *pp;
	void		  *items[40];
	int		   nget, nput;
	pthread_barrier_t *bar; /* optional: hold the thread alive */
};

static void *
get_put_then_exit(void *arg)
{
	struct cache_thread *ct = arg;
	int		     i;

	for (i = 0; i < ct->nget; i++)
		ct->items[i] = iommu_pool_get(ct->pp, IOMMU_PR_NOWAIT);
	for (i = 0; i < ct->nput; i++)
		iommu_pool_put(ct->pp, ct->items[i]);
	if (ct->bar != NULL) {
		pthread_barrier_wait(ct->bar); /* stats taken while alive */
		pthread_barrier_wait(ct->bar); /* main is done with us */
	}
	return NULL;
}

static void
thread_exit_returns_its_cache(void **state)
{
	struct cache_thread	ct = {0};
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	pthread_barrier_t	bar;
	pthread_t		t;

	(void)state;
	assert_int_equal(
	    iommu_pool_create("exit", 64, 0, IOMMU_POOL_PERTHREAD, NULL, &pp),
	    0);
	pthread_barrier_init(&bar, NULL, 2);
	ct.pp = pp;
	ct.nget = ct.nput = 20;
	ct.bar = &bar;
	assert_int_equal(pthread_create(&t, NULL, get_put_then_exit, &ct), 0);
	pthread_barrier_wait(&bar);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_out, 0);
	assert_true(st.pst_items_cached > 0);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_items_cached, 0);
	assert_int_equal(st.pst_gets, 20);
	assert_int_equal(st.pst_puts, 20);
	/* Limits count only what callers and live caches hold. */
	assert_int_equal(iommu_pool_sethardlimit(pp, 0), 0);
	assert_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	pthread_barrier_destroy(&bar);
	iommu_pool_destroy(pp);
}

static void
items_put_by_another_thread(void **state)
{
	struct cache_thread	getter = {0}, putter = {0};
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	pthread_t		t;
	int			i;

	(void)state;
	assert_int_equal(
	    iommu_pool_create("xput", 64, 0, IOMMU_POOL_PERTHREAD, NULL, &pp),
	    0);
	getter.pp = pp;
	getter.nget = 40;
	assert_int_equal(
	    pthread_create(&t, NULL, get_put_then_exit, &getter), 0);
	pthread_join(t, NULL);
	putter.pp = pp;
	putter.nput = 40;
	for (i = 0; i < 40; i++) {
		assert_non_null(getter.items[i]);
		putter.items[i] = getter.items[i];
	}
	assert_int_equal(
	    pthread_create(&t, NULL, get_put_then_exit, &putter), 0);
	pthread_join(t, NULL);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_gets, 40);
	assert_int_equal(st.pst_puts, 40);
	assert_int_equal(st.pst_items_out, 0);
	assert_int_equal(st.pst_items_cached, 0);
	/* All 40 are free again: a limit of 40 admits 40 gets here. */
	assert_int_equal(iommu_pool_sethardlimit(pp, 40), 0);
	for (i = 0; i < 40; i++)
		assert_non_null(
		    getter.items[i] = iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	assert_null(iommu_pool_get(pp, IOMMU_PR_NOWAIT));
	/* And the main thread puts what it got, with the limit in force. */
	for (i = 0; i < 40; i++)
		iommu_pool_put(pp, getter.items[i]);
	iommu_pool_destroy(pp);
}

static void
destroy_reclaims_caches_of_live_threads(void **state)
{
	struct test_counting_alloc tc;
	struct cache_thread	   ct = {0};
	struct iommu_pool	  *pp;
	pthread_barrier_t	   bar;
	pthread_t		   t;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(iommu_pool_create("live", 64, 0, IOMMU_POOL_PERTHREAD,
			     &tc.tc_ops, &pp),
	    0);
	pthread_barrier_init(&bar, NULL, 2);
	ct.pp = pp;
	ct.nget = ct.nput = 10;
	ct.bar = &bar;
	assert_int_equal(pthread_create(&t, NULL, get_put_then_exit, &ct), 0);
	pthread_barrier_wait(&bar);
	/* The thread still owns a cache; destroy takes it back. */
	iommu_pool_destroy(pp);
	assert_int_equal(tc.tc_live_blocks, 0);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL); /* its exit must not touch the dead pool */
	pthread_barrier_destroy(&bar);
}

/* Put items are no-access, got items accessible (under a checker). */
static void
put_items_are_marked_no_access(void **state)
{
	struct iommu_pool *pp;
	uint64_t	  *p;
	unsigned	   flags[2] = {0, IOMMU_POOL_PERTHREAD};
	int		   i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(
		    iommu_pool_create("mark", 64, 0, flags[i], NULL, &pp), 0);
		p = iommu_pool_get(pp, IOMMU_PR_ZERO);
		assert_non_null(p);
#if defined(TEST_ASAN)
		assert_false(__asan_region_is_poisoned(p, 64));
		iommu_pool_put(pp, p);
		assert_true(__asan_address_is_poisoned(p));
		assert_true(__asan_address_is_poisoned((char *)p + 63));
#elif defined(IOMMU_HAVE_VALGRIND_H)
		{
			unsigned char vbits[64];

			if (RUNNING_ON_VALGRIND) {
				assert_int_equal(
				    VALGRIND_GET_VBITS(p, vbits, 64), 1);
				iommu_pool_put(pp, p);
				/* 3: not addressable (and nothing reported) */
				assert_int_equal(
				    VALGRIND_GET_VBITS(p, vbits, 1), 3);
				assert_int_equal(VALGRIND_GET_VBITS(
						     (char *)p + 63, vbits, 1),
				    3);
			} else {
				iommu_pool_put(pp, p);
			}
		}
#else
		iommu_pool_put(pp, p);
#endif
		/* Got again: accessible; without ZERO, undefined. */
		p = iommu_pool_get(pp, IOMMU_PR_NOWAIT);
		assert_non_null(p);
		p[7] = 1;
#if defined(IOMMU_HAVE_VALGRIND_H) && !defined(TEST_ASAN)
		if (RUNNING_ON_VALGRIND) {
			unsigned char vbits[8];

			assert_int_equal(VALGRIND_GET_VBITS(p, vbits, 8), 1);
			assert_int_equal(vbits[0], 0xff); /* undefined */
		}
#endif
		iommu_pool_put(pp, p);
		iommu_pool_destroy(pp);
	}
}

/* A second put of the same item kills the process with a message. */
static void
double_put_panics(void **state)
{
	struct iommu_pool *pp;
	void		  *p;
	pid_t		   pid;
	int		   status;

	(void)state;
#if defined(IOMMU_HAVE_VALGRIND_H)
	if (RUNNING_ON_VALGRIND)
		skip(); /* the child's abort would be a Valgrind error */
#endif
	assert_int_equal(iommu_pool_create("dbl", 64, 0, 0, NULL, &pp), 0);
	p = iommu_pool_get(pp, IOMMU_PR_ZERO);
	iommu_pool_put(pp, p);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(STDERR_FILENO);
		iommu_pool_put(pp, p);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
#if IOMMU_DEBUG >= 1 || defined(TEST_ASAN)
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
	iommu_pool_destroy(pp);
}

/* A put item written to is caught when it is next handed out. */
static void
write_after_put_panics_on_next_get(void **state)
{
	struct iommu_pool *pp;
	uint64_t	  *p;
	pid_t		   pid;
	int		   status;

	(void)state;
#if defined(IOMMU_HAVE_VALGRIND_H)
	if (RUNNING_ON_VALGRIND)
		skip(); /* Valgrind reports the write itself (test_pool_uaf) */
#endif
	assert_int_equal(iommu_pool_create("wap", 64, 0, 0, NULL, &pp), 0);
	p = iommu_pool_get(pp, IOMMU_PR_ZERO);
	iommu_pool_put(pp, p);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(STDERR_FILENO);
		((volatile uint64_t *)p)[1] = 42;
		iommu_pool_get(pp, IOMMU_PR_NOWAIT);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
#if defined(TEST_ASAN)
	/* ASan stops at the write: abort or exit code per ASAN_OPTIONS. */
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#elif IOMMU_DEBUG >= 1
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
	iommu_pool_destroy(pp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_rejects_bad_arguments),
	    cmocka_unit_test(geometry_and_alignment),
	    cmocka_unit_test(statistics_count_gets_puts_pages_and_peaks),
	    cmocka_unit_test(zero_flag_zeroes_a_reused_item),
	    cmocka_unit_test(hard_limit_with_nowait),
	    cmocka_unit_test(hard_limit_with_waitok),
	    cmocka_unit_test(
		failing_backing_allocator_gives_null_without_leaks),
	    cmocka_unit_test(create_fails_cleanly_when_allocator_fails),
	    cmocka_unit_test(destroy_with_items_out_releases_all_pages),
	    cmocka_unit_test(cache_serves_gets_and_flushes_on_request),
	    cmocka_unit_test(thread_exit_returns_its_cache),
	    cmocka_unit_test(items_put_by_another_thread),
	    cmocka_unit_test(destroy_reclaims_caches_of_live_threads),
	    cmocka_unit_test(put_items_are_marked_no_access),
	    cmocka_unit_test(get_n_is_all_or_nothing),
	    cmocka_unit_test(double_put_panics),
	    cmocka_unit_test(write_after_put_panics_on_next_get),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
