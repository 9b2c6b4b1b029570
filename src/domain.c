/*
 * libiommu - SMMU driver domains: one per stream ID (OpenBSD smmu(4)
 * smmu_domain_create, smmu_enter/smmu_remove, smmu_tlb_sync_context).
 *
 * Design: a domain owns an ASID (lowest free, ASID 0 never used, so freed
 * ASIDs are recycled first), a page frame holding its context descriptor,
 * its STE in the instance's stream table, a page table (iommu/pagetable.h,
 * sharing the instance's PTED and VP pools; its lock is the seed's
 * sd_pmap_mtx) and an IOVA arena: a no-coalesce extent over
 * [0, 2^ias - 1] whose own lock is the seed's sd_iova_mtx, with IOVA page
 * 0 reserved.  Configuration is written CD first (CFGI_CD + CMD_SYNC),
 * then the STE (DW1..7 before DW0, which carries V; CFGI_STE + CMD_SYNC).
 *
 * Invalidation: the page table calls tlb_add_page for every removed page;
 * by policy that queues a TLBI_NH_VA (leaf) into the command queue now
 * (IOMMU_TLBI_PER_PAGE), or records that the ASID (IOMMU_TLBI_ASID) or a
 * covering range (IOMMU_TLBI_RANGE) is owed.  Pending state lives under
 * the command lock, so whichever sync runs next issues it before its
 * CMD_SYNC: a sync never returns before every page removed before it was
 * called is invalidated.  iommu_domain_sync() publishes the queue with
 * one CMD_SYNC and waits for it.  An unload batch (the bus_dma unload)
 * saves the per-page lock round trips: its owner thread, named in
 * dom_batch_owner (taken by compare-and-swap, so one batch per domain at
 * a time; others take the ordinary path), notes removed pages in
 * dom_batch_va without a lock and queues them, by the same policy, in the
 * one command-lock hold that also syncs.  The IOMMU_SMMU_MUTATE_* test mutants
 * skip the per-page invalidation (NO_TLBI: nothing is owed) or, in
 * iommu_domain_sync() only, the CMD_SYNC and the queue publish that goes
 * with it (NO_SYNC: the TLBIs stay unpublished until some later sync);
 * create and destroy always synchronise.  What a bus_dma unload does after
 * its removes (strict or deferred invalidation, owed IOVA) is in
 * domain_flush.c; a deferred unload's own batch notes no page at all.
 *
 * Destroy: STE to abort (DW0 first), CFGI_STE, TLBI_NH_ASID, CMD_SYNC;
 * then the page table (with any mappings left), CD frame, arena and ASID
 * are freed.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <iommu/iova_magazine.h>

#include "smmu_internal.h"

static void dom_tlb_flush_all(void *cookie);
static void dom_tlb_flush_walk(
    void *cookie, uint64_t iova, uint64_t size, uint64_t granule);
static void dom_tlb_add_page(void *cookie, uint64_t iova, uint64_t granule);

static const struct iommu_pt_tlb_ops dom_tlb_ops = {
    .tlb_flush_all = dom_tlb_flush_all,
    .tlb_flush_walk = dom_tlb_flush_walk,
    .tlb_add_page = dom_tlb_add_page,
};

static void
dom_store64(uint8_t *p, uint64_t v)
{
	uint64_t le;

	iommu__le64_enc(&le, v);
	__atomic_store_n((uint64_t *)(void *)p, le, __ATOMIC_RELEASE);
}

static void
dom_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* With sc_cmd_mtx held: note pages [iova, iova + size) as owed. */
static void
dom_owe_range(struct iommu_domain *dom, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (dom->dom_pend_lo > dom->dom_pend_hi) {
		dom->dom_pend_lo = iova;
		dom->dom_pend_hi = last;
		return;
	}
	if (iova < dom->dom_pend_lo)
		dom->dom_pend_lo = iova;
	if (last > dom->dom_pend_hi)
		dom->dom_pend_hi = last;
}

