/*
 * libiommu - SMMUv3 model: the TLB, a bounded set-associative cache of
 * stage-1 leaf translations tagged by ASID, VMID and regime (STRW).
 *
 * Design: sets * ways entries of struct smmuv3__tlbe in one array, set
 * major, split into cfg_tlb_tbus equal runs of sets, one per TBU; a
 * stream translates in TBU SID mod cfg_tlb_tbus (cf_tlb_base).  Within
 * the TBU the set is chosen from the input page number (in units of the
 * configuration's granule) hashed with the ASID, so domains that use the
 * same IOVAs spread over different sets.  Streams of different TBUs
 * never fill the same set: two host threads driving them share no set
 * lock and, when a TBU's slots fill whole cache lines (ways * sets per
 * TBU a multiple of 8), no slot line either.  A block is entered in the set of
 * the page that missed; another page of the same block may miss and enter
 * a second copy (as TLBs that splinter blocks do).  Invalidation scans
 * every entry, which keeps it exact whatever the entry sizes, except for
 * the common by-ASID invalidation of a few pages while no block or global
 * entry is cached (sc_tlb_nwide == 0): then only the sets those pages hash
 * to can hold a match, and only for the granules some fill has used since
 * the last flush (sc_tlb_gshifts; a driver uses one, usually 4 KiB).
 * Invalidation by ASID alone (TLBI_NH_ASID, TLBI_EL2_ASID) costs O(1): it
 * bumps that ASID's generation (struct smmuv3__asid_gen), which kills its
 * non-global entries at once; a dead entry is invalid to lookup, fill,
 * invalidation and tlb_foreach alike.  So a queue full of such commands
 * costs queue-size steps, not queue-size * TLB-size.  The generation
 * table (one slot per ASID per regime: 256 or 65536 ASIDs, EL2 only with
 * IDR0.HYP) is allocated at create like everything else; when a 16-bit
 * generation wraps, that ASID's entries are cleared by one scan, so a
 * dead entry never comes back.
 * Victims are chosen round-robin per set (deterministic).  Entries change
 * only on a fill, on a TLBI command or on reset: a driver that forgets an
 * invalidation keeps getting the old translation.
 *
 * Concurrency (see hw_smmuv3_internal.h, Locking): fills run on the shared
 * side, several at once, each holding its set's fill lock (tse_seq of
 * sc_tlb_set[set] made odd), and write the slots with release stores
 * between the odd and the next even sequence value; lookups read the set
 * lock-free and retry when the sequence moved.  Set locks and the live
 * counts of neighbouring ASIDs sit on separate cache lines so that two
 * threads filling for two domains share none.  The per-ASID live counts,
 * sc_tlb_nwide and sc_tlb_gshifts are updated with atomic read-modify-writes
 * since fills in different sets may share them.  Invalidation, flush and
 * tlb_foreach run on the exclusive side, when no fill or lookup can be in
 * flight, so the counts they read are exact and a TLBI never races a fill
 * (a translation that walked the old table has inserted its entry before
 * the TLBI starts, and the TLBI removes it).
 *
 * Not implemented: walk caches (only leaf entries are held, so the LEAF
 * hint of TLBI commands changes nothing), stage-2 / VMID-tagged entries
 * (VMID is always 0), contiguous-hint merging.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "hw_smmuv3_internal.h"

static bool smmuv3_tlb_is_wide(uint64_t tag);
static void smmuv3_tlb_drop(struct smmuv3 *, struct smmuv3__tlbslot *);
static void smmuv3_tlb_inv_asid(struct smmuv3 *, const struct smmuv3__tlbi *);
static void smmuv3_tlb_inv_one(
    struct smmuv3 *, struct smmuv3__tlbslot *, const struct smmuv3__tlbi *);
static bool smmuv3_tlb_inv_sets(struct smmuv3 *, const struct smmuv3__tlbi *);
static uint32_t smmuv3_tlb_set_lock(struct smmuv3 *, unsigned set);

int
smmuv3__tlb_init(struct smmuv3 *sc)
{
	size_t n = (size_t)sc->sc_cfg.cfg_tlb_sets * sc->sc_cfg.cfg_tlb_ways;

	sc->sc_tlb_sets = sc->sc_cfg.cfg_tlb_sets;
	sc->sc_tlb_ways = sc->sc_cfg.cfg_tlb_ways;
	sc->sc_tlb_tbu_sets = sc->sc_tlb_sets / sc->sc_cfg.cfg_tlb_tbus;
	sc->sc_tlb = iommu__zalloc(sc->sc_alloc, n * sizeof(*sc->sc_tlb));
	sc->sc_tlb_set = iommu__zalloc(
	    sc->sc_alloc, sc->sc_tlb_sets * sizeof(*sc->sc_tlb_set));
	sc->sc_tlb_nasids = sc->sc_cfg.cfg_asid16 ? 65536 : 256;
	sc->sc_tlb_nregimes = sc->sc_cfg.cfg_hyp ? 2 : 1;
	sc->sc_tlb_asids = iommu__zalloc(sc->sc_alloc,
	    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
		sizeof(*sc->sc_tlb_asids));
	sc->sc_tlb_acnt = iommu__zalloc(sc->sc_alloc,
	    sc->sc_tlb_nregimes * sc->sc_tlb_nasids * sizeof(*sc->sc_tlb_acnt));
	if (sc->sc_tlb == NULL || sc->sc_tlb_set == NULL ||
	    sc->sc_tlb_asids == NULL || sc->sc_tlb_acnt == NULL) {
		smmuv3__tlb_fini(sc);
		return ENOMEM;
	}
	return 0;
}

void
smmuv3__tlb_fini(struct smmuv3 *sc)
{
	size_t n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;

	if (sc->sc_tlb != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb, n * sizeof(*sc->sc_tlb));
	if (sc->sc_tlb_set != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_set,
		    sc->sc_tlb_sets * sizeof(*sc->sc_tlb_set));
	if (sc->sc_tlb_acnt != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_acnt,
		    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
			sizeof(*sc->sc_tlb_acnt));
	if (sc->sc_tlb_asids != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_asids,
		    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
			sizeof(*sc->sc_tlb_asids));
	sc->sc_tlb = NULL;
	sc->sc_tlb_set = NULL;
	sc->sc_tlb_acnt = NULL;
	sc->sc_tlb_asids = NULL;
}

/* Exclusive side: nothing else touches the TLB meanwhile. */
void
smmuv3__tlb_flush(struct smmuv3 *sc)
{
	size_t i, n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;

	for (i = 0; i < n; i++)
		atomic_store_explicit(
		    &sc->sc_tlb[i].ts_tag, 0, memory_order_relaxed);
	for (i = 0; i < sc->sc_tlb_sets; i++)
		sc->sc_tlb_set[i].tse_victim = 0;
	atomic_store_explicit(&sc->sc_tlb_nwide, 0, memory_order_relaxed);
	atomic_store_explicit(&sc->sc_tlb_gshifts, 0, memory_order_relaxed);
	n = sc->sc_tlb_nregimes * sc->sc_tlb_nasids;
	for (i = 0; i < n; i++) {
		sc->sc_tlb_asids[i].ag_gen = 0;
		atomic_store_explicit(
		    &sc->sc_tlb_acnt[i].ac_live, 0, memory_order_relaxed);
		atomic_store_explicit(
		    &sc->sc_tlb_acnt[i].ac_wide, 0, memory_order_relaxed);
	}
}

