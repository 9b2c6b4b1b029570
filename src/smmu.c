/*
 * libiommu - SMMU driver instance (OpenBSD smmu(4) smmu_attach): probe the
 * ID registers, allocate the queues and the stream table in simulated
 * RAM, enable the SMMU, and take it down again.
 *
 * Design: the driver reaches the SMMU only through sc_mmio (32- and 64-bit
 * register accesses) and simulated RAM, which it writes through the
 * direct map (iommu_physmem_kva) with explicit little-endian encoding.
 * Enable order (Linux arm_smmu_device_reset): SMMUEN off, GBPA abort,
 * CR1/CR2, stream table and queue bases, CMDQEN, CFGI_ALL + TLBI_NSNH_ALL +
 * CMD_SYNC, EVENTQEN, SMMUEN; every CR0 write waits (bounded) for CR0ACK.
 * Interrupts stay off: events are drained and GERROR is handled on the
 * caller's request.
 *
 * Stream table: linear for small SID spaces or when the SMMU has no
 * two-level support (or sc_force_linear), else two-level with SPLIT 8
 * whose L2 tables (256 STEs, 16 KiB) are allocated when the first domain
 * of their SID group is created and kept until detach.  Unused STEs are
 * left V = 0, so a device the driver never set up gets C_BAD_STE events
 * (and an L1 descriptor with SPAN 0 gives C_BAD_STREAMID): stray DMA is
 * reported, not silently dropped.  A destroyed domain's STE is V = 1,
 * Config = abort: its device's late DMA is terminated without an event.
 * Default SID space: the SMMU's SIDSIZE capped at 16 bits (two-level) or
 * 8 bits (linear); sc_sid_bits asks for a specific size.
 *
 * Not implemented (as the seed's smmu(4)): interrupts (event, GERROR and
 * PRI MSIs or wired lines; the caller polls), the PRI queue, ATS, stage 2
 * and nested translation, substreams (one CD per stream, S1CDMax 0),
 * hitless STE updates (a stream goes through its STE being rewritten
 * whole, DW0 last, then CFGI), stall mode, and 16K/64K granules.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "smmu_internal.h"

int
iommu__smmu_read32(struct iommu_smmu *sc, uint64_t off, uint32_t *v)
{
	uint64_t val = 0;
	int	 error;

	error = sc->sc_mmio.mmio_read(sc->sc_mmio.cookie, off, 4, &val);
	*v = (uint32_t)val;
	return error;
}

int
iommu__smmu_write32(struct iommu_smmu *sc, uint64_t off, uint32_t v)
{
	return sc->sc_mmio.mmio_write(sc->sc_mmio.cookie, off, 4, v);
}

int
iommu__smmu_write64(struct iommu_smmu *sc, uint64_t off, uint64_t v)
{
	return sc->sc_mmio.mmio_write(sc->sc_mmio.cookie, off, 8, v);
}

void
iommu__smmu_pause(unsigned iteration)
{
	if (iteration >= 16)
		sched_yield();
}

/* Polls a register until (v & mask) == want, boundedly. */
static int
smmu_poll(struct iommu_smmu *sc, uint64_t off, uint32_t mask, uint32_t want)
{
	uint32_t v;
	unsigned i;
	int	 error;

	for (i = 0; i < SMMU_DRV_POLL_LIMIT; i++) {
		if ((error = iommu__smmu_read32(sc, off, &v)) != 0)
			return error;
		if ((v & mask) == want)
			return 0;
		iommu__smmu_pause(i);
	}
	return ETIMEDOUT;
}

static int
smmu_write_cr0(struct iommu_smmu *sc, uint32_t cr0)
{
	int error;

	if ((error = iommu__smmu_write32(sc, SMMU_CR0, cr0)) != 0)
		return error;
	return smmu_poll(sc, SMMU_CR0ACK, SMMU_CR0_VALID_MASK, cr0);
}

int
iommu__smmu_alloc_aligned(
    struct iommu_smmu *sc, size_t npages, uint64_t *pa, void **kva)
{
	uint64_t run, start, align = (uint64_t)npages * IOMMU_PAGE_SIZE;
	size_t	 head, total;
	int	 error;

