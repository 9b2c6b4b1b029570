/*
 * libiommu - the VP tables' private structures and the small helpers that
 * pagetable.c (walks, enter, remove, prepare) and pagetable_span.c (an
 * owner's runs of parked PTEDs) share.  The layout and its invariants are
 * described in pagetable.c.
 */
#ifndef IOMMU_PAGETABLE_INTERNAL_H
#define IOMMU_PAGETABLE_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/pagetable.h>
#include <iommu/physmem.h>

#include "iommu_internal.h"
#include "pagetable_desc.h"

#define PT_LEVEL_BITS 9
#define PT_ENTRIES    (1u << PT_LEVEL_BITS)
#define PT_LAST_LEVEL 3
#define PT_L3_SPAN    ((uint64_t)PT_ENTRIES << IOMMU_PAGE_SHIFT)

/* Host side of one level: a VP pool item. */
struct iommu__pt_level {
	_Atomic(void *) lv_child[PT_ENTRIES]; /* levels, or PTEDs at level 3 */
	uint64_t	lv_pa;		      /* descriptor frame */
	uint64_t       *lv_desc;	      /* its direct-map pointer */
	uint64_t	lv_base;	      /* level 3: first IOVA mapped */
	/* Level 3: bit i set while lv_child[i] is a parked PTED. */
	_Atomic uint64_t lv_parked[PT_ENTRIES / 64];
};

/*
 * What the software knows about one page: a PTED pool item.  The page
 * descriptor encodes the PA, protection and cache mode, so pd_pte is the
 * whole record of the mapping.  A parked PTED keeps pd_pte 0: its
 * descriptor is the record (enter claims it with a compare-and-swap, a
 * remove takes it back with another), so mapping and unmapping a parked
 * page never touches the PTED.  A PTED becomes parked when prepared, or
 * when a remove keeps it (pt_keep_pteds); it never goes back to unparked
 * while linked.  Its fields are written before it is linked, and after
 * that only by a thread holding its slot (PT_BUSY: a keeping remove parks
 * it in place); a thread that has not linked it and does not hold its
 * slot never reads them.
 */
struct iommu__pted {
	uint64_t pd_va;	    /* IOVA of the page */
	uint64_t pd_pte;    /* the page descriptor written for it */
	bool	 pd_parked; /* kept across removes (see above) */
};

/*
 * A level-3 slot's child while one thread changes the slot: it swapped
 * PT_BUSY in (for the empty slot, or for the PTED it now owns), and alone
 * writes the slot's descriptor, bit and child until it stores the new
 * child.  Everyone else waits (pt_child_stable): the holder runs a few
 * stores and never waits for anything meanwhile.  So two removes of one
 * page cannot both free its PTED, a remove cannot slip in between an
 * enter's link and its descriptor, and what a holder finds in the parked
 * bit stays true until it lets go.  Never dereferenced.
 */
extern char iommu__pt_busy;
#define PT_BUSY ((void *)&iommu__pt_busy)

struct iommu_pt {
	struct iommu_physmem	      *pt_pm;
	struct iommu_pool	      *pt_pted_pool;
	struct iommu_pool	      *pt_vp_pool;
	const struct iommu_pt_tlb_ops *pt_tlb;
	void			      *pt_tlb_cookie;
	const struct iommu_allocator  *pt_alloc;
	unsigned		       pt_ias;
	unsigned		       pt_oas;
	unsigned		       pt_start; /* 0 or 1 */
	struct iommu__pt_level	      *pt_root;
	pthread_mutex_t		       pt_lock; /* level creation */
	uint64_t		       pt_levels[4];
	uint64_t		       pt_level_allocs;
	bool pt_keep_pteds; /* removes park PTEDs instead of freeing them */
	/* A page descriptor's bits but the PA, by cache mode and WRITE. */
	uint64_t pt_attrs[IOMMU_CACHE_DEV + 1][2];
	/* Written by walkers: kept off the lines of the fields above. */
	char				  pt_pad0[64];
	_Atomic(struct iommu__pt_level *) pt_l3_hint;
	char				  pt_pad1[64 - sizeof(void *)];
};

