/*
 * iommu-bench - the "tcpbench" scenario: one TX stream through one domain
 * (ring.h), every strategy side by side, at the ring depth -N and over
 * the sweep; an RX variant at -N.
 *
 * Per strategy and N: ns and cycles per packet through bus_dma (median of
 * the repetitions); the overhead over the no-IOMMU row of the same N;
 * map_ns, the CPU cost of bus_dma load + unload alone: runs without the
 * device's accesses, alternating with the no-IOMMU tag's same runs over a
 * ring of its own, the median of the paired differences; the
 * breakdown from a third run that replays the IOMMU tag's work through
 * the domain API with the cycle counter around each phase (IOVA
 * allocation and free; page-table enter and remove; TLBI + CMD_SYNC; not
 * for the -lazy strategies, whose deferral only the tag performs);
 * and the equivalent tcpbench Mbit/s:
 *
 *   S = 12000 bits / 700 Mbit/s - t(no-IOMMU, TX, N = -N)   (stack cost)
 *   Mbit/s = 12000 bits / (S + t) (t = this row's ns/packet)
 *
 * so that no-IOMMU reads 700 Mbit/s at 1500-byte packets by construction.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"
#include "ring.h"

static uint32_t next_sid = 1;

static void
measure_phases(const struct bench_opts *o, struct ring *rg, uint64_t iters,
    struct bench_row *row)
{
	double	 a[BENCH_MAX_RUNS], p[BENCH_MAX_RUNS], v[BENCH_MAX_RUNS];
	double	 tpn = bench_cycles_per_ns();
	double	 ovh = bench_cycles_overhead() / tpn;
	unsigned runs = bench_runs(o), r;

	rg->rg_phases = true;
	ring_run(rg, iters); /* warm-up */
	for (r = 0; r < runs; r++) {
		rg->rg_t_alloc = rg->rg_t_pt = rg->rg_t_inval = 0;
		ring_run(rg, iters);
		a[r] = (double)rg->rg_t_alloc / tpn / (double)iters;
		p[r] = (double)rg->rg_t_pt / tpn / (double)iters;
		v[r] = (double)rg->rg_t_inval / tpn / (double)iters;
	}
	rg->rg_phases = false;
	/* Per packet the replay reads the counter around 2 allocation, 2
	 * page-table and 1 invalidation intervals: take the reads out. */
	row->alloc_ns = fmax(0.0, bench_quantile(a, runs, 0.5) - 2 * ovh);
	row->pt_ns = fmax(0.0, bench_quantile(p, runs, 0.5) - 2 * ovh);
	row->inval_ns = fmax(0.0, bench_quantile(v, runs, 0.5) - ovh);
	row->iommu_ns = row->alloc_ns + row->pt_ns + row->inval_ns;
}

/*
 * row->map_ns: rg's load + unload over the no-IOMMU tag's, paired, each
 * half after a lap of its ring (at depths past the caches the other
 * ring's lap has evicted it; a real TX ring runs warm).
 */
static int
measure_map(const struct bench_opts *o, struct testbed *tb, struct ring *rg,
    unsigned long n, bool rx, uint64_t max_iters, struct bench_row *row)
{
	struct stream	    bse;
	struct ring	    brg;
	struct bench_result map;
	int		    error;

	if ((error = stream_init(tb, &bse, BS_NOIOMMU, 0)) != 0)
		return error;
	if ((error = ring_init(&brg, tb, &bse, n, rx, false)) == 0) {
		rg->rg_nodev = brg.rg_nodev = true;
		bench_measure_paired(o, ring_run, rg, &brg,
		    n < max_iters ? n : max_iters, max_iters, &map);
		rg->rg_nodev = false;
		row->map_ns = map.ns;
		error = brg.rg_error;
		ring_fini(&brg);
	}
	stream_fini(tb, &bse);
	return error;
}

static int
one_case(const struct bench_opts *o, struct bench_report *rep,
    struct testbed *tb, enum bench_strategy st, unsigned long n, bool rx)
{
	struct stream	    se;
	struct ring	    rg;
	struct bench_result res;
	struct bench_row    row;
	const char	   *name = bench_strategy_name(st);
	uint64_t	    max_iters;
	int		    error;

