/*
 * libiommu - the VP page tables (OpenBSD smmu(4) smmu_vp_enter /
 * smmu_prepare / smmu_remove after the seed commit), with the descriptors
 * in simulated physical memory.
 *
 * Layout, for one input address (4 KiB granule, 9 index bits per level):
 *
 *   struct iommu_pt                      simulated RAM (direct map)
 *     pt_root ----> level (VP item)
 *                   lv_pa, lv_desc ----> frame: desc[i] = TABLE | child PA
 *                   lv_child[i] ---+
 *                                  v
 *                   level ...            frame ...
 *                     (level 3)  lv_child[i] = PTED, desc[i] = page desc
 *
 * A level is one VP pool item: 512 child pointers plus its frame's PA and
 * direct-map pointer, so walks touch only host memory; descriptors are
 * read and written through the direct map as explicit little-endian
 * 64-bit atomic accesses (what iommu_physmem_read64/write64 do, without
 * the call).
 *
 * Invariants (checked by iommu_pt_validate):
 *  - at levels 0..2 lv_child[i] != NULL exactly when desc[i] is valid, a
 *    table descriptor holding the child's lv_pa; at level 3 lv_child[i]
 *    is a PTED whose pd_pte equals desc[i], or NULL with desc[i] == 0,
 *    or PT_BUSY while one thread changes the slot: enter (linking, or
 *    filling a parked page), remove (unlinking, parking, or clearing a
 *    parked page), prepare and unprepare work on a slot only under such
 *    a hold, with the parked bit tested while held, so a PTED is read and
 *    freed by one thread only, two removes of a page that two callers
 *    share (identity maps) free its PTED once, and a remove cannot clear
 *    a mapping made after the PTED it saw was gone.  A span's fill and
 *    clear take no hold: their owner alone uses those pages.
 *  - a parked PTED (iommu_pt_prepare_pteds, OpenBSD's later smmu_prepare)
 *    stays linked whether its page is mapped or not, and its descriptor
 *    alone says which (pd_pte stays 0): enter claims the page with a
 *    compare-and-swap on the descriptor, remove takes it back with
 *    another, neither touches the pool (nor the PTED's fields), so a
 *    prepared range maps and unmaps with no allocation at all; it goes
 *    back to the pool only at iommu_pt_unprepare or destroy.  A table
 *    that keeps PTEDs (iommu_pt_set_keep_pteds) parks a PTED at its page's
 *    first remove instead of freeing it, so recycled IOVA maps as a
 *    prepared range does.
 *  - a level-3 table's lv_parked bit i is set exactly while lv_child[i]
 *    is a parked PTED (or held, on its way in or out), so enter, remove
 *    and iommu_pt_span tell a parked page from a mapped one by the bit and
 *    use the slot's descriptor without touching the PTED.
 *  - a level, once linked, stays linked until iommu_pt_destroy; removing
 *    a page clears only its level-3 slot.
 *  - pt_levels[l] counts the levels at depth l, under pt_lock.
 *
 * Walk hint: pt_l3_hint is the level-3 table the last full walk reached.
 * A level-3 table records the base of the 2 MiB it maps (lv_base, set
 * before it is linked, never changed), so a walk for an IOVA in that range
 * returns the hint after one load and compare instead of chasing three
 * child pointers; since levels stay linked until destroy, the hint can
 * never be stale.  It is written only when it changes and sits on its own
 * cache line, away from the read-mostly fields.
 *
 * Publication: a new chain of levels is built completely (frames zeroed,
 * inner descriptors and child pointers written) while private, then its
 * top is linked by writing the parent's descriptor and storing the child
 * pointer, both with release order.  Lock-free walkers load child
 * pointers with acquire order, so they see every byte written before the
 * link.  All allocations for a chain happen before anything is linked, so
 * ENOMEM leaves nothing half-linked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "pagetable_internal.h"

char iommu__pt_busy; /* PT_BUSY's address */

static int pt_ensure_levels(
    struct iommu_pt *, uint64_t iova, struct iommu__pt_level **);
static int  pt_level_alloc(struct iommu_pt *, struct iommu__pt_level **);
static void pt_level_free(struct iommu_pt *, struct iommu__pt_level *);
static void pt_free_tree(
    struct iommu_pt *, struct iommu__pt_level *, unsigned level);
