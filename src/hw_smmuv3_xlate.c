/*
 * libiommu - SMMUv3 model: the device side - translate, probe, DMA - and
 * the stale-translation checker for TLB hits (IHI 0070 3.2 transaction
 * flow, 3.12 fault handling).
 *
 * Design: a transaction goes SMMUEN/GBPA -> config (config cache or STE
 * and CD fetch) -> TTB half selection -> TLB -> walk -> permission check.
 * Configuration errors (C_BAD_*, F_*_FETCH, F_STREAM_DISABLED) are always
 * recorded; the translation-related faults F_TRANSLATION, F_ADDR_SIZE,
 * F_ACCESS and F_PERMISSION only when CD.R = 1; F_WALK_EABT always.  An
 * STE with Config = abort and GBPA.ABORT terminate without an event.
 * smmuv3_probe runs the same flow from memory only (no cache lookup or
 * fill, no event, no counter).  DMA enters once and translates each page
 * (each TLB entry's page or block) of the transfer in turn.
 *
 * Locking (hw_smmuv3_internal.h): every entry point runs on the shared
 * side, one reader shard held across translation AND memory access.
 * TLBIs run beside it on the command side: a fill takes its entry back
 * out when a TLBI batch started during its walk (hw_smmuv3_tlb.c), and a
 * CMD_SYNC waits until the accesses in flight at its start have left
 * their shards, so none of them outlives it.  Counters go to the shard, fault
 * records and stale reports are made under the side lock.  When the config
 * cache would have to change (a miss, a CD refetch) the access gives up its
 * shard and is redone on the exclusive side; a DMA then stays exclusive for its
 * remaining pages.
 *
 * Not implemented: stall (all faults terminate), RAZ/WI termination
 * (IDR0.TERM_MODEL = 1, so a CD with A = 0 is C_BAD_CD), ATS
 * translated/untranslated distinction, PRI,
 * privileged/instruction attributes (PnU/InD are always 0 in events).
 */
#include <errno.h>
#include <string.h>

#include "hw_smmuv3_internal.h"

static bool smmuv3_fault_is_translation(uint8_t id);
static int  smmuv3_fault(struct smmuv3 *, unsigned flags,
     const struct smmuv3__event *, bool record, struct smmuv3_fault *);
static void smmuv3_tlb_check_stale(struct smmuv3 *, struct smmuv3__shard *,
    const struct smmuv3__cfg *, const struct smmuv3__req *,
    const struct smmuv3__tlbe *);
static void smmuv3_event_init(
    struct smmuv3__event *, const struct smmuv3__req *);
static int	   smmuv3_xlate_leaf(struct smmuv3 *, unsigned flags,
	    const struct smmuv3__cfg *, const struct smmuv3__req *,
	    const struct smmuv3__tlbe *, struct smmuv3__event *, struct smmuv3_xlate *,
	    struct smmuv3_fault *);
static int	   smmuv3_xlate_miss(struct smmuv3 *, struct smmuv3__shard *,
	    const struct smmuv3__cfg *, unsigned gshift, const struct smmuv3__req *,
	    unsigned flags, struct smmuv3__event *, struct smmuv3_xlate *,
	    struct smmuv3_fault *);
static inline int  smmuv3_xlate_fast(struct smmuv3 *, struct smmuv3__shard *,
     uint32_t sid, uint32_t ssid, uint64_t iova, unsigned access,
     struct smmuv3_xlate *, const struct smmuv3__cfg **, unsigned *gshift);
static inline void smmuv3_utlb_answer(
    struct smmuv3__shard *, uint64_t iova, struct smmuv3_xlate *);
static int smmuv3_dma(struct smmuv3 *, uint32_t sid, uint32_t ssid,
    uint64_t iova, void *rbuf, const void *wbuf, size_t len,
    struct smmuv3_fault *);

static bool
smmuv3_fault_is_translation(uint8_t id)
{
	return id == SMMU_EVT_F_TRANSLATION || id == SMMU_EVT_F_ADDR_SIZE ||
	    id == SMMU_EVT_F_ACCESS || id == SMMU_EVT_F_PERMISSION;
}

