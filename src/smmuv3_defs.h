/*
 * libiommu - Arm SMMUv3 architectural encodings, shared by the model
 * (hw_smmuv3_*.c), the driver (domain.c) and the test-side mini driver.
 * Facts from the Arm SMMUv3 architecture specification (IHI 0070), written
 * as data: register offsets, then fields as (shift, width) pairs used with
 * SMMU_FGET / SMMU_FSET.  Section numbers refer to IHI 0070.
 *
 * Bits are numbered within 64-bit doublewords (DW) for the in-memory
 * structures (STE, CD, commands, events); everything in memory is
 * little-endian.  Never installed.
 */
#ifndef IOMMU_SMMUV3_DEFS_H
#define IOMMU_SMMUV3_DEFS_H

#include <stdint.h>

/* Field helpers: a field is written "shift, width". */
#define SMMU__MASK(w)	    ((w) >= 64 ? ~0ULL : ((1ULL << (w)) - 1))
#define SMMU__FGET(v, s, w) (((uint64_t)(v) >> (s)) & SMMU__MASK(w))
#define SMMU__FSET(v, s, w, x)                                                 \
	(((uint64_t)(v) & ~(SMMU__MASK(w) << (s))) |                           \
	    (((uint64_t)(x)&SMMU__MASK(w)) << (s)))
#define SMMU__FMASK(s, w)      (SMMU__MASK(w) << (s))
#define SMMU_FGET(v, f)	       SMMU__FGET(v, f)
#define SMMU_FSET(v, f, x)     SMMU__FSET(v, f, x)
#define SMMU_FMASK(f)	       SMMU__FMASK(f)
/* An address field [hi:lo] kept in place (not shifted down). */
#define SMMU_ADDR_MASK(hi, lo) (SMMU__MASK((hi) - (lo) + 1) << (lo))

/* 6.2 / 6.3: register pages.  Page 1 starts at +64 KiB. */
#define SMMU_PAGE1     0x10000u
#define SMMU_MMIO_SIZE 0x20000u

#define SMMU_IDR0		0x000
#define SMMU_IDR0_S2P		0, 1
#define SMMU_IDR0_S1P		1, 1
#define SMMU_IDR0_TTF		2, 2 /* 2 = AArch64 */
#define SMMU_IDR0_COHACC	4, 1
#define SMMU_IDR0_BTM		5, 1
#define SMMU_IDR0_HTTU		6, 2
#define SMMU_IDR0_HYP		9, 1
#define SMMU_IDR0_ATS		10, 1
#define SMMU_IDR0_ASID16	12, 1
#define SMMU_IDR0_MSI		13, 1
#define SMMU_IDR0_SEV		14, 1
#define SMMU_IDR0_ATOS		15, 1
#define SMMU_IDR0_PRI		16, 1
#define SMMU_IDR0_VMID16	18, 1
#define SMMU_IDR0_CD2L		19, 1
#define SMMU_IDR0_TTENDIAN	21, 2 /* 0 mixed, 2 LE, 3 BE */
#define SMMU_IDR0_STALL_MODEL	24, 2 /* 1 = terminate only */
#define SMMU_IDR0_TERM_MODEL	26, 1
#define SMMU_IDR0_ST_LEVEL	27, 2 /* 0 linear, 1 two-level */
#define SMMU_IDR1		0x004
#define SMMU_IDR1_SIDSIZE	0, 6
#define SMMU_IDR1_SSIDSIZE	6, 5
#define SMMU_IDR1_PRIQS		11, 5
#define SMMU_IDR1_EVENTQS	16, 5
#define SMMU_IDR1_CMDQS		21, 5
#define SMMU_IDR1_REL		28, 1
#define SMMU_IDR1_QUEUES_PRESET 29, 1
#define SMMU_IDR1_TABLES_PRESET 30, 1
#define SMMU_IDR2		0x008
#define SMMU_IDR3		0x00c
#define SMMU_IDR3_RIL		10, 1
#define SMMU_IDR4		0x010
#define SMMU_IDR5		0x014
#define SMMU_IDR5_OAS		0, 3 /* 0..6 = 32,36,40,42,44,48,52 bits */
#define SMMU_IDR5_GRAN4K	4, 1
#define SMMU_IDR5_GRAN16K	5, 1
#define SMMU_IDR5_GRAN64K	6, 1
#define SMMU_IDR5_VAX		10, 2
#define SMMU_IDR5_STALL_MAX	16, 16
#define SMMU_IIDR		0x018
#define SMMU_AIDR		0x01c

