/*
 * libiommu - the SMMU driver: one instance per SMMU, one domain per
 * stream ID (OpenBSD smmu(4): smmu_softc / smmu_domain).
 *
 * The driver reaches the SMMU only through MMIO accessors (so it runs
 * against the bundled model or any register-compatible one) and through
 * simulated physical memory, where it keeps the stream table, context
 * descriptors, page tables and the command and event queues.
 *
 * A domain owns: an ASID, a context descriptor, its STE, a page-table root
 * (four levels for a 48-bit IOVA space, three for 39-bit), an IOVA arena
 * (an extent with IOVA page 0 reserved) and the seed's two locks: the IOVA
 * lock (the extent's own) and the page-table lock (level creation only).
 *
 * Unmapping queues one TLBI per removed page (or per ASID / per range, by
 * policy); iommu_domain_sync() issues what is queued followed by one
 * CMD_SYNC and returns once the SMMU has consumed it.
 */
#ifndef IOMMU_DOMAIN_H
#define IOMMU_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_smmu;
struct iommu_domain;
struct iommu_physmem;
struct iommu_extent_region;
struct smmuv3;

/* Register access to the SMMU: offset from its base, size 4 or 8. */
struct iommu_mmio_ops {
	int (*mmio_read)(
	    void *cookie, uint64_t offset, unsigned size, uint64_t *val);
	int (*mmio_write)(
	    void *cookie, uint64_t offset, unsigned size, uint64_t val);
	void *cookie;
};

/*
 * Fills *ops with accessors that reach the bundled SMMUv3 model (cookie =
 * model), for attaching the driver to it.
 */
IOMMU_EXPORT void iommu_smmu_model_mmio_ops(
    struct smmuv3 *model, struct iommu_mmio_ops *ops);

/* A decoded event record (IHI 0070 7.3). */
struct iommu_smmu_event {
	uint8_t	 ev_id; /* SMMU_EVT_* */
	bool	 ev_ssv;
	uint32_t ev_sid;
	uint32_t ev_ssid;
	bool	 ev_rnw;
	uint8_t	 ev_class;
	uint64_t ev_addr;	/* input address */
	uint64_t ev_fetch_addr; /* DW3, for fetch and walk aborts */
	uint64_t ev_raw[4];
};
typedef void iommu_smmu_event_fn(void *cookie, const struct iommu_smmu_event *);

/* How unmapping invalidates the TLB. */
enum iommu_tlbi_policy {
	IOMMU_TLBI_PER_PAGE = 0, /* TLBI_NH_VA (leaf) per page: the seed */
	IOMMU_TLBI_ASID,	 /* one TLBI_NH_ASID per sync */
	IOMMU_TLBI_RANGE,	 /* range TLBI when IDR3.RIL, else per page */
};

/*
 * Deliberate driver bugs, for tests that prove the suite catches a missing
 * invalidation ("mutants").  Compiled in only with the CMake option
 * IOMMU_MUTANTS (the test presets); any other build refuses them (EINVAL).
 */
#define IOMMU_SMMU_MUTATE_NO_TLBI 0x1u /* drop the per-page TLBI */
#define IOMMU_SMMU_MUTATE_NO_SYNC 0x2u /* drop the CMD_SYNC */

struct iommu_smmu_config {
	size_t			      sc_size; /* sizeof(struct ...) */
	struct iommu_mmio_ops	      sc_mmio;
	struct iommu_physmem	     *sc_physmem;
	const struct iommu_allocator *sc_alloc;	   /* NULL: malloc */
	iommu_smmu_event_fn	     *sc_event_fn; /* may be NULL */
	void			     *sc_event_cookie;
	unsigned		      sc_cmdq_log2; /* 0: driver default */
	unsigned		      sc_evtq_log2; /* 0: driver default */
	unsigned sc_sid_bits;	  /* 0: from IDR1.SIDSIZE, capped */
	bool	 sc_force_linear; /* linear stream table even if 2-level */
	bool	 sc_pted_percpu;  /* per-thread PTED pool caches */
	enum iommu_tlbi_policy sc_tlbi;
	unsigned	       sc_mutations; /* IOMMU_SMMU_MUTATE_* */
};
IOMMU_EXPORT void iommu_smmu_config_init(struct iommu_smmu_config *);

/*
 * Probe the ID registers, allocate queues and the stream table, enable
 * the SMMU (CR0/CR0ACK, bounded poll), then CFGI_ALL + TLBI_NSNH_ALL +
 * CMD_SYNC.  ENODEV: the SMMU lacks something the driver needs (AArch64
 * stage 1, 4K granule, little-endian tables); ETIMEDOUT: no CR0ACK.
 */