/* With sc_cmd_mtx held: queue or owe the invalidation of one page. */
static void
dom_owe_page(struct iommu_domain *dom, uint64_t iova, uint64_t granule)
{
	struct iommu_smmu *sc = dom->dom_sc;
	uint64_t	   cmd[2];

	if (SMMU_DRV_MUTANT(sc, IOMMU_SMMU_MUTATE_NO_TLBI))
		return;
	switch (sc->sc_tlbi) {
	case IOMMU_TLBI_PER_PAGE:
		iommu__cmd_tlbi_va(dom->dom_asid, iova, cmd);
		if (iommu__cmdq_put(sc, cmd[0], cmd[1]) == 0)
			iommu__count_locked(&dom->dom_stats.tlbi, 1);
		else
			dom->dom_pend_asid = true; /* the sync retries */
		break;
	case IOMMU_TLBI_ASID:
		dom->dom_pend_asid = true;
		break;
	case IOMMU_TLBI_RANGE:
		dom_owe_range(dom, iova, granule);
		break;
	}
}

/*
 * Its address tells threads apart (never written): the owner tag of an
 * unload batch, portable where pthread_t is not comparable as a number.
 */
static _Thread_local char dom_thread_tag;

static uintptr_t
dom_self(void)
{
	return (uintptr_t)&dom_thread_tag;
}

/* With sc_cmd_mtx held: count and queue the batch's noted pages. */
static void
dom_batch_flush(struct iommu_domain *dom)
{
	unsigned i;

	iommu__count_locked(&dom->dom_stats.removes, dom->dom_batch_n);
	for (i = 0; i < dom->dom_batch_n; i++)
		dom_owe_page(dom, dom->dom_batch_va[i], IOMMU_PAGE_SIZE);
	dom->dom_batch_n = 0;
}

/*
 * Called once per page the table removed: removes are counted here, under
 * the command lock this takes anyway (or at the batch's flush).
 */
static void
dom_tlb_add_page(void *cookie, uint64_t iova, uint64_t granule)
{
	struct iommu_domain *dom = cookie;
	struct iommu_smmu   *sc = dom->dom_sc;

	/* Our own batch: note the page, no lock (only we touch the list). */
	if (atomic_load_explicit(&dom->dom_batch_owner, memory_order_relaxed) ==
		dom_self() &&
	    granule == IOMMU_PAGE_SIZE) {
		/* Deferred: the flush's TLBI by ASID covers the page. */
		if (dom->dom_fq_depth != 0) {
			dom->dom_batch_removed++;
			return;
		}
		if (dom->dom_batch_n == SMMU_DRV_BATCH) {
			iommu__spin_lock(&sc->sc_cmd_mtx);
			dom_batch_flush(dom);
			iommu__spin_unlock(&sc->sc_cmd_mtx);
		}
		dom->dom_batch_va[dom->dom_batch_n++] = iova;
		return;
	}
	iommu__spin_lock(&sc->sc_cmd_mtx);
	iommu__count_locked(&dom->dom_stats.removes, 1);
	dom_owe_page(dom, iova, granule);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
}

static void
dom_tlb_flush_walk(void *cookie, uint64_t iova, uint64_t size, uint64_t granule)
{
	struct iommu_domain *dom = cookie;

	(void)iova;
	(void)size;
	(void)granule;
	iommu__spin_lock(&dom->dom_sc->sc_cmd_mtx);
	dom->dom_pend_asid = true;
	iommu__spin_unlock(&dom->dom_sc->sc_cmd_mtx);
}

static void
dom_tlb_flush_all(void *cookie)
{
	dom_tlb_flush_walk(cookie, 0, 0, 0);
}

/* With sc_cmd_mtx held: queue what the domain owes. */
static int
dom_issue_pending(struct iommu_domain *dom)
{
	struct iommu_smmu *sc = dom->dom_sc;
	uint64_t	   cmd[2];
	unsigned	   n = 0;
	int		   error;

	/* SCALE is 5 bits: a range TLBI stops short of 2^32 pages. */
	if (dom->dom_pend_lo <= dom->dom_pend_hi &&
	    (dom->dom_pend_hi - dom->dom_pend_lo) >> IOMMU_PAGE_SHIFT >=
		UINT32_MAX)
		dom->dom_pend_asid = true;
	if (dom->dom_pend_asid) {
		iommu__cmd_tlbi_asid(dom->dom_asid, cmd);
		if ((error = iommu__cmdq_put(sc, cmd[0], cmd[1])) != 0)
			return error;
		dom->dom_pend_asid = false;
		dom->dom_pend_lo = UINT64_MAX; /* covered by the ASID */
		dom->dom_pend_hi = 0;
		iommu__count_locked(&dom->dom_stats.tlbi, 1);
	}
	if (dom->dom_pend_lo <= dom->dom_pend_hi) {
		error = iommu__cmdq_tlbi_range(
		    sc, dom->dom_asid, dom->dom_pend_lo, dom->dom_pend_hi, &n);
		iommu__count_locked(&dom->dom_stats.tlbi, n);
		if (error != 0)
			return error;
		dom->dom_pend_lo = UINT64_MAX;
		dom->dom_pend_hi = 0;
	}
	return 0;
}

