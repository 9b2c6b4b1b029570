/*
 * iommu-bench - the "scale" scenario: 1..T threads, each driving its own
 * TX ring (ring.h) at N = -N,
 *   own-domain     each thread its own stream ID and domain;
 *   shared-domain  all threads load through one domain (its IOVA lock,
 *                  page-table lock and magazine cache are shared);
 * both on one SMMU (one command queue, one model), and, to show what that
 * shared SMMU costs,
 *   own-smmu       each thread its own domain on its own SMMU instance
 *                  (own model, RAM and driver: nothing shared).
 *
 * Thread counts n = 1, 2, 4, ... up to T, and T.  Ring i (its stream, its
 * domain or SMMU as above) is driven by thread i of whichever count runs;
 * each count has its own set of threads.  The counts take turns inside
 * each repetition (1, 2, ..., T, then again), so that the ratio of each
 * repetition's n-thread rate to its own 1-thread rate, taken minutes
 * apart on a shared machine, compares like with like: the row's ratio is
 * the median of those paired ratios.
 *
 * One turn: the main thread wakes the set (a sleeping barrier), whose
 * threads meet at a spin gate (spin_gate.h) and start together; the last
 * to arrive notes the time, so the wake-up is not timed.  Every thread
 * runs the same number of packets; the turn's wall time is the last
 * end.  A set's first turn warms up and sizes its turns to run_ms.
 * Rows: ns per packet per thread (wall / packets per thread, median over
 * the repetitions), mbyte_s = aggregate kpackets/s, ratio as above.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"
#include "ring.h"
#include "spin_gate.h"

#define MAX_THREADS 64
#define MAX_COUNTS  8 /* 1, 2, 4, ..., 64 and T */

struct scale_set;

struct scale_thread {
	struct ring	 *th_rg;
	pthread_t	  th_tid;
	struct scale_set *th_set;
	uint64_t	  th_end; /* when its last turn ended */
};

/* The threads of one thread count. */
struct scale_set {
	struct scale_thread ss_th[MAX_THREADS];
	unsigned	    ss_n;
	unsigned	    ss_started;
	struct spin_gate    ss_gate;
	pthread_barrier_t   ss_go, ss_done; /* the main thread and ss_n */
	bool		    ss_quit;
	uint64_t	    ss_iters; /* packets per thread per turn */
	uint64_t	    ss_max_iters;
	double		    ss_target_ns;
	bool		    ss_sized;
	uint64_t	    ss_t_start;
	double		    ss_ns; /* the last turn: wall ns per packet */
};

/* The last thread at a turn's end: its wall time (or the sizing). */
static void
scale_turn_done(struct scale_set *ss)
{
	uint64_t end = 0, iters;
	unsigned i;
	double	 wall;

	for (i = 0; i < ss->ss_n; i++)
		if (ss->ss_th[i].th_end > end)
			end = ss->ss_th[i].th_end;
	wall = (double)(end - ss->ss_t_start);
	ss->ss_ns = wall / (double)ss->ss_iters;
	if (ss->ss_sized)
		return;
	ss->ss_sized = true;
	iters = (uint64_t)((double)ss->ss_iters * ss->ss_target_ns /
	    (wall > 1.0 ? wall : 1.0));
	if (iters > ss->ss_max_iters)
		iters = ss->ss_max_iters;
	ss->ss_iters = iters > 0 ? iters : 1;
}

static void *
scale_main(void *arg)
{
	struct scale_thread *t = arg;
	struct scale_set    *ss = t->th_set;
	unsigned	     sense = 0;

	for (;;) {
		pthread_barrier_wait(&ss->ss_go);
		if (ss->ss_quit)
			break;
		if (spin_gate_wait(&ss->ss_gate, &sense))
			ss->ss_t_start = bench_now_ns();
		ring_run(t->th_rg, ss->ss_iters);
		t->th_end = bench_now_ns();
		if (spin_gate_wait(&ss->ss_gate, &sense))
			scale_turn_done(ss);
		pthread_barrier_wait(&ss->ss_done);
	}
	return NULL;
}

