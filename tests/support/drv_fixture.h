/*
 * Test-side fixture for the driver suites (domain, bus_dma): simulated RAM,
 * an SMMUv3 model reading and writing that RAM, and a driver instance
 * attached to the model through MMIO only.
 *
 * Design: drv_fixture_opts starts from the model's and the driver's
 * defaults (plus the model's stale-translation checker switched on) and
 * the test edits what it needs before drv_fixture_init().  The fixture
 * records every stale report and every event record the driver drains,
 * so a test can assert on them; fx_frames_base is the RAM in use right
 * after attach (stream table, queues), what domains must give back.
 * Host memory comes from cmocka's leak-checking allocator unless the test
 * passes another one (threaded tests: cmocka's is not thread-safe).
 */
#ifndef DRV_FIXTURE_H
#define DRV_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#define DRV_FX_RAM_BASE	  0x80000000ULL
#define DRV_FX_RAM_SIZE	  (64ULL << 20)
#define DRV_FX_MAX_EVENTS 64

struct drv_fixture_opts {
	struct smmuv3_config	      fo_model; /* smmuv3_config_init + stale */
	struct iommu_smmu_config      fo_smmu;	/* iommu_smmu_config_init */
	uint64_t		      fo_ram_size; /* DRV_FX_RAM_SIZE */
	const struct iommu_allocator *fo_alloc;	   /* NULL: cmocka's */
	/* Optional MMIO interposer (wraps the model's ops); NULL: none. */
	int (*fo_mmio_read)(
	    void *fx, uint64_t off, unsigned size, uint64_t *val);
	int (*fo_mmio_write)(
	    void *fx, uint64_t off, unsigned size, uint64_t val);
	void *fo_user; /* becomes fx_user before attach */
};

struct drv_fixture {
	struct iommu_physmem	     *fx_pm;
	struct smmuv3		     *fx_model;
	struct iommu_smmu	     *fx_smmu;
	struct iommu_mmio_ops	      fx_model_mmio; /* straight to the model */
	const struct iommu_allocator *fx_alloc;
	uint64_t		      fx_frames_base; /* in use after attach */
	struct drv_fixture_opts	      fx_opts; /* a copy of what init got */
	void			     *fx_user; /* opts->fo_user */

	_Atomic uint64_t	   fx_stale; /* stale-translation reports */
	struct smmuv3_stale_report fx_last_stale;

	pthread_mutex_t		fx_ev_mtx;
	size_t			fx_nevents; /* events drained so far */
	struct iommu_smmu_event fx_events[DRV_FX_MAX_EVENTS]; /* first ones */
};

void drv_fixture_opts_init(struct drv_fixture_opts *);
/* Sets everything up (asserts on failure); opts NULL: the defaults. */
void drv_fixture_init(struct drv_fixture *, const struct drv_fixture_opts *);
/*
 * As drv_fixture_init but returns iommu_smmu_attach()'s error; on an error
 * fx_smmu is NULL and drv_fixture_fini() still cleans up.
 */
int drv_fixture_try_init(struct drv_fixture *, const struct drv_fixture_opts *);
/*
 * Detaches (asserting success and that every domain frame came back) and
 * destroys the model and RAM.
 */
void drv_fixture_fini(struct drv_fixture *);
/*
 * The common end of a one-domain test: the domain destroys cleanly, its
 * one-page buffer at pa is freed, pending events are drained and the
 * fixture is torn down.
 */
void drv_fixture_finish_domain(
    struct drv_fixture *, struct iommu_domain *, uint64_t pa);
/*
 * Frames in use now, minus fx_frames_base and the two-level stream table's
 * L2 tables (created with the first domain of a SID group, kept until
 * detach): 0 when every domain gave its frames back.
 */
int64_t drv_fixture_frames_delta(struct drv_fixture *);
/* Drains the event queue into fx_events; returns how many were drained. */
size_t drv_fixture_drain(struct drv_fixture *);

/*
 * A device behind the SMMU reads or writes len bytes at iova with stream
 * sid (no substream): smmuv3_dma_read/_write's result, *ft the fault.
 */
int drv_dev_read(struct drv_fixture *, uint32_t sid, uint64_t iova, void *buf,
    size_t len, struct smmuv3_fault *ft);
int drv_dev_write(struct drv_fixture *, uint32_t sid, uint64_t iova,
    const void *buf, size_t len, struct smmuv3_fault *ft);
/*
 * A domain for sid made with dc, a platform tag over the fixture's RAM and
 * the domain's IOMMU tag over that (asserts each step).
 */
void drv_fixture_busdma(struct drv_fixture *, uint32_t sid,
    const struct iommu_domain_config *dc, struct iommu_domain **dom,
    struct iommu_dma_tag **platform, struct iommu_dma_tag **tag);
/* One zeroed frame of RAM (asserts); free with iommu_physmem_free_pages. */
uint64_t drv_fixture_page(struct drv_fixture *);

#endif /* DRV_FIXTURE_H */
