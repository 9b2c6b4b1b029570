/*
 * Concurrency tests of the extent allocator through its internal lock:
 * several threads allocating and freeing on one extent, with a shared
 * ownership map (atomics) that catches two threads ever holding the same
 * unit, and the waiting variants (space, fixed descriptors, a split that
 * needs a descriptor) woken by a free from another thread.  The tsan
 * preset runs this suite.
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
#include <time.h>

#include <cmocka.h>

#include <iommu/extent.h>

#include "test_alloc.h"
#include "test_extent_util.h"

#define NTHREADS 4
#define W	 4096u
#define BASE	 0x100000u
#define PERTHR	 32 /* outstanding allocations per thread */

struct shared {
	struct iommu_extent  *ex;
	int		      coalesce;
	unsigned long	      iters;
	_Atomic unsigned char owner[W];
	atomic_int	      failures;
};

struct worker {
	struct shared		  *sh;
	int			   id;
	uint64_t		   start[PERTHR], size[PERTHR];
	struct iommu_extent_region descr[PERTHR];
};

static void
claim(struct shared *sh, uint64_t s, uint64_t size, int id)
{
	uint64_t      u;
	unsigned char zero;

	for (u = s - BASE; u < s - BASE + size; u++) {
		zero = 0;
		if (!atomic_compare_exchange_strong(
			&sh->owner[u], &zero, (unsigned char)id))
			atomic_fetch_add(&sh->failures, 1);
	}
}

static void
release(struct shared *sh, uint64_t s, uint64_t size, int id)
{
	uint64_t u;

	for (u = s - BASE; u < s - BASE + size; u++)
		if (atomic_exchange(&sh->owner[u], 0) != id)
			atomic_fetch_add(&sh->failures, 1);
}

/* Frees slot i, in two pieces on a coalescing extent. */
static void
give_back(struct worker *w, int i)
{
	struct shared *sh = w->sh;
	uint64_t       s = w->start[i], n = w->size[i], half;

	release(sh, s, n, w->id);
	if (sh->coalesce && n > 1) {
		half = n / 2;
		if (iommu_extent_free(sh->ex, s + half, n - half, 0) != 0 ||
		    iommu_extent_free(sh->ex, s, half, 0) != 0)
			atomic_fetch_add(&sh->failures, 1);
	} else if (iommu_extent_free(sh->ex, s, n, 0) != 0) {
		atomic_fetch_add(&sh->failures, 1);
	}
	w->size[i] = 0;
}

static void *
work(void *arg)
{
	struct worker  *w = arg;
	struct shared  *sh = w->sh;
	struct test_rng rng;
	unsigned long	it;
	uint64_t	size, align, r;
	int		i, error, flags;

	test_rng_seed(&rng, 1000 + (uint64_t)w->id);
	for (it = 0; it < sh->iters; it++) {
		i = (int)test_rng_below(&rng, PERTHR);
		if (w->size[i] != 0) {
			give_back(w, i);
			continue;
		}
		size = 1 + test_rng_below(&rng, 16);
		align = (uint64_t)1 << test_rng_below(&rng, 4);
		flags = test_rng_below(&rng, 2) ? IOMMU_EX_FAST : 0;
		if (!sh->coalesce && test_rng_below(&rng, 2))
			error = iommu_extent_alloc_with_descr(sh->ex, size,
			    align, 0, 64, flags, &w->descr[i], &r);
		else
			error = iommu_extent_alloc(
			    sh->ex, size, align, 0, 64, flags, &r);
		if (error == EAGAIN)
			continue;
		if (error != 0 || r % align != 0 ||
		    r / 64 != (r + size - 1) / 64) {
			atomic_fetch_add(&sh->failures, 1);
			continue;
		}
		claim(sh, r, size, w->id);
		w->start[i] = r;
		w->size[i] = size;
	}
	for (i = 0; i < PERTHR; i++)
		if (w->size[i] != 0)
			give_back(w, i);
	return NULL;
}

static void
stress(int coalesce)
{
	struct shared *sh;
	struct worker  w[NTHREADS];
	pthread_t      t[NTHREADS];
	int	       i;

	sh = calloc(1, sizeof(*sh));
	assert_non_null(sh);
	sh->coalesce = coalesce;
	sh->iters = test_scale(20000);
	assert_int_equal(iommu_extent_create("threads", BASE, BASE + W - 1,
			     test_cmocka_allocator(), NULL, 0,
			     coalesce ? 0 : IOMMU_EX_NOCOALESCE, &sh->ex),
	    0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].sh = sh;
		w[i].id = i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&sh->failures), 0);
	test_extent_expect(sh->ex, NULL, 0);
	iommu_extent_destroy(sh->ex);
	free(sh);
}

static void
threads_no_coalesce(void **state)
{
	(void)state;
	stress(0);
}

static void
threads_coalescing_partial_frees(void **state)
{
	(void)state;
	stress(1);
}

/* One blocking call run in a helper thread. */
enum op { OP_ALLOC, OP_REGION, OP_FREE };

