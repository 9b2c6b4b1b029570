/*
 * libiommu - the VP page tables: AArch64 VMSAv8-64 stage-1 translation
 * tables with a 4 KiB granule, built in simulated physical memory for the
 * SMMUv3 model to walk, plus the host-side shadow the driver navigates.
 *
 * Every level is two things: a 4 KiB frame of little-endian descriptors
 * in simulated RAM (what the hardware walks) and a host-side array of 512
 * child pointers plus the frame's address (the OpenBSD smmu(4) "VP"
 * structure) taken from the VP pool.  Level 3 child pointers are PTEDs,
 * one per mapped page, taken from the PTED pool, recording what the
 * software knows about the mapping.  Input address sizes 40..48 use
 * levels 0..3; 32..39 use levels 1..3.
 *
 * Both pools and the RAM are owned by the caller (per SMMU instance in the
 * seed); create the pools with iommu_pt_pted_item_size() and
 * iommu_pt_vp_item_size() bytes per item.  A context descriptor for the
 * table uses TTB0 = iommu_pt_root_pa(), T0SZ = iommu_pt_t0sz(), TG0 4 KiB,
 * IPS covering iommu_pt_oas() and MAIR = IOMMU_PT_MAIR.
 *
 * Concurrency: enter, remove and extract take no lock when the levels they
 * need exist; a missing level is created under the table's lock with the
 * seed's double-checked locking, so threads entering pages that share
 * intermediate levels create each level exactly once.  Enters and removes
 * may race on any pages, one page included (identity maps that share a
 * page): of concurrent enters of one page one wins and the others get
 * EEXIST, of concurrent removes one unmaps it and the others get ENOENT,
 * and an enter racing a remove finds the page mapped or not; the page's
 * PTED is freed once.  Extract reads the descriptors and may race with
 * anything: it sees the page mapped or not.  Removing never frees
 * intermediate levels; iommu_pt_destroy frees everything.
 *
 * Descriptors written (IHI 0070 / Arm ARM D8.3):
 *   table (levels 0..2): VALID | TABLE | next-level frame PA [47:12]
 *   page  (level 3):     VALID | PAGE | AttrIndx | AP | SH | AF | nG | PA
 *     AttrIndx  0 write-back, 1 non-cacheable, 2 device (IOMMU_PT_MAIR)
 *     AP[2:1]   0b01 read-write, 0b11 read-only (AP[1] set: unprivileged
 *               transactions are allowed too, as Linux io-pgtable does);
 *               stage 1 cannot express write-only, so WRITE alone maps
 *               (and extracts as) READ | WRITE
 *     SH        inner shareable for write-back, outer shareable otherwise
 *     nG        always: entries are tagged with the domain's ASID
 */
#ifndef IOMMU_PAGETABLE_H
#define IOMMU_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_physmem;
struct iommu_pool;
struct iommu_pt;

/* Protection (a mapping needs at least one). */
#define IOMMU_PROT_READ	 0x1
#define IOMMU_PROT_WRITE 0x2

/* Cache modes: the memory type the device's accesses use. */
#define IOMMU_CACHE_WB	0 /* normal, write-back read/write-allocate */
#define IOMMU_CACHE_NC	1 /* normal, non-cacheable */
#define IOMMU_CACHE_DEV 2 /* device nGnRE */

/*
 * MAIR value (for the context descriptor) whose attribute fields the page
 * descriptors index: Attr0 0xff, Attr1 0x44, Attr2 0x04.  The AttrIndx of
 * cache mode c is c.
 */
#define IOMMU_PT_MAIR 0x00000000000444ffULL

/*
 * iommu_pt_enter() flags.  NOLEVELALLOC: the range was prepared, so a
 * missing level is ENOMEM instead of being allocated.
 */
#define IOMMU_PT_NOLEVELALLOC 0x1
/* iommu_pt_span_clear() flag: no tlb_add_page calls (see there). */
#define IOMMU_PT_NOTLBADD     0x2

