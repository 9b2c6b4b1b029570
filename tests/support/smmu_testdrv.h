/*
 * Test-side mini driver for the SMMUv3 model: programs the model only
 * through its MMIO registers and simulated memory (a struct test_flatmem),
 * the way a kernel driver programs silicon, so tests state what they map
 * instead of poking bytes.
 *
 * Design: struct smmu_td owns one model instance, its RAM and the
 * driver-side state a real driver keeps: the software copies of CMDQ_PROD
 * and EVENTQ_CONS (index plus wrap bit, 7.2), the stream table (linear, or
 * a level-1 table whose level-2 tables are allocated on first use with
 * Span = SPLIT + 1), and counters of the host callbacks the model invoked
 * (interrupt pulses, stale-translation reports, log lines).  Page tables
 * are VMSAv8-64, 4 KiB granule, 48-bit input (T0SZ 16, walk starts at
 * level 0); intermediate tables are allocated on demand.  Every helper
 * fails the running cmocka test on an unexpected model return code, so a
 * test body only checks architectural outcomes.
 */
#ifndef SMMU_TESTDRV_H
#define SMMU_TESTDRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/smmuv3_model.h>

#include "smmuv3_defs.h"
#include "test_flatmem.h"

#define SMMU_TD_RAM_BASE 0x40000000ULL
#define SMMU_TD_RAM_SIZE (8ULL << 20)

/*
 * Leaf attributes as Linux io-pgtable writes them for stage 1: AP[2:1]
 * with EL0 access, non-global (ASID-tagged), AttrIndx 1 (normal WB).
 */
#define SMMU_TD_PTE_RW                                                         \
	(SMMU_PTE_AF | SMMU_PTE_NG | SMMU_FSET(0, SMMU_PTE_SH, 3) |            \
	    SMMU_FSET(0, SMMU_PTE_ATTRINDX, 1) |                               \
	    SMMU_FSET(0, SMMU_PTE_AP, SMMU_PTE_AP_RW_EL0))
#define SMMU_TD_PTE_RO                                                         \
	(SMMU_PTE_AF | SMMU_PTE_NG | SMMU_FSET(0, SMMU_PTE_SH, 3) |            \
	    SMMU_FSET(0, SMMU_PTE_ATTRINDX, 1) |                               \
	    SMMU_FSET(0, SMMU_PTE_AP, SMMU_PTE_AP_RO_EL0))

#define SMMU_TD_4K (1ULL << 12)
#define SMMU_TD_2M (1ULL << 21)
#define SMMU_TD_1G (1ULL << 30)

struct smmu_td_opts {
	unsigned to_strtab_fmt;	 /* SMMU_STRTAB_FMT_* */
	unsigned to_strtab_log2; /* STRTAB_BASE_CFG.LOG2SIZE */
	unsigned to_split;	 /* two-level: 6, 8 or 10 */
	unsigned to_cmdq_log2;
	unsigned to_evtq_log2;
	uint32_t to_cr2; /* RECINVSID is always added */
};

struct smmu_cmd {
	uint64_t c_dw[2];
};

struct smmu_evt {
	uint8_t	 ev_id;
	bool	 ev_ssv;
	uint32_t ev_ssid;
	uint32_t ev_sid;
	bool	 ev_rnw;
	bool	 ev_pnu;
	bool	 ev_ind;
	bool	 ev_s2;
	unsigned ev_class;
	uint64_t ev_addr;  /* DW2: input address */
	uint64_t ev_fetch; /* DW3 [51:3]: fetch address */
	uint64_t ev_raw[4];
};

/* A stage-1 stream: STE -> CD table -> 4-level page table. */
struct smmu_td_dom {
	uint32_t dm_sid;
	uint16_t dm_asid;
	unsigned dm_cdmax; /* log2 of the CD table size */
	uint64_t dm_cdtab; /* CD 0 is at dm_cdtab */
	uint64_t dm_root;  /* TTB0 of CD 0 */
	uint64_t dm_ste[SMMU_STE_DWORDS];
	uint64_t dm_cd[SMMU_CD_DWORDS];
};

