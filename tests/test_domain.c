/*
 * Tests for the SMMU driver instance (src/smmu.c, smmu_cmdq.c,
 * smmu_events.c) against the bundled SMMUv3 model, reached only through
 * MMIO and simulated RAM: attach with linear and two-level stream tables,
 * missing features (ENODEV), the CR0/CR0ACK sequence and its timeout,
 * command-queue wrap with a tiny queue, a command error surfaced to the
 * caller, GERROR handling, and event-queue draining of real faults and
 * of an overflow.  Domain tests are in test_domain_map.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/domain.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"

#define SID 0x11u

static uint64_t
model_reg(struct drv_fixture *fx, uint64_t off)
{
	uint64_t v;

	assert_int_equal(smmuv3_mmio_read(fx->fx_model, off, 4, &v), 0);
	return v;
}

static uint64_t
model_cmds(struct drv_fixture *fx, uint8_t op)
{
	static struct smmuv3_stats st;

	smmuv3_get_stats(fx->fx_model, &st);
	return st.st_commands_by_op[op];
}

static void
test_attach_two_level(void **state)
{
	struct drv_fixture	fx;
	struct iommu_smmu_stats st;
	struct iommu_domain    *dom;
	uint64_t		v;
	uint32_t		hisid = 0xbeefu;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_true(fx.fx_smmu->sc_2lvl);
	assert_int_equal(fx.fx_smmu->sc_sid_bits, 16);
	v = model_reg(&fx, SMMU_STRTAB_BASE_CFG);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_FMT), 1);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_SPLIT), 8);
	assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_LOG2SIZE), 16);
	assert_int_equal(model_reg(&fx, SMMU_CR0ACK), 0xd); /* all enabled */
	assert_int_equal(model_reg(&fx, SMMU_CR0), 0xd);
	assert_int_equal(
	    SMMU_FGET(model_reg(&fx, SMMU_GBPA), SMMU_GBPA_ABORT), 1);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_syncs, 1);
	assert_int_equal(st.ss_commands, 3);
	assert_int_equal(st.ss_domains, 0);

	/* L2 tables appear with the first domain of their SID group. */
	assert_int_equal(fx.fx_smmu->sc_l2_pa[hisid >> 8], 0);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, hisid, NULL, &dom), 0);
	assert_int_not_equal(fx.fx_smmu->sc_l2_pa[hisid >> 8], 0);
	assert_int_equal(fx.fx_smmu->sc_l2_pa[0], 0);
	assert_int_equal(iommu_smmu_detach(fx.fx_smmu), EBUSY);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_domains, 1);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

static void
test_attach_linear(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom, *dom2;
	uint64_t		v;

	(void)state;
	/* An SMMU without two-level tables, and one forced linear. */
	for (int i = 0; i < 2; i++) {
		drv_fixture_opts_init(&o);
		if (i == 0)
			o.fo_model.cfg_two_level_strtab = false;
		else
			o.fo_smmu.sc_force_linear = true;
		drv_fixture_init(&fx, &o);
		assert_false(fx.fx_smmu->sc_2lvl);
		v = model_reg(&fx, SMMU_STRTAB_BASE_CFG);
		assert_int_equal(SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_FMT), 0);
		assert_int_equal(
		    SMMU_FGET(v, SMMU_STRTAB_BASE_CFG_LOG2SIZE), 8);
		assert_int_equal(
		    iommu_domain_create(fx.fx_smmu, 0xff, NULL, &dom), 0);
		assert_int_equal(
		    iommu_domain_create(fx.fx_smmu, 0x100, NULL, &dom2),
		    ERANGE);
		assert_null(dom2);
		assert_int_equal(iommu_domain_destroy(dom), 0);
		drv_fixture_fini(&fx);
	}
	/* A small SID space stays linear even when two-level is offered. */
	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_sid_bits = 6;
	drv_fixture_init(&fx, &o);
	assert_false(fx.fx_smmu->sc_2lvl);
	assert_int_equal(SMMU_FGET(model_reg(&fx, SMMU_STRTAB_BASE_CFG),
			     SMMU_STRTAB_BASE_CFG_LOG2SIZE),
	    6);
	drv_fixture_fini(&fx);
	/* More SID bits than the SMMU has. */
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_sidsize = 8;
	o.fo_smmu.sc_sid_bits = 9;
	assert_int_equal(drv_fixture_try_init(&fx, &o), EINVAL);
	drv_fixture_fini(&fx);
}

/* Interposer: the ID registers of a less capable SMMU. */
struct idr_patch {
	uint64_t off;
	uint32_t clear, set;
};

static int
patch_idr_read(void *cookie, uint64_t off, unsigned size, uint64_t *val)
{
	struct drv_fixture *fx = cookie;
	struct idr_patch   *p = fx->fx_user;
	int		    error;

	error = smmuv3_mmio_read(fx->fx_model, off, size, val);
	if (error == 0 && off == p->off)
		*val = (*val & ~(uint64_t)p->clear) | p->set;
	return error;
}

