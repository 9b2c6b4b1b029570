/*
 * libiommu - the SMMU driver's private structures, shared by its files:
 * smmu.c (probe, stream table, enable/disable), smmu_cmdq.c (command
 * submission and CMD_SYNC), smmu_events.c (event queue, GERROR) and
 * domain.c (domains).  Never installed.
 *
 * Locking (outermost first): sc_dom_mtx (domain table, ASIDs, stream
 * table writes) -> sc_cmd_mtx (command queue, every domain's pending
 * invalidation state; a spinning mutex, iommu_spin.h, as the seed's
 * mtx_enter: held for a few commands and a CMD_SYNC, never across a
 * sleep) -> the model's own lock (inside MMIO calls).
 * sc_evt_mtx (event queue consumer) is independent of the others.
 * A domain's IOVA lock is its extent's own lock and its page-table lock
 * is the page table's; neither is held while taking sc_cmd_mtx.
 */
#ifndef IOMMU_SMMU_INTERNAL_H
#define IOMMU_SMMU_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "iommu_internal.h"
#include "iommu_spin.h"
#include "smmuv3_defs.h"

/* Stream table: two-level tables use SPLIT 8 (256 STEs per L2 table). */
#define SMMU_DRV_SPLIT		 8
#define SMMU_DRV_GROUP		 (1u << SMMU_DRV_SPLIT)
#define SMMU_DRV_SID_BITS_2LVL	 16 /* default cap, two-level */
#define SMMU_DRV_SID_BITS_LINEAR 8  /* default cap, linear */
#define SMMU_DRV_SID_BITS_MAX	 20 /* largest sc_sid_bits accepted */
#define SMMU_DRV_CMDQ_LOG2	 8  /* 256 commands: one page */
#define SMMU_DRV_EVTQ_LOG2	 7  /* 128 records: one page */
/* Removed pages an unload batch holds before it queues their TLBIs. */
#define SMMU_DRV_BATCH		 16
/* Deferred-queue entries a strict domain keeps for failed syncs. */
#define SMMU_DRV_FQ_STRICT	 64
/*
 * The test mutants (iommu/domain.h) exist only in an IOMMU_MUTANTS build:
 * elsewhere attach refuses them and their checks compile away.
 */
#if IOMMU_MUTANTS
#define SMMU_DRV_MUTANTS (IOMMU_SMMU_MUTATE_NO_TLBI | IOMMU_SMMU_MUTATE_NO_SYNC)
#else
#define SMMU_DRV_MUTANTS 0u
#endif
#define SMMU_DRV_MUTANT(sc, m)                                                 \
	(((sc)->sc_mutations & SMMU_DRV_MUTANTS & (m)) != 0)
/* Bounded polls: this many register reads before ETIMEDOUT. */
#define SMMU_DRV_POLL_LIMIT 100000u

struct iommu_smmu {
	struct iommu_mmio_ops	      sc_mmio;
	struct iommu_physmem	     *sc_pm;
	const struct iommu_allocator *sc_alloc;
	iommu_smmu_event_fn	     *sc_event_fn;
	void			     *sc_event_cookie;

	/* What the ID registers said. */
	uint32_t sc_idr0, sc_idr1, sc_idr3, sc_idr5;
	unsigned sc_oas_enc; /* IDR5.OAS, also CD.IPS */
	unsigned sc_oas_bits;
	unsigned sc_asid_bits; /* 8 or 16 */
	bool	 sc_msi;       /* CMD_SYNC completes by MSI write */
	bool	 sc_ril;       /* range invalidation */

	enum iommu_tlbi_policy sc_tlbi;
	unsigned	       sc_mutations;

	/* Shared by every domain (the seed's sc_pted_pool / sc_vp_pool). */
	struct iommu_pool *sc_pted_pool;
	struct iommu_pool *sc_vp_pool;

	/*
	 * Command queue.  sc_cmdq_prod is the driver's producer index (with
	 * the wrap bit): entries up to it are written; sc_cmdq_hwprod is the
	 * last value written to CMDQ_PROD; sc_cmdq_cons the last CONS read.
	 */
	struct iommu__spin sc_cmd_mtx;
	uint64_t	   sc_cmdq_pa;
	uint8_t		  *sc_cmdq_kva;
	size_t		   sc_cmdq_pages;
	unsigned	   sc_cmdq_log2;
	uint32_t	   sc_cmdq_prod;
	uint32_t	   sc_cmdq_hwprod;
	uint32_t	   sc_cmdq_cons;
	bool		   sc_cmd_error; /* a CERROR seen since the last sync */
	/* CMD_SYNC completion word (MSI target) and its sequence. */
	uint64_t  sc_sync_pa;
	uint32_t *sc_sync_kva;
	uint32_t  sc_sync_seq;

