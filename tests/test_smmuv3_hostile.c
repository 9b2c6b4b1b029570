/*
 * SMMUv3 model: hostile guest input.  Each table row names the
 * architectural behaviour (IHI 0070 section in the name or comment),
 * misprograms one thing through MMIO or memory, and states the answer the
 * architecture gives: a translation result, an event record, a command
 * error or a global error.  Nothing may crash, hang, leak or trip
 * ASan/UBSan (the suite runs under both and under Valgrind).
 *
 * Every case starts from the same healthy state: linear stream table of
 * 2^8 STEs, SID 1 translating IOVA -> DATA through an S1 CD and a 4-level
 * table (cases override what they need).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"
#include "test_alloc.h"

#define SID	   1
#define IOVA	   0x7654000ULL
#define OUTSIDE_PA 0x1000000000ULL /* 64 GiB: inside OAS, outside RAM */
#define CR0_ALL	   0xdu		   /* SMMUEN | EVENTQEN | CMDQEN */
#define NO_EVENT   0
#define ABORTED	   0xff /* EFAULT without an event record */

struct hcase;

struct hctx {
	const struct hcase *hx_case;
	struct smmu_td	    hx_td;
	struct smmu_td_dom  hx_dom;
	uint64_t	    hx_data;
	/* Filled by arrange(), checked afterwards. */
	uint32_t hx_sid;
	uint32_t hx_ssid;
	uint64_t hx_iova;
	uint64_t hx_fetch; /* expected FetchAddr, 0 = unchecked */
	uint64_t hx_pa;	   /* expected PA when translation succeeds */
};

enum hkind {
	HK_XLATE,   /* translate hx_sid/hx_iova: hc_event or success */
	HK_COMMAND, /* arrange() submitted commands: hc_cerror */
	HK_GERROR,  /* a faulting translation must raise hc_gerror */
};

struct hcase {
	const char *hc_name;
	void (*hc_arrange)(struct hctx *, unsigned *cerror);
	enum hkind hc_kind;
	uint8_t	   hc_event; /* HK_XLATE: event ID, NO_EVENT or ABORTED */
	unsigned   hc_cerror;
	uint32_t   hc_gerror;
};

static void
reprogram_disabled(struct hctx *hx, uint64_t reg, uint64_t val, bool wide)
{
	smmu_td_write_cr0(&hx->hx_td, 0);
	if (wide)
		smmu_td_wr64(&hx->hx_td, reg, val);
	else
		smmu_td_wr32(&hx->hx_td, reg, (uint32_t)val);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	smmu_td_cmd_sync(&hx->hx_td, smmu_cmd_cfgi_all());
}

static void
strtab_outside_ram(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	reprogram_disabled(hx, SMMU_STRTAB_BASE, OUTSIDE_PA, true);
	hx->hx_fetch = OUTSIDE_PA + SID * SMMU_STE_SIZE;
}

static void
strtab_unaligned(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	/* 16 KiB table: ADDR[13:6] are ignored (6.3.23). */
	reprogram_disabled(
	    hx, SMMU_STRTAB_BASE, hx->hx_td.td_strtab + 0x1040, true);
	hx->hx_pa = hx->hx_data;
}

static void
strtab_log2size_beyond_sidsize(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	/*
	 * Index calculation uses MIN(LOG2SIZE, SIDSIZE) (6.3.25) but the
	 * base is aligned by the literal LOG2SIZE (6.3.24): 2^(20 + 6).  The
	 * table sits at the 1 GiB-aligned start of RAM, so nothing moves.
	 */
	assert_int_equal(hx->hx_td.td_strtab & ((1ULL << 26) - 1), 0);
	reprogram_disabled(hx, SMMU_STRTAB_BASE_CFG, 20, false);
	hx->hx_pa = hx->hx_data;
}

static void
strtab_log2size_63(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	/* ADDR[68:0] are treated as zero: the table is at PA 0. */
	reprogram_disabled(hx, SMMU_STRTAB_BASE_CFG, 63, false);
	hx->hx_fetch = SID * SMMU_STE_SIZE;
}

static void
strtab_fmt_reserved(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	reprogram_disabled(hx, SMMU_STRTAB_BASE_CFG,
	    SMMU_FSET(8, SMMU_STRTAB_BASE_CFG_FMT, 3), false);
	hx->hx_pa = hx->hx_data;
}

static void
sid_beyond_log2size(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_sid = 256;
}

static void
sid_beyond_sidsize(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_sid = 0xffffffffu;
}

/* Two-level table, LOG2SIZE 9, L1 slot 0 written by the case. */
static void
two_level_split(struct hctx *hx, uint64_t l1std, unsigned split)
{
	uint64_t l1 = test_flatmem_alloc(&hx->hx_td.td_mem, 64, 64);

	test_flatmem_wr64(&hx->hx_td.td_mem, l1, l1std);
	smmu_td_write_cr0(&hx->hx_td, 0);
	smmu_td_wr64(&hx->hx_td, SMMU_STRTAB_BASE, l1);
	smmu_td_wr32(&hx->hx_td, SMMU_STRTAB_BASE_CFG,
	    (uint32_t)(SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_LOG2SIZE, 9) |
		SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_SPLIT, split) |
		SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_FMT, SMMU_STRTAB_FMT_2LVL)));
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	smmu_td_cmd_sync(&hx->hx_td, smmu_cmd_cfgi_all());
}

static void
two_level(struct hctx *hx, uint64_t l1std)
{
	two_level_split(hx, l1std, 6);
}

