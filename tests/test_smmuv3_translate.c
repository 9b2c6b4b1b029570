/*
 * SMMUv3 model: translation through STE -> CD -> 4-level page table built
 * in simulated memory by the test-side mini driver, and every event the
 * issue lists produced by the matching misprogramming, with its record
 * fields checked (IHI 0070 7.3).  Also DMA across pages, the side-effect
 * free probe, reset, statistics and two coexisting instances.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"

#define SID  5
#define ASID 7
#define IOVA 0x12345000ULL
#define RW   (SMMUV3_ACCESS_READ | SMMUV3_ACCESS_WRITE)

struct fixture {
	struct smmu_td	   fx_td;
	struct smmu_td_dom fx_dom;
	uint64_t	   fx_data; /* 64 KiB of data pages */
};

static int
setup(void **state)
{
	struct fixture *fx = test_calloc(1, sizeof(*fx));

	smmu_td_init(&fx->fx_td, NULL, 0);
	smmu_td_enable(&fx->fx_td, NULL);
	smmu_td_attach(&fx->fx_td, &fx->fx_dom, SID, ASID, 0, 0);
	fx->fx_data = test_flatmem_alloc(&fx->fx_td.td_mem, 0x10000, 0x10000);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	smmu_td_fini(&fx->fx_td);
	test_free(fx);
	return 0;
}

static int
xlate(struct fixture *fx, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, struct smmuv3_xlate *xl, struct smmuv3_fault *ft)
{
	memset(xl, 0, sizeof(*xl));
	memset(ft, 0, sizeof(*ft));
	return smmuv3_translate(
	    fx->fx_td.td_smmu, sid, ssid, iova, access, xl, ft);
}

/* Translates iova and checks that it faults with ev, recorded. */
static void
expect_fault(struct fixture *fx, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, uint8_t ev, struct smmu_evt *out)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	assert_int_equal(xlate(fx, sid, ssid, iova, access, &xl, &ft), EFAULT);
	assert_int_equal(ft.ft_event, ev);
	assert_true(ft.ft_recorded);
	smmu_td_expect_event(&fx->fx_td, ev, sid, out);
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
page_translates_to_pa_with_rw_permission(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA + 0x123,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, fx->fx_data + 0x123);
	assert_int_equal(xl.xl_size, SMMU_TD_4K);
	assert_int_equal(xl.xl_level, 3);
	assert_int_equal(xl.xl_perm, RW);
	assert_false(xl.xl_bypass);
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
read_only_page_allows_read_and_faults_write_with_f_permission(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	struct smmu_evt	    ev;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RO);
	assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA + 8,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_perm, SMMUV3_ACCESS_READ);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA + 0x10, SMMUV3_ACCESS_WRITE,
	    SMMU_EVT_F_PERMISSION, &ev);
	assert_int_equal(ev.ev_addr, IOVA + 0x10);
	assert_false(ev.ev_rnw);
	assert_false(ev.ev_ssv);
	assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_IN);
}

static void
blocks_of_2m_and_1g_translate_at_levels_2_and_1(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    pa2m = SMMU_TD_RAM_BASE + SMMU_TD_2M;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, 0x40200000ULL, pa2m,
	    SMMU_TD_2M, SMMU_TD_PTE_RW);
	assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, 0x40200000ULL + 0x1abcd,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, pa2m + 0x1abcd);
	assert_int_equal(xl.xl_size, SMMU_TD_2M);
	assert_int_equal(xl.xl_level, 2);

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, 0x80000000ULL,
	    SMMU_TD_RAM_BASE, SMMU_TD_1G, SMMU_TD_PTE_RO);
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, 0x80000000ULL + 0x345678,
		SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, SMMU_TD_RAM_BASE + 0x345678);
	assert_int_equal(xl.xl_size, SMMU_TD_1G);
	assert_int_equal(xl.xl_level, 1);
	assert_int_equal(xl.xl_perm, SMMUV3_ACCESS_READ);
}