/* One turn of the set, timed by its threads. */
static void
scale_turn(struct scale_set *ss)
{
	pthread_barrier_wait(&ss->ss_go);
	pthread_barrier_wait(&ss->ss_done);
	bench_progress(NULL);
}

static void
scale_set_start(struct scale_set *ss, struct ring *rings, unsigned n,
    const struct bench_opts *o, uint64_t iters)
{
	unsigned i;

	memset(ss, 0, sizeof(*ss));
	ss->ss_n = n;
	ss->ss_iters = iters;
	ss->ss_max_iters = o->quick ? iters : UINT64_MAX;
	ss->ss_target_ns = o->run_ms * 1e6;
	spin_gate_init(&ss->ss_gate, n);
	pthread_barrier_init(&ss->ss_go, NULL, n + 1);
	pthread_barrier_init(&ss->ss_done, NULL, n + 1);
	for (i = 0; i < n; i++) {
		ss->ss_th[i].th_rg = &rings[i];
		ss->ss_th[i].th_set = ss;
		if (pthread_create(&ss->ss_th[i].th_tid, NULL, scale_main,
			&ss->ss_th[i]) != 0)
			break;
		ss->ss_started++;
	}
	if (ss->ss_started != n) {
		/* Cannot run the barriers short-handed: give up cleanly. */
		fprintf(stderr, "iommu-bench: cannot start threads\n");
		exit(1);
	}
}

/* Joined before the streams die: a thread's magazines go back at exit. */
static void
scale_set_stop(struct scale_set *ss)
{
	unsigned i;

	ss->ss_quit = true;
	pthread_barrier_wait(&ss->ss_go);
	for (i = 0; i < ss->ss_started; i++)
		pthread_join(ss->ss_th[i].th_tid, NULL);
	pthread_barrier_destroy(&ss->ss_go);
	pthread_barrier_destroy(&ss->ss_done);
}

/* The thread counts: 1, 2, 4, ... below maxthr, then maxthr. */
static unsigned
scale_counts(unsigned maxthr, unsigned *counts)
{
	unsigned n, k = 0;

	for (n = 1; n < maxthr; n *= 2)
		counts[k++] = n;
	counts[k++] = maxthr;
	return k;
}

static void
scale_report(const struct bench_opts *o, struct bench_report *rep,
    const char *variant, enum bench_strategy st, unsigned n, double *ns,
    double *ratio)
{
	struct bench_row row;
	unsigned	 runs = bench_runs(o);

	bench_row_init(
	    &row, "scale", variant, bench_strategy_name(st), n, "packet");
	row.ns = bench_quantile(ns, runs, 0.5);
	row.ns_lo = bench_quantile(ns, runs, 0.25);
	row.ns_hi = bench_quantile(ns, runs, 0.75);
	row.cycles = row.ns * bench_cycles_per_ns();
	row.mbyte_s = (double)n * 1e6 / row.ns;
	row.ratio = bench_quantile(ratio, runs, 0.5);
	bench_report_add(rep, &row);
}

/* Every thread count of one variant and strategy, taking turns. */
static int
one_strategy(const struct bench_opts *o, struct bench_report *rep,
    struct testbed *tbs, unsigned v, const char *variant,
    enum bench_strategy st, unsigned maxthr, uint64_t iters)
{
	struct stream	 *se;
	struct ring	 *rings;
	struct scale_set *sets;
	double		  ns[MAX_COUNTS][BENCH_MAX_RUNS];
	double		  ratio[MAX_COUNTS][BENCH_MAX_RUNS];
	unsigned	  counts[MAX_COUNTS], ncounts, c, i, r;
	unsigned	  nse = v == 1 ? 1 : maxthr, okse = 0, okrg = 0;
	unsigned	  runs = bench_runs(o);
	static uint32_t	  sid = 4000;
	int		  error = 0;

