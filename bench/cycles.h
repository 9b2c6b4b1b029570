/*
 * iommu-bench - the cycle counter.
 *
 * The CPU's own counter where there is one (RDTSC on x86-64: constant-rate
 * reference cycles; CNTVCT_EL0 on arm64: the generic timer), else
 * CLOCK_MONOTONIC in nanoseconds.  bench_cycles_calibrate() measures the
 * counter against CLOCK_MONOTONIC once, so every figure can be given both
 * in counter ticks ("cycles") and in nanoseconds.
 */
#ifndef BENCH_CYCLES_H
#define BENCH_CYCLES_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BENCH_COUNTER_NAME "rdtsc"
static inline uint64_t
bench_cycles(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define BENCH_COUNTER_NAME "cntvct_el0"
static inline uint64_t
bench_cycles(void)
{
	uint64_t v;

	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}
#else
#define BENCH_COUNTER_NAME "clock_monotonic"
static inline uint64_t
bench_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Nanoseconds from CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);
/* Counter ticks per nanosecond (1.0 for the monotonic fallback). */
double bench_cycles_calibrate(void);
double bench_cycles_per_ns(void);
/* Cost of one bench_cycles() call, in ticks (subtracted from samples). */
double bench_cycles_overhead(void);

#endif /* BENCH_CYCLES_H */