static int
smmuv3_fault(struct smmuv3 *sc, unsigned flags, const struct smmuv3__event *ev,
    bool record, struct smmuv3_fault *ft)
{
	memset(ft, 0, sizeof(*ft));
	ft->ft_event = ev->ev_id;
	ft->ft_addr = ev->ev_addr;
	ft->ft_fetch_addr = ev->ev_fetch_addr;
	ft->ft_class = ev->ev_class;
	ft->ft_rnw = ev->ev_rnw;
	if (flags & SMMUV3__PROBE) {
		ft->ft_aborted = ev->ev_id == 0;
		return EFAULT;
	}
	smmuv3__side_enter(sc);
	if (SMMUV3__TRACING(sc))
		smmuv3__trace(sc, SMMUV3_TRACE_FAULT, ev->ev_sid, ev->ev_ssid,
		    ev->ev_addr, ev->ev_fetch_addr, 0, 0, ev->ev_id);
	if (ev->ev_id == 0)
		ft->ft_aborted = true;
	else if (record)
		ft->ft_recorded = smmuv3__evtq_record(sc, ev);
	smmuv3__side_leave(sc);
	return EFAULT;
}

/* Stale checker for TLB hits: a fresh walk must give the same leaf. */
static void
smmuv3_tlb_check_stale(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__cfg *cf, const struct smmuv3__req *rq,
    const struct smmuv3__tlbe *te)
{
	struct smmuv3_stale_report sr;
	struct smmuv3__tlbe	   fresh;
	struct smmuv3__event	   ev;
	uint64_t		   off = rq->rq_iova - te->te_va;

	memset(&ev, 0, sizeof(ev));
	if (smmuv3__walk(sc, sh, cf, rq, SMMUV3__PROBE, &fresh, &ev) == 0 &&
	    fresh.te_pa + (rq->rq_iova - fresh.te_va) == te->te_pa + off &&
	    (fresh.te_flags & (SMMUV3__TE_R | SMMUV3__TE_W)) ==
		(te->te_flags & (SMMUV3__TE_R | SMMUV3__TE_W)))
		return;
	smmuv3__side_enter(sc);
	sc->sc_stats.st_stale++;
	if (sc->sc_ops.ho_stale == NULL) {
		smmuv3__side_leave(sc);
		return;
	}
	memset(&sr, 0, sizeof(sr));
	sr.sr_sid = cf->cf_sid;
	sr.sr_ssid = cf->cf_ssid;
	sr.sr_iova = rq->rq_iova;
	sr.sr_cached_pa = te->te_pa + off;
	if (ev.ev_id == 0)
		sr.sr_fresh_pa = fresh.te_pa + (rq->rq_iova - fresh.te_va);
	sr.sr_fresh_event = ev.ev_id;
	sc->sc_ops.ho_stale(sc->sc_cookie, &sr);
	smmuv3__side_leave(sc);
}

/* A fast-path hit, answered from the shard's last hit (just recorded). */
static inline void
smmuv3_utlb_answer(
    struct smmuv3__shard *sh, uint64_t iova, struct smmuv3_xlate *xl)
{
	const struct smmuv3__utlb *ut = &sh->sh_utlb;

	sh->sh_st.ds_fast_hits++;
	xl->xl_pa = ut->ut_pa + (iova - ut->ut_va);
	xl->xl_size = 1ULL << ut->ut_size_log2;
	xl->xl_perm = ut->ut_perm;
	xl->xl_level = ut->ut_level;
	xl->xl_bypass = false;
}

/* What smmuv3_xlate_fast found. */
enum { SMMUV3_FAST_HIT, SMMUV3_FAST_MISS, SMMUV3_FAST_NO };

/*
 * The common case in a few loads: config-cache hit, TLB lookup, access
 * allowed, no stale checking.  Returns SMMUV3_FAST_HIT with *xl, or
 * SMMUV3_FAST_MISS when a plain stage-1 config (*cfp, granule *gshift)
 * missed in the TLB, for the caller to walk at once (smmuv3_xlate_miss:
 * the config and the lookup are not done twice), or SMMUV3_FAST_NO for
 * the full flow.  The caller does the counting after a miss or the full
 * flow.
 */