/* With sc_cmd_mtx held: what iommu_domain_sync does after the lock. */
int
iommu__domain_sync_locked(struct iommu_domain *dom, bool asid)
{
	struct iommu_smmu *sc = dom->dom_sc;
	int		   error;

	if (asid && !SMMU_DRV_MUTANT(sc, IOMMU_SMMU_MUTATE_NO_TLBI))
		dom->dom_pend_asid = true;
	error = dom_issue_pending(dom);
	if (error == 0 && !SMMU_DRV_MUTANT(sc, IOMMU_SMMU_MUTATE_NO_SYNC)) {
		error = iommu__cmdq_sync(sc);
		iommu__count_locked(&dom->dom_stats.syncs, 1);
	}
	return error;
}

int
iommu_domain_sync(struct iommu_domain *dom)
{
	struct iommu_smmu *sc;
	int		   error;

	if (dom == NULL)
		return EINVAL;
	if (iommu__domain_flush_pending(dom))
		return iommu__domain_flush(dom);
	sc = dom->dom_sc;
	iommu__spin_lock(&sc->sc_cmd_mtx);
	error = iommu__domain_sync_locked(dom, false);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	return error;
}

bool
iommu__domain_batch_begin(struct iommu_domain *dom)
{
	uintptr_t none = 0;

	/* Acquire: the previous owner's last use of the list comes first. */
	return atomic_compare_exchange_strong_explicit(&dom->dom_batch_owner,
	    &none, dom_self(), memory_order_acquire, memory_order_relaxed);
}

int
iommu__domain_batch_end(struct iommu_domain *dom, bool batched, bool sync)
{
	struct iommu_smmu *sc = dom->dom_sc;
	int		   error = 0;

	if (!batched && !sync)
		return 0;
	iommu__spin_lock(&sc->sc_cmd_mtx);
	if (batched) {
		dom_batch_flush(dom);
		atomic_store_explicit(
		    &dom->dom_batch_owner, 0, memory_order_release);
	}
	if (sync)
		error = iommu__domain_sync_locked(dom, false);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	return error;
}

void
iommu__domain_batch_release(struct iommu_domain *dom)
{
	atomic_fetch_add_explicit(&dom->dom_stats.fq_removes,
	    dom->dom_batch_removed, memory_order_relaxed);
	dom->dom_batch_removed = 0;
	atomic_store_explicit(&dom->dom_batch_owner, 0, memory_order_release);
}

void
iommu__domain_count_removes(struct iommu_domain *dom, uint64_t pages)
{
	atomic_fetch_add_explicit(
	    &dom->dom_stats.fq_removes, pages, memory_order_relaxed);
}

void
iommu_domain_config_init(struct iommu_domain_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->dc_size = sizeof(*cfg);
	cfg->dc_ias = 48;
	cfg->dc_iova = IOMMU_IOVA_PER_MAP;
}

static int
dom_asid_alloc(struct iommu_smmu *sc, uint16_t *asid)
{
	size_t	 nwords = ((size_t)1 << sc->sc_asid_bits) / 64, w;
	unsigned b;

	for (w = 0; w < nwords; w++) {
		if (sc->sc_asid_map[w] == UINT64_MAX)
			continue;
		b = (unsigned)__builtin_ctzll(~sc->sc_asid_map[w]);
		sc->sc_asid_map[w] |= 1ULL << b;
		*asid = (uint16_t)(w * 64 + b);
		return 0;
	}
	return ENOSPC;
}

static void
dom_asid_free(struct iommu_smmu *sc, uint16_t asid)
{
	sc->sc_asid_map[asid / 64] &= ~(1ULL << (asid % 64));
}

