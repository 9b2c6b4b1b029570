/*
 * Threads entering and removing pages that share intermediate levels:
 * every level is created exactly once (no leaked or duplicated tables),
 * while a reader thread extracts concurrently.  Run under TSan in CI.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "pt_fixture.h"
#include "pt_walker.h"
#include "test_alloc.h"

#define NTHREADS 4
#define NPAGES	 2048 /* 8 MiB: four level-3 tables */

/* Where the pages go, and the levels that must exist afterwards. */
struct geometry {
	unsigned ias;
	uint64_t base;
	uint64_t levels[4];
	uint64_t total;
};

static const struct geometry geometries[] = {
    /* 4 MiB below 512 GiB: new L1, L2 and L3 tables on both sides. */
    {48, (1ULL << 39) - (4ULL << 20), {1, 2, 2, 4}, 9},
    /* Three levels, 4 MiB below 1 GiB: L2 and L3 on both sides. */
    {39, (1ULL << 30) - (4ULL << 20), {0, 1, 2, 4}, 7},
};

struct worker {
	struct pt_fixture *w_fx;
	pthread_barrier_t *w_start;
	uint64_t	   w_base;
	unsigned	   w_id;
	int		   w_remove;
	int		   w_prepare;
	int		   w_errors;
};

static atomic_int readers_stop;

static uint64_t
page_pa(uint64_t page)
{
	return 0x100000000ULL + (page << 12);
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t       page, iova;
	int	       error;

	pthread_barrier_wait(w->w_start);
	if (w->w_prepare &&
	    iommu_pt_prepare(w->w_fx->fx_pt, w->w_base, NPAGES << 12) != 0)
		w->w_errors++;
	for (page = w->w_id; page < NPAGES; page += NTHREADS) {
		iova = w->w_base + (page << 12);
		if (w->w_remove)
			error = iommu_pt_remove(w->w_fx->fx_pt, iova);
		else
			error = iommu_pt_enter(w->w_fx->fx_pt, iova,
			    page_pa(page), IOMMU_PROT_READ | IOMMU_PROT_WRITE,
			    IOMMU_CACHE_WB,
			    w->w_prepare ? IOMMU_PT_NOLEVELALLOC : 0);
		if (error != 0)
			w->w_errors++;
	}
	return NULL;
}

static void *
reader_run(void *arg)
{
	struct worker *w = arg;
	uint64_t       page = 0, pa;

	pthread_barrier_wait(w->w_start);
	while (!atomic_load(&readers_stop)) {
		page = (page * 7 + 13) % NPAGES;
		if (iommu_pt_extract(w->w_fx->fx_pt,
			w->w_base + (page << 12) + 8, &pa, NULL) == 0 &&
		    pa != page_pa(page) + 8)
			w->w_errors++;
	}
	return NULL;
}

