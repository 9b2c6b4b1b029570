/*
 * Many threads hammering one pool: random get/put with per-thread stamps
 * (an item handed to two holders at once shows up as a torn stamp), items
 * passed through a mailbox and put by a thread other than the getter, with
 * and without per-thread caches, and WAITOK gets contending on a small
 * hard limit.  At the end every count must balance and every cache must be
 * back in the shared pool.  Run under TSan by the tsan preset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/pool.h>

#include "test_alloc.h"

#define NTHREADS 8
#define NHELD	 24
#define ITEMSZ	 48
#define MAILBOX	 64

struct mailbox {
	pthread_mutex_t mb_lock;
	void	       *mb_items[MAILBOX];
	int		mb_n;
};

struct worker {
	struct iommu_pool *w_pool;
	struct mailbox	  *w_mb;
	unsigned	   w_id;
	unsigned long	   w_iters;
	unsigned long	   w_bad;
};

static void
stamp(uint64_t *item, uint64_t v)
{
	size_t i;

	for (i = 0; i < ITEMSZ / 8; i++)
		item[i] = v;
}

static int
stamp_ok(const uint64_t *item)
{
	size_t i;

	for (i = 1; i < ITEMSZ / 8; i++)
		if (item[i] != item[0])
			return 0;
	return 1;
}

static void *
hammer(void *arg)
{
	struct worker  *w = arg;
	struct test_rng rng;
	uint64_t       *held[NHELD], *p;
	unsigned long	it, seq = 0;
	int		n = 0, k;

	test_rng_seed(&rng, w->w_id);
	for (it = 0; it < w->w_iters; it++) {
		switch (test_rng_below(&rng, 4)) {
		case 0:
		case 1: /* get */
			if (n == NHELD)
				break;
			p = iommu_pool_get(w->w_pool, IOMMU_PR_NOWAIT);
			if (p == NULL) {
				w->w_bad++;
				break;
			}
			stamp(p, ((uint64_t)w->w_id << 48) | seq++);
			held[n++] = p;
			break;
		case 2: /* put one of ours */
			if (n == 0)
				break;
			k = (int)test_rng_below(&rng, (uint64_t)n);
			p = held[k];
			held[k] = held[--n];
			if (!stamp_ok(p) || p[0] >> 48 != w->w_id)
				w->w_bad++;
			iommu_pool_put(w->w_pool, p);
			break;
		case 3: /* exchange with the mailbox: put someone else's */
			pthread_mutex_lock(&w->w_mb->mb_lock);
			if (n > 0 && w->w_mb->mb_n < MAILBOX) {
				w->w_mb->mb_items[w->w_mb->mb_n++] = held[--n];
				p = NULL;
			} else if (w->w_mb->mb_n > 0) {
				p = w->w_mb->mb_items[--w->w_mb->mb_n];
			} else {
				p = NULL;
			}
			pthread_mutex_unlock(&w->w_mb->mb_lock);
			if (p != NULL) {
				if (!stamp_ok(p))
					w->w_bad++;
				iommu_pool_put(w->w_pool, p);
			}
			break;
		}
	}
	while (n > 0)
		iommu_pool_put(w->w_pool, held[--n]);
	return NULL;
}

static void
run_hammer(unsigned flags)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	struct mailbox		mb;
	struct worker		w[NTHREADS];
	pthread_t		t[NTHREADS];
	unsigned		i;

	assert_int_equal(
	    iommu_pool_create("hammer", ITEMSZ, 0, flags, NULL, &pp), 0);
	pthread_mutex_init(&mb.mb_lock, NULL);
	mb.mb_n = 0;
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){pp, &mb, i + 1, test_scale(20000), 0};
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].w_bad, 0);
	}
	while (mb.mb_n > 0)
		iommu_pool_put(pp, mb.mb_items[--mb.mb_n]);
	assert_int_equal(iommu_pool_cache_flush(pp), 0);
	iommu_pool_get_stats(pp, &st);
	assert_int_equal(st.pst_gets, st.pst_puts);
	assert_int_equal(st.pst_items_out, 0);
	assert_int_equal(st.pst_items_cached, 0);
	assert_int_equal(st.pst_fails, 0);
	assert_true(st.pst_gets > 0);
	/* Held at most NHELD per thread plus the mailbox, plus caches. */
	assert_true(st.pst_items_hwm <= NTHREADS * (NHELD + 48) + MAILBOX);
	if (flags & IOMMU_POOL_PERTHREAD)
		assert_true(st.pst_cache_hits > st.pst_gets / 2);
	/* Every item is free again: the limit admits all of them. */
	assert_int_equal(iommu_pool_sethardlimit(pp, 0), 0);
	pthread_mutex_destroy(&mb.mb_lock);
	iommu_pool_destroy(pp);
}

static void
many_threads_shared_pool(void **state)
{
	(void)state;
	run_hammer(0);
}

static void
many_threads_per_thread_caches(void **state)
{
	(void)state;
	run_hammer(IOMMU_POOL_PERTHREAD);
}

struct waiter {
	struct iommu_pool *wt_pool;
	unsigned long	   wt_iters;
	unsigned long	   wt_bad;
};

static void *
get_put_waitok(void *arg)
{
	struct waiter *wt = arg;
	unsigned long  i;
	uint64_t      *p;

	for (i = 0; i < wt->wt_iters; i++) {
		p = iommu_pool_get(
		    wt->wt_pool, IOMMU_PR_WAITOK | IOMMU_PR_ZERO);
		if (p == NULL || p[0] != 0) {
			wt->wt_bad++;
			continue;
		}
		p[0] = (uint64_t)(uintptr_t)wt;
		iommu_pool_put(wt->wt_pool, p);
	}
	return NULL;
}

static void
waitok_contention_on_a_small_limit(void **state)
{
	struct iommu_pool_stats st;
	struct iommu_pool      *pp;
	struct waiter		wt[4];
	pthread_t		t[4];
	unsigned		flags[2] = {0, IOMMU_POOL_PERTHREAD};
	unsigned		f, i;

	(void)state;
	for (f = 0; f < 2; f++) {
		assert_int_equal(
		    iommu_pool_create("waitok", 64, 0, flags[f], NULL, &pp), 0);
		assert_int_equal(iommu_pool_sethardlimit(pp, 2), 0);
		for (i = 0; i < 4; i++) {
			wt[i] = (struct waiter){pp, test_scale(5000), 0};
			assert_int_equal(
			    pthread_create(&t[i], NULL, get_put_waitok, &wt[i]),
			    0);
		}
		for (i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(wt[i].wt_bad, 0);
		}
		iommu_pool_get_stats(pp, &st);
		assert_int_equal(st.pst_gets, 4 * test_scale(5000));
		assert_int_equal(st.pst_items_out, 0);
		assert_true(st.pst_items_hwm <= 2);
		iommu_pool_destroy(pp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_threads_shared_pool),
	    cmocka_unit_test(many_threads_per_thread_caches),
	    cmocka_unit_test(waitok_contention_on_a_small_limit),
	};

	return cmocka_run_group_tests_name("pool_threads", tests, NULL, NULL);
}
