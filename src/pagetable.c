/*
 * libiommu - the VP page tables (OpenBSD smmu(4) smmu_vp_enter /
 * smmu_prepare / smmu_remove after the seed commit), with the descriptors
 * in simulated physical memory.
 *
 * Layout, for one input address (4 KiB granule, 9 index bits per level):
 *
 *   struct iommu_pt                       simulated RAM
 *     pt_root ----> level (VP item)        frame at pt_root_pa
 *                   lv_child[i] ---+       desc[i] = TABLE | child frame PA
 *                                  v
 *                   level ...              frame ...
 *                     (level 3)  lv_child[i] = PTED, desc[i] = page desc
 *
 * Invariants (checked by iommu_pt_validate):
 *  - lv_child[i] != NULL exactly when desc[i] is valid; at levels 0..2 the
 *    descriptor is a table descriptor and the only record of the child's
 *    frame PA (the host side keeps no second copy, so the two cannot
 *    disagree); at level 3 it equals the PTED's pd_pte.
 *  - a level, once linked, stays linked until iommu_pt_destroy; removing
 *    a page clears only its level-3 slot.
 *  - pt_levels[l] counts the levels at depth l, under pt_lock.
 *
 * Publication: a new chain of levels is built completely (frames zeroed,
 * inner descriptors and child pointers written) while private, then its
 * top is linked by writing the parent's descriptor and storing the child
 * pointer with release order.  Lock-free walkers load child pointers with
 * acquire order, so they see every byte written before the link.  All
 * allocations for a chain happen before anything is linked, so ENOMEM
 * leaves nothing half-linked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "iommu_internal.h"
#include "pagetable_desc.h"

#define PT_LEVEL_BITS 9
#define PT_ENTRIES    (1u << PT_LEVEL_BITS)
#define PT_LAST_LEVEL 3

/* Host side of one level: a VP pool item. */
struct iommu__pt_level {
	_Atomic(void *) lv_child[PT_ENTRIES]; /* levels, or PTEDs at level 3 */
};

/* What the software knows about one mapped page: a PTED pool item. */
struct iommu__pted {
	uint64_t pd_va;	   /* IOVA of the page */
	uint64_t pd_pa;	   /* PA of the page */
	uint64_t pd_pte;   /* the page descriptor written for it */
	unsigned pd_prot;  /* effective IOMMU_PROT_* */
	unsigned pd_cache; /* IOMMU_CACHE_* */
};

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
	uint64_t		       pt_root_pa;
	pthread_mutex_t		       pt_lock; /* level creation */
	uint64_t		       pt_levels[4];
	uint64_t		       pt_level_allocs;
};

/* A walk position: the host level, its frame and the slot for an IOVA. */
struct pt_pos {
	struct iommu__pt_level *pp_lv;
	uint64_t		pp_pa;
	unsigned		pp_level;
};

static unsigned pt_index(unsigned level, uint64_t iova);
static uint64_t pt_slot_pa(const struct pt_pos *, uint64_t iova);
static int	pt_descend(struct iommu_pt *, struct pt_pos *, uint64_t iova);
static int	pt_walk(struct iommu_pt *, uint64_t iova, struct pt_pos *);
static int pt_ensure_levels(struct iommu_pt *, uint64_t iova, struct pt_pos *);
static int pt_level_alloc(
    struct iommu_pt *, struct iommu__pt_level **, uint64_t *pa);
static void pt_level_free(
    struct iommu_pt *, struct iommu__pt_level *, uint64_t);
static void pt_free_tree(
    struct iommu_pt *, struct iommu__pt_level *, uint64_t pa, unsigned level);
static uint64_t pt_count_pteds(
    struct iommu_pt *, struct iommu__pt_level *, uint64_t pa, unsigned level);
static int pt_validate_level(struct iommu_pt *, struct iommu__pt_level *,
    uint64_t pa, unsigned level, uint64_t base, uint64_t *levels);

