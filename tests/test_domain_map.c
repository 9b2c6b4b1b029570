/*
 * Tests for SMMU driver domains (src/domain.c) against the model: ASID
 * allocation and recycling, CD/STE programming (a device DMA through the
 * model reaches the PA the domain mapped, with 48- and 39-bit IOVA
 * spaces), remove + sync faulting, the invalidation mutants (a removed
 * page stays translatable and the model's stale checker fires), the three
 * TLBI policies, the IOVA arena (page 0 and reserved windows, exhaustion)
 * and destroy giving back every frame, pool item, extent descriptor and
 * the ASID.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/pool.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"

#define SID  0x23u
#define RW   (IOMMU_PROT_READ | IOMMU_PROT_WRITE)
#define PG   IOMMU_PAGE_SIZE
#define NPAG 24

static uint64_t
model_cmds(struct drv_fixture *fx, uint8_t op)
{
	static struct smmuv3_stats st;

	smmuv3_get_stats(fx->fx_model, &st);
	return st.st_commands_by_op[op];
}

static struct iommu_domain *
mkdom(struct drv_fixture *fx, uint32_t sid, unsigned ias)
{
	struct iommu_domain_config dc;
	struct iommu_domain	  *dom;

	iommu_domain_config_init(&dc);
	dc.dc_ias = ias;
	assert_int_equal(iommu_domain_create(fx->fx_smmu, sid, &dc, &dom), 0);
	return dom;
}

static void
test_create_destroy_asids(void **state)
{
	struct drv_fixture	   fx;
	struct iommu_domain	  *a, *b, *c, *d, *x;
	struct iommu_domain_config dc;
	struct smmuv3_fault	   ft;
	uint8_t			   byte;

	(void)state;
	drv_fixture_init(&fx, NULL);
	a = mkdom(&fx, 1, 48);
	b = mkdom(&fx, 2, 48);
	c = mkdom(&fx, 3, 39);
	assert_int_equal(iommu_domain_asid(a), 1);
	assert_int_equal(iommu_domain_asid(b), 2);
	assert_int_equal(iommu_domain_asid(c), 3);
	assert_int_equal(iommu_domain_sid(c), 3);
	assert_int_equal(iommu_domain_iova_strategy(c), IOMMU_IOVA_PER_MAP);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, 1, NULL, &x), EEXIST);
	assert_null(x);
	assert_int_equal(
	    iommu_domain_create(fx.fx_smmu, 1u << 16, NULL, &x), ERANGE);
	iommu_domain_config_init(&dc);
	dc.dc_ias = 31;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, 9, &dc, &x), EINVAL);
	dc.dc_ias = 49;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, 9, &dc, &x), EINVAL);
	dc.dc_ias = 48;
	dc.dc_size = 1;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, 9, &dc, &x), EINVAL);
	assert_int_equal(iommu_domain_destroy(NULL), EINVAL);

	/* A freed ASID is the next one handed out. */
	assert_int_equal(iommu_domain_destroy(b), 0);
	d = mkdom(&fx, 4, 48);
	assert_int_equal(iommu_domain_asid(d), 2);
	/* The destroyed stream aborts quietly: STE V=1, Config=abort. */
	assert_int_equal(drv_dev_read(&fx, 2, 0x1000, &byte, 1, &ft), EFAULT);
	assert_true(ft.ft_aborted);
	assert_false(ft.ft_recorded);
	/* And the SID can get a domain again. */
	b = mkdom(&fx, 2, 48);
	assert_int_equal(iommu_domain_asid(b), 4);
	assert_int_equal(drv_fixture_drain(&fx), 0);
	assert_int_equal(iommu_domain_destroy(a), 0);
	assert_int_equal(iommu_domain_destroy(b), 0);
	assert_int_equal(iommu_domain_destroy(c), 0);
	assert_int_equal(iommu_domain_destroy(d), 0);
	drv_fixture_fini(&fx);
}