	if (npages == 1) {
		error = iommu_physmem_alloc_pages(sc->sc_pm, 1, pa);
	} else {
		/* Over-allocate, keep the aligned part, give back the rest. */
		total = 2 * npages - 1;
		if ((error = iommu_physmem_alloc_pages(
			 sc->sc_pm, total, &run)) != 0)
			return error;
		start = (run + align - 1) & ~(align - 1);
		head = (size_t)((start - run) / IOMMU_PAGE_SIZE);
		if (head != 0)
			(void)iommu_physmem_free_pages(sc->sc_pm, run, head);
		if (total - head - npages != 0)
			(void)iommu_physmem_free_pages(
			    sc->sc_pm, start + align, total - head - npages);
		*pa = start;
	}
	if (error == 0)
		*kva = iommu_physmem_kva(sc->sc_pm, *pa);
	return error;
}

static int
smmu_probe(struct iommu_smmu *sc, const struct iommu_smmu_config *cfg)
{
	unsigned sidsize, cap, l2;
	int	 error;

	if ((error = iommu__smmu_read32(sc, SMMU_IDR0, &sc->sc_idr0)) != 0 ||
	    (error = iommu__smmu_read32(sc, SMMU_IDR1, &sc->sc_idr1)) != 0 ||
	    (error = iommu__smmu_read32(sc, SMMU_IDR3, &sc->sc_idr3)) != 0 ||
	    (error = iommu__smmu_read32(sc, SMMU_IDR5, &sc->sc_idr5)) != 0)
		return error;
	/* What this driver cannot do without. */
	if (!SMMU_FGET(sc->sc_idr0, SMMU_IDR0_S1P) ||
	    (SMMU_FGET(sc->sc_idr0, SMMU_IDR0_TTF) & 2) == 0 ||
	    SMMU_FGET(sc->sc_idr0, SMMU_IDR0_TTENDIAN) == 3 ||
	    SMMU_FGET(sc->sc_idr0, SMMU_IDR0_TTENDIAN) == 1 ||
	    !SMMU_FGET(sc->sc_idr5, SMMU_IDR5_GRAN4K))
		return ENODEV;
	sc->sc_oas_enc = (unsigned)SMMU_FGET(sc->sc_idr5, SMMU_IDR5_OAS);
	sc->sc_oas_bits = smmu_pa_size_bits(sc->sc_oas_enc);
	if (sc->sc_oas_bits == 0)
		return ENODEV;
	sc->sc_asid_bits = SMMU_FGET(sc->sc_idr0, SMMU_IDR0_ASID16) ? 16 : 8;
	sc->sc_msi = SMMU_FGET(sc->sc_idr0, SMMU_IDR0_MSI) != 0;
	sc->sc_ril = SMMU_FGET(sc->sc_idr3, SMMU_IDR3_RIL) != 0;

	l2 = (unsigned)SMMU_FGET(sc->sc_idr1, SMMU_IDR1_CMDQS);
	if (l2 == 0)
		return ENODEV;
	sc->sc_cmdq_log2 =
	    cfg->sc_cmdq_log2 != 0 ? cfg->sc_cmdq_log2 : SMMU_DRV_CMDQ_LOG2;
	if (sc->sc_cmdq_log2 > l2)
		sc->sc_cmdq_log2 = l2;
	l2 = (unsigned)SMMU_FGET(sc->sc_idr1, SMMU_IDR1_EVENTQS);
	if (l2 == 0)
		return ENODEV;
	sc->sc_evtq_log2 =
	    cfg->sc_evtq_log2 != 0 ? cfg->sc_evtq_log2 : SMMU_DRV_EVTQ_LOG2;
	if (sc->sc_evtq_log2 > l2)
		sc->sc_evtq_log2 = l2;

	sidsize = (unsigned)SMMU_FGET(sc->sc_idr1, SMMU_IDR1_SIDSIZE);
	sc->sc_2lvl = SMMU_FGET(sc->sc_idr0, SMMU_IDR0_ST_LEVEL) == 1 &&
	    !cfg->sc_force_linear;
	if (cfg->sc_sid_bits != 0) {
		if (cfg->sc_sid_bits > sidsize)
			return EINVAL;
		sc->sc_sid_bits = cfg->sc_sid_bits;
	} else {
		cap = sc->sc_2lvl ? SMMU_DRV_SID_BITS_2LVL
				  : SMMU_DRV_SID_BITS_LINEAR;
		sc->sc_sid_bits = sidsize < cap ? sidsize : cap;
	}
	/* A two-level table only pays off beyond one L2 table. */
	if (sc->sc_sid_bits <= SMMU_DRV_SPLIT)
		sc->sc_2lvl = false;
	return 0;
}