static void
two_level_stream_table_finds_stes_in_separate_l2_tables(void **state)
{
	struct smmu_td	      td;
	struct smmu_td_opts   o;
	struct smmu_td_dom    d[3];
	static const uint32_t sids[3] = {3, 300, 1023};
	struct smmuv3_xlate   xl;
	struct smmuv3_fault   ft;
	int		      i;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_default_opts(&o);
	o.to_strtab_fmt = SMMU_STRTAB_FMT_2LVL;
	o.to_strtab_log2 = 10;
	o.to_split = 6;
	smmu_td_enable(&td, &o);
	for (i = 0; i < 3; i++) {
		smmu_td_attach(&td, &d[i], sids[i], (uint16_t)(10 + i), 0, 0);
		smmu_td_map(&td, d[i].dm_root, IOVA,
		    SMMU_TD_RAM_BASE + (uint64_t)(i + 1) * SMMU_TD_4K,
		    SMMU_TD_4K, SMMU_TD_PTE_RW);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    smmuv3_translate(td.td_smmu, sids[i], SMMUV3_NO_SSID, IOVA,
			SMMUV3_ACCESS_READ, &xl, &ft),
		    0);
		assert_int_equal(xl.xl_pa,
		    SMMU_TD_RAM_BASE + (uint64_t)(i + 1) * SMMU_TD_4K);
	}
	/* SID 64 lies in an L1 slot whose Span is still 0 (5.1.1). */
	assert_int_equal(smmuv3_translate(td.td_smmu, 64, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 64, NULL);
	smmu_td_fini(&td);
}

static void
bypass_ste_passes_address_through(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    ste[8];

	smmu_ste_bypass(ste);
	smmu_td_write_ste(&fx->fx_td, 9, ste);
	assert_int_equal(
	    xlate(fx, 9, SMMUV3_NO_SSID, 0xdead000ULL, RW, &xl, &ft), 0);
	assert_true(xl.xl_bypass);
	assert_int_equal(xl.xl_pa, 0xdead000ULL);
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
abort_ste_terminates_without_event(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    ste[8];

	smmu_ste_abort(ste);
	smmu_td_write_ste(&fx->fx_td, 9, ste);
	assert_int_equal(
	    xlate(fx, 9, SMMUV3_NO_SSID, 0x1000, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_false(ft.ft_recorded);
	assert_true(ft.ft_aborted);
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
sid_beyond_log2size_records_c_bad_streamid(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;

	expect_fault(fx, 256, SMMUV3_NO_SSID, 0x5000, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_STREAMID, &ev);
	assert_int_equal(ev.ev_sid, 256);
}

/* 5.1.1 / 6.3.12: C_BAD_STREAMID is recorded only when CR2.RECINVSID. */
static void
invalid_streamid_unrecorded_without_recinvsid(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	smmu_td_write_cr0(&fx->fx_td, 0);
	smmu_td_wr32(&fx->fx_td, SMMU_CR2, 0);
	smmu_td_write_cr0(&fx->fx_td, 0xd);
	assert_int_equal(xlate(fx, 256, SMMUV3_NO_SSID, 0x5000,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_C_BAD_STREAMID);
	assert_false(ft.ft_recorded);
	smmu_td_expect_no_event(&fx->fx_td);
	/* Other configuration errors are still recorded. */
	expect_fault(fx, 100, SMMUV3_NO_SSID, 0x5000, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_STE, NULL);
}

static void
ste_fetch_abort_records_f_ste_fetch_with_fetch_address(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;
	uint64_t	ste_pa = smmu_td_ste_pa(&fx->fx_td, SID);

	test_flatmem_poison_reads(&fx->fx_td.td_mem, ste_pa, SMMU_STE_SIZE);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_STE_FETCH, &ev);
	assert_int_equal(ev.ev_fetch & ~0x3fULL, ste_pa);
}

static void
invalid_ste_records_c_bad_ste(void **state)
{
	struct fixture *fx = *state;
	uint64_t	ste[8];

	memset(ste, 0, sizeof(ste));
	smmu_td_write_ste(&fx->fx_td, 11, ste);
	expect_fault(fx, 11, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_STE, NULL);
}

static void
no_substream_with_s1dss_terminate_records_f_stream_disabled(void **state)
{
	struct fixture	  *fx = *state;
	struct smmu_td_dom d;

	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	expect_fault(fx, 12, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_STREAM_DISABLED, NULL);
}

static void
substream_out_of_range_records_c_bad_substreamid(void **state)
{
	struct fixture	  *fx = *state;
	struct smmu_td_dom d;
	struct smmu_evt	   ev;

	/* S1CDMax = 0: any SubstreamID is bad. */
	expect_fault(fx, SID, 1, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_SUBSTREAMID, &ev);
	/* 7.3.9: SubstreamID always valid, no SSV qualifier (RES0). */
	assert_false(ev.ev_ssv);
	assert_int_equal(ev.ev_ssid, 1);
	/* S1CDMax = 2: SubstreamIDs 0..3 only. */
	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	expect_fault(fx, 12, 4, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_SUBSTREAMID, &ev);
	assert_int_equal(ev.ev_ssid, 4);
}

static void
substreams_select_their_own_context_descriptor(void **state)
{
	struct fixture	   *fx = *state;
	struct smmu_td_dom  d;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    cd[8], root3 = smmu_td_pt_new(&fx->fx_td);

	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	smmu_td_map(&fx->fx_td, d.dm_root, IOVA, fx->fx_data, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	smmu_cd_s1(cd, root3, 33);
	smmu_td_write_cd(&fx->fx_td, d.dm_cdtab + 3 * SMMU_CD_SIZE, cd);
	smmu_td_map(&fx->fx_td, root3, IOVA, fx->fx_data + SMMU_TD_4K,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(xlate(fx, 12, 0, IOVA, RW, &xl, &ft), 0);
	assert_int_equal(xl.xl_pa, fx->fx_data);
	assert_int_equal(xlate(fx, 12, 3, IOVA, RW, &xl, &ft), 0);
	assert_int_equal(xl.xl_pa, fx->fx_data + SMMU_TD_4K);
	/* CD 1 was never written: V = 0. */
	expect_fault(
	    fx, 12, 1, IOVA, SMMUV3_ACCESS_READ, SMMU_EVT_C_BAD_CD, NULL);
}

static void
cd_fetch_abort_records_f_cd_fetch(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;

	test_flatmem_poison_reads(
	    &fx->fx_td.td_mem, fx->fx_dom.dm_cdtab, SMMU_CD_SIZE);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_CD_FETCH, &ev);
	assert_int_equal(ev.ev_fetch & ~0x3fULL, fx->fx_dom.dm_cdtab);
}

static void
invalid_cd_records_c_bad_cd(void **state)
{
	struct fixture *fx = *state;

	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_V, 0);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_CD, NULL);
}

static void
walk_abort_records_f_walk_eabt_with_descriptor_address(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;
	uint64_t	l3;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	l3 = smmu_td_pte_pa(&fx->fx_td, fx->fx_dom.dm_root, IOVA, 3);
	test_flatmem_poison_reads(&fx->fx_td.td_mem, l3, 8);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA + 4, SMMUV3_ACCESS_WRITE,
	    SMMU_EVT_F_WALK_EABT, &ev);
	assert_int_equal(ev.ev_fetch, l3);
	assert_int_equal(ev.ev_addr, IOVA + 4);
	assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_TT);
}

static void
unmapped_address_records_f_translation(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;

	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA + 0x88, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_TRANSLATION, &ev);
	assert_int_equal(ev.ev_addr, IOVA + 0x88);
	assert_true(ev.ev_rnw);
	assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_IN);
	/* Above 2^(64 - T0SZ) with TTB1 disabled: translation fault too. */
	expect_fault(fx, SID, SMMUV3_NO_SSID, 1ULL << 48, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_TRANSLATION, NULL);
}