#define SMMU_CR0		   0x020
#define SMMU_CR0ACK		   0x024
#define SMMU_CR0_SMMUEN		   0, 1
#define SMMU_CR0_PRIQEN		   1, 1
#define SMMU_CR0_EVENTQEN	   2, 1
#define SMMU_CR0_CMDQEN		   3, 1
#define SMMU_CR0_ATSCHK		   4, 1
#define SMMU_CR0_VMW		   6, 3
#define SMMU_CR0_VALID_MASK	   0x5dfu /* bits 5, 9, 31:11 are RES0 */
#define SMMU_CR1		   0x028
#define SMMU_CR1_QUEUE_IC	   0, 2
#define SMMU_CR1_QUEUE_OC	   2, 2
#define SMMU_CR1_QUEUE_SH	   4, 2
#define SMMU_CR1_TABLE_IC	   6, 2
#define SMMU_CR1_TABLE_OC	   8, 2
#define SMMU_CR1_TABLE_SH	   10, 2
#define SMMU_CR1_VALID_MASK	   0xfffu
#define SMMU_CR2		   0x02c
#define SMMU_CR2_E2H		   0, 1
#define SMMU_CR2_RECINVSID	   1, 1
#define SMMU_CR2_PTM		   2, 1
#define SMMU_CR2_VALID_MASK	   0x7u
#define SMMU_STATUSR		   0x040
#define SMMU_GBPA		   0x044
#define SMMU_GBPA_SHCFG		   12, 2
#define SMMU_GBPA_ABORT		   20, 1
#define SMMU_GBPA_UPDATE	   31, 1
#define SMMU_AGBPA		   0x048
#define SMMU_IRQ_CTRL		   0x050
#define SMMU_IRQ_CTRLACK	   0x054
#define SMMU_IRQ_CTRL_GERROR	   0, 1
#define SMMU_IRQ_CTRL_PRIQ	   1, 1
#define SMMU_IRQ_CTRL_EVENTQ	   2, 1
#define SMMU_GERROR		   0x060
#define SMMU_GERRORN		   0x064
#define SMMU_GERROR_CMDQ_ERR	   0, 1
#define SMMU_GERROR_EVENTQ_ABT	   2, 1
#define SMMU_GERROR_PRIQ_ABT	   3, 1
#define SMMU_GERROR_MSI_CMDQ_ABT   4, 1
#define SMMU_GERROR_MSI_EVENTQ_ABT 5, 1
#define SMMU_GERROR_MSI_PRIQ_ABT   6, 1
#define SMMU_GERROR_MSI_GERROR_ABT 7, 1
#define SMMU_GERROR_SFM_ERR	   8, 1
#define SMMU_GERROR_VALID_MASK	   0x1fdu
#define SMMU_GERROR_IRQ_CFG0	   0x068 /* 64-bit, ADDR [51:2] */
#define SMMU_GERROR_IRQ_CFG1	   0x070
#define SMMU_GERROR_IRQ_CFG2	   0x074
#define SMMU_IRQ_CFG0_ADDR_MASK	   SMMU_ADDR_MASK(51, 2)

#define SMMU_STRTAB_BASE	      0x080 /* 64-bit */
#define SMMU_STRTAB_BASE_RA	      62, 1
#define SMMU_STRTAB_BASE_ADDR_MASK    SMMU_ADDR_MASK(51, 6)
#define SMMU_STRTAB_BASE_CFG	      0x088
#define SMMU_STRTAB_BASE_CFG_LOG2SIZE 0, 6
#define SMMU_STRTAB_BASE_CFG_SPLIT    6, 5  /* 6, 8 or 10 */
#define SMMU_STRTAB_BASE_CFG_FMT      16, 2 /* 0 linear, 1 two-level */
#define SMMU_STRTAB_FMT_LINEAR	      0
#define SMMU_STRTAB_FMT_2LVL	      1

