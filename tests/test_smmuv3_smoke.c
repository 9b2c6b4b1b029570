/*
 * libiommu - the model author's own checks of the SMMUv3 model's host
 * hooks: trace points, invalidation notices, re-entrancy refusal, a short
 * ho_size, and probe's lack of side effects.
 *
 * Self-contained: a flat RAM with a hand-built linear stream table, one
 * stage-1 stream (SID 1, ASID 5) and 4 KiB 4-level tables, driven through
 * MMIO and the command queue like a driver would.  The thorough suites
 * are test_smmuv3_*.c; this one pins the hooks added in 0.1.1.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/smmuv3_model.h>

#include "smmuv3_defs.h"

#define RAM_SIZE (1u << 20)
#define IOVA	 0x12345000ULL
#define PA	 0x80000ULL

struct smoke {
	uint8_t		    sm_ram[RAM_SIZE];
	uint64_t	    sm_brk;
	struct smmuv3	   *sm_smmu;
	uint64_t	    sm_cmdq;
	uint32_t	    sm_prod;
	unsigned	    sm_trace[SMMUV3_TRACE_IRQ + 1];
	unsigned	    sm_walk_levels; /* bit per level seen */
	unsigned	    sm_ninval;
	struct smmuv3_inval sm_inval;
	bool		    sm_reenter;
	int		    sm_reenter_error;
	/* On the next walk step: translate on sm_call / call into sm_back. */
	struct smoke *sm_call, *sm_back;
	int	      sm_back_errors[4];
};

static int
ram_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	struct smoke *sm = cookie;

	if (pa >= RAM_SIZE || len > RAM_SIZE - pa)
		return EFAULT;
	memcpy(buf, sm->sm_ram + pa, len);
	return 0;
}

static int
ram_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	struct smoke *sm = cookie;

	if (pa >= RAM_SIZE || len > RAM_SIZE - pa)
		return EFAULT;
	memcpy(sm->sm_ram + pa, buf, len);
	return 0;
}

/* A walk in one instance calls another, whose walk calls back. */
static void
on_walk_nest(struct smoke *sm)
{
	struct smoke	   *peer;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    v;

	if ((peer = sm->sm_call) != NULL) {
		sm->sm_call = NULL;
		(void)smmuv3_translate(peer->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
		    SMMUV3_ACCESS_READ, &xl, &ft);
	}
	if ((peer = sm->sm_back) != NULL) {
		sm->sm_back = NULL;
		/* A TLB hit, a walk, an MMIO read and an MMIO write. */
		sm->sm_back_errors[0] = smmuv3_translate(peer->sm_smmu, 1,
		    SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ, &xl, &ft);
		sm->sm_back_errors[1] = smmuv3_dma_read(peer->sm_smmu, 1,
		    SMMUV3_NO_SSID, IOVA + 0x2000, &v, sizeof(v), &ft);
		sm->sm_back_errors[2] =
		    smmuv3_mmio_read(peer->sm_smmu, SMMU_IDR0, 4, &v);
		sm->sm_back_errors[3] =
		    smmuv3_mmio_write(peer->sm_smmu, SMMU_GERRORN, 4, 0);
	}
}

static void
on_trace(void *cookie, const struct smmuv3_trace *tr)
{
	struct smoke *sm = cookie;
	uint64_t      v;

	sm->sm_trace[tr->tr_kind]++;
	if (tr->tr_kind == SMMUV3_TRACE_WALK)
		sm->sm_walk_levels |= 1u << tr->tr_level;
	if (sm->sm_reenter) {
		sm->sm_reenter_error =
		    smmuv3_mmio_read(sm->sm_smmu, SMMU_IDR0, 4, &v);
	}
	if (tr->tr_kind == SMMUV3_TRACE_WALK)
		on_walk_nest(sm);
}

static void
on_inval(void *cookie, const struct smmuv3_inval *iv)
{
	struct smoke *sm = cookie;

	sm->sm_ninval++;
	sm->sm_inval = *iv;
}

static uint64_t
ram_alloc(struct smoke *sm, uint64_t size)
{
	uint64_t a = (sm->sm_brk + size - 1) & ~(size - 1);

	sm->sm_brk = a + size;
	return a;
}

static void
wr64(struct smoke *sm, uint64_t pa, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		sm->sm_ram[pa + i] = (uint8_t)(v >> (8 * i));
}

static void
mmio_wr(struct smoke *sm, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(smmuv3_mmio_write(sm->sm_smmu, off, size, v), 0);
}