static void
split_reserved_behaves_as_6(struct hctx *hx, unsigned *cerror)
{
	uint64_t l2 = test_flatmem_alloc(&hx->hx_td.td_mem, 4096, 4096);

	(void)cerror;
	/* SPLIT 7 is reserved and behaves as 6 (6.3.25): Span 7 is valid. */
	two_level_split(hx, l2 | 7, 7);
	smmu_td_write_cd(&hx->hx_td, hx->hx_dom.dm_cdtab, hx->hx_dom.dm_cd);
	for (unsigned i = 0; i < SMMU_STE_DWORDS; i++)
		test_flatmem_wr64(&hx->hx_td.td_mem,
		    l2 + SID * SMMU_STE_SIZE + 8 * i, hx->hx_dom.dm_ste[i]);
	hx->hx_pa = hx->hx_data;
}

static void
sid_beyond_l2_span(struct hctx *hx, unsigned *cerror)
{
	/* Span 3: 4 STEs; SID 5 is outside although SPLIT is 6 (5.1.1). */
	uint64_t l2 = test_flatmem_alloc(&hx->hx_td.td_mem, 256, 256);

	(void)cerror;
	two_level(hx, l2 | 3);
	hx->hx_sid = 5;
}

static void
l1std_span_reserved(struct hctx *hx, unsigned *cerror)
{
	uint64_t l2 = test_flatmem_alloc(&hx->hx_td.td_mem, 4096, 4096);

	(void)cerror;
	two_level(hx, l2 | 31);
}

static void
l1std_span_beyond_split(struct hctx *hx, unsigned *cerror)
{
	uint64_t l2 = test_flatmem_alloc(&hx->hx_td.td_mem, 1 << 16, 1 << 16);

	(void)cerror;
	two_level(hx, l2 | 9); /* SPLIT 6 allows Span <= 7 */
}

static void
l2ptr_outside_ram(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	two_level(hx, OUTSIDE_PA | 7);
	hx->hx_fetch = OUTSIDE_PA + SID * SMMU_STE_SIZE;
}

static void
rewrite_ste(struct hctx *hx)
{
	smmu_td_write_ste(&hx->hx_td, SID, hx->hx_dom.dm_ste);
	smmu_td_cmd_sync(&hx->hx_td, smmu_cmd_cfgi_ste(SID, true));
}

static void
rewrite_cd(struct hctx *hx)
{
	smmu_td_write_cd(&hx->hx_td, hx->hx_dom.dm_cdtab, hx->hx_dom.dm_cd);
	smmu_td_cmd_sync(&hx->hx_td, smmu_cmd_cfgi_cd(SID, 0, true));
}

#define STE_CONFIG_CASE(fn, cfgval)                                            \
	static void fn(struct hctx *hx, unsigned *cerror)                      \
	{                                                                      \
		(void)cerror;                                                  \
		hx->hx_dom.dm_ste[0] =                                         \
		    SMMU_FSET(hx->hx_dom.dm_ste[0], SMMU_STE0_CONFIG, cfgval); \
		rewrite_ste(hx);                                               \
	}
STE_CONFIG_CASE(ste_config_reserved_1, 1)
STE_CONFIG_CASE(ste_config_reserved_3, 3)
STE_CONFIG_CASE(ste_config_s2_without_s2p, SMMU_STE_CONFIG_S2)
STE_CONFIG_CASE(ste_config_nested_without_s2p, SMMU_STE_CONFIG_NESTED)

static void
ste_s1cdmax_beyond_ssidsize(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_dom.dm_ste[0] = SMMU_FSET(hx->hx_dom.dm_ste[0],
	    SMMU_STE0_S1CDMAX, hx->hx_td.td_cfg.cfg_ssidsize + 1);
	rewrite_ste(hx);
	hx->hx_ssid = 0;
}

static void
cd_pointer_outside_ram(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_dom.dm_ste[0] =
	    (hx->hx_dom.dm_ste[0] & ~SMMU_STE0_S1CTXPTR_MASK) | OUTSIDE_PA;
	rewrite_ste(hx);
	hx->hx_fetch = OUTSIDE_PA;
}

static void
cd_field(struct hctx *hx, unsigned shift, unsigned width, uint64_t v,
    bool translates)
{
	hx->hx_dom.dm_cd[0] = SMMU__FSET(hx->hx_dom.dm_cd[0], shift, width, v);
	rewrite_cd(hx);
	if (translates)
		hx->hx_pa = hx->hx_data;
}

/* The field goes last: it expands to "shift, width". */
#define CD_FIELD_CASE(fn, v, translates, ...)                                  \
	static void fn(struct hctx *hx, unsigned *cerror)                      \
	{                                                                      \
		(void)cerror;                                                  \
		cd_field(hx, __VA_ARGS__, v, translates);                      \
	}
CD_FIELD_CASE(cd_ips_6, 6, true, SMMU_CD0_IPS)
CD_FIELD_CASE(cd_ips_7, 7, true, SMMU_CD0_IPS)
CD_FIELD_CASE(cd_t0sz_below_16, 15, false, SMMU_CD0_T0SZ)
CD_FIELD_CASE(cd_t0sz_above_39, 40, false, SMMU_CD0_T0SZ)
CD_FIELD_CASE(cd_tg0_reserved, 3, false, SMMU_CD0_TG0)
CD_FIELD_CASE(cd_aa64_clear, 0, false, SMMU_CD0_AA64)

static void
ttb0_outside_ram(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_dom.dm_cd[1] = OUTSIDE_PA;
	rewrite_cd(hx);
	hx->hx_fetch = OUTSIDE_PA + ((IOVA >> 39) & 511) * 8;
}

