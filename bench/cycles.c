/*
 * iommu-bench - cycle counter calibration against CLOCK_MONOTONIC.
 *
 * The ratio is measured over about 50 ms, three times, keeping the median,
 * so a preempted interval does not skew it; the per-interval overhead of
 * the counter is the median over many back-to-back reads.
 */
#include <stddef.h>
#include <stdlib.h>

#include "cycles.h"

#define NREADS 1001

static double ticks_per_ns = 1.0;
static double read_overhead;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
measure_once(uint64_t span_ns)
{
	uint64_t t0, t1, c0, c1;

	t0 = bench_now_ns();
	c0 = bench_cycles();
	do
		t1 = bench_now_ns();
	while (t1 - t0 < span_ns);
	c1 = bench_cycles();
	return (double)(c1 - c0) / (double)(t1 - t0);
}

double
bench_cycles_calibrate(void)
{
	static double reads[NREADS];
	double	      r[3], tmp;
	uint64_t      a, b;
	int	      i, j;

	for (i = 0; i < 3; i++)
		r[i] = measure_once(50 * 1000 * 1000 / 3);
	for (i = 0; i < 3; i++)
		for (j = i + 1; j < 3; j++)
			if (r[j] < r[i]) {
				tmp = r[i];
				r[i] = r[j];
				r[j] = tmp;
			}
	ticks_per_ns = r[1] > 0 ? r[1] : 1.0;
	/* The median of many back-to-back reads: what one timed interval
	 * adds to what it measures. */
	for (i = 0; i < NREADS; i++) {
		a = bench_cycles();
		b = bench_cycles();
		reads[i] = (double)(b - a);
	}
	qsort(reads, NREADS, sizeof(reads[0]), cmp_double);
	read_overhead = reads[NREADS / 2];
	return ticks_per_ns;
}

double
bench_cycles_per_ns(void)
{
	return ticks_per_ns;
}

double
bench_cycles_overhead(void)
{
	return read_overhead;
}
