/*
 * libiommu - a software model of an Arm SMMUv3 (IHI 0070), embeddable in
 * host-side simulators.
 *
 * The model is driven like silicon: MMIO reads/writes at an offset in
 * register pages 0 and 1, and reads/writes of simulated physical memory
 * through the host's callbacks (stream table, context descriptors, page
 * tables, queues all live there).  Devices behind it call the translate /
 * DMA entry points with a stream ID.  There is no global state: any number
 * of instances coexist, each with its own host ops, cookie and allocator.
 *
 * Time: no threads, no timers.  The command queue is consumed when
 * CMDQ_PROD is written (bounded by the queue size); CMD_SYNC completes
 * within that write, once the device-side calls in flight when it was
 * reached have returned.  Invalidations take zero time.  Worst case: each TLBI
 * or CFGI scans the TLB or the config cache, so a guest that fills the queue
 * with them makes one CMDQ_PROD write cost 2^cfg_cmdqs times
 * (cfg_tlb_sets * cfg_tlb_ways) steps (0.6 s with the defaults, 2^19
 * commands over 1024 entries, at -O2); size cfg_cmdqs and the caches
 * with that product in mind.
 *
 * Threading: every entry point (MMIO, translate, probe, DMA, stats,
 * introspection) may be called from any thread, concurrently.  Device-side
 * calls (translate, probe, DMA) and MMIO reads on one instance run in
 * parallel with each other.  A CMDQ_PROD write (4 bytes) runs its TLBI
 * and CMD_SYNC commands alongside them too, as an SMMU's command
 * processing runs beside its translation; a CFGI in the batch, other
 * MMIO writes, reset, stats and introspection run alone, never
 * overlapping a device-side call.  Either way, when a CMD_SYNC
 * completes, every translation or DMA that could have used an entry
 * invalidated before it has finished, and none that starts later uses
 * it.  So a device-side call that blocks in ho_mem_read holds up the
 * next CMD_SYNC (not the TLBIs before it).  Different instances share
 * nothing.  ho_mem_read / ho_mem_write may be called from several
 * threads at once (one per concurrent device-side call); the other
 * callbacks (irq, msi, log, stale, trace, invalidate) are never called
 * concurrently for one instance.  Host callbacks must not call back into
 * the same instance (a re-entrant call fails with EDEADLK instead of
 * deadlocking; void functions called re-entrantly do nothing).
 * smmuv3_destroy must not race with other calls on the same instance.
 * The locks spin briefly and then yield while contended, so host
 * callbacks should not block for long.
 */
#ifndef IOMMU_SMMUV3_MODEL_H
#define IOMMU_SMMUV3_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>
#include <iommu/memops.h>