static int
smmu_strtab_init(struct iommu_smmu *sc)
{
	uint64_t bytes;
	void	*kva;
	int	 error;

	if (sc->sc_2lvl) {
		sc->sc_ngroups = (size_t)1
		    << (sc->sc_sid_bits - SMMU_DRV_SPLIT);
		bytes = (uint64_t)sc->sc_ngroups * 8;
		sc->sc_l2_pa = iommu__zalloc(
		    sc->sc_alloc, sc->sc_ngroups * sizeof(*sc->sc_l2_pa));
		if (sc->sc_l2_pa == NULL)
			return ENOMEM;
	} else {
		sc->sc_ngroups = sc->sc_sid_bits > SMMU_DRV_SPLIT
		    ? (size_t)1 << (sc->sc_sid_bits - SMMU_DRV_SPLIT)
		    : 1;
		bytes = (uint64_t)SMMU_STE_SIZE << sc->sc_sid_bits;
	}
	sc->sc_domains = iommu__zalloc(
	    sc->sc_alloc, sc->sc_ngroups * sizeof(*sc->sc_domains));
	if (sc->sc_domains == NULL)
		return ENOMEM;
	sc->sc_strtab_pages =
	    (size_t)((bytes + IOMMU_PAGE_SIZE - 1) / IOMMU_PAGE_SIZE);
	error = iommu__smmu_alloc_aligned(
	    sc, sc->sc_strtab_pages, &sc->sc_strtab_pa, &kva);
	if (error != 0) {
		sc->sc_strtab_pages = 0;
		return error;
	}
	sc->sc_strtab_kva = kva;
	return 0;
}

int
iommu__smmu_strtab_ensure(struct iommu_smmu *sc, uint32_t sid)
{
	size_t	 group = sid >> SMMU_DRV_SPLIT;
	uint64_t pa, desc, le;
	void	*kva;
	int	 error;

	if (!sc->sc_2lvl || sc->sc_l2_pa[group] != 0)
		return 0;
	error = iommu__smmu_alloc_aligned(sc,
	    ((size_t)SMMU_STE_SIZE << SMMU_DRV_SPLIT) / IOMMU_PAGE_SIZE, &pa,
	    &kva);
	if (error != 0)
		return error;
	sc->sc_l2_pa[group] = pa;
	desc = (pa & SMMU_L1STD_L2PTR_MASK) |
	    SMMU_FSET(0, SMMU_L1STD_SPAN, SMMU_DRV_SPLIT + 1);
	iommu__le64_enc(&le, desc);
	__atomic_store_n((uint64_t *)(void *)(sc->sc_strtab_kva + group * 8),
	    le, __ATOMIC_RELEASE);
	return 0;
}

uint8_t *
iommu__smmu_ste(struct iommu_smmu *sc, uint32_t sid)
{
	uint8_t *l2;

	if (!sc->sc_2lvl)
		return sc->sc_strtab_kva + (size_t)sid * SMMU_STE_SIZE;
	l2 = iommu_physmem_kva(sc->sc_pm, sc->sc_l2_pa[sid >> SMMU_DRV_SPLIT]);
	return l2 + (size_t)(sid & (SMMU_DRV_GROUP - 1)) * SMMU_STE_SIZE;
}