_Static_assert(
    sizeof(struct iommu__pt_level) <= 4096, "a VP level must fit a pool page");

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

static unsigned
pt_index(unsigned level, uint64_t iova)
{
	unsigned shift;

	shift = IOMMU_PAGE_SHIFT + PT_LEVEL_BITS * (PT_LAST_LEVEL - level);
	return (unsigned)(iova >> shift) & (PT_ENTRIES - 1);
}

static uint64_t
pt_slot_pa(const struct pt_pos *pos, uint64_t iova)
{
	return pos->pp_pa + 8 * (uint64_t)pt_index(pos->pp_level, iova);
}

int
iommu_pt_create(const struct iommu_pt_cfg *cfg, struct iommu_pt **out)
{
	const struct iommu_allocator *a;
	struct iommu_pt		     *pt;
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
	if (pthread_mutex_init(&pt->pt_lock, NULL) != 0) {
		iommu__free(a, pt, sizeof(*pt));
		return ENOMEM;
	}
	error = pt_level_alloc(pt, &pt->pt_root, &pt->pt_root_pa);
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
	pt_free_tree(pt, pt->pt_root, pt->pt_root_pa, pt->pt_start);
	pthread_mutex_destroy(&pt->pt_lock);
	iommu__free(pt->pt_alloc, pt, sizeof(*pt));
}