static void
test_attach_enodev(void **state)
{
	static const struct idr_patch patches[] = {
	    {SMMU_IDR0, 1u << 1, 0},	     /* no stage 1 */
	    {SMMU_IDR0, 3u << 2, 1u << 2},   /* AArch32 tables only */
	    {SMMU_IDR0, 3u << 21, 3u << 21}, /* big-endian tables only */
	    {SMMU_IDR5, 1u << 4, 0},	     /* no 4K granule */
	    {SMMU_IDR5, 7u, 7u},	     /* reserved OAS */
	    {SMMU_IDR1, 0x1fu << 21, 0},     /* no command queue */
	};
	struct drv_fixture_opts	   o;
	struct drv_fixture	   fx;
	struct iommu_physmem_stats ps;
	size_t			   i;

	(void)state;
	for (i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		drv_fixture_opts_init(&o);
		o.fo_mmio_read = patch_idr_read;
		o.fo_user = (void *)(uintptr_t)&patches[i];
		assert_int_equal(drv_fixture_try_init(&fx, &o), ENODEV);
		iommu_physmem_get_stats(fx.fx_pm, &ps);
		assert_int_equal(ps.ps_frames_in_use, 0);
		/* Nothing was enabled. */
		assert_int_equal(model_reg(&fx, SMMU_CR0), 0);
		drv_fixture_fini(&fx);
	}
	/* The model's own configuration without a 4K granule. */
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_granules = SMMUV3_GRAN_64K;
	assert_int_equal(drv_fixture_try_init(&fx, &o), ENODEV);
	drv_fixture_fini(&fx);
}

/* Interposer: log every register write. */
struct wlog {
	size_t	 n;
	uint64_t off[64], val[64];
	bool	 no_ack; /* CR0ACK reads as 0 */
};

static int
log_read(void *cookie, uint64_t off, unsigned size, uint64_t *val)
{
	struct drv_fixture *fx = cookie;
	struct wlog	   *l = fx->fx_user;
	int		    error;

	error = smmuv3_mmio_read(fx->fx_model, off, size, val);
	if (l->no_ack && off == SMMU_CR0ACK)
		*val = 0;
	return error;
}

static int
log_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct drv_fixture *fx = cookie;
	struct wlog	   *l = fx->fx_user;

	if (l->n < 64) {
		l->off[l->n] = off;
		l->val[l->n] = val;
	}
	l->n++;
	return smmuv3_mmio_write(fx->fx_model, off, size, val);
}

static size_t
wlog_find(const struct wlog *l, uint64_t off, uint64_t val, size_t from)
{
	size_t i;

	for (i = from; i < l->n && i < 64; i++)
		if (l->off[i] == off && (val == UINT64_MAX || l->val[i] == val))
			return i;
	fail_msg("no write of 0x%llx to 0x%llx", (unsigned long long)val,
	    (unsigned long long)off);
	return 0;
}

static void
test_attach_cr0ack_sequence(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct wlog		l;
	size_t			cmdqen, evtqen, smmuen, i;

	(void)state;
	memset(&l, 0, sizeof(l));
	drv_fixture_opts_init(&o);
	o.fo_mmio_read = log_read;
	o.fo_mmio_write = log_write;
	o.fo_user = &l;
	drv_fixture_init(&fx, &o);
	cmdqen = wlog_find(&l, SMMU_CR0, 0x8, 0);
	evtqen = wlog_find(&l, SMMU_CR0, 0xc, cmdqen);
	smmuen = wlog_find(&l, SMMU_CR0, 0xd, evtqen);
	assert_true(smmuen > evtqen);
	/* Tables, queues and GBPA are programmed before anything is on. */
	assert_true(wlog_find(&l, SMMU_GBPA, UINT64_MAX, 0) < cmdqen);
	assert_true(wlog_find(&l, SMMU_STRTAB_BASE, UINT64_MAX, 0) < cmdqen);
	assert_true(
	    wlog_find(&l, SMMU_STRTAB_BASE_CFG, UINT64_MAX, 0) < cmdqen);
	assert_true(wlog_find(&l, SMMU_CMDQ_BASE, UINT64_MAX, 0) < cmdqen);
	assert_true(wlog_find(&l, SMMU_EVENTQ_BASE, UINT64_MAX, 0) < cmdqen);
	assert_true(wlog_find(&l, SMMU_CR1, UINT64_MAX, 0) < cmdqen);
	/* The initial invalidation runs between CMDQEN and EVENTQEN. */
	i = wlog_find(&l, SMMU_CMDQ_PROD, 3, cmdqen);
	assert_true(i < evtqen);
	assert_int_equal(model_cmds(&fx, SMMU_OP_CFGI_STE_RANGE), 1);
	assert_int_equal(model_cmds(&fx, SMMU_OP_TLBI_NSNH_ALL), 1);
	assert_int_equal(model_cmds(&fx, SMMU_OP_CMD_SYNC), 1);
	/* Detach: SMMUEN off last. */
	l.n = 0;
	assert_int_equal(iommu_smmu_detach(fx.fx_smmu), 0);
	fx.fx_smmu = NULL;
	assert_int_equal(l.off[0], SMMU_CR0);
	assert_int_equal(l.val[0], 0);
	assert_int_equal(model_reg(&fx, SMMU_CR0ACK), 0);
	drv_fixture_fini(&fx);

	/* An SMMU that never acknowledges: ETIMEDOUT, nothing leaked. */
	memset(&l, 0, sizeof(l));
	l.no_ack = true;
	assert_int_equal(drv_fixture_try_init(&fx, &o), ETIMEDOUT);
	drv_fixture_fini(&fx);
}

/*
 * Interposer: at every CMDQ_PROD write, look at the commands published
 * and at the configuration in RAM they invalidate.
 */
struct order_log {
	bool	 drop_prod; /* a dead SMMU: PROD writes are lost */
	unsigned n;
	uint8_t	 op[16];	 /* first command of each batch */
	bool	 ste_valid[16];	 /* STE.V of SID at that moment */
	unsigned ste_config[16]; /* STE.Config */
	bool	 cd_valid[16];	 /* V of the CD the STE points at */
};

