/*
 * iommu-bench - the "scale" scenario: 1..T threads, each driving its own
 * TX ring (ring.h) at N = -N,
 *   own-domain     each thread its own stream ID and domain;
 *   shared-domain  all threads load through one domain (its IOVA lock,
 *                  page-table lock and magazine cache are shared);
 * both on one SMMU (one command queue, one model), and, to show what that
 * shared SMMU costs,
 *   own-smmu       each thread its own domain on its own SMMU instance
 *                  (own model, RAM and driver: nothing shared).  A repetition
 * starts the threads together (barrier), each runs the same number of packets,
 * and the wall time of the slowest gives the aggregate rate.  Rows: ns per
 * packet per thread (wall / packets per thread), mbyte_s = aggregate
 * kpackets/s, ratio = aggregate rate / the 1-thread rate.
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

struct scale_thread {
	struct ring	  rg;
	pthread_t	  tid;
	struct scale_run *run;
	uint64_t	  t_end; /* when its last repetition ended */
};

/*
 * One case's repetitions, run by the workers alone: they meet at a spin
 * gate before and after each (spin_gate.h: no wake-up latency in the
 * figure), the last to reach the start notes the time, the last to reach
 * the end records the repetition.  Repetition 0 warms up and sizes
 * sr_iters so that one lasts about run_ms.
 */
struct scale_run {
	struct spin_gate     sr_gate;
	struct scale_thread *sr_threads;
	unsigned	     sr_nthreads;
	unsigned	     sr_reps;  /* 1 warm-up + the measured ones */
	uint64_t	     sr_iters; /* packets per thread per repetition */
	uint64_t	     sr_max_iters; /* --quick keeps repetitions short */
	double		     sr_target_ns;
	uint64_t	     sr_t_start;
	double		     sr_ns[BENCH_MAX_RUNS]; /* wall ns per packet */
};

/* The last thread at a repetition's end: its wall time, per packet. */
static void
scale_rep_done(struct scale_run *r, unsigned rep)
{
	uint64_t end = 0, iters;
	unsigned i;
	double	 wall;

	for (i = 0; i < r->sr_nthreads; i++)
		if (r->sr_threads[i].t_end > end)
			end = r->sr_threads[i].t_end;
	wall = (double)(end - r->sr_t_start);
	bench_progress(NULL);
	if (rep > 0) {
		r->sr_ns[rep - 1] = wall / (double)r->sr_iters;
		return;
	}
	iters = (uint64_t)((double)r->sr_iters * r->sr_target_ns /
	    (wall > 1.0 ? wall : 1.0));
	if (iters > r->sr_max_iters)
		iters = r->sr_max_iters;
	r->sr_iters = iters > 0 ? iters : 1;
}

static void *
scale_main(void *arg)
{
	struct scale_thread *t = arg;
	struct scale_run    *r = t->run;
	unsigned	     sense = 0, rep;

	for (rep = 0; rep < r->sr_reps; rep++) {
		if (spin_gate_wait(&r->sr_gate, &sense))
			r->sr_t_start = bench_now_ns();
		ring_run(&t->rg, r->sr_iters);
		t->t_end = bench_now_ns();
		if (spin_gate_wait(&r->sr_gate, &sense))
			scale_rep_done(r, rep);
	}
	return NULL;
}

static int
one_case(const struct bench_opts *o, struct bench_report *rep,
    struct testbed *tbs, unsigned ntb, const char *variant,
    enum bench_strategy st, bool shared, unsigned nthr, uint64_t iters,
    double *base_rate)
{
	struct scale_thread *th;
	struct stream	     se[MAX_THREADS];
	struct scale_run     run;
	struct bench_row     row;
	double		     kpps;
	unsigned	     i, nse = shared ? 1 : nthr, ok = 0, started = 0;
	unsigned	     runs = bench_runs(o);
	int		     error = 0;
	static uint32_t	     sid = 4000;

	th = calloc(nthr, sizeof(*th));
	if (th == NULL)
		return ENOMEM;
	memset(se, 0, sizeof(se));
	for (i = 0; i < nse && error == 0; i++, ok++)
		error = stream_init(&tbs[i % ntb], &se[i], st, sid++);
	for (i = 0; i < nthr && error == 0; i++)
		error = ring_init(&th[i].rg, &tbs[i % ntb], &se[shared ? 0 : i],
		    o->ring, false, false);
	if (error != 0)
		goto out;
	memset(&run, 0, sizeof(run));
	spin_gate_init(&run.sr_gate, nthr);
	run.sr_threads = th;
	run.sr_nthreads = nthr;
	run.sr_reps = runs + 1;
	run.sr_iters = iters;
	run.sr_max_iters = o->quick ? iters : UINT64_MAX;
	run.sr_target_ns = o->run_ms * 1e6;
	for (i = 0; i < nthr; i++) {
		th[i].run = &run;
		if (pthread_create(&th[i].tid, NULL, scale_main, &th[i]) != 0)
			break;
		started++;
	}
	if (started != nthr) {
		/* Cannot run the gate short-handed: give up cleanly. */
		fprintf(stderr, "iommu-bench: cannot start threads\n");
		exit(1);
	}
	/* Before the streams die: a thread's magazine caches go back at its
	 * exit. */
	for (i = 0; i < nthr; i++)
		pthread_join(th[i].tid, NULL);
	for (i = 0; i < nthr; i++)
		if (th[i].rg.rg_error != 0)
			error = th[i].rg.rg_error;
	if (error != 0)
		goto out;
	bench_row_init(
	    &row, "scale", variant, bench_strategy_name(st), nthr, "packet");
	row.ns = bench_quantile(run.sr_ns, runs, 0.5);
	row.ns_lo = bench_quantile(run.sr_ns, runs, 0.25);
	row.ns_hi = bench_quantile(run.sr_ns, runs, 0.75);
	row.cycles = row.ns * bench_cycles_per_ns();
	kpps = (double)nthr * 1e6 / row.ns;
	row.mbyte_s = kpps;
	if (nthr == 1)
		*base_rate = kpps;
	row.ratio = kpps / *base_rate;
	bench_report_add(rep, &row);
out:
	for (i = 0; i < nthr; i++)
		ring_fini(&th[i].rg);
	for (i = 0; i < ok; i++)
		stream_fini(&tbs[i % ntb], &se[i]);
	free(th);
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
	unsigned       maxthr = o->max_threads, n, v, s, ntb = 0;
	uint64_t       iters;
	double	       base = NAN;
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
			for (n = 1; n <= maxthr && error == 0; n++) {
				bench_progress("scale %s %s %u threads",
				    vname[v],
				    bench_strategy_name(strategies[s]), n);
				error = one_case(o, rep, tbs, v == 2 ? n : 1,
				    vname[v], strategies[s], v == 1, n, iters,
				    &base);
			}
		}
out:
	while (ntb > 0)
		testbed_fini(&tbs[--ntb]);
	return error;
}