/* Queue base registers share one layout (6.3.24). */
#define SMMU_CMDQ_BASE		  0x090 /* 64-bit */
#define SMMU_CMDQ_PROD		  0x098
#define SMMU_CMDQ_CONS		  0x09c
#define SMMU_EVENTQ_BASE	  0x0a0 /* 64-bit */
#define SMMU_EVENTQ_PROD_P0	  0x0a8 /* page-0 alias */
#define SMMU_EVENTQ_CONS_P0	  0x0ac
#define SMMU_EVENTQ_PROD	  (SMMU_PAGE1 + 0xa8)
#define SMMU_EVENTQ_CONS	  (SMMU_PAGE1 + 0xac)
#define SMMU_EVENTQ_IRQ_CFG0	  0x0b0 /* 64-bit */
#define SMMU_EVENTQ_IRQ_CFG1	  0x0b8
#define SMMU_EVENTQ_IRQ_CFG2	  0x0bc
#define SMMU_PRIQ_BASE		  0x0c0
#define SMMU_PRIQ_PROD		  (SMMU_PAGE1 + 0xc8)
#define SMMU_PRIQ_CONS		  (SMMU_PAGE1 + 0xcc)
#define SMMU_Q_BASE_LOG2SIZE	  0, 5
#define SMMU_Q_BASE_ADDR_MASK	  SMMU_ADDR_MASK(51, 5)
#define SMMU_Q_BASE_RWA		  62, 1
#define SMMU_CMDQ_CONS_ERR	  24, 7
#define SMMU_EVENTQ_PROD_OVFLG	  31, 1
#define SMMU_EVENTQ_CONS_OVACKFLG 31, 1
/* Queue pointers: index [log2size-1:0], wrap bit at log2size (7.2). */
#define SMMU_Q_IDX(p, l2)	  ((p) & ((1u << (l2)) - 1))
#define SMMU_Q_WRP(p, l2)	  ((p) & (1u << (l2)))

/* CMDQ_CONS.ERR codes (7.1). */
#define SMMU_CERROR_NONE	 0
#define SMMU_CERROR_ILL		 1
#define SMMU_CERROR_ABT		 2
#define SMMU_CERROR_ATC_INV_SYNC 3

/* 5.2 Stream table entry: 64 bytes, 8 DW. */
#define SMMU_STE_SIZE		64
#define SMMU_STE_DWORDS		8
#define SMMU_STE0_V		0, 1
#define SMMU_STE0_CONFIG	1, 3
#define SMMU_STE_CONFIG_ABORT	0
#define SMMU_STE_CONFIG_BYPASS	4
#define SMMU_STE_CONFIG_S1	5
#define SMMU_STE_CONFIG_S2	6
#define SMMU_STE_CONFIG_NESTED	7
#define SMMU_STE0_S1FMT		4, 2 /* 0 linear CD table */
#define SMMU_STE0_S1CTXPTR_MASK SMMU_ADDR_MASK(51, 6)
#define SMMU_STE0_S1CDMAX	59, 5
#define SMMU_STE1_S1DSS		0, 2 /* 0 terminate, 1 bypass, 2 SSID0 */
#define SMMU_STE1_S1CIR		2, 2
#define SMMU_STE1_S1COR		4, 2
#define SMMU_STE1_S1CSH		6, 2
#define SMMU_STE1_S1STALLD	27, 1
#define SMMU_STE1_EATS		28, 2
#define SMMU_STE1_STRW		30, 2 /* 0 NS-EL1, 2 EL2 */
#define SMMU_STE_STRW_NSEL1	0
#define SMMU_STE_STRW_EL2	2
#define SMMU_STE1_SHCFG		44, 2
#define SMMU_STE2_S2VMID	0, 16
#define SMMU_STE2_S2AA64	51, 1
#define SMMU_STE3_S2TTB_MASK	SMMU_ADDR_MASK(51, 4)

/* L1 stream table descriptor (5.1): 8 bytes. */
#define SMMU_L1STD_SPAN	      0, 5
#define SMMU_L1STD_L2PTR_MASK SMMU_ADDR_MASK(51, 6)