static inline int
smmuv3_xlate_fast(struct smmuv3 *sc, struct smmuv3__shard *sh, uint32_t sid,
    uint32_t ssid, uint64_t iova, unsigned access, struct smmuv3_xlate *xl,
    const struct smmuv3__cfg **cfp, unsigned *gshift)
{
	const struct smmuv3__cfg *cf;
	const struct smmuv3__tt	 *tt;
	struct smmuv3__tlbe	  te;
	struct smmuv3__utlb	 *ut = &sh->sh_utlb;
	unsigned		  perm;
	int			  h;

	/* Never filled while stale checking is on (below). */
	if (ut->ut_seqp != NULL && ut->ut_sid == sid && ut->ut_ssid == ssid &&
	    ((iova ^ ut->ut_va) >> ut->ut_size_log2) == 0 &&
	    (access & ~(unsigned)ut->ut_perm) == 0 &&
	    atomic_load_explicit(ut->ut_seqp, memory_order_seq_cst) ==
		ut->ut_seq &&
	    smmuv3__asid_gen(ut->ut_as) == ut->ut_gen) {
		smmuv3_utlb_answer(sh, iova, xl);
		return SMMUV3_FAST_HIT;
	}
	if ((sc->sc_cr0 & 1u) == 0 || sc->sc_cfg.cfg_check_stale)
		return SMMUV3_FAST_NO;
	/*
	 * The entry of this shard's previous hit, if it still holds this key
	 * (any invalidation or replacement changes cf_valid or the key; both
	 * happen only on the exclusive side).
	 */
	cf = sh->sh_cfgc_last;
	if (cf == NULL || !cf->cf_valid || cf->cf_sid != sid ||
	    cf->cf_ssid != ssid) {
		sh->sh_cfgc_last = smmuv3__cfgc_lookup(sc, sid, ssid);
		if ((cf = sh->sh_cfgc_last) == NULL)
			return SMMUV3_FAST_NO;
	}
	if (!cf->cf_cd_valid || cf->cf_kind != SMMUV3__CFG_S1)
		return SMMUV3_FAST_NO;
	h = smmuv3__tt_select(cf, iova);
	if (h < 0)
		return SMMUV3_FAST_NO;
	tt = &cf->cf_tt[h];
	if (tt->tt_disabled || tt->tt_tbi)
		return SMMUV3_FAST_NO;
	if (!smmuv3__tlb_lookup(sc, cf, tt->tt_gshift, iova, &te, ut)) {
		*cfp = cf;
		*gshift = tt->tt_gshift;
		return SMMUV3_FAST_MISS;
	}
	perm = smmuv3__te_perm(te.te_flags);
	/* A global entry outlives a TLBI by ASID; missing then is harmless. */
	ut->ut_as = cf->cf_as;
	ut->ut_gen = (te.te_flags & SMMUV3__TE_GLOBAL) != 0
	    ? smmuv3__asid_gen(cf->cf_as)
	    : te.te_gen;
	ut->ut_sid = sid;
	ut->ut_ssid = ssid;
	ut->ut_va = te.te_va;
	ut->ut_pa = te.te_pa;
	ut->ut_size_log2 = te.te_size_log2;
	ut->ut_perm = (uint8_t)perm;
	ut->ut_level = te.te_level;
	if ((access & ~perm) != 0)
		return SMMUV3_FAST_NO;
	smmuv3_utlb_answer(sh, iova, xl);
	return SMMUV3_FAST_HIT;
}

/* The event a fault of rq reports, before the flow fills in its kind. */
static void
smmuv3_event_init(struct smmuv3__event *ev, const struct smmuv3__req *rq)
{
	ev->ev_id = 0;
	ev->ev_sid = rq->rq_sid;
	ev->ev_ssid = rq->rq_ssid;
	ev->ev_addr = rq->rq_iova;
	ev->ev_fetch_addr = 0;
	ev->ev_class = SMMU_EVT_CLASS_IN;
	ev->ev_rnw = (rq->rq_access & SMMUV3_ACCESS_WRITE) == 0;
	ev->ev_ind = ev->ev_pnu = false;
}

/* The permission check on a leaf (from the TLB or a walk), then *xl. */
static int
smmuv3_xlate_leaf(struct smmuv3 *sc, unsigned flags,
    const struct smmuv3__cfg *cf, const struct smmuv3__req *req,
    const struct smmuv3__tlbe *te, struct smmuv3__event *ev,
    struct smmuv3_xlate *xl, struct smmuv3_fault *ft)
{
	unsigned perm = smmuv3__te_perm(te->te_flags);