struct smmu_td {
	struct test_flatmem  td_mem;
	struct smmuv3_config td_cfg;
	struct smmuv3	    *td_smmu;
	struct smmu_td_opts  td_opts;
	uint64_t	     td_strtab; /* linear table or L1 table */
	uint64_t	     td_cmdq;
	uint32_t	     td_cmdq_prod; /* index | wrap */
	uint64_t	     td_evtq;
	uint32_t	     td_evtq_cons; /* index | wrap | OVACKFLG */
	uint64_t	     td_sync_word; /* CMD_SYNC MSI target */
	/* Host callback observations, under td_lock. */
	pthread_mutex_t		   td_lock;
	unsigned long		   td_irqs[4];
	unsigned long		   td_stale;
	struct smmuv3_stale_report td_last_stale;
	unsigned long		   td_logs[4];
	/*
	 * The read gate (smmu_td_gate_*): a model read of td_gate_pa parks
	 * after copying the data until the test opens the gate, so a test
	 * can hold a walk or a DMA in flight.  Under td_lock.
	 */
	pthread_cond_t td_gate_cv;
	uint64_t       td_gate_pa; /* 0: no gate */
	bool	       td_gate_parked;
};

/* cfg NULL: smmuv3_config_init defaults.  ram_size 0: SMMU_TD_RAM_SIZE. */
void smmu_td_init(
    struct smmu_td *, const struct smmuv3_config *cfg, uint64_t ram_size);
void smmu_td_fini(struct smmu_td *);
void smmu_td_default_opts(struct smmu_td_opts *);
/* Full enable sequence (queues, stream table, CR0/CR0ACK, invalidate all). */
void smmu_td_enable(struct smmu_td *, const struct smmu_td_opts *opts);
/* Writes CR0 and checks that CR0ACK follows within a bounded poll. */
void smmu_td_write_cr0(struct smmu_td *, uint32_t cr0);

/* MMIO; fail the test unless the model returns 0. */
uint32_t smmu_td_rd32(struct smmu_td *, uint64_t off);
void	 smmu_td_wr32(struct smmu_td *, uint64_t off, uint32_t val);
uint64_t smmu_td_rd64(struct smmu_td *, uint64_t off);
void	 smmu_td_wr64(struct smmu_td *, uint64_t off, uint64_t val);

/* Queue pointer arithmetic (7.2): index + wrap, l2 = LOG2SIZE. */
uint32_t smmu_q_inc(uint32_t p, unsigned l2);

/* Command builders (4.x). */
struct smmu_cmd smmu_cmd_raw(uint64_t dw0, uint64_t dw1);
struct smmu_cmd smmu_cmd_sync(unsigned cs, uint64_t msiaddr, uint32_t msidata);
struct smmu_cmd smmu_cmd_cfgi_ste(uint32_t sid, bool leaf);
struct smmu_cmd smmu_cmd_cfgi_ste_range(uint32_t sid, unsigned range);
struct smmu_cmd smmu_cmd_cfgi_all(void);
struct smmu_cmd smmu_cmd_cfgi_cd(uint32_t sid, uint32_t ssid, bool leaf);
struct smmu_cmd smmu_cmd_cfgi_cd_all(uint32_t sid);
struct smmu_cmd smmu_cmd_tlbi_asid(uint8_t op, uint16_t asid);
struct smmu_cmd smmu_cmd_tlbi_all(uint8_t op);
/* TLBI_{NH,EL2}_{VA,VAA}: tg 0 = single address. */
struct smmu_cmd smmu_cmd_tlbi_va(uint8_t op, uint16_t asid, uint64_t va,
    bool leaf, unsigned tg, unsigned num, unsigned scale, unsigned ttl);

/*
 * Writes the commands at PROD (wrapping), rings the doorbell and returns
 * CMDQ_CONS.ERR (0 when everything was consumed; the test fails if CONS
 * then differs from PROD).  On an error CONS points at the bad command.
 */
unsigned smmu_td_submit(struct smmu_td *, const struct smmu_cmd *, unsigned n);
/* One command followed by CMD_SYNC; fails the test on a command error. */
void smmu_td_cmd_sync(struct smmu_td *, struct smmu_cmd);
/*
 * Writes the commands at PROD without ringing the doorbell; returns the
 * CMDQ_PROD value that submits them (at most one queue's worth).
 */
uint32_t smmu_td_queue(struct smmu_td *, const struct smmu_cmd *, unsigned n);

