/*
 * libiommu - a spinning mutex for short critical sections that must not
 * sleep (the driver's command-queue and flush-queue locks, OpenBSD's
 * mtx_enter(9) as the seed's smmu(4) takes it), and the back-off every
 * spin-wait in the library uses (iommu__spin_pause: the model's locks
 * and TLB set waits too).  Never installed.
 *
 * A pthread mutex puts a contended waiter to sleep in the kernel; the
 * holder's unlock then pays a futex wake and the waiter a context switch,
 * microseconds each, many times the section they guard (a few commands
 * and a CMD_SYNC poll).  A waiter here spins on a plain load (the line
 * stays shared until the holder's release store), with a CPU pause hint,
 * and yields its CPU only after IOMMU__SPIN_YIELD_AFTER polls, so that a
 * holder preempted on an overcommitted host still gets to run.
 *
 * Invariant: sp_held is 1 exactly while some thread is between
 * iommu__spin_lock and iommu__spin_unlock.  Not recursive.
 */
#ifndef IOMMU_SPIN_H
#define IOMMU_SPIN_H

#include <sched.h>
#include <stdatomic.h>

#define IOMMU__SPIN_YIELD_AFTER 1024

struct iommu__spin {
	atomic_uint sp_held;
};

static inline void
iommu__spin_init(struct iommu__spin *sp)
{
	atomic_init(&sp->sp_held, 0);
}

static inline void
iommu__cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * One poll of a spin-wait: a pause hint, and every
 * IOMMU__SPIN_YIELD_AFTER polls the CPU given away (the holder may be
 * descheduled).  *spins is the waiter's count, 0 at first.
 */
static inline void
iommu__spin_pause(unsigned *spins)
{
	if (++*spins < IOMMU__SPIN_YIELD_AFTER) {
		iommu__cpu_pause();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static inline void
iommu__spin_lock(struct iommu__spin *sp)
{
	unsigned spins = 0;

	while (atomic_exchange_explicit(&sp->sp_held, 1, memory_order_acquire))
		while (atomic_load_explicit(&sp->sp_held, memory_order_relaxed))
			iommu__spin_pause(&spins);
}

static inline void
iommu__spin_unlock(struct iommu__spin *sp)
{
	atomic_store_explicit(&sp->sp_held, 0, memory_order_release);
}

#endif /* IOMMU_SPIN_H */