/* A lookup found the set being filled: wait for the filler to finish. */
void
smmuv3__tlb_seq_wait(_Atomic uint32_t *seqp)
{
	unsigned spins = 0;

	while (atomic_load_explicit(seqp, memory_order_relaxed) & 1)
		if (++spins >= 64) {
			sched_yield();
			spins = 0;
		}
}

/* Takes set's fill lock (its sequence made odd); returns the new value. */
static uint32_t
smmuv3_tlb_set_lock(struct smmuv3 *sc, unsigned set)
{
	_Atomic uint32_t *seqp = &sc->sc_tlb_set[set].tse_seq;
	uint32_t	  seq;

	for (;;) {
		seq = atomic_load_explicit(seqp, memory_order_relaxed);
		if (seq & 1) {
			smmuv3__tlb_seq_wait(seqp);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(seqp, &seq, seq + 1,
			memory_order_acquire, memory_order_relaxed))
			break;
	}
	return seq + 1;
}

static inline uint64_t
smmuv3_ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* Release: inside a fill it must not pass the odd sequence (see insert). */
static inline void
smmuv3_st(_Atomic uint64_t *p, uint64_t v)
{
	atomic_store_explicit(p, v, memory_order_release);
}

void
smmuv3__tlb_insert(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__cfg *cf, unsigned gshift, uint64_t iova,
    const struct smmuv3__tlbe *e)
{
	unsigned set =
	    smmuv3__tlb_set(sc, cf->cf_tlb_base, cf->cf_asid, gshift, iova);
	struct smmuv3__tlbslot *ts = &sc->sc_tlb[(size_t)set * sc->sc_tlb_ways];
	struct smmuv3__tlbe	te = *e;
	unsigned		w, victim = sc->sc_tlb_ways;
	unsigned		gbit = 1u << (gshift - 12);
	uint32_t		seq;
	uint64_t		tag;

	if ((atomic_load_explicit(&sc->sc_tlb_gshifts, memory_order_relaxed) &
		gbit) == 0)
		atomic_fetch_or_explicit(
		    &sc->sc_tlb_gshifts, gbit, memory_order_relaxed);
	seq = smmuv3_tlb_set_lock(sc, set);
	for (w = 0; w < sc->sc_tlb_ways; w++)
		if (!smmuv3__tag_live(sc, smmuv3_ld(&ts[w].ts_tag))) {
			victim = w;
			break;
		}
	if (victim == sc->sc_tlb_ways) {
		victim = sc->sc_tlb_set[set].tse_victim;
		sc->sc_tlb_set[set].tse_victim =
		    (uint8_t)((victim + 1) % sc->sc_tlb_ways);
		sh->sh_st.ds_tlb_evictions++;
		smmuv3_tlb_drop(sc, &ts[victim]);
	}
	te.te_flags |= SMMUV3__TE_VALID;
	if (e->te_size_log2 > gshift)
		te.te_flags |= SMMUV3__TE_WIDE;
	if ((te.te_flags & SMMUV3__TE_GLOBAL) == 0) {
		struct smmuv3__asid_cnt *ac =
		    smmuv3__tlb_acnt(sc, e->te_regime, e->te_asid);

		te.te_gen =
		    smmuv3__tlb_asid(sc, e->te_regime, e->te_asid)->ag_gen;
		atomic_fetch_add_explicit(
		    &ac->ac_live, 1, memory_order_relaxed);
		if (te.te_flags & SMMUV3__TE_WIDE)
			atomic_fetch_add_explicit(
			    &ac->ac_wide, 1, memory_order_relaxed);
	}
	tag = smmuv3__tag_make(&te);
	if (smmuv3_tlb_is_wide(tag))
		atomic_fetch_add_explicit(
		    &sc->sc_tlb_nwide, 1, memory_order_relaxed);
	smmuv3_st(&ts[victim].ts_va, te.te_va);
	smmuv3_st(&ts[victim].ts_pa, te.te_pa);
	smmuv3_st(&ts[victim].ts_tag, tag);
	atomic_store_explicit(
	    &sc->sc_tlb_set[set].tse_seq, seq + 1, memory_order_release);
}

