/*
 * SMMUv3 model: the register file (IHI 0070 chapter 6).  ID registers
 * follow the configuration, control registers are acknowledged (CR0ACK,
 * IRQ_CTRLACK, GBPA.UPDATE), reserved bits read as zero, unknown offsets
 * are RAZ/WI and counted, IRQ_CFG registers read back, guarded registers
 * ignore writes while their unit is enabled, and GBPA decides the fate of
 * traffic while SMMUEN = 0.  Invalid configurations are refused.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"

static void
id_registers_follow_the_configuration(void **state)
{
	struct smmuv3_config cfg;
	struct smmu_td	     td;
	uint32_t	     idr0, idr1, idr3, idr5;

	(void)state;
	smmuv3_config_init(&cfg);
	cfg.cfg_sidsize = 16;
	cfg.cfg_ssidsize = 8;
	cfg.cfg_cmdqs = 12;
	cfg.cfg_eventqs = 11;
	cfg.cfg_oas_bits = 44;
	cfg.cfg_granules = SMMUV3_GRAN_4K | SMMUV3_GRAN_64K;
	cfg.cfg_two_level_strtab = true;
	cfg.cfg_asid16 = true;
	cfg.cfg_range_inv = true;
	cfg.cfg_hyp = true;
	cfg.cfg_msi = true;
	cfg.cfg_sev = true;
	smmu_td_init(&td, &cfg, 1 << 20);
	idr0 = smmu_td_rd32(&td, SMMU_IDR0);
	idr1 = smmu_td_rd32(&td, SMMU_IDR1);
	idr3 = smmu_td_rd32(&td, SMMU_IDR3);
	idr5 = smmu_td_rd32(&td, SMMU_IDR5);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_S1P), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_S2P), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_TTF), 2);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ST_LEVEL), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ASID16), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_HYP), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_MSI), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_SEV), 1);
	/* Unimplemented features are not advertised. */
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ATS), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_PRI), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_HTTU), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ATOS), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_BTM), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_VMID16), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_CD2L), 0);
	assert_int_equal((idr0 >> 20) & 1, 0); /* VATOS */
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_PRIQS), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IDR2), 0);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_VAX), 0);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_STALL_MAX), 0);
	/*
	 * The C_BAD_CD / C_BAD_STE answers for CD.ENDI, CD.S, CD.A = 0 and
	 * STE.S1STALLD rest on these: little-endian tables only, no stall,
	 * no RAZ/WI termination.
	 */
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_TTENDIAN), 2);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_STALL_MODEL), 1);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_TERM_MODEL), 1);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_SIDSIZE), 16);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_SSIDSIZE), 8);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_CMDQS), 12);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_EVENTQS), 11);
	assert_int_equal(SMMU_FGET(idr3, SMMU_IDR3_RIL), 1);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_OAS), 4);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_GRAN4K), 1);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_GRAN16K), 0);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_GRAN64K), 1);
	/* ID registers are read-only. */
	smmu_td_wr32(&td, SMMU_IDR1, 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IDR1), idr1);
	smmu_td_fini(&td);

	cfg.cfg_sidsize = 8;
	cfg.cfg_ssidsize = 0;
	cfg.cfg_oas_bits = 32;
	cfg.cfg_granules = SMMUV3_GRAN_4K;
	cfg.cfg_two_level_strtab = false;
	cfg.cfg_asid16 = false;
	cfg.cfg_range_inv = false;
	cfg.cfg_hyp = false;
	cfg.cfg_msi = false;
	cfg.cfg_sev = false;
	smmu_td_init(&td, &cfg, 1 << 20);
	idr0 = smmu_td_rd32(&td, SMMU_IDR0);
	idr1 = smmu_td_rd32(&td, SMMU_IDR1);
	idr3 = smmu_td_rd32(&td, SMMU_IDR3);
	idr5 = smmu_td_rd32(&td, SMMU_IDR5);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ST_LEVEL), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_ASID16), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_HYP), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_MSI), 0);
	assert_int_equal(SMMU_FGET(idr0, SMMU_IDR0_SEV), 0);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_SIDSIZE), 8);
	assert_int_equal(SMMU_FGET(idr1, SMMU_IDR1_SSIDSIZE), 0);
	assert_int_equal(SMMU_FGET(idr3, SMMU_IDR3_RIL), 0);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_OAS), 0);
	assert_int_equal(SMMU_FGET(idr5, SMMU_IDR5_GRAN64K), 0);
	smmu_td_fini(&td);
}