	ncounts = scale_counts(maxthr, counts);
	se = calloc(maxthr, sizeof(*se));
	rings = calloc(maxthr, sizeof(*rings));
	sets = calloc(ncounts, sizeof(*sets));
	if (se == NULL || rings == NULL || sets == NULL) {
		error = ENOMEM;
		goto out;
	}
	/* own-smmu: ring i on testbed i; the others all on testbed 0. */
	for (okse = 0; okse < nse; okse++)
		if ((error = stream_init(
			 &tbs[v == 2 ? okse : 0], &se[okse], st, sid++)) != 0)
			goto out;
	for (okrg = 0; okrg < maxthr; okrg++)
		if ((error = ring_init(&rings[okrg], &tbs[v == 2 ? okrg : 0],
			 &se[v == 1 ? 0 : okrg], o->ring, false, false)) != 0)
			goto out;
	for (c = 0; c < ncounts; c++) {
		scale_set_start(&sets[c], rings, counts[c], o, iters);
		scale_turn(&sets[c]); /* warm-up and sizing */
	}
	for (r = 0; r < runs; r++) {
		bench_progress("scale %s %s", variant, bench_strategy_name(st));
		for (c = 0; c < ncounts; c++) {
			scale_turn(&sets[c]);
			ns[c][r] = sets[c].ss_ns;
			ratio[c][r] = (double)counts[c] * ns[0][r] / ns[c][r];
		}
	}
	for (c = 0; c < ncounts; c++)
		scale_set_stop(&sets[c]);
	for (i = 0; i < maxthr; i++)
		if (rings[i].rg_error != 0)
			error = rings[i].rg_error;
	for (c = 0; c < ncounts && error == 0; c++)
		scale_report(o, rep, variant, st, counts[c], ns[c], ratio[c]);
out:
	for (i = 0; i < okrg; i++)
		ring_fini(&rings[i]);
	for (i = 0; i < okse; i++)
		stream_fini(&tbs[v == 2 ? i : 0], &se[i]);
	free(sets);
	free(rings);
	free(se);
	return error;
}

int
bench_scn_scale(const struct bench_opts *o, struct bench_report *rep)
{
	static const enum bench_strategy strategies[] = {BS_NOIOMMU, BS_PERMAP,
	    BS_ATCREATE, BS_MAGAZINE, BS_ATCREATE_LAZY, BS_MAGAZINE_LAZY};
	const unsigned	   nstrat = sizeof(strategies) / sizeof(strategies[0]);
	static const char *vname[3] = {
	    "own-domain", "shared-domain", "own-smmu"};
	struct testbed tbs[MAX_THREADS];
	unsigned       maxthr = o->max_threads, v, s, ntb = 0;
	uint64_t       iters;
	int	       error = 0;

	if (maxthr > MAX_THREADS)
		maxthr = MAX_THREADS;
	if (maxthr < 2)
		maxthr = 2; /* the target compares 1 and 2 threads */
	/* tbs[0] serves own-domain and shared-domain; own-smmu uses one
	 * SMMU per thread. */
	for (ntb = 0; ntb < maxthr && error == 0; ntb++)
		error = testbed_init(&tbs[ntb], o,
		    64 +
			(uint64_t)(ntb == 0 ? maxthr : 1) * o->ring * 8 * 3 /
			    1024,
		    0, 0);
	if (error != 0) {
		ntb--;
		goto out;
	}
	iters = o->quick ? 200 : (uint64_t)(o->run_ms * 1e6 / 2000.0);
	for (v = 0; v < 3 && error == 0; v++)
		for (s = 0; s < nstrat && error == 0; s++) {
			if (v > 0 && strategies[s] == BS_NOIOMMU)
				continue;
			if ((o->strategies & (1u << strategies[s])) == 0)
				continue;
			error = one_strategy(o, rep, tbs, v, vname[v],
			    strategies[s], maxthr, iters);
		}
out:
	while (ntb > 0)
		testbed_fini(&tbs[--ntb]);
	return error;
}
