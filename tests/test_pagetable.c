/*
 * Tests of the VP page tables: descriptor bytes against the architectural
 * layout, an independent walker against extract, the io-pgtable-style
 * map/unmap matrix over input/output sizes, ENOMEM at every allocation,
 * prepare, teardown accounting and the validator; owned spans of parked
 * PTEDs (iommu_pt_span, _fill, _clear): which ranges have a
 * span, runs at any pages, EEXIST/ENOENT stops, TLB notes, many cycles,
 * and the validator's checks of parked PTEDs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "iommu_internal.h"
#include "pagetable_internal.h"
#include "pt_fixture.h"
#include "pt_walker.h"
#include "test_alloc.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static void
create_rejects_bad_configurations(void **state)
{
	struct pt_fixture   fx;
	struct iommu_pt_cfg cfg;
	struct iommu_pt	   *pt = NULL;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ptc_ias = 48;
	cfg.ptc_oas = 48;
	cfg.ptc_physmem = fx.fx_pm;
	cfg.ptc_pted_pool = fx.fx_pted_pool;
	cfg.ptc_vp_pool = fx.fx_vp_pool;
	assert_int_equal(iommu_pt_create(NULL, &pt), EINVAL);
	assert_int_equal(iommu_pt_create(&cfg, NULL), EINVAL);
	cfg.ptc_ias = 31;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_ias = 49;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_ias = 48;
	cfg.ptc_oas = 31;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_oas = 53;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_oas = 48;
	cfg.ptc_physmem = NULL;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_physmem = fx.fx_pm;
	cfg.ptc_vp_pool = NULL;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	cfg.ptc_vp_pool = fx.fx_vp_pool;
	cfg.ptc_pted_pool = NULL;
	assert_int_equal(iommu_pt_create(&cfg, &pt), EINVAL);
	assert_null(pt);
	iommu_pt_destroy(NULL);
	pt_fixture_fini(&fx);
}

static void
geometry_follows_the_input_size(void **state)
{
	static const unsigned ias[] = {32, 36, 39, 40, 42, 44, 48};
	struct pt_fixture     fx;
	unsigned	      i;

	(void)state;
	for (i = 0; i < IOMMU_ARRAY_SIZE(ias); i++) {
		pt_fixture_init(&fx, ias[i], 52);
		assert_int_equal(iommu_pt_ias(fx.fx_pt), ias[i]);
		assert_int_equal(iommu_pt_t0sz(fx.fx_pt), 64 - ias[i]);
		assert_int_equal(iommu_pt_start_level(fx.fx_pt),
		    pt_walker_start_level(ias[i]));
		assert_int_equal(
		    iommu_pt_start_level(fx.fx_pt), ias[i] <= 39 ? 1 : 0);
		assert_int_equal(iommu_pt_oas(fx.fx_pt), 48); /* narrowed */
		assert_int_equal(
		    iommu_pt_root_pa(fx.fx_pt) & IOMMU_PAGE_MASK, 0);
		pt_fixture_fini(&fx);
	}
}

/* The architectural fields of a stage-1 page descriptor, decoded here. */
static void
check_page_desc(uint64_t d, uint64_t pa, unsigned prot, unsigned cache)
{
	static const uint8_t mair_attr[] = {0xff, 0x44, 0x04};
	unsigned	     idx = (unsigned)(d >> 2) & 7;

	assert_int_equal(d & 3, 3);   /* valid page */
	assert_int_equal(idx, cache); /* AttrIndx */
	assert_int_equal((IOMMU_PT_MAIR >> (8 * idx)) & 0xff, mair_attr[cache]);
	assert_int_equal((d >> 5) & 1, 0); /* NS */
	assert_int_equal((d >> 6) & 1, 1); /* AP[1]: unprivileged ok */
	assert_int_equal((d >> 7) & 1,	   /* AP[2]: read-only */
	    (prot & IOMMU_PROT_WRITE) ? 0 : 1);
	assert_int_equal((d >> 8) & 3, cache == IOMMU_CACHE_WB ? 3 : 2);
	assert_int_equal((d >> 10) & 1, 1); /* AF */
	assert_int_equal((d >> 11) & 1, 1); /* nG */
	assert_int_equal(d & 0x0000fffffffff000ULL, pa);
	assert_int_equal(d >> 48, 0); /* no XN, Contiguous, SW */
}

static void
check_table_desc(uint64_t d)
{
	assert_int_equal(d & 3, 3);
	assert_int_equal(d & 0xffc, 0); /* ignored bits left zero */
	assert_int_equal(d >> 48, 0);	/* APTable, NSTable, XNTable */
	assert_true((d & 0x0000fffffffff000ULL) >= PT_FX_RAM_BASE);
	assert_true(
	    (d & 0x0000fffffffff000ULL) < PT_FX_RAM_BASE + PT_FX_RAM_SIZE);
}

static void
descriptor_bits_for_every_protection_and_cache_mode(void **state)
{
	static const unsigned prots[] = {IOMMU_PROT_READ, IOMMU_PROT_WRITE,
	    IOMMU_PROT_READ | IOMMU_PROT_WRITE};
	static const unsigned ias[] = {39, 48};
	struct pt_fixture     fx;
	struct pt_walk_result wr;
	uint64_t	      iova, pa, xpa;
	unsigned	      p, c, k, l, xprot, n = 0;

	(void)state;
	for (k = 0; k < IOMMU_ARRAY_SIZE(ias); k++) {
		pt_fixture_init(&fx, ias[k], 48);
		for (p = 0; p < IOMMU_ARRAY_SIZE(prots); p++) {
			for (c = IOMMU_CACHE_WB; c <= IOMMU_CACHE_DEV; c++) {
				iova = (0x123456ULL + n * 0x10201ULL) << 12;
				iova &= (1ULL << ias[k]) - 1;
				pa = 0xabcdef0000ULL + ((uint64_t)n << 12);
				n++;
				assert_int_equal(iommu_pt_enter(fx.fx_pt, iova,
						     pa, prots[p], c, 0),
				    0);
				assert_int_equal(
				    pt_walker_translate(&fx.fx_mem,
					iommu_pt_root_pa(fx.fx_pt), ias[k], 48,
					iova + 0x5a8, &wr),
				    PT_WALK_OK);
				assert_int_equal(wr.pw_level, 3);
				assert_int_equal(wr.pw_pa, pa + 0x5a8);
				check_page_desc(wr.pw_desc, pa, prots[p], c);
				for (l = pt_walker_start_level(ias[k]); l < 3;
				     l++)
					check_table_desc(wr.pw_table_desc[l]);
				assert_int_equal(
				    iommu_pt_extract(
					fx.fx_pt, iova + 0x5a8, &xpa, &xprot),
				    0);
				assert_int_equal(xpa, pa + 0x5a8);
				assert_int_equal(xprot,
				    prots[p] == IOMMU_PROT_READ
					? IOMMU_PROT_READ
					: IOMMU_PROT_READ | IOMMU_PROT_WRITE);
			}
		}
		pt_fixture_fini(&fx);
	}
}

/* Walker and extract agree on every IOVA probed, mapped or not. */
static void
assert_walker_agrees(struct pt_fixture *fx, uint64_t iova)
{
	struct pt_walk_result wr;
	uint64_t	      xpa = 0;
	unsigned	      xprot = 0;
	int		      w, x;

	w = pt_walker_translate(&fx->fx_mem, iommu_pt_root_pa(fx->fx_pt),
	    fx->fx_ias, fx->fx_oas, iova, &wr);
	x = iommu_pt_extract(fx->fx_pt, iova, &xpa, &xprot);
	if (x == 0) {
		assert_int_equal(w, PT_WALK_OK);
		assert_int_equal(wr.pw_pa, xpa);
		assert_int_equal(((wr.pw_desc >> 7) & 1) == 0,
		    (xprot & IOMMU_PROT_WRITE) != 0);
	} else {
		assert_int_equal(x, ENOENT);
		assert_int_not_equal(w, PT_WALK_OK);
	}
}

static void
walker_agrees_with_extract(void **state)
{
	static const unsigned ias[] = {32, 39, 40, 48};
	struct pt_fixture     fx;
	struct test_rng	      rng;
	uint64_t	      mapped[256], iova, span;
	unsigned	      k, i, n, rounds;

	(void)state;
	test_rng_seed(&rng, 0x9e3779b97f4a7c15ULL);
	rounds = (unsigned)test_scale(IOMMU_ARRAY_SIZE(mapped));
	for (k = 0; k < IOMMU_ARRAY_SIZE(ias); k++) {
		pt_fixture_init(&fx, ias[k], 40);
		span = 1ULL << ias[k];
		for (n = 0; n < rounds; n++) {
			/* Cluster half the pages so tables are shared. */
			if (n == 0)
				iova = 0;
			else if (n & 1)
				iova = test_rng_below(&rng, span) &
				    ~IOMMU_PAGE_MASK;
			else
				iova = (mapped[n / 2] ^
					   (test_rng_below(&rng, 64) << 12)) &
				    (span - 1);
			mapped[n] = iova;
			(void)iommu_pt_enter(fx.fx_pt, iova,
			    test_rng_below(&rng, 1ULL << 28) << 12,
			    1 + (unsigned)test_rng_below(&rng, 3),
			    (unsigned)test_rng_below(&rng, 3), 0);
		}
		for (i = 0; i < rounds; i++) {
			assert_walker_agrees(&fx, mapped[i]);
			assert_walker_agrees(&fx, mapped[i] + 0xfff);
			assert_walker_agrees(
			    &fx, (mapped[i] + 0x1000) & (span - 1));
			assert_walker_agrees(&fx, test_rng_below(&rng, span));
		}
		/* Unmap a third and look again. */
		for (i = 0; i < rounds; i += 3)
			(void)iommu_pt_remove(fx.fx_pt, mapped[i]);
		for (i = 0; i < rounds; i++)
			assert_walker_agrees(&fx, mapped[i] + 0x10);
		pt_fixture_fini(&fx);
	}
}