/* The CD (5.4): TTB0 only, 4K granule, write-back walks, faults recorded. */
static void
dom_write_cd(struct iommu_domain *dom)
{
	struct iommu_smmu *sc = dom->dom_sc;
	uint8_t		  *cd = iommu_physmem_kva(sc->sc_pm, dom->dom_cd_pa);
	uint64_t	   dw0 = 0;

	dw0 = SMMU_FSET(dw0, SMMU_CD0_T0SZ, iommu_pt_t0sz(dom->dom_pt));
	dw0 = SMMU_FSET(dw0, SMMU_CD0_TG0, SMMU_CD_TG0_4K);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_IR0, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_OR0, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_SH0, 3);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_EPD1, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_V, 1);
	/* 52-bit output needs LPA2 descriptors; ours stop at 48 bits. */
	dw0 = SMMU_FSET(
	    dw0, SMMU_CD0_IPS, sc->sc_oas_enc > 5 ? 5 : sc->sc_oas_enc);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_AA64, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_R, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_A, 1);
	dw0 = SMMU_FSET(dw0, SMMU_CD0_ASID, dom->dom_asid);
	dom_store64(cd + 8, iommu_pt_root_pa(dom->dom_pt) & SMMU_CD1_TTB0_MASK);
	dom_store64(cd + 16, 0);
	dom_store64(cd + 24, IOMMU_PT_MAIR);
	dom_store64(cd, dw0);
}

/* The STE (5.2): stage 1, one CD, NS-EL1; DW0 (V) written last. */
static void
dom_write_ste(struct iommu_domain *dom)
{
	uint8_t *ste = iommu__smmu_ste(dom->dom_sc, dom->dom_sid);
	uint64_t dw0 = 0, dw1 = 0;
	unsigned i;

	dw1 = SMMU_FSET(dw1, SMMU_STE1_S1DSS, 0);
	dw1 = SMMU_FSET(dw1, SMMU_STE1_S1CIR, 1);
	dw1 = SMMU_FSET(dw1, SMMU_STE1_S1COR, 1);
	dw1 = SMMU_FSET(dw1, SMMU_STE1_S1CSH, 3);
	dw1 = SMMU_FSET(dw1, SMMU_STE1_STRW, SMMU_STE_STRW_NSEL1);
	dw1 = SMMU_FSET(dw1, SMMU_STE1_SHCFG, 1);
	dom_store64(ste + 8, dw1);
	for (i = 2; i < SMMU_STE_DWORDS; i++)
		dom_store64(ste + 8 * i, 0);
	dw0 = SMMU_FSET(dw0, SMMU_STE0_V, 1);
	dw0 = SMMU_FSET(dw0, SMMU_STE0_CONFIG, SMMU_STE_CONFIG_S1);
	dw0 = SMMU_FSET(dw0, SMMU_STE0_S1FMT, 0);
	dw0 |= dom->dom_cd_pa & SMMU_STE0_S1CTXPTR_MASK;
	dw0 = SMMU_FSET(dw0, SMMU_STE0_S1CDMAX, 0);
	dom_store64(ste, dw0);
}

static void
dom_write_ste_abort(struct iommu_domain *dom)
{
	uint8_t *ste = iommu__smmu_ste(dom->dom_sc, dom->dom_sid);
	unsigned i;

	dom_store64(ste,
	    SMMU_FSET(SMMU_FSET(0, SMMU_STE0_V, 1), SMMU_STE0_CONFIG,
		SMMU_STE_CONFIG_ABORT));
	for (i = 1; i < SMMU_STE_DWORDS; i++)
		dom_store64(ste + 8 * i, 0);
}

/* One configuration command and a CMD_SYNC. */
static int
dom_cfgi_sync(struct iommu_smmu *sc, const uint64_t *cmd, const uint64_t *cmd2)
{
	int error;

	iommu__spin_lock(&sc->sc_cmd_mtx);
	error = iommu__cmdq_put(sc, cmd[0], cmd[1]);
	if (error == 0 && cmd2 != NULL)
		error = iommu__cmdq_put(sc, cmd2[0], cmd2[1]);
	if (error == 0)
		error = iommu__cmdq_sync(sc);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	return error;
}

