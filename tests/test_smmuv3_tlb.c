/*
 * SMMUv3 model: TLB and configuration cache maintenance.  A translation
 * cached before a page-table, STE or CD change must survive the change
 * until the matching invalidation command (IHI 0070 4.4 TLB, 4.3 config
 * invalidation), and the invalidation must drop exactly what it names:
 * range TLBIs (TG/NUM/SCALE, 4.4.1.1) are checked against a brute-force
 * reference that lists which cached pages lie in [addr, addr + (NUM+1) *
 * 2^SCALE * granule).  The stale-translation checker must report a seeded
 * missing TLBI and stay silent on a correct sequence.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"
#include "test_alloc.h"

#define IOVA 0x3000000ULL

struct fixture {
	struct smmu_td	   fx_td;
	struct smmu_td_dom fx_a, fx_b; /* SIDs 1 and 2, ASIDs 1 and 2 */
	uint64_t	   fx_pa1, fx_pa2;
};

static void
fixture_init(struct fixture *fx, bool hyp, bool check_stale)
{
	struct smmuv3_config cfg;

	smmuv3_config_init(&cfg);
	cfg.cfg_hyp = hyp;
	cfg.cfg_check_stale = check_stale;
	cfg.cfg_tlb_sets = 256;
	cfg.cfg_tlb_ways = 8;
	cfg.cfg_range_inv = true;
	smmu_td_init(&fx->fx_td, &cfg, 16ULL << 20);
	smmu_td_enable(&fx->fx_td, NULL);
	fx->fx_pa1 = SMMU_TD_RAM_BASE + 0x800000;
	fx->fx_pa2 = SMMU_TD_RAM_BASE + 0x900000;
}

/* Two NS-EL1 streams with their own ASIDs; stale checker on or off. */
static int
setup_two_streams(void **state, bool check_stale)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	fixture_init(fx, false, check_stale);
	smmu_td_attach(&fx->fx_td, &fx->fx_a, 1, 1, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_attach(&fx->fx_td, &fx->fx_b, 2, 2, 0, SMMU_STE_STRW_NSEL1);
	*state = fx;
	return 0;
}

static int
setup(void **state)
{
	return setup_two_streams(state, false);
}

static int
setup_el2(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	fixture_init(fx, true, false);
	smmu_td_attach(&fx->fx_td, &fx->fx_a, 1, 1, 0, SMMU_STE_STRW_EL2);
	smmu_td_attach(&fx->fx_td, &fx->fx_b, 2, 2, 0, SMMU_STE_STRW_NSEL1);
	*state = fx;
	return 0;
}

static int
setup_e2h(void **state)
{
	struct fixture	   *fx = test_calloc(1, sizeof(*fx));
	struct smmu_td_opts o;

	fixture_init(fx, true, false);
	smmu_td_default_opts(&o);
	o.to_cr2 = 1; /* E2H */
	smmu_td_enable(&fx->fx_td, &o);
	smmu_td_attach(&fx->fx_td, &fx->fx_a, 1, 1, 0, SMMU_STE_STRW_EL2);
	*state = fx;
	return 0;
}

static int
setup_stale(void **state)
{
	return setup_two_streams(state, true);
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	smmu_td_fini(&fx->fx_td);
	test_free(fx);
	return 0;
}

static uint64_t
pa_of(struct fixture *fx, uint32_t sid, uint64_t iova)
{
	return smmu_td_pa_of(&fx->fx_td, sid, iova);
}

/* An enabled test driver over a model with a sets x ways TLB in tbus TBUs. */
static void
small_tlb_init(struct smmu_td *td, unsigned sets, unsigned ways, unsigned tbus,
    unsigned cfgcache_entries)
{
	struct smmuv3_config cfg;

	smmuv3_config_init(&cfg);
	cfg.cfg_tlb_sets = sets;
	cfg.cfg_tlb_ways = ways;
	cfg.cfg_tlb_tbus = tbus;
	if (cfgcache_entries != 0)
		cfg.cfg_cfgcache_entries = cfgcache_entries;
	smmu_td_init(td, &cfg, 0);
	smmu_td_enable(td, NULL);
}

/* Maps iova -> pa1 in both domains, caches it, then remaps to pa2. */
static void
cache_then_remap(struct fixture *fx, struct smmu_td_dom *d, uint64_t iova)
{
	smmu_td_map(&fx->fx_td, d->dm_root, iova, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, d->dm_sid, iova), fx->fx_pa1);
	smmu_td_map(&fx->fx_td, d->dm_root, iova, fx->fx_pa2, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, d->dm_sid, iova), fx->fx_pa1);
}

static void
stale_nh_translation_survives_until_tlbi_nh_va(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	/* Wrong ASID, wrong page, and an EL2 command: no effect. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 2, IOVA, false, 0, 0, 0, 0));
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(
		SMMU_OP_TLBI_NH_VA, 1, IOVA + SMMU_TD_4K, false, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, IOVA, false, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	/* The stale checker is off in this fixture: no reports. */
	assert_int_equal(smmu_td_stale_count(&fx->fx_td), 0);
}

static void
tlbi_nh_va_leaf_drops_the_leaf_entry(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(
		SMMU_OP_TLBI_NH_VA, 1, IOVA + 0x800, true, 0, 0, 0, 3));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
}

static void
tlbi_nh_vaa_drops_the_page_for_every_asid(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA + SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VAA, 0, IOVA, false, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA + SMMU_TD_4K), fx->fx_pa1);
}