/*
 * The Linux io-pgtable self-test list, for the 4 KiB granule, over input
 * and output sizes (ias <= 39 gives three levels).
 */
static void
run_selftest(unsigned ias, unsigned oas)
{
	struct pt_fixture     fx;
	struct pt_walk_result wr;
	struct iommu_pt_stats st;
	uint64_t	      iova, pa, xpa, top, pa_top, n, i, tlb0;
	unsigned	      xprot;

	pt_fixture_init(&fx, ias, oas);
	top = 1ULL << ias;
	pa_top = 1ULL << (oas > 48 ? 48 : oas);
	n = top / GIB < 16 ? top / GIB : 16;

	/* Empty tables translate nothing. */
	for (iova = 0; iova < top; iova += top / 8) {
		assert_int_equal(
		    iommu_pt_extract(fx.fx_pt, iova, &xpa, NULL), ENOENT);
		assert_int_equal(
		    pt_walker_translate(&fx.fx_mem, iommu_pt_root_pa(fx.fx_pt),
			ias, oas, iova, &wr),
		    PT_WALK_TRANSLATION);
		assert_int_equal(wr.pw_level, pt_walker_start_level(ias));
		assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), ENOENT);
	}

	/* Pages at 1 GiB-spaced IOVAs, each mapped to a distinct PA. */
	for (i = 0; i < n; i++) {
		iova = i * GIB;
		pa = (pa_top - (i + 1) * 0x200000ULL) | (i << 12);
		assert_int_equal(
		    iommu_pt_enter(fx.fx_pt, iova, pa,
			IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_WB, 0),
		    0);
		/* Overlapping enter fails and changes nothing. */
		assert_int_equal(iommu_pt_enter(fx.fx_pt, iova, 0x1000,
				     IOMMU_PROT_READ, IOMMU_CACHE_NC, 0),
		    EEXIST);
		assert_int_equal(
		    iommu_pt_extract(fx.fx_pt, iova + 42, &xpa, &xprot), 0);
		assert_int_equal(xpa, pa + 42);
		assert_int_equal(xprot, IOMMU_PROT_READ | IOMMU_PROT_WRITE);
		assert_walker_agrees(&fx, iova + 42);
		/* Neighbours stay unmapped. */
		assert_int_equal(iommu_pt_extract(fx.fx_pt,
				     iova + IOMMU_PAGE_SIZE, &xpa, NULL),
		    ENOENT);
		assert_walker_agrees(&fx, iova + IOMMU_PAGE_SIZE);
	}
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, n);
	assert_int_equal(st.pts_levels[3], n);
	assert_int_equal(st.pts_levels[2], n);

	/* Full unmap: every page goes, with one TLB hook call each. */
	tlb0 = fx.fx_tlb_pages;
	for (i = 0; i < n; i++) {
		iova = i * GIB;
		assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), 0);
		assert_int_equal(fx.fx_tlb_last_iova, iova);
		assert_int_equal(fx.fx_tlb_last_granule, IOMMU_PAGE_SIZE);
		assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), ENOENT);
		assert_int_equal(
		    iommu_pt_extract(fx.fx_pt, iova, &xpa, NULL), ENOENT);
		assert_int_equal(
		    pt_walker_translate(&fx.fx_mem, iommu_pt_root_pa(fx.fx_pt),
			ias, oas, iova, &wr),
		    PT_WALK_TRANSLATION);
		assert_int_equal(wr.pw_level, 3); /* levels stay */
	}
	assert_int_equal(fx.fx_tlb_pages - tlb0, n);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 0);
	assert_int_equal(st.pts_levels[3], n);

	/* Remap, with another cache mode, without new levels. */
	for (i = 0; i < n; i++) {
		iova = i * GIB;
		assert_int_equal(iommu_pt_enter(fx.fx_pt, iova, i << 12,
				     IOMMU_PROT_READ, IOMMU_CACHE_DEV, 0),
		    0);
		assert_walker_agrees(&fx, iova);
	}
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_levels[3], n);

	/* The last page below the top of the input range. */
	iova = top - IOMMU_PAGE_SIZE;
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, iova, pa_top - IOMMU_PAGE_SIZE,
		IOMMU_PROT_WRITE, IOMMU_CACHE_NC, 0),
	    0);
	assert_int_equal(iommu_pt_extract(fx.fx_pt, top - 1, &xpa, NULL), 0);
	assert_int_equal(xpa, pa_top - 1);
	assert_walker_agrees(&fx, top - 1);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, top, 0, IOMMU_PROT_READ,
			     IOMMU_CACHE_WB, 0),
	    ERANGE);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x5000, pa_top,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    ERANGE);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, iova), 0);
	assert_int_equal(
	    iommu_pt_extract(fx.fx_pt, top - 1, &xpa, NULL), ENOENT);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	/* Teardown with pages still mapped returns everything (fini). */
	pt_fixture_fini(&fx);
}

static void
selftest_matrix(void **state)
{
	static const unsigned sizes[] = {32, 36, 39, 40, 42, 44, 48};
	unsigned	      i, j;

	(void)state;
	for (i = 0; i < IOMMU_ARRAY_SIZE(sizes); i++)
		for (j = 0; j < IOMMU_ARRAY_SIZE(sizes); j++)
			if (sizes[i] <= sizes[j])
				run_selftest(sizes[i], sizes[j]);
	run_selftest(48, 52);
}

static void
bad_arguments_are_refused(void **state)
{
	struct pt_fixture     fx;
	struct pt_snapshot    before, after;
	struct iommu_pt_stats st;
	uint64_t	      xpa;

	(void)state;
	pt_fixture_init(&fx, 40, 40);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x1000, 0x2000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    0);
	pt_snapshot_take(&fx, &before);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x1800, 0x2000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    EINVAL);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x3000, 0x2010,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, 0x3000, 0x2000, 0, IOMMU_CACHE_WB, 0),
	    EINVAL);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x3000, 0x2000,
			     0x4 | IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, 0x3000, 0x2000, IOMMU_PROT_READ, 3, 0),
	    EINVAL);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x3000, 0x2000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0x80),
	    EINVAL);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 1ULL << 40, 0x2000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    ERANGE);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, ~0xfffULL, 0x2000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    ERANGE);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x3000, 1ULL << 40,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    ERANGE);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, 0x1008), EINVAL);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, 1ULL << 40), ERANGE);
	assert_int_equal(
	    iommu_pt_extract(fx.fx_pt, 1ULL << 40 | 0x1000, &xpa, NULL),
	    ENOENT);
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, 0, 0), EINVAL);
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, ~0ULL - 10, 20), EINVAL);
	assert_int_equal(
	    iommu_pt_prepare(fx.fx_pt, (1ULL << 40) - 4096, 8192), ERANGE);
	/* Nothing reached the table, and no TLB hook fired. */
	pt_snapshot_take(&fx, &after);
	pt_snapshot_assert_equal(&before, &after);
	assert_int_equal(fx.fx_tlb_pages, 0);
	/* extract with NULL outputs. */
	assert_int_equal(iommu_pt_extract(fx.fx_pt, 0x1000, NULL, NULL), 0);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 1);
	pt_fixture_fini(&fx);
}

/*
 * Enters iova with every allocation failing in turn: the PTED pool at its
 * hard limit, the VP pool at its hard limit after m levels, the frame
 * allocator at its n-th call.  Each failure must be ENOMEM with the
 * tables, pools and frames exactly as before; then the enter succeeds.
 */