static uint64_t pt_count_pteds(struct iommu__pt_level *, unsigned level);
static int	pt_validate_level(struct iommu_pt *, struct iommu__pt_level *,
	 unsigned level, uint64_t base, uint64_t *levels);

size_t
iommu_pt_pted_item_size(void)
{
	return sizeof(struct iommu__pted);
}

size_t
iommu_pt_vp_item_size(void)
{
	return sizeof(struct iommu__pt_level);
}

int
iommu_pt_create(const struct iommu_pt_cfg *cfg, struct iommu_pt **out)
{
	const struct iommu_allocator *a;
	struct iommu_pt		     *pt;
	unsigned		      c;
	int			      error;

	if (cfg == NULL || out == NULL || cfg->ptc_physmem == NULL ||
	    cfg->ptc_pted_pool == NULL || cfg->ptc_vp_pool == NULL ||
	    cfg->ptc_ias < 32 || cfg->ptc_ias > 48 || cfg->ptc_oas < 32 ||
	    cfg->ptc_oas > 52)
		return EINVAL;
	a = iommu__allocator_or_default(cfg->ptc_alloc);
	pt = iommu__zalloc(a, sizeof(*pt));
	if (pt == NULL)
		return ENOMEM;
	pt->pt_pm = cfg->ptc_physmem;
	pt->pt_pted_pool = cfg->ptc_pted_pool;
	pt->pt_vp_pool = cfg->ptc_vp_pool;
	pt->pt_tlb = cfg->ptc_tlb;
	pt->pt_tlb_cookie = cfg->ptc_tlb_cookie;
	pt->pt_alloc = a;
	pt->pt_ias = cfg->ptc_ias;
	/* 52-bit output needs FEAT_LPA descriptors: not written here. */
	pt->pt_oas = cfg->ptc_oas > 48 ? 48 : cfg->ptc_oas;
	pt->pt_start = cfg->ptc_ias <= 39 ? 1 : 0;
	for (c = 0; c <= IOMMU_CACHE_DEV; c++) {
		pt->pt_attrs[c][0] = iommu__pt_page_desc(0, IOMMU_PROT_READ, c);
		pt->pt_attrs[c][1] = iommu__pt_page_desc(
		    0, IOMMU_PROT_READ | IOMMU_PROT_WRITE, c);
	}
	if (pthread_mutex_init(&pt->pt_lock, NULL) != 0) {
		iommu__free(a, pt, sizeof(*pt));
		return ENOMEM;
	}
	error = pt_level_alloc(pt, &pt->pt_root);
	if (error) {
		pthread_mutex_destroy(&pt->pt_lock);
		iommu__free(a, pt, sizeof(*pt));
		return error;
	}
	pt->pt_levels[pt->pt_start] = 1;
	pt->pt_level_allocs = 1;
	*out = pt;
	return 0;
}

void
iommu_pt_destroy(struct iommu_pt *pt)
{
	if (pt == NULL)
		return;
#if IOMMU_DEBUG >= 3
	if (iommu_pt_validate(pt) != 0)
		IOMMU_PANIC("page table %p is inconsistent", (void *)pt);
#endif
	pt_free_tree(pt, pt->pt_root, pt->pt_start);
	pthread_mutex_destroy(&pt->pt_lock);
	iommu__free(pt->pt_alloc, pt, sizeof(*pt));
}

uint64_t
iommu_pt_root_pa(const struct iommu_pt *pt)
{
	return pt->pt_root->lv_pa;
}

unsigned
iommu_pt_t0sz(const struct iommu_pt *pt)
{
	return 64 - pt->pt_ias;
}

unsigned
iommu_pt_start_level(const struct iommu_pt *pt)
{
	return pt->pt_start;
}

unsigned
iommu_pt_ias(const struct iommu_pt *pt)
{
	return pt->pt_ias;
}

unsigned
iommu_pt_oas(const struct iommu_pt *pt)
{
	return pt->pt_oas;
}

/* A zeroed frame and a zeroed VP item, not linked anywhere. */
static int
pt_level_alloc(struct iommu_pt *pt, struct iommu__pt_level **lvp)
{
	struct iommu__pt_level *lv;

	lv = iommu_pool_get(pt->pt_vp_pool, IOMMU_PR_NOWAIT | IOMMU_PR_ZERO);
	if (lv == NULL)
		return ENOMEM;
	if (iommu_physmem_alloc_pages(pt->pt_pm, 1, &lv->lv_pa) != 0) {
		iommu_pool_put(pt->pt_vp_pool, lv);
		return ENOMEM;
	}
	lv->lv_desc = iommu_physmem_kva(pt->pt_pm, lv->lv_pa);
	IOMMU_ASSERT(lv->lv_desc != NULL);
	*lvp = lv;
	return 0;
}