uint64_t
iommu_pt_root_pa(const struct iommu_pt *pt)
{
	return pt->pt_root_pa;
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

/* One frame and one VP item, both zeroed; nothing is linked. */
static int
pt_level_alloc(struct iommu_pt *pt, struct iommu__pt_level **lvp, uint64_t *pa)
{
	struct iommu__pt_level *lv;

	lv = iommu_pool_get(pt->pt_vp_pool, IOMMU_PR_NOWAIT | IOMMU_PR_ZERO);
	if (lv == NULL)
		return ENOMEM;
	if (iommu_physmem_alloc_pages(pt->pt_pm, 1, pa) != 0) {
		iommu_pool_put(pt->pt_vp_pool, lv);
		return ENOMEM;
	}
	*lvp = lv;
	return 0;
}

static void
pt_level_free(struct iommu_pt *pt, struct iommu__pt_level *lv, uint64_t pa)
{
	if (iommu_physmem_free_pages(pt->pt_pm, pa, 1) != 0)
		IOMMU_PANIC("page-table frame %#llx was not allocated",
		    (unsigned long long)pa);
	iommu_pool_put(pt->pt_vp_pool, lv);
}

/*
 * Moves pos one level down towards iova.  ENOENT if that child is missing
 * (pos unchanged).
 */
static int
pt_descend(struct iommu_pt *pt, struct pt_pos *pos, uint64_t iova)
{
	struct iommu__pt_level *child;
	uint64_t		desc;
	unsigned		i = pt_index(pos->pp_level, iova);

	child = atomic_load_explicit(
	    &pos->pp_lv->lv_child[i], memory_order_acquire);
	if (child == NULL)
		return ENOENT;
	if (iommu_physmem_read64(
		pt->pt_pm, pos->pp_pa + 8 * (uint64_t)i, &desc) != 0)
		IOMMU_PANIC("page-table frame %#llx unreadable",
		    (unsigned long long)pos->pp_pa);
	pos->pp_lv = child;
	pos->pp_pa = desc & IOMMU__PT_OA_MASK;
	pos->pp_level++;
	return 0;
}

/*
 * Lock-free walk to the level-3 table for iova.  0 with pos at level 3, or
 * ENOENT with pos at the deepest existing level.
 */
static int
pt_walk(struct iommu_pt *pt, uint64_t iova, struct pt_pos *pos)
{
	pos->pp_lv = pt->pt_root;
	pos->pp_pa = pt->pt_root_pa;
	pos->pp_level = pt->pt_start;
	while (pos->pp_level < PT_LAST_LEVEL)
		if (pt_descend(pt, pos, iova) != 0)
			return ENOENT;
	return 0;
}

/*
 * The slow path of the seed's double-checked locking: under the lock,
 * look again from pos (another thread may have created levels since), then
 * allocate every missing level, build the chain privately and link it.
 * 0 with pos at level 3, or ENOMEM with nothing changed.
 */
static int
pt_ensure_levels(struct iommu_pt *pt, uint64_t iova, struct pt_pos *pos)
{
	struct iommu__pt_level *nlv[PT_LAST_LEVEL];
	uint64_t		npa[PT_LAST_LEVEL];
	unsigned		missing, j, i;
	int			error = 0;

	pthread_mutex_lock(&pt->pt_lock);
	while (pos->pp_level < PT_LAST_LEVEL)
		if (pt_descend(pt, pos, iova) != 0)
			break;
	missing = PT_LAST_LEVEL - pos->pp_level;
	for (j = 0; j < missing; j++) {
		error = pt_level_alloc(pt, &nlv[j], &npa[j]);
		if (error) {
			while (j-- > 0)
				pt_level_free(pt, nlv[j], npa[j]);
			pthread_mutex_unlock(&pt->pt_lock);
			return error;
		}
	}
	/* nlv[j] is at level pos->pp_level + 1 + j; link bottom-up. */
	for (j = missing; j-- > 1;) {
		i = pt_index(pos->pp_level + j, iova);
		if (iommu_physmem_write64(pt->pt_pm,
			npa[j - 1] + 8 * (uint64_t)i,
			iommu__pt_table_desc(npa[j])) != 0)
			IOMMU_PANIC("new frame %#llx unwritable",
			    (unsigned long long)npa[j - 1]);
		atomic_store_explicit(
		    &nlv[j - 1]->lv_child[i], nlv[j], memory_order_relaxed);
	}
	if (missing > 0) {
		i = pt_index(pos->pp_level, iova);
		if (iommu_physmem_write64(pt->pt_pm,
			pos->pp_pa + 8 * (uint64_t)i,
			iommu__pt_table_desc(npa[0])) != 0)
			IOMMU_PANIC("frame %#llx unwritable",
			    (unsigned long long)pos->pp_pa);
		atomic_store_explicit(
		    &pos->pp_lv->lv_child[i], nlv[0], memory_order_release);
		for (j = 0; j < missing; j++)
			pt->pt_levels[pos->pp_level + 1 + j]++;
		pt->pt_level_allocs += missing;
		pos->pp_lv = nlv[missing - 1];
		pos->pp_pa = npa[missing - 1];
		pos->pp_level = PT_LAST_LEVEL;
	}
	pthread_mutex_unlock(&pt->pt_lock);
	return 0;
}

int
iommu_pt_enter(struct iommu_pt *pt, uint64_t iova, uint64_t pa, unsigned prot,
    unsigned cache, unsigned flags)
{
	struct iommu__pted *pted;
	struct pt_pos	    pos;
	_Atomic(void *)	   *slot;
	void		   *expect = NULL;
	int		    error;

	if ((iova | pa) & IOMMU_PAGE_MASK ||
	    (prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)) == 0 ||
	    (prot & ~(unsigned)(IOMMU_PROT_READ | IOMMU_PROT_WRITE)) != 0 ||
	    cache > IOMMU_CACHE_DEV || (flags & ~IOMMU_PT_NOLEVELALLOC) != 0)
		return EINVAL;
	if (iova >> pt->pt_ias != 0 || pa >> pt->pt_oas != 0)
		return ERANGE;

	error = pt_walk(pt, iova, &pos);
	if (error == 0 &&
	    atomic_load_explicit(&pos.pp_lv->lv_child[pt_index(3, iova)],
		memory_order_relaxed) != NULL)
		return EEXIST;
	if (error != 0 && (flags & IOMMU_PT_NOLEVELALLOC))
		return ENOMEM;

	pted = iommu_pool_get(pt->pt_pted_pool, IOMMU_PR_NOWAIT);
	if (pted == NULL)
		return ENOMEM;
	if (prot & IOMMU_PROT_WRITE)
		prot |= IOMMU_PROT_READ; /* stage 1 has no write-only */
	pted->pd_va = iova;
	pted->pd_pa = pa;
	pted->pd_prot = prot;
	pted->pd_cache = cache;
	pted->pd_pte = iommu__pt_page_desc(pa, prot, cache);

	if (error != 0) {
		error = pt_ensure_levels(pt, iova, &pos);
		if (error) {
			iommu_pool_put(pt->pt_pted_pool, pted);
			return error;
		}
	}
	slot = &pos.pp_lv->lv_child[pt_index(3, iova)];
	if (!atomic_compare_exchange_strong_explicit(slot, &expect, pted,
		memory_order_release, memory_order_relaxed)) {
		iommu_pool_put(pt->pt_pted_pool, pted);
		return EEXIST;
	}
	if (iommu_physmem_write64(
		pt->pt_pm, pt_slot_pa(&pos, iova), pted->pd_pte) != 0)
		IOMMU_PANIC(
		    "frame %#llx unwritable", (unsigned long long)pos.pp_pa);
	return 0;
}