struct waiter {
	struct iommu_extent *ex;
	enum op		     op;
	uint64_t	     a, size;
	int		     flags;
	uint64_t	     result;
	int		     error;
	atomic_int	    *released; /* set by main before it frees */
	int		     saw_release;
};

static void *
wait_thread(void *arg)
{
	struct waiter *wt = arg;

	switch (wt->op) {
	case OP_ALLOC:
		wt->error = iommu_extent_alloc(
		    wt->ex, wt->size, 1, 0, 0, wt->flags, &wt->result);
		break;
	case OP_REGION:
		wt->error = iommu_extent_alloc_region(
		    wt->ex, wt->a, wt->size, wt->flags);
		break;
	case OP_FREE:
		wt->error =
		    iommu_extent_free(wt->ex, wt->a, wt->size, wt->flags);
		break;
	}
	wt->saw_release = atomic_load(wt->released);
	return NULL;
}

static void
nap(void)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/*
 * Starts wt, lets it block, then frees [start, start + size) on its
 * extent; the waiter must have returned only after that free.
 */
static void
run_waiter(struct waiter *wt, uint64_t start, uint64_t size)
{
	atomic_int released = 0;
	pthread_t  t;

	wt->released = &released;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, wt), 0);
	nap();
	atomic_store(&released, 1);
	assert_int_equal(iommu_extent_free(wt->ex, start, size, 0), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(wt->error, 0);
	assert_int_equal(wt->saw_release, 1);
}

static void
waitspace_alloc_sleeps_until_a_free(void **state)
{
	struct iommu_extent *ex = NULL;
	struct waiter	     wt = {0};

	(void)state;
	assert_int_equal(iommu_extent_create("w", 0, 0xf, NULL, NULL, 0,
			     IOMMU_EX_NOCOALESCE, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0, 8, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 8, 8, 0), 0);
	/* without WAITSPACE: no room, at once */
	assert_int_equal(
	    iommu_extent_alloc(ex, 4, 1, 0, 0, 0, &wt.result), EAGAIN);
	wt.ex = ex;
	wt.op = OP_ALLOC;
	wt.size = 4;
	wt.flags = IOMMU_EX_WAITSPACE;
	run_waiter(&wt, 8, 8);
	assert_int_equal(wt.result, 8);
	iommu_extent_destroy(ex);
}

static void
waitspace_region_sleeps_until_the_range_is_free(void **state)
{
	struct iommu_extent    *ex = NULL;
	struct waiter		wt = {0};
	const struct test_range want[] = {{0x10, 0x1f}};

	(void)state;
	assert_int_equal(
	    iommu_extent_create("w", 0, 0xff, NULL, NULL, 0, 0, &ex), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x10, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x18, 4, 0), EAGAIN);
	wt.ex = ex;
	wt.op = OP_REGION;
	wt.a = 0x10;
	wt.size = 0x10;
	wt.flags = IOMMU_EX_WAITSPACE;
	run_waiter(&wt, 0x10, 0x10);
	test_extent_expect(ex, want, 1);
	iommu_extent_destroy(ex);
}

static void
waitok_alloc_sleeps_for_a_fixed_descriptor(void **state)
{
	_Alignas(16) unsigned char storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(1)];
	struct iommu_extent	  *ex = NULL;
	struct waiter		   wt = {0};
	uint64_t		   r;

	(void)state;
	assert_int_equal(iommu_extent_create("w", 0, 0xff, NULL, storage,
			     sizeof(storage), IOMMU_EX_NOCOALESCE, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), ENOMEM);
	wt.ex = ex;
	wt.op = OP_ALLOC;
	wt.size = 0x20;
	wt.flags = IOMMU_EX_WAITOK;
	run_waiter(&wt, 0, 0x10);
	assert_int_equal(wt.result, 0);
	iommu_extent_destroy(ex);
}

static void
waitok_split_sleeps_for_a_fixed_descriptor(void **state)
{
	_Alignas(16) unsigned char storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(2)];
	struct iommu_extent	  *ex = NULL;
	struct waiter		   wt = {0};
	const struct test_range	   want[] = {{0, 0x3f}, {0x80, 0xff}};

	(void)state;
	assert_int_equal(iommu_extent_create("w", 0, 0xfff, NULL, storage,
			     sizeof(storage), 0, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0, 0x100, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x200, 0x100, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x40, 0x40, 0), ENOMEM);
	wt.ex = ex;
	wt.op = OP_FREE;
	wt.a = 0x40;
	wt.size = 0x40;
	wt.flags = IOMMU_EX_WAITOK;
	run_waiter(&wt, 0x200, 0x100);
	test_extent_expect(ex, want, 2);
	iommu_extent_destroy(ex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(threads_no_coalesce),
	    cmocka_unit_test(threads_coalescing_partial_frees),
	    cmocka_unit_test(waitspace_alloc_sleeps_until_a_free),
	    cmocka_unit_test(waitspace_region_sleeps_until_the_range_is_free),
	    cmocka_unit_test(waitok_alloc_sleeps_for_a_fixed_descriptor),
	    cmocka_unit_test(waitok_split_sleeps_for_a_fixed_descriptor),
	};

	return cmocka_run_group_tests_name("extent_threads", tests, NULL, NULL);
}