static void
pt_level_free(struct iommu_pt *pt, struct iommu__pt_level *lv)
{
	if (iommu_physmem_free_pages(pt->pt_pm, lv->lv_pa, 1) != 0)
		IOMMU_PANIC("page-table frame %#llx was not allocated",
		    (unsigned long long)lv->lv_pa);
	iommu_pool_put(pt->pt_vp_pool, lv);
}

/*
 * The slow path of the seed's double-checked locking: under the lock,
 * walk again (another thread may have created levels since), allocate
 * every missing level, build the chain privately and link it.  0 with
 * *l3 set, or ENOMEM with nothing changed.
 */
static int
pt_ensure_levels(
    struct iommu_pt *pt, uint64_t iova, struct iommu__pt_level **l3)
{
	struct iommu__pt_level *nlv[PT_LAST_LEVEL], *lv;
	unsigned		missing, level, j, i;
	int			error;

	pthread_mutex_lock(&pt->pt_lock);
	lv = pt_walk(pt, iova, &level);
	missing = PT_LAST_LEVEL - level;
	for (j = 0; j < missing; j++) {
		error = pt_level_alloc(pt, &nlv[j]);
		if (error) {
			while (j-- > 0)
				pt_level_free(pt, nlv[j]);
			pthread_mutex_unlock(&pt->pt_lock);
			return error;
		}
	}
	if (missing > 0)
		nlv[missing - 1]->lv_base = iova & ~(PT_L3_SPAN - 1);
	/* nlv[j] goes at depth level + 1 + j; link bottom-up. */
	for (j = missing; j-- > 1;) {
		i = pt_index(level + j, iova);
		pt_desc_store(
		    nlv[j - 1], i, iommu__pt_table_desc(nlv[j]->lv_pa));
		atomic_store_explicit(
		    &nlv[j - 1]->lv_child[i], nlv[j], memory_order_relaxed);
	}
	if (missing > 0) {
		i = pt_index(level, iova);
		pt_desc_store(lv, i, iommu__pt_table_desc(nlv[0]->lv_pa));
		atomic_store_explicit(
		    &lv->lv_child[i], nlv[0], memory_order_release);
		for (j = 0; j < missing; j++)
			pt->pt_levels[level + 1 + j]++;
		pt->pt_level_allocs += missing;
		lv = nlv[missing - 1];
	}
	pthread_mutex_unlock(&pt->pt_lock);
	*l3 = lv;
	return 0;
}

/* A PTED of the pool's, becoming the mapping of va with descriptor desc. */
static void
pt_pted_init(struct iommu__pted *pd, uint64_t va, uint64_t desc)
{
	pd->pd_va = va;
	pd->pd_parked = false;
	pd->pd_pte = desc;
}

/* One PTED from the pool, initialised as pt_pted_init does; NULL: none. */
static struct iommu__pted *
pt_pted_new(struct iommu_pt *pt, uint64_t va, uint64_t desc)
{
	struct iommu__pted *pd =
	    iommu_pool_get(pt->pt_pted_pool, IOMMU_PR_NOWAIT);

	if (pd != NULL)
		pt_pted_init(pd, va, desc);
	return pd;
}

/*
 * Enters desc into slot i3, which held child (a PTED, or NULL) when the
 * caller looked, under a hold of it: a parked page (its bit tested while
 * held, when it cannot change) is filled by compare-and-swap, which a
 * span's fill may race; a mapped one is EEXIST; into an empty slot goes
 * pd (the caller's, initialised), linked once its descriptor is in, so
 * that no remove sees it before.  EAGAIN: the slot changed since the
 * caller looked.  pd stays the caller's unless 0 is returned for an empty
 * slot.
 */
static int
pt_enter_slot(struct iommu__pt_level *l3, unsigned i3,
    struct iommu__pted *child, struct iommu__pted *pd, uint64_t desc)
{
	int error = 0;