static int
order_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct drv_fixture *fx = cookie;
	struct order_log   *l = fx->fx_user;
	struct iommu_smmu  *sc = fx->fx_smmu;
	uint64_t	    ste0, cd0, cmd0, cons;
	uint8_t		    buf[8];

	if (off == SMMU_CMDQ_PROD && l->drop_prod)
		return 0;
	if (off == SMMU_CMDQ_PROD && sc != NULL && l->n < 16) {
		assert_int_equal(
		    smmuv3_mmio_read(fx->fx_model, SMMU_CMDQ_CONS, 4, &cons),
		    0);
		cmd0 = iommu__le64_dec(sc->sc_cmdq_kva +
		    SMMU_Q_IDX(cons, sc->sc_cmdq_log2) * SMMU_CMD_SIZE);
		l->op[l->n] = (uint8_t)SMMU_FGET(cmd0, SMMU_CMD0_OP);
		if (!sc->sc_2lvl || sc->sc_l2_pa[SID >> 8] != 0) {
			ste0 = iommu__le64_dec(iommu__smmu_ste(sc, SID));
			l->ste_valid[l->n] = SMMU_FGET(ste0, SMMU_STE0_V);
			l->ste_config[l->n] =
			    (unsigned)SMMU_FGET(ste0, SMMU_STE0_CONFIG);
			if ((ste0 & SMMU_STE0_S1CTXPTR_MASK) != 0) {
				assert_int_equal(
				    iommu_physmem_read(fx->fx_pm,
					ste0 & SMMU_STE0_S1CTXPTR_MASK, buf, 8),
				    0);
				cd0 = iommu__le64_dec(buf);
				l->cd_valid[l->n] = SMMU_FGET(cd0, SMMU_CD0_V);
			}
		}
		l->n++;
	}
	return smmuv3_mmio_write(fx->fx_model, off, size, val);
}

/* CD before STE, each published with its CFGI; destroy aborts first. */
static void
test_config_order(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct order_log	l;
	struct iommu_domain    *dom;

	(void)state;
	memset(&l, 0, sizeof(l));
	drv_fixture_opts_init(&o);
	o.fo_mmio_write = order_write;
	o.fo_user = &l;
	drv_fixture_init(&fx, &o);
	assert_int_equal(l.n, 0); /* fx_smmu was not set during attach */
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	assert_int_equal(l.n, 2);
	/* Batch 1: CFGI_CD with the CD written and the STE still invalid. */
	assert_int_equal(l.op[0], SMMU_OP_CFGI_CD);
	assert_false(l.ste_valid[0]);
	/* Batch 2: CFGI_STE with a valid STE pointing at a valid CD. */
	assert_int_equal(l.op[1], SMMU_OP_CFGI_STE);
	assert_true(l.ste_valid[1]);
	assert_int_equal(l.ste_config[1], SMMU_STE_CONFIG_S1);
	assert_true(l.cd_valid[1]);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(l.n, 3);
	/* Destroy: CFGI_STE published with the STE already aborting. */
	assert_int_equal(l.op[2], SMMU_OP_CFGI_STE);
	assert_true(l.ste_valid[2]);
	assert_int_equal(l.ste_config[2], SMMU_STE_CONFIG_ABORT);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_fini(&fx);
}

/* An SMMU that stops consuming: bounded waits, nothing dropped. */
static void
test_dead_smmu_timeout(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct order_log	l;
	struct iommu_domain    *dom;
	struct smmuv3_fault	ft;
	uint64_t		pa, before;
	uint8_t			b;
	unsigned		i;

	(void)state;
	memset(&l, 0, sizeof(l));
	drv_fixture_opts_init(&o);
	o.fo_mmio_write = order_write;
	o.fo_user = &l;
	o.fo_smmu.sc_cmdq_log2 = 2;
	drv_fixture_init(&fx, &o);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	pa = drv_fixture_page(&fx);
	for (i = 0; i < 6; i++) {
		assert_int_equal(iommu_domain_enter(dom, 0x10000 + i * 0x1000,
				     pa, IOMMU_PROT_READ, IOMMU_CACHE_WB),
		    0);
		assert_int_equal(
		    drv_dev_read(&fx, SID, 0x10000 + i * 0x1000, &b, 1, &ft),
		    0);
	}
	l.n = 16; /* stop logging */
	l.drop_prod = true;
	before = fx.fx_smmu->sc_cmdq_prod;
	assert_int_equal(iommu_domain_remove(dom, 0x10000), 0);
	assert_int_equal(iommu_domain_sync(dom), ETIMEDOUT);
	/* Queue full with the SMMU dead: the TLBI is owed, not dropped. */
	for (i = 1; i < 6; i++)
		assert_int_equal(
		    iommu_domain_remove(dom, 0x10000 + i * 0x1000), 0);
	assert_true(fx.fx_smmu->sc_cmdq_prod != before);
	assert_int_equal(iommu_domain_sync(dom), ETIMEDOUT);
	/* The SMMU comes back: everything owed reaches it. */
	l.drop_prod = false;
	assert_int_equal(iommu_domain_sync(dom), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(
		    drv_dev_read(&fx, SID, 0x10000 + i * 0x1000, &b, 1, &ft),
		    EFAULT);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_finish_domain(&fx, dom, pa);
}

/* Big tables: 20-bit SIDs (32 KiB L1 table), 16 KiB command queue. */
static void
test_large_tables(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct smmuv3_fault	ft;
	uint64_t		pa, v, base;
	uint32_t		sid = 0xfffffu;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_sidsize = 20;
	o.fo_smmu.sc_sid_bits = 20;
	o.fo_smmu.sc_cmdq_log2 = 10;
	o.fo_smmu.sc_evtq_log2 = 9;
	drv_fixture_init(&fx, &o);
	assert_true(fx.fx_smmu->sc_2lvl);
	assert_int_equal(fx.fx_smmu->sc_strtab_pages, 8);
	assert_int_equal(fx.fx_smmu->sc_strtab_pa % (8 * IOMMU_PAGE_SIZE), 0);
	assert_int_equal(fx.fx_smmu->sc_cmdq_pa % (4 * IOMMU_PAGE_SIZE), 0);
	assert_int_equal(fx.fx_smmu->sc_evtq_pa % (4 * IOMMU_PAGE_SIZE), 0);
	assert_int_equal(
	    smmuv3_mmio_read(fx.fx_model, SMMU_CMDQ_BASE, 8, &base), 0);
	assert_int_equal(SMMU_FGET(base, SMMU_Q_BASE_LOG2SIZE), 10);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, sid, NULL, &dom), 0);
	assert_int_equal(
	    fx.fx_smmu->sc_l2_pa[sid >> 8] % (4 * IOMMU_PAGE_SIZE), 0);
	pa = drv_fixture_page(&fx);
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, pa, 0x4242), 0);
	assert_int_equal(iommu_domain_enter(
			     dom, 0x9000, pa, IOMMU_PROT_READ, IOMMU_CACHE_WB),
	    0);
	assert_int_equal(drv_dev_read(&fx, sid, 0x9000, &v, 8, &ft), 0);
	assert_int_equal(v, 0x4242);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 1), 0);
	drv_fixture_fini(&fx);
}

