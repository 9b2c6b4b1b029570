/*
 * Randomised round trip for SMMU driver domains: a seeded sequence of
 * loads (IOVA from the arena, 1..4 pages entered at random frames) and
 * unloads (remove, sync, IOVA back), checked against a trivial reference
 * (the list of loaded regions) by device DMA through the model after
 * every step: every loaded page reads its frame's tag, every page of a
 * region just unloaded faults, and the stale checker never fires.  Runs
 * once per TLBI policy, with a small command queue so it wraps and fills.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/domain.h>
#include <iommu/extent.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"

#define SID	0x31u
#define NFRAMES 32
#define NSLOTS	16
#define MAXPG	4

struct slot {
	bool			   sl_used;
	struct iommu_extent_region sl_er;
	uint64_t		   sl_iova;
	unsigned		   sl_npages;
	unsigned		   sl_frame[MAXPG];
};

static uint64_t frames[NFRAMES];

static void
check_page(struct drv_fixture *fx, uint64_t iova, int frame)
{
	struct smmuv3_fault ft;
	uint64_t	    v;

	if (frame < 0) {
		assert_int_equal(
		    drv_dev_read(fx, SID, iova, &v, 8, &ft), EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
		return;
	}
	assert_int_equal(drv_dev_read(fx, SID, iova, &v, 8, &ft), 0);
	assert_int_equal(v, 0x7a900000u + (unsigned)frame);
}

static void
run_random(enum iommu_tlbi_policy pol, uint64_t seed)
{
	struct drv_fixture_opts	  o;
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_domain_stats ds;
	struct test_rng		  rng;
	struct slot		  sl[NSLOTS];
	unsigned		  step, nsteps = (unsigned)test_scale(1500);
	unsigned		  i, k, p;

	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_tlbi = pol;
	o.fo_smmu.sc_cmdq_log2 = 3;
	o.fo_smmu.sc_evtq_log2 = 10;
	drv_fixture_init(&fx, &o);
	test_rng_seed(&rng, seed);
	for (i = 0; i < NFRAMES; i++) {
		frames[i] = drv_fixture_page(&fx);
		assert_int_equal(
		    iommu_physmem_write64(fx.fx_pm, frames[i], 0x7a900000u + i),
		    0);
	}
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	memset(sl, 0, sizeof(sl));
	for (step = 0; step < nsteps; step++) {
		k = (unsigned)test_rng_below(&rng, NSLOTS);
		if (!sl[k].sl_used) {
			sl[k].sl_npages =
			    1 + (unsigned)test_rng_below(&rng, MAXPG);
			assert_int_equal(
			    iommu_domain_iova_alloc(dom,
				sl[k].sl_npages * IOMMU_PAGE_SIZE,
				test_rng_below(&rng, 2) ? &sl[k].sl_er : NULL,
				&sl[k].sl_iova),
			    0);
			for (p = 0; p < sl[k].sl_npages; p++) {
				sl[k].sl_frame[p] =
				    (unsigned)test_rng_below(&rng, NFRAMES);
				assert_int_equal(
				    iommu_domain_enter(dom,
					sl[k].sl_iova + p * IOMMU_PAGE_SIZE,
					frames[sl[k].sl_frame[p]],
					IOMMU_PROT_READ | IOMMU_PROT_WRITE,
					IOMMU_CACHE_WB),
				    0);
			}
			sl[k].sl_used = true;
		} else {
			for (p = 0; p < sl[k].sl_npages; p++)
				assert_int_equal(
				    iommu_domain_remove(dom,
					sl[k].sl_iova + p * IOMMU_PAGE_SIZE),
				    0);
			assert_int_equal(iommu_domain_sync(dom), 0);
			for (p = 0; p < sl[k].sl_npages; p++)
				check_page(&fx,
				    sl[k].sl_iova + p * IOMMU_PAGE_SIZE, -1);
			assert_int_equal(
			    iommu_domain_iova_free(dom, sl[k].sl_iova,
				sl[k].sl_npages * IOMMU_PAGE_SIZE),
			    0);
			sl[k].sl_used = false;
		}
		/* Some loaded page, through the TLB when it is warm. */
		i = (unsigned)test_rng_below(&rng, NSLOTS);
		if (sl[i].sl_used) {
			p = (unsigned)test_rng_below(&rng, sl[i].sl_npages);
			check_page(&fx, sl[i].sl_iova + p * IOMMU_PAGE_SIZE,
			    (int)sl[i].sl_frame[p]);
		}
		if (step % 256 == 255)
			(void)drv_fixture_drain(&fx);
	}
	for (i = 0; i < NSLOTS; i++)
		for (p = 0; sl[i].sl_used && p < sl[i].sl_npages; p++)
			check_page(&fx, sl[i].sl_iova + p * IOMMU_PAGE_SIZE,
			    (int)sl[i].sl_frame[p]);
	assert_int_equal(fx.fx_stale, 0);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_enters - ds.ds_removes, ds.ds_pages_mapped);
	assert_int_equal(ds.ds_iova_failures, 0);
	/* Destroy with what is still loaded; descriptors in sl die first. */
	assert_int_equal(iommu_domain_destroy(dom), 0);
	for (i = 0; i < NFRAMES; i++)
		assert_int_equal(
		    iommu_physmem_free_pages(fx.fx_pm, frames[i], 1), 0);
	(void)drv_fixture_drain(&fx);
	drv_fixture_fini(&fx);
}

static void
test_random_per_page(void **state)
{
	(void)state;
	run_random(IOMMU_TLBI_PER_PAGE, 1);
}

static void
test_random_asid(void **state)
{
	(void)state;
	run_random(IOMMU_TLBI_ASID, 2);
}

static void
test_random_range(void **state)
{
	(void)state;
	run_random(IOMMU_TLBI_RANGE, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_per_page),
	    cmocka_unit_test(test_random_asid),
	    cmocka_unit_test(test_random_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
