/*
 * Test-side fixture for the driver suites: RAM + SMMUv3 model + attached
 * driver instance (see drv_fixture.h).
 *
 * Design: the model's host ops are the RAM's own memory ops, its stale
 * reports land in the fixture, and the driver's event callback copies the
 * first DRV_FX_MAX_EVENTS records.  An optional interposer sits between
 * the driver and the model's registers, so a test can watch or falsify
 * MMIO (e.g. a CR0ACK that never follows CR0).
 */
#include <errno.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "drv_fixture.h"
#include "iommu_internal.h"
#include "smmu_internal.h"
#include "test_alloc.h"

static struct drv_fixture *
fx_from_cookie(void *cookie)
{
	return cookie;
}

static void
fx_stale(void *cookie, const struct smmuv3_stale_report *sr)
{
	struct drv_fixture *fx = fx_from_cookie(cookie);

	pthread_mutex_lock(&fx->fx_ev_mtx);
	fx->fx_last_stale = *sr;
	pthread_mutex_unlock(&fx->fx_ev_mtx);
	atomic_fetch_add(&fx->fx_stale, 1);
}

static void
fx_event(void *cookie, const struct iommu_smmu_event *ev)
{
	struct drv_fixture *fx = fx_from_cookie(cookie);

	pthread_mutex_lock(&fx->fx_ev_mtx);
	if (fx->fx_nevents < DRV_FX_MAX_EVENTS)
		fx->fx_events[fx->fx_nevents] = *ev;
	fx->fx_nevents++;
	pthread_mutex_unlock(&fx->fx_ev_mtx);
}

/*
 * Aligned 64-bit units are read and written as single atomic accesses, as
 * a real SMMU's descriptor fetches are (single-copy atomic): a device walk
 * racing with the CPU rewriting the same descriptor is a legal race in
 * the simulated machine, not a host data race.  iommu_physmem_read/_write
 * copy with memcpy, which TSan rightly flags then.
 */
static int
fx_mem_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	struct iommu_physmem *pm = fx_from_cookie(cookie)->fx_pm;
	uint8_t		     *p = buf;
	uint64_t	      v;
	size_t		      i;
	int		      error;

	if (((pa | len) & 7) != 0 || len == 0 || pa + len < pa)
		return iommu_physmem_read(pm, pa, buf, len);
	if (iommu_physmem_kva(pm, pa) == NULL ||
	    iommu_physmem_kva(pm, pa + len - 1) == NULL)
		return EFAULT;
	for (i = 0; i < len; i += 8) {
		if ((error = iommu_physmem_read64(pm, pa + i, &v)) != 0)
			return error;
		iommu__le64_enc(p + i, v);
	}
	return 0;
}

static int
fx_mem_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	struct iommu_physmem *pm = fx_from_cookie(cookie)->fx_pm;
	const uint8_t	     *p = buf;
	size_t		      i;
	int		      error;

	if (((pa | len) & 7) != 0 || len == 0 || pa + len < pa)
		return iommu_physmem_write(pm, pa, buf, len);
	if (iommu_physmem_kva(pm, pa) == NULL ||
	    iommu_physmem_kva(pm, pa + len - 1) == NULL)
		return EFAULT;
	for (i = 0; i < len; i += 8)
		if ((error = iommu_physmem_write64(
			 pm, pa + i, iommu__le64_dec(p + i))) != 0)
			return error;
	return 0;
}

static int
fx_mmio_read(void *cookie, uint64_t off, unsigned size, uint64_t *val)
{
	struct drv_fixture	      *fx = cookie;
	const struct drv_fixture_opts *o = &fx->fx_opts;

	if (o != NULL && o->fo_mmio_read != NULL)
		return o->fo_mmio_read(fx, off, size, val);
	return fx->fx_model_mmio.mmio_read(
	    fx->fx_model_mmio.cookie, off, size, val);
}

static int
fx_mmio_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct drv_fixture	      *fx = cookie;
	const struct drv_fixture_opts *o = &fx->fx_opts;

	if (o != NULL && o->fo_mmio_write != NULL)
		return o->fo_mmio_write(fx, off, size, val);
	return fx->fx_model_mmio.mmio_write(
	    fx->fx_model_mmio.cookie, off, size, val);
}

void
drv_fixture_opts_init(struct drv_fixture_opts *o)
{
	memset(o, 0, sizeof(*o));
	smmuv3_config_init(&o->fo_model);
	o->fo_model.cfg_check_stale = true;
	iommu_smmu_config_init(&o->fo_smmu);
	o->fo_ram_size = DRV_FX_RAM_SIZE;
}

int
drv_fixture_try_init(
    struct drv_fixture *fx, const struct drv_fixture_opts *opts)
{
	static struct drv_fixture_opts defaults;
	struct smmuv3_host_ops	       ho;
	struct iommu_smmu_config       scfg;
	struct iommu_physmem_stats     ps;
	int			       error;

