/*
 * Threads entering and removing pages that share intermediate levels:
 * every level is created exactly once (no leaked or duplicated tables),
 * while a reader thread extracts concurrently; racing enters of one page,
 * a parked PTED filled by span while another thread enters its page
 * (one winner each time), and enters racing removes that keep the PTED.
 * Run under TSan in CI.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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

/*
 * Runs fn in NTHREADS threads over fx, each with its w[i] (zeroed, then
 * fx, base and a shared start barrier set), and joins them.
 */
static void
run_workers(
    struct pt_fixture *fx, struct worker *w, uint64_t base, void *(*fn)(void *))
{
	pthread_barrier_t start;
	pthread_t	  tid[NTHREADS];
	unsigned	  i;

	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].w_fx = fx;
		w[i].w_start = &start;
		w[i].w_base = base;
		assert_int_equal(pthread_create(&tid[i], NULL, fn, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
}

#define PREP_PAGES 96 /* across a level-3 boundary */

static void *
preparer_run(void *arg)
{
	struct worker	    *w = arg;
	struct iommu_pt_span s;
	uint64_t	     k;

	pthread_barrier_wait(w->w_start);
	if (iommu_pt_prepare_pteds(
		w->w_fx->fx_pt, w->w_base, PREP_PAGES << 12) != 0)
		w->w_errors++;
	/* Parked, every page (a span a page: the range crosses a table). */
	for (k = 0; k < PREP_PAGES; k++)
		if (iommu_pt_span(
			w->w_fx->fx_pt, w->w_base + (k << 12), 1, &s) != 0)
			w->w_errors++;
	return NULL;
}

/*
 * Threads preparing the same range at once: each finds every page parked
 * when its prepare returns (some were linked by another thread a moment
 * before), and the parked bitmap agrees with the links afterwards.
 */
static void
overlapping_prepares_each_see_every_page_parked(void **state)
{
	unsigned long	  round, rounds = test_scale(50);
	struct worker	  w[NTHREADS];
	struct pt_fixture fx;
	uint64_t	  base = (2ULL << 20) - 32 * 4096;
	unsigned	  i;

	(void)state;
	for (round = 0; round < rounds; round++) {
		pt_fixture_init_with(&fx, 48, 48, NULL);
		run_workers(&fx, w, base, preparer_run);
		for (i = 0; i < NTHREADS; i++)
			assert_int_equal(w[i].w_errors, 0);
		assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
		assert_int_equal(
		    iommu_pt_unprepare(fx.fx_pt, base, PREP_PAGES << 12), 0);
		assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
		pt_fixture_fini(&fx);
	}
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
	struct worker	      w[NTHREADS];
	unsigned long	      round, rounds = test_scale(20);
	unsigned	      i;
	int		      fails;

	(void)state;
	for (round = 0; round < rounds; round++) {
		pt_fixture_init_with(&fx, 48, 48, NULL);
		/* w_id 0 for all: every thread enters every page. */
		run_workers(&fx, w, geometries[0].base, worker_run);
		fails = 0;
		for (i = 0; i < NTHREADS; i++)
			fails += w[i].w_errors;
		/* Every thread covered pages 0, 4, 8, ...: NPAGES/4 each. */
		assert_int_equal(fails, (NTHREADS - 1) * (NPAGES / NTHREADS));
		iommu_pt_get_stats(fx.fx_pt, &st);
		assert_int_equal(st.pts_pteds, NPAGES / NTHREADS);
		assert_int_equal(st.pts_level_allocs, 9);
		pt_fixture_fini(&fx);
	}
}

/*
 * A handle's fill racing with iommu_pt_enter of the same pages, round
 * after round: per page exactly one wins (the other gets EEXIST) and the
 * descriptor is the winner's.  Three kinds of round: both threads page by
 * page in step (they meet before each page, so each page is contended);
 * page by page freely, the enterer starting from a page that moves each
 * round; and the fill as one run, which stops at the first page the
 * enterer won.
 */
#define RACE_PAGES 64
#define RACE_BASE  (0x400000 - (RACE_PAGES + 16) * 0x1000ULL) /* one table */

enum race_kind { RACE_STEP, RACE_FREE, RACE_RUN };

struct racer {
	struct pt_fixture    *r_fx;
	pthread_barrier_t    *r_go, *r_done;
	struct iommu_pt_span *r_span;	 /* the filler's; NULL: the enterer */
	atomic_ulong	     *r_arrived; /* meetings, both racers */
	unsigned long	      r_meets;	 /* meetings so far, this racer */
	unsigned long	      r_rounds;
	int		      r_error[RACE_PAGES]; /* this round's, by page */
	uint64_t	      r_entered;	   /* RACE_RUN rounds */
	struct test_rng	      r_rng;		   /* start jitter */
};

static enum race_kind
race_kind(unsigned long round)
{
	return (enum race_kind)(round % 3);
}

static uint64_t
race_pa(int filler, unsigned long round, unsigned page)
{
	return ((filler ? 0x100000ULL : 0x200000ULL) + round * RACE_PAGES +
		   page)
	    << 12;
}

/* Returns once the other racer got here too: both leave together. */
static void
race_meet(struct racer *r)
{
	unsigned spins = 0;

	r->r_meets++;
	atomic_fetch_add(r->r_arrived, 1);
	while (atomic_load(r->r_arrived) < 2 * r->r_meets)
		if (++spins > 1000)
			sched_yield(); /* the other may not be running */
	/*
	 * Whoever saw the other arrive leaves later, by about the same
	 * delay each time, so the same racer tends to win; a random delay
	 * of up to a few hundred nanoseconds evens that out and makes
	 * some meetings exact (a non-atomic claim then lets both win).
	 */
	for (spins = (unsigned)test_rng_below(&r->r_rng, 512); spins > 0;
	     spins--)
		atomic_signal_fence(memory_order_seq_cst);
}

static void
race_fill(struct racer *r, unsigned long round)
{
	struct iommu_pt_run run;
	unsigned	    k;

	if (race_kind(round) == RACE_RUN) {
		run =
		    (struct iommu_pt_run){0, race_pa(1, round, 0), RACE_PAGES};
		r->r_error[0] = iommu_pt_span_fill(r->r_fx->fx_pt, r->r_span,
		    &run, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, &r->r_entered);
		return;
	}
	for (k = 0; k < RACE_PAGES; k++) {
		if (race_kind(round) == RACE_STEP)
			race_meet(r);
		run = (struct iommu_pt_run){k, race_pa(1, round, k), 1};
		r->r_error[k] = iommu_pt_span_fill(r->r_fx->fx_pt, r->r_span,
		    &run, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL);
	}
}

static void
race_enter(struct racer *r, unsigned long round)
{
	unsigned i, k;

	for (i = 0; i < RACE_PAGES; i++) {
		if (race_kind(round) == RACE_STEP) {
			race_meet(r);
			k = i;
		} else {
			k = (unsigned)(i + round * 13) % RACE_PAGES;
		}
		r->r_error[k] = iommu_pt_enter(r->r_fx->fx_pt,
		    RACE_BASE + ((uint64_t)k << 12), race_pa(0, round, k),
		    IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_NC, 0);
	}
}

static void *
racer_run(void *arg)
{
	struct racer *r = arg;
	unsigned long round;

	for (round = 0; round < r->r_rounds; round++) {
		pthread_barrier_wait(r->r_go);
		/* Start together: a barrier wakes its waiters one by one. */
		race_meet(r);
		if (r->r_span != NULL)
			race_fill(r, round);
		else
			race_enter(r, round);
		pthread_barrier_wait(r->r_done);
	}
	return NULL;
}

/* After a round: one winner per page, its mapping in the table. */
static void
race_check(struct pt_fixture *fx, const struct racer *fill,
    const struct racer *enter, unsigned long round)
{
	struct pt_walk_result wr;
	uint64_t	      iova, pa;
	unsigned	      k, prot;
	int		      filled;

	if (race_kind(round) == RACE_RUN) {
		/* The run stops at the first page the enterer won, if any. */
		assert_true(fill->r_entered <= RACE_PAGES);
		assert_int_equal(fill->r_error[0],
		    fill->r_entered == RACE_PAGES ? 0 : EEXIST);
	}
	for (k = 0; k < RACE_PAGES; k++) {
		filled = race_kind(round) == RACE_RUN ? k < fill->r_entered
						      : fill->r_error[k] == 0;
		if (race_kind(round) != RACE_RUN && !filled)
			assert_int_equal(fill->r_error[k], EEXIST);
		assert_int_equal(enter->r_error[k], filled ? EEXIST : 0);
		iova = RACE_BASE + ((uint64_t)k << 12);
		assert_int_equal(
		    iommu_pt_extract(fx->fx_pt, iova, &pa, &prot), 0);
		assert_int_equal(pa, race_pa(filled, round, k));
		assert_int_equal(prot,
		    filled ? IOMMU_PROT_READ
			   : IOMMU_PROT_READ | IOMMU_PROT_WRITE);
		assert_int_equal(
		    pt_walker_translate(&fx->fx_mem,
			iommu_pt_root_pa(fx->fx_pt), 48, 48, iova, &wr),
		    PT_WALK_OK);
		assert_int_equal((wr.pw_desc >> 2) & 7,
		    filled ? IOMMU_CACHE_WB : IOMMU_CACHE_NC);
	}
	assert_int_equal(iommu_pt_validate(fx->fx_pt), 0);
}

static void
span_fill_races_enter_with_one_winner(void **state)
{
	struct pt_fixture    fx;
	struct iommu_pt_span span;
	pthread_barrier_t    go, done;
	atomic_ulong	     arrived = 0;
	pthread_t	     tid[2];
	struct racer	     r[2];
	unsigned long	     round, rounds = test_scale(300);
	uint64_t	     removed;
	unsigned	     i;

	(void)state;
	pt_fixture_init_with(&fx, 48, 48, NULL);
	assert_int_equal(iommu_pt_prepare_pteds(
			     fx.fx_pt, RACE_BASE, (uint64_t)RACE_PAGES << 12),
	    0);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, RACE_BASE, RACE_PAGES, &span), 0);
	pthread_barrier_init(&go, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].r_fx = &fx;
		r[i].r_go = &go;
		r[i].r_done = &done;
		r[i].r_arrived = &arrived;
		test_rng_seed(&r[i].r_rng, 0xfeed + i);
		r[i].r_span = i == 0 ? &span : NULL;
		r[i].r_rounds = rounds;
		assert_int_equal(
		    pthread_create(&tid[i], NULL, racer_run, &r[i]), 0);
	}
	for (round = 0; round < rounds; round++) {
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);
		race_check(&fx, &r[0], &r[1], round);
		/* Empty again: by span, or by walking. */
		if (round % 4 < 2) {
			assert_int_equal(
			    iommu_pt_span_clear(fx.fx_pt, &span, 0, RACE_BASE,
				RACE_PAGES, 0, &removed),
			    0);
			assert_int_equal(removed, RACE_PAGES);
		} else {
			assert_int_equal(iommu_pt_remove_range(fx.fx_pt,
					     RACE_BASE, RACE_PAGES, &removed),
			    0);
		}
	}
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&go);
	pthread_barrier_destroy(&done);
	assert_int_equal(atomic_load(&fx.fx_tlb_pages), rounds * RACE_PAGES);
	assert_int_equal(
	    iommu_pt_unprepare(fx.fx_pt, RACE_BASE, (uint64_t)RACE_PAGES << 12),
	    0);
	pt_fixture_fini(&fx);
}