	if ((req->rq_access & ~perm) != 0) {
		ev->ev_id = SMMU_EVT_F_PERMISSION;
		ev->ev_class = SMMU_EVT_CLASS_IN;
		return smmuv3_fault(sc, flags, ev, cf->cf_record, ft);
	}
	xl->xl_pa = te->te_pa + (req->rq_iova - te->te_va);
	xl->xl_size = 1ULL << te->te_size_log2;
	xl->xl_perm = perm;
	xl->xl_level = te->te_level;
	xl->xl_bypass = false;
	return 0;
}

/*
 * A TLB miss under cf (req canonical, the shard held and recorded with
 * smmuv3__push): walk, enter the leaf unless probing (kept only if no
 * TLBI started since fill_begin), check it.
 */
static int
smmuv3_xlate_miss(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__cfg *cf, unsigned gshift,
    const struct smmuv3__req *req, unsigned flags, struct smmuv3__event *ev,
    struct smmuv3_xlate *xl, struct smmuv3_fault *ft)
{
	struct smmuv3__tlbe leaf;
	struct smmuv3__fill fl;

	smmuv3__tlb_fill_begin(sc, cf, &fl);
	if (smmuv3__walk(sc, sh, cf, req, flags, &leaf, ev) != 0)
		return smmuv3_fault(sc, flags, ev,
		    cf->cf_record || !smmuv3_fault_is_translation(ev->ev_id),
		    ft);
	if (!(flags & SMMUV3__PROBE))
		smmuv3__tlb_insert(
		    sc, sh, cf, gshift, req->rq_iova, &leaf, &fl);
	return smmuv3_xlate_leaf(sc, flags, cf, req, &leaf, ev, xl, ft);
}

/*
 * The full flow.  The caller counts the translation (unless it returns
 * SMMUV3__NEED_EXCL: then the caller redoes it on the exclusive side).
 */
int
smmuv3__translate(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__req *rq, unsigned flags, struct smmuv3_xlate *xl,
    struct smmuv3_fault *ft)
{
	const struct smmuv3__cfg *cf;
	struct smmuv3__cfg	  tmp;
	struct smmuv3__tlbe	  hit;
	struct smmuv3__event	  ev;
	struct smmuv3__req	  req = *rq;
	int			  h, error;

	smmuv3_event_init(&ev, rq);

	if (!SMMU_FGET(sc->sc_cr0, SMMU_CR0_SMMUEN)) {
		/* 3.4: beyond the OAS a bypassed access aborts silently. */
		if (SMMU_FGET(sc->sc_gbpa, SMMU_GBPA_ABORT) ||
		    (rq->rq_iova >> sc->sc_oas_bits) != 0)
			return smmuv3_fault(sc, flags, &ev, false, ft);
		goto bypass;
	}
	error = smmuv3__cfg_get(
	    sc, sh, rq->rq_sid, rq->rq_ssid, flags, &cf, &tmp, &ev);
	if (error == SMMUV3__NEED_EXCL)
		return error;
	if (error != 0) {
		/* 5.1.1: invalid StreamIDs are recorded only with RECINVSID. */
		return smmuv3_fault(sc, flags, &ev,
		    ev.ev_id != SMMU_EVT_C_BAD_STREAMID ||
			SMMU_FGET(sc->sc_cr2, SMMU_CR2_RECINVSID) != 0,
		    ft);
	}
	/* The config fetch may have pre-filled ev: back to the input view. */
	ev.ev_ssid = rq->rq_ssid;
	ev.ev_class = SMMU_EVT_CLASS_IN;
	ev.ev_fetch_addr = 0;
	switch (cf->cf_kind) {
	case SMMUV3__CFG_ABORT:
		ev.ev_id = 0;
		return smmuv3_fault(sc, flags, &ev, false, ft);
	case SMMUV3__CFG_BYPASS:
		/* 3.4: stage-1 bypass beyond the OAS (= IAS) is F_ADDR_SIZE. */
		if ((rq->rq_iova >> sc->sc_oas_bits) != 0) {
			ev.ev_id = SMMU_EVT_F_ADDR_SIZE;
			return smmuv3_fault(sc, flags, &ev, true, ft);
		}
		goto bypass;
	case SMMUV3__CFG_DISABLED:
		ev.ev_id = SMMU_EVT_F_STREAM_DISABLED;
		ev.ev_class = SMMU_EVT_CLASS_CD;
		return smmuv3_fault(sc, flags, &ev, true, ft);
	default:
		break;
	}