static void
enomem_at_every_allocation_for(struct pt_fixture *fx, uint64_t iova)
{
	struct pt_snapshot	before, after;
	struct iommu_pool_stats ps;
	uint64_t		n;
	int			error;

	/* Cached items would satisfy a get despite the limit. */
	assert_int_equal(iommu_pool_cache_flush(fx->fx_pted_pool), 0);
	pt_snapshot_take(fx, &before);

	assert_int_equal(iommu_pool_sethardlimit(
			     fx->fx_pted_pool, (size_t)before.sn_pteds_out),
	    0);
	assert_int_equal(iommu_pt_enter(fx->fx_pt, iova, 0x7000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    ENOMEM);
	pt_snapshot_take(fx, &after);
	pt_snapshot_assert_equal(&before, &after);
	assert_int_equal(
	    iommu_pool_sethardlimit(fx->fx_pted_pool, SIZE_MAX), 0);

	for (n = 0;; n++) {
		assert_int_equal(iommu_pool_sethardlimit(fx->fx_vp_pool,
				     (size_t)(before.sn_vps_out + n)),
		    0);
		error = iommu_pt_enter(fx->fx_pt, iova, 0x7000, IOMMU_PROT_READ,
		    IOMMU_CACHE_WB, 0);
		assert_int_equal(
		    iommu_pool_sethardlimit(fx->fx_vp_pool, SIZE_MAX), 0);
		if (error == 0)
			break;
		assert_int_equal(error, ENOMEM);
		assert_true(n < 3);
		pt_snapshot_take(fx, &after);
		pt_snapshot_assert_equal(&before, &after);
	}
	assert_int_equal(iommu_pt_remove(fx->fx_pt, iova), 0);
	iommu_pool_get_stats(fx->fx_vp_pool, &ps);
	assert_int_equal(ps.pst_items_out, before.sn_vps_out + n);
	/* n levels were needed; start again from the same state. */
	pt_fixture_fini(fx);
}

struct enomem_case {
	unsigned ias;
	uint64_t existing; /* mapped first */
	uint64_t iova;	   /* then entered under fault injection */
	unsigned levels;   /* new levels it needs */
};

static void
setup_case(struct pt_fixture *fx, const struct enomem_case *c)
{
	pt_fixture_init(fx, c->ias, 40);
	assert_int_equal(iommu_pt_enter(fx->fx_pt, c->existing, 0x3000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    0);
}

static void
enomem_leaves_everything_as_before(void **state)
{
	static const struct enomem_case cases[] = {
	    {48, 0, 1ULL << 39, 3}, /* new L1, L2, L3 */
	    {48, 0, 1ULL << 30, 2}, /* new L2, L3 */
	    {48, 0, 1ULL << 21, 1}, /* new L3 */
	    {48, 0, 0x5000, 0},	    /* PTED only */
	    {39, 0, 1ULL << 30, 2}, /* 3 levels: new L2, L3 */
	    {39, 0, 1ULL << 21, 1},
	    {32, 0, 3ULL << 30, 2},
	    {40, 0, (1ULL << 40) - 4096, 3},
	};
	struct pt_fixture     fx;
	struct pt_snapshot    before, after;
	struct iommu_pt_stats st;
	unsigned	      i;
	uint64_t	      n;
	int		      error;

	(void)state;
	for (i = 0; i < IOMMU_ARRAY_SIZE(cases); i++) {
		/* Pool limits at every level. */
		setup_case(&fx, &cases[i]);
		enomem_at_every_allocation_for(&fx, cases[i].iova);

		/* The frame allocator failing at its n-th call, every n. */
		for (n = 1;; n++) {
			setup_case(&fx, &cases[i]);
			pt_snapshot_take(&fx, &before);
			iommu_physmem_fail_alloc_after(fx.fx_pm, n);
			error = iommu_pt_enter(fx.fx_pt, cases[i].iova, 0x9000,
			    IOMMU_PROT_READ, IOMMU_CACHE_WB, 0);
			iommu_physmem_fail_alloc_after(fx.fx_pm, 0);
			if (error == 0) {
				assert_int_equal(n, cases[i].levels + 1);
				iommu_pt_get_stats(fx.fx_pt, &st);
				assert_int_equal(st.pts_level_allocs,
				    before.sn_stats.pts_level_allocs +
					cases[i].levels);
				pt_fixture_fini(&fx);
				break;
			}
			assert_int_equal(error, ENOMEM);
			pt_snapshot_take(&fx, &after);
			pt_snapshot_assert_equal(&before, &after);
			pt_fixture_fini(&fx);
		}
	}
}

/*
 * The pools' backing allocator failing at its n-th call, for every n up
 * to the number of calls the run makes, while a run of enters needs fresh
 * pool pages.  The pool may absorb a failure (a per-thread cache it could
 * not set up); an enter that does fail is ENOMEM and leaves everything as
 * it was before that enter.
 */
static void
pool_page_allocation_failure_at_every_call(void **state)
{
	struct test_counting_alloc tc;
	struct pt_fixture	   fx;
	struct pt_snapshot	   before, after;
	unsigned long		   n, enomem = 0, failures;
	uint64_t		   k;
	int			   error = 0;

	(void)state;
	for (n = 1;; n++) {
		test_counting_alloc_init(&tc);
		pt_fixture_init_with(&fx, 48, 48, &tc.tc_ops);
		test_counting_alloc_fail_after(&tc, n, 0);
		for (k = 0; k < 12; k++) {
			pt_snapshot_take(&fx, &before);
			/* Each page in its own L0 slot: three new levels. */
			error = iommu_pt_enter(fx.fx_pt, k << 39, k << 12,
			    IOMMU_PROT_READ, IOMMU_CACHE_NC, 0);
			if (error != 0)
				break;
		}
		if (error != 0) {
			assert_int_equal(error, ENOMEM);
			pt_snapshot_take(&fx, &after);
			pt_snapshot_assert_equal(&before, &after);
			enomem++;
		}
		failures = tc.tc_failures;
		pt_fixture_fini(&fx);
		assert_int_equal(tc.tc_live_blocks, 0);
		if (failures == 0)
			break; /* n is past the run's last allocation */
		assert_true(n < 1000);
	}
	assert_true(enomem >= 5); /* the VP pool needed five more pages */
}

/* create: ENOMEM from each of its allocations, nothing leaked. */
static void
create_fails_cleanly(void **state)
{
	struct test_counting_alloc tc;
	struct pt_fixture	   fx;
	struct iommu_pt_cfg	   cfg;
	struct iommu_pt		  *pt = NULL;
	struct iommu_physmem_stats ps;

	(void)state;
	pt_fixture_init(&fx, 40, 40);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ptc_ias = 40;
	cfg.ptc_oas = 40;
	cfg.ptc_physmem = fx.fx_pm;
	cfg.ptc_pted_pool = fx.fx_pted_pool;
	cfg.ptc_vp_pool = fx.fx_vp_pool;

	test_counting_alloc_init(&tc);
	test_counting_alloc_fail_after(&tc, 1, 1);
	cfg.ptc_alloc = &tc.tc_ops;
	assert_int_equal(iommu_pt_create(&cfg, &pt), ENOMEM);
	assert_int_equal(tc.tc_live_blocks, 0);
	cfg.ptc_alloc = NULL;

	iommu_physmem_fail_alloc_after(fx.fx_pm, 1);
	assert_int_equal(iommu_pt_create(&cfg, &pt), ENOMEM);

	assert_int_equal(iommu_pool_sethardlimit(fx.fx_vp_pool, 1), 0);
	assert_int_equal(iommu_pt_create(&cfg, &pt), ENOMEM);
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_vp_pool, SIZE_MAX), 0);
	assert_null(pt);
	iommu_physmem_get_stats(fx.fx_pm, &ps);
	assert_int_equal(ps.ps_frames_in_use, 1); /* the fixture's root */
	pt_fixture_fini(&fx);
}

static void
prepare_then_enter_allocates_no_level(void **state)
{
	struct pt_fixture     fx;
	struct pt_snapshot    before, after;
	struct iommu_pt_stats st;
	uint64_t	      base = 0x7fffe00000ULL, len = 6 * MIB, va;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	/* An unprepared page with NOLEVELALLOC is ENOMEM, nothing changed. */
	pt_snapshot_take(&fx, &before);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, base, 0x1000, IOMMU_PROT_READ,
			     IOMMU_CACHE_WB, IOMMU_PT_NOLEVELALLOC),
	    ENOMEM);
	pt_snapshot_take(&fx, &after);
	pt_snapshot_assert_equal(&before, &after);

	/* 6 MiB from a 2 MiB boundary below 512 GiB: crosses L0 slots. */
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, base + 0x3000, len), 0);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_levels[0], 1);
	assert_int_equal(st.pts_levels[1], 2);
	assert_int_equal(st.pts_levels[2], 2);
	assert_int_equal(st.pts_levels[3], 4);
	assert_int_equal(st.pts_pteds, 0);
	/* Preparing again allocates nothing. */
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, base, len + 0x3000), 0);
	pt_snapshot_take(&fx, &before);
	assert_int_equal(before.sn_stats.pts_level_allocs, 9);

	/* With the VP pool and the frame allocator shut, enters still work. */
	assert_int_equal(
	    iommu_pool_sethardlimit(fx.fx_vp_pool, (size_t)before.sn_vps_out),
	    0);
	iommu_physmem_fail_alloc_after(fx.fx_pm, 1);
	for (va = base + 0x3000; va < base + 0x3000 + len;
	     va += 64 * IOMMU_PAGE_SIZE)
		assert_int_equal(
		    iommu_pt_enter(fx.fx_pt, va, va & 0xffffff000ULL,
			IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_WB,
			IOMMU_PT_NOLEVELALLOC),
		    0);
	iommu_physmem_fail_alloc_after(fx.fx_pm, 0);
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_vp_pool, SIZE_MAX), 0);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_level_allocs, 9);
	assert_int_equal(st.pts_pteds, len / (64 * IOMMU_PAGE_SIZE));
	for (va = base; va < base + len + 0x3000; va += 0x3000)
		assert_walker_agrees(&fx, va);
	pt_fixture_fini(&fx);
}

static void
validator_detects_corruption(void **state)
{
	struct pt_fixture     fx;
	struct pt_walk_result wr;
	uint64_t	      root, d, l3pa, slot;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, 0x200000, 0x5000,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    0);
	root = iommu_pt_root_pa(fx.fx_pt);
	assert_int_equal(
	    pt_walker_translate(&fx.fx_mem, root, 48, 48, 0x200000, &wr),
	    PT_WALK_OK);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* A stray valid descriptor where the host side has no child. */
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, root + 8 * 5, 3), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, root + 8 * 5, 0), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* A page descriptor that differs from its PTED. */
	l3pa = wr.pw_table_desc[2] & 0x0000fffffffff000ULL;
	slot = l3pa + 8 * ((0x200000 >> 12) & 511);
	assert_int_equal(iommu_physmem_read64(fx.fx_pm, slot, &d), 0);
	assert_int_equal(d, wr.pw_desc);
	assert_int_equal(
	    iommu_physmem_write64(fx.fx_pm, slot, d ^ (1 << 7)), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	/* A cleared one (mapped in software, invalid for the walker). */
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, slot, 0), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, slot, d), 0);
	/* A table descriptor turned into a block. */
	d = wr.pw_table_desc[0];
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, root, d & ~2ULL), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, root, d), 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	pt_fixture_fini(&fx);
}