/*
 * Runs f0(a0) and f1(a1) on two threads and waits for both; the threads
 * meet at *start (the caller gave it to them) before they race.
 */
static void
run_two(pthread_barrier_t *start, void *(*f0)(void *), void *a0,
    void *(*f1)(void *), void *a1)
{
	pthread_t tid[2];

	pthread_barrier_init(start, NULL, 2);
	assert_int_equal(pthread_create(&tid[0], NULL, f0, a0), 0);
	assert_int_equal(pthread_create(&tid[1], NULL, f1, a1), 0);
	pthread_join(tid[0], NULL);
	pthread_join(tid[1], NULL);
	pthread_barrier_destroy(start);
}

/*
 * A table that keeps PTEDs: two threads keep entering the same few pages
 * and removing what they won, so an enter often meets a remove that is
 * parking the page's PTED.  At most one owner per page at any time, the
 * owner reads its own mapping, and every remove of a won page succeeds.
 */
#define KEEP_PAGES 4
#define KEEP_BASE  0x40000000ULL

struct keeper {
	struct pt_fixture *k_fx;
	pthread_barrier_t *k_start;
	atomic_int	  *k_owners; /* [KEEP_PAGES] */
	unsigned long	   k_rounds, k_won;
	unsigned	   k_id;
	int		   k_errors;
};