	h = smmuv3__tt_select(cf, req.rq_iova);
	if (h >= 0 && cf->cf_tt[h].tt_tbi) {
		/* The TLB and the walk see the canonical address. */
		req.rq_iova &= (1ULL << 56) - 1;
		if (h)
			req.rq_iova |= 0xffULL << 56;
	}
	if (h < 0 || cf->cf_tt[h].tt_disabled) {
		ev.ev_id = SMMU_EVT_F_TRANSLATION;
		return smmuv3_fault(sc, flags, &ev, cf->cf_record, ft);
	}
	if (!(flags & SMMUV3__PROBE)) {
		if (smmuv3__tlb_lookup(sc, cf, cf->cf_tt[h].tt_gshift,
			req.rq_iova, &hit, NULL)) {
			sh->sh_st.ds_tlb_hits++;
			if (sc->sc_cfg.cfg_check_stale)
				smmuv3_tlb_check_stale(sc, sh, cf, &req, &hit);
			return smmuv3_xlate_leaf(
			    sc, flags, cf, &req, &hit, &ev, xl, ft);
		}
		sh->sh_st.ds_tlb_misses++;
	}
	return smmuv3_xlate_miss(
	    sc, sh, cf, cf->cf_tt[h].tt_gshift, &req, flags, &ev, xl, ft);

bypass:
	xl->xl_pa = rq->rq_iova;
	xl->xl_size = 1ULL << 12;
	xl->xl_perm = SMMUV3_ACCESS_READ | SMMUV3_ACCESS_WRITE;
	xl->xl_level = 0;
	xl->xl_bypass = true;
	return 0;
}

/*
 * What smmuv3_xlate_fast did not answer (fast: SMMUV3_FAST_MISS or _NO),
 * the shard recorded (smmuv3__push): a miss is counted and walked under
 * the config the fast path found, anything else takes the full flow.
 */
static int
smmuv3_xlate_slow(struct smmuv3 *sc, struct smmuv3__shard *sh, int fast,
    const struct smmuv3__cfg *cf, unsigned gshift, const struct smmuv3__req *rq,
    unsigned flags, struct smmuv3_xlate *xl, struct smmuv3_fault *ft)
{
	struct smmuv3__event ev;

	if (fast != SMMUV3_FAST_MISS)
		return smmuv3__translate(sc, sh, rq, flags, xl, ft);
	sh->sh_st.ds_cfg_hits++;
	sh->sh_st.ds_tlb_misses++;
	smmuv3_event_init(&ev, rq);
	return smmuv3_xlate_miss(sc, sh, cf, gshift, rq, flags, &ev, xl, ft);
}

static int
smmuv3_xlate_entry(struct smmuv3 *sc, uint32_t sid, uint32_t ssid,
    uint64_t iova, unsigned access, unsigned flags, struct smmuv3_xlate *xl,
    struct smmuv3_fault *fault)
{
	const struct smmuv3__cfg *cf = NULL;
	struct smmuv3__req	  rq;
	struct smmuv3__hold	  hd;
	struct smmuv3_fault	  ft_local;
	struct smmuv3__tls	 *tl = &smmuv3__tls;
	struct smmuv3__shard	 *sh;
	unsigned		  gshift = 0;
	int			  fast = SMMUV3_FAST_NO, error;

	if (sc == NULL || xl == NULL || access == 0 ||
	    (access & ~(SMMUV3_ACCESS_READ | SMMUV3_ACCESS_WRITE)) != 0)
		return EINVAL;
	if ((sh = smmuv3__shared_lock(sc, tl)) == NULL)
		return EDEADLK;
	/* A TLB hit calls no host callback: no need to record the entry. */
	if (flags == 0 &&
	    (fast = smmuv3_xlate_fast(sc, sh, sid, ssid, iova, access, xl, &cf,
		 &gshift)) == SMMUV3_FAST_HIT) {
		smmuv3__shared_unlock(sh);
		return 0;
	}
	if (fault == NULL)
		fault = &ft_local;
	rq.rq_sid = sid;
	rq.rq_ssid = ssid;
	rq.rq_iova = iova;
	rq.rq_access = access;
	smmuv3__push(sc, &hd, tl, sh, false);
	error = smmuv3_xlate_slow(
	    sc, hd.hd_sh, fast, cf, gshift, &rq, flags, xl, fault);
	if (error == SMMUV3__NEED_EXCL) {
		smmuv3__leave(&hd);
		if ((error = smmuv3__enter_excl(sc, &hd)) != 0)
			return error;
		error = smmuv3__translate(
		    sc, hd.hd_sh, &rq, flags | SMMUV3__EXCL, xl, fault);
	}
	if (!(flags & SMMUV3__PROBE))
		hd.hd_sh->sh_st.ds_translations++;
	smmuv3__leave(&hd);
	return error;
}