static void
output_above_ips_records_f_addr_size(void **state)
{
	struct fixture *fx = *state;
	struct smmu_evt ev;

	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_IPS, 0);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, 1ULL << 32,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_ADDR_SIZE, &ev);
	assert_int_equal(ev.ev_addr, IOVA);
}

static void
access_flag_clear_records_f_access_unless_affd(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW & ~SMMU_PTE_AF);
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_ACCESS, NULL);
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_AFFD, 1);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, fx->fx_data);
}

static void
translation_faults_unrecorded_when_cd_r_is_clear(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_R, 0);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RO);
	/* Once to cache the CD, once more from the cached configuration. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    xlate(fx, SID, SMMUV3_NO_SSID, IOVA + SMMU_TD_4K,
			SMMUV3_ACCESS_READ, &xl, &ft),
		    EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
		assert_false(ft.ft_recorded);
		assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA,
				     SMMUV3_ACCESS_WRITE, &xl, &ft),
		    EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_PERMISSION);
		assert_false(ft.ft_recorded);
	}
	smmu_td_expect_no_event(&fx->fx_td);
	/* Configuration errors are recorded whatever CD.R says. */
	expect_fault(fx, SID, 2, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_SUBSTREAMID, NULL);
}

static void
ttb1_translates_the_upper_range_and_tbi_ignores_the_top_byte(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    root1 = smmu_td_pt_new(&fx->fx_td);
	uint64_t	    hi = 0xffff800000345000ULL;

	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_EPD1, 0);
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_T1SZ, 16);
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_TG1, 2);
	fx->fx_dom.dm_cd[2] = root1;
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	/* The TTB1 walk indexes the same low 48 bits. */
	smmu_td_map(&fx->fx_td, root1, hi, fx->fx_data + SMMU_TD_4K, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, hi + 0x10, RW, &xl, &ft), 0);
	assert_int_equal(xl.xl_pa, fx->fx_data + SMMU_TD_4K + 0x10);
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, IOVA + 0x10, RW, &xl, &ft), 0);
	assert_int_equal(xl.xl_pa, fx->fx_data + 0x10);
	/* Without TBI a tagged address is outside both ranges. */
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA | (0x5aULL << 56),
	    SMMUV3_ACCESS_READ, SMMU_EVT_F_TRANSLATION, NULL);
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_TBI0, 1);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA | (0x5aULL << 56),
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, fx->fx_data);
	/* EPD1 = 1 again: the upper range faults without a walk. */
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_EPD1, 1);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	smmu_td_cmd_sync(
	    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, ASID));
	expect_fault(fx, SID, SMMUV3_NO_SSID, hi, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_TRANSLATION, NULL);
}

