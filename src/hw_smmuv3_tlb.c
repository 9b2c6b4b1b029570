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
 * side, several at once, and TLBI commands on the command side alongside
 * them.  Every change to a set (fill, eviction, invalidation) holds the
 * set's lock (tse_seq of sc_tlb_set[set] made odd) and writes the slots
 * with release stores between the odd and the next even sequence value;
 * lookups read the set lock-free and retry when the sequence moved.  Set
 * locks and the words of neighbouring ASIDs sit on separate cache lines
 * so that two threads filling for two domains share none.  sc_tlb_nwide
 * and sc_tlb_gshifts are updated with atomic read-modify-writes since
 * fills in different sets may share them.
 *
 * The in-flight rule: a walk that read a table before the driver changed
 * it must not leave its entry behind a TLBI that followed the change.
 * So a fill notes the invalidation epoch before it walks
 * (smmuv3__tlb_fill_begin); the first TLBI of a batch of commands bumps
 * the epoch before it decides which sets to visit (one bump covers the
 * batch: the driver changed the tables for all of its TLBIs before it
 * rang the doorbell, and a walk that starts after the bump sees those
 * changes); and the fill, having entered its entry and counts
 * under the set lock, reads the epoch again and takes the entry back out
 * if it moved.  All four are sequentially consistent, so either the fill
 * sees the bump (and removes its entry), or the TLBI sees the fill's
 * counts and gshift bit and then visits the entry's set, whose lock
 * orders it after the fill (and drops the entry).  TLBI by ASID also
 * bumps the generation; a fill counts its entry only under the
 * generation it noted (struct smmuv3__asid), except that a fill evicting
 * a narrow entry of its own ASID and generation takes that entry's count
 * over and leaves the word alone (the counts come out the same whether
 * or not a bump came in between).  Flush, the generation-wrap
 * scan and tlb_foreach run on the exclusive side, where nothing races.
 *
 * Not implemented: walk caches (only leaf entries are held, so the LEAF
 * hint of TLBI commands changes nothing), stage-2 / VMID-tagged entries
 * (VMID is always 0), contiguous-hint merging.
 */
#include <errno.h>
#include <string.h>

#include "hw_smmuv3_internal.h"
#include "iommu_spin.h"

static bool	smmuv3_tlb_is_wide(uint64_t tag);
static unsigned smmuv3_tlb_free_way(
    struct smmuv3 *, const struct smmuv3__tlbslot *, uint64_t tag);
static bool smmuv3_tlb_drop(struct smmuv3 *, struct smmuv3__tlbslot *);
static bool smmuv3_tlb_by_asid(const struct smmuv3__tlbi *);
static void smmuv3_tlb_inv_asid(struct smmuv3 *, const struct smmuv3__tlbi *);
static void smmuv3_tlb_inv_set(
    struct smmuv3 *, unsigned set, const struct smmuv3__tlbi *);
static void smmuv3_tlb_inv_one(
    struct smmuv3 *, struct smmuv3__tlbslot *, const struct smmuv3__tlbi *);
static bool smmuv3_tlb_inv_sets(struct smmuv3 *, const struct smmuv3__tlbi *);
static uint32_t smmuv3_tlb_set_lock(struct smmuv3 *, unsigned set);
static void smmuv3_tlb_set_unlock(struct smmuv3 *, unsigned set, uint32_t seq);

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
	sc->sc_tlb_as = iommu__zalloc(sc->sc_alloc,
	    sc->sc_tlb_nregimes * sc->sc_tlb_nasids * sizeof(*sc->sc_tlb_as));
	if (sc->sc_tlb == NULL || sc->sc_tlb_set == NULL ||
	    sc->sc_tlb_as == NULL) {
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
	if (sc->sc_tlb_as != NULL)
		iommu__free(sc->sc_alloc, sc->sc_tlb_as,
		    sc->sc_tlb_nregimes * sc->sc_tlb_nasids *
			sizeof(*sc->sc_tlb_as));
	sc->sc_tlb = NULL;
	sc->sc_tlb_set = NULL;
	sc->sc_tlb_as = NULL;
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
		atomic_store_explicit(
		    &sc->sc_tlb_as[i].as_word, 0, memory_order_relaxed);
		atomic_store_explicit(
		    &sc->sc_tlb_as[i].as_tbus, 0, memory_order_relaxed);
	}
}

/* A lookup found the set being filled: wait for the filler to finish. */
void
smmuv3__tlb_seq_wait(_Atomic uint32_t *seqp)
{
	unsigned spins = 0;

	while (atomic_load_explicit(seqp, memory_order_relaxed) & 1)
		iommu__spin_pause(&spins);
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
			memory_order_seq_cst, memory_order_relaxed))
			break;
	}
	return seq + 1;
}