	if (!pt_child_hold(l3, i3, child))
		return EAGAIN;
	if (child == NULL) {
		pt_desc_store(l3, i3, desc);
		child = pd;
	} else if (pt_parked_test(l3, i3)) {
		error = pt_parked_fill(&l3->lv_desc[i3], desc);
	} else {
		error = EEXIST;
	}
	pt_child_release(l3, i3, child);
	return error;
}

/*
 * Unmaps the page in slot i3, under a hold of its PTED: a parked page
 * (its bit tested while held) has its descriptor taken back by
 * compare-and-swap, which a span's clear may race; a mapped PTED's
 * descriptor is cleared first for the walker, then the PTED is parked in
 * place (pt_keep_pteds) or unlinked into *freed for the caller to put
 * (else *freed is NULL).  0, or ENOENT when nothing is mapped.
 */
static int
pt_remove_slot(struct iommu_pt *pt, struct iommu__pt_level *l3, unsigned i3,
    struct iommu__pted **freed)
{
	struct iommu__pted *pd;
	int		    error = 0;

	*freed = NULL;
	do {
		if ((pd = pt_child_stable(l3, i3)) == NULL)
			return ENOENT;
	} while (!pt_child_hold(l3, i3, pd));
	if (pt_parked_test(l3, i3)) {
		error = pt_parked_unfill(&l3->lv_desc[i3]);
	} else {
		pt_desc_store(l3, i3, 0);
		if (pt->pt_keep_pteds) {
			pd->pd_pte = 0;
			__atomic_store_n(
			    &pd->pd_parked, true, __ATOMIC_RELAXED);
			pt_parked_set(l3, i3);
		} else {
			*freed = pd;
			pd = NULL;
		}
	}
	pt_child_release(l3, i3, pd);
	return error;
}

int
iommu_pt_enter(struct iommu_pt *pt, uint64_t iova, uint64_t pa, unsigned prot,
    unsigned cache, unsigned flags)
{
	struct iommu__pt_level *l3;
	struct iommu__pted     *child, *pted = NULL;
	uint64_t		desc;
	unsigned		level, i3 = pt_index(3, iova);
	int			error;

	if (pt_enter_args(iova, pa, prot, cache, flags) != 0)
		return EINVAL;
	if (iova >> pt->pt_ias != 0 || pa >> pt->pt_oas != 0)
		return ERANGE;
	desc = pt_page_desc(pt, pa, prot, cache);

	l3 = pt_walk(pt, iova, &level);
	if (level != PT_LAST_LEVEL) {
		/* The PTED first: ENOMEM leaves the levels as they were. */
		if (flags & IOMMU_PT_NOLEVELALLOC)
			return ENOMEM;
		if ((pted = pt_pted_new(pt, iova, desc)) == NULL)
			return ENOMEM;
		if ((error = pt_ensure_levels(pt, iova, &l3)) != 0) {
			iommu_pool_put(pt->pt_pted_pool, pted);
			return error;
		}
	}
	do {
		child = pt_child_stable(l3, i3);
		if (child == NULL && pted == NULL &&
		    (pted = pt_pted_new(pt, iova, desc)) == NULL)
			return ENOMEM;
		error = pt_enter_slot(l3, i3, child, pted, desc);
	} while (error == EAGAIN);
	if (pted != NULL && (error != 0 || child != NULL))
		iommu_pool_put(pt->pt_pted_pool, pted);
	return error;
}

int
iommu_pt_remove(struct iommu_pt *pt, uint64_t iova)
{
	struct iommu__pt_level *l3;
	struct iommu__pted     *freed;
	int			error;

	if (iova & IOMMU_PAGE_MASK)
		return EINVAL;
	if (iova >> pt->pt_ias != 0)
		return ERANGE;
	if ((l3 = pt_l3_lookup(pt, iova)) == NULL)
		return ENOENT;
	/* The walker's view first (pt_remove_slot), then the TLB's. */
	if ((error = pt_remove_slot(pt, l3, pt_index(3, iova), &freed)) != 0)
		return error;
	pt_note_removed(pt, iova);
	if (freed != NULL)
		iommu_pool_put(pt->pt_pted_pool, freed);
	return 0;
}

/* PTEDs a range operation takes from or gives to the pool at once. */
#define PT_BATCH 16

/* The level-3 table for iova, creating levels unless flags forbid it. */
static int
pt_l3_for(struct iommu_pt *pt, uint64_t iova, unsigned flags,
    struct iommu__pt_level **l3)
{
	unsigned level;