static void
epd0_faults_the_lower_range_without_a_walk(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_stats st;
	struct smmu_evt	    ev;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	fx->fx_dom.dm_cd[0] = SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_EPD0, 1);
	smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
	expect_fault(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_TRANSLATION, &ev);
	assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_IN);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st);
	assert_int_equal(st.st_walk_reads, 0);
}

static void
granules_16k_and_64k_translate_pages_and_blocks(void **state)
{
	static const struct {
		unsigned g, tg0, level;
		uint64_t size;
	} v[] = {
	    {14, SMMU_CD_TG0_16K, 3, 1ULL << 14},
	    {14, SMMU_CD_TG0_16K, 2, 1ULL << 25},
	    {16, SMMU_CD_TG0_64K, 3, 1ULL << 16},
	    {16, SMMU_CD_TG0_64K, 2, 1ULL << 29},
	};
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	unsigned	    i;

	for (i = 0; i < 4; i++) {
		uint64_t root = smmu_td_pt_new_g(&fx->fx_td, v[i].g);
		uint64_t iova = 3 * v[i].size;
		uint64_t pa = v[i].size >= (1ULL << 29)
		    ? (1ULL << 32)
		    : SMMU_TD_RAM_BASE + 4 * v[i].size;

		fx->fx_dom.dm_cd[0] =
		    SMMU_FSET(fx->fx_dom.dm_cd[0], SMMU_CD0_TG0, v[i].tg0);
		fx->fx_dom.dm_cd[1] = root;
		smmu_td_dom_rewrite(&fx->fx_td, &fx->fx_dom);
		smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_cd(SID, 0, true));
		smmu_td_cmd_sync(
		    &fx->fx_td, smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, ASID));
		smmu_td_map_g(&fx->fx_td, root, v[i].g, iova, pa, v[i].level,
		    SMMU_TD_PTE_RW);
		assert_int_equal(
		    xlate(fx, SID, SMMUV3_NO_SSID, iova + v[i].size - 8,
			SMMUV3_ACCESS_READ, &xl, &ft),
		    0);
		assert_int_equal(xl.xl_pa, pa + v[i].size - 8);
		assert_int_equal(xl.xl_size, v[i].size);
		assert_int_equal(xl.xl_level, v[i].level);
		expect_fault(fx, SID, SMMUV3_NO_SSID, iova + v[i].size,
		    SMMUV3_ACCESS_READ, SMMU_EVT_F_TRANSLATION, NULL);
	}
}