/* An SMMU left enabled (by firmware, a previous driver) is reset first. */
static void
test_attach_enabled_smmu(void **state)
{
	struct iommu_smmu_config cfg;
	struct drv_fixture	 fx;
	struct iommu_domain	*dom;
	uint64_t		 v;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_int_equal(iommu_smmu_detach(fx.fx_smmu), 0);
	fx.fx_smmu = NULL;
	/* SMMUEN | CMDQEN, pointing at a stream table nobody owns. */
	assert_int_equal(
	    smmuv3_mmio_write(fx.fx_model, SMMU_STRTAB_BASE, 8, 0x1000), 0);
	assert_int_equal(smmuv3_mmio_write(fx.fx_model, SMMU_CR0, 4, 0x9), 0);
	assert_int_equal(model_reg(&fx, SMMU_CR0ACK), 0x9);
	iommu_smmu_config_init(&cfg);
	cfg.sc_mmio = fx.fx_model_mmio;
	cfg.sc_physmem = fx.fx_pm;
	cfg.sc_alloc = fx.fx_alloc;
	assert_int_equal(iommu_smmu_attach(&cfg, &fx.fx_smmu), 0);
	assert_int_equal(model_reg(&fx, SMMU_CR0ACK), 0xd);
	/* The base took: it is only writable with SMMUEN clear. */
	assert_int_equal(
	    smmuv3_mmio_read(fx.fx_model, SMMU_STRTAB_BASE, 8, &v), 0);
	assert_int_equal(
	    v & SMMU_STRTAB_BASE_ADDR_MASK, fx.fx_smmu->sc_strtab_pa);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

/*
 * Another register-compatible SMMU: a minimal register file written for
 * this test (ID registers, CR0/CR0ACK, GBPA, queue pointers) that consumes
 * commands at once and completes CMD_SYNC by its MSI write.  The driver
 * must need nothing beyond the architecture from the model.
 */
struct mini_smmu {
	struct iommu_physmem *ms_pm;
	uint32_t	      ms_cr0, ms_gbpa;
	uint64_t	      ms_cmdq_base;
	uint32_t	      ms_prod, ms_cons;
	uint64_t	      ms_ops[256];
};

static int
mini_read(void *cookie, uint64_t off, unsigned size, uint64_t *val)
{
	struct mini_smmu *ms = cookie;

	(void)size;
	switch (off) {
	case SMMU_IDR0:
		*val = SMMU_FSET(0, SMMU_IDR0_S1P, 1) |
		    SMMU_FSET(0, SMMU_IDR0_TTF, 2) |
		    SMMU_FSET(0, SMMU_IDR0_TTENDIAN, 2) |
		    SMMU_FSET(0, SMMU_IDR0_MSI, 1);
		break;
	case SMMU_IDR1:
		*val = SMMU_FSET(0, SMMU_IDR1_SIDSIZE, 6) |
		    SMMU_FSET(0, SMMU_IDR1_CMDQS, 5) |
		    SMMU_FSET(0, SMMU_IDR1_EVENTQS, 5);
		break;
	case SMMU_IDR5:
		*val = SMMU_FSET(0, SMMU_IDR5_GRAN4K, 1) |
		    SMMU_FSET(0, SMMU_IDR5_OAS, 2); /* 40 bits */
		break;
	case SMMU_CR0:
	case SMMU_CR0ACK:
		*val = ms->ms_cr0;
		break;
	case SMMU_GBPA:
		*val = ms->ms_gbpa;
		break;
	case SMMU_CMDQ_CONS:
		*val = ms->ms_cons;
		break;
	default:
		*val = 0;
		break;
	}
	return 0;
}

static int
mini_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct mini_smmu *ms = cookie;
	unsigned	  l2 =
	    (unsigned)SMMU_FGET(ms->ms_cmdq_base, SMMU_Q_BASE_LOG2SIZE);
	uint64_t dw0, dw1, base;
	uint8_t	 cmd[16], le[4];

	(void)size;
	switch (off) {
	case SMMU_CR0:
		ms->ms_cr0 = (uint32_t)val;
		break;
	case SMMU_GBPA:
		ms->ms_gbpa = (uint32_t)val & ~(1u << 31);
		break;
	case SMMU_CMDQ_BASE:
		ms->ms_cmdq_base = val;
		break;
	case SMMU_CMDQ_PROD:
		ms->ms_prod = (uint32_t)val;
		base = ms->ms_cmdq_base & SMMU_Q_BASE_ADDR_MASK;
		while (ms->ms_cons != ms->ms_prod) {
			assert_int_equal(
			    iommu_physmem_read(ms->ms_pm,
				base + SMMU_Q_IDX(ms->ms_cons, l2) * 16, cmd,
				16),
			    0);
			dw0 = iommu__le64_dec(cmd);
			dw1 = iommu__le64_dec(cmd + 8);
			ms->ms_ops[dw0 & 0xff]++;
			if ((dw0 & 0xff) == SMMU_OP_CMD_SYNC &&
			    SMMU_FGET(dw0, SMMU_CMD0_SYNC_CS) == 1) {
				iommu__le_enc(le, dw0 >> 32, 4);
				assert_int_equal(
				    iommu_physmem_write(ms->ms_pm,
					dw1 & SMMU_CMD1_SYNC_MSIADDR_MASK, le,
					4),
				    0);
			}
			ms->ms_cons = (ms->ms_cons + 1) & ((2u << l2) - 1);
		}
		break;
	default:
		break;
	}
	return 0;
}