static void *
keeper_run(void *arg)
{
	struct keeper *k = arg;
	unsigned long  round;
	uint64_t       iova, mine, pa;
	unsigned       p;
	int	       error;

	pthread_barrier_wait(k->k_start);
	for (round = 0; round < k->k_rounds; round++) {
		p = (unsigned)(round + k->k_id) % KEEP_PAGES;
		iova = KEEP_BASE + ((uint64_t)p << 12);
		mine = page_pa(k->k_id * KEEP_PAGES + p);
		error = iommu_pt_enter(k->k_fx->fx_pt, iova, mine,
		    IOMMU_PROT_READ, IOMMU_CACHE_WB, 0);
		if (error == EEXIST)
			continue;
		if (error != 0 || atomic_fetch_add(&k->k_owners[p], 1) != 0 ||
		    iommu_pt_extract(k->k_fx->fx_pt, iova, &pa, NULL) != 0 ||
		    pa != mine)
			k->k_errors++;
		atomic_fetch_sub(&k->k_owners[p], 1);
		if (iommu_pt_remove(k->k_fx->fx_pt, iova) != 0)
			k->k_errors++;
		k->k_won++;
	}
	return NULL;
}

static void
enters_race_keeping_removes_with_one_owner(void **state)
{
	struct pt_fixture	fx;
	struct iommu_pool_stats ps;
	struct keeper		k[2];
	pthread_barrier_t	start;
	atomic_int		owners[KEEP_PAGES] = {0};
	unsigned		i;

	(void)state;
	pt_fixture_init_with(&fx, 48, 48, NULL);
	iommu_pt_set_keep_pteds(fx.fx_pt, true);
	for (i = 0; i < 2; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].k_fx = &fx;
		k[i].k_start = &start;
		k[i].k_owners = owners;
		k[i].k_rounds = test_scale(200000);
		k[i].k_id = i;
	}
	run_two(&start, keeper_run, &k[0], keeper_run, &k[1]);
	for (i = 0; i < 2; i++) {
		assert_int_equal(k[i].k_errors, 0);
		assert_true(k[i].k_won > 0);
	}
	assert_int_equal(
	    atomic_load(&fx.fx_tlb_pages), k[0].k_won + k[1].k_won);
	/* Nothing mapped, one parked PTED per page. */
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, KEEP_PAGES);
	assert_int_equal(
	    iommu_pt_unprepare(fx.fx_pt, KEEP_BASE, (uint64_t)KEEP_PAGES << 12),
	    0);
	pt_fixture_fini(&fx);
}