	*l3 = pt_walk(pt, iova, &level);
	if (level == PT_LAST_LEVEL)
		return 0;
	if (flags & IOMMU_PT_NOLEVELALLOC)
		return ENOMEM;
	return pt_ensure_levels(pt, iova, l3);
}

int
iommu_pt_enter_range(struct iommu_pt *pt, uint64_t iova, uint64_t pa,
    uint64_t npages, unsigned prot, unsigned cache, unsigned flags,
    uint64_t *entered)
{
	struct iommu__pt_level *l3 = NULL;
	struct iommu__pted     *child, *pd;
	void		       *pv[PT_BATCH];
	uint64_t		done = 0, desc;
	unsigned		i3, n = 0, used = 0;
	int			error = 0;

	if (entered != NULL)
		*entered = 0;
	if (pt_enter_args(iova, pa, prot, cache, flags) != 0 || npages == 0 ||
	    npages > (UINT64_MAX >> IOMMU_PAGE_SHIFT))
		return EINVAL;
	if ((iova + (npages << IOMMU_PAGE_SHIFT) - 1) >> pt->pt_ias != 0 ||
	    (pa + (npages << IOMMU_PAGE_SHIFT) - 1) >> pt->pt_oas != 0 ||
	    iova + (npages << IOMMU_PAGE_SHIFT) - 1 < iova)
		return ERANGE;
	desc = pt_page_desc(pt, pa, prot, cache);
	for (; done < npages; done++, iova += IOMMU_PAGE_SIZE,
	     pa += IOMMU_PAGE_SIZE, desc += IOMMU_PAGE_SIZE) {
		i3 = pt_index(3, iova);
		if (l3 == NULL || i3 == 0) {
			if ((error = pt_l3_for(pt, iova, flags, &l3)) != 0)
				break;
		}
		do {
			child = pt_child_stable(l3, i3);
			pd = NULL;
			if (child == NULL && used == n) {
				n = npages - done < PT_BATCH
				    ? (unsigned)(npages - done)
				    : PT_BATCH;
				used = 0;
				if (iommu_pool_get_n(pt->pt_pted_pool,
					IOMMU_PR_NOWAIT, pv, n) != 0) {
					n = 0;
					error = ENOMEM;
					break;
				}
			}
			if (child == NULL) {
				pd = pv[used];
				pt_pted_init(pd, iova, desc);
			}
			error = pt_enter_slot(l3, i3, child, pd, desc);
		} while (error == EAGAIN);
		if (error != 0)
			break;
		if (pd != NULL)
			used++;
	}
	/* PTEDs taken for pages not entered go back. */
	if (used < n)
		iommu_pool_put_n(pt->pt_pted_pool, pv + used, n - used);
	if (entered != NULL)
		*entered = done;
	return error;
}

int
iommu_pt_remove_range(
    struct iommu_pt *pt, uint64_t iova, uint64_t npages, uint64_t *removed)
{
	struct iommu__pt_level *l3 = NULL;
	struct iommu__pted     *freed;
	void		       *pv[PT_BATCH];
	uint64_t		done = 0;
	unsigned		i3, n = 0;
	int			error = 0;

	if (removed != NULL)
		*removed = 0;
	if (iova & IOMMU_PAGE_MASK || npages == 0 ||
	    npages > (UINT64_MAX >> IOMMU_PAGE_SHIFT))
		return EINVAL;
	if ((iova + (npages << IOMMU_PAGE_SHIFT) - 1) >> pt->pt_ias != 0 ||
	    iova + (npages << IOMMU_PAGE_SHIFT) - 1 < iova)
		return ERANGE;
	for (; done < npages; done++, iova += IOMMU_PAGE_SIZE) {
		i3 = pt_index(3, iova);
		if ((l3 == NULL || i3 == 0) &&
		    (l3 = pt_l3_lookup(pt, iova)) == NULL) {
			error = ENOENT;
			break;
		}
		/* As iommu_pt_remove: the walker's view first. */
		if ((error = pt_remove_slot(pt, l3, i3, &freed)) != 0)
			break;
		pt_note_removed(pt, iova);
		if (freed != NULL && (pv[n] = freed, ++n == PT_BATCH)) {
			iommu_pool_put_n(pt->pt_pted_pool, pv, n);
			n = 0;
		}
	}
	iommu_pool_put_n(pt->pt_pted_pool, pv, n);
	if (removed != NULL)
		*removed = done;
	return error;
}