static void
smmu_free_all(struct iommu_smmu *sc)
{
	size_t g;

	iommu__cmdq_fini(sc);
	if (sc->sc_evtq_pages != 0)
		(void)iommu_physmem_free_pages(
		    sc->sc_pm, sc->sc_evtq_pa, sc->sc_evtq_pages);
	if (sc->sc_l2_pa != NULL) {
		for (g = 0; g < sc->sc_ngroups; g++)
			if (sc->sc_l2_pa[g] != 0)
				(void)iommu_physmem_free_pages(sc->sc_pm,
				    sc->sc_l2_pa[g],
				    ((size_t)SMMU_STE_SIZE << SMMU_DRV_SPLIT) /
					IOMMU_PAGE_SIZE);
		iommu__free(sc->sc_alloc, sc->sc_l2_pa,
		    sc->sc_ngroups * sizeof(*sc->sc_l2_pa));
	}
	if (sc->sc_strtab_pages != 0)
		(void)iommu_physmem_free_pages(
		    sc->sc_pm, sc->sc_strtab_pa, sc->sc_strtab_pages);
	if (sc->sc_domains != NULL) {
		for (g = 0; g < sc->sc_ngroups; g++)
			if (sc->sc_domains[g] != NULL)
				iommu__free(sc->sc_alloc, sc->sc_domains[g],
				    SMMU_DRV_GROUP * sizeof(**sc->sc_domains));
		iommu__free(sc->sc_alloc, sc->sc_domains,
		    sc->sc_ngroups * sizeof(*sc->sc_domains));
	}
	if (sc->sc_asid_map != NULL)
		iommu__free(sc->sc_alloc, sc->sc_asid_map,
		    ((size_t)1 << sc->sc_asid_bits) / 8);
	iommu_pool_destroy(sc->sc_pted_pool);
	iommu_pool_destroy(sc->sc_vp_pool);
	pthread_mutex_destroy(&sc->sc_evt_mtx);
	pthread_mutex_destroy(&sc->sc_dom_mtx);
	iommu__free(sc->sc_alloc, sc, sizeof(*sc));
}

