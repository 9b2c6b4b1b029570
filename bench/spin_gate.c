/*
 * iommu-bench - a barrier the worker threads spin on (spin_gate.h).
 *
 * A waiting thread pauses between polls and, after a few thousand polls,
 * yields its CPU: with more threads than CPUs a thread that has not yet
 * arrived must get to run.
 */
#include <sched.h>

#include "spin_gate.h"

#define SPINS_BEFORE_YIELD 4096

static void spin_pause(void);

void
spin_gate_init(struct spin_gate *g, unsigned nthreads)
{
	atomic_init(&g->g_arrived, 0);
	atomic_init(&g->g_sense, 0);
	g->g_n = nthreads;
}

bool
spin_gate_wait(struct spin_gate *g, unsigned *local_sense)
{
	unsigned sense = *local_sense ^= 1, spins = 0;

	if (atomic_fetch_add_explicit(&g->g_arrived, 1, memory_order_acq_rel) +
		1 ==
	    g->g_n) {
		atomic_store_explicit(&g->g_arrived, 0, memory_order_relaxed);
		atomic_store_explicit(&g->g_sense, sense, memory_order_release);
		return true;
	}
	while (
	    atomic_load_explicit(&g->g_sense, memory_order_acquire) != sense) {
		if (++spins < SPINS_BEFORE_YIELD) {
			spin_pause();
		} else {
			spins = 0;
			sched_yield();
		}
	}
	return false;
}

static void
spin_pause(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__asm__ __volatile__("pause");
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
	__asm__ __volatile__("yield");
#endif
}