IOMMU_EXPORT int iommu_smmu_attach(
    const struct iommu_smmu_config *, struct iommu_smmu **out);
/* Disables the SMMU and frees everything; EBUSY while domains exist. */
IOMMU_EXPORT int iommu_smmu_detach(struct iommu_smmu *);
/* Hands every pending event record to the callback; *n = how many. */
IOMMU_EXPORT int iommu_smmu_drain_events(struct iommu_smmu *, size_t *n);
/* Acknowledges active global errors; *active = GERROR bits found. */
IOMMU_EXPORT int iommu_smmu_handle_gerror(
    struct iommu_smmu *, uint32_t *active);

struct iommu_smmu_stats {
	uint64_t ss_commands;	     /* commands written to the queue */
	uint64_t ss_syncs;	     /* CMD_SYNCs completed */
	uint64_t ss_cmdq_full_waits; /* times the queue was full */
	uint64_t ss_cmd_errors;	     /* CMDQ_CONS.ERR seen */
	uint64_t ss_events;	     /* records drained */
	uint64_t ss_events_lost;     /* overflow flag seen */
	uint64_t ss_domains;	     /* live domains */
};
IOMMU_EXPORT void iommu_smmu_get_stats(
    struct iommu_smmu *, struct iommu_smmu_stats *);

/* Where a domain's IOVA comes from; see iommu/busdma.h. */
enum iommu_iova_strategy {
	IOMMU_IOVA_PER_MAP = 0, /* one extent alloc per load: the seed */
	IOMMU_IOVA_PER_SEGMENT, /* one per segment: the first attempt */
	IOMMU_IOVA_AT_CREATE,	/* reserved at dmamap create */
	IOMMU_IOVA_IDENTITY,	/* IOVA = PA, the pre-seed 1:1 mapping */
};

/*
 * Deferred invalidation (dc_flush_depth != 0; Linux calls it a flush
 * queue, iommu.strict=0): a bus_dma unload removes its pages and returns
 * without waiting for the SMMU; its IOVA waits in the domain's queue.
 * Every dc_flush_depth unloads (sooner when the queue fills, when an
 * at-create map is loaded again, and at every iommu_domain_sync) one
 * TLBI by ASID and one CMD_SYNC cover them all, and only then is their
 * IOVA reused.  The price: until that flush the device may still reach
 * an unloaded buffer through a cached translation.  0 (the default) is
 * strict: every unload invalidates and waits.
 */
#define IOMMU_DOMAIN_FLUSH_DEPTH_MAX 256

/*
 * The magazine cache (dc_magazines, iommu/iova_magazine.h) keeps freed
 * IOVA per thread for the next allocation of its size, and the domain's
 * page table keeps the PTED of every page it has mapped
 * (iommu_pt_set_keep_pteds): recycled IOVA maps and unmaps without the
 * PTED pool, for one PTED per page of IOVA ever mapped until destroy.
 */

struct iommu_domain_config {
	size_t			 dc_size; /* sizeof(struct ...) */
	unsigned		 dc_ias;  /* 32..48; <= 39: three levels */
	enum iommu_iova_strategy dc_iova;
	bool			 dc_magazines;	 /* per-thread IOVA cache */
	unsigned		 dc_flush_depth; /* 0: strict, see above */
};
IOMMU_EXPORT void iommu_domain_config_init(struct iommu_domain_config *);

/*
 * Create the domain for a stream: ASID, page-table root, CD, STE (written
 * CD first, then STE, each followed by its CFGI and a CMD_SYNC).  EEXIST:
 * the stream already has a domain; ERANGE: sid beyond the stream table;
 * ENOSPC: no ASID left.
 */
IOMMU_EXPORT int iommu_domain_create(struct iommu_smmu *, uint32_t sid,
    const struct iommu_domain_config *, struct iommu_domain	 **out);
/*
 * STE to abort, CFGI_STE, TLBI by ASID, CMD_SYNC, then free the page
 * tables, PTEDs, arena and ASID.  Mappings still present are torn down.
 */
IOMMU_EXPORT int iommu_domain_destroy(struct iommu_domain *);
/* Keep [start, start + size) out of the IOVA arena (e.g. an MSI window). */
IOMMU_EXPORT int iommu_domain_reserve(
    struct iommu_domain *, uint64_t start, uint64_t size);