static void
test_asid_exhaustion(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain   **doms, *x;
	unsigned		i;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_asid16 = false; /* 8-bit ASIDs: 255 usable */
	o.fo_smmu.sc_sid_bits = 9;
	drv_fixture_init(&fx, &o);
	assert_int_equal(fx.fx_smmu->sc_asid_bits, 8);
	doms = test_malloc(255 * sizeof(*doms));
	for (i = 0; i < 255; i++) {
		doms[i] = mkdom(&fx, i, 32);
		assert_int_equal(iommu_domain_asid(doms[i]), i + 1);
	}
	assert_int_equal(
	    iommu_domain_create(fx.fx_smmu, 300, NULL, &x), ENOSPC);
	assert_int_equal(iommu_domain_destroy(doms[99]), 0);
	doms[99] = mkdom(&fx, 300, 32);
	assert_int_equal(iommu_domain_asid(doms[99]), 100);
	for (i = 0; i < 255; i++)
		assert_int_equal(iommu_domain_destroy(doms[i]), 0);
	test_free(doms);
	drv_fixture_fini(&fx);
}

/* Maps NPAG pages at scattered PAs; the device sees each one's data. */
static void
map_and_check(struct drv_fixture *fx, struct iommu_domain *dom, uint64_t iova0,
    uint64_t *pas)
{
	struct smmuv3_fault ft;
	uint64_t	    v, w;
	unsigned	    i;

	for (i = 0; i < NPAG; i++) {
		pas[i] = drv_fixture_page(fx);
		assert_int_equal(
		    iommu_physmem_write64(fx->fx_pm, pas[i] + 0x18, i * 7 + 1),
		    0);
		assert_int_equal(iommu_domain_enter(dom, iova0 + i * PG, pas[i],
				     RW, IOMMU_CACHE_WB),
		    0);
	}
	for (i = 0; i < NPAG; i++) {
		assert_int_equal(drv_dev_read(fx, iommu_domain_sid(dom),
				     iova0 + i * PG + 0x18, &v, 8, &ft),
		    0);
		assert_int_equal(v, i * 7 + 1);
		w = 0xfeed0000u + i;
		assert_int_equal(drv_dev_write(fx, iommu_domain_sid(dom),
				     iova0 + i * PG + 0x40, &w, 8, &ft),
		    0);
		assert_int_equal(
		    iommu_physmem_read64(fx->fx_pm, pas[i] + 0x40, &v), 0);
		assert_int_equal(v, w);
	}
}

static void
unmap_all(struct drv_fixture *fx, struct iommu_domain *dom, uint64_t iova0,
    uint64_t *pas, bool expect_fault)
{
	struct smmuv3_fault ft;
	uint8_t		    b;
	unsigned	    i;

	for (i = 0; i < NPAG; i++)
		assert_int_equal(iommu_domain_remove(dom, iova0 + i * PG), 0);
	assert_int_equal(iommu_domain_sync(dom), 0);
	for (i = 0; i < NPAG; i++) {
		if (expect_fault) {
			assert_int_equal(drv_dev_read(fx, iommu_domain_sid(dom),
					     iova0 + i * PG, &b, 1, &ft),
			    EFAULT);
			assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
		}
		assert_int_equal(
		    iommu_physmem_free_pages(fx->fx_pm, pas[i], 1), 0);
	}
}

static void
test_enter_dma_remove(void **state)
{
	static const unsigned ias[] = {48, 39, 32};
	struct drv_fixture    fx;
	struct iommu_domain  *dom;
	struct smmuv3_fault   ft;
	uint64_t	      pas[NPAG], iova0, pa, v;
	unsigned	      k;

	(void)state;
	drv_fixture_init(&fx, NULL);
	for (k = 0; k < 3; k++) {
		dom = mkdom(&fx, SID + k, ias[k]);
		assert_int_equal(
		    iommu_pt_start_level(dom->dom_pt), ias[k] > 39 ? 0 : 1);
		/* Near the top of the space: every level is exercised. */
		iova0 = (1ULL << ias[k]) - (uint64_t)(NPAG + 3) * PG;
		map_and_check(&fx, dom, iova0, pas);
		unmap_all(&fx, dom, iova0, pas, true);
		assert_int_equal(drv_fixture_drain(&fx), NPAG);
		assert_int_equal(iommu_domain_destroy(dom), 0);
	}
	/* Read-only mapping: a device write is a permission fault. */
	fx.fx_nevents = 0;
	dom = mkdom(&fx, SID, 48);
	pa = drv_fixture_page(&fx);
	assert_int_equal(iommu_domain_enter(
			     dom, 0x7000, pa, IOMMU_PROT_READ, IOMMU_CACHE_WB),
	    0);
	assert_int_equal(drv_dev_read(&fx, SID, 0x7000, &v, 8, &ft), 0);
	assert_int_equal(drv_dev_write(&fx, SID, 0x7000, &v, 8, &ft), EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_PERMISSION);
	assert_int_equal(iommu_domain_enter(dom, 0x7000, pa, RW, 0), EEXIST);
	assert_int_equal(iommu_domain_remove(dom, 0x8000), ENOENT);
	assert_int_equal(iommu_domain_remove(dom, 0x7000), 0);
	assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(drv_fixture_drain(&fx), 1);
	assert_int_equal(fx.fx_events[0].ev_id, SMMU_EVT_F_PERMISSION);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 1), 0);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_fini(&fx);
}

