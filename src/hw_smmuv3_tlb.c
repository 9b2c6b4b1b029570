/*
 * libiommu - SMMUv3 model: the TLB, a bounded set-associative cache of
 * stage-1 leaf translations tagged by ASID, VMID and regime (STRW).
 *
 * Design: sets * ways entries of struct smmuv3__tlbe in one array, set
 * major.  The set is chosen from the input page number (in units of the
 * configuration's granule) hashed with the ASID, so domains that use the
 * same IOVAs spread over different sets.  A block is entered in the set of
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
 * Not implemented: walk caches (only leaf entries are held, so the LEAF
 * hint of TLBI commands changes nothing), stage-2 / VMID-tagged entries
 * (VMID is always 0), contiguous-hint merging.
 */
#include <errno.h>
#include <string.h>

#include "hw_smmuv3_internal.h"

static bool smmuv3_tlb_is_wide(const struct smmuv3__tlbe *);
static void smmuv3_tlb_drop(struct smmuv3 *, struct smmuv3__tlbe *);
static void smmuv3_tlb_inv_asid(struct smmuv3 *, const struct smmuv3__tlbi *);
static void smmuv3_tlb_inv_one(
    struct smmuv3 *, struct smmuv3__tlbe *, const struct smmuv3__tlbi *);
static bool smmuv3_tlb_inv_sets(struct smmuv3 *, const struct smmuv3__tlbi *);