static void
test_attach_other_smmu(void **state)
{
	struct iommu_smmu_config cfg;
	struct iommu_physmem	*pm;
	struct iommu_smmu	*sc;
	struct iommu_domain	*dom;
	struct mini_smmu	 ms;
	uint64_t		 pa;
	unsigned		 i;

	(void)state;
	assert_int_equal(iommu_physmem_create(DRV_FX_RAM_BASE, 16ULL << 20,
			     test_cmocka_allocator(), &pm),
	    0);
	memset(&ms, 0, sizeof(ms));
	ms.ms_pm = pm;
	iommu_smmu_config_init(&cfg);
	cfg.sc_mmio.mmio_read = mini_read;
	cfg.sc_mmio.mmio_write = mini_write;
	cfg.sc_mmio.cookie = &ms;
	cfg.sc_physmem = pm;
	cfg.sc_alloc = test_cmocka_allocator();
	assert_int_equal(iommu_smmu_attach(&cfg, &sc), 0);
	assert_int_equal(ms.ms_cr0, 0xd);
	assert_int_equal(sc->sc_cmdq_log2, 5);
	assert_int_equal(sc->sc_sid_bits, 6);
	assert_false(sc->sc_2lvl);
	assert_int_equal(sc->sc_asid_bits, 8);
	assert_int_equal(iommu_domain_create(sc, 63, NULL, &dom), 0);
	assert_int_equal(iommu_pt_oas(dom->dom_pt), 40);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa), 0);
	for (i = 0; i < 100; i++) {
		assert_int_equal(iommu_domain_enter(dom, 0x1000 + i * 0x1000,
				     pa, IOMMU_PROT_READ, IOMMU_CACHE_WB),
		    0);
		assert_int_equal(
		    iommu_domain_remove(dom, 0x1000 + i * 0x1000), 0);
	}
	assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(ms.ms_ops[SMMU_OP_CFGI_CD], 1);
	assert_int_equal(ms.ms_ops[SMMU_OP_CFGI_STE], 2);
	assert_int_equal(ms.ms_ops[SMMU_OP_TLBI_NH_VA], 100);
	assert_int_equal(ms.ms_ops[SMMU_OP_TLBI_NH_ASID], 1);
	assert_int_equal(ms.ms_ops[SMMU_OP_CMD_SYNC], 1 + 2 + 1 + 1);
	assert_int_equal(iommu_smmu_detach(sc), 0);
	assert_int_equal(ms.ms_cr0, 0);
	assert_int_equal(iommu_physmem_free_pages(pm, pa, 1), 0);
	iommu_physmem_destroy(pm);
}

