/*
 * iommu-bench - repeated timed runs, medians and spread, progress line.
 *
 * bench_measure() first runs the operation with a doubling iteration
 * count until one repetition lasts about a quarter of the target (this is
 * also the warm-up: caches, magazines, TLB and branch predictors settle),
 * scales the count to the target length, runs one more unmeasured
 * repetition, then times opts->runs repetitions with the cycle counter and
 * CLOCK_MONOTONIC.  Per-operation figures are a repetition's elapsed time
 * divided by its iteration count; the report gives the median over the
 * repetitions and the 25th/75th percentiles as the spread.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cycles.h"

void
bench_row_init(struct bench_row *r, const char *scenario, const char *variant,
    const char *strategy, unsigned long n, const char *unit)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->scenario, sizeof(r->scenario), "%s", scenario);
	snprintf(r->variant, sizeof(r->variant), "%s", variant);
	snprintf(r->strategy, sizeof(r->strategy), "%s", strategy);
	r->n = n;
	r->unit = unit;
	r->ns = r->ns_lo = r->ns_hi = r->cycles = NAN;
	r->overhead = r->alloc_ns = r->pt_ns = r->inval_ns = NAN;
	r->iommu_ns = r->map_ns = NAN;
	r->mbit_s = r->mbyte_s = r->ratio = NAN;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_quantile(double *v, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * frac;
}

unsigned
bench_runs(const struct bench_opts *o)
{
	if (o->runs < 1)
		return 1;
	return o->runs > BENCH_MAX_RUNS ? BENCH_MAX_RUNS : o->runs;
}

void
bench_measure(const struct bench_opts *o, bench_fn *fn, void *arg,
    uint64_t min_iters, uint64_t max_iters, struct bench_result *res)
{
	double ns[BENCH_MAX_RUNS], cyc[BENCH_MAX_RUNS],
	    target = o->run_ms * 1e6;
	uint64_t iters = min_iters, t0, t1, c0, c1;
	unsigned runs = bench_runs(o);
	unsigned i;

	if (min_iters == 0)
		min_iters = iters = 1;
	for (;;) {
		t0 = bench_now_ns();
		fn(arg, iters);
		t1 = bench_now_ns();
		if ((double)(t1 - t0) >= target / 4 || iters >= max_iters)
			break;
		iters *= 2;
	}
	if (t1 > t0 && (double)(t1 - t0) < target) {
		double scale = target / (double)(t1 - t0);

		iters = (uint64_t)((double)iters * scale);
	}
	iters = (iters + min_iters - 1) / min_iters * min_iters;
	if (iters > max_iters)
		iters = max_iters / min_iters * min_iters;
	if (iters < min_iters)
		iters = min_iters;
	fn(arg, iters);
	for (i = 0; i < runs; i++) {
		t0 = bench_now_ns();
		c0 = bench_cycles();
		fn(arg, iters);
		c1 = bench_cycles();
		t1 = bench_now_ns();
		ns[i] = (double)(t1 - t0) / (double)iters;
		cyc[i] = (double)(c1 - c0) / (double)iters;
		bench_progress(NULL);
	}
	res->iters = iters;
	res->ns = bench_quantile(ns, runs, 0.5);
	res->ns_lo = bench_quantile(ns, runs, 0.25);
	res->ns_hi = bench_quantile(ns, runs, 0.75);
	res->cycles = bench_quantile(cyc, runs, 0.5);
}

/*
 * The cost of a over b, paired: each repetition runs a, then b, for the
 * same iteration count (sized for a, the slower, to run_ms / 4), and the
 * median of the runs * 4 per-repetition differences is the answer, the
 * quartiles its spread.  Noise on this machine comes in bursts longer
 * than a repetition: neighbours in time see the same burst, so their
 * difference cancels most of it where two separate medians would not.
 * Each timed half follows warm_iters untimed iterations of its own: a and
 * b evict each other's data, and a half that began cold would charge the
 * refill to whichever side has more of it.
 */
void
bench_measure_paired(const struct bench_opts *o, bench_fn *fn, void *a, void *b,
    uint64_t warm_iters, uint64_t max_iters, struct bench_result *res)
{
	struct bench_opts   sub = *o;
	struct bench_result sized;
	double		    d[4 * BENCH_MAX_RUNS];
	uint64_t	    t0, t1, t2, iters;
	unsigned	    runs, i;

	sub.run_ms = o->run_ms / 4;
	sub.runs = 1;
	bench_measure(&sub, fn, a, 1, max_iters, &sized);
	fn(b, sized.iters); /* b's warm-up */
	iters = sized.iters;
	runs = 4 * bench_runs(o);
	for (i = 0; i < runs; i++) {
		if (warm_iters != 0)
			fn(a, warm_iters);
		t0 = bench_now_ns();
		fn(a, iters);
		t1 = bench_now_ns();
		if (warm_iters != 0)
			fn(b, warm_iters);
		t2 = bench_now_ns();
		fn(b, iters);
		d[i] = ((double)(t1 - t0) - (double)(bench_now_ns() - t2)) /
		    (double)iters;
		bench_progress(NULL);
	}
	res->iters = iters;
	res->ns = bench_quantile(d, runs, 0.5);
	res->ns_lo = bench_quantile(d, runs, 0.25);
	res->ns_hi = bench_quantile(d, runs, 0.75);
	res->cycles = NAN;
}

void
bench_result_to_row(const struct bench_result *res, struct bench_row *r)
{
	r->ns = res->ns;
	r->ns_lo = res->ns_lo;
	r->ns_hi = res->ns_hi;
	r->cycles = res->cycles;
}

double
bench_equiv_mbit_s(double stack_ns, double pkt_ns)
{
	/* bits per packet / ns per packet = Gbit/s. */
	return BENCH_PKT_BITS / (stack_ns + pkt_ns) * 1000.0;
}

/* Progress: silent for the first seconds, then a line every 2 s. */
static uint64_t progress_t0, progress_last;
static char	progress_msg[160];
static int	progress_shown;

void
bench_progress_start(void)
{
	progress_t0 = progress_last = bench_now_ns();
	progress_msg[0] = '\0';
	progress_shown = 0;
}

void
bench_progress(const char *fmt, ...)
{
	uint64_t now = bench_now_ns();
	va_list	 ap;
	int	 tty = isatty(STDERR_FILENO);

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(progress_msg, sizeof(progress_msg), fmt, ap);
		va_end(ap);
	}
	if (now - progress_t0 < 3000000000u ||
	    now - progress_last < (tty ? 500000000u : 5000000000u))
		return;
	progress_last = now;
	fprintf(stderr, tty ? "\r\033[K[%5.1f s] %s" : "[%5.1f s] %s\n",
	    (double)(now - progress_t0) / 1e9, progress_msg);
	fflush(stderr);
	progress_shown = tty;
}

void
bench_progress_end(void)
{
	if (progress_shown)
		fprintf(stderr, "\r\033[K");
	progress_shown = 0;
}