/* The protection a page descriptor grants (AP[2]: read-only). */
static unsigned
pt_desc_prot(uint64_t desc)
{
	return SMMU_FGET(desc, SMMU_PTE_AP) & 2
	    ? IOMMU_PROT_READ
	    : IOMMU_PROT_READ | IOMMU_PROT_WRITE;
}

/* desc is exactly what an enter writes for its PA, protection and cache. */
static bool
pt_page_desc_wellformed(uint64_t desc)
{
	unsigned cache = (unsigned)SMMU_FGET(desc, SMMU_PTE_ATTRINDX);

	return cache <= IOMMU_CACHE_DEV &&
	    desc ==
	    iommu__pt_page_desc(
		desc & IOMMU__PT_OA_MASK, pt_desc_prot(desc), cache);
}

/*
 * Reads the translation from the page descriptor, not from the PTED: a
 * remove racing with this may free the PTED, while levels and their
 * frames stay valid for the table's lifetime, so the answer is the old
 * mapping or ENOENT, never a use-after-free.
 */
int
iommu_pt_extract(
    struct iommu_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	struct iommu__pt_level *l3;
	uint64_t		desc;

	if (iova >> pt->pt_ias != 0 || (l3 = pt_l3_lookup(pt, iova)) == NULL)
		return ENOENT;
	desc = pt_desc_load(l3, pt_index(3, iova));
	if ((desc & SMMU_PTE_VALID) == 0)
		return ENOENT;
	if (pa != NULL)
		*pa = (desc & IOMMU__PT_OA_MASK) | (iova & IOMMU_PAGE_MASK);
	if (prot != NULL)
		*prot = pt_desc_prot(desc);
	return 0;
}

int
iommu_pt_prepare(struct iommu_pt *pt, uint64_t iova, uint64_t len)
{
	struct iommu__pt_level *l3;
	uint64_t		va, last;
	unsigned		level;
	int			error;

	if (len == 0 || iova + len - 1 < iova)
		return EINVAL;
	last = iova + len - 1;
	if (last >> pt->pt_ias != 0)
		return ERANGE;
	/* One level-3 table covers 2 MiB: visit each once. */
	for (va = iova & ~(uint64_t)0x1fffff;; va += 0x200000) {
		(void)pt_walk(pt, va, &level);
		if (level != PT_LAST_LEVEL) {
			error = pt_ensure_levels(pt, va, &l3);
			if (error)
				return error;
		}
		if (last - va < 0x200000)
			break;
	}
	return 0;
}

/*
 * Links the parked PTED pd into slot i3 of l3 if the slot is empty (true),
 * under a hold: the slot's parked bit is set before pd shows.
 */
static bool
pt_link_parked(struct iommu__pt_level *l3, unsigned i3, struct iommu__pted *pd)
{
	do {
		if (pt_child_stable(l3, i3) != NULL)
			return false;
	} while (!pt_child_hold(l3, i3, NULL));
	pt_parked_set(l3, i3);
	pt_child_release(l3, i3, pd);
	return true;
}

/*
 * Unlinks the parked PTED pd from slot i3 of l3, under a hold: 0, EBUSY
 * when its page is mapped (pd stays), ENOENT when pd is not there.  An
 * enter fills under a hold too, so it finds the PTED still parked or
 * gone; a span's fill takes none, so the span's owner must not unprepare
 * pages it fills.
 */
static int
pt_unlink_parked(
    struct iommu__pt_level *l3, unsigned i3, struct iommu__pted *pd)
{
	do {
		if (pt_child_stable(l3, i3) != pd)
			return ENOENT;
	} while (!pt_child_hold(l3, i3, pd));
	if (pt_slot_mapped(&l3->lv_desc[i3])) {
		pt_child_release(l3, i3, pd);
		return EBUSY;
	}
	pt_parked_clear(l3, i3);
	pt_child_release(l3, i3, NULL);
	return 0;
}

/* Slot i3 of the level-3 table for va (*l3 follows va), if empty. */
static bool
pt_slot_empty(struct iommu_pt *pt, uint64_t va, struct iommu__pt_level **l3)
{
	unsigned i3 = pt_index(3, va);

	if (*l3 == NULL || i3 == 0)
		(void)pt_l3_for(pt, va, IOMMU_PT_NOLEVELALLOC, l3);
	return pt_child_stable(*l3, i3) == NULL;
}