/* Counted in sc_tlb_nwide (callers pass live entries only). */
static bool
smmuv3_tlb_is_wide(uint64_t tag)
{
	return (tag & (SMMUV3__TE_WIDE | SMMUV3__TE_GLOBAL)) != 0;
}

/*
 * Invalidates a live entry, keeping the counts exact: on the exclusive
 * side, or under the set's fill lock (eviction).
 */
static void
smmuv3_tlb_drop(struct smmuv3 *sc, struct smmuv3__tlbslot *ts)
{
	struct smmuv3__asid_cnt *ac;
	uint64_t		 tag = smmuv3_ld(&ts->ts_tag);

	if (smmuv3_tlb_is_wide(tag))
		atomic_fetch_sub_explicit(
		    &sc->sc_tlb_nwide, 1, memory_order_relaxed);
	if ((tag & SMMUV3__TE_GLOBAL) == 0) {
		ac = smmuv3__tlb_acnt(
		    sc, SMMUV3__TAG_REGIME(tag), SMMUV3__TAG_ASID(tag));
		atomic_fetch_sub_explicit(
		    &ac->ac_live, 1, memory_order_relaxed);
		if (tag & SMMUV3__TE_WIDE)
			atomic_fetch_sub_explicit(
			    &ac->ac_wide, 1, memory_order_relaxed);
	}
	smmuv3_st(&ts->ts_tag, 0);
}