static void
teardown_returns_every_level_and_pted(void **state)
{
	struct pt_fixture     fx;
	struct iommu_pt_stats st;
	struct test_rng	      rng;
	unsigned long	      i, n = test_scale(2000), ok = 0;
	uint64_t	      levels;

	(void)state;
	test_rng_seed(&rng, 7);
	pt_fixture_init(&fx, 48, 48);
	for (i = 0; i < n; i++)
		if (iommu_pt_enter(fx.fx_pt,
			test_rng_below(&rng, 1ULL << 36) << 12, i << 12,
			IOMMU_PROT_READ, IOMMU_CACHE_WB, 0) == 0)
			ok++;
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, ok);
	levels = st.pts_levels[0] + st.pts_levels[1] + st.pts_levels[2] +
	    st.pts_levels[3];
	assert_int_equal(levels, st.pts_level_allocs);
	assert_true(levels > 3 * ok / 2); /* sparse: mostly private levels */
	/* fini destroys with everything mapped and checks the accounting. */
	pt_fixture_fini(&fx);
}

/*
 * Range enter/remove match npages single calls: the same descriptors,
 * PTED counts and TLB notes, across level-3 tables; a failing page stops
 * the range with its error and reports how far it got.
 */
static void
range_ops_match_single_pages(void **state)
{
	struct pt_fixture	fx;
	struct pt_snapshot	s0, s1;
	struct iommu_pool_stats ps;
	const uint64_t		n = 700, base = 0x200000 - 5 * 0x1000;
	const uint64_t		pa0 = 0x123456000ULL;
	uint64_t		i, done, pa;
	unsigned		prot;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base, pa0, n,
			     IOMMU_PROT_WRITE, IOMMU_CACHE_WB, 0, &done),
	    0);
	assert_int_equal(done, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		    iommu_pt_extract(fx.fx_pt, base + i * 0x1000, &pa, &prot),
		    0);
		assert_int_equal(pa, pa0 + i * 0x1000);
		assert_int_equal(prot, IOMMU_PROT_READ | IOMMU_PROT_WRITE);
	}
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, n);
	pt_snapshot_take(&fx, &s0);
	assert_int_equal(iommu_pt_remove_range(fx.fx_pt, base, n, &done), 0);
	assert_int_equal(done, n);
	assert_int_equal(fx.fx_tlb_pages, n);
	assert_int_equal(fx.fx_tlb_last_iova, base + (n - 1) * 0x1000);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 0);
	/* The same pages one by one give the same tables. */
	for (i = 0; i < n; i++)
		assert_int_equal(
		    iommu_pt_enter(fx.fx_pt, base + i * 0x1000,
			pa0 + i * 0x1000, IOMMU_PROT_WRITE, IOMMU_CACHE_WB, 0),
		    0);
	pt_snapshot_take(&fx, &s1);
	assert_int_equal(s0.sn_digest, s1.sn_digest);
	assert_int_equal(s0.sn_ndesc, s1.sn_ndesc);

	/* A page in the way: EEXIST at it, the ones before stay. */
	for (i = 0; i < n; i++)
		assert_int_equal(
		    iommu_pt_remove(fx.fx_pt, base + i * 0x1000), 0);
	assert_int_equal(iommu_pt_enter(fx.fx_pt, base + 40 * 0x1000, pa0,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
	    0);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base, pa0, 100,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0, &done),
	    EEXIST);
	assert_int_equal(done, 40);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 41); /* no PTED left over */
	/* A hole: ENOENT at it, the ones before removed. */
	assert_int_equal(iommu_pt_remove(fx.fx_pt, base + 20 * 0x1000), 0);
	assert_int_equal(
	    iommu_pt_remove_range(fx.fx_pt, base, 41, &done), ENOENT);
	assert_int_equal(done, 20);
	assert_int_equal(
	    iommu_pt_remove_range(fx.fx_pt, base + 21 * 0x1000, 20, &done), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 0);

	/* No PTED to be had mid-range: ENOMEM, nothing lost. */
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_pted_pool, 25), 0);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base, pa0, 30,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0, &done),
	    ENOMEM);
	assert_true(done <= 25);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, done);
	assert_int_equal(iommu_pt_remove_range(fx.fx_pt, base, done, &done), 0);
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_pted_pool, SIZE_MAX), 0);
	/* Unprepared levels with NOLEVELALLOC; bad arguments. */
	assert_int_equal(
	    iommu_pt_enter_range(fx.fx_pt, 1ULL << 40, pa0, 2, IOMMU_PROT_READ,
		IOMMU_CACHE_WB, IOMMU_PT_NOLEVELALLOC, &done),
	    ENOMEM);
	assert_int_equal(done, 0);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base + 1, pa0, 2,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0, NULL),
	    EINVAL);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base, pa0, 0,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0, NULL),
	    EINVAL);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, (1ULL << 48) - 0x1000,
			     pa0, 2, IOMMU_PROT_READ, IOMMU_CACHE_WB, 0, NULL),
	    ERANGE);
	assert_int_equal(
	    iommu_pt_remove_range(fx.fx_pt, (1ULL << 48) - 0x1000, 2, NULL),
	    ERANGE);
	assert_int_equal(
	    iommu_pt_remove_range(fx.fx_pt, base, 1, NULL), ENOENT);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	pt_fixture_fini(&fx);
}

/* Parked PTEDs: a prepared range maps and unmaps without the pool. */
static void
parked_pteds_map_without_the_pool(void **state)
{
	struct pt_fixture	fx;
	struct iommu_pool_stats p0, p1;
	struct iommu_pt_stats	st;
	const uint64_t		base = 0x200000 - 3 * 0x1000, n = 8;
	uint64_t		i, done, pa;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, base + 1, 0x1000), EINVAL);
	assert_int_equal(iommu_pt_prepare_pteds(fx.fx_pt, base, n * 0x1000), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p0);
	assert_int_equal(p0.pst_items_out, n);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 0); /* parked is not mapped */
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(iommu_pt_extract(fx.fx_pt, base, &pa, NULL), ENOENT);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, base), ENOENT);
	for (int round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++)
			assert_int_equal(
			    iommu_pt_enter(fx.fx_pt, base + i * 0x1000,
				0x90000000 + i * 0x1000, IOMMU_PROT_READ,
				IOMMU_CACHE_WB, 0),
			    0);
		assert_int_equal(
		    iommu_pt_enter_range(fx.fx_pt, base + 4 * 0x1000,
			0xa0000000, 4, IOMMU_PROT_WRITE, IOMMU_CACHE_WB, 0,
			&done),
		    0);
		/* mapped: entering again is EEXIST, parked or not */
		assert_int_equal(iommu_pt_enter(fx.fx_pt, base, 0x90000000,
				     IOMMU_PROT_READ, IOMMU_CACHE_WB, 0),
		    EEXIST);
		assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
		iommu_pt_get_stats(fx.fx_pt, &st);
		assert_int_equal(st.pts_pteds, n);
		assert_int_equal(iommu_pt_extract(fx.fx_pt,
				     base + 5 * 0x1000 + 7, &pa, NULL),
		    0);
		assert_int_equal(pa, 0xa0001007);
		assert_int_equal(
		    iommu_pt_unprepare(fx.fx_pt, base, n * 0x1000), EBUSY);
		for (i = 0; i < 4; i++)
			assert_int_equal(
			    iommu_pt_remove(fx.fx_pt, base + i * 0x1000), 0);
		assert_int_equal(iommu_pt_remove_range(
				     fx.fx_pt, base + 4 * 0x1000, 4, &done),
		    0);
		assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	}
	/* The pool saw none of it. */
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_gets, p0.pst_gets);
	assert_int_equal(p1.pst_puts, p0.pst_puts);
	assert_int_equal(fx.fx_tlb_pages, 3 * n);
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, base, n * 0x1000), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_items_out, 0);
	/* No PTED for the 3rd page: the first two go back. */
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_pted_pool, 2), 0);
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, base, 4 * 0x1000), ENOMEM);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_items_out, 0);
	assert_int_equal(iommu_pool_sethardlimit(fx.fx_pted_pool, SIZE_MAX), 0);
	/* Destroy frees parked PTEDs too (the fixture checks the pool). */
	assert_int_equal(iommu_pt_prepare_pteds(fx.fx_pt, base, 0x3000), 0);
	pt_fixture_fini(&fx);
}

/*
 * Owned spans (iommu_pt_span, _fill, _clear) over one prepared window of
 * SPAN_N pages that ends 5 pages before its level-3 table does.
 */
#define PG	  ((uint64_t)IOMMU_PAGE_SIZE)
#define SPAN_N	  40
#define SPAN_BASE (0x400000 - (SPAN_N + 5) * PG)
#define RW	  (IOMMU_PROT_READ | IOMMU_PROT_WRITE)