/* Releases what smmuv3_tlb_set_lock took (seq: what it returned). */
static void
smmuv3_tlb_set_unlock(struct smmuv3 *sc, unsigned set, uint32_t seq)
{
	atomic_store_explicit(
	    &sc->sc_tlb_set[set].tse_seq, seq + 1, memory_order_release);
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

/* Before a walk whose leaf may be entered: see Concurrency above. */
void
smmuv3__tlb_fill_begin(
    struct smmuv3 *sc, const struct smmuv3__cfg *cf, struct smmuv3__fill *fl)
{
	fl->fl_epoch = atomic_load(&sc->sc_tlb_epoch);
	fl->fl_gen = smmuv3__asid_gen(cf->cf_as);
}

/*
 * Adds delta to the counts of as if its generation is still gen (to take
 * an entry out, delta is the two's complement of its count): false, and
 * nothing changed, when a TLBI by ASID has moved past gen.  On the way
 * in that means the entry is dead already; on the way out, that the
 * bump took it out of the counts already.
 */
static bool
smmuv3_tlb_count(struct smmuv3__asid *as, uint16_t gen, uint64_t delta)
{
	uint64_t w = atomic_load_explicit(&as->as_word, memory_order_relaxed);

	do {
		if (SMMUV3__AS_GEN(w) != gen)
			return false;
	} while (!atomic_compare_exchange_weak(&as->as_word, &w, w + delta));
	return true;
}

/* What a non-global entry with this tag adds to its ASID's counts. */
static uint64_t
smmuv3_tlb_count_of(uint64_t tag)
{
	return SMMUV3__AS_LIVE1 |
	    ((tag & SMMUV3__TE_WIDE) ? SMMUV3__AS_WIDE1 : 0);
}

/*
 * The tag bits that make two entries interchangeable in the counts:
 * regime, ASID, generation, and the flags that decide how (and whether)
 * an entry is counted.
 */
#define SMMUV3_TLB_COUNT_BITS                                                  \
	(SMMUV3__TE_VALID | SMMUV3__TE_GLOBAL | SMMUV3__TE_WIDE | 0xff00ULL |  \
	    0xffffULL << 32 | 0xffffULL << 48)

/*
 * A way of the set that holds no live entry, or ways.  A way holding an
 * entry counted like tag (same ASID and generation) is taken as live
 * without the generation lookup; if a TLBI by ASID has just killed it,
 * evicting it instead is harmless.
 */
static unsigned
smmuv3_tlb_free_way(
    struct smmuv3 *sc, const struct smmuv3__tlbslot *ts, uint64_t tag)
{
	uint64_t t;
	unsigned w;

	for (w = 0; w < sc->sc_tlb_ways; w++) {
		t = smmuv3_ld(&ts[w].ts_tag);
		if (((t ^ tag) & SMMUV3_TLB_COUNT_BITS) != 0 &&
		    !smmuv3__tag_live(sc, t))
			break;
	}
	return w;
}

void
smmuv3__tlb_insert(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__cfg *cf, unsigned gshift, uint64_t iova,
    const struct smmuv3__tlbe *e, const struct smmuv3__fill *fl)
{
	unsigned set =
	    smmuv3__tlb_set(sc, cf->cf_tlb_base, cf->cf_asid, gshift, iova);
	struct smmuv3__tlbslot *ts = &sc->sc_tlb[(size_t)set * sc->sc_tlb_ways];
	struct smmuv3__tlbe	te = *e;
	unsigned		victim;
	unsigned		gbit = 1u << (gshift - 12);
	struct smmuv3__asid    *as = NULL;
	uint32_t		seq;
	uint64_t		tag, tbu;
	bool			wide, evict, swap = false;

	te.te_flags |= SMMUV3__TE_VALID;
	if (e->te_size_log2 > gshift)
		te.te_flags |= SMMUV3__TE_WIDE;
	if ((te.te_flags & SMMUV3__TE_GLOBAL) == 0) {
		as = smmuv3__tlb_asid(sc, e->te_regime, e->te_asid);
		te.te_gen = fl->fl_gen;
	}
	tag = smmuv3__tag_make(&te);
	wide = smmuv3_tlb_is_wide(tag);
	seq = smmuv3_tlb_set_lock(sc, set);
	victim = smmuv3_tlb_free_way(sc, ts, tag);
	evict = victim == sc->sc_tlb_ways;
	if (evict) {
		victim = sc->sc_tlb_set[set].tse_victim;
		/*
		 * A narrow entry of the same ASID and generation makes way for
		 * this one: the counts stay as they are, whether or not a TLBI
		 * by ASID has moved the generation meanwhile.
		 */
		swap = !wide && as != NULL &&
		    ((smmuv3_ld(&ts[victim].ts_tag) ^ tag) &
			SMMUV3_TLB_COUNT_BITS) == 0;
	}
	if (!swap) {
		/*
		 * Counted in sc_tlb_nwide before the ASID word: a TLBI by ASID
		 * that takes the entry out of both must never leave nwide
		 * below the wide entries still live (a TLBI by address would
		 * skip their sets).
		 */
		if (wide)
			atomic_fetch_add(&sc->sc_tlb_nwide, 1);
		if (as != NULL &&
		    !smmuv3_tlb_count(
			as, te.te_gen, smmuv3_tlb_count_of(tag))) {
			/* A TLBI by ASID killed it already: evict nothing. */
			if (wide)
				atomic_fetch_sub(&sc->sc_tlb_nwide, 1);
			goto out;
		}
		if (evict)
			smmuv3_tlb_drop(sc, &ts[victim]);
	}
	if (evict) {
		/* Only a fill that goes in moves the round robin on. */
		sc->sc_tlb_set[set].tse_victim =
		    (uint8_t)((victim + 1) % sc->sc_tlb_ways);
		sh->sh_st.ds_tlb_evictions++;
	}
	if (as != NULL) {
		tbu = 1ULL << cf->cf_tbu;
		if ((atomic_load(&as->as_tbus) & tbu) == 0)
			atomic_fetch_or(&as->as_tbus, tbu);
	}
	if ((atomic_load(&sc->sc_tlb_gshifts) & gbit) == 0)
		atomic_fetch_or(&sc->sc_tlb_gshifts, gbit);
	smmuv3_st(&ts[victim].ts_va, te.te_va);
	smmuv3_st(&ts[victim].ts_pa, te.te_pa);
	smmuv3_st(&ts[victim].ts_tag, tag);
	/* A TLBI started since the walk: it may have missed this entry. */
	if (atomic_load(&sc->sc_tlb_epoch) != fl->fl_epoch)
		smmuv3_tlb_drop(sc, &ts[victim]);
out:
	smmuv3_tlb_set_unlock(sc, set, seq);
}

/* Counted in sc_tlb_nwide (callers pass live entries only). */
static bool
smmuv3_tlb_is_wide(uint64_t tag)
{
	return (tag & (SMMUV3__TE_WIDE | SMMUV3__TE_GLOBAL)) != 0;
}

/*
 * Invalidates a valid entry, keeping the counts exact: under the set's
 * lock.  A non-global entry a TLBI by ASID killed meanwhile was taken out
 * of the counts by it; returns whether this call took the entry out.
 */
static bool
smmuv3_tlb_drop(struct smmuv3 *sc, struct smmuv3__tlbslot *ts)
{
	uint64_t tag = smmuv3_ld(&ts->ts_tag);
	bool	 counted = true;

	if ((tag & SMMUV3__TE_GLOBAL) == 0)
		counted = smmuv3_tlb_count(
		    smmuv3__tlb_asid(
			sc, SMMUV3__TAG_REGIME(tag), SMMUV3__TAG_ASID(tag)),
		    SMMUV3__TAG_GEN(tag), 0 - smmuv3_tlb_count_of(tag));
	if (counted && smmuv3_tlb_is_wide(tag))
		atomic_fetch_sub(&sc->sc_tlb_nwide, 1);
	smmuv3_st(&ts->ts_tag, 0);
	return counted;
}

/*
 * Does the TLBI by ASID wrap its generation (the clean-up scan below
 * must not race fills)?
 */
bool
smmuv3__tlb_needs_excl(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	return smmuv3_tlb_by_asid(ti) &&
	    smmuv3__asid_gen(
		smmuv3__tlb_asid(sc, ti->ti_regime, ti->ti_asid)) == UINT16_MAX;
}

static bool
smmuv3_tlb_by_asid(const struct smmuv3__tlbi *ti)
{
	return ti->ti_match_regime && ti->ti_match_asid && !ti->ti_match_va &&
	    !ti->ti_global_too;
}

/* TLBI by ASID (regime + ASID, no VA, global entries spared). */
static void
smmuv3_tlb_inv_asid(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	struct smmuv3__asid    *as;
	struct smmuv3__tlbslot *ts;
	uint64_t		tag, w, next;
	size_t			i, n;

	as = smmuv3__tlb_asid(sc, ti->ti_regime, ti->ti_asid);
	/*
	 * Every entry dies: forget its TBUs, before the new generation is
	 * published, so a fill under the new one (which read it after this)
	 * sets its bit after the clear.
	 */
	atomic_store(&as->as_tbus, 0);
	w = atomic_load_explicit(&as->as_word, memory_order_relaxed);
	do {
		next = (uint16_t)(SMMUV3__AS_GEN(w) + 1);
	} while (!atomic_compare_exchange_weak(&as->as_word, &w, next));
	sc->sc_stats.st_tlb_invalidated += SMMUV3__AS_LIVE(w);
	atomic_fetch_sub(&sc->sc_tlb_nwide, (size_t)SMMUV3__AS_WIDE(w));
	if (next != 0)
		return;
	/* Wrapped (exclusive side): clear the dead entries that carry
	 * generation 0 again. */
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
	if (smmuv3_tlb_drop(sc, ts))
		sc->sc_stats.st_tlb_invalidated++;
}

/*
 * By-ASID VA invalidation of a few pages while the TLB holds no block or
 * global entry: every matching entry is a granule-sized page in the set
 * its page number and ASID hash to in some TBU (an ASID may be used by
 * streams of several), so only those sets, in each TBU that entered an
 * entry of the ASID (as_tbus), are visited.
 * Returns false when the general scan is needed.
 */
static bool
smmuv3_tlb_inv_sets(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	static const unsigned gshifts[3] = {12, 14, 16};
	static const unsigned gbits[3] = {
	    SMMUV3_GRAN_4K, SMMUV3_GRAN_16K, SMMUV3_GRAN_64K};
	uint64_t page, first, last, tbus, m;
	unsigned g;

	/* Sequentially consistent loads, after the epoch's bump. */
	if (atomic_load(&sc->sc_tlb_nwide) != 0 || !ti->ti_match_va ||
	    !ti->ti_match_asid)
		return false;
	/* Each page costs a set in each TBU: cheaper than the scan? */
	if (((ti->ti_va_last - ti->ti_va_first) >> 12) >= sc->sc_tlb_tbu_sets)
		return false;
	tbus = atomic_load(
	    &smmuv3__tlb_asid(sc, ti->ti_regime, ti->ti_asid)->as_tbus);
	for (g = 0; g < 3; g++) {
		if ((sc->sc_cfg.cfg_granules & gbits[g]) == 0 ||
		    (atomic_load(&sc->sc_tlb_gshifts) &
			(1u << (gshifts[g] - 12))) == 0)
			continue;
		first = ti->ti_va_first >> gshifts[g];
		last = ti->ti_va_last >> gshifts[g];
		for (page = first;; page++) {
			for (m = tbus; m != 0; m &= m - 1)
				smmuv3_tlb_inv_set(sc,
				    smmuv3__tlb_set(sc,
					(unsigned)__builtin_ctzll(m) *
					    sc->sc_tlb_tbu_sets,
					ti->ti_asid, gshifts[g],
					page << gshifts[g]),
				    ti);
			if (page == last)
				break;
		}
	}
	return true;
}

/* Drops what ti selects in one set, under the set's lock. */
static void
smmuv3_tlb_inv_set(
    struct smmuv3 *sc, unsigned set, const struct smmuv3__tlbi *ti)
{
	struct smmuv3__tlbslot *ts = &sc->sc_tlb[(size_t)set * sc->sc_tlb_ways];
	uint32_t		seq = smmuv3_tlb_set_lock(sc, set);
	unsigned		w;

	for (w = 0; w < sc->sc_tlb_ways; w++)
		smmuv3_tlb_inv_one(sc, &ts[w], ti);
	smmuv3_tlb_set_unlock(sc, set, seq);
}

/*
 * Drops every entry the selector matches (4.4, TLB invalidation); on the
 * command or the exclusive side.
 */
void
smmuv3__tlb_invalidate(struct smmuv3 *sc, const struct smmuv3__tlbi *ti)
{
	unsigned set;

	/* Before anything is looked at: see Concurrency above. */
	if (!sc->sc_tlb_bumped) {
		atomic_fetch_add(&sc->sc_tlb_epoch, 1);
		sc->sc_tlb_bumped = true;
	}
	if (smmuv3_tlb_by_asid(ti)) {
		smmuv3_tlb_inv_asid(sc, ti);
		return;
	}
	if (smmuv3_tlb_inv_sets(sc, ti))
		return;
	for (set = 0; set < sc->sc_tlb_sets; set++)
		smmuv3_tlb_inv_set(sc, set, ti);
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
		info.ti_perm = smmuv3__te_perm(te.te_flags);
		fn(arg, &info);
	}
	smmuv3__leave(&hd);
	return count;
}