/* CD.IPS follows IDR5.OAS, capped at 48 bits (no LPA2 descriptors). */
static void
test_output_size(void **state)
{
	static const struct idr_patch oas52 = {SMMU_IDR5, 7u, 6u};
	struct drv_fixture_opts	      o;
	struct drv_fixture	      fx;
	struct iommu_domain	     *dom;
	uint64_t		      cd0;
	int			      k;

	(void)state;
	for (k = 0; k < 2; k++) {
		drv_fixture_opts_init(&o);
		if (k == 0) {
			o.fo_model.cfg_oas_bits = 40;
		} else {
			o.fo_mmio_read = patch_idr_read;
			o.fo_user = (void *)(uintptr_t)&oas52;
		}
		drv_fixture_init(&fx, &o);
		assert_int_equal(fx.fx_smmu->sc_oas_bits, k == 0 ? 40 : 52);
		assert_int_equal(
		    iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
		assert_int_equal(
		    iommu_physmem_read64(fx.fx_pm, dom->dom_cd_pa, &cd0), 0);
		assert_int_equal(SMMU_FGET(cd0, SMMU_CD0_IPS), k == 0 ? 2 : 5);
		assert_int_equal(iommu_pt_oas(dom->dom_pt), k == 0 ? 40 : 48);
		assert_int_equal(iommu_domain_enter(dom, 0x1000,
				     k == 0 ? 1ULL << 40 : 1ULL << 48,
				     IOMMU_PROT_READ, IOMMU_CACHE_WB),
		    ERANGE);
		assert_int_equal(iommu_domain_destroy(dom), 0);
		drv_fixture_fini(&fx);
	}
}

static void
test_cmdq_wrap(void **state)
{
	struct drv_fixture_opts	  o;
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_smmu_stats	  st;
	struct iommu_domain_stats ds;
	struct smmuv3_fault	  ft;
	uint64_t		  pa, iova, before, base = 0x100000;
	unsigned		  n = (unsigned)test_scale(300), i;
	uint8_t			  b;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_cmdq_log2 = 2; /* four commands */
	drv_fixture_init(&fx, &o);
	assert_int_equal(fx.fx_smmu->sc_cmdq_log2, 2);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	pa = drv_fixture_page(&fx);
	before = model_cmds(&fx, SMMU_OP_TLBI_NH_VA);
	for (i = 0; i < n; i++) {
		iova = base + (uint64_t)i * IOMMU_PAGE_SIZE;
		assert_int_equal(iommu_domain_enter(dom, iova, pa,
				     IOMMU_PROT_READ, IOMMU_CACHE_WB),
		    0);
		assert_int_equal(drv_dev_read(&fx, SID, iova, &b, 1, &ft), 0);
	}
	/* n TLBIs through a 4-entry queue before a single sync. */
	for (i = 0; i < n; i++)
		assert_int_equal(iommu_domain_remove(
				     dom, base + (uint64_t)i * IOMMU_PAGE_SIZE),
		    0);
	assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(model_cmds(&fx, SMMU_OP_TLBI_NH_VA) - before, n);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_true(st.ss_cmdq_full_waits >= n / 4 - 1);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_tlbi, n);
	assert_int_equal(ds.ds_syncs, 1);
	for (i = 0; i < n; i++)
		assert_int_equal(
		    drv_dev_read(&fx, SID, base + (uint64_t)i * IOMMU_PAGE_SIZE,
			&b, 1, &ft),
		    EFAULT);
	/* Many syncs: the producer wraps many times. */
	for (i = 0; i < 10; i++)
		assert_int_equal(iommu_domain_sync(dom), 0);
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_finish_domain(&fx, dom, pa);
}

static void
test_cmd_error(void **state)
{
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct iommu_smmu_stats st;
	uint64_t		asid_before;
	uint32_t		active;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	/* An unknown opcode, then a sync: the caller gets EIO. */
	assert_int_equal(
	    iommu__smmu_submit_raw(fx.fx_smmu, 0xff, 0, true), EIO);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_cmd_errors, 1);
	assert_int_equal(
	    model_reg(&fx, SMMU_GERROR) ^ model_reg(&fx, SMMU_GERRORN), 0);
	assert_int_equal(iommu_domain_sync(dom), 0);

	/* Commands queued behind the bad one still run. */
	asid_before = model_cmds(&fx, SMMU_OP_TLBI_NH_ASID);
	iommu__spin_lock(&fx.fx_smmu->sc_cmd_mtx);
	assert_int_equal(iommu__cmdq_put(fx.fx_smmu, 0xfe, 0), 0);
	assert_int_equal(
	    iommu__cmdq_put(fx.fx_smmu,
		SMMU_FSET(SMMU_OP_TLBI_NH_ASID, SMMU_CMD0_ASID, 1), 0),
	    0);
	assert_int_equal(iommu__cmdq_sync(fx.fx_smmu), EIO);
	iommu__spin_unlock(&fx.fx_smmu->sc_cmd_mtx);
	assert_int_equal(
	    model_cmds(&fx, SMMU_OP_TLBI_NH_ASID), asid_before + 1);

	/* Found by the GERROR handler instead of a sync. */
	assert_int_equal(iommu__smmu_submit_raw(fx.fx_smmu, 0x7f, 0, false), 0);
	assert_int_not_equal(
	    model_reg(&fx, SMMU_GERROR) ^ model_reg(&fx, SMMU_GERRORN), 0);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 1u << 0);
	assert_int_equal(iommu_domain_sync(dom), EIO);
	assert_int_equal(iommu_domain_sync(dom), 0);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_cmd_errors, 3);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

static void
test_gerror(void **state)
{
	struct drv_fixture fx;
	uint64_t	   dw0, sync_pa;
	uint32_t	   active;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 0);
	/* A CMD_SYNC whose MSI write aborts (no RAM at 0x1000). */
	dw0 = SMMU_FSET(SMMU_OP_CMD_SYNC, SMMU_CMD0_SYNC_CS, SMMU_SYNC_CS_IRQ);
	assert_int_equal(
	    iommu__smmu_submit_raw(fx.fx_smmu, dw0, 0x1000, true), 0);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 1u << 4); /* MSI_CMDQ_ABT_ERR */
	assert_int_equal(
	    model_reg(&fx, SMMU_GERROR) ^ model_reg(&fx, SMMU_GERRORN), 0);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 0);

	/* Our own sync word unwritable: the sync completes through CONS. */
	sync_pa = fx.fx_smmu->sc_sync_pa;
	fx.fx_smmu->sc_sync_pa = 0x1000;
	assert_int_equal(
	    iommu__smmu_submit_raw(fx.fx_smmu,
		SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NSNH_ALL), 0, true),
	    0);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 1u << 4);
	fx.fx_smmu->sc_sync_pa = sync_pa;
	assert_int_equal(
	    iommu__smmu_submit_raw(fx.fx_smmu,
		SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NSNH_ALL), 0, true),
	    0);
	assert_int_equal(iommu_smmu_handle_gerror(fx.fx_smmu, &active), 0);
	assert_int_equal(active, 0);
	drv_fixture_fini(&fx);
}