	/* Event queue (consumer side). */
	pthread_mutex_t sc_evt_mtx;
	uint64_t	sc_evtq_pa;
	uint8_t	       *sc_evtq_kva;
	size_t		sc_evtq_pages;
	unsigned	sc_evtq_log2;
	uint32_t	sc_evtq_cons; /* index, wrap and OVACKFLG */

	/* Stream table. */
	bool	  sc_2lvl;
	unsigned  sc_sid_bits;
	uint64_t  sc_strtab_pa; /* linear table or L1 table */
	uint8_t	 *sc_strtab_kva;
	size_t	  sc_strtab_pages;
	uint64_t *sc_l2_pa; /* per L1 index, 0 = none (two-level) */
	size_t	  sc_ngroups;

	/* Domains and ASIDs, under sc_dom_mtx. */
	pthread_mutex_t	       sc_dom_mtx;
	struct iommu_domain ***sc_domains;  /* per group of 256 SIDs */
	uint64_t	      *sc_asid_map; /* bit set = in use */
	size_t		       sc_ndomains;

	struct {
		_Atomic uint64_t commands, syncs, full_waits, cmd_errors;
		_Atomic uint64_t events, events_lost;
	} sc_stats;
};

/* A range of IOVA a bus_dma unload gives back. */
struct iommu__iova_span {
	uint64_t sp_iova;
	uint64_t sp_len;
};

struct iommu_domain {
	struct iommu_smmu	*dom_sc;
	uint32_t		 dom_sid;
	uint16_t		 dom_asid;
	unsigned		 dom_ias;
	enum iommu_iova_strategy dom_iova;
	bool dom_magazines;		     /* dc_magazines, for the cache */
	struct iommu_iova_magazine *dom_mag; /* the cache, or NULL */
	struct iommu_pt		   *dom_pt;
	struct iommu_extent	   *dom_iovamap; /* its lock: sd_iova_mtx */
	uint64_t		    dom_cd_pa;

	/* Invalidations owed at the next sync, under sc_cmd_mtx. */
	bool	 dom_pend_asid;
	uint64_t dom_pend_lo, dom_pend_hi; /* range, lo > hi: none */

	/*
	 * Unload batch (iommu__domain_batch_begin/_end): the owning thread's
	 * tag, 0 when none; the pages it removed and has not yet queued,
	 * touched only by that owner.
	 */
	_Atomic uintptr_t dom_batch_owner;
	unsigned	  dom_batch_n;
	unsigned	  dom_batch_removed; /* deferred: pages only */
	uint64_t	  dom_batch_va[SMMU_DRV_BATCH];

	/*
	 * Deferred unloads (domain_flush.c).  dom_fq_gen numbers unloads
	 * that did not invalidate before returning; every one numbered up to
	 * dom_fq_done is invalidated; dom_fq_base is the dom_fq_gen the last
	 * flush took (unloads since then: gen - base).  Under dom_fq_mtx:
	 * the queue of IOVA spans waiting for a flush.
	 */
	unsigned		 dom_fq_depth; /* 0: strict */
	struct iommu__spin	 dom_fq_mtx;   /* a leaf: a few stores */
	struct iommu__iova_span *dom_fq;
	unsigned		 dom_fq_cap, dom_fq_n;
	_Atomic uint64_t	 dom_fq_gen, dom_fq_done, dom_fq_base;

	struct {
		_Atomic uint64_t iova_allocs, iova_frees, iova_failures;
		_Atomic uint64_t iova_bytes;
		/* Under sc_cmd_mtx (iommu__count_locked): */
		_Atomic uint64_t removes, tlbi, syncs;
		/* fq_removes: atomic adds; the others under dom_fq_mtx. */
		_Atomic uint64_t fq_removes, fq_bytes, quarantined, flushes;
	} dom_stats;
};

/*
 * Counters only ever updated under one lock (sc_cmd_mtx): a relaxed load
 * and store instead of a locked read-modify-write on the hot path; readers
 * without the lock still see a whole value.
 */