/* 5.4 Context descriptor: 64 bytes, 8 DW. */
#define SMMU_CD_SIZE	   64
#define SMMU_CD_DWORDS	   8
#define SMMU_CD0_T0SZ	   0, 6
#define SMMU_CD0_TG0	   6, 2 /* 0 4K, 1 64K, 2 16K */
#define SMMU_CD0_IR0	   8, 2
#define SMMU_CD0_OR0	   10, 2
#define SMMU_CD0_SH0	   12, 2
#define SMMU_CD0_EPD0	   14, 1
#define SMMU_CD0_ENDI	   15, 1
#define SMMU_CD0_T1SZ	   16, 6
#define SMMU_CD0_TG1	   22, 2 /* 1 16K, 2 4K, 3 64K */
#define SMMU_CD0_EPD1	   30, 1
#define SMMU_CD0_V	   31, 1
#define SMMU_CD0_IPS	   32, 3 /* as IDR5.OAS */
#define SMMU_CD0_AFFD	   35, 1
#define SMMU_CD0_WXN	   36, 1
#define SMMU_CD0_TBI0	   38, 1
#define SMMU_CD0_TBI1	   39, 1
#define SMMU_CD0_AA64	   41, 1
#define SMMU_CD0_HD	   42, 1
#define SMMU_CD0_HA	   43, 1
#define SMMU_CD0_S	   44, 1
#define SMMU_CD0_R	   45, 1
#define SMMU_CD0_A	   46, 1
#define SMMU_CD0_ASET	   47, 1
#define SMMU_CD0_ASID	   48, 16
#define SMMU_CD1_TTB0_MASK SMMU_ADDR_MASK(51, 4)
#define SMMU_CD2_TTB1_MASK SMMU_ADDR_MASK(51, 4)
/* DW3 holds MAIR. */
#define SMMU_CD_TG0_4K	   0
#define SMMU_CD_TG0_64K	   1
#define SMMU_CD_TG0_16K	   2

/* 4.1 Commands: 16 bytes, opcode in DW0 [7:0]. */
#define SMMU_CMD_SIZE		    16
#define SMMU_CMD0_OP		    0, 8
#define SMMU_CMD0_SSEC		    10, 1
#define SMMU_CMD0_SSV		    11, 1
#define SMMU_CMD0_SSID		    12, 20
#define SMMU_CMD0_SID		    32, 32
#define SMMU_CMD0_NUM		    12, 5
#define SMMU_CMD0_SCALE		    20, 5
#define SMMU_CMD0_VMID		    32, 16
#define SMMU_CMD0_ASID		    48, 16
#define SMMU_CMD1_LEAF		    0, 1
#define SMMU_CMD1_RANGE		    0, 5 /* CFGI_STE_RANGE */
#define SMMU_CMD1_TTL		    8, 2
#define SMMU_CMD1_TG		    10, 2 /* 0 no range, 1 4K, 2 16K, 3 64K */
#define SMMU_CMD1_ADDR_MASK	    SMMU_ADDR_MASK(63, 12)
#define SMMU_CMD1_PREFETCH_SIZE	    0, 5
#define SMMU_CMD0_SYNC_CS	    12, 2 /* 0 none, 1 IRQ, 2 SEV, 3 illegal */
#define SMMU_CMD0_SYNC_MSH	    22, 2
#define SMMU_CMD0_SYNC_MSIATTR	    24, 4
#define SMMU_CMD0_SYNC_MSIDATA	    32, 32
#define SMMU_CMD1_SYNC_MSIADDR_MASK SMMU_ADDR_MASK(51, 2)
#define SMMU_SYNC_CS_NONE	    0
#define SMMU_SYNC_CS_IRQ	    1
#define SMMU_SYNC_CS_SEV	    2

#define SMMU_OP_PREFETCH_CONFIG 0x01
#define SMMU_OP_PREFETCH_ADDR	0x02
#define SMMU_OP_CFGI_STE	0x03
#define SMMU_OP_CFGI_STE_RANGE	0x04 /* Range 31 = CFGI_ALL */
#define SMMU_OP_CFGI_CD		0x05
#define SMMU_OP_CFGI_CD_ALL	0x06
#define SMMU_OP_TLBI_NH_ALL	0x10
#define SMMU_OP_TLBI_NH_ASID	0x11
#define SMMU_OP_TLBI_NH_VA	0x12
#define SMMU_OP_TLBI_NH_VAA	0x13
#define SMMU_OP_TLBI_EL3_ALL	0x18
#define SMMU_OP_TLBI_EL3_VA	0x1a
#define SMMU_OP_TLBI_EL2_ALL	0x20
#define SMMU_OP_TLBI_EL2_ASID	0x21
#define SMMU_OP_TLBI_EL2_VA	0x22
#define SMMU_OP_TLBI_EL2_VAA	0x23
#define SMMU_OP_TLBI_S12_VMALL	0x28
#define SMMU_OP_TLBI_S2_IPA	0x2a
#define SMMU_OP_TLBI_NSNH_ALL	0x30
#define SMMU_OP_ATC_INV		0x40
#define SMMU_OP_PRI_RESP	0x41
#define SMMU_OP_RESUME		0x44
#define SMMU_OP_STALL_TERM	0x45
#define SMMU_OP_CMD_SYNC	0x46
#define SMMU_CFGI_RANGE_ALL	31