#ifdef __cplusplus
extern "C" {
#endif

struct smmuv3;

#define SMMUV3_MODEL_VERSION 0x000102 /* 0.1.2 */

/* Substream ID argument meaning "no substream" (SSV = 0). */
#define SMMUV3_NO_SSID UINT32_MAX

/* Granule bits for smmuv3_config.cfg_granules. */
#define SMMUV3_GRAN_4K	0x1u
#define SMMUV3_GRAN_16K 0x2u
#define SMMUV3_GRAN_64K 0x4u

/* What the ID registers advertise and how big the caches are. */
struct smmuv3_config {
	size_t	 cfg_size;	       /* sizeof(struct smmuv3_config) */
	unsigned cfg_sidsize;	       /* IDR1.SIDSIZE, 0..32 */
	unsigned cfg_ssidsize;	       /* IDR1.SSIDSIZE, 0..20 */
	unsigned cfg_cmdqs;	       /* IDR1.CMDQS: max log2 entries, <= 19 */
	unsigned cfg_eventqs;	       /* IDR1.EVENTQS, <= 19 */
	unsigned cfg_oas_bits;	       /* 32, 36, 40, 42, 44 or 48 */
	unsigned cfg_granules;	       /* SMMUV3_GRAN_* */
	bool	 cfg_two_level_strtab; /* IDR0.ST_LEVEL */
	bool	 cfg_asid16;	       /* IDR0.ASID16 */
	bool	 cfg_range_inv;	       /* IDR3.RIL */
	bool	 cfg_hyp;	       /* IDR0.HYP: EL2 regime, TLBI_EL2_* */
	bool	 cfg_msi;	       /* IDR0.MSI */
	bool	 cfg_sev;	       /* IDR0.SEV */
	unsigned cfg_tlb_sets;	       /* power of two */
	unsigned cfg_tlb_ways;
	unsigned cfg_cfgcache_entries; /* decoded STE+CD per stream */
	bool	 cfg_check_stale;      /* see smmuv3_stale_report */
	/*
	 * TBUs (added in 0.1.2; smmuv3_config_init sets 1): the TLB's sets
	 * are split evenly between them, and stream SID translates in
	 * TBU SID mod cfg_tlb_tbus, as an SoC wires each master to one TBU.
	 * Streams of different TBUs never evict each other's entries, and
	 * host threads driving them touch disjoint TLB state; a TLBI
	 * reaches every TBU.  A power of two, at most cfg_tlb_sets and 64.
	 */
	unsigned cfg_tlb_tbus;
};

/* Fills in the defaults (a 4K/16K/64K, 48-bit, two-level capable SMMU). */
IOMMU_EXPORT void smmuv3_config_init(struct smmuv3_config *);
/* SMMUV3_MODEL_VERSION of the library actually linked (added in 0.1.1). */
IOMMU_EXPORT unsigned smmuv3_version(void);

enum smmuv3_irq_line {
	SMMUV3_IRQ_EVENTQ,
	SMMUV3_IRQ_PRIQ,
	SMMUV3_IRQ_CMD_SYNC,
	SMMUV3_IRQ_GERROR,
};

enum smmuv3_log_level {
	SMMUV3_LOG_ERROR,
	SMMUV3_LOG_GUEST_ERROR, /* the guest programmed something wrong */
	SMMUV3_LOG_UNIMP,	/* an unimplemented feature was used */
	SMMUV3_LOG_DEBUG,
};

/*
 * Reported (callback + counter, never an architectural event) when the
 * stale-translation checker finds a TLB or config-cache hit that disagrees
 * with a fresh walk of memory: the driver changed a table without the
 * invalidation it owed.
 */
struct smmuv3_stale_report {
	uint32_t sr_sid;
	uint32_t sr_ssid;
	uint64_t sr_iova;
	bool	 sr_config;	 /* config cache (STE/CD), else TLB */
	uint64_t sr_cached_pa;	 /* what the cache returned */
	uint64_t sr_fresh_pa;	 /* what memory says (if it translates) */
	uint8_t	 sr_fresh_event; /* fault a fresh walk gives, or 0 */
};

/* Trace points (callback ho_trace); fields not listed are 0. */
enum smmuv3_trace_kind {
	SMMUV3_TRACE_STE_FETCH, /* tr_sid, tr_addr: STE (or L1 descriptor) */
	SMMUV3_TRACE_CD_FETCH,	/* tr_sid, tr_ssid, tr_addr: CD */
	SMMUV3_TRACE_WALK,	/* tr_iova, tr_level, tr_addr, tr_value: desc */
	SMMUV3_TRACE_FAULT,	/* tr_sid, tr_ssid, tr_iova, tr_event */
	SMMUV3_TRACE_EVENT,	/* tr_event, tr_addr: record written there */
	SMMUV3_TRACE_COMMAND,	/* tr_value: opcode, tr_addr: command */
	SMMUV3_TRACE_IRQ,	/* tr_value: enum smmuv3_irq_line */
};

struct smmuv3_trace {
	enum smmuv3_trace_kind tr_kind;
	uint32_t	       tr_sid;
	uint32_t	       tr_ssid;
	uint64_t	       tr_iova;
	uint64_t	       tr_addr;
	uint64_t	       tr_value;
	unsigned	       tr_level;
	uint8_t		       tr_event;
};

/*
 * Invalidation notice (callback ho_invalidate), sent after a CFGI_* or
 * TLBI_* command took effect, so a host that caches translations (a DMI
 * pointer, a device IOTLB) can drop them.  The callback must not call
 * translate on the same instance (it would get EDEADLK).
 */
struct smmuv3_inval {
	uint8_t	 iv_opcode; /* SMMU_OP_* of the command */
	bool	 iv_config; /* CFGI: iv_sid_* (and iv_ssid) apply */
	uint32_t iv_sid_first;
	uint32_t iv_sid_last;
	uint32_t iv_ssid;      /* CFGI_CD: the SSID, else SMMUV3_NO_SSID */
	unsigned iv_regime;    /* TLBI: STE.STRW value of the entries */
	bool	 iv_all_asids; /* TLBI: else only iv_asid */
	uint16_t iv_asid;
	uint64_t iv_iova_first; /* TLBI: inclusive; 0..UINT64_MAX = all */
	uint64_t iv_iova_last;
};

struct smmuv3_host_ops {
	size_t ho_size; /* sizeof(struct smmuv3_host_ops) */
	/* Required: simulated physical memory (see iommu/memops.h). */
	iommu_mem_read_fn  *ho_mem_read;
	iommu_mem_write_fn *ho_mem_write;
	/* Optional: a pulse on a wired interrupt line. */
	void (*ho_irq)(void *cookie, enum smmuv3_irq_line line);
	/* Optional: MSI delivery; when NULL an MSI is a 32-bit memory write. */
	int (*ho_msi)(void *cookie, uint64_t addr, uint32_t data);
	/* Optional: log lines without trailing newline. */
	void (*ho_log)(void *cookie, enum smmuv3_log_level, const char *msg);
	/* Optional: stale-translation reports (cfg_check_stale). */
	void (*ho_stale)(void *cookie, const struct smmuv3_stale_report *);
	/* Optional (appended in 0.1.1, see ho_size): trace points. */
	void (*ho_trace)(void *cookie, const struct smmuv3_trace *);
	/* Optional (appended in 0.1.1): invalidation notices. */
	void (*ho_invalidate)(void *cookie, const struct smmuv3_inval *);
};

/* alloc may be NULL (malloc).  Returns 0, EINVAL or ENOMEM. */
IOMMU_EXPORT int  smmuv3_create(const struct smmuv3_config *,
     const struct smmuv3_host_ops *, void *cookie,
     const struct iommu_allocator *alloc, struct smmuv3 **out);
IOMMU_EXPORT void smmuv3_destroy(struct smmuv3 *);
/* Architectural reset values; caches emptied; nothing reallocated. */
IOMMU_EXPORT void smmuv3_reset(struct smmuv3 *);

/*
 * Register access at an offset from the SMMU base (page 1 at +0x10000),
 * size 4 or 8.  Unknown offsets read as zero and ignore writes (logged as
 * SMMUV3_LOG_UNIMP).  Returns 0, or EINVAL for a bad size/alignment.
 */
IOMMU_EXPORT int smmuv3_mmio_read(
    struct smmuv3 *, uint64_t offset, unsigned size, uint64_t *val);
IOMMU_EXPORT int smmuv3_mmio_write(
    struct smmuv3 *, uint64_t offset, unsigned size, uint64_t val);

#define SMMUV3_ACCESS_READ  0x1u
#define SMMUV3_ACCESS_WRITE 0x2u

struct smmuv3_xlate {
	uint64_t xl_pa;	    /* output address of iova */
	uint64_t xl_size;   /* size of the page/block that maps it */
	unsigned xl_perm;   /* SMMUV3_ACCESS_* the mapping allows */
	unsigned xl_level;  /* level of the leaf descriptor */
	bool	 xl_bypass; /* no translation (bypass STE/GBPA) */
};

/* Structured fault: what an event record would carry. */
struct smmuv3_fault {
	uint8_t	 ft_event;	/* SMMU event ID, e.g. F_TRANSLATION */
	bool	 ft_recorded;	/* an event record was written */
	bool	 ft_aborted;	/* terminated without an event */
	uint64_t ft_addr;	/* input address */
	uint64_t ft_fetch_addr; /* for *_FETCH / F_WALK_EABT */
	uint8_t	 ft_class;	/* SMMU_EVT_CLASS_* */
	bool	 ft_rnw;
};

/*
 * Translate one access.  Returns 0 with *xl filled, EFAULT with *fault
 * filled (the event is recorded as the architecture says), EINVAL for bad
 * arguments (xl NULL, access 0 or unknown bits; fault may be NULL).
 * smmuv3_probe does the same walk with no side effects: no cache fill, no
 * event, no counter; it reads the STE, CD and tables from memory and does
 * not consult the caches, so it shows what a fresh walk would give.
 */
IOMMU_EXPORT int smmuv3_translate(struct smmuv3 *, uint32_t sid, uint32_t ssid,
    uint64_t iova, unsigned access, struct smmuv3_xlate *xl,
    struct smmuv3_fault *fault);
IOMMU_EXPORT int smmuv3_probe(struct smmuv3 *, uint32_t sid, uint32_t ssid,
    uint64_t iova, unsigned access, struct smmuv3_xlate *xl,
    struct smmuv3_fault *fault);

/*
 * Device DMA of any length through the SMMU, page by page.  On a fault
 * nothing past the faulting page is transferred; returns EFAULT with
 * *fault filled (fault may be NULL).  Returns EIO when the translated
 * memory access itself fails in the host's memory callback (ft_event 0),
 * EINVAL when iova + len wraps.
 */
IOMMU_EXPORT int smmuv3_dma_read(struct smmuv3 *, uint32_t sid, uint32_t ssid,
    uint64_t iova, void *buf, size_t len, struct smmuv3_fault *fault);
IOMMU_EXPORT int smmuv3_dma_write(struct smmuv3 *, uint32_t sid, uint32_t ssid,
    uint64_t iova, const void *buf, size_t len, struct smmuv3_fault *fault);

struct smmuv3_stats {
	uint64_t st_translations;
	uint64_t st_tlb_hits;
	uint64_t st_tlb_misses;
	uint64_t st_tlb_evictions;
	uint64_t st_tlb_invalidated; /* entries dropped by TLBI */
	uint64_t st_walks;
	uint64_t st_walk_reads; /* descriptor fetches */
	uint64_t st_cfg_hits;
	uint64_t st_cfg_misses;
	uint64_t st_ste_fetches;
	uint64_t st_cd_fetches;
	uint64_t st_commands;
	uint64_t st_commands_by_op[256];
	uint64_t st_events;
	uint64_t st_events_by_id[256];
	uint64_t st_events_lost;   /* queue full or disabled */
	uint64_t st_stale;	   /* stale-translation reports */
	uint64_t st_unimplemented; /* RAZ/WI accesses, unimp cmds */
};
IOMMU_EXPORT void smmuv3_get_stats(struct smmuv3 *, struct smmuv3_stats *);
/* The configuration the instance was created with (added in 0.1.1). */
IOMMU_EXPORT void smmuv3_get_config(struct smmuv3 *, struct smmuv3_config *);

/* A TLB entry, for tests and introspection. */
struct smmuv3_tlb_info {
	uint16_t ti_asid;
	uint16_t ti_vmid;
	unsigned ti_regime; /* STE.STRW value */
	uint64_t ti_iova;   /* base of the page/block */
	uint64_t ti_pa;
	uint64_t ti_size;
	unsigned ti_level;
	unsigned ti_perm;
};
/* Calls fn for each valid entry, in set/way order; returns the count. */
IOMMU_EXPORT size_t smmuv3_tlb_foreach(struct smmuv3 *,
    void (*fn)(void *arg, const struct smmuv3_tlb_info *), void *arg);
/* Number of valid config-cache entries. */
IOMMU_EXPORT size_t smmuv3_cfgcache_count(struct smmuv3 *);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_SMMUV3_MODEL_H */