static void
test_events(void **state)
{
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct iommu_smmu_stats st;
	struct smmuv3_fault	ft;
	uint8_t			b = 0x5a;

	(void)state;
	drv_fixture_init(&fx, NULL);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	assert_int_equal(drv_fixture_drain(&fx), 0);
	/* A read and a write of unmapped IOVAs. */
	assert_int_equal(drv_dev_read(&fx, SID, 0x123456, &b, 1, &ft), EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(drv_dev_write(&fx, SID, 0xabc000, &b, 1, &ft), EFAULT);
	/* A stream in a populated L2 table without a domain: C_BAD_STE. */
	assert_int_equal(
	    drv_dev_read(&fx, SID + 1, 0x1000, &b, 1, &ft), EFAULT);
	/* A stream whose L2 table does not exist: C_BAD_STREAMID. */
	assert_int_equal(drv_dev_read(&fx, 0x4200, 0x1000, &b, 1, &ft), EFAULT);
	assert_int_equal(drv_fixture_drain(&fx), 4);
	assert_int_equal(fx.fx_events[0].ev_id, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(fx.fx_events[0].ev_sid, SID);
	assert_int_equal(fx.fx_events[0].ev_addr, 0x123456);
	assert_true(fx.fx_events[0].ev_rnw);
	assert_false(fx.fx_events[0].ev_ssv);
	assert_int_equal(fx.fx_events[0].ev_class, SMMU_EVT_CLASS_IN);
	assert_int_equal(fx.fx_events[1].ev_id, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(fx.fx_events[1].ev_addr, 0xabc000);
	assert_false(fx.fx_events[1].ev_rnw);
	assert_int_equal(fx.fx_events[2].ev_id, SMMU_EVT_C_BAD_STE);
	assert_int_equal(fx.fx_events[2].ev_sid, SID + 1);
	assert_int_equal(fx.fx_events[3].ev_id, SMMU_EVT_C_BAD_STREAMID);
	assert_int_equal(fx.fx_events[3].ev_sid, 0x4200);
	assert_int_equal(drv_fixture_drain(&fx), 0);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_events, 4);
	assert_int_equal(st.ss_events_lost, 0);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

static void
test_events_overflow(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct iommu_smmu_stats st;
	struct smmuv3_fault	ft;
	uint8_t			b;
	unsigned		i;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_evtq_log2 = 1; /* two records */
	drv_fixture_init(&fx, &o);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(drv_dev_read(&fx, SID,
				     0x10000 + i * IOMMU_PAGE_SIZE, &b, 1, &ft),
		    EFAULT);
	assert_int_equal(drv_fixture_drain(&fx), 2);
	assert_int_equal(fx.fx_events[0].ev_addr, 0x10000);
	assert_int_equal(fx.fx_events[1].ev_addr, 0x11000);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_events_lost, 1);
	/* Acknowledged: records flow again, across the wrap. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    drv_dev_read(&fx, SID, 0x20000, &b, 1, &ft), EFAULT);
		assert_int_equal(drv_fixture_drain(&fx), 1);
	}
	assert_int_equal(fx.fx_events[4].ev_addr, 0x20000);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_events_lost, 1);
	assert_int_equal(st.ss_events, 5);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

/* CMD_SYNC completion without MSIs: CMDQ_CONS polling. */
static void
test_sync_without_msi(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *dom;
	struct smmuv3_fault	ft;
	uint64_t		pa;
	uint8_t			b;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_model.cfg_msi = false;
	o.fo_smmu.sc_cmdq_log2 = 3;
	drv_fixture_init(&fx, &o);
	assert_false(fx.fx_smmu->sc_msi);
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, NULL, &dom), 0);
	pa = drv_fixture_page(&fx);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(iommu_domain_enter(dom, 0x5000, pa,
				     IOMMU_PROT_READ, IOMMU_CACHE_WB),
		    0);
		assert_int_equal(drv_dev_read(&fx, SID, 0x5000, &b, 1, &ft), 0);
		assert_int_equal(iommu_domain_remove(dom, 0x5000), 0);
		assert_int_equal(iommu_domain_sync(dom), 0);
		assert_int_equal(
		    drv_dev_read(&fx, SID, 0x5000, &b, 1, &ft), EFAULT);
	}
	assert_int_equal(fx.fx_stale, 0);
	drv_fixture_finish_domain(&fx, dom, pa);
}

static void
test_attach_bad_args(void **state)
{
	struct iommu_smmu_config cfg;
	struct iommu_smmu	*sc;

	(void)state;
	assert_int_equal(iommu_smmu_attach(NULL, &sc), EINVAL);
	iommu_smmu_config_init(&cfg);
	assert_int_equal(iommu_smmu_attach(&cfg, &sc), EINVAL); /* no ops */
	assert_int_equal(iommu_smmu_detach(NULL), EINVAL);
	assert_int_equal(iommu_smmu_drain_events(NULL, NULL), EINVAL);
	assert_int_equal(iommu_smmu_handle_gerror(NULL, NULL), EINVAL);
	iommu_smmu_config_init(NULL);
	iommu_smmu_get_stats(NULL, NULL);
	iommu_smmu_model_mmio_ops(NULL, NULL);
}