/* Starts keeping the IOVA of every tlb_add_page call in log[0 .. cap). */
static void
tlb_log_start(struct pt_fixture *fx, uint64_t *log, uint64_t cap)
{
	fx->fx_tlb_log = log;
	fx->fx_tlb_log_cap = cap;
	atomic_store(&fx->fx_tlb_log_n, 0);
}

/* iova translates to pa (walker and extract) with prot's descriptor. */
static void
assert_page_maps(struct pt_fixture *fx, uint64_t iova, uint64_t pa,
    unsigned prot, unsigned cache)
{
	struct pt_walk_result wr;
	uint64_t	      xpa;
	unsigned	      xprot;

	assert_int_equal(
	    iommu_pt_extract(fx->fx_pt, iova + 0x123, &xpa, &xprot), 0);
	assert_int_equal(xpa, pa + 0x123);
	assert_int_equal(xprot, prot == IOMMU_PROT_READ ? IOMMU_PROT_READ : RW);
	assert_int_equal(
	    pt_walker_translate(&fx->fx_mem, iommu_pt_root_pa(fx->fx_pt),
		fx->fx_ias, fx->fx_oas, iova, &wr),
	    PT_WALK_OK);
	check_page_desc(wr.pw_desc, pa, prot, cache);
}

static void
assert_page_unmapped(struct pt_fixture *fx, uint64_t iova)
{
	struct pt_walk_result wr;

	assert_int_equal(iommu_pt_extract(fx->fx_pt, iova, NULL, NULL), ENOENT);
	assert_int_not_equal(
	    pt_walker_translate(&fx->fx_mem, iommu_pt_root_pa(fx->fx_pt),
		fx->fx_ias, fx->fx_oas, iova, &wr),
	    PT_WALK_OK);
}

/* The prepared window's span (asserts). */
static void
span_window(struct pt_fixture *fx, struct iommu_pt_span *s)
{
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx->fx_pt, SPAN_BASE, SPAN_N * PG), 0);
	assert_int_equal(iommu_pt_span(fx->fx_pt, SPAN_BASE, SPAN_N, s), 0);
}

static void
spans_are_handed_out_for_parked_pteds_only(void **state)
{
	struct pt_fixture    fx;
	struct pt_snapshot   before, after;
	struct iommu_pt_span s, t;
	const uint64_t	     x = SPAN_BASE + 7 * PG, end = 0x400000;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	/* Not prepared: no level-3 table, then a table but no PTED. */
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 1, &s), ENOENT);
	assert_int_equal(iommu_pt_prepare(fx.fx_pt, SPAN_BASE, SPAN_N * PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 1, &s), ENOENT);
	/* x entered before prepare_pteds keeps its pool PTED: not parked. */
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, x, 0x5000, IOMMU_PROT_READ, 0, 0), 0);
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, SPAN_BASE, SPAN_N * PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, x, 1, &s), ENOENT);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE, SPAN_N, &s), ENOENT);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 7, &s), 0);
	/* Two spans of one table are as far apart as their first pages. */
	assert_int_equal(iommu_pt_span(fx.fx_pt, x + PG, SPAN_N - 8, &t), 0);
	assert_ptr_equal(t.ps_desc, s.ps_desc + 8);
	/* Removed, x's slot is empty: still no span. */
	assert_int_equal(iommu_pt_remove(fx.fx_pt, x), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, x, 1, &t), ENOENT);
	/* Parked now: the whole window has a span, the same one again. */
	assert_int_equal(iommu_pt_prepare_pteds(fx.fx_pt, x, PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, x, 1, &t), 0);
	assert_ptr_equal(t.ps_desc, s.ps_desc + 7);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, SPAN_N, &t), 0);
	assert_ptr_equal(t.ps_desc, s.ps_desc);
	/* Handing out maps nothing. */
	for (unsigned i = 0; i < SPAN_N; i++)
		assert_page_unmapped(&fx, SPAN_BASE + i * PG);
	/* Just outside the window (its level-3 table exists). */
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE, SPAN_N + 1, &t), ENOENT);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE - PG, 2, &t), ENOENT);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE + SPAN_N * PG, 1, &t), ENOENT);
	/* Parked on both sides of a level-3 line: a span per side only. */
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, end - 2 * PG, 4 * PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, end - 2 * PG, 4, &t), EXDEV);
	assert_int_equal(iommu_pt_span(fx.fx_pt, end - PG, 2, &t), EXDEV);
	assert_int_equal(iommu_pt_span(fx.fx_pt, end - 2 * PG, 2, &t), 0);
	assert_ptr_equal(t.ps_desc, s.ps_desc + SPAN_N + 3);
	assert_int_equal(iommu_pt_span(fx.fx_pt, end, 2, &t), 0);
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, end - 2 * PG, 4 * PG), 0);

	/* Bad arguments change nothing. */
	pt_snapshot_take(&fx, &before);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE + 8, 1, &t), EINVAL);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 0, &t), EINVAL);
	assert_int_equal(iommu_pt_span(NULL, SPAN_BASE, 1, &t), EINVAL);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 1, NULL), EINVAL);
	assert_int_equal(iommu_pt_span(fx.fx_pt, ~0xfffULL, 2, &t), EINVAL);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE, UINT64_MAX, &t), EINVAL);
	assert_int_equal(iommu_pt_span(fx.fx_pt, ~0xfffULL, 1, &t), ERANGE);
	assert_int_equal(iommu_pt_span(fx.fx_pt, 1ULL << 48, 1, &t), ERANGE);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, (1ULL << 48) - PG, 2, &t), ERANGE);
	pt_snapshot_take(&fx, &after);
	pt_snapshot_assert_equal(&before, &after);
	/* Unprepared: the PTEDs went back, no span. */
	assert_int_equal(
	    iommu_pt_unprepare(fx.fx_pt, SPAN_BASE, SPAN_N * PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 1, &t), ENOENT);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	pt_fixture_fini(&fx);
}

/*
 * Runs out of page order, apart from each other: 22 pages, the rest of
 * the window left empty.
 */
static const struct iommu_pt_run fill_runs[] = {
    {30, 0x0abc000000ULL, 6},
    {0, 0x0123456000ULL, 1},
    {2, 0x00ffff8000ULL, 6},
    {12, 0x0fedcb0000ULL, 9},
};
#define FILL_PAGES 22

/* The PA fill_runs put at page i (pa_off added), or 1 if none. */
static uint64_t
fill_pa(unsigned i, uint64_t pa_off)
{
	unsigned r;

	for (r = 0; r < IOMMU_ARRAY_SIZE(fill_runs); r++)
		if (i >= fill_runs[r].pr_first &&
		    i - fill_runs[r].pr_first < fill_runs[r].pr_npages)
			return fill_runs[r].pr_pa + pa_off +
			    (i - fill_runs[r].pr_first) * PG;
	return 1;
}

/* fill_runs with pa_off added to every run's PA. */
static void
shifted_runs(struct iommu_pt_run *runs, uint64_t pa_off)
{
	unsigned r;

	for (r = 0; r < IOMMU_ARRAY_SIZE(fill_runs); r++) {
		runs[r] = fill_runs[r];
		runs[r].pr_pa += pa_off;
	}
}

/* Clears fill_runs' pages run by run (asserts). */
static void
clear_fill_runs(struct pt_fixture *fx, const struct iommu_pt_span *s)
{
	uint64_t done;
	unsigned r;

	for (r = 0; r < IOMMU_ARRAY_SIZE(fill_runs); r++) {
		assert_int_equal(
		    iommu_pt_span_clear(fx->fx_pt, s, fill_runs[r].pr_first,
			SPAN_BASE + fill_runs[r].pr_first * PG,
			fill_runs[r].pr_npages, 0, &done),
		    0);
		assert_int_equal(done, fill_runs[r].pr_npages);
	}
}

/*
 * Each run lands at its pages with its PA, for every protection and cache
 * mode, with the descriptor iommu_pt_enter writes, and without the pool.
 */
static void
span_fill_maps_each_run_at_its_pages(void **state)
{
	static const unsigned prots[] = {IOMMU_PROT_READ, IOMMU_PROT_WRITE, RW};
	static const unsigned ias[] = {39, 48};
	struct pt_fixture     fx;
	struct pt_snapshot    filled, entered;
	struct iommu_pool_stats p0, p1;
	struct iommu_pt_span	s;
	struct iommu_pt_run	runs[IOMMU_ARRAY_SIZE(fill_runs)];
	struct iommu_pt_stats	st;
	uint64_t		done, off, pa;
	unsigned		k, p, c, i, n = 0;

	(void)state;
	for (k = 0; k < IOMMU_ARRAY_SIZE(ias); k++) {
		pt_fixture_init(&fx, ias[k], 48);
		span_window(&fx, &s);
		iommu_pool_get_stats(fx.fx_pted_pool, &p0);
		for (p = 0; p < IOMMU_ARRAY_SIZE(prots); p++) {
			for (c = IOMMU_CACHE_WB; c <= IOMMU_CACHE_DEV; c++) {
				off = (uint64_t)n++ << 32;
				shifted_runs(runs, off);
				done = 99;
				assert_int_equal(
				    iommu_pt_span_fill(fx.fx_pt, &s, runs,
					IOMMU_ARRAY_SIZE(runs), prots[p], c,
					&done),
				    0);
				assert_int_equal(done, FILL_PAGES);
				for (i = 0; i < SPAN_N; i++) {
					pa = fill_pa(i, off);
					if (pa == 1)
						assert_page_unmapped(
						    &fx, SPAN_BASE + i * PG);
					else
						assert_page_maps(&fx,
						    SPAN_BASE + i * PG, pa,
						    prots[p], c);
				}
				iommu_pt_get_stats(fx.fx_pt, &st);
				assert_int_equal(st.pts_pteds, FILL_PAGES);
				pt_snapshot_take(&fx, &filled); /* validates */
				clear_fill_runs(&fx, &s);
				/* What single enters of the pages write. */
				for (i = 0; i < SPAN_N; i++) {
					pa = fill_pa(i, off);
					if (pa != 1)
						assert_int_equal(
						    iommu_pt_enter(fx.fx_pt,
							SPAN_BASE + i * PG, pa,
							prots[p], c, 0),
						    0);
				}
				pt_snapshot_take(&fx, &entered);
				pt_snapshot_assert_equal(&filled, &entered);
				clear_fill_runs(&fx, &s);
				assert_int_equal(
				    iommu_pt_validate(fx.fx_pt), 0);
			}
		}
		/* NULL entered is fine. */
		assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, fill_runs, 1,
				     IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
		    0);
		assert_page_maps(&fx, SPAN_BASE + 30 * PG, fill_runs[0].pr_pa,
		    IOMMU_PROT_READ, IOMMU_CACHE_WB);
		/* The pool saw none of it. */
		iommu_pool_get_stats(fx.fx_pted_pool, &p1);
		assert_int_equal(p1.pst_gets, p0.pst_gets);
		assert_int_equal(p1.pst_puts, p0.pst_puts);
		pt_fixture_fini(&fx);
	}
}