static inline unsigned
pt_index(unsigned level, uint64_t iova)
{
	unsigned shift;

	shift = IOMMU_PAGE_SHIFT + PT_LEVEL_BITS * (PT_LAST_LEVEL - level);
	return (unsigned)(iova >> shift) & (PT_ENTRIES - 1);
}

static inline uint64_t
pt_desc_load(const struct iommu__pt_level *lv, unsigned i)
{
	uint64_t raw;

	raw = __atomic_load_n(&lv->lv_desc[i], __ATOMIC_ACQUIRE);
	return iommu__le64_dec(&raw);
}

/*
 * Lock-free walk from the root towards iova: returns the deepest existing
 * level on the way (at most level 3) and sets *level to its depth.
 */
static inline struct iommu__pt_level *
pt_walk(struct iommu_pt *pt, uint64_t iova, unsigned *level)
{
	struct iommu__pt_level *lv = pt->pt_root, *child, *hint;
	unsigned		l;

	/* Acquire: pairs with the release below, so lv_base is visible. */
	hint = atomic_load_explicit(&pt->pt_l3_hint, memory_order_acquire);
	if (hint != NULL && hint->lv_base == (iova & ~(PT_L3_SPAN - 1))) {
		*level = PT_LAST_LEVEL;
		return hint;
	}
	for (l = pt->pt_start; l < PT_LAST_LEVEL; l++) {
		child = atomic_load_explicit(
		    &lv->lv_child[pt_index(l, iova)], memory_order_acquire);
		if (child == NULL)
			break;
		lv = child;
	}
	if (l == PT_LAST_LEVEL)
		atomic_store_explicit(
		    &pt->pt_l3_hint, lv, memory_order_release);
	*level = l;
	return lv;
}

/* The level-3 table that maps iova, or NULL while it does not exist. */
static inline struct iommu__pt_level *
pt_l3_lookup(struct iommu_pt *pt, uint64_t iova)
{
	struct iommu__pt_level *lv;
	unsigned		level;

	lv = pt_walk(pt, iova, &level);
	return level == PT_LAST_LEVEL ? lv : NULL;
}

/* Release: a walker that sees the descriptor sees what was built before. */
static inline void
pt_desc_write(uint64_t *slot, uint64_t desc)
{
	uint64_t raw;

	iommu__le64_enc(&raw, desc);
	__atomic_store_n(slot, raw, __ATOMIC_RELEASE);
}

static inline void
pt_desc_store(struct iommu__pt_level *lv, unsigned i, uint64_t desc)
{
	pt_desc_write(&lv->lv_desc[i], desc);
}

/* Arguments every enter checks: EINVAL, or 0. */
static inline int
pt_enter_args(
    uint64_t iova, uint64_t pa, unsigned prot, unsigned cache, unsigned flags)
{
	if ((iova | pa) & IOMMU_PAGE_MASK ||
	    (prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)) == 0 ||
	    (prot & ~(unsigned)(IOMMU_PROT_READ | IOMMU_PROT_WRITE)) != 0 ||
	    cache > IOMMU_CACHE_DEV || (flags & ~IOMMU_PT_NOLEVELALLOC) != 0)
		return EINVAL;
	return 0;
}

/*
 * The descriptor for pa (prot and cache checked by pt_enter_args): stage 1
 * has no write-only, WRITE maps READ too.
 */
static inline uint64_t
pt_page_desc(
    const struct iommu_pt *pt, uint64_t pa, unsigned prot, unsigned cache)
{
	return pt->pt_attrs[cache][(prot & IOMMU_PROT_WRITE) != 0] |
	    (pa & IOMMU__PT_OA_MASK);
}