/* 7.3 Event records: 32 bytes, 4 DW. */
#define SMMU_EVT_SIZE	     32
#define SMMU_EVT0_ID	     0, 8
#define SMMU_EVT0_SSV	     11, 1
#define SMMU_EVT0_SSID	     12, 20
#define SMMU_EVT0_SID	     32, 32
#define SMMU_EVT1_STAG	     0, 16
#define SMMU_EVT1_STALL	     31, 1
#define SMMU_EVT1_PNU	     33, 1
#define SMMU_EVT1_IND	     34, 1
#define SMMU_EVT1_RNW	     35, 1
#define SMMU_EVT1_NSIPA	     38, 1
#define SMMU_EVT1_S2	     39, 1
#define SMMU_EVT1_CLASS	     40, 2 /* 0 CD, 1 TT, 2 IN */
#define SMMU_EVT1_TTRNW	     44, 1
/* DW2: input address.  DW3: FetchAddr [51:3] or IPA [51:12]. */
#define SMMU_EVT3_FETCH_MASK SMMU_ADDR_MASK(51, 3)
#define SMMU_EVT_CLASS_CD    0
#define SMMU_EVT_CLASS_TT    1
#define SMMU_EVT_CLASS_IN    2

#define SMMU_EVT_F_UUT		    0x01
#define SMMU_EVT_C_BAD_STREAMID	    0x02
#define SMMU_EVT_F_STE_FETCH	    0x03
#define SMMU_EVT_C_BAD_STE	    0x04
#define SMMU_EVT_F_BAD_ATS_TREQ	    0x05
#define SMMU_EVT_F_STREAM_DISABLED  0x06
#define SMMU_EVT_F_TRANSL_FORBIDDEN 0x07
#define SMMU_EVT_C_BAD_SUBSTREAMID  0x08
#define SMMU_EVT_F_CD_FETCH	    0x09
#define SMMU_EVT_C_BAD_CD	    0x0a
#define SMMU_EVT_F_WALK_EABT	    0x0b
#define SMMU_EVT_F_TRANSLATION	    0x10
#define SMMU_EVT_F_ADDR_SIZE	    0x11
#define SMMU_EVT_F_ACCESS	    0x12
#define SMMU_EVT_F_PERMISSION	    0x13
#define SMMU_EVT_F_TLB_CONFLICT	    0x20
#define SMMU_EVT_F_CFG_CONFLICT	    0x21
#define SMMU_EVT_E_PAGE_REQUEST	    0x24
#define SMMU_EVT_F_VMS_FETCH	    0x25

/* VMSAv8-64 translation table descriptors (Arm ARM D8.3). */
#define SMMU_PTE_VALID		(1ULL << 0)
#define SMMU_PTE_TYPE_TABLE	(1ULL << 1) /* L0-L2: table; L3: page */
#define SMMU_PTE_ATTRINDX	2, 3
#define SMMU_PTE_NS		(1ULL << 5)
#define SMMU_PTE_AP		6, 2 /* AP[2:1] */
#define SMMU_PTE_AP_RW		0    /* EL1 RW, EL0 none */
#define SMMU_PTE_AP_RW_EL0	1
#define SMMU_PTE_AP_RO		2
#define SMMU_PTE_AP_RO_EL0	3
#define SMMU_PTE_SH		8, 2 /* 0 non, 2 outer, 3 inner */
#define SMMU_PTE_AF		(1ULL << 10)
#define SMMU_PTE_NG		(1ULL << 11)
#define SMMU_PTE_DBM		(1ULL << 51)
#define SMMU_PTE_CONT		(1ULL << 52)
#define SMMU_PTE_PXN		(1ULL << 53)
#define SMMU_PTE_UXN		(1ULL << 54)
#define SMMU_PTE_APTABLE	61, 2
#define SMMU_PTE_NSTABLE	(1ULL << 63)
#define SMMU_PTE_OA_MASK(gbits) (SMMU_ADDR_MASK(47, 0) & ~SMMU__MASK(gbits))

/* IDR5.OAS / CD.IPS encoding to bits. */
static inline unsigned
smmu_pa_size_bits(unsigned enc)
{
	static const unsigned char bits[] = {32, 36, 40, 42, 44, 48, 52};

	return enc < sizeof(bits) ? bits[enc] : 0;
}

#endif /* IOMMU_SMMUV3_DEFS_H */