static void
descriptor_loop(struct hctx *hx, unsigned *cerror)
{
	/* Every level indexes slot 5, which points back at the root. */
	uint64_t root = hx->hx_dom.dm_root;

	(void)cerror;
	test_flatmem_wr64(&hx->hx_td.td_mem, root + 5 * 8, root | 3);
	hx->hx_iova = (5ULL << 39) | (5ULL << 30) | (5ULL << 21) | (5ULL << 12);
}

static void
descriptor_loop_with_afffd(struct hctx *hx, unsigned *cerror)
{
	descriptor_loop(hx, cerror);
	hx->hx_dom.dm_cd[0] = SMMU_FSET(hx->hx_dom.dm_cd[0], SMMU_CD0_AFFD, 1);
	rewrite_cd(hx);
	/* The level-3 "page" is the root table itself. */
	hx->hx_pa = hx->hx_dom.dm_root;
}

static void
block_at_level_0(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	test_flatmem_wr64(&hx->hx_td.td_mem,
	    smmu_td_pte_pa(&hx->hx_td, hx->hx_dom.dm_root, IOVA, 0),
	    SMMU_TD_PTE_RW | 1);
}

static void
reserved_page_type_at_level_3(struct hctx *hx, unsigned *cerror)
{
	uint64_t pa = smmu_td_pte_pa(&hx->hx_td, hx->hx_dom.dm_root, IOVA, 3);

	(void)cerror;
	test_flatmem_wr64(&hx->hx_td.td_mem, pa,
	    test_flatmem_rd64(&hx->hx_td.td_mem, pa) & ~SMMU_PTE_TYPE_TABLE);
}

static void
table_address_above_ips(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	hx->hx_dom.dm_cd[0] = SMMU_FSET(hx->hx_dom.dm_cd[0], SMMU_CD0_IPS, 0);
	rewrite_cd(hx);
	test_flatmem_wr64(&hx->hx_td.td_mem,
	    smmu_td_pte_pa(&hx->hx_td, hx->hx_dom.dm_root, IOVA, 1),
	    (1ULL << 33) | 3);
}

static void
cmdq_outside_ram(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c = smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0);

	smmu_td_write_cr0(&hx->hx_td, 0x5);
	smmu_td_wr64(&hx->hx_td, SMMU_CMDQ_BASE, OUTSIDE_PA | 4);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_PROD, 0);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_CONS, 0);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_td.td_cmdq_prod = 0;
	/* The driver's writes land nowhere; the SMMU's fetch aborts. */
	hx->hx_td.td_opts.to_cmdq_log2 = 4;
	/* Our copy of the entries goes to scratch RAM. */
	hx->hx_td.td_cmdq = test_flatmem_alloc(&hx->hx_td.td_mem, 256, 256);
	*cerror = smmu_td_submit(&hx->hx_td, &c, 1);
}

static void
cmdq_log2size_beyond_cmdqs(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c[40];
	unsigned	i, qs = hx->hx_td.td_cfg.cfg_cmdqs;
	uint64_t	q =
	    test_flatmem_alloc(&hx->hx_td.td_mem, 16ULL << qs, 16ULL << qs);

	/* LOG2SIZE 31 > CMDQS: the queue behaves as 2^CMDQS (6.3.26). */
	smmu_td_write_cr0(&hx->hx_td, 0x5);
	smmu_td_wr64(&hx->hx_td, SMMU_CMDQ_BASE, q | 31);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_PROD, 0);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_CONS, 0);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_td.td_cmdq = q;
	hx->hx_td.td_cmdq_prod = 0;
	hx->hx_td.td_opts.to_cmdq_log2 = qs;
	for (i = 0; i < 40; i++)
		c[i] = smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0);
	*cerror = smmu_td_submit(&hx->hx_td, c, 40);
}

static void
unknown_opcode(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c = smmu_cmd_raw(0x7f, ~0ULL);

	*cerror = smmu_td_submit(&hx->hx_td, &c, 1);
}

static void
tlbi_el2_without_hyp(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c = smmu_cmd_tlbi_all(SMMU_OP_TLBI_EL2_ALL);

	*cerror = smmu_td_submit(&hx->hx_td, &c, 1);
}

static void
cfgi_all_with_sid_all_ones(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c[2];

	c[0] = smmu_cmd_cfgi_ste_range(0xffffffffu, 31);
	c[1] = smmu_cmd_cfgi_ste(0xffffffffu, false);
	*cerror = smmu_td_submit(&hx->hx_td, c, 2);
}

static void
huge_range_tlbi_near_top(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c[2];

	/* 32 * 2^31 64 KiB granules from near 2^64: must not iterate. */
	c[0] = smmu_cmd_tlbi_va(
	    SMMU_OP_TLBI_NH_VA, 1, 0xffffffffffff0000ULL, false, 3, 31, 31, 0);
	c[1] = smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VAA, 0, 0, false, 1, 31, 31, 0);
	*cerror = smmu_td_submit(&hx->hx_td, c, 2);
}

static void
eventq_outside_ram(struct hctx *hx, unsigned *cerror)
{
	(void)cerror;
	smmu_td_write_cr0(&hx->hx_td, 0x9);
	smmu_td_wr64(&hx->hx_td, SMMU_EVENTQ_BASE, OUTSIDE_PA | 4);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_sid = 300; /* C_BAD_STREAMID, which cannot be written */
}