/* Global entries (nG = 0) match any ASID by VA, no ASID command (4.4.2). */
static void
global_entries_ignore_asid_in_tlbi_va_and_survive_tlbi_asid(void **state)
{
	struct fixture *fx = *state;

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW & ~SMMU_PTE_NG);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa2, SMMU_TD_4K,
	    SMMU_TD_PTE_RW & ~SMMU_PTE_NG);
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 1));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 99, IOVA, false, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
}

static void
tlbi_nh_asid_drops_only_that_asid(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 2));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 1));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
}

static void
tlbi_nh_all_and_nsnh_all_drop_everything(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);

	cache_then_remap(fx, &fx->fx_a, IOVA + SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA + SMMU_TD_4K), fx->fx_pa2);
	assert_int_equal(smmuv3_tlb_foreach(fx->fx_td.td_smmu, NULL, NULL), 1);
}

struct asid_census {
	unsigned ac_asid1, ac_asid2;
};

static void
count_asids(void *arg, const struct smmuv3_tlb_info *ti)
{
	struct asid_census *ac = arg;

	if (ti->ti_asid == 1)
		ac->ac_asid1++;
	else if (ti->ti_asid == 2)
		ac->ac_asid2++;
}

/*
 * TLBI_NH_ASID kills an ASID's entries by generation: tlb_foreach and the
 * statistics must see exactly the surviving entries, and the ASID's pages
 * must fill again afterwards.
 */
static void
tlbi_nh_asid_leaves_no_visible_entry_and_counts_exactly(void **state)
{
	struct fixture	   *fx = *state;
	struct asid_census  ac = {0, 0};
	struct smmuv3_stats st0, st1;
	unsigned	    i;

	for (i = 0; i < 8; i++) {
		cache_then_remap(fx, &fx->fx_a, IOVA + i * SMMU_TD_4K);
		if (i < 3)
			cache_then_remap(fx, &fx->fx_b, IOVA + i * SMMU_TD_4K);
	}
	smmuv3_tlb_foreach(fx->fx_td.td_smmu, count_asids, &ac);
	assert_int_equal(ac.ac_asid1, 8);
	assert_int_equal(ac.ac_asid2, 3);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st0);
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 1));
	smmuv3_get_stats(fx->fx_td.td_smmu, &st1);
	assert_int_equal(st1.st_tlb_invalidated - st0.st_tlb_invalidated, 8);
	memset(&ac, 0, sizeof(ac));
	assert_int_equal(
	    smmuv3_tlb_foreach(fx->fx_td.td_smmu, count_asids, &ac), 3);
	assert_int_equal(ac.ac_asid1, 0);
	/* A second command finds nothing left to drop. */
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 1));
	smmuv3_get_stats(fx->fx_td.td_smmu, &st0);
	assert_int_equal(st0.st_tlb_invalidated, st1.st_tlb_invalidated);
	for (i = 0; i < 8; i++)
		assert_int_equal(
		    pa_of(fx, 1, IOVA + i * SMMU_TD_4K), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa1);
	memset(&ac, 0, sizeof(ac));
	smmuv3_tlb_foreach(fx->fx_td.td_smmu, count_asids, &ac);
	assert_int_equal(ac.ac_asid1, 8);
	assert_int_equal(ac.ac_asid2, 3);
}

/*
 * The per-ASID generation is 16 bits: after 65536 TLBI_NH_ASID commands
 * it comes back to the value a long-dead entry carries, which must stay
 * dead (the stale mapping to pa1 must not translate again).
 */
static void
tlbi_nh_asid_generation_wrap_does_not_revive_entries(void **state)
{
	struct fixture	   *fx = *state;
	struct smmu_cmd	    batch[64];
	struct smmuv3_stats st;
	unsigned	    i;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	for (i = 0; i < 64; i++)
		batch[i] = smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 1);
	for (i = 0; i < 65536 / 64; i++)
		assert_int_equal(smmu_td_submit(&fx->fx_td, batch, 64), 0);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	/* ASID 2 was never named: its stale entry is still there. */
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa1);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st);
	assert_int_equal(st.st_commands_by_op[SMMU_OP_TLBI_NH_ASID], 65536);
}

/* StreamWorld NS-EL2 with CR2.E2H = 0: entries carry no ASID. */
static void
el2_entries_ignore_nh_commands_and_obey_el2_commands(void **state)
{
	struct fixture *fx = *state;

	/* SID 1 is an EL2 stream, SID 2 an NS-EL1 one. */
	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, IOVA, false, 0, 0, 0, 0));
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NH_ALL));
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);

	/* TLBI_EL2_VA ignores the ASID parameter when E2H = 0 (4.4.2.8). */
	cache_then_remap(fx, &fx->fx_b, IOVA + SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_EL2_VA, 9, IOVA, false, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA + SMMU_TD_4K), fx->fx_pa1);

	cache_then_remap(fx, &fx->fx_a, IOVA + 2 * SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_EL2_VAA, 0, IOVA + 2 * SMMU_TD_4K,
		true, 0, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA + 2 * SMMU_TD_4K), fx->fx_pa2);

	cache_then_remap(fx, &fx->fx_a, IOVA + 3 * SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_EL2_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA + 3 * SMMU_TD_4K), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 2, IOVA + SMMU_TD_4K), fx->fx_pa1);
}