static void
cmd(struct smoke *sm, uint64_t dw0, uint64_t dw1)
{
	uint64_t at = sm->sm_cmdq + (uint64_t)(sm->sm_prod & 0xff) * 16;

	wr64(sm, at, dw0);
	wr64(sm, at + 8, dw1);
	sm->sm_prod = (sm->sm_prod + 1) & 0x1ff;
	mmio_wr(sm, SMMU_CMDQ_PROD, 4, sm->sm_prod);
}

/* Maps IOVA -> PA, RW, nG, through a 4-level 4 KiB table. */
static uint64_t
build_tables(struct smoke *sm)
{
	uint64_t root = ram_alloc(sm, 4096), t = root, next;
	int	 level;

	for (level = 0; level < 3; level++) {
		next = ram_alloc(sm, 4096);
		wr64(sm, t + ((IOVA >> (39 - 9 * level)) & 511) * 8, next | 3);
		t = next;
	}
	wr64(sm, t + ((IOVA >> 12) & 511) * 8,
	    PA | 3 | SMMU_PTE_AF | SMMU_PTE_NG);
	return root;
}

static int
setup_common(void **state, size_t ho_size)
{
	struct smoke	      *sm = test_calloc(1, sizeof(*sm));
	struct smmuv3_config   cfg;
	struct smmuv3_host_ops ops;
	uint64_t	       strtab, evtq, cd, root;

	assert_non_null(sm);
	sm->sm_brk = 0x1000;
	smmuv3_config_init(&cfg);
	memset(&ops, 0, sizeof(ops));
	ops.ho_size = ho_size;
	ops.ho_mem_read = ram_read;
	ops.ho_mem_write = ram_write;
	ops.ho_trace = on_trace;
	ops.ho_invalidate = on_inval;
	assert_int_equal(smmuv3_create(&cfg, &ops, sm, NULL, &sm->sm_smmu), 0);

	strtab = ram_alloc(sm, 64 * 16);
	sm->sm_cmdq = ram_alloc(sm, 16 * 256);
	evtq = ram_alloc(sm, 32 * 256);
	cd = ram_alloc(sm, 64);
	root = build_tables(sm);
	wr64(sm, strtab + 64, 1 | SMMU_FSET(0, SMMU_STE0_CONFIG, 5) | cd);
	wr64(sm, cd,
	    SMMU_FSET(0, SMMU_CD0_T0SZ, 16) | SMMU_FSET(0, SMMU_CD0_EPD1, 1) |
		SMMU_FSET(0, SMMU_CD0_V, 1) | SMMU_FSET(0, SMMU_CD0_IPS, 5) |
		SMMU_FSET(0, SMMU_CD0_AA64, 1) | SMMU_FSET(0, SMMU_CD0_R, 1) |
		SMMU_FSET(0, SMMU_CD0_A, 1) | SMMU_FSET(0, SMMU_CD0_ASID, 5));
	wr64(sm, cd + 8, root);

	mmio_wr(sm, SMMU_STRTAB_BASE, 8, strtab);
	mmio_wr(sm, SMMU_STRTAB_BASE_CFG, 4, 4);
	mmio_wr(sm, SMMU_CMDQ_BASE, 8, sm->sm_cmdq | 8);
	mmio_wr(sm, SMMU_EVENTQ_BASE, 8, evtq | 8);
	mmio_wr(sm, SMMU_CR2, 4, 2);
	mmio_wr(sm, SMMU_CR0, 4, 0xd);
	*state = sm;
	return 0;
}

static int
setup(void **state)
{
	return setup_common(state, sizeof(struct smmuv3_host_ops));
}

static int
setup_short_ops(void **state)
{
	return setup_common(state, offsetof(struct smmuv3_host_ops, ho_trace));
}

static int
teardown(void **state)
{
	struct smoke *sm = *state;

	smmuv3_destroy(sm->sm_smmu);
	test_free(sm);
	return 0;
}

static void
trace_points_fire_on_a_miss_and_a_fault(void **state)
{
	struct smoke	   *sm = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	memset(sm->sm_trace, 0, sizeof(sm->sm_trace));
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID,
			     IOVA + 0x10, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, PA + 0x10);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_STE_FETCH], 1);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_CD_FETCH], 1);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_WALK], 4);
	assert_int_equal(sm->sm_walk_levels, 0xf);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_FAULT], 0);

	/* A hit walks nothing. */
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    0);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_WALK], 4);

	/* Unmapped page: fault, event record (CD.R = 1), interrupt. */
	mmio_wr(sm, SMMU_IRQ_CTRL, 4, 4);
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID,
			     IOVA + 0x1000, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(ft.ft_class, SMMU_EVT_CLASS_IN);
	assert_true(ft.ft_recorded);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_FAULT], 1);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_EVENT], 1);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_IRQ], 1);
}