/* A page mapped already stops the fill there; the pages before stay. */
static void
span_fill_stops_at_a_mapped_page(void **state)
{
	struct pt_fixture    fx;
	struct iommu_pt_span s;
	struct iommu_pt_run  runs[2];
	const uint64_t	     pa = 0x77000000ULL;
	uint64_t	     done, i;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	span_window(&fx, &s);
	/* Page 5 mapped by iommu_pt_enter (the parked PTED takes it). */
	assert_int_equal(iommu_pt_enter(fx.fx_pt, SPAN_BASE + 5 * PG, 0x9000,
			     RW, IOMMU_CACHE_NC, 0),
	    0);
	runs[0] = (struct iommu_pt_run){0, pa, 8};
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, runs, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, &done),
	    EEXIST);
	assert_int_equal(done, 5);
	for (i = 0; i < 5; i++)
		assert_page_maps(&fx, SPAN_BASE + i * PG, pa + i * PG,
		    IOMMU_PROT_READ, IOMMU_CACHE_WB);
	assert_page_maps(&fx, SPAN_BASE + 5 * PG, 0x9000, RW, IOMMU_CACHE_NC);
	assert_page_unmapped(&fx, SPAN_BASE + 6 * PG);
	assert_page_unmapped(&fx, SPAN_BASE + 7 * PG);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &s, 0, SPAN_BASE, 6, 0, &done), 0);
	assert_int_equal(done, 6);

	/* In the second run: the first run's pages count, and stay. */
	assert_int_equal(iommu_pt_enter(fx.fx_pt, SPAN_BASE + 22 * PG, 0x9000,
			     RW, IOMMU_CACHE_NC, 0),
	    0);
	runs[0] = (struct iommu_pt_run){30, pa, 3};
	runs[1] = (struct iommu_pt_run){20, pa + 0x100000, 4};
	assert_int_equal(iommu_pt_span_fill(
			     fx.fx_pt, &s, runs, 2, RW, IOMMU_CACHE_DEV, &done),
	    EEXIST);
	assert_int_equal(done, 5);
	for (i = 0; i < 3; i++)
		assert_page_maps(&fx, SPAN_BASE + (30 + i) * PG, pa + i * PG,
		    RW, IOMMU_CACHE_DEV);
	for (i = 0; i < 2; i++)
		assert_page_maps(&fx, SPAN_BASE + (20 + i) * PG,
		    pa + 0x100000 + i * PG, RW, IOMMU_CACHE_DEV);
	assert_page_maps(&fx, SPAN_BASE + 22 * PG, 0x9000, RW, IOMMU_CACHE_NC);
	assert_page_unmapped(&fx, SPAN_BASE + 23 * PG);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* Filling the same run twice: EEXIST at its first page. */
	runs[0] = (struct iommu_pt_run){36, pa, 2};
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, runs, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, &done),
	    0);
	runs[0].pr_pa = 0x5000;
	assert_int_equal(iommu_pt_span_fill(
			     fx.fx_pt, &s, runs, 1, RW, IOMMU_CACHE_NC, &done),
	    EEXIST);
	assert_int_equal(done, 0);
	assert_page_maps(
	    &fx, SPAN_BASE + 37 * PG, pa + PG, IOMMU_PROT_READ, IOMMU_CACHE_WB);
	/* And a page filled by handle is mapped for iommu_pt_enter too. */
	assert_int_equal(iommu_pt_enter(fx.fx_pt, SPAN_BASE + 36 * PG, 0x5000,
			     RW, IOMMU_CACHE_WB, 0),
	    EEXIST);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(
	    iommu_pt_unprepare(fx.fx_pt, SPAN_BASE, SPAN_N * PG), EBUSY);
	pt_fixture_fini(&fx);
}

/* Refused fills change nothing (oas 40 for ERANGE). */
static void
span_fill_refuses_bad_arguments(void **state)
{
	struct pt_fixture    fx;
	struct pt_snapshot   before, after;
	struct iommu_pt_span s;
	struct iommu_pt_run  r[2];
	uint64_t	     done;
	unsigned	     i;
	const struct {
		struct iommu_pt_run run;
		unsigned	    nruns, prot, cache;
		int		    error;
	} bad[] = {
	    {{0, 0x1000, 1}, 0, IOMMU_PROT_READ, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1000, 1}, 1, 0, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1000, 1}, 1, 0x4, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1000, 1}, 1, RW | 0x8, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1000, 1}, 1, IOMMU_PROT_READ, IOMMU_CACHE_DEV + 1, EINVAL},
	    {{0, 0x1000, 1}, 1, IOMMU_PROT_READ, ~0u, EINVAL},
	    {{0, 0x1000, 0}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1800, 1}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, EINVAL},
	    {{0, 0x1008, 2}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, EINVAL},
	    {{0, 1ULL << 40, 1}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, ERANGE},
	    {{0, (1ULL << 40) - PG, 2}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB,
		ERANGE},
	    {{0, ~0xfffULL, 2}, 1, IOMMU_PROT_READ, IOMMU_CACHE_WB, ERANGE},
	};

	(void)state;
	pt_fixture_init(&fx, 48, 40);
	span_window(&fx, &s);
	pt_snapshot_take(&fx, &before);
	for (i = 0; i < IOMMU_ARRAY_SIZE(bad); i++) {
		done = 99;
		assert_int_equal(
		    iommu_pt_span_fill(fx.fx_pt, &s, &bad[i].run, bad[i].nruns,
			bad[i].prot, bad[i].cache, &done),
		    bad[i].error);
		assert_int_equal(done, 0);
	}
	r[0] = (struct iommu_pt_run){0, 0x1000, 1};
	assert_int_equal(iommu_pt_span_fill(NULL, &s, r, 1, IOMMU_PROT_READ,
			     IOMMU_CACHE_WB, NULL),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_span_fill(fx.fx_pt, &(struct iommu_pt_span){NULL}, r, 1,
		IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
	    EINVAL);
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, NULL, r, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
	    EINVAL);
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, NULL, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
	    EINVAL);
	/* The highest page below the output size is fine. */
	r[0] = (struct iommu_pt_run){0, (1ULL << 40) - PG, 1};
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, r, 1, IOMMU_PROT_READ,
			     IOMMU_CACHE_WB, &done),
	    0);
	assert_page_maps(
	    &fx, SPAN_BASE, (1ULL << 40) - PG, IOMMU_PROT_READ, IOMMU_CACHE_WB);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &s, 0, SPAN_BASE, 1, 0, NULL), 0);
	pt_snapshot_take(&fx, &after);
	pt_snapshot_assert_equal(&before, &after);
	/* Runs fill in order: a bad second run keeps the first's pages. */
	r[0] = (struct iommu_pt_run){10, 0x40000, 3};
	r[1] = (struct iommu_pt_run){20, 1ULL << 40, 1};
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, r, 2, IOMMU_PROT_READ,
			     IOMMU_CACHE_WB, &done),
	    ERANGE);
	assert_int_equal(done, 3);
	assert_page_maps(
	    &fx, SPAN_BASE + 12 * PG, 0x42000, IOMMU_PROT_READ, IOMMU_CACHE_WB);
	assert_page_unmapped(&fx, SPAN_BASE + 20 * PG);
	assert_int_equal(iommu_pt_span_clear(
			     fx.fx_pt, &s, 10, SPAN_BASE + 10 * PG, 3, 0, NULL),
	    0);
	pt_fixture_fini(&fx);
}