	memset(fx, 0, sizeof(*fx));
	if (opts == NULL) {
		drv_fixture_opts_init(&defaults);
		opts = &defaults;
	}
	fx->fx_opts = *opts;
	fx->fx_user = opts->fo_user;
	fx->fx_alloc =
	    opts->fo_alloc != NULL ? opts->fo_alloc : test_cmocka_allocator();
	pthread_mutex_init(&fx->fx_ev_mtx, NULL);
	assert_int_equal(iommu_physmem_create(DRV_FX_RAM_BASE,
			     opts->fo_ram_size, fx->fx_alloc, &fx->fx_pm),
	    0);
	memset(&ho, 0, sizeof(ho));
	ho.ho_size = sizeof(ho);
	ho.ho_mem_read = fx_mem_read;
	ho.ho_mem_write = fx_mem_write;
	ho.ho_stale = fx_stale;
	assert_int_equal(smmuv3_create(&opts->fo_model, &ho, fx, fx->fx_alloc,
			     &fx->fx_model),
	    0);
	iommu_smmu_model_mmio_ops(fx->fx_model, &fx->fx_model_mmio);

	scfg = opts->fo_smmu;
	scfg.sc_mmio.mmio_read = fx_mmio_read;
	scfg.sc_mmio.mmio_write = fx_mmio_write;
	scfg.sc_mmio.cookie = fx;
	scfg.sc_physmem = fx->fx_pm;
	scfg.sc_alloc = fx->fx_alloc;
	scfg.sc_event_fn = fx_event;
	scfg.sc_event_cookie = fx;
	error = iommu_smmu_attach(&scfg, &fx->fx_smmu);
	if (error != 0) {
		fx->fx_smmu = NULL;
		return error;
	}
	iommu_physmem_get_stats(fx->fx_pm, &ps);
	fx->fx_frames_base = ps.ps_frames_in_use;
	return 0;
}

void
drv_fixture_init(struct drv_fixture *fx, const struct drv_fixture_opts *opts)
{
	assert_int_equal(drv_fixture_try_init(fx, opts), 0);
}

int64_t
drv_fixture_frames_delta(struct drv_fixture *fx)
{
	struct iommu_physmem_stats ps;

	struct iommu_smmu *sc = fx->fx_smmu;
	int64_t		   l2 = 0;
	size_t		   g;

	/* Two-level stream tables keep their L2 tables until detach. */
	if (sc->sc_2lvl)
		for (g = 0; g < sc->sc_ngroups; g++)
			if (sc->sc_l2_pa[g] != 0)
				l2 +=
				    ((int64_t)SMMU_STE_SIZE << SMMU_DRV_SPLIT) /
				    IOMMU_PAGE_SIZE;
	iommu_physmem_get_stats(fx->fx_pm, &ps);
	return (int64_t)ps.ps_frames_in_use - (int64_t)fx->fx_frames_base - l2;
}

size_t
drv_fixture_drain(struct drv_fixture *fx)
{
	size_t n = 0;

	assert_int_equal(iommu_smmu_drain_events(fx->fx_smmu, &n), 0);
	return n;
}

void
drv_fixture_fini(struct drv_fixture *fx)
{
	struct iommu_physmem_stats ps;

	if (fx->fx_smmu != NULL) {
		assert_int_equal(drv_fixture_frames_delta(fx), 0);
		assert_int_equal(iommu_smmu_detach(fx->fx_smmu), 0);
		iommu_physmem_get_stats(fx->fx_pm, &ps);
		assert_int_equal(ps.ps_frames_in_use, 0);
	}
	smmuv3_destroy(fx->fx_model);
	iommu_physmem_destroy(fx->fx_pm);
	pthread_mutex_destroy(&fx->fx_ev_mtx);
	memset(fx, 0, sizeof(*fx));
}

int
drv_dev_read(struct drv_fixture *fx, uint32_t sid, uint64_t iova, void *buf,
    size_t len, struct smmuv3_fault *ft)
{
	memset(ft, 0, sizeof(*ft));
	return smmuv3_dma_read(
	    fx->fx_model, sid, SMMUV3_NO_SSID, iova, buf, len, ft);
}

int
drv_dev_write(struct drv_fixture *fx, uint32_t sid, uint64_t iova,
    const void *buf, size_t len, struct smmuv3_fault *ft)
{
	memset(ft, 0, sizeof(*ft));
	return smmuv3_dma_write(
	    fx->fx_model, sid, SMMUV3_NO_SSID, iova, buf, len, ft);
}

void
drv_fixture_busdma(struct drv_fixture *fx, uint32_t sid,
    const struct iommu_domain_config *dc, struct iommu_domain **dom,
    struct iommu_dma_tag **platform, struct iommu_dma_tag **tag)
{
	assert_int_equal(iommu_domain_create(fx->fx_smmu, sid, dc, dom), 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(fx->fx_pm, fx->fx_alloc, platform),
	    0);
	assert_int_equal(iommu_dma_tag_create_iommu(*dom, *platform, tag), 0);
}

uint64_t
drv_fixture_page(struct drv_fixture *fx)
{
	uint64_t pa;

	assert_int_equal(iommu_physmem_alloc_pages(fx->fx_pm, 1, &pa), 0);
	return pa;
}

void
drv_fixture_finish_domain(
    struct drv_fixture *fx, struct iommu_domain *dom, uint64_t pa)
{
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx->fx_pm, pa, 1), 0);
	(void)drv_fixture_drain(fx);
	drv_fixture_fini(fx);
}
