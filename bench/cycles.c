/*
 * iommu-bench - cycle counter calibration against CLOCK_MONOTONIC.
 *
 * The ratio is measured over about 50 ms, three times, keeping the median,
 * so a preempted interval does not skew it; the per-call overhead of the
 * counter is the minimum over many back-to-back reads.
 */
#include <stddef.h>

#include "cycles.h"

static double ticks_per_ns = 1.0;
static double read_overhead;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	double	 r[3], tmp, best = 1e30;
	uint64_t a, b;
	int	 i, j;

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
	for (i = 0; i < 1000; i++) {
		a = bench_cycles();
		b = bench_cycles();
		if ((double)(b - a) < best)
			best = (double)(b - a);
	}
	read_overhead = best;
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