/* Without the invalidation, the model's TLB keeps the removed page. */
static void
test_mutants_keep_stale(void **state)
{
	static const unsigned muts[] = {
	    IOMMU_SMMU_MUTATE_NO_TLBI, IOMMU_SMMU_MUTATE_NO_SYNC, 0};
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct smmuv3_fault	ft;
	uint64_t		pa, v;
	unsigned		k;

	(void)state;
#if !IOMMU_MUTANTS
	skip(); /* a build without the mutants (IOMMU_MUTANTS=OFF) */
#endif
	for (k = 0; k < 3; k++) {
		drv_fixture_opts_init(&o);
		o.fo_smmu.sc_mutations = muts[k];
		drv_fixture_init(&fx, &o);
		dom = mkdom(&fx, SID, 48);
		pa = drv_fixture_page(&fx);
		assert_int_equal(iommu_physmem_write64(fx.fx_pm, pa, 0x77), 0);
		assert_int_equal(
		    iommu_domain_enter(dom, 0x40000, pa, RW, IOMMU_CACHE_WB),
		    0);
		assert_int_equal(
		    drv_dev_read(&fx, SID, 0x40000, &v, 8, &ft), 0);
		assert_int_equal(iommu_domain_remove(dom, 0x40000), 0);
		assert_int_equal(iommu_domain_sync(dom), 0);
		if (muts[k] != 0) {
			/* The stale entry still translates... */
			assert_int_equal(
			    drv_dev_read(&fx, SID, 0x40000, &v, 8, &ft), 0);
			assert_int_equal(v, 0x77);
			/* ...and the checker saw that memory disagrees. */
			assert_true(fx.fx_stale > 0);
			assert_false(fx.fx_last_stale.sr_config);
			assert_int_equal(fx.fx_last_stale.sr_sid, SID);
			assert_int_equal(fx.fx_last_stale.sr_iova, 0x40000);
			assert_int_equal(fx.fx_last_stale.sr_cached_pa, pa);
		} else {
			assert_int_equal(
			    drv_dev_read(&fx, SID, 0x40000, &v, 8, &ft),
			    EFAULT);
			assert_int_equal(fx.fx_stale, 0);
		}
		drv_fixture_finish_domain(&fx, dom, pa);
	}
}

static void
test_tlbi_policies(void **state)
{
	static const enum iommu_tlbi_policy pol[] = {IOMMU_TLBI_PER_PAGE,
	    IOMMU_TLBI_ASID, IOMMU_TLBI_RANGE, IOMMU_TLBI_RANGE};
	struct drv_fixture_opts		    o;
	struct drv_fixture		    fx;
	struct iommu_domain		   *dom, *other;
	struct iommu_domain_stats	    ds;
	struct smmuv3_fault		    ft;
	uint64_t pas[NPAG], va, asid0, pa, iova0 = 0x200000;
	uint8_t	 b;
	unsigned k;

	(void)state;
	for (k = 0; k < 4; k++) {
		drv_fixture_opts_init(&o);
		o.fo_smmu.sc_tlbi = pol[k];
		o.fo_model.cfg_range_inv = k != 3; /* k 3: no RIL */
		drv_fixture_init(&fx, &o);
		dom = mkdom(&fx, SID, 48);
		/* Another domain's cached page must survive our TLBIs. */
		other = mkdom(&fx, SID + 1, 48);
		pa = drv_fixture_page(&fx);
		assert_int_equal(
		    iommu_domain_enter(other, iova0, pa, RW, 0), 0);
		assert_int_equal(
		    drv_dev_read(&fx, SID + 1, iova0, &b, 1, &ft), 0);
		map_and_check(&fx, dom, iova0, pas);
		va = model_cmds(&fx, SMMU_OP_TLBI_NH_VA);
		asid0 = model_cmds(&fx, SMMU_OP_TLBI_NH_ASID);
		unmap_all(&fx, dom, iova0, pas, true);
		iommu_domain_get_stats(dom, &ds);
		switch (k) {
		case 0:
		case 3:
			assert_int_equal(
			    model_cmds(&fx, SMMU_OP_TLBI_NH_VA) - va, NPAG);
			assert_int_equal(ds.ds_tlbi, NPAG);
			break;
		case 1:
			assert_int_equal(
			    model_cmds(&fx, SMMU_OP_TLBI_NH_ASID) - asid0, 1);
			assert_int_equal(
			    model_cmds(&fx, SMMU_OP_TLBI_NH_VA), va);
			break;
		case 2:
			/* 24 pages: one command, NUM + 1 = 3, SCALE 3. */
			assert_int_equal(
			    model_cmds(&fx, SMMU_OP_TLBI_NH_VA) - va, 1);
			break;
		}
		assert_int_equal(fx.fx_stale, 0);
		/* The other domain's TLB entry is still used. */
		assert_int_equal(
		    drv_dev_read(&fx, SID + 1, iova0, &b, 1, &ft), 0);
		assert_int_equal(iommu_domain_destroy(dom), 0);
		assert_int_equal(iommu_domain_destroy(other), 0);
		assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 1), 0);
		(void)drv_fixture_drain(&fx);
		drv_fixture_fini(&fx);
	}
}