static struct iommu_domain **
dom_slot(struct iommu_smmu *sc, uint32_t sid, bool create)
{
	size_t g = sid >> SMMU_DRV_SPLIT;

	if (sc->sc_domains[g] == NULL) {
		if (!create)
			return NULL;
		sc->sc_domains[g] = iommu__zalloc(
		    sc->sc_alloc, SMMU_DRV_GROUP * sizeof(**sc->sc_domains));
		if (sc->sc_domains[g] == NULL)
			return NULL;
	}
	return &sc->sc_domains[g][sid & (SMMU_DRV_GROUP - 1)];
}

static void
dom_free(struct iommu_domain *dom)
{
	struct iommu_smmu *sc = dom->dom_sc;

	iommu__domain_fq_fini(dom);
	iommu_pt_destroy(dom->dom_pt);
	iommu_iova_magazine_destroy(dom->dom_mag);
	iommu_extent_destroy(dom->dom_iovamap);
	if (dom->dom_cd_pa != 0)
		(void)iommu_physmem_free_pages(sc->sc_pm, dom->dom_cd_pa, 1);
	iommu__free(sc->sc_alloc, dom, sizeof(*dom));
}

int
iommu_domain_create(struct iommu_smmu *sc, uint32_t sid,
    const struct iommu_domain_config *cfg, struct iommu_domain **out)
{
	struct iommu_domain_config defcfg;
	struct iommu_domain	 **slot, *dom;
	struct iommu_pt_cfg	   ptc;
	uint64_t		   cmd[2];
	int			   error;

	if (cfg == NULL) {
		iommu_domain_config_init(&defcfg);
		cfg = &defcfg;
	}
	if (sc == NULL || out == NULL || cfg->dc_size != sizeof(*cfg) ||
	    cfg->dc_ias < 32 || cfg->dc_ias > 48 ||
	    (unsigned)cfg->dc_iova > IOMMU_IOVA_IDENTITY ||
	    cfg->dc_flush_depth > IOMMU_DOMAIN_FLUSH_DEPTH_MAX)
		return EINVAL;
	*out = NULL;
	if ((uint64_t)sid >> sc->sc_sid_bits != 0)
		return ERANGE;
	if ((dom = iommu__zalloc(sc->sc_alloc, sizeof(*dom))) == NULL)
		return ENOMEM;
	dom->dom_sc = sc;
	dom->dom_sid = sid;
	dom->dom_ias = cfg->dc_ias;
	dom->dom_iova = cfg->dc_iova;
	dom->dom_magazines = cfg->dc_magazines;
	dom->dom_pend_lo = UINT64_MAX;
	if (iommu__domain_fq_init(dom, cfg->dc_flush_depth) != 0) {
		iommu__free(sc->sc_alloc, dom, sizeof(*dom));
		return ENOMEM;
	}

	pthread_mutex_lock(&sc->sc_dom_mtx);
	slot = dom_slot(sc, sid, true);
	if (slot == NULL) {
		error = ENOMEM;
		goto fail_unlocked_dom;
	}
	if (*slot != NULL) {
		error = EEXIST;
		goto fail_unlocked_dom;
	}
	if ((error = dom_asid_alloc(sc, &dom->dom_asid)) != 0)
		goto fail_unlocked_dom;

	memset(&ptc, 0, sizeof(ptc));
	ptc.ptc_ias = cfg->dc_ias;
	ptc.ptc_oas = sc->sc_oas_bits > 48 ? 48 : sc->sc_oas_bits;
	ptc.ptc_physmem = sc->sc_pm;
	ptc.ptc_pted_pool = sc->sc_pted_pool;
	ptc.ptc_vp_pool = sc->sc_vp_pool;
	ptc.ptc_tlb = &dom_tlb_ops;
	ptc.ptc_tlb_cookie = dom;
	ptc.ptc_alloc = sc->sc_alloc;
	if ((error = iommu_pt_create(&ptc, &dom->dom_pt)) != 0)
		goto fail_asid;
	/* Cached IOVA comes back to the same pages: keep their PTEDs too. */
	iommu_pt_set_keep_pteds(dom->dom_pt, cfg->dc_magazines);
	error = iommu_extent_create("smmu iova", 0, (1ULL << cfg->dc_ias) - 1,
	    sc->sc_alloc, NULL, 0, IOMMU_EX_NOCOALESCE, &dom->dom_iovamap);
	if (error != 0)
		goto fail_asid;
	error = iommu_extent_alloc_region(
	    dom->dom_iovamap, 0, IOMMU_PAGE_SIZE, IOMMU_EX_NOWAIT);
	if (error != 0)
		goto fail_asid;
	if (cfg->dc_magazines) {
		struct iommu_iova_magazine_config mc;

		iommu_iova_magazine_config_init(&mc);
		mc.mc_page = IOMMU_PAGE_SIZE;
		mc.mc_alloc = sc->sc_alloc;
		error = iommu_iova_magazine_create(
		    dom->dom_iovamap, &mc, &dom->dom_mag);
		if (error != 0)
			goto fail_asid;
	}
	if ((error = iommu__smmu_strtab_ensure(sc, sid)) != 0 ||
	    (error = iommu_physmem_alloc_pages(
		 sc->sc_pm, 1, &dom->dom_cd_pa)) != 0)
		goto fail_asid;

	dom_write_cd(dom);
	iommu__cmd_cfgi_cd(sid, cmd);
	if ((error = dom_cfgi_sync(sc, cmd, NULL)) != 0)
		goto fail_asid;
	dom_write_ste(dom);
	iommu__cmd_cfgi_ste(sid, cmd);
	if ((error = dom_cfgi_sync(sc, cmd, NULL)) != 0) {
		dom_write_ste_abort(dom);
		(void)dom_cfgi_sync(sc, cmd, NULL);
		goto fail_asid;
	}
	*slot = dom;
	sc->sc_ndomains++;
	pthread_mutex_unlock(&sc->sc_dom_mtx);
	*out = dom;
	return 0;

fail_asid:
	dom_asid_free(sc, dom->dom_asid);
fail_unlocked_dom:
	pthread_mutex_unlock(&sc->sc_dom_mtx);
	dom_free(dom);
	return error;
}