int
smmuv3_translate(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, struct smmuv3_xlate *xl, struct smmuv3_fault *fault)
{
	return smmuv3_xlate_entry(sc, sid, ssid, iova, access, 0, xl, fault);
}

int
smmuv3_probe(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, struct smmuv3_xlate *xl, struct smmuv3_fault *fault)
{
	return smmuv3_xlate_entry(
	    sc, sid, ssid, iova, access, SMMUV3__PROBE, xl, fault);
}

static int
smmuv3_dma(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    void *rbuf, const void *wbuf, size_t len, struct smmuv3_fault *fault)
{
	const struct smmuv3__cfg *cf = NULL;
	struct smmuv3_fault	  ft_local;
	struct smmuv3_xlate	  xl;
	struct smmuv3__req	  rq;
	struct smmuv3__hold	  hd;
	uint64_t		  chunk;
	size_t			  done = 0;
	unsigned		  flags = 0, gshift = 0;
	int			  fast, error = 0;

	if (sc == NULL || (len != 0 && rbuf == NULL && wbuf == NULL))
		return EINVAL;
	if (len != 0 && iova + (len - 1) < iova)
		return EINVAL;
	if (fault == NULL)
		fault = &ft_local;
	if (len == 0)
		return 0;
	if ((error = smmuv3__enter_shared(sc, &hd)) != 0)
		return error;
	rq.rq_sid = sid;
	rq.rq_ssid = ssid;
	rq.rq_access = rbuf != NULL ? SMMUV3_ACCESS_READ : SMMUV3_ACCESS_WRITE;
	while (done < len) {
		rq.rq_iova = iova + done;
		fast = smmuv3_xlate_fast(sc, hd.hd_sh, sid, ssid, rq.rq_iova,
		    rq.rq_access, &xl, &cf, &gshift);
		if (fast != SMMUV3_FAST_HIT) {
			error = smmuv3_xlate_slow(sc, hd.hd_sh, fast, cf,
			    gshift, &rq, flags, &xl, fault);
			if (error == SMMUV3__NEED_EXCL) {
				/* Pages done so far were whole accesses. */
				smmuv3__leave(&hd);
				if ((error = smmuv3__enter_excl(sc, &hd)) != 0)
					return error;
				flags = SMMUV3__EXCL;
				continue;
			}
			hd.hd_sh->sh_st.ds_translations++;
			if (error != 0)
				break;
		}
		chunk = xl.xl_size - (rq.rq_iova & (xl.xl_size - 1));
		if (chunk > len - done)
			chunk = len - done;
		if (rbuf != NULL)
			error = sc->sc_ops.ho_mem_read(sc->sc_cookie, xl.xl_pa,
			    (uint8_t *)rbuf + done, (size_t)chunk);
		else
			error = sc->sc_ops.ho_mem_write(sc->sc_cookie, xl.xl_pa,
			    (const uint8_t *)wbuf + done, (size_t)chunk);
		if (error != 0) {
			/* The downstream access failed: not an SMMU fault. */
			memset(fault, 0, sizeof(*fault));
			fault->ft_addr = rq.rq_iova;
			fault->ft_rnw = rbuf != NULL;
			error = EIO;
			break;
		}
		done += (size_t)chunk;
	}
	smmuv3__leave(&hd);
	return error;
}

int
smmuv3_dma_read(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    void *buf, size_t len, struct smmuv3_fault *fault)
{
	if (buf == NULL && len != 0)
		return EINVAL;
	return smmuv3_dma(sc, sid, ssid, iova, buf, NULL, len, fault);
}

int
smmuv3_dma_write(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    const void *buf, size_t len, struct smmuv3_fault *fault)
{
	if (buf == NULL && len != 0)
		return EINVAL;
	return smmuv3_dma(sc, sid, ssid, iova, NULL, buf, len, fault);
}