/* A private chain of PTEDs, linked through pd_pte (no PTED is linked). */
static void
pt_chain_push(struct iommu__pted **chain, struct iommu__pted *pd)
{
	pd->pd_pte = (uint64_t)(uintptr_t)*chain;
	*chain = pd;
}

/* The chain's first PTED, taken off it; NULL when it is empty. */
static struct iommu__pted *
pt_chain_pop(struct iommu__pted **chain)
{
	struct iommu__pted *pd = *chain;

	if (pd != NULL)
		*chain = (struct iommu__pted *)(uintptr_t)pd->pd_pte;
	return pd;
}

/* Puts back the PTEDs of a private chain. */
static void
pt_put_chain(struct iommu_pt *pt, struct iommu__pted *chain)
{
	struct iommu__pted *pd;

	while ((pd = pt_chain_pop(&chain)) != NULL)
		iommu_pool_put(pt->pt_pted_pool, pd);
}

/*
 * Parks a PTED in every empty slot of [iova, iova + len).  Every PTED it
 * needs is got first, chained through pd_pte while still private, so
 * that ENOMEM leaves the table as it was without touching a PTED once
 * linked (another thread may unlink and free it at once).  A slot that
 * empties after the count (a page of the range removed meanwhile) takes
 * one more; ENOMEM there keeps what is linked.
 */
int
iommu_pt_prepare_pteds(struct iommu_pt *pt, uint64_t iova, uint64_t len)
{
	struct iommu__pt_level *l3 = NULL;
	struct iommu__pted     *pd, *chain = NULL;
	uint64_t		va;
	int			error;

	if ((iova | len) & IOMMU_PAGE_MASK)
		return EINVAL;
	if ((error = iommu_pt_prepare(pt, iova, len)) != 0)
		return error;
	for (va = iova; va - iova < len; va += IOMMU_PAGE_SIZE) {
		if (!pt_slot_empty(pt, va, &l3))
			continue;
		pd = iommu_pool_get(pt->pt_pted_pool, IOMMU_PR_NOWAIT);
		if (pd == NULL) {
			pt_put_chain(pt, chain);
			return ENOMEM;
		}
		pt_chain_push(&chain, pd);
	}
	for (l3 = NULL, va = iova; va - iova < len; va += IOMMU_PAGE_SIZE) {
		if (!pt_slot_empty(pt, va, &l3))
			continue; /* mapped or parked already: left as is */
		if ((pd = pt_chain_pop(&chain)) == NULL &&
		    (pd = iommu_pool_get(pt->pt_pted_pool, IOMMU_PR_NOWAIT)) ==
			NULL) {
			error = ENOMEM;
			break;
		}
		pd->pd_va = va;
		pd->pd_pte = 0;
		pd->pd_parked = true;
		if (!pt_link_parked(l3, pt_index(3, va), pd))
			pt_chain_push(&chain, pd);
	}
	pt_put_chain(pt, chain);
	return error;
}

void
iommu_pt_set_keep_pteds(struct iommu_pt *pt, bool keep)
{
	pt->pt_keep_pteds = keep;
}

int
iommu_pt_unprepare(struct iommu_pt *pt, uint64_t iova, uint64_t len)
{
	struct iommu__pt_level *l3 = NULL;
	struct iommu__pted     *pd;
	uint64_t		va;
	unsigned		i3;
	int			pass, unlinked, error = 0;
	bool			busy = false;

	if ((iova | len) & IOMMU_PAGE_MASK || iova + len < iova ||
	    (len != 0 && (iova + len - 1) >> pt->pt_ias != 0))
		return EINVAL;
	/* Pass 0 checks that nothing is mapped, pass 1 frees. */
	for (pass = 0; pass < 2 && error == 0; pass++) {
		l3 = NULL;
		for (va = iova; va - iova < len; va += IOMMU_PAGE_SIZE) {
			i3 = pt_index(3, va);
			if ((l3 == NULL || i3 == 0) &&
			    (l3 = pt_l3_lookup(pt, va)) == NULL) {
				va |= PT_L3_SPAN - IOMMU_PAGE_SIZE;
				continue;
			}
			pd = pt_child_stable(l3, i3);
			if (pd == NULL || !pt_parked_test(l3, i3))
				continue;
			if (pass == 0 && pt_slot_mapped(&l3->lv_desc[i3])) {
				error = EBUSY;
				break;
			}
			if (pass == 0)
				continue;
			unlinked = pt_unlink_parked(l3, i3, pd);
			if (unlinked == 0)
				iommu_pool_put(pt->pt_pted_pool, pd);
			else if (unlinked == EBUSY)
				busy = true; /* mapped since pass 0 */
		}
	}
	return busy ? EBUSY : error;
}