int
iommu_pt_remove(struct iommu_pt *pt, uint64_t iova)
{
	struct iommu__pted *pted;
	struct pt_pos	    pos;
	_Atomic(void *)	   *slot;

	if (iova & IOMMU_PAGE_MASK)
		return EINVAL;
	if (iova >> pt->pt_ias != 0)
		return ERANGE;
	if (pt_walk(pt, iova, &pos) != 0)
		return ENOENT;
	slot = &pos.pp_lv->lv_child[pt_index(3, iova)];
	pted = atomic_load_explicit(slot, memory_order_acquire);
	if (pted == NULL)
		return ENOENT;
	/* Invalidate for the walker first, then retire the software state. */
	if (iommu_physmem_write64(pt->pt_pm, pt_slot_pa(&pos, iova), 0) != 0)
		IOMMU_PANIC(
		    "frame %#llx unwritable", (unsigned long long)pos.pp_pa);
	atomic_store_explicit(slot, NULL, memory_order_release);
	if (pt->pt_tlb != NULL && pt->pt_tlb->tlb_add_page != NULL)
		pt->pt_tlb->tlb_add_page(
		    pt->pt_tlb_cookie, iova, IOMMU_PAGE_SIZE);
	iommu_pool_put(pt->pt_pted_pool, pted);
	return 0;
}

/*
 * Reads the translation from the descriptors, not from the PTED: a remove
 * racing with this may free the PTED, while levels and descriptor words
 * stay valid for the table's lifetime, so the answer is the old mapping
 * or ENOENT, never a use-after-free.
 */
int
iommu_pt_extract(
    struct iommu_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot)
{
	struct pt_pos pos;
	uint64_t      desc;

	if (iova >> pt->pt_ias != 0 || pt_walk(pt, iova, &pos) != 0)
		return ENOENT;
	if (iommu_physmem_read64(pt->pt_pm, pt_slot_pa(&pos, iova), &desc) != 0)
		IOMMU_PANIC(
		    "frame %#llx unreadable", (unsigned long long)pos.pp_pa);
	if ((desc & SMMU_PTE_VALID) == 0)
		return ENOENT;
	if (pa != NULL)
		*pa = (desc & IOMMU__PT_OA_MASK) | (iova & IOMMU_PAGE_MASK);
	if (prot != NULL)
		*prot = SMMU_FGET(desc, SMMU_PTE_AP) & 2
		    ? IOMMU_PROT_READ
		    : IOMMU_PROT_READ | IOMMU_PROT_WRITE;
	return 0;
}

