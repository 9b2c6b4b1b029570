/*
 * iommu-bench - a barrier the worker threads spin on.
 *
 * A sleeping barrier (pthread_barrier_wait) starts each repetition with a
 * futex wake-up of the other threads.  On a shared virtual machine a vCPU
 * that went idle is often descheduled by the host, and waking it takes
 * anything up to milliseconds: the scale scenario would time the host's
 * scheduler, not the IOMMU.  Threads waiting at a spin gate keep their CPU
 * and leave it together, within the time one store takes to reach them.
 *
 * Sense-reversing: g_sense flips each time the last of g_n threads
 * arrives; a thread waits for the flip it expects (its own local sense),
 * so the gate is reusable at once, without a second counter.  Arrivals
 * are read-modify-writes with acquire and release and the flip is a
 * release store: whatever a thread wrote before it arrived, every thread
 * leaving the gate sees.
 */
#ifndef BENCH_SPIN_GATE_H
#define BENCH_SPIN_GATE_H

#include <stdatomic.h>
#include <stdbool.h>

struct spin_gate {
	atomic_uint g_arrived;
	atomic_uint g_sense;
	unsigned    g_n;
};

void spin_gate_init(struct spin_gate *, unsigned nthreads);
/*
 * Waits until all g_n threads are here.  *local_sense is the thread's own
 * word (0 at first).  Returns true in exactly one thread, the last to
 * arrive (it has released the others already).
 */
bool spin_gate_wait(struct spin_gate *, unsigned *local_sense);

#endif /* BENCH_SPIN_GATE_H */