static void
invalid_configurations_are_refused(void **state)
{
	struct smmuv3_config   base, cfg;
	struct smmuv3_host_ops ops;
	struct test_flatmem    fm;
	struct smmuv3	      *s = NULL;
	unsigned	       i;

	(void)state;
	smmuv3_config_init(&base);
	memset(&ops, 0, sizeof(ops));
	ops.ho_size = sizeof(ops);
	ops.ho_mem_read = test_flatmem_read;
	ops.ho_mem_write = test_flatmem_write;
	test_flatmem_init(&fm, SMMU_TD_RAM_BASE, 4096);
	for (i = 0; i < 12; i++) {
		cfg = base;
		switch (i) {
		case 0:
			cfg.cfg_sidsize = 33;
			break;
		case 1:
			cfg.cfg_ssidsize = 21;
			break;
		case 2:
			cfg.cfg_cmdqs = 20;
			break;
		case 3:
			cfg.cfg_eventqs = 20;
			break;
		case 4:
			cfg.cfg_oas_bits = 47;
			break;
		case 5:
			cfg.cfg_granules = 0;
			break;
		case 6:
			cfg.cfg_tlb_sets = 3;
			break;
		case 7:
			cfg.cfg_size = 1;
			break;
		case 8:
			cfg.cfg_tlb_tbus = 0;
			break;
		case 9:
			cfg.cfg_tlb_tbus = 3;
			break;
		case 10:
			cfg.cfg_tlb_tbus = cfg.cfg_tlb_sets * 2;
			break;
		case 11: /* sets 256: as_tbus masks hold 64 */
			cfg.cfg_tlb_tbus = 128;
			break;
		}
		assert_int_equal(
		    smmuv3_create(&cfg, &ops, &fm, NULL, &s), EINVAL);
	}
	ops.ho_mem_read = NULL;
	assert_int_equal(smmuv3_create(&base, &ops, &fm, NULL, &s), EINVAL);
	ops.ho_mem_read = test_flatmem_read;
	ops.ho_size = 0;
	assert_int_equal(smmuv3_create(&base, &ops, &fm, NULL, &s), EINVAL);
	ops.ho_size = sizeof(ops);
	assert_int_equal(smmuv3_create(&base, &ops, &fm, NULL, &s), 0);
	smmuv3_destroy(s);
	smmuv3_destroy(NULL);
	test_flatmem_fini(&fm);
}

static void
cr0_reserved_bits_are_ignored_and_ack_follows(void **state)
{
	struct smmu_td td;

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	smmu_td_wr32(&td, SMMU_CR0, ~(uint32_t)SMMU_CR0_VALID_MASK);
	assert_int_equal(smmu_td_rd32(&td, SMMU_CR0), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_CR0ACK), 0);
	smmu_td_wr32(&td, SMMU_CR0,
	    ~(uint32_t)SMMU_CR0_VALID_MASK | SMMU_FMASK(SMMU_CR0_CMDQEN));
	assert_int_equal(
	    smmu_td_rd32(&td, SMMU_CR0), SMMU_FMASK(SMMU_CR0_CMDQEN));
	assert_int_equal(
	    smmu_td_rd32(&td, SMMU_CR0ACK), SMMU_FMASK(SMMU_CR0_CMDQEN));
	/* CR0ACK itself is read-only. */
	smmu_td_wr32(&td, SMMU_CR0ACK, 0);
	assert_int_equal(
	    smmu_td_rd32(&td, SMMU_CR0ACK), SMMU_FMASK(SMMU_CR0_CMDQEN));
	smmu_td_fini(&td);
}

static void
cr1_cr2_keep_only_defined_bits(void **state)
{
	struct smmuv3_config cfg;
	struct smmu_td	     td;

	(void)state;
	smmuv3_config_init(&cfg);
	cfg.cfg_hyp = true;
	smmu_td_init(&td, &cfg, 1 << 20);
	smmu_td_wr32(&td, SMMU_CR1, 0xffffffff);
	assert_int_equal(smmu_td_rd32(&td, SMMU_CR1), SMMU_CR1_VALID_MASK);
	smmu_td_wr32(&td, SMMU_CR2, 0xffffffff);
	assert_int_equal(smmu_td_rd32(&td, SMMU_CR2), SMMU_CR2_VALID_MASK);
	smmu_td_fini(&td);
}