int
smmuv3__tlb_init(struct smmuv3 *sc)
{
	size_t n = (size_t)sc->sc_cfg.cfg_tlb_sets * sc->sc_cfg.cfg_tlb_ways;

	sc->sc_tlb_sets = sc->sc_cfg.cfg_tlb_sets;
	sc->sc_tlb_ways = sc->sc_cfg.cfg_tlb_ways;
	sc->sc_tlb = iommu__zalloc(sc->sc_alloc, n * sizeof(*sc->sc_tlb));
	sc->sc_tlb_victim = iommu__zalloc(sc->sc_alloc, sc->sc_tlb_sets);
	sc->sc_tlb_nasids = sc->sc_cfg.cfg_asid16 ? 65536 : 256;
	sc->sc_tlb_nregimes = sc->sc_cfg.cfg_hyp ? 2 : 1;
	sc->sc_tlb_asids = iommu__zalloc(sc->sc_alloc,
	    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
		sizeof(*sc->sc_tlb_asids));
	if (sc->sc_tlb == NULL || sc->sc_tlb_victim == NULL ||
	    sc->sc_tlb_asids == NULL) {
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
	if (sc->sc_tlb_victim != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_victim, sc->sc_tlb_sets);
	if (sc->sc_tlb_asids != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_asids,
		    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
			sizeof(*sc->sc_tlb_asids));
	sc->sc_tlb = NULL;
	sc->sc_tlb_victim = NULL;
	sc->sc_tlb_asids = NULL;
}

void
smmuv3__tlb_flush(struct smmuv3 *sc)
{
	size_t n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;

	memset(sc->sc_tlb, 0, n * sizeof(*sc->sc_tlb));
	memset(sc->sc_tlb_victim, 0, sc->sc_tlb_sets);
	sc->sc_tlb_nwide = 0;
	sc->sc_tlb_gshifts = 0;
	if (sc->sc_tlb_asids != NULL)
		memset(sc->sc_tlb_asids, 0,
		    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
			sizeof(*sc->sc_tlb_asids));
}

void
smmuv3__tlb_insert(struct smmuv3 *sc, const struct smmuv3__cfg *cf,
    unsigned gshift, uint64_t iova, const struct smmuv3__tlbe *e)
{
	unsigned set = smmuv3__tlb_set(sc, cf->cf_asid, gshift, iova);
	struct smmuv3__tlbe *te = &sc->sc_tlb[(size_t)set * sc->sc_tlb_ways];
	unsigned	     w, victim = sc->sc_tlb_ways;

	sc->sc_tlb_gshifts |= 1u << (gshift - 12);
	for (w = 0; w < sc->sc_tlb_ways; w++)
		if (!smmuv3__tlbe_live(sc, &te[w])) {
			victim = w;
			break;
		}
	if (victim == sc->sc_tlb_ways) {
		victim = sc->sc_tlb_victim[set];
		sc->sc_tlb_victim[set] =
		    (uint8_t)((victim + 1) % sc->sc_tlb_ways);
		sc->sc_stats.st_tlb_evictions++;
		smmuv3_tlb_drop(sc, &te[victim]);
	}
	te[victim] = *e;
	te[victim].te_flags |= SMMUV3__TE_VALID;
	if (e->te_size_log2 > gshift)
		te[victim].te_flags |= SMMUV3__TE_WIDE;
	if (smmuv3_tlb_is_wide(&te[victim]))
		sc->sc_tlb_nwide++;
	if ((te[victim].te_flags & SMMUV3__TE_GLOBAL) == 0) {
		struct smmuv3__asid_gen *ag =
		    smmuv3__tlb_asid(sc, e->te_regime, e->te_asid);

		te[victim].te_gen = ag->ag_gen;
		ag->ag_live++;
		if (te[victim].te_flags & SMMUV3__TE_WIDE)
			ag->ag_wide++;
	}
}

/* Counted in sc_tlb_nwide (callers pass live entries only). */
static bool
smmuv3_tlb_is_wide(const struct smmuv3__tlbe *te)
{
	return (te->te_flags & (SMMUV3__TE_WIDE | SMMUV3__TE_GLOBAL)) != 0;
}

/* Invalidates a live entry, keeping the counts exact. */
static void
smmuv3_tlb_drop(struct smmuv3 *sc, struct smmuv3__tlbe *te)
{
	struct smmuv3__asid_gen *ag;

	if (smmuv3_tlb_is_wide(te))
		sc->sc_tlb_nwide--;
	if ((te->te_flags & SMMUV3__TE_GLOBAL) == 0) {
		ag = smmuv3__tlb_asid(sc, te->te_regime, te->te_asid);
		ag->ag_live--;
		if (te->te_flags & SMMUV3__TE_WIDE)
			ag->ag_wide--;
	}
	te->te_flags = 0;
}

/* TLBI by ASID (regime + ASID, no VA, global entries spared). */
static void
smmuv3_tlb_inv_asid(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	struct smmuv3__asid_gen *ag;
	struct smmuv3__tlbe	*te;
	size_t			 i, n;

	ag = smmuv3__tlb_asid(sc, ti->ti_regime, ti->ti_asid);
	sc->sc_stats.st_tlb_invalidated += ag->ag_live;
	sc->sc_tlb_nwide -= ag->ag_wide;
	ag->ag_live = 0;
	ag->ag_wide = 0;
	if (++ag->ag_gen != 0)
		return;
	/* Wrapped: clear the dead entries that carry generation 0 again. */
	n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;
	for (i = 0, te = sc->sc_tlb; i < n; i++, te++)
		if ((te->te_flags & SMMUV3__TE_GLOBAL) == 0 &&
		    te->te_regime == ti->ti_regime &&
		    te->te_asid == ti->ti_asid)
			te->te_flags = 0;
}

/* Drops te if ti selects it. */
static void
smmuv3_tlb_inv_one(
    struct smmuv3 *sc, struct smmuv3__tlbe *te, const struct smmuv3__tlbi *ti)
{
	uint64_t last;

	if ((te->te_flags & SMMUV3__TE_VALID) == 0)
		return;
	if (ti->ti_match_regime && te->te_regime != ti->ti_regime)
		return;
	if (ti->ti_match_asid &&
	    ((te->te_flags & SMMUV3__TE_GLOBAL) != 0
		    ? !ti->ti_global_too
		    : te->te_asid != ti->ti_asid))
		return;
	if (ti->ti_match_va) {
		last = te->te_va + ((1ULL << te->te_size_log2) - 1);
		if (last < ti->ti_va_first || te->te_va > ti->ti_va_last)
			return;
		if (ti->ti_level != 0 && te->te_level != ti->ti_level)
			return;
	}
	/* Last: the generation lookup is the dearest test. */
	if (!smmuv3__tlbe_live(sc, te))
		return;
	smmuv3_tlb_drop(sc, te);
	sc->sc_stats.st_tlb_invalidated++;
}

/*
 * By-ASID VA invalidation of a few pages while the TLB holds no block or
 * global entry: every matching entry is a granule-sized page in the set
 * its page number and ASID hash to, so only those sets are visited.
 * Returns false when the general scan is needed.
 */
static bool
smmuv3_tlb_inv_sets(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	static const unsigned gshifts[3] = {12, 14, 16};
	static const unsigned gbits[3] = {
	    SMMUV3_GRAN_4K, SMMUV3_GRAN_16K, SMMUV3_GRAN_64K};
	struct smmuv3__tlbe *te;
	uint64_t	     page, first, last;
	unsigned	     g, w;

	if (sc->sc_tlb_nwide != 0 || !ti->ti_match_va || !ti->ti_match_asid)
		return false;
	if (((ti->ti_va_last - ti->ti_va_first) >> 12) >= sc->sc_tlb_sets)
		return false;
	for (g = 0; g < 3; g++) {
		if ((sc->sc_cfg.cfg_granules & gbits[g]) == 0 ||
		    (sc->sc_tlb_gshifts & (1u << (gshifts[g] - 12))) == 0)
			continue;
		first = ti->ti_va_first >> gshifts[g];
		last = ti->ti_va_last >> gshifts[g];
		for (page = first;; page++) {
			te =
			    &sc->sc_tlb[(size_t)smmuv3__tlb_set(sc, ti->ti_asid,
					    gshifts[g], page << gshifts[g]) *
				sc->sc_tlb_ways];
			for (w = 0; w < sc->sc_tlb_ways; w++)
				smmuv3_tlb_inv_one(sc, &te[w], ti);
			if (page == last)
				break;
		}
	}
	return true;
}

/* Drops every entry the selector matches (4.4, TLB invalidation). */
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
	struct smmuv3_tlb_info	   info;
	const struct smmuv3__tlbe *te;
	size_t			   i, n, count = 0;

	if (sc == NULL || smmuv3__enter(sc) != 0)
		return 0;
	n = (size_t)sc->sc_tlb_sets * sc->sc_tlb_ways;
	for (i = 0, te = sc->sc_tlb; i < n; i++, te++) {
		if (!smmuv3__tlbe_live(sc, te))
			continue;
		count++;
		if (fn == NULL)
			continue;
		memset(&info, 0, sizeof(info));
		info.ti_asid = te->te_asid;
		info.ti_vmid = te->te_vmid;
		info.ti_regime = te->te_regime;
		info.ti_iova = te->te_va;
		info.ti_pa = te->te_pa;
		info.ti_size = 1ULL << te->te_size_log2;
		info.ti_level = te->te_level;
		info.ti_perm =
		    ((te->te_flags & SMMUV3__TE_R) ? SMMUV3_ACCESS_READ : 0) |
		    ((te->te_flags & SMMUV3__TE_W) ? SMMUV3_ACCESS_WRITE : 0);
		fn(arg, &info);
	}
	smmuv3__leave(sc);
	return count;
}