static void
invalidation_notices_carry_the_range(void **state)
{
	struct smoke *sm = *state;

	/* TLBI_NH_VA, ASID 5, 4K granule, (NUM 3 + 1) << SCALE 1 pages. */
	cmd(sm,
	    SMMU_OP_TLBI_NH_VA | SMMU_FSET(0, SMMU_CMD0_NUM, 3) |
		SMMU_FSET(0, SMMU_CMD0_SCALE, 1) |
		SMMU_FSET(0, SMMU_CMD0_ASID, 5),
	    IOVA | SMMU_FSET(0, SMMU_CMD1_TG, 1));
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_COMMAND], 1);
	assert_int_equal(sm->sm_ninval, 1);
	assert_int_equal(sm->sm_inval.iv_opcode, SMMU_OP_TLBI_NH_VA);
	assert_false(sm->sm_inval.iv_config);
	assert_false(sm->sm_inval.iv_all_asids);
	assert_int_equal(sm->sm_inval.iv_asid, 5);
	assert_int_equal(sm->sm_inval.iv_iova_first, IOVA);
	assert_int_equal(sm->sm_inval.iv_iova_last, IOVA + 8 * 4096 - 1);

	/* CFGI_STE_RANGE Range 31 = everything, without overflow. */
	cmd(sm, SMMU_OP_CFGI_STE_RANGE | SMMU_FSET(0, SMMU_CMD0_SID, 77),
	    SMMU_FSET(0, SMMU_CMD1_RANGE, 31));
	assert_int_equal(sm->sm_ninval, 2);
	assert_true(sm->sm_inval.iv_config);
	assert_int_equal(sm->sm_inval.iv_sid_first, 0);
	assert_int_equal(sm->sm_inval.iv_sid_last, UINT32_MAX);
	assert_int_equal(sm->sm_inval.iv_ssid, SMMUV3_NO_SSID);

	/* CMD_SYNC is not an invalidation. */
	cmd(sm, SMMU_OP_CMD_SYNC, 0);
	assert_int_equal(sm->sm_ninval, 2);

	/* 4.4.1.1: TG = 16K with TTL = 1 is CERROR_ILL without IDR5.DS. */
	cmd(sm, SMMU_OP_TLBI_NH_VA | SMMU_FSET(0, SMMU_CMD0_ASID, 5),
	    IOVA | SMMU_FSET(0, SMMU_CMD1_TG, 2) |
		SMMU_FSET(0, SMMU_CMD1_TTL, 1));
	assert_int_equal(sm->sm_ninval, 2);
	{
		uint64_t v;

		assert_int_equal(
		    smmuv3_mmio_read(sm->sm_smmu, SMMU_CMDQ_CONS, 4, &v), 0);
		assert_int_equal(
		    SMMU_FGET(v, SMMU_CMDQ_CONS_ERR), SMMU_CERROR_ILL);
	}
}

static void
reentrant_call_from_a_hook_gets_edeadlk(void **state)
{
	struct smoke	   *sm = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	sm->sm_reenter = true;
	sm->sm_reenter_error = 0;
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(sm->sm_reenter_error, EDEADLK);
	sm->sm_reenter = false;
	/* And the instance is still usable afterwards. */
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
}

/*
 * Instance a's walk calls into instance b, whose walk calls back into a:
 * every call back fails with EDEADLK, TLB hits included, although the
 * thread entered b in between.
 */