/*
 * Pages two maps share (the identity strategy: either may enter a page the
 * other entered, and remove it while the other still counts on it): two
 * threads keep entering and removing the same few pages, with and without
 * kept PTEDs.  Each enter and remove either succeeds or finds the other's
 * work (EEXIST, ENOENT); every page's PTED is linked or freed exactly once
 * (the pool's count and, at IOMMU_DEBUG >= 1, its double-put check), and
 * what is left validates.
 */
#define SHARE_PAGES 2
#define SHARE_BASE  0x80000000ULL

struct sharer {
	struct pt_fixture *s_fx;
	pthread_barrier_t *s_start;
	unsigned long	   s_rounds;
	unsigned	   s_id;
	int		   s_errors;
	/* Successful enters and removes, by page. */
	unsigned long s_entered[SHARE_PAGES], s_removed[SHARE_PAGES];
};

static void *
sharer_run(void *arg)
{
	struct sharer *s = arg;
	unsigned long  round;
	uint64_t       iova;
	unsigned       p;
	int	       error;

	pthread_barrier_wait(s->s_start);
	for (round = 0; round < s->s_rounds; round++) {
		p = (unsigned)(round / 2 + s->s_id) % SHARE_PAGES;
		iova = SHARE_BASE + ((uint64_t)p << 12);
		if (round % 2 == 0) {
			error = iommu_pt_enter(s->s_fx->fx_pt, iova, page_pa(p),
			    IOMMU_PROT_READ, IOMMU_CACHE_WB, 0);
			s->s_entered[p] += error == 0;
		} else {
			error = iommu_pt_remove(s->s_fx->fx_pt, iova);
			s->s_removed[p] += error == 0;
		}
		if (error != 0 && error != EEXIST && error != ENOENT)
			s->s_errors++;
	}
	return NULL;
}