int
iommu_domain_destroy(struct iommu_domain *dom)
{
	struct iommu_smmu *sc;
	uint64_t	   cmd[2], tlbi[2];
	int		   error;

	if (dom == NULL)
		return EINVAL;
	sc = dom->dom_sc;
#if IOMMU_DEBUG >= 3
	/* The whole-structure validators, once per domain lifetime. */
	if (iommu_pt_validate(dom->dom_pt) != 0)
		IOMMU_PANIC("domain sid %u: page table invalid", dom->dom_sid);
	if (iommu_extent_check(dom->dom_iovamap) != 0)
		IOMMU_PANIC("domain sid %u: IOVA arena invalid", dom->dom_sid);
#endif
	pthread_mutex_lock(&sc->sc_dom_mtx);
	dom_write_ste_abort(dom);
	iommu__cmd_cfgi_ste(dom->dom_sid, cmd);
	iommu__cmd_tlbi_asid(dom->dom_asid, tlbi);
	iommu__spin_lock(&sc->sc_cmd_mtx);
	/* Whatever was owed is covered by the ASID invalidation. */
	dom->dom_pend_asid = false;
	dom->dom_pend_lo = UINT64_MAX;
	dom->dom_pend_hi = 0;
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	error = dom_cfgi_sync(sc, cmd, tlbi);
	*dom_slot(sc, dom->dom_sid, false) = NULL;
	sc->sc_ndomains--;
	dom_asid_free(sc, dom->dom_asid);
	pthread_mutex_unlock(&sc->sc_dom_mtx);
	dom_free(dom);
	return error;
}

int
iommu_domain_reserve(struct iommu_domain *dom, uint64_t start, uint64_t size)
{
	if (dom == NULL || size == 0 || ((start | size) & IOMMU_PAGE_MASK) != 0)
		return EINVAL;
	/* Ranges parked in the flush queue or the IOVA cache are allocated
	 * in the arena. */
	if (iommu__domain_flush_pending(dom))
		(void)iommu__domain_flush(dom);
	if (dom->dom_mag != NULL)
		(void)iommu_iova_magazine_flush(dom->dom_mag);
	return iommu_extent_alloc_region(
	    dom->dom_iovamap, start, size, IOMMU_EX_NOWAIT);
}

uint32_t
iommu_domain_sid(const struct iommu_domain *dom)
{
	return dom != NULL ? dom->dom_sid : 0;
}