int
iommu_pt_prepare(struct iommu_pt *pt, uint64_t iova, uint64_t len)
{
	struct pt_pos pos;
	uint64_t      va, last;
	int	      error;

	if (len == 0 || iova + len - 1 < iova)
		return EINVAL;
	last = iova + len - 1;
	if (last >> pt->pt_ias != 0)
		return ERANGE;
	/* One level-3 table covers 2 MiB: visit each once. */
	for (va = iova & ~(uint64_t)0x1fffff;; va += 0x200000) {
		if (pt_walk(pt, va, &pos) != 0) {
			error = pt_ensure_levels(pt, va, &pos);
			if (error)
				return error;
		}
		if (last - va < 0x200000)
			break;
	}
	return 0;
}

static void
pt_free_tree(struct iommu_pt *pt, struct iommu__pt_level *lv, uint64_t pa,
    unsigned level)
{
	uint64_t desc;
	unsigned i;
	void	*child;

	for (i = 0; i < PT_ENTRIES; i++) {
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		if (child == NULL)
			continue;
		if (level == PT_LAST_LEVEL) {
			iommu_pool_put(pt->pt_pted_pool, child);
			continue;
		}
		if (iommu_physmem_read64(
			pt->pt_pm, pa + 8 * (uint64_t)i, &desc))
			IOMMU_PANIC(
			    "frame %#llx unreadable", (unsigned long long)pa);
		pt_free_tree(pt, child, desc & IOMMU__PT_OA_MASK, level + 1);
	}
	pt_level_free(pt, lv, pa);
}

static uint64_t
pt_count_pteds(struct iommu_pt *pt, struct iommu__pt_level *lv, uint64_t pa,
    unsigned level)
{
	uint64_t desc, n = 0;
	unsigned i;
	void	*child;

	for (i = 0; i < PT_ENTRIES; i++) {
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		if (child == NULL)
			continue;
		if (level == PT_LAST_LEVEL) {
			n++;
			continue;
		}
		if (iommu_physmem_read64(
			pt->pt_pm, pa + 8 * (uint64_t)i, &desc))
			IOMMU_PANIC(
			    "frame %#llx unreadable", (unsigned long long)pa);
		n += pt_count_pteds(
		    pt, child, desc & IOMMU__PT_OA_MASK, level + 1);
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
	st->pts_pteds =
	    pt_count_pteds(pt, pt->pt_root, pt->pt_root_pa, pt->pt_start);
}

static int
pt_validate_level(struct iommu_pt *pt, struct iommu__pt_level *lv, uint64_t pa,
    unsigned level, uint64_t base, uint64_t *levels)
{
	struct iommu__pted *pted;
	uint64_t	    desc, va;
	unsigned	    i, shift;
	void		   *child;

	levels[level]++;
	shift = IOMMU_PAGE_SHIFT + PT_LEVEL_BITS * (PT_LAST_LEVEL - level);
	for (i = 0; i < PT_ENTRIES; i++) {
		va = base | (uint64_t)i << shift;
		child = atomic_load_explicit(
		    &lv->lv_child[i], memory_order_acquire);
		if (iommu_physmem_read64(
			pt->pt_pm, pa + 8 * (uint64_t)i, &desc))
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
			if (pted->pd_va != va || desc != pted->pd_pte ||
			    desc !=
				iommu__pt_page_desc(
				    pted->pd_pa, pted->pd_prot, pted->pd_cache))
				return EFAULT;
			continue;
		}
		if (desc != iommu__pt_table_desc(desc & IOMMU__PT_OA_MASK))
			return EFAULT;
		if (pt_validate_level(pt, child, desc & IOMMU__PT_OA_MASK,
			level + 1, va, levels) != 0)
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
	error = pt_validate_level(
	    pt, pt->pt_root, pt->pt_root_pa, pt->pt_start, 0, levels);
	for (l = 0; l < 4 && error == 0; l++)
		if (levels[l] != pt->pt_levels[l])
			error = EFAULT;
	pthread_mutex_unlock(&pt->pt_lock);
	return error;
}