/* A page left the table: tell the TLB hooks. */
static inline void
pt_note_removed(struct iommu_pt *pt, uint64_t iova)
{
	if (pt->pt_tlb != NULL && pt->pt_tlb->tlb_add_page != NULL)
		pt->pt_tlb->tlb_add_page(
		    pt->pt_tlb_cookie, iova, IOMMU_PAGE_SIZE);
}

/* A parked page is mapped while its descriptor is (see the PTED). */
static inline bool
pt_slot_mapped(const uint64_t *slot)
{
	return __atomic_load_n(slot, __ATOMIC_ACQUIRE) != 0;
}

/* Slot i3's child once no thread holds it PT_BUSY: NULL or a PTED. */
static inline struct iommu__pted *
pt_child_stable(struct iommu__pt_level *l3, unsigned i3)
{
	void	*child;
	unsigned spins = 0;

	while ((child = atomic_load_explicit(
		    &l3->lv_child[i3], memory_order_acquire)) == PT_BUSY)
		if (++spins % 64 == 0)
			sched_yield(); /* the holder may not be running */
	return child;
}

/* Swaps PT_BUSY in for child (NULL or a PTED): true if it was there. */
static inline bool
pt_child_hold(struct iommu__pt_level *l3, unsigned i3, void *child)
{
	return atomic_compare_exchange_strong_explicit(&l3->lv_child[i3],
	    &child, PT_BUSY, memory_order_acquire, memory_order_relaxed);
}

/* Ends a hold: child (NULL or a PTED) is the slot's, with what it wrote. */
static inline void
pt_child_release(struct iommu__pt_level *l3, unsigned i3, void *child)
{
	atomic_store_explicit(&l3->lv_child[i3], child, memory_order_release);
}

static inline bool
pt_pted_parked(const struct iommu__pted *pd)
{
	return __atomic_load_n(&pd->pd_parked, __ATOMIC_ACQUIRE);
}

/*
 * The parked bitmap of a level-3 table: a set bit means the slot holds a
 * parked PTED, or is held (PT_BUSY) by the thread linking or unlinking
 * one, so its descriptor is the page's record and a reader need not touch
 * the PTED.  The bit changes only under a hold, set before a parked PTED
 * shows and cleared after it is gone: a child that is neither NULL nor
 * PT_BUSY, with the bit clear, is an unparked PTED, a mapped page.
 */
static inline void
pt_parked_set(struct iommu__pt_level *l3, unsigned i3)
{
	atomic_fetch_or_explicit(
	    &l3->lv_parked[i3 / 64], 1ULL << (i3 % 64), memory_order_release);
}

static inline void
pt_parked_clear(struct iommu__pt_level *l3, unsigned i3)
{
	atomic_fetch_and_explicit(&l3->lv_parked[i3 / 64], ~(1ULL << (i3 % 64)),
	    memory_order_release);
}

static inline bool
pt_parked_test(struct iommu__pt_level *l3, unsigned i3)
{
	return (atomic_load_explicit(
		    &l3->lv_parked[i3 / 64], memory_order_acquire) >>
		   (i3 % 64)) &
	    1;
}

/*
 * Maps a parked page, whose descriptor is at slot, with desc: the
 * compare-and-swap on the descriptor makes one of two racing enters win
 * (EEXIST for the other, and for a page already mapped).  Release: the
 * walker that sees it sees what was written before.
 */
static inline int
pt_parked_fill(uint64_t *slot, uint64_t desc)
{
	uint64_t expect = 0, raw;

	iommu__le64_enc(&raw, desc);
	if (!__atomic_compare_exchange_n(
		slot, &expect, raw, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return EEXIST;
	return 0;
}

/*
 * Unmaps a parked page, whose descriptor is at slot: the compare-and-swap
 * makes one of two racing removes win (ENOENT for the other, and for a
 * page not mapped).
 */
static inline int
pt_parked_unfill(uint64_t *slot)
{
	uint64_t raw = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	do {
		if (raw == 0)
			return ENOENT;
	} while (!__atomic_compare_exchange_n(
	    slot, &raw, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 0;
}

#endif /* IOMMU_PAGETABLE_INTERNAL_H */