uint16_t
iommu_domain_asid(const struct iommu_domain *dom)
{
	return dom != NULL ? dom->dom_asid : 0;
}

enum iommu_iova_strategy
iommu_domain_iova_strategy(const struct iommu_domain *dom)
{
	return dom != NULL ? dom->dom_iova : IOMMU_IOVA_PER_MAP;
}

/*
 * The one place IOVA space is taken from and returned to the arena (a
 * per-thread magazine cache slots in here): page-aligned sizes, never
 * sleeping, as the seed's smmu_load_map.  alignment 0 means a page,
 * boundary 0 none (the common case, checked first so that it costs two
 * compares).  Errors are the extent's: EAGAIN when the arena has no room,
 * ENOMEM without a descriptor (descr == NULL takes one from the instance
 * allocator).
 */
int
iommu_domain_iova_alloc_constrained(struct iommu_domain *dom, uint64_t size,
    uint64_t alignment, uint64_t boundary, struct iommu_extent_region *descr,
    uint64_t *iova)
{
	int error;

	if (dom == NULL || iova == NULL || size == 0 ||
	    (size & IOMMU_PAGE_MASK) != 0)
		return EINVAL;
	if (alignment == 0)
		alignment = IOMMU_PAGE_SIZE;
	if (alignment != IOMMU_PAGE_SIZE || boundary != 0) {
		if ((alignment & (alignment - 1)) != 0 ||
		    alignment < IOMMU_PAGE_SIZE ||
		    (boundary & (boundary - 1)) != 0 ||
		    (boundary != 0 && boundary < IOMMU_PAGE_SIZE))
			return EINVAL;
		if (boundary != 0 && size > boundary)
			return EFBIG;
	}
	if (dom->dom_mag != NULL) {
		/* Counted by the cache itself (thread-local, no atomics). */
		error = alignment == IOMMU_PAGE_SIZE && boundary == 0
		    ? iommu_iova_magazine_alloc(dom->dom_mag, size, iova)
		    : iommu_iova_magazine_alloc_constrained(
			  dom->dom_mag, size, alignment, boundary, iova);
		if (error != 0)
			dom_count(&dom->dom_stats.iova_failures, 1);
		return error;
	}
	/* BOUNDZERO: lines at multiples of boundary (the arena starts at 0). */
	if (descr != NULL)
		error = iommu_extent_alloc_with_descr(dom->dom_iovamap, size,
		    alignment, 0, boundary,
		    IOMMU_EX_NOWAIT | IOMMU_EX_BOUNDZERO, descr, iova);
	else
		error = iommu_extent_alloc(dom->dom_iovamap, size, alignment, 0,
		    boundary, IOMMU_EX_NOWAIT | IOMMU_EX_BOUNDZERO, iova);
	if (error != 0) {
		dom_count(&dom->dom_stats.iova_failures, 1);
		return error;
	}
	dom_count(&dom->dom_stats.iova_allocs, 1);
	dom_count(&dom->dom_stats.iova_bytes, size);
	return 0;
}

int
iommu_domain_iova_alloc(struct iommu_domain *dom, uint64_t size,
    struct iommu_extent_region *descr, uint64_t *iova)
{
	return iommu_domain_iova_alloc_constrained(
	    dom, size, 0, 0, descr, iova);
}

int
iommu_domain_iova_free(struct iommu_domain *dom, uint64_t iova, uint64_t size)
{
	int error;

	if (dom == NULL || size == 0 || ((iova | size) & IOMMU_PAGE_MASK) != 0)
		return EINVAL;
	if (dom->dom_mag != NULL)
		return iommu_iova_magazine_free(dom->dom_mag, iova, size);
	error =
	    iommu_extent_free(dom->dom_iovamap, iova, size, IOMMU_EX_NOWAIT);
	if (error == 0) {
		dom_count(&dom->dom_stats.iova_frees, 1);
		atomic_fetch_sub_explicit(
		    &dom->dom_stats.iova_bytes, size, memory_order_relaxed);
	}
	return error;
}

int
iommu_domain_enter(struct iommu_domain *dom, uint64_t iova, uint64_t pa,
    unsigned prot, unsigned cache)
{
	if (dom == NULL)
		return EINVAL;
	/* Counted in get_stats: removes + the pages in the table. */
	return iommu_pt_enter(dom->dom_pt, iova, pa, prot, cache, 0);
}