static void
shared_pages_race_enters_and_removes(bool keep)
{
	struct pt_fixture	fx;
	struct iommu_pool_stats ps;
	struct sharer		s[2];
	pthread_barrier_t	start;
	unsigned		i, p;
	uint64_t		pa;

	pt_fixture_init_with(&fx, 48, 48, NULL);
	iommu_pt_set_keep_pteds(fx.fx_pt, keep);
	for (i = 0; i < 2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].s_fx = &fx;
		s[i].s_start = &start;
		s[i].s_rounds = test_scale(400000);
		s[i].s_id = i;
	}
	run_two(&start, sharer_run, &s[0], sharer_run, &s[1]);
	for (i = 0; i < 2; i++)
		assert_int_equal(s[i].s_errors, 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	for (p = 0; p < SHARE_PAGES; p++) {
		uint64_t iova = SHARE_BASE + ((uint64_t)p << 12);
		bool mapped = iommu_pt_extract(fx.fx_pt, iova, &pa, NULL) == 0;

		/* Each successful remove undid one successful enter. */
		assert_int_equal(s[0].s_entered[p] + s[1].s_entered[p],
		    s[0].s_removed[p] + s[1].s_removed[p] + mapped);
		if (mapped) {
			assert_int_equal(pa, page_pa(p));
			assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), 0);
		}
		assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), ENOENT);
	}
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(iommu_pt_unprepare(
			     fx.fx_pt, SHARE_BASE, (uint64_t)SHARE_PAGES << 12),
	    0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 0);
	pt_fixture_fini(&fx);
}

static void
shared_pages_race_enters_and_removes_freeing(void **state)
{
	(void)state;
	shared_pages_race_enters_and_removes(false);
}

static void
shared_pages_race_enters_and_removes_keeping(void **state)
{
	(void)state;
	shared_pages_race_enters_and_removes(true);
}

/*
 * A caller that enters pages while it unprepares them (its own race, but
 * not one that may corrupt the table): one thread keeps parking PTEDs on a
 * few pages and taking them back, the other keeps entering and removing
 * those pages.  Every enter succeeds (parked or not, whichever the page is
 * when it gets there) and its remove finds the page, unprepare either
 * takes a page's PTED or says EBUSY, and the table validates at the end:
 * no page mapped without its PTED (before enters filled parked pages
 * under a hold, a fill could land after the unlink and leave one).
 */
#define UNPREP_PAGES 2
#define UNPREP_BASE  0xc0000000ULL

struct unprep {
	struct pt_fixture *u_fx;
	pthread_barrier_t *u_start;
	atomic_int	  *u_stop;
	unsigned long	   u_rounds;
	int		   u_errors;
};