static void
s1dss_bypass_and_ssid0_serve_transactions_without_substream(void **state)
{
	struct fixture	   *fx = *state;
	struct smmu_td_dom  d;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	smmu_td_map(&fx->fx_td, d.dm_root, IOVA, fx->fx_data, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	d.dm_ste[1] = SMMU_FSET(d.dm_ste[1], SMMU_STE1_S1DSS, 1);
	smmu_td_write_ste(&fx->fx_td, 12, d.dm_ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(12, true));
	assert_int_equal(xlate(fx, 12, SMMUV3_NO_SSID, IOVA, RW, &xl, &ft), 0);
	assert_true(xl.xl_bypass);
	assert_int_equal(xl.xl_pa, IOVA);
	d.dm_ste[1] = SMMU_FSET(d.dm_ste[1], SMMU_STE1_S1DSS, 2);
	smmu_td_write_ste(&fx->fx_td, 12, d.dm_ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(12, true));
	assert_int_equal(xlate(fx, 12, SMMUV3_NO_SSID, IOVA, RW, &xl, &ft), 0);
	assert_false(xl.xl_bypass);
	assert_int_equal(xl.xl_pa, fx->fx_data);
	smmu_td_expect_no_event(&fx->fx_td);
}

/* 5.2 S1DSS 0b10: CD 0 serves SSV = 0; SubstreamID 0 itself is refused. */
static void
s1dss_ssid0_takes_substream_0_away(void **state)
{
	struct fixture	   *fx = *state;
	struct smmu_td_dom  d;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    cd[8], root1 = smmu_td_pt_new(&fx->fx_td);

	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	smmu_td_map(&fx->fx_td, d.dm_root, IOVA, fx->fx_data, SMMU_TD_4K,
	    SMMU_TD_PTE_RW);
	smmu_cd_s1(cd, root1, 13);
	smmu_td_write_cd(&fx->fx_td, d.dm_cdtab + SMMU_CD_SIZE, cd);
	smmu_td_map(&fx->fx_td, root1, IOVA, fx->fx_data + SMMU_TD_4K,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	d.dm_ste[1] = SMMU_FSET(d.dm_ste[1], SMMU_STE1_S1DSS, 2);
	smmu_td_write_ste(&fx->fx_td, 12, d.dm_ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(12, true));
	expect_fault(fx, 12, 0, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_STREAM_DISABLED, NULL);
	assert_int_equal(xlate(fx, 12, 1, IOVA, RW, &xl, &ft), 0);
	assert_int_equal(xl.xl_pa, fx->fx_data + SMMU_TD_4K);
	/* S1DSS 0b11 is reserved and behaves as 0b00 (terminate). */
	d.dm_ste[1] = SMMU_FSET(d.dm_ste[1], SMMU_STE1_S1DSS, 3);
	smmu_td_write_ste(&fx->fx_td, 12, d.dm_ste);
	smmu_td_cmd_sync(&fx->fx_td, smmu_cmd_cfgi_ste(12, true));
	expect_fault(fx, 12, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ,
	    SMMU_EVT_F_STREAM_DISABLED, NULL);
}

/* 5.2 S1Fmt: a SubstreamID with stage 1 bypassed is C_BAD_SUBSTREAMID. */
static void
substream_on_bypass_ste_records_c_bad_substreamid(void **state)
{
	struct fixture *fx = *state;
	uint64_t	ste[8];
	struct smmu_evt ev;

	smmu_ste_bypass(ste);
	smmu_td_write_ste(&fx->fx_td, 9, ste);
	expect_fault(fx, 9, 3, 0x1000, SMMUV3_ACCESS_READ,
	    SMMU_EVT_C_BAD_SUBSTREAMID, &ev);
	assert_int_equal(ev.ev_ssid, 3);
}

/* 3.4: bypass still checks the input address against the OAS (48). */
static void
bypass_address_beyond_oas_records_f_addr_size(void **state)
{
	struct fixture *fx = *state;
	uint64_t	ste[8];
	struct smmu_evt ev;

	smmu_ste_bypass(ste);
	smmu_td_write_ste(&fx->fx_td, 9, ste);
	expect_fault(fx, 9, SMMUV3_NO_SSID, 1ULL << 48, SMMUV3_ACCESS_WRITE,
	    SMMU_EVT_F_ADDR_SIZE, &ev);
	assert_int_equal(ev.ev_addr, 1ULL << 48);
	assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_IN);
}

static void
substream_fault_records_ssv_and_ssid(void **state)
{
	struct fixture	  *fx = *state;
	struct smmu_td_dom d;
	uint64_t	   cd[8];
	struct smmu_evt	   ev;

	smmu_td_attach(&fx->fx_td, &d, 12, 12, 2, 0);
	smmu_cd_s1(cd, smmu_td_pt_new(&fx->fx_td), 40);
	smmu_td_write_cd(&fx->fx_td, d.dm_cdtab + 2 * SMMU_CD_SIZE, cd);
	expect_fault(fx, 12, 2, IOVA + 0x44, SMMUV3_ACCESS_WRITE,
	    SMMU_EVT_F_TRANSLATION, &ev);
	assert_true(ev.ev_ssv);
	assert_int_equal(ev.ev_ssid, 2);
	assert_int_equal(ev.ev_addr, IOVA + 0x44);
	assert_false(ev.ev_rnw);
	/* DW3 carries no fetch address for a translation fault. */
	assert_int_equal(ev.ev_raw[3], 0);
}

static void
dma_crosses_pages_and_stops_at_the_faulting_page(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_fault ft;
	uint8_t		    out[3 * 4096], in[3 * 4096];
	size_t		    i;

	/* Pages 0 and 1 map to PAs in reverse order; page 2 is unmapped. */
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA,
	    fx->fx_data + 3 * SMMU_TD_4K, SMMU_TD_4K, SMMU_TD_PTE_RW);
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA + SMMU_TD_4K,
	    fx->fx_data + 1 * SMMU_TD_4K, SMMU_TD_4K, SMMU_TD_PTE_RW);
	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(smmuv3_dma_write(fx->fx_td.td_smmu, SID,
			     SMMUV3_NO_SSID, IOVA + 100, out, 8000, &ft),
	    0);
	assert_int_equal(test_flatmem_rd32(&fx->fx_td.td_mem,
			     fx->fx_data + 3 * SMMU_TD_4K + 100),
	    (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
		(uint32_t)out[3] << 24);
	memset(in, 0, sizeof(in));
	assert_int_equal(smmuv3_dma_read(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     IOVA + 100, in, 8000, &ft),
	    0);
	assert_memory_equal(in, out, 8000);

	/* A write running into page 2 faults there; pages 0-1 were done. */
	memset(out, 0x5a, sizeof(out));
	test_flatmem_wr64(&fx->fx_td.td_mem, fx->fx_data + 2 * SMMU_TD_4K, 0);
	assert_int_equal(smmuv3_dma_write(fx->fx_td.td_smmu, SID,
			     SMMUV3_NO_SSID, IOVA, out, sizeof(out), &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(ft.ft_addr & ~0xfffULL, IOVA + 2 * SMMU_TD_4K);
	assert_false(ft.ft_rnw);
	assert_int_equal(test_flatmem_rd64(&fx->fx_td.td_mem,
			     fx->fx_data + 1 * SMMU_TD_4K + 4088),
	    0x5a5a5a5a5a5a5a5aULL);
	smmu_td_expect_event(&fx->fx_td, SMMU_EVT_F_TRANSLATION, SID, NULL);
	smmu_td_expect_no_event(&fx->fx_td);
	/* Nothing went to the PA following the last good page either. */
	assert_int_equal(
	    test_flatmem_rd64(&fx->fx_td.td_mem, fx->fx_data + 2 * SMMU_TD_4K),
	    0);
	/* Reads fault the same way, with RnW set. */
	assert_int_equal(smmuv3_dma_read(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     IOVA + SMMU_TD_4K, in, 2 * 4096, &ft),
	    EFAULT);
	assert_true(ft.ft_rnw);
	smmu_td_drain_events(&fx->fx_td);
}

static void
dma_to_a_pa_outside_ram_is_eio_and_wrapping_range_einval(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_fault ft;
	uint8_t		    b[16];

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, 1ULL << 36,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	memset(&ft, 0xff, sizeof(ft));
	assert_int_equal(smmuv3_dma_read(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     IOVA, b, sizeof(b), &ft),
	    EIO);
	assert_int_equal(ft.ft_event, 0);
	assert_int_equal(smmuv3_dma_write(fx->fx_td.td_smmu, SID,
			     SMMUV3_NO_SSID, IOVA, b, sizeof(b), NULL),
	    EIO);
	assert_int_equal(smmuv3_dma_read(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     ~0ULL - 7, b, sizeof(b), &ft),
	    EINVAL);
	/* No architectural event for either. */
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
probe_has_no_side_effects(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_stats before, after;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	size_t		    tlb_before, cfg_before;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RO);
	smmuv3_get_stats(fx->fx_td.td_smmu, &before);
	tlb_before = smmuv3_tlb_foreach(fx->fx_td.td_smmu, NULL, NULL);
	cfg_before = smmuv3_cfgcache_count(fx->fx_td.td_smmu);
	assert_int_equal(smmuv3_probe(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     IOVA + 4, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, fx->fx_data + 4);
	assert_int_equal(smmuv3_probe(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID,
			     IOVA + 4, SMMUV3_ACCESS_WRITE, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_PERMISSION);
	assert_false(ft.ft_recorded);
	assert_int_equal(smmuv3_probe(fx->fx_td.td_smmu, 200, SMMUV3_NO_SSID,
			     IOVA, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_C_BAD_STE);
	smmuv3_get_stats(fx->fx_td.td_smmu, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(
	    smmuv3_tlb_foreach(fx->fx_td.td_smmu, NULL, NULL), tlb_before);
	assert_int_equal(smmuv3_cfgcache_count(fx->fx_td.td_smmu), cfg_before);
	smmu_td_expect_no_event(&fx->fx_td);
}

static void
statistics_count_translations_hits_walks_and_events(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_stats st;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	int		    i;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st);
	assert_int_equal(st.st_translations, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA + 8 * i,
				     SMMUV3_ACCESS_READ, &xl, &ft),
		    0);
	(void)xlate(fx, SID, SMMUV3_NO_SSID, IOVA + SMMU_TD_4K,
	    SMMUV3_ACCESS_READ, &xl, &ft);
	smmuv3_get_stats(fx->fx_td.td_smmu, &st);
	assert_int_equal(st.st_translations, 5);
	assert_int_equal(st.st_tlb_hits, 3);
	assert_int_equal(st.st_tlb_misses, 2);
	assert_int_equal(st.st_walks, 2);
	/* One 4-level walk, then a walk ending at the empty L3 entry. */
	assert_int_equal(st.st_walk_reads, 8);
	assert_int_equal(st.st_ste_fetches, 1);
	assert_int_equal(st.st_cd_fetches, 1);
	assert_int_equal(st.st_cfg_misses, 1);
	assert_int_equal(st.st_cfg_hits, 4);
	assert_int_equal(st.st_events, 1);
	assert_int_equal(st.st_events_by_id[SMMU_EVT_F_TRANSLATION], 1);
	assert_true(st.st_commands >= 2);
	assert_true(st.st_commands_by_op[SMMU_OP_CMD_SYNC] >= 1);
	smmu_td_drain_events(&fx->fx_td);
}

static void
copy_entry(void *arg, const struct smmuv3_tlb_info *ti)
{
	*(struct smmuv3_tlb_info *)arg = *ti;
}

static void
tlb_entry_carries_asid_regime_and_page(void **state)
{
	struct fixture	      *fx = *state;
	struct smmuv3_xlate    xl;
	struct smmuv3_fault    ft;
	struct smmuv3_tlb_info ti;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RO);
	assert_int_equal(xlate(fx, SID, SMMUV3_NO_SSID, IOVA + 1,
			     SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	memset(&ti, 0, sizeof(ti));
	assert_int_equal(
	    smmuv3_tlb_foreach(fx->fx_td.td_smmu, copy_entry, &ti), 1);
	assert_int_equal(ti.ti_asid, ASID);
	assert_int_equal(ti.ti_regime, SMMU_STE_STRW_NSEL1);
	assert_int_equal(ti.ti_iova, IOVA);
	assert_int_equal(ti.ti_pa, fx->fx_data);
	assert_int_equal(ti.ti_size, SMMU_TD_4K);
	assert_int_equal(ti.ti_level, 3);
	assert_int_equal(ti.ti_perm, SMMUV3_ACCESS_READ);
}

static void
reset_restores_reset_values_and_empties_caches(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_not_equal(
	    smmuv3_tlb_foreach(fx->fx_td.td_smmu, NULL, NULL), 0);
	smmuv3_reset(fx->fx_td.td_smmu);
	assert_int_equal(smmuv3_tlb_foreach(fx->fx_td.td_smmu, NULL, NULL), 0);
	assert_int_equal(smmuv3_cfgcache_count(fx->fx_td.td_smmu), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CR0), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CR0ACK), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CR1), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CR2), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_IRQ_CTRL), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_IRQ_CTRLACK), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_GERROR), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_GERRORN), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CMDQ_PROD), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_CMDQ_CONS), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_EVENTQ_PROD), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_EVENTQ_CONS), 0);
	assert_int_equal(smmu_td_rd32(&fx->fx_td, SMMU_STRTAB_BASE_CFG), 0);
	/* Nothing reallocated: the same instance enables again. */
	smmu_td_enable(&fx->fx_td, NULL);
	smmu_td_attach(&fx->fx_td, &fx->fx_dom, SID, ASID, 0, 0);
	smmu_td_map(&fx->fx_td, fx->fx_dom.dm_root, IOVA, fx->fx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(
	    xlate(fx, SID, SMMUV3_NO_SSID, IOVA, SMMUV3_ACCESS_READ, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, fx->fx_data);
}

static void
two_instances_coexist_independently(void **state)
{
	struct smmu_td	    a, b;
	struct smmu_td_dom  da, db;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	struct smmuv3_stats st;

	(void)state;
	smmu_td_init(&a, NULL, 1 << 20);
	smmu_td_init(&b, NULL, 1 << 20);
	smmu_td_enable(&a, NULL);
	smmu_td_enable(&b, NULL);
	smmu_td_attach(&a, &da, 1, 1, 0, 0);
	smmu_td_attach(&b, &db, 1, 1, 0, 0);
	smmu_td_map(&a, da.dm_root, IOVA, SMMU_TD_RAM_BASE + 0x10000,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	smmu_td_map(&b, db.dm_root, IOVA, SMMU_TD_RAM_BASE + 0x20000,
	    SMMU_TD_4K, SMMU_TD_PTE_RO);
	assert_int_equal(smmuv3_translate(a.td_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    0);
	assert_int_equal(xl.xl_pa, SMMU_TD_RAM_BASE + 0x10000);
	assert_int_equal(smmuv3_translate(b.td_smmu, 1, SMMUV3_NO_SSID, IOVA,
			     SMMUV3_ACCESS_WRITE, &xl, &ft),
	    EFAULT);
	smmu_td_expect_no_event(&a);
	smmu_td_expect_event(&b, SMMU_EVT_F_PERMISSION, 1, NULL);
	smmuv3_get_stats(a.td_smmu, &st);
	assert_int_equal(st.st_events, 0);
	assert_int_equal(st.st_translations, 1);
	smmu_td_fini(&a);
	smmu_td_fini(&b);
}

static void
bad_arguments_return_einval(void **state)
{
	struct fixture	   *fx = *state;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	assert_int_equal(smmuv3_translate(fx->fx_td.td_smmu, SID,
			     SMMUV3_NO_SSID, IOVA, 0, &xl, &ft),
	    EINVAL);
	assert_int_equal(
	    smmuv3_translate(fx->fx_td.td_smmu, SID, SMMUV3_NO_SSID, IOVA,
		SMMUV3_ACCESS_READ, NULL, &ft),
	    EINVAL);
	smmu_td_expect_no_event(&fx->fx_td);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(page_translates_to_pa_with_rw_permission),
	    T(read_only_page_allows_read_and_faults_write_with_f_permission),
	    T(blocks_of_2m_and_1g_translate_at_levels_2_and_1),
	    cmocka_unit_test(
		two_level_stream_table_finds_stes_in_separate_l2_tables),
	    T(bypass_ste_passes_address_through),
	    T(abort_ste_terminates_without_event),
	    T(sid_beyond_log2size_records_c_bad_streamid),
	    T(invalid_streamid_unrecorded_without_recinvsid),
	    T(ste_fetch_abort_records_f_ste_fetch_with_fetch_address),
	    T(invalid_ste_records_c_bad_ste),
	    T(no_substream_with_s1dss_terminate_records_f_stream_disabled),
	    T(substream_out_of_range_records_c_bad_substreamid),
	    T(substreams_select_their_own_context_descriptor),
	    T(cd_fetch_abort_records_f_cd_fetch),
	    T(invalid_cd_records_c_bad_cd),
	    T(walk_abort_records_f_walk_eabt_with_descriptor_address),
	    T(unmapped_address_records_f_translation),
	    T(output_above_ips_records_f_addr_size),
	    T(access_flag_clear_records_f_access_unless_affd),
	    T(translation_faults_unrecorded_when_cd_r_is_clear),
	    T(ttb1_translates_the_upper_range_and_tbi_ignores_the_top_byte),
	    T(epd0_faults_the_lower_range_without_a_walk),
	    T(granules_16k_and_64k_translate_pages_and_blocks),
	    T(s1dss_bypass_and_ssid0_serve_transactions_without_substream),
	    T(s1dss_ssid0_takes_substream_0_away),
	    T(substream_on_bypass_ste_records_c_bad_substreamid),
	    T(bypass_address_beyond_oas_records_f_addr_size),
	    T(substream_fault_records_ssv_and_ssid),
	    T(dma_crosses_pages_and_stops_at_the_faulting_page),
	    T(dma_to_a_pa_outside_ram_is_eio_and_wrapping_range_einval),
	    T(probe_has_no_side_effects),
	    T(statistics_count_translations_hits_walks_and_events),
	    T(tlb_entry_carries_asid_regime_and_page),
	    T(reset_restores_reset_values_and_empties_caches),
	    cmocka_unit_test(two_instances_coexist_independently),
	    T(bad_arguments_return_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