/* StreamWorld NS-EL2-E2H (CR2.E2H = 1): entries are ASID-tagged. */
static void
el2_e2h_entries_obey_el2_asid_and_range(void **state)
{
	struct fixture	  *fx = *state;
	struct smmu_td_dom c;

	smmu_td_attach(&fx->fx_td, &c, 3, 3, 0, SMMU_STE_STRW_EL2);
	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &c, IOVA);
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_EL2_ASID, 3));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(pa_of(fx, 3, IOVA), fx->fx_pa2);
	/* Range form: 2 pages from IOVA, ASID 1 only. */
	cache_then_remap(fx, &c, IOVA + SMMU_TD_4K);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_EL2_VA, 1, IOVA, false, 1, 1, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	assert_int_equal(pa_of(fx, 3, IOVA + SMMU_TD_4K), fx->fx_pa1);
	/* NSNH_ALL leaves EL2 entries alone (4.4.4.1). */
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 3, IOVA + SMMU_TD_4K), fx->fx_pa1);
}

/*
 * Range invalidation brute force.  For each TG a stream uses page tables
 * of that granule (TG only has to match entries inserted with the same
 * granule, 4.4.1.1).  The TLB holds pages spread over the 48-bit space
 * (dense near a base, then around every power of two); each (TG, NUM,
 * SCALE, start) must drop exactly the cached pages whose VA lies in
 * [start, start + (NUM + 1) << (SCALE + granule shift)).
 */
#define NPAGES 96

struct range_ctx {
	uint16_t rc_asid;
	uint64_t rc_va[NPAGES];
	bool	 rc_present[NPAGES];
	unsigned rc_n;
};

static void
mark_present(void *arg, const struct smmuv3_tlb_info *ti)
{
	struct range_ctx *rc = arg;
	unsigned	  i;

	for (i = 0; i < rc->rc_n; i++)
		if (rc->rc_va[i] == ti->ti_iova && ti->ti_asid == rc->rc_asid)
			rc->rc_present[i] = true;
}

static void
snapshot(struct fixture *fx, struct range_ctx *rc)
{
	memset(rc->rc_present, 0, sizeof(rc->rc_present));
	smmuv3_tlb_foreach(fx->fx_td.td_smmu, mark_present, rc);
}

/* A stream with gshift-granule tables mapping the pages of rc. */
static void
range_stream(
    struct fixture *fx, struct range_ctx *rc, uint32_t sid, unsigned gshift)
{
	struct smmu_td_dom d;
	uint64_t	   g = 1ULL << gshift;
	unsigned	   i, tg0;

	smmu_td_attach(
	    &fx->fx_td, &d, sid, (uint16_t)sid, 0, SMMU_STE_STRW_NSEL1);
	d.dm_root = smmu_td_pt_new_g(&fx->fx_td, gshift);
	tg0 = gshift == 12 ? SMMU_CD_TG0_4K
	    : gshift == 14 ? SMMU_CD_TG0_16K
			   : SMMU_CD_TG0_64K;
	d.dm_cd[0] = SMMU_FSET(d.dm_cd[0], SMMU_CD0_TG0, tg0);
	d.dm_cd[1] = d.dm_root;
	smmu_td_dom_rewrite(&fx->fx_td, &d);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(sid, true));
	memset(rc, 0, sizeof(*rc));
	rc->rc_asid = (uint16_t)sid;
	for (i = 0; i < 32; i++)
		rc->rc_va[rc->rc_n++] = 0x10000000ULL + i * g;
	for (i = gshift + 5; i < 48 && rc->rc_n + 2 <= NPAGES; i++) {
		rc->rc_va[rc->rc_n++] = (1ULL << i) - g;
		rc->rc_va[rc->rc_n++] = (1ULL << i) + ((i & 1) ? g : 0);
	}
	for (i = 0; i < rc->rc_n; i++)
		smmu_td_map_g(&fx->fx_td, d.dm_root, gshift, rc->rc_va[i],
		    fx->fx_pa1, 3, SMMU_TD_PTE_RW);
}

static void
check_range(struct fixture *fx, struct range_ctx *rc, uint32_t sid, unsigned tg,
    unsigned num, unsigned scale, uint64_t start)
{
	unsigned gshift = tg == 1 ? 12 : tg == 2 ? 14 : 16;
	uint64_t end = start + ((uint64_t)(num + 1) << (scale + gshift));
	bool	 before[NPAGES];
	unsigned i;

	for (i = 0; i < rc->rc_n; i++)
		if (!rc->rc_present[i])
			(void)pa_of(fx, sid, rc->rc_va[i]);
	snapshot(fx, rc);
	memcpy(before, rc->rc_present, sizeof(before));
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, rc->rc_asid, start, false, tg,
		num, scale, 0));
	snapshot(fx, rc);
	for (i = 0; i < rc->rc_n; i++) {
		bool in = rc->rc_va[i] >= start && rc->rc_va[i] < end;

		if (rc->rc_present[i] != (before[i] && !in))
			fail_msg("TG %u NUM %u SCALE %u start %#llx: page "
				 "%#llx %s",
			    tg, num, scale, (unsigned long long)start,
			    (unsigned long long)rc->rc_va[i],
			    in ? "kept" : "dropped");
	}
}