static void *
unpreparer_run(void *arg)
{
	struct unprep *u = arg;
	unsigned long  round;
	int	       error;

	pthread_barrier_wait(u->u_start);
	for (round = 0; round < u->u_rounds; round++) {
		if (iommu_pt_prepare_pteds(u->u_fx->fx_pt, UNPREP_BASE,
			(uint64_t)UNPREP_PAGES << 12) != 0)
			u->u_errors++;
		error = iommu_pt_unprepare(
		    u->u_fx->fx_pt, UNPREP_BASE, (uint64_t)UNPREP_PAGES << 12);
		if (error != 0 && error != EBUSY)
			u->u_errors++;
	}
	atomic_store(u->u_stop, 1);
	return NULL;
}

/*
 * A loop that runs until another thread is done yields now and then,
 * between two operations.  Valgrind runs one thread at a time and switches
 * after a fixed count of blocks, so a loop that never yields can be
 * switched out inside a slot hold at every switch, and the thread that
 * must finish waits on that hold for ever (the unprepare race hung so).
 */
static inline void
yield_between(unsigned long round)
{
	if (round % 16 == 15)
		sched_yield();
}

static void *
unprep_enterer_run(void *arg)
{
	struct unprep *u = arg;
	unsigned long  round;
	uint64_t       iova;
	int	       error;

	pthread_barrier_wait(u->u_start);
	for (round = 0; !atomic_load(u->u_stop); round++) {
		iova = UNPREP_BASE + ((round % UNPREP_PAGES) << 12);
		error = iommu_pt_enter(u->u_fx->fx_pt, iova,
		    page_pa(round % UNPREP_PAGES), IOMMU_PROT_READ,
		    IOMMU_CACHE_WB, 0);
		if (error != 0) {
			u->u_errors++;
			continue;
		}
		if (iommu_pt_remove(u->u_fx->fx_pt, iova) != 0)
			u->u_errors++;
		yield_between(round);
	}
	return NULL;
}

static void
enters_race_unprepare_of_their_pages(void **state)
{
	struct pt_fixture fx;
	struct unprep	  u[2];
	pthread_barrier_t start;
	atomic_int	  stop = 0;
	unsigned	  i;

	(void)state;
	pt_fixture_init_with(&fx, 48, 48, NULL);
	/* The levels first: what is raced is the PTEDs. */
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, UNPREP_BASE,
			     (uint64_t)UNPREP_PAGES << 12),
	    0);
	for (i = 0; i < 2; i++)
		u[i] =
		    (struct unprep){&fx, &start, &stop, test_scale(100000), 0};
	run_two(&start, unpreparer_run, &u[0], unprep_enterer_run, &u[1]);
	for (i = 0; i < 2; i++)
		assert_int_equal(u[i].u_errors, 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, UNPREP_BASE,
			     (uint64_t)UNPREP_PAGES << 12),
	    0);
	pt_fixture_fini(&fx);
}

/*
 * Everything at once on one page, with PTEDs kept on removes and not: a
 * thread that parks and takes back its PTED, one that only parks it, one
 * that enters and removes it, one that only removes it.  The page is
 * never mapped when the one enterer enters it, so every enter succeeds;
 * each successful remove matches one successful enter (a remove that
 * found the PTED parked before an unprepare must not clear the mapping an
 * enter made after it), nothing is freed twice or used after its free,
 * and the table validates at the end.
 */
#define MELEE_PAGE 0xd0000000ULL
#define PG	   0x1000ULL

struct melee {
	struct pt_fixture *m_fx;
	atomic_int	  *m_stop;
	atomic_ulong	   m_enters, m_removes;
	unsigned long	   m_rounds;
	int		   m_errors;
};

static void *
melee_preparer(void *arg)
{
	struct melee *m = arg;
	unsigned long round;
	int	      error;

	for (round = 0; !atomic_load(m->m_stop); round++) {
		if (iommu_pt_prepare_pteds(m->m_fx->fx_pt, MELEE_PAGE, PG) != 0)
			m->m_errors++;
		error = iommu_pt_unprepare(m->m_fx->fx_pt, MELEE_PAGE, PG);
		if (error != 0 && error != EBUSY)
			m->m_errors++;
		yield_between(round);
	}
	return NULL;
}