/*
 * TLB maintenance hooks (as Linux io-pgtable's flush ops).  None may block
 * or call back into the table.  tlb_add_page is called once per removed
 * page, after its descriptor was cleared; tlb_flush_walk and
 * tlb_flush_all are reserved for operations that free table levels (none
 * do yet: levels live until iommu_pt_destroy).
 */
struct iommu_pt_tlb_ops {
	void (*tlb_flush_all)(void *cookie);
	void (*tlb_flush_walk)(
	    void *cookie, uint64_t iova, uint64_t size, uint64_t granule);
	void (*tlb_add_page)(void *cookie, uint64_t iova, uint64_t granule);
};

struct iommu_pt_cfg {
	unsigned ptc_ias; /* input address bits, 32..48 */
	unsigned ptc_oas; /* output bits, 32..52 (> 48 is
			     narrowed to 48) */
	struct iommu_physmem	      *ptc_physmem;   /* where frames live */
	struct iommu_pool	      *ptc_pted_pool; /* PTEDs */
	struct iommu_pool	      *ptc_vp_pool;   /* host-side levels */
	const struct iommu_pt_tlb_ops *ptc_tlb;	      /* NULL: no hooks */
	void			      *ptc_tlb_cookie;
	const struct iommu_allocator  *ptc_alloc; /* NULL: default */
};

struct iommu_pt_stats {
	uint64_t pts_levels[4];	   /* levels allocated now, by level */
	uint64_t pts_level_allocs; /* levels ever created, root included */
	uint64_t pts_pteds;	   /* mapped pages (walks the tables) */
};

/* Item sizes to create the PTED and VP pools with. */
IOMMU_EXPORT size_t iommu_pt_pted_item_size(void);
IOMMU_EXPORT size_t iommu_pt_vp_item_size(void);

/*
 * Creates empty tables: the root level only.  EINVAL for a NULL physmem or
 * pool, ias outside 32..48 or oas outside 32..52; ENOMEM.
 */
IOMMU_EXPORT int iommu_pt_create(
    const struct iommu_pt_cfg *cfg, struct iommu_pt **out);
/*
 * Frees every level, frame and PTED.  The table must not be live (no
 * context descriptor points at it any more); the TLB may be dirty: no TLB
 * hook is called.  NULL is ignored.
 */
IOMMU_EXPORT void iommu_pt_destroy(struct iommu_pt *pt);

/* Root frame PA (CD.TTB0). */
IOMMU_EXPORT uint64_t iommu_pt_root_pa(const struct iommu_pt *pt);
/* CD.T0SZ = 64 - ias. */
IOMMU_EXPORT unsigned iommu_pt_t0sz(const struct iommu_pt *pt);
/* 0 for four levels, 1 for three. */
IOMMU_EXPORT unsigned iommu_pt_start_level(const struct iommu_pt *pt);
IOMMU_EXPORT unsigned iommu_pt_ias(const struct iommu_pt *pt);
/* The output size in effect (narrowed). */
IOMMU_EXPORT unsigned iommu_pt_oas(const struct iommu_pt *pt);

/*
 * Maps the page at iova to pa.  EINVAL for a misaligned iova or pa, prot
 * without READ or WRITE, an unknown cache mode or flag; ERANGE for iova
 * beyond the input size or pa beyond the output size; EEXIST if iova is
 * mapped; ENOMEM when a PTED or a level (pool item or frame) cannot be
 * had, with the tables, pools and frames exactly as before.
 */
IOMMU_EXPORT int iommu_pt_enter(struct iommu_pt *pt, uint64_t iova, uint64_t pa,
    unsigned prot, unsigned cache, unsigned flags);
/*
 * Unmaps the page at iova and calls tlb_add_page for it.  ENOENT if it was
 * not mapped, ERANGE beyond the input size, EINVAL if misaligned.
 */