static void
range_tlbi_matches_brute_force_reference(void **state)
{
	struct fixture	*fx = *state;
	struct range_ctx rc;
	struct test_rng	 rng;
	unsigned	 tg, num, scale, k;
	unsigned long	 every = 1;
	unsigned long	 combo = 0;

	/* Every combination natively; a sample under Valgrind/sanitizers. */
	if (test_scale(20) != 20)
		every = 23;
	else if (SMMU_TD_SANITIZED)
		every = 5;
	test_rng_seed(&rng, 0x5eed);
	for (tg = 1; tg <= 3; tg++) {
		unsigned gshift = tg == 1 ? 12 : tg == 2 ? 14 : 16;
		uint64_t gmask = ~((1ULL << gshift) - 1);

		range_stream(fx, &rc, 10 + tg, gshift);
		for (num = 0; num < 32; num++)
			for (scale = 0; scale < 32; scale++)
				for (k = 0; k < 2; k++) {
					uint64_t start;

					if (combo++ % every != 0)
						continue;
					/* k 0: inside the dense window and
					 * misaligned to the range; k 1:
					 * anywhere below 2^48. */
					if (k == 0)
						start = 0x10000000ULL +
						    ((test_rng_below(&rng, 40) -
							 8)
							<< gshift);
					else
						start = test_rng_below(
						    &rng, 1ULL << 48);
					check_range(fx, &rc, 10 + tg, tg, num,
					    scale, start & gmask);
				}
	}
}

static void
range_tlbi_by_asid_leaves_other_asids(void **state)
{
	struct fixture *fx = *state;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	cache_then_remap(fx, &fx->fx_b, IOVA);
	/* 4 pages from IOVA - 4K: TG 4K, NUM 3, SCALE 0. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(
		SMMU_OP_TLBI_NH_VA, 2, IOVA - SMMU_TD_4K, false, 1, 3, 0, 0));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);
}

/* Non-range TLBI: low address bits ignored given the entry size (4.4). */
static void
tlbi_va_inside_a_block_drops_the_block(void **state)
{
	struct fixture *fx = *state;
	uint64_t	blk = 0x40000000ULL;

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk, SMMU_TD_RAM_BASE,
	    SMMU_TD_2M, SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, blk + 0x1000), SMMU_TD_RAM_BASE + 0x1000);
	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk,
	    SMMU_TD_RAM_BASE + SMMU_TD_2M, SMMU_TD_2M, SMMU_TD_PTE_RW);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(
		SMMU_OP_TLBI_NH_VA, 1, blk + 0x1ff000, true, 0, 0, 0, 0));
	assert_int_equal(
	    pa_of(fx, 1, blk + 0x1000), SMMU_TD_RAM_BASE + SMMU_TD_2M + 0x1000);
}

/*
 * 4.4.1.1 TTL (with TG != 0): the level of the leaves to invalidate.  A
 * decode off by one level would leave a stale page or block behind.
 */
static void
range_tlbi_ttl_selects_the_leaf_level(void **state)
{
	struct fixture *fx = *state;
	uint64_t	blk = 0x40000000ULL;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk, SMMU_TD_RAM_BASE,
	    SMMU_TD_2M, SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, blk + 0x1000), SMMU_TD_RAM_BASE + 0x1000);
	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk,
	    SMMU_TD_RAM_BASE + SMMU_TD_2M, SMMU_TD_2M, SMMU_TD_PTE_RW);
	/* [0, 2 GiB): TG 4K, NUM 0, SCALE 19; TTL 3 = level-3 pages. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, 0, true, 1, 0, 19, 3));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);
	/* TTL 2 = level-2 blocks. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, 0, true, 1, 0, 19, 2));
	assert_int_equal(
	    pa_of(fx, 1, blk + 0x1000), SMMU_TD_RAM_BASE + SMMU_TD_2M + 0x1000);
}

/* A range touching only the last page of a block drops the block. */
static void
range_tlbi_overlapping_a_block_drops_it(void **state)
{
	struct fixture *fx = *state;
	uint64_t	blk = 0x40000000ULL;

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk, SMMU_TD_RAM_BASE,
	    SMMU_TD_2M, SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, blk), SMMU_TD_RAM_BASE);
	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, blk,
	    SMMU_TD_RAM_BASE + SMMU_TD_2M, SMMU_TD_2M, SMMU_TD_PTE_RW);
	/* Range ending just below the block: no effect. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, blk - 4 * SMMU_TD_4K, false,
		1, 3, 0, 0));
	assert_int_equal(pa_of(fx, 1, blk), SMMU_TD_RAM_BASE);
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1,
		blk + SMMU_TD_2M - SMMU_TD_4K, false, 1, 0, 0, 0));
	assert_int_equal(pa_of(fx, 1, blk), SMMU_TD_RAM_BASE + SMMU_TD_2M);
}

static void
range_tlbi_vaa_drops_the_range_for_every_asid(void **state)
{
	struct fixture *fx = *state;
	unsigned	i;

	for (i = 0; i < 4; i++) {
		cache_then_remap(fx, &fx->fx_a, IOVA + i * SMMU_TD_4K);
		cache_then_remap(fx, &fx->fx_b, IOVA + i * SMMU_TD_4K);
	}
	/* Pages 1 and 2: TG 4K, NUM 1, SCALE 0. */
	smmu_td_cmd_sync(&fx->fx_td,
	    smmu_cmd_tlbi_va(
		SMMU_OP_TLBI_NH_VAA, 0, IOVA + SMMU_TD_4K, false, 1, 1, 0, 0));
	for (i = 0; i < 4; i++) {
		uint64_t want = (i == 1 || i == 2) ? fx->fx_pa2 : fx->fx_pa1;

		assert_int_equal(pa_of(fx, 1, IOVA + i * SMMU_TD_4K), want);
		assert_int_equal(pa_of(fx, 2, IOVA + i * SMMU_TD_4K), want);
	}
}