/* Clear unmaps, notes each page once (unless NOTLBADD), stops at a hole. */
static void
span_clear_unmaps_and_notes_each_page(void **state)
{
	struct pt_fixture    fx;
	struct pt_snapshot   before, after;
	struct iommu_pt_span s;
	struct iommu_pt_run  r[2];
	uint64_t	     log[SPAN_N + 1], done, i;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	span_window(&fx, &s);
	r[0] = (struct iommu_pt_run){0, 0x300000, SPAN_N};
	assert_int_equal(
	    iommu_pt_span_fill(fx.fx_pt, &s, r, 1, RW, IOMMU_CACHE_WB, &done),
	    0);
	assert_int_equal(done, SPAN_N);
	tlb_log_start(&fx, log, IOMMU_ARRAY_SIZE(log));
	/* In page order. */
	assert_int_equal(iommu_pt_span_clear(
			     fx.fx_pt, &s, 2, SPAN_BASE + 2 * PG, 10, 0, &done),
	    0);
	assert_int_equal(done, 10);
	assert_int_equal(atomic_load(&fx.fx_tlb_log_n), 10);
	assert_int_equal(fx.fx_tlb_pages, 10);
	assert_int_equal(fx.fx_tlb_last_granule, PG);
	for (i = 0; i < 10; i++)
		assert_int_equal(log[i], SPAN_BASE + (2 + i) * PG);
	for (i = 0; i < SPAN_N; i++) {
		if (i >= 2 && i < 12)
			assert_page_unmapped(&fx, SPAN_BASE + i * PG);
		else
			assert_page_maps(&fx, SPAN_BASE + i * PG,
			    0x300000 + i * PG, RW, IOMMU_CACHE_WB);
	}
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* NOTLBADD: unmapped all the same, no hook call. */
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 20,
			     SPAN_BASE + 20 * PG, 5, IOMMU_PT_NOTLBADD, &done),
	    0);
	assert_int_equal(done, 5);
	assert_int_equal(fx.fx_tlb_pages, 10);
	assert_int_equal(atomic_load(&fx.fx_tlb_log_n), 10);
	for (i = 20; i < 25; i++)
		assert_page_unmapped(&fx, SPAN_BASE + i * PG);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* A hole at page 20: ENOENT there, the 5 before it unmapped. */
	tlb_log_start(&fx, log, IOMMU_ARRAY_SIZE(log));
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 15,
			     SPAN_BASE + 15 * PG, 10, 0, &done),
	    ENOENT);
	assert_int_equal(done, 5);
	assert_int_equal(atomic_load(&fx.fx_tlb_log_n), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(log[i], SPAN_BASE + (15 + i) * PG);
		assert_page_unmapped(&fx, SPAN_BASE + (15 + i) * PG);
	}
	/* NULL removed is fine; a hole at the first page is ENOENT, 0. */
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 25,
			     SPAN_BASE + 25 * PG, 1, IOMMU_PT_NOTLBADD, NULL),
	    0);
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 25,
			     SPAN_BASE + 25 * PG, 3, 0, &done),
	    ENOENT);
	assert_int_equal(done, 0);
	assert_page_maps(
	    &fx, SPAN_BASE + 26 * PG, 0x300000 + 26 * PG, RW, IOMMU_CACHE_WB);

	/* Bad arguments change nothing. */
	pt_snapshot_take(&fx, &before);
	tlb_log_start(&fx, log, IOMMU_ARRAY_SIZE(log));
	done = 99;
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 26,
			     SPAN_BASE + 26 * PG, 0, 0, &done),
	    EINVAL);
	assert_int_equal(done, 0);
	done = 99;
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &s, 26, SPAN_BASE + 26 * PG, 1,
		IOMMU_PT_NOLEVELALLOC, &done),
	    EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &s, 26, SPAN_BASE + 26 * PG, 1,
		IOMMU_PT_NOTLBADD | 0x80, &done),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_span_clear(NULL, &s, 26, SPAN_BASE + 26 * PG, 1, 0, &done),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, NULL, 0, SPAN_BASE, 1, 0, &done),
	    EINVAL);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &(struct iommu_pt_span){NULL}, 0,
		SPAN_BASE, 1, 0, &done),
	    EINVAL);
	assert_int_equal(iommu_pt_span_clear(fx.fx_pt, &s, 26,
			     SPAN_BASE + 26 * PG + 8, 1, 0, &done),
	    EINVAL);
	assert_int_equal(atomic_load(&fx.fx_tlb_log_n), 0);
	pt_snapshot_take(&fx, &after);
	pt_snapshot_assert_equal(&before, &after);
	fx.fx_tlb_log = NULL;
	pt_fixture_fini(&fx);
}

/*
 * Handles stay good across many fill/clear cycles, mixed with enter and
 * remove of the same pages; the window cannot be unprepared while a page
 * is filled; none of it touches the pool.
 */
static void
span_handles_survive_map_unmap_cycles(void **state)
{
	struct pt_fixture	fx;
	struct iommu_pool_stats p0, p1;
	struct iommu_pt_span	s;
	struct iommu_pt_run	r[3];
	struct test_rng		rng;
	unsigned long		cycle, cycles = test_scale(300);
	uint64_t		done, first, n, pa, notes = 0, i;
	struct iommu_pt_run	tmp;
	unsigned		prot, cache, flags;

	(void)state;
	test_rng_seed(&rng, 0x51075);
	pt_fixture_init(&fx, 48, 48);
	span_window(&fx, &s);
	iommu_pool_get_stats(fx.fx_pted_pool, &p0);
	for (cycle = 0; cycle < cycles; cycle++) {
		first = test_rng_below(&rng, SPAN_N);
		n = 1 + test_rng_below(&rng, SPAN_N - first);
		pa = (test_rng_below(&rng, 1ULL << 24) + 1) << 12;
		prot = 1 + (unsigned)test_rng_below(&rng, 3);
		cache = (unsigned)test_rng_below(&rng, 3);
		/* The range as one, two or three runs, filled in reverse. */
		r[0] = (struct iommu_pt_run){first, pa, n};
		if (n >= 3) {
			r[0].pr_npages = n / 3;
			r[1] = (struct iommu_pt_run){
			    first + n / 3, pa + (n / 3) * PG, n / 3};
			r[2] = (struct iommu_pt_run){first + 2 * (n / 3),
			    pa + 2 * (n / 3) * PG, n - 2 * (n / 3)};
			tmp = r[0];
			r[0] = r[2];
			r[2] = tmp;
		}
		if (cycle % 5 == 4) {
			/* Entered by walking instead: the handles see it. */
			assert_int_equal(iommu_pt_enter_range(fx.fx_pt,
					     SPAN_BASE + first * PG, pa, n,
					     prot, cache, 0, &done),
			    0);
		} else {
			assert_int_equal(
			    iommu_pt_span_fill(fx.fx_pt, &s, r, n >= 3 ? 3 : 1,
				prot, cache, &done),
			    0);
		}
		assert_int_equal(done, n);
		i = test_rng_below(&rng, n);
		assert_page_maps(&fx, SPAN_BASE + (first + i) * PG, pa + i * PG,
		    prot, cache);
		if (cycle % 7 == 0) {
			assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
			assert_int_equal(iommu_pt_unprepare(
					     fx.fx_pt, SPAN_BASE, SPAN_N * PG),
			    EBUSY);
		}
		if (cycle % 5 == 3) {
			/* Removed by walking instead. */
			assert_int_equal(iommu_pt_remove_range(fx.fx_pt,
					     SPAN_BASE + first * PG, n, &done),
			    0);
			notes += n;
		} else {
			flags = cycle & 1 ? IOMMU_PT_NOTLBADD : 0;
			assert_int_equal(
			    iommu_pt_span_clear(fx.fx_pt, &s, first,
				SPAN_BASE + first * PG, n, flags, &done),
			    0);
			if (flags == 0)
				notes += n;
		}
		assert_int_equal(done, n);
		assert_page_unmapped(&fx, SPAN_BASE + (first + i) * PG);
		assert_int_equal(fx.fx_tlb_pages, notes);
	}
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_gets, p0.pst_gets);
	assert_int_equal(p1.pst_puts, p0.pst_puts);
	assert_int_equal(
	    iommu_pt_unprepare(fx.fx_pt, SPAN_BASE, SPAN_N * PG), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_items_out, 0);
	pt_fixture_fini(&fx);
}

/*
 * prepare_pteds that runs out of PTEDs takes back only what it parked
 * itself: an earlier window inside its range keeps its PTEDs, its span
 * and its mapped page.
 */
static void
prepare_pteds_enomem_keeps_earlier_parking(void **state)
{
	struct pt_fixture	fx;
	struct iommu_pt_span	s, t;
	struct iommu_pt_run	r = {1, 0x6000, 1};
	struct iommu_pool_stats ps;
	uint64_t		pa;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, SPAN_BASE, 4 * PG), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 4, &s), 0);
	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, &r, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
	    0);
	assert_int_equal(iommu_pool_cache_flush(fx.fx_pted_pool), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 4);
	assert_int_equal(
	    iommu_pool_sethardlimit(fx.fx_pted_pool, ps.pst_items_out + 2), 0);
	/* 8 pages over the first 4: room for 2 of the 4 new ones. */
	assert_int_equal(
	    iommu_pt_prepare_pteds(fx.fx_pt, SPAN_BASE, 8 * PG), ENOMEM);
	assert_int_equal(iommu_pool_cache_flush(fx.fx_pted_pool), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out, 4);
	assert_int_equal(iommu_pt_span(fx.fx_pt, SPAN_BASE, 4, &t), 0);
	assert_ptr_equal(s.ps_desc, t.ps_desc);
	assert_int_equal(
	    iommu_pt_span(fx.fx_pt, SPAN_BASE + 4 * PG, 1, &t), ENOENT);
	assert_int_equal(
	    iommu_pt_extract(fx.fx_pt, SPAN_BASE + PG, &pa, NULL), 0);
	assert_int_equal(pa, 0x6000);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(iommu_pt_span_clear(
			     fx.fx_pt, &s, 1, SPAN_BASE + 1 * PG, 1, 0, NULL),
	    0);
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, SPAN_BASE, 8 * PG), 0);
	pt_fixture_fini(&fx);
}