static void
run_phase(struct pt_fixture *fx, uint64_t base, int remove, int prepare)
{
	pthread_barrier_t start;
	pthread_t	  tid[NTHREADS + 1];
	struct worker	  w[NTHREADS + 1];
	unsigned	  i;

	pthread_barrier_init(&start, NULL, NTHREADS + 1);
	atomic_store(&readers_stop, 0);
	for (i = 0; i <= NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].w_fx = fx;
		w[i].w_start = &start;
		w[i].w_id = i;
		w[i].w_base = base;
		w[i].w_remove = remove;
		w[i].w_prepare = prepare && i < NTHREADS;
		assert_int_equal(
		    pthread_create(&tid[i], NULL,
			i < NTHREADS ? worker_run : reader_run, &w[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	atomic_store(&readers_stop, 1);
	pthread_join(tid[NTHREADS], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i <= NTHREADS; i++)
		assert_int_equal(w[i].w_errors, 0);
}

/*
 * One round: NTHREADS threads enter interleaved pages (optionally after
 * each prepared the whole range), a reader extracts meanwhile; then the
 * same threads remove them.
 */
static void
run_round(const struct geometry *g, int prepare)
{
	struct pt_fixture	   fx;
	struct iommu_pt_stats	   st;
	struct iommu_physmem_stats ps;
	struct iommu_pool_stats	   vs;
	struct pt_walk_result	   wr;
	uint64_t		   page, pa;
	unsigned		   l;

	pt_fixture_init_with(&fx, g->ias, 48, NULL);
	run_phase(&fx, g->base, 0, prepare);
	iommu_pt_get_stats(fx.fx_pt, &st);
	for (l = 0; l < 4; l++)
		assert_int_equal(st.pts_levels[l], g->levels[l]);
	assert_int_equal(st.pts_level_allocs, g->total);
	assert_int_equal(st.pts_pteds, NPAGES);
	iommu_physmem_get_stats(fx.fx_pm, &ps);
	assert_int_equal(ps.ps_frames_in_use, g->total);
	assert_int_equal(ps.ps_allocs, g->total);
	iommu_pool_get_stats(fx.fx_vp_pool, &vs);
	assert_int_equal(vs.pst_items_out, g->total);
	assert_int_equal(vs.pst_gets, g->total);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	for (page = 0; page < NPAGES; page += 61) {
		assert_int_equal(iommu_pt_extract(fx.fx_pt,
				     g->base + (page << 12), &pa, NULL),
		    0);
		assert_int_equal(pa, page_pa(page));
		assert_int_equal(
		    pt_walker_translate(&fx.fx_mem, iommu_pt_root_pa(fx.fx_pt),
			g->ias, 48, g->base + (page << 12), &wr),
		    PT_WALK_OK);
		assert_int_equal(wr.pw_pa, page_pa(page));
	}

	run_phase(&fx, g->base, 1, 0);
	assert_int_equal(atomic_load(&fx.fx_tlb_pages), NPAGES);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 0);
	assert_int_equal(st.pts_level_allocs, g->total);
	for (page = 0; page < NPAGES; page += 61)
		assert_int_equal(iommu_pt_extract(fx.fx_pt,
				     g->base + (page << 12), &pa, NULL),
		    ENOENT);
	pt_fixture_fini(&fx);
}

static void
shared_levels_are_created_exactly_once(void **state)
{
	unsigned long round, rounds = test_scale(20);
	unsigned      g;

	(void)state;
	for (g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++)
		for (round = 0; round < rounds; round++)
			run_round(&geometries[g], 0);
}

/* Every thread prepares the whole range, then enters without allocating. */
static void
concurrent_prepare_creates_each_level_once(void **state)
{
	unsigned long round, rounds = test_scale(10);
	unsigned      g;

	(void)state;
	for (g = 0; g < sizeof(geometries) / sizeof(geometries[0]); g++)
		for (round = 0; round < rounds; round++)
			run_round(&geometries[g], 1);
}

/* Racing enters of the same pages: exactly one wins each. */
static void
racing_enters_of_one_page_have_one_winner(void **state)
{
	struct pt_fixture     fx;
	struct iommu_pt_stats st;
	pthread_barrier_t     start;
	pthread_t	      tid[NTHREADS];
	struct worker	      w[NTHREADS];
	unsigned long	      round, rounds = test_scale(20);
	unsigned	      i;
	int		      fails;

	(void)state;
	for (round = 0; round < rounds; round++) {
		pt_fixture_init_with(&fx, 48, 48, NULL);
		pthread_barrier_init(&start, NULL, NTHREADS);
		for (i = 0; i < NTHREADS; i++) {
			memset(&w[i], 0, sizeof(w[i]));
			w[i].w_fx = &fx;
			w[i].w_start = &start;
			w[i].w_base = geometries[0].base;
			w[i].w_id = 0; /* every thread enters every page */
			assert_int_equal(
			    pthread_create(&tid[i], NULL, worker_run, &w[i]),
			    0);
		}
		fails = 0;
		for (i = 0; i < NTHREADS; i++) {
			pthread_join(tid[i], NULL);
			fails += w[i].w_errors;
		}
		pthread_barrier_destroy(&start);
		/* Every thread covered pages 0, 4, 8, ...: NPAGES/4 each. */
		assert_int_equal(fails, (NTHREADS - 1) * (NPAGES / NTHREADS));
		iommu_pt_get_stats(fx.fx_pt, &st);
		assert_int_equal(st.pts_pteds, NPAGES / NTHREADS);
		assert_int_equal(st.pts_level_allocs, 9);
		pt_fixture_fini(&fx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shared_levels_are_created_exactly_once),
	    cmocka_unit_test(concurrent_prepare_creates_each_level_once),
	    cmocka_unit_test(racing_enters_of_one_page_have_one_winner),
	};

	return cmocka_run_group_tests_name(
	    "pagetable_threads", tests, NULL, NULL);
}