static void
stale_checker_reports_an_unmap_without_tlbi_with_the_fresh_fault(void **state)
{
	struct fixture		  *fx = *state;
	struct smmuv3_stale_report sr;

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	test_flatmem_wr64(&fx->fx_td.td_mem,
	    smmu_td_pte_pa(&fx->fx_td, fx->fx_a.dm_root, IOVA, 3), 0);
	/* The TLB still answers (that is the bug being reported). */
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(smmu_td_stale_count(&fx->fx_td), 1);
	pthread_mutex_lock(&fx->fx_td.td_lock);
	sr = fx->fx_td.td_last_stale;
	pthread_mutex_unlock(&fx->fx_td.td_lock);
	assert_int_equal(sr.sr_fresh_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(sr.sr_cached_pa, fx->fx_pa1);
	smmu_td_expect_no_event(&fx->fx_td);
}

/* Config cache: STE and CD changes wait for CFGI_* (IHI 0070 4.3). */
static void
ste_change_survives_until_cfgi_ste(void **state)
{
	struct fixture *fx = *state;
	uint64_t	ste[8];

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_ste_bypass(ste);
	smmu_td_write_ste(&fx->fx_td, 1, ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(2, false));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(1, true));
	assert_int_equal(pa_of(fx, 1, IOVA), IOVA);
}

static void
cd_change_survives_until_cfgi_cd(void **state)
{
	struct fixture *fx = *state;
	uint64_t	root2 = smmu_td_pt_new(&fx->fx_td);

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	smmu_td_map(
	    &fx->fx_td, root2, IOVA, fx->fx_pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	fx->fx_a.dm_cd[1] = root2;
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_a);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(2, 0, true));
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(1, 0, true));
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa2);

	/* CFGI_CD_ALL for the stream works too. */
	fx->fx_a.dm_cd[1] = fx->fx_a.dm_root;
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_a);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd_all(1));
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
}

/* 2^(Range + 1) SIDs, aligned (4.3.3); SIDs 8..23 each bypass. */
static void
cfgi_ste_range_covers_aligned_power_of_two_sids(void **state)
{
	struct fixture	  *fx = *state;
	struct smmu_td_dom d[16];
	uint64_t	   ste[8];
	unsigned	   i;

	for (i = 0; i < 16; i++) {
		smmu_td_attach(&fx->fx_td, &d[i], 8 + i, (uint16_t)(8 + i), 0,
		    SMMU_STE_STRW_NSEL1);
		smmu_td_map(&fx->fx_td, d[i].dm_root, IOVA, fx->fx_pa1,
		    SMMU_TD_4K, SMMU_TD_PTE_RW);
		assert_int_equal(pa_of(fx, 8 + i, IOVA), fx->fx_pa1);
	}
	smmu_ste_bypass(ste);
	for (i = 0; i < 16; i++)
		smmu_td_write_ste(&fx->fx_td, 8 + i, ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	/* Range 2: SIDs 8..15, whatever low SID bits the command holds. */
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste_range(13, 2));
	for (i = 0; i < 16; i++)
		assert_int_equal(
		    pa_of(fx, 8 + i, IOVA), i < 8 ? IOVA : fx->fx_pa1);
	/* Range 31 is CFGI_ALL. */
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste_range(0xffffffffu, 31));
	for (i = 0; i < 16; i++)
		assert_int_equal(pa_of(fx, 8 + i, IOVA), IOVA);
	assert_int_equal(smmuv3_cfgcache_count(fx->fx_td.td_smmu), 16);
}

/* Capacity pressure: evictions never return a wrong translation. */
static void
tiny_tlb_and_config_cache_evict_but_stay_correct(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_dom  d[4];
	struct smmuv3_stats st;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	unsigned	    i, k, round;

	(void)state;
	small_tlb_init(&td, 1, 2, 1, 2);
	for (k = 0; k < 4; k++) {
		smmu_td_attach(&td, &d[k], 20 + k, (uint16_t)(20 + k), 0, 0);
		for (i = 0; i < 8; i++)
			smmu_td_map(&td, d[k].dm_root, IOVA + i * SMMU_TD_4K,
			    SMMU_TD_RAM_BASE + (k * 8 + i) * SMMU_TD_4K,
			    SMMU_TD_4K, SMMU_TD_PTE_RW);
	}
	for (round = 0; round < 3; round++)
		for (i = 0; i < 8; i++)
			for (k = 0; k < 4; k++) {
				assert_int_equal(
				    smmuv3_translate(td.td_smmu, 20 + k,
					SMMUV3_NO_SSID,
					IOVA + i * SMMU_TD_4K + 4,
					SMMUV3_ACCESS_READ, &xl, &ft),
				    0);
				assert_int_equal(xl.xl_pa,
				    SMMU_TD_RAM_BASE +
					(k * 8 + i) * SMMU_TD_4K + 4);
			}
	assert_true(smmuv3_tlb_foreach(td.td_smmu, NULL, NULL) <= 2);
	assert_true(smmuv3_cfgcache_count(td.td_smmu) <= 2);
	smmuv3_get_stats(td.td_smmu, &st);
	assert_true(st.st_tlb_evictions > 0);
	assert_true(st.st_ste_fetches > 4);
	smmu_td_fini(&td);
}

static void
count_asid_20_21(void *arg, const struct smmuv3_tlb_info *ti)
{
	unsigned *n = arg;

	if (ti->ti_asid == 20 || ti->ti_asid == 21)
		n[ti->ti_asid - 20]++;
}