static void *
melee_parker(void *arg)
{
	struct melee *m = arg;
	unsigned long round;

	for (round = 0; !atomic_load(m->m_stop); round++) {
		if (iommu_pt_prepare_pteds(m->m_fx->fx_pt, MELEE_PAGE, PG) != 0)
			m->m_errors++;
		yield_between(round);
	}
	return NULL;
}

static void
melee_remove(struct melee *m)
{
	int error = iommu_pt_remove(m->m_fx->fx_pt, MELEE_PAGE);

	if (error == 0)
		atomic_fetch_add(&m->m_removes, 1);
	else if (error != ENOENT)
		m->m_errors++;
}

static void *
melee_enterer(void *arg)
{
	struct melee *m = arg;
	unsigned long round;
	int	      error;

	for (round = 0; round < m->m_rounds; round++) {
		error = iommu_pt_enter(m->m_fx->fx_pt, MELEE_PAGE, page_pa(1),
		    IOMMU_PROT_READ, IOMMU_CACHE_WB, 0);
		if (error == 0)
			atomic_fetch_add(&m->m_enters, 1);
		else
			m->m_errors++;
		melee_remove(m);
	}
	atomic_store(m->m_stop, 1);
	return NULL;
}

static void *
melee_remover(void *arg)
{
	struct melee *m = arg;
	unsigned long round;

	for (round = 0; !atomic_load(m->m_stop); round++) {
		melee_remove(m);
		yield_between(round);
	}
	return NULL;
}

static void
one_page_melee(bool keep)
{
	struct pt_fixture fx;
	struct melee	  m;
	atomic_int	  stop = 0;
	pthread_t	  tid[4];
	void *(*run[4])(void *) = {
	    melee_preparer, melee_parker, melee_enterer, melee_remover};
	unsigned i;
	uint64_t pa;

	pt_fixture_init_with(&fx, 48, 48, NULL);
	iommu_pt_set_keep_pteds(fx.fx_pt, keep);
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, MELEE_PAGE, PG), 0);
	memset(&m, 0, sizeof(m));
	m.m_fx = &fx;
	m.m_stop = &stop;
	m.m_rounds = test_scale(1000000);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, run[i], &m), 0);
	for (i = 0; i < 4; i++)
		pthread_join(tid[i], NULL);
	assert_int_equal(m.m_errors, 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(atomic_load(&m.m_enters),
	    atomic_load(&m.m_removes) +
		(iommu_pt_extract(fx.fx_pt, MELEE_PAGE, &pa, NULL) == 0));
	pt_fixture_fini(&fx);
}

static void
one_page_melee_keeps_enters_and_removes_paired_freeing(void **state)
{
	(void)state;
	one_page_melee(false);
}

static void
one_page_melee_keeps_enters_and_removes_paired_keeping(void **state)
{
	(void)state;
	one_page_melee(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shared_levels_are_created_exactly_once),
	    cmocka_unit_test(concurrent_prepare_creates_each_level_once),
	    cmocka_unit_test(racing_enters_of_one_page_have_one_winner),
	    cmocka_unit_test(span_fill_races_enter_with_one_winner),
	    cmocka_unit_test(enters_race_keeping_removes_with_one_owner),
	    cmocka_unit_test(overlapping_prepares_each_see_every_page_parked),
	    cmocka_unit_test(shared_pages_race_enters_and_removes_freeing),
	    cmocka_unit_test(shared_pages_race_enters_and_removes_keeping),
	    cmocka_unit_test(enters_race_unprepare_of_their_pages),
	    cmocka_unit_test(
		one_page_melee_keeps_enters_and_removes_paired_freeing),
	    cmocka_unit_test(
		one_page_melee_keeps_enters_and_removes_paired_keeping),
	};

	return cmocka_run_group_tests_name(
	    "pagetable_threads", tests, NULL, NULL);
}