/* 33 pages need two range commands: 1 page, then 32 (NUM 0, SCALE 5). */
static void
test_tlbi_range_split(void **state)
{
	struct drv_fixture_opts	  o;
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_domain_stats ds;
	struct smmuv3_fault	  ft;
	uint64_t		  pa, va, iova0 = 0x7ff000, i;
	uint8_t			  b;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_tlbi = IOMMU_TLBI_RANGE;
	drv_fixture_init(&fx, &o);
	dom = mkdom(&fx, SID, 48);
	pa = drv_fixture_page(&fx);
	for (i = 0; i < 33; i++) {
		assert_int_equal(
		    iommu_domain_enter(dom, iova0 + i * PG, pa, RW, 0), 0);
		assert_int_equal(
		    drv_dev_read(&fx, SID, iova0 + i * PG, &b, 1, &ft), 0);
	}
	va = model_cmds(&fx, SMMU_OP_TLBI_NH_VA);
	/* Removed in reverse order: the owed range still ends up exact. */
	for (i = 33; i-- > 0;)
		assert_int_equal(iommu_domain_remove(dom, iova0 + i * PG), 0);
	assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(model_cmds(&fx, SMMU_OP_TLBI_NH_VA) - va, 2);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_tlbi, 2);
	assert_int_equal(ds.ds_pages_mapped, 0);
	assert_int_equal(ds.ds_enters, 33);
	for (i = 0; i < 33; i++)
		assert_int_equal(
		    drv_dev_read(&fx, SID, iova0 + i * PG, &b, 1, &ft), EFAULT);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_finish_domain(&fx, dom, pa);
}

/*
 * A range owed across 2^32 pages or more: a range TLBI's SCALE is 5 bits
 * (at most 32 << 31 pages per command), so the driver must not encode
 * bigger chunks.  Two pages 16 TiB apart are both invalidated.
 */
static void
test_tlbi_range_huge_span(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct smmuv3_fault	ft;
	uint64_t pa, iova[3] = {PG, PG + (1ULL << 44), 1ULL << 47};
	unsigned i, k;
	uint8_t	 b;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_tlbi = IOMMU_TLBI_RANGE;
	drv_fixture_init(&fx, &o);
	dom = mkdom(&fx, SID, 48);
	pa = drv_fixture_page(&fx);
	for (k = 1; k < 3; k++) { /* spans of 2^32 + 1 and 2^35 pages */
		for (i = 0; i < 3; i += k) {
			assert_int_equal(
			    iommu_domain_enter(dom, iova[i], pa, RW, 0), 0);
			assert_int_equal(
			    drv_dev_read(&fx, SID, iova[i], &b, 1, &ft), 0);
		}
		for (i = 0; i < 3; i += k)
			assert_int_equal(iommu_domain_remove(dom, iova[i]), 0);
		assert_int_equal(iommu_domain_sync(dom), 0);
		for (i = 0; i < 3; i += k)
			assert_int_equal(
			    drv_dev_read(&fx, SID, iova[i], &b, 1, &ft),
			    EFAULT);
		assert_int_equal(fx.fx_stale, 0);
	}
	drv_fixture_finish_domain(&fx, dom, pa);
}