	bench_progress("tcpbench %s %s N=%lu", rx ? "rx" : "tx", name, n);
	error = stream_init(tb, &se, st, next_sid++);
	if (error != 0) {
		fprintf(stderr, "iommu-bench: %s: stream: %s\n", name,
		    strerror(error));
		return error;
	}
	error = ring_init(&rg, tb, &se, n, rx, false);
	if (error != 0) {
		fprintf(stderr, "iommu-bench: %s N=%lu: ring: %s\n", name, n,
		    strerror(error));
		stream_fini(tb, &se);
		return error;
	}
	max_iters = o->quick ? 4096 : UINT64_MAX;
	bench_measure(o, ring_run, &rg, 1, max_iters, &res);
	bench_row_init(&row, "tcpbench", rx ? "rx" : "tx", name, n, "packet");
	bench_result_to_row(&res, &row);
	if (st != BS_NOIOMMU)
		error = measure_map(o, tb, &rg, n, rx, max_iters, &row);
	if (error == 0 && st != BS_NOIOMMU && st != BS_ATCREATE_LAZY &&
	    st != BS_MAGAZINE_LAZY) {
		if (rg.rg_replay) {
			measure_phases(o, &rg, res.iters, &row);
		} else {
			ring_fini(&rg);
			error = ring_init(&rg, tb, &se, n, rx, true);
			if (error == 0)
				measure_phases(o, &rg, res.iters, &row);
		}
	}
	if (error == 0 && rg.rg_error != 0)
		error = rg.rg_error;
	ring_fini(&rg);
	stream_fini(tb, &se);
	if (error != 0) {
		fprintf(stderr, "iommu-bench: %s N=%lu: packet: %s\n", name, n,
		    strerror(error));
		return error;
	}
	bench_report_add(rep, &row);
	return 0;
}

static void
finish_rows(struct bench_report *rep, size_t first, double stack_ns)
{
	size_t i;

	for (i = first; i < rep->nrows; i++) {
		struct bench_row       *r = &rep->rows[i];
		const struct bench_row *base =
		    bench_report_find(rep, "tcpbench", r->variant,
			bench_strategy_name(BS_NOIOMMU), r->n);

		if (base != NULL)
			r->overhead = r->ns - base->ns;
		if (!isnan(stack_ns))
			r->mbit_s = bench_equiv_mbit_s(stack_ns, r->ns);
	}
}

int
bench_scn_tcpbench(const struct bench_opts *o, struct bench_report *rep)
{
	struct testbed		tb;
	const struct bench_row *base;
	unsigned long		ns[BENCH_MAX_SWEEP + 1], nmax = 0;
	size_t			first = rep->nrows;
	unsigned		nn = 0, i;
	int			s, error;

	/* The sweep, with -N merged in at its place. */
	for (i = 0; i < o->nsweep; i++) {
		if (o->ring < o->sweep_n[i] &&
		    (nn == 0 || ns[nn - 1] < o->ring))
			ns[nn++] = o->ring;
		if (nn == 0 || ns[nn - 1] != o->sweep_n[i])
			ns[nn++] = o->sweep_n[i];
	}
	if (nn == 0 || ns[nn - 1] < o->ring)
		ns[nn++] = o->ring;
	for (i = 0; i < nn; i++)
		if (ns[i] > nmax)
			nmax = ns[i];
	/* Two rings at once (map_ns): 8 KiB each per slot, and tables. */
	error = testbed_init(&tb, o, 64 + nmax * 8 * 4 / 1024, 0, 0);
	if (error != 0) {
		fprintf(stderr, "iommu-bench: testbed: %s\n", strerror(error));
		return error;
	}
	rep->magazine_path = "per-map, domain with dc_magazines";
	for (i = 0; i < nn && error == 0; i++)
		for (s = 0; s < BS_COUNT && error == 0; s++)
			if (o->strategies & (1u << s))
				error = one_case(o, rep, &tb,
				    (enum bench_strategy)s, ns[i], false);
	for (s = 0; s < BS_COUNT && error == 0; s++)
		if (o->strategies & (1u << s))
			error = one_case(
			    o, rep, &tb, (enum bench_strategy)s, o->ring, true);
	testbed_fini(&tb);
	if (error != 0)
		return error;
	base = bench_report_find(
	    rep, "tcpbench", "tx", bench_strategy_name(BS_NOIOMMU), o->ring);
	if (base != NULL) {
		rep->noiommu_ns = base->ns;
		rep->stack_ns =
		    BENCH_PKT_BITS / BENCH_BASELINE_MBITS * 1000.0 - base->ns;
	}
	finish_rows(rep, first, rep->stack_ns);
	return 0;
}