/* The read gate (struct smmu_td): arm at pa, wait for a reader, open. */
void smmu_td_gate_arm(struct smmu_td *, uint64_t pa);
void smmu_td_gate_wait_parked(struct smmu_td *);
void smmu_td_gate_open(struct smmu_td *);
void smmu_td_sync(struct smmu_td *);
/* CMDQ_CONS index|wrap and ERR. */
uint32_t smmu_td_cmdq_cons(struct smmu_td *);

/* Stream table. */
uint64_t smmu_td_ste_pa(struct smmu_td *, uint32_t sid);
void	 smmu_td_write_ste(struct smmu_td *, uint32_t sid, const uint64_t *ste);
void	 smmu_ste_abort(uint64_t *ste);
void	 smmu_ste_bypass(uint64_t *ste);
void smmu_ste_s1(uint64_t *ste, uint64_t cdptr, unsigned cdmax, unsigned s1dss,
    unsigned strw);

/* Context descriptors: valid, AA64, 4K, T0SZ 16, IPS 48, R, A, EPD1. */
void smmu_cd_s1(uint64_t *cd, uint64_t ttb0, uint16_t asid);
void smmu_td_write_cd(struct smmu_td *, uint64_t cd_pa, const uint64_t *cd);

/*
 * The PA iova reads at through stream sid (no substream); fails the test
 * with the fault when the translation does.
 */
uint64_t smmu_td_pa_of(struct smmu_td *, uint32_t sid, uint64_t iova);

/* Page tables. */
uint64_t smmu_td_pt_new(struct smmu_td *);
/* size: SMMU_TD_4K page, SMMU_TD_2M or SMMU_TD_1G block. */
void smmu_td_map(struct smmu_td *, uint64_t root, uint64_t iova, uint64_t pa,
    uint64_t size, uint64_t attrs);
/* Any granule (gshift 12, 14, 16), 48-bit input; leaf at level target. */
uint64_t smmu_td_pt_new_g(struct smmu_td *, unsigned gshift);
unsigned smmu_td_start_level(unsigned gshift);
void	 smmu_td_map_g(struct smmu_td *, uint64_t root, unsigned gshift,
	uint64_t iova, uint64_t pa, unsigned target, uint64_t attrs);
/* Address of the 4K-granule descriptor for iova at level (the path must exist).
 */
uint64_t smmu_td_pte_pa(
    struct smmu_td *, uint64_t root, uint64_t iova, unsigned level);

/*
 * Stage-1 stream: page table + CD table (2^cdmax CDs, CD 0 valid) + STE,
 * then CFGI_STE + CMD_SYNC as a driver would.
 */
void smmu_td_attach(struct smmu_td *, struct smmu_td_dom *, uint32_t sid,
    uint16_t asid, unsigned cdmax, unsigned strw);
/* Rewrites dm_ste / dm_cd (CD 0) to memory, without invalidation. */
void smmu_td_dom_rewrite(struct smmu_td *, struct smmu_td_dom *);

/* Event queue. */
bool	 smmu_td_pop_event(struct smmu_td *, struct smmu_evt *);
unsigned smmu_td_drain_events(struct smmu_td *);
/* Pops one event and checks its ID and SID. */
void smmu_td_expect_event(
    struct smmu_td *, uint8_t id, uint32_t sid, struct smmu_evt *out);
void smmu_td_expect_no_event(struct smmu_td *);
void smmu_evt_decode(const uint64_t raw[4], struct smmu_evt *);

/* GERROR: active = GERROR ^ GERRORN; ack toggles GERRORN. */
uint32_t smmu_td_gerror_active(struct smmu_td *);
void	 smmu_td_gerror_ack(struct smmu_td *, uint32_t bits);

/*
 * True in ASan/TSan builds, where the model runs 10-30x slower: long
 * sweeps sample their cases there so each suite stays under 10 s.
 */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SMMU_TD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SMMU_TD_SANITIZED 1
#endif
#endif
#ifndef SMMU_TD_SANITIZED
#define SMMU_TD_SANITIZED 0
#endif

/* Host callback counters. */
unsigned long smmu_td_irqs(struct smmu_td *, enum smmuv3_irq_line);
unsigned long smmu_td_stale_count(struct smmu_td *);

#endif /* SMMU_TESTDRV_H */