static void
test_iova_arena(void **state)
{
	struct drv_fixture	   fx;
	struct iommu_domain	  *dom;
	struct iommu_domain_stats  ds;
	struct iommu_extent_region er[3];
	uint64_t		   a, b, c;

	(void)state;
	drv_fixture_init(&fx, NULL);
	dom = mkdom(&fx, SID, 32);
	/* Page 0 is never handed out; best fit would pick it otherwise. */
	assert_int_equal(iommu_domain_iova_alloc(dom, PG, &er[0], &a), 0);
	assert_int_not_equal(a, 0);
	assert_int_equal(a % PG, 0);
	assert_int_equal(iommu_domain_iova_alloc(dom, 0, NULL, &b), EINVAL);
	assert_int_equal(iommu_domain_iova_alloc(dom, 100, NULL, &b), EINVAL);
	/* A reserved window is skipped. */
	assert_int_equal(iommu_domain_reserve(dom, 0x2000, 0x10000), 0);
	assert_int_equal(iommu_domain_reserve(dom, 0x2000, PG), EAGAIN);
	assert_int_equal(iommu_domain_reserve(dom, 0x2001, PG), EINVAL);
	assert_int_equal(iommu_domain_iova_alloc(dom, 2 * PG, NULL, &b), 0);
	assert_true(b + 2 * PG <= 0x2000 || b >= 0x12000);
	/* The 4 GiB space runs out: EAGAIN, counted. */
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, 1ULL << 31, &er[1], &c), 0);
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, 1ULL << 31, &er[2], &c), EAGAIN);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_iova_allocs, 3);
	assert_int_equal(ds.ds_iova_failures, 1);
	assert_int_equal(ds.ds_iova_bytes, 3 * PG + (1ULL << 31));
	assert_int_equal(iommu_domain_iova_free(dom, a, PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, a, PG), EINVAL);
	assert_int_equal(iommu_domain_iova_free(dom, b, 2 * PG), 0);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_iova_frees, 2);
	assert_int_equal(ds.ds_iova_bytes, 1ULL << 31);
	/* Destroy with the big region still allocated (descr is ours). */
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

struct pool_counts {
	uint64_t pted, vp;
};

static void
pool_counts(struct drv_fixture *fx, struct pool_counts *pc)
{
	struct iommu_pool_stats ps;

	iommu_pool_get_stats(fx->fx_smmu->sc_pted_pool, &ps);
	pc->pted = ps.pst_items_out;
	iommu_pool_get_stats(fx->fx_smmu->sc_vp_pool, &ps);
	pc->vp = ps.pst_items_out;
}

/* Destroy with mappings, reservations and IOVA left: all comes back. */
static void
test_destroy_returns_everything(void **state)
{
	struct drv_fixture	   fx;
	struct iommu_domain	  *dom;
	struct pool_counts	   pc0, pc1;
	struct iommu_extent_region er;
	struct smmuv3_fault	   ft;
	uint64_t		   pa, iova, tlbi_asid;
	uint16_t		   asid;
	uint8_t			   b;
	unsigned		   i;

	(void)state;
	drv_fixture_init(&fx, NULL);
	pa = drv_fixture_page(&fx);
	pool_counts(&fx, &pc0);
	assert_int_equal(drv_fixture_frames_delta(&fx), 1);
	dom = mkdom(&fx, SID, 48);
	asid = iommu_domain_asid(dom);
	assert_int_equal(iommu_domain_prepare(dom, 0x10000000, 64 * PG), 0);
	assert_int_equal(iommu_domain_reserve(dom, 0x8000000, 16 * PG), 0);
	assert_int_equal(iommu_domain_iova_alloc(dom, 8 * PG, &er, &iova), 0);
	assert_int_equal(iommu_domain_iova_alloc(dom, 8 * PG, NULL, &iova), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(
		    iommu_domain_enter(dom, 0x10000000 + (uint64_t)i * 0x201000,
			pa, RW, IOMMU_CACHE_NC),
		    0);
	assert_int_equal(drv_dev_read(&fx, SID, 0x10000000, &b, 1, &ft), 0);
	pool_counts(&fx, &pc1);
	assert_int_equal(pc1.pted - pc0.pted, 40);
	assert_true(pc1.vp > pc0.vp);
	assert_true(drv_fixture_frames_delta(&fx) > 10);
	tlbi_asid = model_cmds(&fx, SMMU_OP_TLBI_NH_ASID);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(model_cmds(&fx, SMMU_OP_TLBI_NH_ASID), tlbi_asid + 1);
	pool_counts(&fx, &pc1);
	assert_int_equal(pc1.pted, pc0.pted);
	assert_int_equal(pc1.vp, pc0.vp);
	assert_int_equal(drv_fixture_frames_delta(&fx), 1);
	/* The TLB entry went with the ASID; the stream now aborts. */
	assert_int_equal(
	    drv_dev_read(&fx, SID, 0x10000000, &b, 1, &ft), EFAULT);
	assert_true(ft.ft_aborted);
	dom = mkdom(&fx, SID, 48);
	assert_int_equal(iommu_domain_asid(dom), asid);
	/* A recycled ASID starts with an empty TLB. */
	assert_int_equal(
	    drv_dev_read(&fx, SID, 0x10000000, &b, 1, &ft), EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(fx.fx_stale, 0);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 1), 0);
	(void)drv_fixture_drain(&fx);
	drv_fixture_fini(&fx); /* cmocka: no host block leaked */
}