static void
msi_target_outside_ram(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c = smmu_cmd_sync(SMMU_SYNC_CS_IRQ, OUTSIDE_PA, 1);

	/* A failed CMD_SYNC MSI write is a global error, not fatal. */
	*cerror = smmu_td_submit(&hx->hx_td, &c, 1);
}

#define ILLEGAL_CMD_CASE(fn, dw0, dw1)                                         \
	static void fn(struct hctx *hx, unsigned *cerror)                      \
	{                                                                      \
		struct smmu_cmd c = smmu_cmd_raw(dw0, dw1);                    \
                                                                               \
		*cerror = smmu_td_submit(&hx->hx_td, &c, 1);                   \
	}
ILLEGAL_CMD_CASE(atc_inv_without_ats, SMMU_OP_ATC_INV | (1ULL << 32), 0)
ILLEGAL_CMD_CASE(pri_resp_without_pri, SMMU_OP_PRI_RESP | (1ULL << 32), 0)
ILLEGAL_CMD_CASE(tlbi_s2_ipa_without_s2, SMMU_OP_TLBI_S2_IPA, 0x1000)
ILLEGAL_CMD_CASE(tlbi_s12_vmall_without_s2, SMMU_OP_TLBI_S12_VMALL, 0)
ILLEGAL_CMD_CASE(tlbi_el3_all_on_ns_queue, SMMU_OP_TLBI_EL3_ALL, 0)

static void
tlbi_16k_ttl1_without_ds(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c =
	    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 1, 0x4000, false, 2, 0, 0, 1);

	*cerror = smmu_td_submit(&hx->hx_td, &c, 1);
}

static void
eventq_log2size_beyond_eventqs(struct hctx *hx, unsigned *cerror)
{
	unsigned i, qs = hx->hx_td.td_cfg.cfg_eventqs;
	uint64_t q =
	    test_flatmem_alloc(&hx->hx_td.td_mem, 32ULL << qs, 32ULL << qs);
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	(void)cerror;
	/* LOG2SIZE 31 > EVENTQS: records wrap at 2^EVENTQS (6.3.29). */
	smmu_td_write_cr0(&hx->hx_td, 0x9);
	smmu_td_wr64(&hx->hx_td, SMMU_EVENTQ_BASE, q | 31);
	smmu_td_wr32(&hx->hx_td, SMMU_EVENTQ_PROD, 0);
	smmu_td_wr32(&hx->hx_td, SMMU_EVENTQ_CONS, 0);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_td.td_evtq = q;
	hx->hx_td.td_evtq_cons = 0;
	hx->hx_td.td_opts.to_evtq_log2 = qs;
	for (i = 0; i < (3u << qs); i++) {
		assert_int_equal(
		    smmuv3_translate(hx->hx_td.td_smmu, 300 + i, SMMUV3_NO_SSID,
			0, SMMUV3_ACCESS_READ, &xl, &ft),
		    EFAULT);
		smmu_td_expect_event(
		    &hx->hx_td, SMMU_EVT_C_BAD_STREAMID, 300 + i, NULL);
	}
	/* Nothing was written past the capped queue. */
	assert_int_equal(
	    test_flatmem_rd64(&hx->hx_td.td_mem, q + (32ULL << qs)), 0);
}

static void
l2ptr_unaligned(struct hctx *hx, unsigned *cerror)
{
	uint64_t l2 = test_flatmem_alloc(&hx->hx_td.td_mem, 4096, 4096);
	unsigned i;

	(void)cerror;
	/* Span 7: L2Ptr[11:0] are treated as zero (5.1). */
	two_level(hx, (l2 + 0x7c0) | 7);
	for (i = 0; i < SMMU_STE_DWORDS; i++)
		test_flatmem_wr64(&hx->hx_td.td_mem,
		    l2 + SID * SMMU_STE_SIZE + 8 * i, hx->hx_dom.dm_ste[i]);
	hx->hx_pa = hx->hx_data;
}

static void
cmdq_base_unaligned(struct hctx *hx, unsigned *cerror)
{
	struct smmu_cmd c[3];
	unsigned	i;

	/* 2^8 entries = 4 KiB: ADDR[11:5] are ignored (6.3.26). */
	smmu_td_write_cr0(&hx->hx_td, 0x5);
	smmu_td_wr64(&hx->hx_td, SMMU_CMDQ_BASE,
	    (hx->hx_td.td_cmdq + 0x7e0) | hx->hx_td.td_opts.to_cmdq_log2);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_PROD, 0);
	smmu_td_wr32(&hx->hx_td, SMMU_CMDQ_CONS, 0);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_td.td_cmdq_prod = 0;
	for (i = 0; i < 3; i++)
		c[i] = smmu_cmd_sync(
		    SMMU_SYNC_CS_IRQ, hx->hx_td.td_sync_word, 0x100 + i);
	*cerror = smmu_td_submit(&hx->hx_td, c, 3);
	assert_int_equal(
	    test_flatmem_rd32(&hx->hx_td.td_mem, hx->hx_td.td_sync_word),
	    0x102);
}