/* Each bad field of an otherwise valid config: EINVAL, nothing taken. */
static void
test_attach_bad_config(void **state)
{
	struct iommu_smmu_config   cfg, good;
	struct iommu_physmem_stats ps0, ps1;
	struct iommu_smmu_stats	   st;
	struct drv_fixture	   fx;
	struct iommu_smmu	  *sc = NULL;
	unsigned		   i;

	(void)state;
	drv_fixture_init(&fx, NULL);
	iommu_smmu_get_stats(fx.fx_smmu, NULL);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_domains, 0);
	iommu_physmem_get_stats(fx.fx_pm, &ps0);
	iommu_smmu_config_init(&good);
	good.sc_physmem = fx.fx_pm;
	good.sc_alloc = fx.fx_alloc;
	for (i = 0;; i++) {
		cfg = good;
		iommu_smmu_model_mmio_ops(fx.fx_model, &cfg.sc_mmio);
		switch (i) {
		case 0:
			cfg.sc_size--;
			break;
		case 1:
			cfg.sc_physmem = NULL;
			break;
		case 2:
			cfg.sc_mmio.mmio_write = NULL;
			break;
		case 3:
			cfg.sc_tlbi = (enum iommu_tlbi_policy)7;
			break;
		case 4:
			/* unknown; or any, in a build without mutants */
			cfg.sc_mutations =
			    IOMMU_MUTANTS ? 0x4 : IOMMU_SMMU_MUTATE_NO_TLBI;
			break;
		case 5:
			cfg.sc_cmdq_log2 = 20;
			break;
		case 6:
			cfg.sc_evtq_log2 = 20;
			break;
		case 7:
			cfg.sc_sid_bits = 21;
			break;
		case 8: /* more than the model's IDR1.SIDSIZE (probe) */
			assert_true(fx.fx_opts.fo_model.cfg_sidsize < 20);
			cfg.sc_sid_bits = fx.fx_opts.fo_model.cfg_sidsize + 1;
			break;
		case 9: /* ops over no model: every register access fails */
			iommu_smmu_model_mmio_ops(NULL, &cfg.sc_mmio);
			break;
		default:
			goto done;
		}
		assert_int_equal(iommu_smmu_attach(&cfg, &sc), EINVAL);
		assert_null(sc);
	}
done:
	assert_int_equal(iommu_smmu_attach(&good, NULL), EINVAL);
	iommu_physmem_get_stats(fx.fx_pm, &ps1);
	assert_int_equal(ps0.ps_frames_in_use, ps1.ps_frames_in_use);
	drv_fixture_fini(&fx);
}

/* Host allocation and RAM failures at every step leave nothing behind. */
static void
test_attach_enomem(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	unsigned long		n;
	int			error;

	(void)state;
	for (n = 1;; n++) {
		drv_fixture_opts_init(&o);
		assert_int_equal(drv_fixture_try_init(&fx, &o), 0);
		assert_int_equal(iommu_smmu_detach(fx.fx_smmu), 0);
		fx.fx_smmu = NULL;
		iommu_physmem_fail_alloc_after(fx.fx_pm, n);
		o.fo_smmu.sc_mmio = fx.fx_model_mmio;
		o.fo_smmu.sc_physmem = fx.fx_pm;
		o.fo_smmu.sc_alloc = test_cmocka_allocator();
		error = iommu_smmu_attach(&o.fo_smmu, &fx.fx_smmu);
		iommu_physmem_fail_alloc_after(fx.fx_pm, 0);
		if (error == 0) {
			drv_fixture_fini(&fx);
			break;
		}
		assert_int_equal(error, ENOMEM);
		fx.fx_smmu = NULL;
		drv_fixture_fini(&fx);
	}
	assert_true(n > 3);

	/* The same with the host allocator failing. */
	for (n = 1;; n++) {
		struct test_counting_alloc ca;

		test_counting_alloc_init(&ca);
		drv_fixture_opts_init(&o);
		o.fo_alloc = &ca.tc_ops;
		assert_int_equal(drv_fixture_try_init(&fx, &o), 0);
		assert_int_equal(iommu_smmu_detach(fx.fx_smmu), 0);
		fx.fx_smmu = NULL;
		o.fo_smmu.sc_mmio = fx.fx_model_mmio;
		o.fo_smmu.sc_physmem = fx.fx_pm;
		o.fo_smmu.sc_alloc = &ca.tc_ops;
		test_counting_alloc_fail_after(&ca, n, 0);
		error = iommu_smmu_attach(&o.fo_smmu, &fx.fx_smmu);
		test_counting_alloc_fail_after(&ca, 0, 0);
		if (error != 0) {
			assert_int_equal(error, ENOMEM);
			fx.fx_smmu = NULL;
		}
		drv_fixture_fini(&fx);
		assert_int_equal(ca.tc_live_blocks, 0);
		if (error == 0)
			break;
	}
	assert_true(n > 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attach_two_level),
	    cmocka_unit_test(test_attach_linear),
	    cmocka_unit_test(test_attach_enodev),
	    cmocka_unit_test(test_attach_cr0ack_sequence),
	    cmocka_unit_test(test_attach_bad_args),
	    cmocka_unit_test(test_attach_bad_config),
	    cmocka_unit_test(test_attach_enomem),
	    cmocka_unit_test(test_large_tables),
	    cmocka_unit_test(test_output_size),
	    cmocka_unit_test(test_attach_other_smmu),
	    cmocka_unit_test(test_attach_enabled_smmu),
	    cmocka_unit_test(test_config_order),
	    cmocka_unit_test(test_dead_smmu_timeout),
	    cmocka_unit_test(test_cmdq_wrap),
	    cmocka_unit_test(test_cmd_error),
	    cmocka_unit_test(test_gerror),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_events_overflow),
	    cmocka_unit_test(test_sync_without_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