/* The domain's stream, ASID and IOVA strategy (NULL: 0, 0, per-map). */
IOMMU_EXPORT uint32_t iommu_domain_sid(const struct iommu_domain *);
IOMMU_EXPORT uint16_t iommu_domain_asid(const struct iommu_domain *);
IOMMU_EXPORT enum iommu_iova_strategy iommu_domain_iova_strategy(
    const struct iommu_domain *);

/*
 * The page-level interface bus_dma is built on (smmu_enter, smmu_remove,
 * smmu_tlb_sync_context).  prot: IOMMU_PROT_*; cache: IOMMU_CACHE_*
 * (iommu/pagetable.h).
 */
IOMMU_EXPORT int iommu_domain_iova_alloc(struct iommu_domain *, uint64_t size,
    struct iommu_extent_region *descr, uint64_t *iova);
/*
 * As iommu_domain_iova_alloc (= alignment 0, boundary 0), and the range
 * also starts on a multiple of alignment (0: a page) and does not cross a
 * multiple of boundary (0: none), bus_dma(9)'s boundary.  Both must be
 * powers of two, at least a page: EINVAL otherwise; EFBIG: size exceeds
 * boundary (no such range exists); EAGAIN: no room.  With the magazine
 * cache the whole class-sized range honours both.  Free with
 * iommu_domain_iova_free (same size).
 */
IOMMU_EXPORT int iommu_domain_iova_alloc_constrained(struct iommu_domain *,
    uint64_t size, uint64_t alignment, uint64_t boundary,
    struct iommu_extent_region *descr, uint64_t *iova);
IOMMU_EXPORT int iommu_domain_iova_free(
    struct iommu_domain *, uint64_t iova, uint64_t size);
IOMMU_EXPORT int iommu_domain_enter(struct iommu_domain *, uint64_t iova,
    uint64_t pa, unsigned prot, unsigned cache);
IOMMU_EXPORT int iommu_domain_remove(struct iommu_domain *, uint64_t iova);
/*
 * len bytes (page multiple) of consecutive pages at once (one walk per
 * level-3 table, PTEDs in batches); stop at the first page that fails
 * with its error, *done (may be NULL) = bytes entered / removed before it.
 */
IOMMU_EXPORT int iommu_domain_enter_range(struct iommu_domain *, uint64_t iova,
    uint64_t pa, uint64_t len, unsigned prot, unsigned cache, uint64_t *done);
IOMMU_EXPORT int iommu_domain_remove_range(
    struct iommu_domain *, uint64_t iova, uint64_t len, uint64_t *done);
/* Pre-create the table levels for [iova, iova + len) (at-create). */
IOMMU_EXPORT int iommu_domain_prepare(
    struct iommu_domain *, uint64_t iova, uint64_t len);
/*
 * As iommu_domain_prepare, and parks a PTED on every page of the range
 * (iommu_pt_prepare_pteds), so that entering and removing pages there
 * never touches the PTED pool; unprepare returns them (EBUSY while a page
 * of the range is mapped).
 */
IOMMU_EXPORT int iommu_domain_prepare_pteds(
    struct iommu_domain *, uint64_t iova, uint64_t len);
IOMMU_EXPORT int iommu_domain_unprepare(
    struct iommu_domain *, uint64_t iova, uint64_t len);
/*
 * Issue the queued invalidations and one CMD_SYNC; wait for it.  With
 * deferred invalidation also completes every deferred unload and frees
 * its IOVA (a TLBI by ASID first).
 */
IOMMU_EXPORT int iommu_domain_sync(struct iommu_domain *);

struct iommu_domain_stats {
	uint64_t ds_iova_allocs;
	uint64_t ds_iova_frees;
	uint64_t ds_iova_failures;
	uint64_t ds_iova_bytes;	  /* currently allocated */
	uint64_t ds_pages_mapped; /* currently (walks the table) */
	uint64_t ds_enters;	  /* ds_removes + ds_pages_mapped */
	uint64_t ds_removes;
	uint64_t ds_tlbi;  /* TLBI commands issued */
	uint64_t ds_syncs; /* CMD_SYNCs issued */
	/* Unloads whose IOVA could not be freed at once (see above): */
	uint64_t ds_flushes;	      /* deferred-queue flushes that worked */
	uint64_t ds_iova_deferred;    /* bytes waiting for a flush now */
	uint64_t ds_iova_quarantined; /* bytes kept until destroy: their
					 invalidation failed, no room */
};
IOMMU_EXPORT void iommu_domain_get_stats(
    struct iommu_domain *, struct iommu_domain_stats *);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_DOMAIN_H */