static void
eventq_base_unaligned(struct hctx *hx, unsigned *cerror)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	(void)cerror;
	/* 2^7 records = 4 KiB: ADDR[11:5] are ignored (6.3.29). */
	smmu_td_write_cr0(&hx->hx_td, 0x9);
	smmu_td_wr64(&hx->hx_td, SMMU_EVENTQ_BASE,
	    (hx->hx_td.td_evtq + 0xe0) | hx->hx_td.td_opts.to_evtq_log2);
	smmu_td_wr32(&hx->hx_td, SMMU_EVENTQ_PROD, 0);
	smmu_td_wr32(&hx->hx_td, SMMU_EVENTQ_CONS, 0);
	smmu_td_write_cr0(&hx->hx_td, CR0_ALL);
	hx->hx_td.td_evtq_cons = 0;
	assert_int_equal(smmuv3_translate(hx->hx_td.td_smmu, 300,
			     SMMUV3_NO_SSID, 0, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
	smmu_td_expect_event(&hx->hx_td, SMMU_EVT_C_BAD_STREAMID, 300, NULL);
}

static const struct hcase cases[] = {
    {"STRTAB_BASE outside RAM: F_STE_FETCH at the STE address",
	strtab_outside_ram, HK_XLATE, SMMU_EVT_F_STE_FETCH, 0, 0},
    {"STRTAB_BASE unaligned: ADDR bits below table size ignored",
	strtab_unaligned, HK_XLATE, NO_EVENT, 0, 0},
    {"STRTAB LOG2SIZE beyond SIDSIZE: in-range SID still works",
	strtab_log2size_beyond_sidsize, HK_XLATE, NO_EVENT, 0, 0},
    {"STRTAB LOG2SIZE 63: base aligned by the literal value, F_STE_FETCH",
	strtab_log2size_63, HK_XLATE, SMMU_EVT_F_STE_FETCH, 0, 0},
    {"STRTAB_BASE_CFG.FMT reserved: behaves as linear", strtab_fmt_reserved,
	HK_XLATE, NO_EVENT, 0, 0},
    {"STRTAB_BASE_CFG.SPLIT reserved: behaves as 6",
	split_reserved_behaves_as_6, HK_XLATE, NO_EVENT, 0, 0},
    {"SID >= 2^LOG2SIZE: C_BAD_STREAMID", sid_beyond_log2size, HK_XLATE,
	SMMU_EVT_C_BAD_STREAMID, 0, 0},
    {"SID beyond SIDSIZE: C_BAD_STREAMID", sid_beyond_sidsize, HK_XLATE,
	SMMU_EVT_C_BAD_STREAMID, 0, 0},
    {"SID beyond L1STD Span: C_BAD_STREAMID", sid_beyond_l2_span, HK_XLATE,
	SMMU_EVT_C_BAD_STREAMID, 0, 0},
    {"L1STD Span reserved (31): C_BAD_STREAMID", l1std_span_reserved, HK_XLATE,
	SMMU_EVT_C_BAD_STREAMID, 0, 0},
    {"L1STD Span > SPLIT + 1: C_BAD_STREAMID", l1std_span_beyond_split,
	HK_XLATE, SMMU_EVT_C_BAD_STREAMID, 0, 0},
    {"L1STD L2Ptr outside RAM: F_STE_FETCH", l2ptr_outside_ram, HK_XLATE,
	SMMU_EVT_F_STE_FETCH, 0, 0},
    {"L1STD L2Ptr unaligned: low bits treated as zero", l2ptr_unaligned,
	HK_XLATE, NO_EVENT, 0, 0},
    {"STE Config 0b001 reserved: abort, no event", ste_config_reserved_1,
	HK_XLATE, ABORTED, 0, 0},
    {"STE Config 0b011 reserved: abort, no event", ste_config_reserved_3,
	HK_XLATE, ABORTED, 0, 0},
    {"STE Config stage 2 without S2P: C_BAD_STE", ste_config_s2_without_s2p,
	HK_XLATE, SMMU_EVT_C_BAD_STE, 0, 0},
    {"STE Config nested without S2P: C_BAD_STE", ste_config_nested_without_s2p,
	HK_XLATE, SMMU_EVT_C_BAD_STE, 0, 0},
    {"STE S1CDMax > SSIDSIZE: C_BAD_STE", ste_s1cdmax_beyond_ssidsize, HK_XLATE,
	SMMU_EVT_C_BAD_STE, 0, 0},
    {"S1ContextPtr outside RAM: F_CD_FETCH", cd_pointer_outside_ram, HK_XLATE,
	SMMU_EVT_F_CD_FETCH, 0, 0},
    {"CD IPS 6 above OAS: capped to OAS, translates", cd_ips_6, HK_XLATE,
	NO_EVENT, 0, 0},
    {"CD IPS 7 reserved: capped to OAS, translates", cd_ips_7, HK_XLATE,
	NO_EVENT, 0, 0},
    {"CD T0SZ 15 below minimum: C_BAD_CD", cd_t0sz_below_16, HK_XLATE,
	SMMU_EVT_C_BAD_CD, 0, 0},
    {"CD T0SZ 40 above maximum: C_BAD_CD", cd_t0sz_above_39, HK_XLATE,
	SMMU_EVT_C_BAD_CD, 0, 0},
    {"CD TG0 reserved: C_BAD_CD", cd_tg0_reserved, HK_XLATE, SMMU_EVT_C_BAD_CD,
	0, 0},
    {"CD AA64 = 0 on an AArch64-only SMMU: C_BAD_CD", cd_aa64_clear, HK_XLATE,
	SMMU_EVT_C_BAD_CD, 0, 0},
    {"TTB0 outside RAM: F_WALK_EABT at the L0 descriptor", ttb0_outside_ram,
	HK_XLATE, SMMU_EVT_F_WALK_EABT, 0, 0},
    {"Descriptor loop: walk bounded at level 3, AF = 0 gives F_ACCESS",
	descriptor_loop, HK_XLATE, SMMU_EVT_F_ACCESS, 0, 0},
    {"Descriptor loop with AFFD: the root table is the page",
	descriptor_loop_with_afffd, HK_XLATE, NO_EVENT, 0, 0},
    {"Block descriptor at level 0 (4K granule): F_TRANSLATION",
	block_at_level_0, HK_XLATE, SMMU_EVT_F_TRANSLATION, 0, 0},
    {"Level-3 descriptor 0b01 is reserved: F_TRANSLATION",
	reserved_page_type_at_level_3, HK_XLATE, SMMU_EVT_F_TRANSLATION, 0, 0},
    {"Next-level table address above IPS: F_ADDR_SIZE", table_address_above_ips,
	HK_XLATE, SMMU_EVT_F_ADDR_SIZE, 0, 0},
    {"CMDQ_BASE outside RAM: CERROR_ABT", cmdq_outside_ram, HK_COMMAND, 0,
	SMMU_CERROR_ABT, 0},
    {"CMDQ_BASE unaligned: ADDR bits below the queue size ignored",
	cmdq_base_unaligned, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"EVENTQ_BASE unaligned: ADDR bits below the queue size ignored",
	eventq_base_unaligned, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"CMDQ LOG2SIZE beyond CMDQS: queue wraps at 2^CMDQS",
	cmdq_log2size_beyond_cmdqs, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"EVENTQ LOG2SIZE beyond EVENTQS: records wrap at 2^EVENTQS",
	eventq_log2size_beyond_eventqs, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"CMD_ATC_INV without IDR0.ATS: CERROR_ILL (4.5.1)", atc_inv_without_ats,
	HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"CMD_PRI_RESP without IDR0.PRI: CERROR_ILL (4.5.2)", pri_resp_without_pri,
	HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"CMD_TLBI_S2_IPA without stage 2: CERROR_ILL (4.4.3.1)",
	tlbi_s2_ipa_without_s2, HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"CMD_TLBI_S12_VMALL without stage 2: CERROR_ILL (4.4.3.2)",
	tlbi_s12_vmall_without_s2, HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"CMD_TLBI_EL3_ALL on the Non-secure queue: CERROR_ILL (4.4.2.5)",
	tlbi_el3_all_on_ns_queue, HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"TLBI TG 16K with TTL 1 and IDR5.DS = 0: CERROR_ILL (4.4.1.1)",
	tlbi_16k_ttl1_without_ds, HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"Unallocated opcode: CERROR_ILL", unknown_opcode, HK_COMMAND, 0,
	SMMU_CERROR_ILL, 0},
    {"TLBI_EL2_ALL without IDR0.HYP: CERROR_ILL", tlbi_el2_without_hyp,
	HK_COMMAND, 0, SMMU_CERROR_ILL, 0},
    {"CFGI_STE_RANGE Range 31 with SID ~0: invalidates all, no overflow",
	cfgi_all_with_sid_all_ones, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"Range TLBI NUM 31 SCALE 31 near 2^64: no wrap, bounded time",
	huge_range_tlbi_near_top, HK_COMMAND, 0, SMMU_CERROR_NONE, 0},
    {"EVENTQ_BASE outside RAM: GERROR.EVENTQ_ABT_ERR", eventq_outside_ram,
	HK_GERROR, 0, 0, SMMU_FMASK(SMMU_GERROR_EVENTQ_ABT)},
    {"CMD_SYNC MSI write aborts: GERROR.MSI_CMDQ_ABT_ERR, queue goes on",
	msi_target_outside_ram, HK_COMMAND, 0, SMMU_CERROR_NONE,
	SMMU_FMASK(SMMU_GERROR_MSI_CMDQ_ABT)},
};

static int
setup(void **state)
{
	struct hctx	    *hx = test_calloc(1, sizeof(*hx));
	struct smmuv3_config cfg;

	hx->hx_case = *state;
	smmuv3_config_init(&cfg);
	cfg.cfg_hyp = false;
	cfg.cfg_msi = true;
	cfg.cfg_cmdqs = 8;
	cfg.cfg_eventqs = 3;
	smmu_td_init(&hx->hx_td, &cfg, 4ULL << 20);
	smmu_td_enable(&hx->hx_td, NULL);
	smmu_td_attach(&hx->hx_td, &hx->hx_dom, SID, 1, 0, 0);
	hx->hx_data = test_flatmem_alloc(&hx->hx_td.td_mem, 4096, 4096);
	smmu_td_map(&hx->hx_td, hx->hx_dom.dm_root, IOVA, hx->hx_data,
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	hx->hx_sid = SID;
	hx->hx_ssid = SMMUV3_NO_SSID;
	hx->hx_iova = IOVA;
	hx->hx_pa = ~0ULL;
	*state = hx;
	return 0;
}

static int
teardown(void **state)
{
	struct hctx *hx = *state;

	smmu_td_fini(&hx->hx_td);
	test_free(hx);
	return 0;
}

static void
run_case(void **state)
{
	struct hctx	   *hx = *state;
	const struct hcase *hc = hx->hx_case;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	struct smmu_evt	    ev;
	unsigned	    cerror = 0;
	int		    error;

	hc->hc_arrange(hx, &cerror);
	switch (hc->hc_kind) {
	case HK_XLATE:
		error = smmuv3_translate(hx->hx_td.td_smmu, hx->hx_sid,
		    hx->hx_ssid, hx->hx_iova, SMMUV3_ACCESS_READ, &xl, &ft);
		if (hc->hc_event == NO_EVENT) {
			if (error != 0)
				fail_msg(
				    "error %d, event %#x", error, ft.ft_event);
			assert_int_equal(xl.xl_pa, hx->hx_pa);
			smmu_td_expect_no_event(&hx->hx_td);
			break;
		}
		assert_int_equal(error, EFAULT);
		if (hc->hc_event == ABORTED) {
			assert_true(ft.ft_aborted);
			assert_false(ft.ft_recorded);
			smmu_td_expect_no_event(&hx->hx_td);
			break;
		}
		assert_int_equal(ft.ft_event, hc->hc_event);
		smmu_td_expect_event(&hx->hx_td, hc->hc_event, hx->hx_sid, &ev);
		/* Only F_WALK_EABT and translation faults carry InputAddr. */
		if (hc->hc_event >= SMMU_EVT_F_WALK_EABT)
			assert_int_equal(ev.ev_addr, hx->hx_iova);
		else
			assert_int_equal(ev.ev_addr, 0);
		/* Stage 1: CLASS IN, except TT for a walk abort (7.3.12-16). */
		if (hc->hc_event == SMMU_EVT_F_WALK_EABT)
			assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_TT);
		else if (hc->hc_event >= SMMU_EVT_F_TRANSLATION)
			assert_int_equal(ev.ev_class, SMMU_EVT_CLASS_IN);
		assert_false(ev.ev_s2);
		if (hx->hx_fetch != 0)
			assert_int_equal(ev.ev_fetch, hx->hx_fetch);
		smmu_td_expect_no_event(&hx->hx_td);
		break;
	case HK_COMMAND:
		assert_int_equal(cerror, hc->hc_cerror);
		assert_int_equal(smmu_td_gerror_active(&hx->hx_td),
		    (cerror != 0 ? SMMU_FMASK(SMMU_GERROR_CMDQ_ERR) : 0) |
			hc->hc_gerror);
		break;
	case HK_GERROR:
		error = smmuv3_translate(hx->hx_td.td_smmu, hx->hx_sid,
		    hx->hx_ssid, hx->hx_iova, SMMUV3_ACCESS_READ, &xl, &ft);
		assert_int_equal(error, EFAULT);
		assert_int_equal(
		    smmu_td_gerror_active(&hx->hx_td) & hc->hc_gerror,
		    hc->hc_gerror);
		break;
	}
}

/*
 * Random programming: episodes that start from a healthy, enabled SMMU
 * with three translating streams, then apply a seeded stream of damage:
 * garbage written over STEs, CDs and page-table descriptors, random
 * commands through the command queue, writes to any register offset with
 * any value and size, device translations and DMA.  The architecture
 * defines an answer for all of it; the model must give one without
 * crashing, hanging or leaking, and every entry point must return one of
 * its documented codes.
 */
static uint64_t
random_word(struct test_rng *rng)
{
	uint64_t v = test_rng_next(rng);

	switch (test_rng_below(rng, 4)) {
	case 0:
		return v; /* anything */
	case 1:
		return SMMU_TD_RAM_BASE + (v & 0x3ffff8) + (v >> 62);
	case 2:
		return v & 0xff; /* small */
	default:
		return v ^ (1ULL << (v >> 58)); /* a flipped bit */
	}
}

static void
random_command(struct smmu_td *td, struct test_rng *rng)
{
	static const uint8_t ops[] = {SMMU_OP_CFGI_STE, SMMU_OP_CFGI_STE_RANGE,
	    SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD_ALL, SMMU_OP_TLBI_NH_ALL,
	    SMMU_OP_TLBI_NH_ASID, SMMU_OP_TLBI_NH_VA, SMMU_OP_TLBI_NH_VAA,
	    SMMU_OP_TLBI_EL2_VA, SMMU_OP_TLBI_NSNH_ALL, SMMU_OP_CMD_SYNC,
	    SMMU_OP_PREFETCH_CONFIG, SMMU_OP_RESUME, 0x77};
	unsigned	     l2 = td->td_opts.to_cmdq_log2;
	uint64_t	     dw0 = test_rng_next(rng), pa;
	uint32_t	     cons;

	dw0 = (dw0 & ~0xffULL) | ops[test_rng_below(rng, sizeof(ops))];
	if (test_rng_below(rng, 2))
		dw0 &= ~SMMU_FMASK(SMMU_CMD0_SYNC_CS); /* no MSI to nowhere */
	pa = td->td_cmdq +
	    (uint64_t)SMMU_Q_IDX(td->td_cmdq_prod, l2) * SMMU_CMD_SIZE;
	test_flatmem_wr64(&td->td_mem, pa, dw0);
	test_flatmem_wr64(&td->td_mem, pa + 8, random_word(rng));
	td->td_cmdq_prod = smmu_q_inc(td->td_cmdq_prod, l2);
	smmu_td_wr32(td, SMMU_CMDQ_PROD, td->td_cmdq_prod);
	cons = smmu_td_cmdq_cons(td);
	if (SMMU_FGET(cons, SMMU_CMDQ_CONS_ERR) != 0) {
		/* Skip the bad command the way a driver does (7.1). */
		pa = td->td_cmdq +
		    (uint64_t)SMMU_Q_IDX(cons, l2) * SMMU_CMD_SIZE;
		test_flatmem_wr64(&td->td_mem, pa, SMMU_OP_CMD_SYNC);
		test_flatmem_wr64(&td->td_mem, pa + 8, 0);
		smmu_td_gerror_ack(td, smmu_td_gerror_active(td));
	}
}

static void
random_programming_never_crashes(void **state)
{
	struct smmu_td	     td;
	struct smmu_td_dom   dom[3];
	struct smmuv3_config cfg;
	struct smmuv3_stats  st;
	struct test_rng	     rng;
	struct smmuv3_xlate  xl;
	struct smmuv3_fault  ft;
	unsigned long ep, i, neps = test_scale(SMMU_TD_SANITIZED ? 6 : 40);
	unsigned long ok = 0, faulted = 0, events = 0, walks = 0;
	uint8_t	      buf[96];
	uint64_t      bad_pa = 0, bad_old = 0;
	unsigned      d, p;
	int	      error;

	(void)state;
	smmuv3_config_init(&cfg);
	cfg.cfg_cmdqs = 6;
	cfg.cfg_eventqs = 4;
	smmu_td_init(&td, &cfg, 8ULL << 20);
	test_rng_seed(&rng, 0xbadc0ffee);
	memset(buf, 0x3c, sizeof(buf));
	for (ep = 0; ep < neps; ep++) {
		smmuv3_reset(td.td_smmu);
		smmu_td_enable(&td, NULL);
		bad_pa = 0;
		for (d = 0; d < 3; d++) {
			smmu_td_attach(&td, &dom[d], 1 + d, (uint16_t)(1 + d),
			    d == 2 ? 1 : 0, 0);
			for (p = 0; p < 4; p++)
				smmu_td_map(&td, dom[d].dm_root,
				    0x100000ULL * (d + 1) + p * SMMU_TD_4K,
				    td.td_sync_word & ~0xfffULL, SMMU_TD_4K,
				    SMMU_TD_PTE_RW);
		}
		for (i = 0; i < 400; i++) {
			struct smmu_td_dom *dm = &dom[test_rng_below(&rng, 3)];
			uint64_t	    iova = 0x100000ULL * (dm->dm_sid) +
			    test_rng_below(&rng, 5) * SMMU_TD_4K +
			    test_rng_below(&rng, 4096);
			uint64_t off;

			switch (test_rng_below(&rng, 10)) {
			case 0: /* an STE word */
				test_flatmem_wr64(&td.td_mem,
				    smmu_td_ste_pa(&td, dm->dm_sid) +
					8 * test_rng_below(&rng, 8),
				    random_word(&rng));
				break;
			case 1: /* a CD word */
				test_flatmem_wr64(&td.td_mem,
				    dm->dm_cdtab + 8 * test_rng_below(&rng, 8),
				    random_word(&rng));
				break;
			case 2: /* one descriptor on a walk path at a time */
				if (bad_pa != 0)
					test_flatmem_wr64(
					    &td.td_mem, bad_pa, bad_old);
				bad_pa = smmu_td_pte_pa(&td, dm->dm_root,
				    0x100000ULL * dm->dm_sid,
				    (unsigned)test_rng_below(&rng, 4));
				bad_old = test_flatmem_rd64(&td.td_mem, bad_pa);
				test_flatmem_wr64(
				    &td.td_mem, bad_pa, random_word(&rng));
				break;
			case 3:
				random_command(&td, &rng);
				break;
			case 4: /* any register offset, size, value */
				off = test_rng_below(&rng, SMMU_MMIO_SIZE + 64);
				if (off == SMMU_CR0 ||
				    off == SMMU_STRTAB_BASE ||
				    off == SMMU_CMDQ_BASE ||
				    off == SMMU_EVENTQ_BASE)
					off = SMMU_GBPA;
				error = smmuv3_mmio_write(td.td_smmu, off,
				    1u << test_rng_below(&rng, 4),
				    random_word(&rng));
				assert_true(error == 0 || error == EINVAL);
				break;
			case 5:
			case 6:
			case 7:
				error = smmuv3_translate(td.td_smmu, dm->dm_sid,
				    test_rng_below(&rng, 3) == 0
					? (uint32_t)test_rng_below(&rng, 4)
					: SMMUV3_NO_SSID,
				    iova,
				    1u + (unsigned)test_rng_below(&rng, 3), &xl,
				    &ft);
				assert_true(error == 0 || error == EFAULT);
				if (error == 0)
					ok++;
				else
					faulted++;
				break;
			case 8:
				error = test_rng_below(&rng, 2)
				    ? smmuv3_dma_write(td.td_smmu, dm->dm_sid,
					  SMMUV3_NO_SSID, iova, buf,
					  test_rng_below(&rng, sizeof(buf)),
					  &ft)
				    : smmuv3_dma_read(td.td_smmu, dm->dm_sid,
					  SMMUV3_NO_SSID, iova, buf,
					  test_rng_below(&rng, sizeof(buf)),
					  &ft);
				assert_true(error == 0 || error == EFAULT ||
				    error == EIO);
				break;
			case 9:
				events += smmu_td_drain_events(&td);
				break;
			}
		}
		smmuv3_get_stats(td.td_smmu, &st);
		walks += st.st_walks;
	}
	/* The stream did reach the model's interesting paths. */
	print_message("random: %lu translated, %lu faulted, %lu events read, "
		      "%lu walks\n",
	    ok, faulted, events, walks);
	assert_true(ok > 0 && faulted > 0 && events > 0 && walks > 0);
	smmu_td_fini(&td);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 1];
	size_t		  i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].hc_name;
		tests[i].test_func = run_case;
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
		tests[i].initial_state = (void *)(uintptr_t)&cases[i];
	}
	memset(&tests[i], 0, sizeof(tests[i]));
	tests[i].name = "random_programming_never_crashes";
	tests[i++].test_func = random_programming_never_crashes;
	return _cmocka_run_group_tests("smmuv3_hostile", tests, i, NULL, NULL);
}