/* What a TLBI_NH_ASID of asid reports it dropped. */
static uint64_t
tlbi_asid_dropped(struct smmu_td *td, uint16_t asid)
{
	struct smmuv3_stats st0, st1;

	smmuv3_get_stats(td->td_smmu, &st0);
	smmu_td_cmd_sync(td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, asid));
	smmuv3_get_stats(td->td_smmu, &st1);
	return st1.st_tlb_invalidated - st0.st_tlb_invalidated;
}

/*
 * A fill that evicts an entry of its own ASID hands the entry's count on
 * instead of counting twice; one that evicts another ASID's entry takes
 * that one out of its ASID's count.  Either way TLBI by ASID must report
 * exactly the entries it kills.
 */
static void
evictions_keep_each_asid_count_exact(void **state)
{
	struct smmu_td	     td;
	struct smmu_td_dom   d[2];
	unsigned	     n[2] = {0, 0}, i, k;
	static const uint8_t order[] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0};

	(void)state;
	small_tlb_init(&td, 1, 4, 1, 0);
	for (k = 0; k < 2; k++) {
		smmu_td_attach(&td, &d[k], 20 + k, (uint16_t)(20 + k), 0, 0);
		for (i = 0; i < sizeof(order); i++)
			smmu_td_map(&td, d[k].dm_root, IOVA + i * SMMU_TD_4K,
			    SMMU_TD_RAM_BASE + i * SMMU_TD_4K, SMMU_TD_4K,
			    SMMU_TD_PTE_RW);
	}
	for (i = 0; i < sizeof(order); i++)
		assert_int_equal(
		    smmu_td_pa_of(&td, 20 + order[i], IOVA + i * SMMU_TD_4K),
		    SMMU_TD_RAM_BASE + i * SMMU_TD_4K);
	assert_int_equal(
	    smmuv3_tlb_foreach(td.td_smmu, count_asid_20_21, n), 4);
	assert_true(n[0] > 0 && n[1] > 0);
	assert_int_equal(tlbi_asid_dropped(&td, 20), n[0]);
	assert_int_equal(tlbi_asid_dropped(&td, 21), n[1]);
	assert_int_equal(tlbi_asid_dropped(&td, 20), 0);
	assert_int_equal(smmuv3_tlb_foreach(td.td_smmu, NULL, NULL), 0);
	smmu_td_fini(&td);
}

/*
 * TBUs (cfg_tlb_tbus): a 2-set, 1-way TLB split between two TBUs.  SID 2
 * translates in TBU 0 and SID 3 in TBU 1: however many pages SID 3
 * fills, SID 2's cached entry stays (seen through a remap made without a
 * TLBI), while with one TBU the same fills evict it.
 */