/* The PTED in the level-3 slot of iova (NULL: none). */
static struct iommu__pted *
pted_at(struct pt_fixture *fx, uint64_t iova)
{
	struct iommu__pt_level *l3;
	unsigned		level;

	l3 = pt_walk(fx->fx_pt, iova, &level);
	if (level != PT_LAST_LEVEL)
		return NULL;
	return atomic_load(&l3->lv_child[pt_index(3, iova)]);
}

/*
 * The validator's checks of parked PTEDs: pd_va must be the slot's page,
 * the slot's parked bit must say the PTED is parked, pd_pte must stay 0
 * (the descriptor is the record), and a mapped page's descriptor must be
 * one an enter writes.
 */
static void
validator_checks_parked_pteds(void **state)
{
	struct pt_fixture    fx;
	struct iommu_pt_span s;
	struct iommu_pt_run  r = {4, 0x6000, 1};
	struct iommu__pted  *a, *b;
	uint64_t	    *slot, d;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	span_window(&fx, &s);
	a = pted_at(&fx, SPAN_BASE + 3 * PG);
	b = pted_at(&fx, SPAN_BASE + 4 * PG);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->pd_va, SPAN_BASE + 3 * PG);
	assert_true(a->pd_parked);
	/* Another page's PTED, even in the same table. */
	a->pd_va = b->pd_va;
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	a->pd_va = SPAN_BASE + 3 * PG;
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	/* The bit says parked, the PTED does not. */
	a->pd_parked = false;
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	a->pd_parked = true;
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	/* A parked PTED records nothing itself. */
	a->pd_pte = 1;
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	a->pd_pte = 0;

	assert_int_equal(iommu_pt_span_fill(fx.fx_pt, &s, &r, 1,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB, NULL),
	    0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(b->pd_pte, 0);
	slot = s.ps_desc + 4;
	d = iommu__le64_dec(slot);
	assert_true(d != 0);
	/* Bits no enter writes: XN, ... */
	iommu__le64_enc(slot, d | 1ULL << 54);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	/* ... AttrIndx 3 ... */
	iommu__le64_enc(slot, d | 3ULL << 2);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	/* ... SH the cache mode does not use. */
	iommu__le64_enc(slot, d & ~(1ULL << 8));
	assert_int_equal(iommu_pt_validate(fx.fx_pt), EFAULT);
	iommu__le64_enc(slot, d);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	assert_int_equal(iommu_pt_span_clear(
			     fx.fx_pt, &s, 4, SPAN_BASE + 4 * PG, 1, 0, NULL),
	    0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	pt_fixture_fini(&fx);
}

/*
 * A table that keeps PTEDs: a remove (single or range) parks the page's
 * PTED instead of freeing it; the page is unmapped for the walker and
 * the counts, and mapping it again (enter, enter_range, or by handle)
 * takes nothing from the pool.  unprepare gives them back, and turning
 * keeping off frees what later removes unmap.
 */
static void
kept_pteds_map_again_without_the_pool(void **state)
{
	struct pt_fixture	fx;
	struct iommu_pool_stats p0, p1;
	struct iommu_pt_stats	st;
	struct iommu_pt_span	s, t;
	struct iommu_pt_run	r[2] = {{0, 0x9000000, 2}, {0, 0x9002000, 2}};
	const uint64_t		base = 0x200000 - 2 * PG; /* a 2 MiB line */
	uint64_t		done;
	unsigned		i;

	(void)state;
	pt_fixture_init(&fx, 48, 48);
	iommu_pt_set_keep_pteds(fx.fx_pt, true);
	for (i = 0; i < 3; i++)
		assert_int_equal(iommu_pt_enter(fx.fx_pt, base + i * PG,
				     0x100000 + i * PG, RW, IOMMU_CACHE_WB, 0),
		    0);
	/* Not prepared: no span yet. */
	assert_int_equal(iommu_pt_span(fx.fx_pt, base, 2, &s), ENOENT);
	iommu_pool_get_stats(fx.fx_pted_pool, &p0);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, base), 0);
	assert_int_equal(
	    iommu_pt_remove_range(fx.fx_pt, base + PG, 2, &done), 0);
	assert_int_equal(done, 2);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, base + PG), ENOENT);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_puts, p0.pst_puts);
	assert_int_equal(p1.pst_items_out, 3);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 0);
	for (i = 0; i < 3; i++) {
		assert_page_unmapped(&fx, base + i * PG);
		assert_true(pted_at(&fx, base + i * PG)->pd_parked);
	}
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* Again, elsewhere: single, then a range with one page new. */
	assert_int_equal(iommu_pt_enter(fx.fx_pt, base, 0x700000,
			     IOMMU_PROT_READ, IOMMU_CACHE_NC, 0),
	    0);
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, base, 0x800000, RW, IOMMU_CACHE_WB, 0),
	    EEXIST);
	assert_int_equal(iommu_pt_enter_range(fx.fx_pt, base + PG, 0x710000, 3,
			     RW, IOMMU_CACHE_WB, 0, &done),
	    0);
	assert_int_equal(done, 3);
	assert_page_maps(&fx, base, 0x700000, IOMMU_PROT_READ, IOMMU_CACHE_NC);
	for (i = 1; i < 4; i++)
		assert_page_maps(&fx, base + i * PG, 0x710000 + (i - 1) * PG,
		    RW, IOMMU_CACHE_WB);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_gets, p0.pst_gets + 1);
	iommu_pt_get_stats(fx.fx_pt, &st);
	assert_int_equal(st.pts_pteds, 4);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);

	/* Unmapped, the four are parked: a span each side of the line,
	 * and they work, still without the pool. */
	assert_int_equal(iommu_pt_remove_range(fx.fx_pt, base, 4, NULL), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, base, 4, &s), EXDEV);
	assert_int_equal(iommu_pt_span(fx.fx_pt, base, 2, &s), 0);
	assert_int_equal(iommu_pt_span(fx.fx_pt, base + 2 * PG, 2, &t), 0);
	assert_int_equal(iommu_pt_span_fill(
			     fx.fx_pt, &s, &r[0], 1, RW, IOMMU_CACHE_WB, NULL),
	    0);
	assert_int_equal(iommu_pt_span_fill(
			     fx.fx_pt, &t, &r[1], 1, RW, IOMMU_CACHE_WB, NULL),
	    0);
	for (i = 0; i < 4; i++)
		assert_page_maps(
		    &fx, base + i * PG, 0x9000000 + i * PG, RW, IOMMU_CACHE_WB);
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, base, 4 * PG), EBUSY);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &s, 0, base, 2, 0, NULL), 0);
	assert_int_equal(
	    iommu_pt_span_clear(fx.fx_pt, &t, 0, base + 2 * PG, 2, 0, NULL), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_gets, p0.pst_gets + 1);
	assert_int_equal(p1.pst_puts, p0.pst_puts);

	/* Given back by unprepare; without keeping, a remove frees. */
	assert_int_equal(iommu_pt_unprepare(fx.fx_pt, base, 4 * PG), 0);
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_items_out, 0);
	iommu_pt_set_keep_pteds(fx.fx_pt, false);
	assert_int_equal(
	    iommu_pt_enter(fx.fx_pt, base, 0x100000, RW, IOMMU_CACHE_WB, 0), 0);
	assert_int_equal(iommu_pt_remove(fx.fx_pt, base), 0);
	assert_null(pted_at(&fx, base));
	iommu_pool_get_stats(fx.fx_pted_pool, &p1);
	assert_int_equal(p1.pst_items_out, 0);
	assert_int_equal(iommu_pt_validate(fx.fx_pt), 0);
	pt_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_rejects_bad_configurations),
	    cmocka_unit_test(geometry_follows_the_input_size),
	    cmocka_unit_test(
		descriptor_bits_for_every_protection_and_cache_mode),
	    cmocka_unit_test(walker_agrees_with_extract),
	    cmocka_unit_test(selftest_matrix),
	    cmocka_unit_test(bad_arguments_are_refused),
	    cmocka_unit_test(enomem_leaves_everything_as_before),
	    cmocka_unit_test(pool_page_allocation_failure_at_every_call),
	    cmocka_unit_test(create_fails_cleanly),
	    cmocka_unit_test(prepare_then_enter_allocates_no_level),
	    cmocka_unit_test(range_ops_match_single_pages),
	    cmocka_unit_test(parked_pteds_map_without_the_pool),
	    cmocka_unit_test(validator_detects_corruption),
	    cmocka_unit_test(teardown_returns_every_level_and_pted),
	    cmocka_unit_test(spans_are_handed_out_for_parked_pteds_only),
	    cmocka_unit_test(span_fill_maps_each_run_at_its_pages),
	    cmocka_unit_test(span_fill_stops_at_a_mapped_page),
	    cmocka_unit_test(span_fill_refuses_bad_arguments),
	    cmocka_unit_test(span_clear_unmaps_and_notes_each_page),
	    cmocka_unit_test(span_handles_survive_map_unmap_cycles),
	    cmocka_unit_test(validator_checks_parked_pteds),
	    cmocka_unit_test(prepare_pteds_enomem_keeps_earlier_parking),
	    cmocka_unit_test(kept_pteds_map_again_without_the_pool),
	};

	return cmocka_run_group_tests_name("pagetable", tests, NULL, NULL);
}