IOMMU_EXPORT int iommu_pt_remove(struct iommu_pt *pt, uint64_t iova);
/*
 * npages consecutive pages from iova to pa, as npages iommu_pt_enter calls
 * but walking once per level-3 table and taking PTEDs in batches.  Stops
 * at the first page that fails, with that page's error; *entered (may be
 * NULL) counts the pages entered before it, which stay mapped.
 */
IOMMU_EXPORT int iommu_pt_enter_range(struct iommu_pt *pt, uint64_t iova,
    uint64_t pa, uint64_t npages, unsigned prot, unsigned cache, unsigned flags,
    uint64_t *entered);
/*
 * npages consecutive pages from iova, as npages iommu_pt_remove calls
 * (tlb_add_page for each); stops at the first unmapped page (ENOENT), with
 * *removed (may be NULL) counting those removed before it.
 */
IOMMU_EXPORT int iommu_pt_remove_range(
    struct iommu_pt *pt, uint64_t iova, uint64_t npages, uint64_t *removed);
/*
 * Looks iova up (any offset in the page) in the descriptors the hardware
 * walks: *pa gets the translated address (page PA plus offset), *prot the
 * effective protection (either may be NULL).  ENOENT if not mapped or
 * beyond the input size.
 */
IOMMU_EXPORT int iommu_pt_extract(
    struct iommu_pt *pt, uint64_t iova, uint64_t *pa, unsigned *prot);
/*
 * Creates every intermediate level for [iova, iova + len) so that later
 * enters in the range allocate nothing but a PTED.  EINVAL for len 0 or a
 * wrapping range, ERANGE beyond the input size, ENOMEM (levels created
 * before the failure stay: they are empty and freed by destroy).
 */
IOMMU_EXPORT int iommu_pt_prepare(
    struct iommu_pt *pt, uint64_t iova, uint64_t len);
/*
 * As iommu_pt_prepare, and parks a PTED in every page of [iova, iova +
 * len) that has none (OpenBSD's later smmu_prepare): enters there take no
 * PTED, removes keep it, so the range maps and unmaps without touching
 * the pool.  ENOMEM (no PTED) parks nothing (levels stay), unless pages of
 * the range are removed while it runs: what it parked then stays.
 */
IOMMU_EXPORT int iommu_pt_prepare_pteds(
    struct iommu_pt *pt, uint64_t iova, uint64_t len);
/*
 * Returns the parked PTEDs of [iova, iova + len) to the pool; EBUSY, with
 * nothing changed, while a page of the range is mapped through its parked
 * PTED (and EBUSY too when an enter maps one while the call runs: that
 * page keeps its PTED, the others are returned).  A page mapped through a
 * PTED of its own (entered before the range was prepared) is not the
 * call's: it stays mapped.
 */
IOMMU_EXPORT int iommu_pt_unprepare(
    struct iommu_pt *pt, uint64_t iova, uint64_t len);
/*
 * Keep (true) or give back (false, the default) the PTED of a page that a
 * remove unmaps.  Kept, it stays parked on its page as if prepared, so
 * mapping that page again takes nothing from the pool: for a caller whose
 * IOVA is recycled (a magazine cache), the pool traffic of the steady
 * state goes, at the price of one PTED per page ever mapped until
 * iommu_pt_unprepare or destroy.  Set it before the table is shared.
 */
IOMMU_EXPORT void iommu_pt_set_keep_pteds(struct iommu_pt *pt, bool keep);