/* Every host/RAM allocation failure in create unwinds completely. */
static void
test_create_enomem(void **state)
{
	struct drv_fixture_opts	   o;
	struct drv_fixture	   fx;
	struct test_counting_alloc ca;
	struct iommu_domain	  *dom;
	struct pool_counts	   pc0, pc1;
	unsigned long		   n;
	int			   error, ram;

	(void)state;
	for (ram = 0; ram < 2; ram++) {
		test_counting_alloc_init(&ca);
		drv_fixture_opts_init(&o);
		o.fo_alloc = &ca.tc_ops;
		drv_fixture_init(&fx, &o);
		pool_counts(&fx, &pc0);
		for (n = 1;; n++) {
			if (ram)
				iommu_physmem_fail_alloc_after(fx.fx_pm, n);
			else
				test_counting_alloc_fail_after(&ca, n, 0);
			error =
			    iommu_domain_create(fx.fx_smmu, SID, NULL, &dom);
			iommu_physmem_fail_alloc_after(fx.fx_pm, 0);
			test_counting_alloc_fail_after(&ca, 0, 0);
			if (error == 0)
				break;
			assert_int_equal(error, ENOMEM);
			assert_null(dom);
			pool_counts(&fx, &pc1);
			assert_int_equal(pc1.pted, pc0.pted);
			assert_int_equal(pc1.vp, pc0.vp);
			assert_int_equal(drv_fixture_frames_delta(&fx), 0);
			assert_int_equal(fx.fx_smmu->sc_ndomains, 0);
		}
		assert_true(n > 1);
		assert_int_equal(iommu_domain_asid(dom), 1);
		assert_int_equal(iommu_domain_destroy(dom), 0);
		drv_fixture_fini(&fx);
		assert_int_equal(ca.tc_live_blocks, 0);
	}
}