/* Programs the registers and enables the SMMU. */
static int
smmu_enable(struct iommu_smmu *sc)
{
	uint32_t cr0 = 0, v;
	uint64_t cmd[2];
	int	 error;

	if ((error = iommu__smmu_read32(sc, SMMU_CR0, &v)) != 0)
		return error;
	if (v != 0 && (error = smmu_write_cr0(sc, 0)) != 0)
		return error;
	/* Outside the SMMU's control (SMMUEN = 0) transactions abort. */
	v = (uint32_t)(SMMU_FMASK(SMMU_GBPA_ABORT) |
	    SMMU_FMASK(SMMU_GBPA_UPDATE));
	if ((error = iommu__smmu_write32(sc, SMMU_GBPA, v)) != 0 ||
	    (error = smmu_poll(sc, SMMU_GBPA,
		 (uint32_t)SMMU_FMASK(SMMU_GBPA_UPDATE), 0)) != 0)
		return error;
	/* Queues and tables: inner-shareable write-back. */
	v = (uint32_t)(SMMU_FSET(0, SMMU_CR1_QUEUE_IC, 1) |
	    SMMU_FSET(0, SMMU_CR1_QUEUE_OC, 1) |
	    SMMU_FSET(0, SMMU_CR1_QUEUE_SH, 3) |
	    SMMU_FSET(0, SMMU_CR1_TABLE_IC, 1) |
	    SMMU_FSET(0, SMMU_CR1_TABLE_OC, 1) |
	    SMMU_FSET(0, SMMU_CR1_TABLE_SH, 3));
	if ((error = iommu__smmu_write32(sc, SMMU_CR1, v)) != 0)
		return error;
	v = (uint32_t)(SMMU_FSET(0, SMMU_CR2_RECINVSID, 1) |
	    SMMU_FSET(0, SMMU_CR2_PTM, 1));
	if ((error = iommu__smmu_write32(sc, SMMU_CR2, v)) != 0)
		return error;

	v = (uint32_t)SMMU_FSET(
	    0, SMMU_STRTAB_BASE_CFG_LOG2SIZE, sc->sc_sid_bits);
	if (sc->sc_2lvl) {
		v = (uint32_t)SMMU_FSET(
		    v, SMMU_STRTAB_BASE_CFG_FMT, SMMU_STRTAB_FMT_2LVL);
		v = (uint32_t)SMMU_FSET(
		    v, SMMU_STRTAB_BASE_CFG_SPLIT, SMMU_DRV_SPLIT);
	}
	if ((error = iommu__smmu_write64(sc, SMMU_STRTAB_BASE,
		 (sc->sc_strtab_pa & SMMU_STRTAB_BASE_ADDR_MASK) |
		     SMMU_FSET(0, SMMU_STRTAB_BASE_RA, 1))) != 0 ||
	    (error = iommu__smmu_write32(sc, SMMU_STRTAB_BASE_CFG, v)) != 0)
		return error;

	if ((error = iommu__smmu_write64(sc, SMMU_CMDQ_BASE,
		 (sc->sc_cmdq_pa & SMMU_Q_BASE_ADDR_MASK) |
		     SMMU_FSET(0, SMMU_Q_BASE_RWA, 1) |
		     SMMU_FSET(0, SMMU_Q_BASE_LOG2SIZE, sc->sc_cmdq_log2))) !=
		0 ||
	    (error = iommu__smmu_write32(sc, SMMU_CMDQ_PROD, 0)) != 0 ||
	    (error = iommu__smmu_write32(sc, SMMU_CMDQ_CONS, 0)) != 0)
		return error;
	if ((error = iommu__smmu_write64(sc, SMMU_EVENTQ_BASE,
		 (sc->sc_evtq_pa & SMMU_Q_BASE_ADDR_MASK) |
		     SMMU_FSET(0, SMMU_Q_BASE_RWA, 1) |
		     SMMU_FSET(0, SMMU_Q_BASE_LOG2SIZE, sc->sc_evtq_log2))) !=
		0 ||
	    (error = iommu__smmu_write32(sc, SMMU_EVENTQ_PROD, 0)) != 0 ||
	    (error = iommu__smmu_write32(sc, SMMU_EVENTQ_CONS, 0)) != 0)
		return error;
	/* No interrupts: the caller drains events and handles GERROR. */
	if ((error = iommu__smmu_write32(sc, SMMU_IRQ_CTRL, 0)) != 0)
		return error;

	cr0 |= (uint32_t)SMMU_FMASK(SMMU_CR0_CMDQEN);
	if ((error = smmu_write_cr0(sc, cr0)) != 0)
		return error;
	iommu__spin_lock(&sc->sc_cmd_mtx);
	cmd[0] = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_CFGI_STE_RANGE);
	cmd[1] = SMMU_FSET(0, SMMU_CMD1_RANGE, SMMU_CFGI_RANGE_ALL);
	error = iommu__cmdq_put(sc, cmd[0], cmd[1]);
	if (error == 0)
		error = iommu__cmdq_put(
		    sc, SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NSNH_ALL), 0);
	if (error == 0)
		error = iommu__cmdq_sync(sc);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	if (error != 0)
		return error;
	cr0 |= (uint32_t)SMMU_FMASK(SMMU_CR0_EVENTQEN);
	if ((error = smmu_write_cr0(sc, cr0)) != 0)
		return error;
	cr0 |= (uint32_t)SMMU_FMASK(SMMU_CR0_SMMUEN);
	return smmu_write_cr0(sc, cr0);
}

void
iommu_smmu_config_init(struct iommu_smmu_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->sc_size = sizeof(*cfg);
	cfg->sc_tlbi = IOMMU_TLBI_PER_PAGE;
}