/* TLBI by ASID (regime + ASID, no VA, global entries spared). */
static void
smmuv3_tlb_inv_asid(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	struct smmuv3__asid_gen *ag;
	struct smmuv3__asid_cnt *ac;
	struct smmuv3__tlbslot	*ts;
	uint64_t		 tag;
	size_t			 i, n;

	ag = smmuv3__tlb_asid(sc, ti->ti_regime, ti->ti_asid);
	ac = smmuv3__tlb_acnt(sc, ti->ti_regime, ti->ti_asid);
	sc->sc_stats.st_tlb_invalidated +=
	    atomic_exchange_explicit(&ac->ac_live, 0, memory_order_relaxed);
	atomic_fetch_sub_explicit(&sc->sc_tlb_nwide,
	    atomic_exchange_explicit(&ac->ac_wide, 0, memory_order_relaxed),
	    memory_order_relaxed);
	if (++ag->ag_gen != 0)
		return;
	/* Wrapped: clear the dead entries that carry generation 0 again. */
	n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;
	for (i = 0, ts = sc->sc_tlb; i < n; i++, ts++) {
		tag = smmuv3_ld(&ts->ts_tag);
		if ((tag & SMMUV3__TE_GLOBAL) == 0 &&
		    SMMUV3__TAG_REGIME(tag) == ti->ti_regime &&
		    SMMUV3__TAG_ASID(tag) == ti->ti_asid)
			smmuv3_st(&ts->ts_tag, 0);
	}
}

/* Drops the entry in ts if ti selects it. */
static void
smmuv3_tlb_inv_one(struct smmuv3 *sc, struct smmuv3__tlbslot *ts,
    const struct smmuv3__tlbi *ti)
{
	uint64_t tag = smmuv3_ld(&ts->ts_tag), va, last;

	if ((tag & SMMUV3__TE_VALID) == 0)
		return;
	if (ti->ti_match_regime && SMMUV3__TAG_REGIME(tag) != ti->ti_regime)
		return;
	if (ti->ti_match_asid &&
	    ((tag & SMMUV3__TE_GLOBAL) != 0
		    ? !ti->ti_global_too
		    : SMMUV3__TAG_ASID(tag) != ti->ti_asid))
		return;
	if (ti->ti_match_va) {
		va = smmuv3_ld(&ts->ts_va);
		last = va + ((1ULL << SMMUV3__TAG_SIZE(tag)) - 1);
		if (last < ti->ti_va_first || va > ti->ti_va_last)
			return;
		if (ti->ti_level != 0 && SMMUV3__TAG_LEVEL(tag) != ti->ti_level)
			return;
	}
	/* Last: the generation lookup is the dearest test. */
	if (!smmuv3__tag_live(sc, tag))
		return;
	smmuv3_tlb_drop(sc, ts);
	sc->sc_stats.st_tlb_invalidated++;
}

/*
 * By-ASID VA invalidation of a few pages while the TLB holds no block or
 * global entry: every matching entry is a granule-sized page in the set
 * its page number and ASID hash to in some TBU (an ASID may be used by
 * streams of several), so only those sets, in every TBU, are visited.
 * Returns false when the general scan is needed.
 */
