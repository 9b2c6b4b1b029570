/*
 * Page-table test fixture (see pt_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "pt_fixture.h"
#include "pt_walker.h"
#include "test_alloc.h"

static void
fx_flush_all(void *cookie)
{
	struct pt_fixture *fx = cookie;

	fx->fx_tlb_other++;
}

static void
fx_flush_walk(void *cookie, uint64_t iova, uint64_t size, uint64_t granule)
{
	struct pt_fixture *fx = cookie;

	(void)iova;
	(void)size;
	(void)granule;
	fx->fx_tlb_other++;
}

static void
fx_add_page(void *cookie, uint64_t iova, uint64_t granule)
{
	struct pt_fixture *fx = cookie;
	uint64_t	   n;

	fx->fx_tlb_pages++;
	if (fx->fx_tlb_log != NULL) {
		n = atomic_fetch_add(&fx->fx_tlb_log_n, 1);
		if (n < fx->fx_tlb_log_cap)
			fx->fx_tlb_log[n] = iova;
	}
	fx->fx_tlb_last_iova = iova;
	fx->fx_tlb_last_granule = granule;
}

static const struct iommu_pt_tlb_ops fx_tlb_ops = {
    .tlb_flush_all = fx_flush_all,
    .tlb_flush_walk = fx_flush_walk,
    .tlb_add_page = fx_add_page,
};

void
pt_fixture_init(struct pt_fixture *fx, unsigned ias, unsigned oas)
{
	pt_fixture_init_with(fx, ias, oas, test_cmocka_allocator());
}

void
pt_fixture_init_with(struct pt_fixture *fx, unsigned ias, unsigned oas,
    const struct iommu_allocator *a)
{
	struct iommu_pt_cfg cfg;

	memset(fx, 0, sizeof(*fx));
	fx->fx_ias = ias;
	fx->fx_oas = oas;
	assert_int_equal(
	    iommu_physmem_create(PT_FX_RAM_BASE, PT_FX_RAM_SIZE, a, &fx->fx_pm),
	    0);
	iommu_physmem_mem_ops(fx->fx_pm, &fx->fx_mem);
	assert_int_equal(iommu_pool_create("pted", iommu_pt_pted_item_size(), 0,
			     IOMMU_POOL_PERTHREAD, a, &fx->fx_pted_pool),
	    0);
	assert_int_equal(iommu_pool_create("vp", iommu_pt_vp_item_size(), 0, 0,
			     a, &fx->fx_vp_pool),
	    0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ptc_ias = ias;
	cfg.ptc_oas = oas;
	cfg.ptc_physmem = fx->fx_pm;
	cfg.ptc_pted_pool = fx->fx_pted_pool;
	cfg.ptc_vp_pool = fx->fx_vp_pool;
	cfg.ptc_tlb = &fx_tlb_ops;
	cfg.ptc_tlb_cookie = fx;
	cfg.ptc_alloc = a;
	assert_int_equal(iommu_pt_create(&cfg, &fx->fx_pt), 0);
}

void
pt_fixture_fini(struct pt_fixture *fx)
{
	struct iommu_physmem_stats ps;
	struct iommu_pool_stats	   st;

	assert_int_equal(iommu_pt_validate(fx->fx_pt), 0);
	iommu_pt_destroy(fx->fx_pt);
	fx->fx_pt = NULL;
	iommu_physmem_get_stats(fx->fx_pm, &ps);
	assert_int_equal(ps.ps_frames_in_use, 0);
	iommu_pool_get_stats(fx->fx_pted_pool, &st);
	assert_int_equal(st.pst_items_out, 0);
	iommu_pool_get_stats(fx->fx_vp_pool, &st);
	assert_int_equal(st.pst_items_out, 0);
	assert_int_equal(fx->fx_tlb_other, 0);
	iommu_pool_destroy(fx->fx_pted_pool);
	iommu_pool_destroy(fx->fx_vp_pool);
	iommu_physmem_destroy(fx->fx_pm);
}

void
pt_snapshot_take(struct pt_fixture *fx, struct pt_snapshot *sn)
{
	struct iommu_physmem_stats ps;
	struct iommu_pool_stats	   st;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(
	    pt_walker_digest(&fx->fx_mem, iommu_pt_root_pa(fx->fx_pt),
		fx->fx_ias, &sn->sn_digest, &sn->sn_ndesc),
	    0);
	iommu_physmem_get_stats(fx->fx_pm, &ps);
	sn->sn_frames = ps.ps_frames_in_use;
	iommu_pool_get_stats(fx->fx_pted_pool, &st);
	sn->sn_pteds_out = st.pst_items_out;
	iommu_pool_get_stats(fx->fx_vp_pool, &st);
	sn->sn_vps_out = st.pst_items_out;
	iommu_pt_get_stats(fx->fx_pt, &sn->sn_stats);
	assert_int_equal(iommu_pt_validate(fx->fx_pt), 0);
}

void
pt_snapshot_assert_equal(
    const struct pt_snapshot *a, const struct pt_snapshot *b)
{
	unsigned l;

	assert_int_equal(a->sn_digest, b->sn_digest);
	assert_int_equal(a->sn_ndesc, b->sn_ndesc);
	assert_int_equal(a->sn_frames, b->sn_frames);
	assert_int_equal(a->sn_pteds_out, b->sn_pteds_out);
	assert_int_equal(a->sn_vps_out, b->sn_vps_out);
	for (l = 0; l < 4; l++)
		assert_int_equal(
		    a->sn_stats.pts_levels[l], b->sn_stats.pts_levels[l]);
	assert_int_equal(
	    a->sn_stats.pts_level_allocs, b->sn_stats.pts_level_allocs);
	assert_int_equal(a->sn_stats.pts_pteds, b->sn_stats.pts_pteds);
}