int
iommu_smmu_attach(const struct iommu_smmu_config *cfg, struct iommu_smmu **out)
{
	const struct iommu_allocator *a;
	struct iommu_smmu	     *sc;
	int			      error;

	if (out == NULL || cfg == NULL || cfg->sc_size != sizeof(*cfg) ||
	    cfg->sc_mmio.mmio_read == NULL || cfg->sc_mmio.mmio_write == NULL ||
	    cfg->sc_physmem == NULL ||
	    (unsigned)cfg->sc_tlbi > IOMMU_TLBI_RANGE ||
	    (cfg->sc_mutations & ~SMMU_DRV_MUTANTS) != 0 ||
	    cfg->sc_cmdq_log2 > 19 || cfg->sc_evtq_log2 > 19 ||
	    cfg->sc_sid_bits > SMMU_DRV_SID_BITS_MAX)
		return EINVAL;
	*out = NULL;
	a = iommu__allocator_or_default(cfg->sc_alloc);
	if ((sc = iommu__zalloc(a, sizeof(*sc))) == NULL)
		return ENOMEM;
	sc->sc_alloc = a;
	sc->sc_mmio = cfg->sc_mmio;
	sc->sc_pm = cfg->sc_physmem;
	sc->sc_event_fn = cfg->sc_event_fn;
	sc->sc_event_cookie = cfg->sc_event_cookie;
	sc->sc_tlbi = cfg->sc_tlbi;
	sc->sc_mutations = cfg->sc_mutations;
	iommu__spin_init(&sc->sc_cmd_mtx);
	pthread_mutex_init(&sc->sc_evt_mtx, NULL);
	pthread_mutex_init(&sc->sc_dom_mtx, NULL);

	if ((error = smmu_probe(sc, cfg)) != 0)
		goto fail;
	if (sc->sc_tlbi == IOMMU_TLBI_RANGE && !sc->sc_ril)
		sc->sc_tlbi = IOMMU_TLBI_PER_PAGE;
	error = iommu_pool_create("smmu pted", iommu_pt_pted_item_size(), 0,
	    cfg->sc_pted_percpu ? IOMMU_POOL_PERTHREAD : 0, a,
	    &sc->sc_pted_pool);
	if (error == 0)
		error = iommu_pool_create("smmu vp", iommu_pt_vp_item_size(), 0,
		    0, a, &sc->sc_vp_pool);
	if (error != 0)
		goto fail;
	sc->sc_asid_map = iommu__zalloc(a, ((size_t)1 << sc->sc_asid_bits) / 8);
	if (sc->sc_asid_map == NULL) {
		error = ENOMEM;
		goto fail;
	}
	sc->sc_asid_map[0] = 1; /* ASID 0 is never handed out */
	if ((error = iommu__cmdq_init(sc)) != 0 ||
	    (error = iommu__evtq_init(sc)) != 0 ||
	    (error = smmu_strtab_init(sc)) != 0)
		goto fail;
	if ((error = smmu_enable(sc)) != 0) {
		(void)smmu_write_cr0(sc, 0);
		goto fail;
	}
	*out = sc;
	return 0;
fail:
	smmu_free_all(sc);
	return error;
}

int
iommu_smmu_detach(struct iommu_smmu *sc)
{
	int error;

	if (sc == NULL)
		return EINVAL;
	pthread_mutex_lock(&sc->sc_dom_mtx);
	if (sc->sc_ndomains != 0) {
		pthread_mutex_unlock(&sc->sc_dom_mtx);
		return EBUSY;
	}
	pthread_mutex_unlock(&sc->sc_dom_mtx);
	/* Even if the SMMU does not acknowledge, the memory goes. */
	error = smmu_write_cr0(sc, 0);
	smmu_free_all(sc);
	return error;
}

void
iommu_smmu_get_stats(struct iommu_smmu *sc, struct iommu_smmu_stats *st)
{
	if (sc == NULL || st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	st->ss_commands = atomic_load(&sc->sc_stats.commands);
	st->ss_syncs = atomic_load(&sc->sc_stats.syncs);
	st->ss_cmdq_full_waits = atomic_load(&sc->sc_stats.full_waits);
	st->ss_cmd_errors = atomic_load(&sc->sc_stats.cmd_errors);
	st->ss_events = atomic_load(&sc->sc_stats.events);
	st->ss_events_lost = atomic_load(&sc->sc_stats.events_lost);
	pthread_mutex_lock(&sc->sc_dom_mtx);
	st->ss_domains = sc->sc_ndomains;
	pthread_mutex_unlock(&sc->sc_dom_mtx);
}