int
iommu_domain_remove(struct iommu_domain *dom, uint64_t iova)
{
	if (dom == NULL)
		return EINVAL;
	/* Counted by dom_tlb_add_page, under the lock it takes anyway. */
	return iommu_pt_remove(dom->dom_pt, iova);
}

int
iommu_domain_enter_range(struct iommu_domain *dom, uint64_t iova, uint64_t pa,
    uint64_t len, unsigned prot, unsigned cache, uint64_t *done)
{
	uint64_t n = 0;
	int	 error;

	if (done != NULL)
		*done = 0;
	if (dom == NULL || (len & IOMMU_PAGE_MASK) != 0)
		return EINVAL;
	error = iommu_pt_enter_range(
	    dom->dom_pt, iova, pa, len >> IOMMU_PAGE_SHIFT, prot, cache, 0, &n);
	if (done != NULL)
		*done = n << IOMMU_PAGE_SHIFT;
	return error;
}

int
iommu_domain_remove_range(
    struct iommu_domain *dom, uint64_t iova, uint64_t len, uint64_t *done)
{
	uint64_t n = 0;
	int	 error;

	if (done != NULL)
		*done = 0;
	if (dom == NULL || (len & IOMMU_PAGE_MASK) != 0)
		return EINVAL;
	error = iommu_pt_remove_range(
	    dom->dom_pt, iova, len >> IOMMU_PAGE_SHIFT, &n);
	if (done != NULL)
		*done = n << IOMMU_PAGE_SHIFT;
	return error;
}

int
iommu_domain_prepare_pteds(
    struct iommu_domain *dom, uint64_t iova, uint64_t len)
{
	if (dom == NULL)
		return EINVAL;
	return iommu_pt_prepare_pteds(dom->dom_pt, iova, len);
}

int
iommu_domain_unprepare(struct iommu_domain *dom, uint64_t iova, uint64_t len)
{
	if (dom == NULL)
		return EINVAL;
	return iommu_pt_unprepare(dom->dom_pt, iova, len);
}

int
iommu_domain_prepare(struct iommu_domain *dom, uint64_t iova, uint64_t len)
{
	if (dom == NULL)
		return EINVAL;
	return iommu_pt_prepare(dom->dom_pt, iova, len);
}

void
iommu_domain_get_stats(struct iommu_domain *dom, struct iommu_domain_stats *st)
{
	struct iommu_pt_stats		 pts;
	struct iommu_iova_magazine_stats ms;

	if (dom == NULL || st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	st->ds_iova_allocs = atomic_load(&dom->dom_stats.iova_allocs);
	st->ds_iova_frees = atomic_load(&dom->dom_stats.iova_frees);
	st->ds_iova_failures = atomic_load(&dom->dom_stats.iova_failures);
	st->ds_iova_bytes = atomic_load(&dom->dom_stats.iova_bytes);
	if (dom->dom_mag != NULL) {
		iommu_iova_magazine_get_stats(dom->dom_mag, &ms);
		st->ds_iova_allocs = ms.ms_allocs;
		st->ds_iova_frees = ms.ms_frees;
		st->ds_iova_bytes = ms.ms_requested_total - ms.ms_freed_total;
	}
	/*
	 * No enter counter on the hot path: every page in the table was
	 * entered and not yet removed (exact when no enter or remove runs
	 * concurrently).  Removes read first.
	 */
	st->ds_removes = atomic_load(&dom->dom_stats.removes) +
	    atomic_load(&dom->dom_stats.fq_removes);
	iommu_pt_get_stats(dom->dom_pt, &pts);
	st->ds_pages_mapped = pts.pts_pteds;
	st->ds_enters = st->ds_removes + pts.pts_pteds;
	st->ds_tlbi = atomic_load(&dom->dom_stats.tlbi);
	st->ds_syncs = atomic_load(&dom->dom_stats.syncs);
	st->ds_flushes = atomic_load(&dom->dom_stats.flushes);
	st->ds_iova_deferred = atomic_load(&dom->dom_stats.fq_bytes);
	st->ds_iova_quarantined = atomic_load(&dom->dom_stats.quarantined);
}