/*
 * Owned spans.  A caller that alone maps and unmaps the pages of a range it
 * prepared with iommu_pt_prepare_pteds (a bus_dma map's create-time
 * windows, a recycled magazine IOVA) fetches a span of them once, then
 * fills and clears runs of its pages without walking the table or touching
 * a PTED: what iommu_pt_enter and iommu_pt_remove do for those pages, minus
 * the walk.  A span's pages lie in one level-3 table (IOMMU_PT_SPAN_BYTES
 * of IOVA, aligned) and its handle is one word, where the first page's
 * descriptor lives (a caller keeps it with each map and reads it at every
 * load and unload): page k of the span is k descriptors after it, and two
 * spans of one table are as far apart as their first pages, so a caller
 * holding several may keep one handle and index the others' pages from
 * it.  A handle stays valid until iommu_pt_unprepare of its pages or
 * iommu_pt_destroy, and its owner does not unprepare pages while it fills
 * them (a fill that lands after the PTED left would map the page with no
 * PTED, which iommu_pt_validate reports; iommu_pt_enter holds the slot
 * and cannot do that, a span's fill does not).  The caller knows the IOVA
 * of each page it indexes, uses only pages it fetched, and never writes a
 * handle.
 *
 * iommu_pt_span: the span of the npages pages from iova.  EINVAL for a
 * misaligned iova, npages 0 or a wrapping range; ERANGE beyond the input
 * size; EXDEV when the pages are not all in one level-3 table; ENOENT when
 * a page holds no parked PTED (never prepared, or entered by
 * iommu_pt_enter before it was prepared).
 */
#define IOMMU_PT_SPAN_BYTES ((uint64_t)512 << IOMMU_PAGE_SHIFT)
struct iommu_pt_span {
	uint64_t *ps_desc; /* the first page's descriptor, in its frame */
};
IOMMU_EXPORT int iommu_pt_span(struct iommu_pt *pt, uint64_t iova,
    uint64_t npages, struct iommu_pt_span *span);
/* A run to fill: pages pr_first .. of a span map pr_npages pages from pr_pa. */
struct iommu_pt_run {
	uint64_t pr_first;
	uint64_t pr_pa;
	uint64_t pr_npages;
};
/*
 * Fills runs[0 .. nruns) of span in order, each as iommu_pt_enter_range
 * would map its pages, with one prot and cache for all: EINVAL for a span
 * never fetched (NULL handle), nruns 0, a bad prot or cache, a run of 0 pages
 * or a misaligned pr_pa; ERANGE for a run beyond the output size; EEXIST at the
 * first page already mapped (a racing iommu_pt_enter of the page: one wins).
 * *entered (may be NULL) counts the pages mapped, in run order, before the page
 * that failed.
 */
IOMMU_EXPORT int iommu_pt_span_fill(struct iommu_pt *pt,
    const struct iommu_pt_span *span, const struct iommu_pt_run *runs,
    unsigned nruns, unsigned prot, unsigned cache, uint64_t *entered);
/*
 * Unmaps pages first .. first + npages - 1 of span, whose IOVAs run from
 * iova (tlb_add_page for each, with these IOVAs), as iommu_pt_remove_range:
 * ENOENT at the first page not mapped, with *removed (may be NULL)
 * counting those unmapped before it; EINVAL for a span never fetched, a
 * misaligned iova or npages 0.  Flags: IOMMU_PT_NOTLBADD calls no hook: the
 * caller invalidates the whole context (by ASID) before it relies on the pages
 * being gone.  A load and a store per page, not a compare-and-swap: the span's
 * owner alone unmaps its pages (an iommu_pt_remove of one by another thread
 * is a caller error, which can leave two removes reported for one mapping).
 */
IOMMU_EXPORT int iommu_pt_span_clear(struct iommu_pt *pt,
    const struct iommu_pt_span *span, uint64_t first, uint64_t iova,
    uint64_t npages, unsigned flags, uint64_t *removed);

/*
 * Statistics.  pts_pteds walks the tables: not for hot paths, and exact
 * only when no enter or remove runs concurrently.
 */
IOMMU_EXPORT void iommu_pt_get_stats(
    struct iommu_pt *pt, struct iommu_pt_stats *st);
/*
 * Whole-table consistency check (the IOMMU_DEBUG 3 validator; callable
 * any time the table is quiescent): every host child pointer matches a
 * valid descriptor of the right type and vice versa, each page descriptor
 * equals what its PTED recorded, and the level counts match the
 * statistics.  0 or EFAULT.
 */
IOMMU_EXPORT int iommu_pt_validate(struct iommu_pt *pt);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_PAGETABLE_H */