static void
gbpa_update_selects_bypass_or_abort_while_disabled(void **state)
{
	struct smmu_td	    td;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint32_t	    gbpa;

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	smmu_td_wr32(&td, SMMU_GBPA,
	    SMMU_FMASK(SMMU_GBPA_UPDATE) | SMMU_FMASK(SMMU_GBPA_ABORT));
	gbpa = smmu_td_rd32(&td, SMMU_GBPA);
	assert_int_equal(SMMU_FGET(gbpa, SMMU_GBPA_UPDATE), 0);
	assert_int_equal(SMMU_FGET(gbpa, SMMU_GBPA_ABORT), 1);
	assert_int_equal(smmuv3_translate(td.td_smmu, 3, SMMUV3_NO_SSID, 0x1234,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_true(ft.ft_aborted);
	assert_false(ft.ft_recorded);

	smmu_td_wr32(&td, SMMU_GBPA, SMMU_FMASK(SMMU_GBPA_UPDATE));
	gbpa = smmu_td_rd32(&td, SMMU_GBPA);
	assert_int_equal(SMMU_FGET(gbpa, SMMU_GBPA_ABORT), 0);
	assert_int_equal(smmuv3_translate(td.td_smmu, 3, SMMUV3_NO_SSID, 0x1234,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    0);
	assert_true(xl.xl_bypass);
	assert_int_equal(xl.xl_pa, 0x1234);
	/* Beyond the OAS even GBPA bypass aborts, silently (3.4). */
	assert_int_equal(smmuv3_translate(td.td_smmu, 3, SMMUV3_NO_SSID,
			     1ULL << 48, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_false(ft.ft_recorded);

	/* Enabled: the stream table decides, not GBPA (SID 3 is invalid). */
	smmu_td_enable(&td, NULL);
	assert_int_equal(smmuv3_translate(td.td_smmu, 3, SMMUV3_NO_SSID, 0x1234,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    EFAULT);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STE, 3, NULL);
	smmu_td_fini(&td);
}

static void
irq_ctrl_is_acknowledged(void **state)
{
	struct smmu_td td;

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	smmu_td_wr32(&td, SMMU_IRQ_CTRL, 0x5);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IRQ_CTRL), 0x5);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IRQ_CTRLACK), 0x5);
	smmu_td_wr32(&td, SMMU_IRQ_CTRL, 0xfffffff8);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IRQ_CTRL), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IRQ_CTRLACK), 0);
	smmu_td_fini(&td);
}

static void
irq_cfg_registers_read_back_when_msi_is_implemented(void **state)
{
	static const uint64_t cfg0[] = {
	    SMMU_GERROR_IRQ_CFG0, SMMU_EVENTQ_IRQ_CFG0};
	struct smmuv3_config cfg;
	struct smmu_td	     td;
	unsigned	     i;

	(void)state;
	smmuv3_config_init(&cfg);
	cfg.cfg_msi = true;
	smmu_td_init(&td, &cfg, 1 << 20);
	for (i = 0; i < 2; i++) {
		smmu_td_wr64(&td, cfg0[i], 0x123456789abfULL);
		assert_int_equal(smmu_td_rd64(&td, cfg0[i]), 0x123456789abcULL);
		smmu_td_wr32(&td, cfg0[i] + 8, 0xdeadbeef);
		assert_int_equal(smmu_td_rd32(&td, cfg0[i] + 8), 0xdeadbeef);
		smmu_td_wr32(&td, cfg0[i] + 12, 0xffffffff);
		assert_int_equal(smmu_td_rd32(&td, cfg0[i] + 12), 0x3f);
	}
	smmu_td_fini(&td);

	cfg.cfg_msi = false;
	smmu_td_init(&td, &cfg, 1 << 20);
	smmu_td_wr64(&td, SMMU_GERROR_IRQ_CFG0, 0x123456789abcULL);
	assert_int_equal(smmu_td_rd64(&td, SMMU_GERROR_IRQ_CFG0), 0);
	smmu_td_fini(&td);
}

static void
unknown_offsets_read_as_zero_ignore_writes_and_are_counted(void **state)
{
	static const uint64_t offs[] = {
	    0x0f0, 0x200, 0x1000, 0x0e00, SMMU_PAGE1, SMMU_PAGE1 + 0x800};
	struct smmu_td	    td;
	struct smmuv3_stats st;
	unsigned	    i;

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		smmu_td_wr32(&td, offs[i], 0xffffffff);
		assert_int_equal(smmu_td_rd32(&td, offs[i]), 0);
	}
	smmuv3_get_stats(td.td_smmu, &st);
	assert_true(st.st_unimplemented >= 2 * i);
	assert_true(td.td_logs[SMMUV3_LOG_UNIMP] >= 1);
	smmu_td_fini(&td);
}