static bool
smmuv3_tlb_inv_sets(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	static const unsigned gshifts[3] = {12, 14, 16};
	static const unsigned gbits[3] = {
	    SMMUV3_GRAN_4K, SMMUV3_GRAN_16K, SMMUV3_GRAN_64K};
	struct smmuv3__tlbslot *ts;
	uint64_t		page, first, last;
	unsigned		g, w, base;

	if (atomic_load_explicit(&sc->sc_tlb_nwide, memory_order_relaxed) !=
		0 ||
	    !ti->ti_match_va || !ti->ti_match_asid)
		return false;
	/* Each page costs a set in every TBU: cheaper than the scan? */
	if (((ti->ti_va_last - ti->ti_va_first) >> 12) >= sc->sc_tlb_tbu_sets)
		return false;
	for (g = 0; g < 3; g++) {
		if ((sc->sc_cfg.cfg_granules & gbits[g]) == 0 ||
		    (atomic_load_explicit(
			 &sc->sc_tlb_gshifts, memory_order_relaxed) &
			(1u << (gshifts[g] - 12))) == 0)
			continue;
		first = ti->ti_va_first >> gshifts[g];
		last = ti->ti_va_last >> gshifts[g];
		for (page = first;; page++) {
			for (base = 0; base < sc->sc_tlb_sets;
			     base += sc->sc_tlb_tbu_sets) {
				ts = &sc->sc_tlb[(size_t)smmuv3__tlb_set(sc,
						     base, ti->ti_asid,
						     gshifts[g],
						     page << gshifts[g]) *
				    sc->sc_tlb_ways];
				for (w = 0; w < sc->sc_tlb_ways; w++)
					smmuv3_tlb_inv_one(sc, &ts[w], ti);
			}
			if (page == last)
				break;
		}
	}
	return true;
}

/*
 * Drops every entry the selector matches (4.4, TLB invalidation); on the
 * exclusive side.
 */
void
smmuv3__tlb_invalidate(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	size_t i, n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;

	if (ti->ti_match_regime && ti->ti_match_asid && !ti->ti_match_va &&
	    !ti->ti_global_too) {
		smmuv3_tlb_inv_asid(sc, ti);
		return;
	}
	if (smmuv3_tlb_inv_sets(sc, ti))
		return;
	for (i = 0; i < n; i++)
		smmuv3_tlb_inv_one(sc, &sc->sc_tlb[i], ti);
}

size_t
smmuv3_tlb_foreach(struct smmuv3 *sc,
    void (*fn)(void *, const struct smmuv3_tlb_info *), void *arg)
{
	struct smmuv3_tlb_info	      info;
	struct smmuv3__hold	      hd;
	struct smmuv3__tlbe	      te;
	const struct smmuv3__tlbslot *ts;
	uint64_t		      tag;
	size_t			      i, n, count = 0;

	if (sc == NULL || smmuv3__enter_excl(sc, &hd) != 0)
		return 0;
	n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;
	for (i = 0, ts = sc->sc_tlb; i < n; i++, ts++) {
		tag = smmuv3_ld(&ts->ts_tag);
		if (!smmuv3__tag_live(sc, tag))
			continue;
		count++;
		if (fn == NULL)
			continue;
		smmuv3__tlbe_from(
		    &te, tag, smmuv3_ld(&ts->ts_va), smmuv3_ld(&ts->ts_pa));
		memset(&info, 0, sizeof(info));
		info.ti_asid = te.te_asid;
		info.ti_vmid = te.te_vmid;
		info.ti_regime = te.te_regime;
		info.ti_iova = te.te_va;
		info.ti_pa = te.te_pa;
		info.ti_size = 1ULL << te.te_size_log2;
		info.ti_level = te.te_level;
		info.ti_perm =
		    ((te.te_flags & SMMUV3__TE_R) ? SMMUV3_ACCESS_READ : 0) |
		    ((te.te_flags & SMMUV3__TE_W) ? SMMUV3_ACCESS_WRITE : 0);
		fn(arg, &info);
	}
	smmuv3__leave(&hd);
	return count;
}