static void
tbu_fills_stay_in_their_tbu(bool two_tbus)
{
	struct smmu_td	    td;
	struct smmu_td_dom  a, b;
	struct smmuv3_stats st;
	uint64_t	    pa1 = SMMU_TD_RAM_BASE + 0x100000;
	uint64_t	    pa2 = SMMU_TD_RAM_BASE + 0x200000;
	unsigned	    i;

	small_tlb_init(&td, 2, 1, two_tbus ? 2 : 1, 0);
	smmu_td_attach(&td, &a, 2, 2, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_attach(&td, &b, 3, 3, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_map(&td, a.dm_root, IOVA, pa1, SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(smmu_td_pa_of(&td, 2, IOVA), pa1);
	smmu_td_map(&td, a.dm_root, IOVA, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	for (i = 0; i < 8; i++) {
		smmu_td_map(&td, b.dm_root, IOVA + i * SMMU_TD_4K,
		    pa1 + i * SMMU_TD_4K, SMMU_TD_4K, SMMU_TD_PTE_RW);
		(void)smmu_td_pa_of(&td, 3, IOVA + i * SMMU_TD_4K);
	}
	assert_int_equal(smmu_td_pa_of(&td, 2, IOVA), two_tbus ? pa1 : pa2);
	smmuv3_get_stats(td.td_smmu, &st);
	/* SID 3's 8 fills in one set of one way: 7 evict each other, and
	 * with one TBU the first also evicts SID 2's entry. */
	assert_true(st.st_tlb_evictions >= 7);
	assert_int_equal(smmuv3_tlb_foreach(td.td_smmu, NULL, NULL), 2);
	smmu_td_fini(&td);
}

static void
streams_of_two_tbus_do_not_evict_each_other(void **state)
{
	(void)state;
	tbu_fills_stay_in_their_tbu(true);
}

static void
streams_of_one_tbu_evict_each_other(void **state)
{
	(void)state;
	tbu_fills_stay_in_their_tbu(false);
}

/*
 * One ASID used by streams of two TBUs (a domain shared by two masters):
 * TLBI by VA and ASID must find the page in both TBUs' sets (the
 * few-pages path visits the page's set in every TBU), as must the
 * range form and TLBI by ASID.
 */
static void
tlbi_by_asid_and_va_reaches_every_tbu(void **state)
{
	struct smmuv3_config cfg;
	struct smmu_td	     td;
	struct smmu_td_dom   a, b;
	uint64_t	     pa1 = SMMU_TD_RAM_BASE + 0x100000;
	uint64_t	     pa2 = SMMU_TD_RAM_BASE + 0x200000;
	uint64_t	     iova;
	uint32_t	     sid;
	unsigned	     round;

	(void)state;
	smmuv3_config_init(&cfg);
	cfg.cfg_tlb_sets = 64;
	cfg.cfg_tlb_ways = 2;
	cfg.cfg_tlb_tbus = 4;
	cfg.cfg_range_inv = true;
	smmu_td_init(&td, &cfg, 0);
	smmu_td_enable(&td, NULL);
	smmu_td_attach(&td, &a, 4, 7, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_attach(&td, &b, 5, 7, 0, SMMU_STE_STRW_NSEL1);
	/* Round 3: by address again, after the TLBI by ASID of round 2
	 * cleared the ASID's record of its TBUs. */
	for (round = 0; round < 4; round++) {
		iova = IOVA + round * 4 * SMMU_TD_4K;
		for (sid = 4; sid <= 5; sid++) {
			uint64_t root = sid == 4 ? a.dm_root : b.dm_root;
			uint64_t pa;

			smmu_td_map(
			    &td, root, iova, pa1, SMMU_TD_4K, SMMU_TD_PTE_RW);
			pa = smmu_td_pa_of(&td, sid, iova);
			assert_int_equal(pa, pa1);
			smmu_td_map(
			    &td, root, iova, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
			assert_int_equal(smmu_td_pa_of(&td, sid, iova), pa1);
		}
		if (round == 0 || round == 3)
			smmu_td_cmd_sync(&td,
			    smmu_cmd_tlbi_va(
				SMMU_OP_TLBI_NH_VA, 7, iova, true, 0, 0, 0, 0));
		else if (round == 1)
			smmu_td_cmd_sync(&td,
			    smmu_cmd_tlbi_va(
				SMMU_OP_TLBI_NH_VA, 7, iova, true, 1, 1, 1, 3));
		else
			smmu_td_cmd_sync(
			    &td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 7));
		assert_int_equal(smmu_td_pa_of(&td, 4, iova), pa2);
		assert_int_equal(smmu_td_pa_of(&td, 5, iova), pa2);
	}
	smmu_td_fini(&td);
}

/*
 * The per-thread last hit (micro-TLB) stands only while its TLB entry
 * does: once fills have evicted the entry, the page is walked again and
 * a remap made meanwhile (no TLBI: the model may use either, and walks)
 * shows.
 */
static void
last_hit_does_not_outlive_an_evicted_entry(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_dom  d;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    pa1 = SMMU_TD_RAM_BASE + 0x100000;
	uint64_t	    pa2 = SMMU_TD_RAM_BASE + 0x200000;
	unsigned	    i;

	(void)state;
	small_tlb_init(&td, 1, 2, 1, 0);
	smmu_td_attach(&td, &d, 20, 20, 0, 0);
	for (i = 0; i < 3; i++)
		smmu_td_map(&td, d.dm_root, IOVA + i * SMMU_TD_4K,
		    pa1 + i * SMMU_TD_4K, SMMU_TD_4K, SMMU_TD_PTE_RW);
	for (i = 0; i < 2; i++) { /* the second hits the last-hit entry */
		assert_int_equal(
		    smmuv3_translate(td.td_smmu, 20, SMMUV3_NO_SSID, IOVA,
			SMMUV3_ACCESS_READ, &xl, &ft),
		    0);
		assert_int_equal(xl.xl_pa, pa1);
	}
	smmu_td_map(&td, d.dm_root, IOVA, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(smmuv3_translate(td.td_smmu, 20, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, pa1); /* cached: no TLBI yet */
	for (i = 1; i < 3; i++) /* two fills: IOVA's entry is the victim */
		assert_int_equal(
		    smmuv3_translate(td.td_smmu, 20, SMMUV3_NO_SSID,
			IOVA + i * SMMU_TD_4K, SMMUV3_ACCESS_READ, &xl, &ft),
		    0);
	assert_int_equal(smmuv3_translate(td.td_smmu, 20, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, pa2);
	smmu_td_fini(&td);
}

/* A new level-2 table needs the non-leaf CFGI_STE for its L1STD (5.1.1). */
static void
new_l2_stream_table_is_visible_after_cfgi_ste(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_opts o;
	struct smmu_td_dom  d;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    l1pa;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_default_opts(&o);
	o.to_strtab_fmt = SMMU_STRTAB_FMT_2LVL;
	o.to_strtab_log2 = 12;
	o.to_split = 6;
	smmu_td_enable(&td, &o);
	/* SID 200: its L1STD (index 3) still has Span 0. */
	assert_int_equal(smmuv3_translate(td.td_smmu, 200, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 200, NULL);
	smmu_td_attach(&td, &d, 200, 5, 0, 0); /* L1STD, STE, CFGI_STE */
	smmu_td_map(
	    &td, d.dm_root, IOVA, SMMU_TD_RAM_BASE, SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(smmuv3_translate(td.td_smmu, 200, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, SMMU_TD_RAM_BASE);
	/* Decommission the span: L1STD Span 0 + CFGI_STE_RANGE. */
	l1pa = td.td_strtab + (200 >> 6) * 8;
	test_flatmem_wr64(&td.td_mem, l1pa, 0);
	smmu_td_cmd_sync(&td, smmu_cmd_cfgi_ste_range(192, 5));
	smmu_td_cmd_sync(&td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, 5));
	assert_int_equal(smmuv3_translate(td.td_smmu, 200, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 200, NULL);
	smmu_td_fini(&td);
}

/* Stale-translation checker (cfg_check_stale). */
static void
stale_checker_reports_a_missing_tlbi(void **state)
{
	struct fixture		  *fx = *state;
	struct smmuv3_stats	   st;
	struct smmuv3_stale_report sr;

	cache_then_remap(fx, &fx->fx_a, IOVA);
	assert_true(smmu_td_stale_count(&fx->fx_td) >= 1);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st);
	assert_int_equal(st.st_stale, smmu_td_stale_count(&fx->fx_td));
	pthread_mutex_lock(&fx->fx_td.td_lock);
	sr = fx->fx_td.td_last_stale;
	pthread_mutex_unlock(&fx->fx_td.td_lock);
	assert_int_equal(sr.sr_sid, 1);
	assert_int_equal(sr.sr_iova, IOVA);
	assert_false(sr.sr_config);
	assert_int_equal(sr.sr_cached_pa, fx->fx_pa1);
	assert_int_equal(sr.sr_fresh_pa, fx->fx_pa2);
	/* Not an architectural event. */
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
stale_checker_reports_a_missing_cfgi(void **state)
{
	struct fixture		  *fx = *state;
	struct smmuv3_stale_report sr;
	uint64_t		   ste[8];

	smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, IOVA, fx->fx_pa1, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 1, IOVA), fx->fx_pa1);
	assert_int_equal(smmu_td_stale_count(&fx->fx_td), 0);
	smmu_ste_bypass(ste);
	smmu_td_write_ste(&fx->fx_td, 1, ste);
	(void)pa_of(fx, 1, IOVA);
	assert_true(smmu_td_stale_count(&fx->fx_td) >= 1);
	pthread_mutex_lock(&fx->fx_td.td_lock);
	sr = fx->fx_td.td_last_stale;
	pthread_mutex_unlock(&fx->fx_td.td_lock);
	assert_true(sr.sr_config);
	assert_int_equal(sr.sr_sid, 1);
}

static void
stale_checker_silent_on_correct_sequence(void **state)
{
	struct fixture *fx = *state;
	unsigned	i;

	for (i = 0; i < 8; i++) {
		uint64_t iova = IOVA + i * SMMU_TD_4K;

		smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, iova, fx->fx_pa1,
		    SMMU_TD_4K, SMMU_TD_PTE_RW);
		assert_int_equal(pa_of(fx, 1, iova), fx->fx_pa1);
		/* Unmap + TLBI + SYNC, then map elsewhere. */
		test_flatmem_wr64(&fx->fx_td.td_mem,
		    smmu_td_pte_pa(&fx->fx_td, fx->fx_a.dm_root, iova, 3), 0);
		smmu_td_cmd_sync(&fx->fx_td,
		    smmu_cmd_tlbi_va(
			SMMU_OP_TLBI_NH_VA, 1, iova, true, 0, 0, 0, 0));
		smmu_td_map(&fx->fx_td, fx->fx_a.dm_root, iova, fx->fx_pa2,
		    SMMU_TD_4K, SMMU_TD_PTE_RW);
		assert_int_equal(pa_of(fx, 1, iova), fx->fx_pa2);
		assert_int_equal(pa_of(fx, 1, iova), fx->fx_pa2);
	}
	/* Mapping a new page needs no TLBI (nothing was cached). */
	smmu_td_map(&fx->fx_td, fx->fx_b.dm_root, IOVA, fx->fx_pa2, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(pa_of(fx, 2, IOVA), fx->fx_pa2);
	assert_int_equal(smmu_td_stale_count(&fx->fx_td), 0);
}

#define T(f)  cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T2(f) cmocka_unit_test_setup_teardown(f, setup_el2, teardown)
#define TS(f) cmocka_unit_test_setup_teardown(f, setup_stale, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(stale_nh_translation_survives_until_tlbi_nh_va),
	    T(tlbi_nh_va_leaf_drops_the_leaf_entry),
	    T(tlbi_nh_vaa_drops_the_page_for_every_asid),
	    T(tlbi_nh_asid_drops_only_that_asid),
	    T(tlbi_nh_asid_leaves_no_visible_entry_and_counts_exactly),
	    T(tlbi_nh_asid_generation_wrap_does_not_revive_entries),
	    T(global_entries_ignore_asid_in_tlbi_va_and_survive_tlbi_asid),
	    T(tlbi_nh_all_and_nsnh_all_drop_everything),
	    T2(el2_entries_ignore_nh_commands_and_obey_el2_commands),
	    cmocka_unit_test_setup_teardown(
		el2_e2h_entries_obey_el2_asid_and_range, setup_e2h, teardown),
	    T(range_tlbi_matches_brute_force_reference),
	    T(range_tlbi_by_asid_leaves_other_asids),
	    T(tlbi_va_inside_a_block_drops_the_block),
	    T(range_tlbi_overlapping_a_block_drops_it),
	    T(range_tlbi_ttl_selects_the_leaf_level),
	    T(range_tlbi_vaa_drops_the_range_for_every_asid),
	    T(ste_change_survives_until_cfgi_ste),
	    T(cd_change_survives_until_cfgi_cd),
	    T(cfgi_ste_range_covers_aligned_power_of_two_sids),
	    cmocka_unit_test(tiny_tlb_and_config_cache_evict_but_stay_correct),
	    cmocka_unit_test(evictions_keep_each_asid_count_exact),
	    cmocka_unit_test(streams_of_two_tbus_do_not_evict_each_other),
	    cmocka_unit_test(streams_of_one_tbu_evict_each_other),
	    cmocka_unit_test(tlbi_by_asid_and_va_reaches_every_tbu),
	    cmocka_unit_test(last_hit_does_not_outlive_an_evicted_entry),
	    cmocka_unit_test(new_l2_stream_table_is_visible_after_cfgi_ste),
	    TS(stale_checker_reports_a_missing_tlbi),
	    TS(stale_checker_reports_a_missing_cfgi),
	    TS(stale_checker_silent_on_correct_sequence),
	    TS(stale_checker_reports_an_unmap_without_tlbi_with_the_fresh_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