static void
pt_free_tree(struct iommu_pt *pt, struct iommu__pt_level *lv, unsigned level)
{
	unsigned i;
	void	*child;

	for (i = 0; i < PT_ENTRIES; i++) {
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		if (child == NULL)
			continue;
		if (level == PT_LAST_LEVEL)
			iommu_pool_put(pt->pt_pted_pool, child);
		else
			pt_free_tree(pt, child, level + 1);
	}
	pt_level_free(pt, lv);
}

/* Pages mapped: counted by descriptor, so no PTED is read. */
static uint64_t
pt_count_pteds(struct iommu__pt_level *lv, unsigned level)
{
	uint64_t n = 0;
	unsigned i;
	void	*child;

	for (i = 0; i < PT_ENTRIES; i++) {
		if (level == PT_LAST_LEVEL) {
			n += (pt_desc_load(lv, i) & SMMU_PTE_VALID) != 0;
			continue;
		}
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		if (child != NULL)
			n += pt_count_pteds(child, level + 1);
	}
	return n;
}

void
iommu_pt_get_stats(struct iommu_pt *pt, struct iommu_pt_stats *st)
{
	unsigned l;

	pthread_mutex_lock(&pt->pt_lock);
	for (l = 0; l < 4; l++)
		st->pts_levels[l] = pt->pt_levels[l];
	st->pts_level_allocs = pt->pt_level_allocs;
	pthread_mutex_unlock(&pt->pt_lock);
	st->pts_pteds = pt_count_pteds(pt->pt_root, pt->pt_start);
}

static int
pt_validate_level(struct iommu_pt *pt, struct iommu__pt_level *lv,
    unsigned level, uint64_t base, uint64_t *levels)
{
	struct iommu__pt_level *clv;
	struct iommu__pted     *pted;
	uint64_t		desc, va;
	unsigned		i, shift;
	void		       *child;

	levels[level]++;
	if (lv->lv_desc != iommu_physmem_kva(pt->pt_pm, lv->lv_pa))
		return EFAULT;
	shift = IOMMU_PAGE_SHIFT + PT_LEVEL_BITS * (PT_LAST_LEVEL - level);
	for (i = 0; i < PT_ENTRIES; i++) {
		va = base | (uint64_t)i << shift;
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		desc = pt_desc_load(lv, i);
		if (child == PT_BUSY ||
		    (level == PT_LAST_LEVEL &&
			pt_parked_test(lv, i) !=
			    (child != NULL &&
				pt_pted_parked((struct iommu__pted *)child))))
			return EFAULT;
		if (child == NULL) {
			if (desc != 0)
				return EFAULT;
			continue;
		}
		if (va >> pt->pt_ias != 0)
			return EFAULT;
		if (level == PT_LAST_LEVEL) {
			pted = child;
			if (pted->pd_va != va)
				return EFAULT;
			if (pted->pd_parked) {
				if (pted->pd_pte != 0 ||
				    (desc != 0 &&
					!pt_page_desc_wellformed(desc)))
					return EFAULT;
				continue;
			}
			if (desc != pted->pd_pte ||
			    !pt_page_desc_wellformed(desc))
				return EFAULT;
			continue;
		}
		clv = child;
		if (desc != iommu__pt_table_desc(clv->lv_pa) ||
		    pt_validate_level(pt, clv, level + 1, va, levels) != 0)
			return EFAULT;
	}
	return 0;
}

int
iommu_pt_validate(struct iommu_pt *pt)
{
	uint64_t levels[4] = {0, 0, 0, 0};
	unsigned l;
	int	 error;

	pthread_mutex_lock(&pt->pt_lock);
	error = pt_validate_level(pt, pt->pt_root, pt->pt_start, 0, levels);
	for (l = 0; l < 4 && error == 0; l++)
		if (levels[l] != pt->pt_levels[l])
			error = EFAULT;
	pthread_mutex_unlock(&pt->pt_lock);
	return error;
}