static inline void
iommu__count_locked(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

/* smmu.c: register access and bounded polling. */
int  iommu__smmu_read32(struct iommu_smmu *, uint64_t off, uint32_t *);
int  iommu__smmu_write32(struct iommu_smmu *, uint64_t off, uint32_t);
int  iommu__smmu_write64(struct iommu_smmu *, uint64_t off, uint64_t);
void iommu__smmu_pause(unsigned iteration);
/* Aligned runs of frames: npages a power of two, aligned to its size. */
int iommu__smmu_alloc_aligned(
    struct iommu_smmu *, size_t npages, uint64_t *pa, void **kva);
/* Two-level: make sure the L2 table for sid exists (sc_dom_mtx held). */
int iommu__smmu_strtab_ensure(struct iommu_smmu *, uint32_t sid);
/* Direct-map pointer to sid's STE (its L2 table must exist). */
uint8_t *iommu__smmu_ste(struct iommu_smmu *, uint32_t sid);

/* smmu_cmdq.c: everything with sc_cmd_mtx held unless said otherwise. */
int  iommu__cmdq_init(struct iommu_smmu *);
void iommu__cmdq_fini(struct iommu_smmu *);
/* Queues one command, waiting for room (never drops it). */
int iommu__cmdq_put(struct iommu_smmu *, uint64_t dw0, uint64_t dw1);
/* Publishes queued commands, adds a CMD_SYNC, waits for it. */
int iommu__cmdq_sync(struct iommu_smmu *);
/* Recovers from a command error (CMDQ_CONS.ERR): skips the command. */
void iommu__cmdq_recover(struct iommu_smmu *);
/* Command builders. */
void iommu__cmd_cfgi_ste(uint32_t sid, uint64_t cmd[2]);
void iommu__cmd_cfgi_cd(uint32_t sid, uint64_t cmd[2]);
void iommu__cmd_tlbi_asid(uint16_t asid, uint64_t cmd[2]);
void iommu__cmd_tlbi_va(uint16_t asid, uint64_t iova, uint64_t cmd[2]);
/* Queues the range TLBIs covering [lo, hi] (4K pages); *n += how many. */
int iommu__cmdq_tlbi_range(
    struct iommu_smmu *, uint16_t asid, uint64_t lo, uint64_t hi, unsigned *n);

/*
 * domain.c: an unload batch.  Between begin and end the calling thread's
 * iommu_domain_remove() calls only note the page; end queues every noted
 * invalidation and, with sync, issues the CMD_SYNC (as iommu_domain_sync,
 * mutation flags included) under one hold of sc_cmd_mtx.  Returns whether
 * the batch was taken: false when another thread holds the domain's
 * batch, in which case removes take the ordinary path and end only syncs.
 * No lock is held in between.
 */
bool iommu__domain_batch_begin(struct iommu_domain *);
int  iommu__domain_batch_end(struct iommu_domain *, bool batched, bool sync);

/*
 * domain_flush.c: the tail of every bus_dma unload, after its removes.
 * An IOVA span returns to the arena only once its invalidation is known
 * complete; until then it is owed (queued for a flush, or quarantined
 * until destroy when the queue has no room).
 *
 *   error = iommu__domain_unload_invalidate(dom, batched, entered);
 *   0:     the pages are invalidated (strict): free the spans;
 *   else:  (EINPROGRESS: deferred; or the sync's error) owe every span
 *          but the last with iommu__domain_iova_owe, then
 *          ticket = iommu__domain_unload_defer(dom, last span or NULL).
 *
 * An at-create map keeps its IOVA: it hands its ticket to
 * iommu__domain_ticket_wait before entering pages there again.
 */
int iommu__domain_unload_invalidate(
    struct iommu_domain *, bool batched, bool entered);
void iommu__domain_iova_owe(struct iommu_domain *, uint64_t iova, uint64_t len);
uint64_t iommu__domain_unload_defer(
    struct iommu_domain *, const struct iommu__iova_span *last);
/* 0 once the unload with this ticket is invalidated (flushing if need be). */
int iommu__domain_ticket_wait(struct iommu_domain *, uint64_t ticket);

/* Is the unload with this ticket invalidated already (0: no unload)? */
static inline bool
iommu__domain_ticket_done(struct iommu_domain *dom, uint64_t ticket)
{
	return ticket <=
	    atomic_load_explicit(&dom->dom_fq_done, memory_order_acquire);
}
/* Flushes the deferred queue: TLBI by ASID, CMD_SYNC, free its IOVA. */
int  iommu__domain_flush(struct iommu_domain *);
bool iommu__domain_flush_pending(struct iommu_domain *);
int  iommu__domain_fq_init(struct iommu_domain *, unsigned depth);
void iommu__domain_fq_fini(struct iommu_domain *);
/* domain.c, for domain_flush.c: with sc_cmd_mtx held; asid: owe a TLBI
 * by ASID first. */
int iommu__domain_sync_locked(struct iommu_domain *, bool asid);
/* Ends a deferred unload batch: its removes are counted, no command. */
void iommu__domain_batch_release(struct iommu_domain *);
/* Counts pages a deferred unload removed without noting them. */
void iommu__domain_count_removes(struct iommu_domain *, uint64_t pages);

/* smmu_events.c */
int iommu__evtq_init(struct iommu_smmu *);

/*
 * Test hook (internal, never exported): queue one raw command and, with
 * sync, a CMD_SYNC after it; returns what iommu__cmdq_sync returned.
 */
int iommu__smmu_submit_raw(
    struct iommu_smmu *, uint64_t dw0, uint64_t dw1, bool sync);

#endif /* IOMMU_SMMU_INTERNAL_H */