static void
bad_access_sizes_and_alignment_are_einval(void **state)
{
	struct smmu_td td;
	uint64_t       v;

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	assert_int_equal(smmuv3_mmio_read(td.td_smmu, SMMU_CR0, 2, &v), EINVAL);
	assert_int_equal(
	    smmuv3_mmio_read(td.td_smmu, SMMU_CR0 + 2, 4, &v), EINVAL);
	assert_int_equal(
	    smmuv3_mmio_read(td.td_smmu, SMMU_STRTAB_BASE + 4, 8, &v), EINVAL);
	assert_int_equal(smmuv3_mmio_write(td.td_smmu, SMMU_CR0, 1, 0), EINVAL);
	assert_int_equal(smmu_td_rd32(&td, SMMU_CR0), 0);
	smmu_td_fini(&td);
}

static void
sixty_four_bit_registers_split_into_halves(void **state)
{
	struct smmu_td td;
	uint64_t       base = SMMU_TD_RAM_BASE + 0x4000ULL + (0x12ULL << 32);

	(void)state;
	smmu_td_init(&td, NULL, 1 << 20);
	smmu_td_wr64(&td, SMMU_STRTAB_BASE, base | 0x3f | (1ULL << 62));
	assert_int_equal(
	    smmu_td_rd64(&td, SMMU_STRTAB_BASE), base | (1ULL << 62));
	assert_int_equal(smmu_td_rd32(&td, SMMU_STRTAB_BASE), (uint32_t)base);
	assert_int_equal(smmu_td_rd32(&td, SMMU_STRTAB_BASE + 4),
	    (uint32_t)(base >> 32) | (1u << 30));
	smmu_td_wr32(&td, SMMU_STRTAB_BASE + 4, 0x7);
	assert_int_equal(
	    smmu_td_rd64(&td, SMMU_STRTAB_BASE), (uint32_t)base | (7ULL << 32));
	smmu_td_fini(&td);
}

static void
guarded_registers_ignore_writes_while_enabled(void **state)
{
	struct smmu_td td;
	uint64_t       strtab, cmdq, evtq;
	uint32_t       cfg;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_enable(&td, NULL);
	strtab = smmu_td_rd64(&td, SMMU_STRTAB_BASE);
	cfg = smmu_td_rd32(&td, SMMU_STRTAB_BASE_CFG);
	cmdq = smmu_td_rd64(&td, SMMU_CMDQ_BASE);
	evtq = smmu_td_rd64(&td, SMMU_EVENTQ_BASE);
	smmu_td_wr64(&td, SMMU_STRTAB_BASE, 0);
	smmu_td_wr32(&td, SMMU_STRTAB_BASE_CFG, 0);
	smmu_td_wr64(&td, SMMU_CMDQ_BASE, 0);
	smmu_td_wr64(&td, SMMU_EVENTQ_BASE, 0);
	assert_int_equal(smmu_td_rd64(&td, SMMU_STRTAB_BASE), strtab);
	assert_int_equal(smmu_td_rd32(&td, SMMU_STRTAB_BASE_CFG), cfg);
	assert_int_equal(smmu_td_rd64(&td, SMMU_CMDQ_BASE), cmdq);
	assert_int_equal(smmu_td_rd64(&td, SMMU_EVENTQ_BASE), evtq);
	/* Still working. */
	smmu_td_sync(&td);
	smmu_td_fini(&td);
}

static void
page1_eventq_pointers_read_back(void **state)
{
	struct smmu_td	    td;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_enable(&td, NULL);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_PROD), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_CONS), 0);
	assert_int_equal(smmuv3_translate(td.td_smmu, 4, SMMUV3_NO_SSID, 0,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_PROD), 1);
	smmu_td_wr32(&td, SMMU_EVENTQ_CONS, 1);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_CONS), 1);
	/* The SMMU owns PROD while the queue is enabled. */
	smmu_td_wr32(&td, SMMU_EVENTQ_PROD, 5);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_PROD), 1);
	smmu_td_fini(&td);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(id_registers_follow_the_configuration),
	    cmocka_unit_test(invalid_configurations_are_refused),
	    cmocka_unit_test(cr0_reserved_bits_are_ignored_and_ack_follows),
	    cmocka_unit_test(cr1_cr2_keep_only_defined_bits),
	    cmocka_unit_test(
		gbpa_update_selects_bypass_or_abort_while_disabled),
	    cmocka_unit_test(irq_ctrl_is_acknowledged),
	    cmocka_unit_test(
		irq_cfg_registers_read_back_when_msi_is_implemented),
	    cmocka_unit_test(
		unknown_offsets_read_as_zero_ignore_writes_and_are_counted),
	    cmocka_unit_test(bad_access_sizes_and_alignment_are_einval),
	    cmocka_unit_test(sixty_four_bit_registers_split_into_halves),
	    cmocka_unit_test(guarded_registers_ignore_writes_while_enabled),
	    cmocka_unit_test(page1_eventq_pointers_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