static void
reentry_through_another_instance_gets_edeadlk(void **state)
{
	struct smoke	   *a = *state, *b;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	void		   *bstate;
	unsigned	    i;

	assert_int_equal(setup(&bstate), 0);
	b = bstate;
	/* a caches IOVA, then walks (and faults on) an unmapped page. */
	assert_int_equal(smmuv3_translate(a->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	a->sm_call = b;
	b->sm_back = a;
	assert_int_equal(smmuv3_translate(a->sm_smmu, 1, SMMUV3_NO_SSID,
			     IOVA + 0x1000, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_null(b->sm_back); /* the nested walk did run */
	for (i = 0; i < 4; i++)
		assert_int_equal(b->sm_back_errors[i], EDEADLK);
	/* Both instances are still usable afterwards. */
	assert_int_equal(smmuv3_translate(a->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(smmuv3_translate(b->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	teardown(&bstate);
}

static void
short_ho_size_leaves_new_hooks_unset(void **state)
{
	struct smoke	   *sm = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	assert_int_equal(smmuv3_translate(sm->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	cmd(sm, SMMU_OP_TLBI_NH_ALL, 0);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_WALK], 0);
	assert_int_equal(sm->sm_ninval, 0);
}

static void
probe_has_no_side_effects(void **state)
{
	struct smoke	   *sm = *state;
	struct smmuv3_stats before, after;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint32_t	    prod;
	uint64_t	    v;

	smmuv3_get_stats(sm->sm_smmu, &before);
	assert_int_equal(smmuv3_probe(sm->sm_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, PA);
	assert_int_equal(smmuv3_probe(sm->sm_smmu, 1, SMMUV3_NO_SSID,
			     IOVA + 0x1000, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_false(ft.ft_recorded);
	smmuv3_get_stats(sm->sm_smmu, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(smmuv3_tlb_foreach(sm->sm_smmu, NULL, NULL), 0);
	assert_int_equal(smmuv3_cfgcache_count(sm->sm_smmu), 0);
	assert_int_equal(sm->sm_trace[SMMUV3_TRACE_WALK], 0);
	assert_int_equal(
	    smmuv3_mmio_read(sm->sm_smmu, SMMU_EVENTQ_PROD, 4, &v), 0);
	prod = (uint32_t)v;
	assert_int_equal(prod, 0);
}

/* 3.4: bypassed addresses are checked against the OAS (48 bits). */
static void
bypass_beyond_oas_faults(void **state)
{
	struct smoke	   *sm = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    strtab, v;

	/* STE 2: Config = bypass. */
	assert_int_equal(
	    smmuv3_mmio_read(sm->sm_smmu, SMMU_STRTAB_BASE, 8, &strtab), 0);
	wr64(sm, (strtab & SMMU_STRTAB_BASE_ADDR_MASK) + 2 * 64,
	    1 | SMMU_FSET(0, SMMU_STE0_CONFIG, SMMU_STE_CONFIG_BYPASS));
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 2, SMMUV3_NO_SSID,
			     (1ULL << 48) - 1, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_true(xl.xl_bypass);
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 2, SMMUV3_NO_SSID,
			     1ULL << 48, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_ADDR_SIZE);
	assert_int_equal(ft.ft_class, SMMU_EVT_CLASS_IN);
	assert_true(ft.ft_recorded);

	/* SMMUEN = 0, GBPA bypass: abort without an event. */
	mmio_wr(sm, SMMU_CR0, 4, 0xc);
	assert_int_equal(smmuv3_translate(sm->sm_smmu, 2, SMMUV3_NO_SSID,
			     1ULL << 48, SMMUV3_ACCESS_WRITE, &xl, &ft),
	    EFAULT);
	assert_true(ft.ft_aborted);
	assert_false(ft.ft_recorded);
	assert_int_equal(
	    smmuv3_mmio_read(sm->sm_smmu, SMMU_EVENTQ_PROD, 4, &v), 0);
	assert_int_equal(v, 1);
}

static void
version_and_config_queries(void **state)
{
	struct smoke	    *sm = *state;
	struct smmuv3_config cfg, want;

	assert_int_equal(smmuv3_version(), SMMUV3_MODEL_VERSION);
	smmuv3_config_init(&want);
	memset(&cfg, 0xa5, sizeof(cfg));
	smmuv3_get_config(sm->sm_smmu, &cfg);
	assert_int_equal(cfg.cfg_size, sizeof(cfg));
	assert_int_equal(cfg.cfg_sidsize, want.cfg_sidsize);
	assert_int_equal(cfg.cfg_tlb_sets, want.cfg_tlb_sets);
	assert_int_equal(want.cfg_tlb_tbus, 1);
	assert_int_equal(cfg.cfg_tlb_tbus, want.cfg_tlb_tbus);
	assert_int_equal(cfg.cfg_granules, want.cfg_granules);
	assert_true(cfg.cfg_two_level_strtab);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		trace_points_fire_on_a_miss_and_a_fault, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		invalidation_notices_carry_the_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		reentrant_call_from_a_hook_gets_edeadlk, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		reentry_through_another_instance_gets_edeadlk, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		short_ho_size_leaves_new_hooks_unset, setup_short_ops,
		teardown),
	    cmocka_unit_test_setup_teardown(
		probe_has_no_side_effects, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		version_and_config_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		bypass_beyond_oas_faults, setup, teardown),
	};

	return cmocka_run_group_tests_name("smmuv3_smoke", tests, NULL, NULL);
}