static void
test_enter_bad_args(void **state)
{
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom, *x;
	struct iommu_domain_stats ds;
	uint64_t		  iova;

	(void)state;
	drv_fixture_init(&fx, NULL);
	dom = mkdom(&fx, SID, 39);
	assert_int_equal(
	    iommu_domain_enter(dom, 1ULL << 39, 0x80000000, RW, 0), ERANGE);
	assert_int_equal(
	    iommu_domain_enter(dom, 0x1001, 0x80000000, RW, 0), EINVAL);
	assert_int_equal(
	    iommu_domain_enter(dom, 0x1000, 0x80000000, 0, 0), EINVAL);
	assert_int_equal(iommu_domain_enter(NULL, 0, 0, RW, 0), EINVAL);
	assert_int_equal(iommu_domain_remove(NULL, 0), EINVAL);
	assert_int_equal(iommu_domain_sync(NULL), EINVAL);
	assert_int_equal(iommu_domain_prepare(dom, 0, 0), EINVAL);
	assert_int_equal(iommu_domain_prepare(NULL, 0, PG), EINVAL);
	assert_int_equal(iommu_domain_prepare(dom, 1ULL << 39, PG), ERANGE);
	assert_int_equal(iommu_domain_prepare(dom, UINT64_MAX, 2), EINVAL);
	assert_int_equal(iommu_domain_remove(dom, 0x1001), EINVAL);
	assert_int_equal(iommu_domain_remove(dom, 1ULL << 39), ERANGE);
	assert_int_equal(iommu_domain_remove(dom, 0x1000), ENOENT);
	/* Ranges: as the single calls, plus the byte count done. */
	assert_int_equal(
	    iommu_domain_enter_range(NULL, PG, 0x80000000, PG, RW, 0, NULL),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_enter_range(dom, PG, 0x80000000, PG + 1, RW, 0, NULL),
	    EINVAL);
	assert_int_equal(iommu_domain_enter_range(dom, (1ULL << 39) - PG,
			     0x80000000, 2 * PG, RW, 0, NULL),
	    ERANGE);
	assert_int_equal(iommu_domain_enter(dom, 3 * PG, 0x80000000, RW, 0), 0);
	assert_int_equal(
	    iommu_domain_enter_range(dom, PG, 0x80000000, 4 * PG, RW, 0, &iova),
	    EEXIST);
	assert_int_equal(iova, 2 * PG);
	assert_int_equal(
	    iommu_domain_remove_range(dom, PG, 4 * PG, &iova), ENOENT);
	assert_int_equal(iova, 3 * PG);
	assert_int_equal(iommu_domain_remove_range(NULL, PG, PG, NULL), EINVAL);
	assert_int_equal(iommu_domain_remove_range(dom, PG, 7, NULL), EINVAL);
	assert_int_equal(iommu_domain_sync(dom), 0);
	/* IOVA calls: NULL, zero and unaligned sizes, foreign ranges. */
	assert_int_equal(
	    iommu_domain_iova_alloc(NULL, PG, NULL, &iova), EINVAL);
	assert_int_equal(iommu_domain_iova_alloc(dom, PG, NULL, NULL), EINVAL);
	assert_int_equal(iommu_domain_iova_alloc(dom, 0, NULL, &iova), EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, PG + 1, NULL, &iova), EINVAL);
	/* Larger than the whole 39-bit arena: EINVAL (extent's answer). */
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, 1ULL << 40, NULL, &iova), EINVAL);
	assert_int_equal(iommu_domain_iova_free(NULL, PG, PG), EINVAL);
	assert_int_equal(iommu_domain_iova_free(dom, PG, 0), EINVAL);
	assert_int_equal(iommu_domain_iova_free(dom, PG + 1, PG), EINVAL);
	assert_int_equal(iommu_domain_reserve(NULL, PG, PG), EINVAL);
	assert_int_equal(iommu_domain_reserve(dom, PG, 0), EINVAL);
	assert_int_equal(iommu_domain_reserve(dom, PG + 1, PG), EINVAL);
	assert_int_equal(iommu_domain_reserve(dom, 0, PG), EAGAIN); /* page 0 */
	assert_int_not_equal(iommu_domain_reserve(dom, 1ULL << 39, PG), 0);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_iova_bytes, 0);
	assert_int_equal(ds.ds_pages_mapped, 0);
	/* Accessors and stats take NULL without crashing. */
	assert_int_equal(iommu_domain_sid(NULL), 0);
	assert_int_equal(iommu_domain_asid(NULL), 0);
	assert_int_equal(iommu_domain_iova_strategy(NULL), IOMMU_IOVA_PER_MAP);
	iommu_domain_get_stats(NULL, &ds);
	iommu_domain_get_stats(dom, NULL);
	iommu_domain_config_init(NULL);
	assert_int_equal(iommu_domain_create(NULL, SID + 1, NULL, &x), EINVAL);
	assert_int_equal(
	    iommu_domain_create(fx.fx_smmu, SID + 1, NULL, NULL), EINVAL);
	assert_int_equal(iommu_domain_destroy(NULL), EINVAL);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_destroy_asids),
	    cmocka_unit_test(test_asid_exhaustion),
	    cmocka_unit_test(test_enter_dma_remove),
	    cmocka_unit_test(test_mutants_keep_stale),
	    cmocka_unit_test(test_tlbi_policies),
	    cmocka_unit_test(test_tlbi_range_split),
	    cmocka_unit_test(test_tlbi_range_huge_span),
	    cmocka_unit_test(test_iova_arena),
	    cmocka_unit_test(test_destroy_returns_everything),
	    cmocka_unit_test(test_create_enomem),
	    cmocka_unit_test(test_enter_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
