/*
 * libiommu - SMMUv3 model internals shared by the hw_smmuv3_*.c files:
 * the instance structure, the decoded configuration, TLB entries, the
 * instance locks and the cross-file smmuv3__ functions.  Never installed.
 *
 * Layout of one instance (everything allocated once, at create):
 *
 *   struct smmuv3
 *     registers (sc_cr0 ... sc_eventq_irq_cfg*)      MMIO state, 6.3
 *     sc_shard[SMMUV3__NSHARDS]                        reader locks, stats
 *     sc_cfgc[sets * ways]  struct smmuv3__cfg        config cache
 *     sc_tlb[sets * ways]   struct smmuv3__tlbslot    TLB
 *     sc_tlb_set[sets]                                 per-set fill locks
 *     sc_stats                                        counters
 *
 * Locking (a "big-reader" lock with a command side, plus two small ones):
 *
 *  - Shared side: a device-side access (translate, probe, DMA) and an
 *    MMIO read hold ONE shard lock, sc_shard[k].sh_lock, for the whole
 *    access (translation and memory access alike).  Threads pick
 *    different shards (a per-thread hint, moved on when the shard is
 *    busy), so device threads touch no common cache line on a TLB hit.
 *  - Exclusive side: MMIO writes other than the doorbell, reset, stats,
 *    TLB/config-cache introspection hold sc_wlock and EVERY shard lock,
 *    so they never overlap a device-side access.  sc_wpending makes
 *    arriving readers wait while a writer collects the shards, so
 *    writers are not starved.
 *  - Command side: a CMDQ_PROD write (the doorbell) holds sc_wlock, the
 *    thread's own shard and sc_side, and runs the commands alongside
 *    device accesses on the other shards.  TLBIs change the TLB as fills
 *    do (set locks, ASID words) and follow the fill protocol in
 *    hw_smmuv3_tlb.c, so that a walk that read a table before a TLBI
 *    leaves no entry behind it; CMD_SYNC waits until every access in
 *    flight when it started has left its shard (sh_exits moved), so any
 *    access that starts after the CMD_SYNC completes sees the
 *    invalidated state and none from before is still using the old one.
 *    That is the whole in-flight argument.  Its one store-buffering
 *    pair: a reader takes its shard and then reads a set's sequence or
 *    an ASID word, the command side changes those and then reads the
 *    shard locks; all four are sequentially consistent (the shard
 *    exchange, the set-lock CAS, the ASID swap and the loads), so either
 *    the grace wait sees the shard held or the reader sees the change
 *    (x86: locked instructions and plain loads; arm64: SWPAL, CASAL,
 *    LDAR).  A CFGI (config cache), or a
 *    TLBI by ASID whose generation wraps (a TLB scan), first collects
 *    the remaining shards: the command side becomes the exclusive side
 *    for the rest of the batch (smmuv3__cmd_upgrade).
 *  - What the shared side may change, and under what:
 *    . TLB slots and the set's victim: only under that set's fill lock
 *      (sc_tlb_set[set].tse_seq odd, a seqlock).  Lookups take no lock:
 *      they read the slots with atomic loads between two reads of the
 *      sequence and retry when a fill ran meanwhile.
 *    . ASID words (generation and live counts), sc_tlb_nwide,
 *      sc_tlb_gshifts: atomic RMW, as the command side's TLBIs.
 *    . Device counters and the last config-cache hit: in the caller's
 *      shard (sh_st, sh_cfgc_last), owned by whoever holds that shard.
 *    . Event queue (sc_eventq_prod), GERROR, st_events*, st_stale,
 *      st_unimplemented and every ho_log / ho_trace / ho_stale / ho_irq /
 *      ho_msi call: under sc_side, a recursive spin lock, so these
 *      callbacks stay serialised per instance.
 *    Everything else (registers, config cache) changes only on the
 *    exclusive side, the command queue registers and the exclusive-side
 *    counters also on the command side (under sc_side, which MMIO reads
 *    take); the shared side reads the rest without locks.
 *    The config cache is therefore read-only to the shared side: a
 *    config-cache miss (or a CD refetch after CFGI_CD) gives up the shard
 *    and redoes the access on the exclusive side (SMMUV3__NEED_EXCL).
 *  - Re-entry: an entry that may call host callbacks pushes a struct
 *    smmuv3__hold (on its stack) onto the thread's list
 *    smmuv3__tls.tl_held.  A thread inside sc holds sc's shard at its
 *    hint (which does not move while it is inside any instance) or all
 *    shards (the command side holds its hint shard too), so re-entering
 *    sc always fails the fast exchange and the
 *    slow path finds sc on the list: EDEADLK.  A TLB hit calls no
 *    callback and skips the list.
 *
 * Other invariants: caches change only on a fill (translate) or on an
 * invalidation command / reset; nothing reads guest memory except
 * through sc_ops.ho_mem_read.
 */
#ifndef HW_SMMUV3_INTERNAL_H
#define HW_SMMUV3_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommu/smmuv3_model.h>

#include "iommu_internal.h"
#include "smmuv3_defs.h"

/* Outcome kinds of a decoded configuration (STE + CD). */
enum smmuv3__cfg_kind {
	SMMUV3__CFG_ABORT,    /* STE.Config abort: terminate, no event */
	SMMUV3__CFG_BYPASS,   /* STE bypass, or S1DSS bypass */
	SMMUV3__CFG_S1,	      /* stage-1 translation through a CD */
	SMMUV3__CFG_DISABLED, /* S1DSS terminate: F_STREAM_DISABLED */
};

/* One translation-table half (TTB0 or TTB1) of a CD, decoded. */
struct smmuv3__tt {
	uint64_t tt_base;	 /* TTB, aligned to the start table */
	uint8_t	 tt_va_bits;	 /* 64 - TxSZ */
	uint8_t	 tt_gshift;	 /* 12, 14 or 16 */
	uint8_t	 tt_start_level; /* 0..3 */
	bool	 tt_disabled;	 /* EPDx */
	bool	 tt_tbi;
};

struct smmuv3__asid;

/* A decoded STE (and, for stage 1, CD) for one (sid, ssid). */
struct smmuv3__cfg {
	uint32_t cf_sid;
	uint32_t cf_ssid;     /* SMMUV3_NO_SSID when SSV = 0 */
	uint32_t cf_tlb_base; /* first TLB set of the stream's TBU */
	uint8_t	 cf_tbu;      /* that TBU */
	bool	 cf_valid;
	bool	 cf_cd_valid; /* CD part present (CFGI_CD clears it) */
	uint8_t	 cf_kind;     /* enum smmuv3__cfg_kind */
	uint8_t	 cf_strw;
	/* STE part (5.2) */
	uint64_t cf_s1ctxptr;
	uint8_t	 cf_s1cdmax;
	uint8_t	 cf_s1dss;
	uint32_t cf_cd_index; /* CD used: ssid, or 0 under S1DSS=2 */
	/* CD part (5.4) */
	uint16_t cf_asid;
	/* Generation slot of (cf_strw, cf_asid), for TLB lookups. */
	struct smmuv3__asid *cf_as;
	uint8_t		     cf_ips_bits; /* min(CD.IPS, OAS) */
	bool		     cf_affd;
	bool		     cf_record; /* CD.R */
	bool		     cf_two_halves;
	uint64_t	     cf_mair;
	struct smmuv3__tt    cf_tt[2];
};

/* TLB entry: a leaf translation of size 1 << te_size_log2. */
#define SMMUV3__TE_VALID  0x01u
#define SMMUV3__TE_GLOBAL 0x02u /* nG = 0: matches every ASID */
#define SMMUV3__TE_R	  0x04u
#define SMMUV3__TE_W	  0x08u
#define SMMUV3__TE_WIDE	  0x10u /* a block: also reachable from other sets */

struct smmuv3__tlbe {
	uint64_t te_va; /* base of the page/block (canonical input address) */
	uint64_t te_pa;
	uint16_t te_asid;
	uint16_t te_vmid;
	uint8_t	 te_flags;
	uint8_t	 te_regime; /* STE.STRW */
	uint8_t	 te_size_log2;
	uint8_t	 te_level;
	uint16_t te_gen; /* non-global: its ASID's generation at the fill */
};

/* The SMMUV3_ACCESS_* bits a leaf with te_flags flags allows. */
static inline unsigned
smmuv3__te_perm(unsigned flags)
{
	_Static_assert(SMMUV3__TE_R >> 2 == SMMUV3_ACCESS_READ &&
		SMMUV3__TE_W >> 2 == SMMUV3_ACCESS_WRITE,
	    "TE_R / TE_W sit two bits above ACCESS_READ / ACCESS_WRITE");
	return (flags >> 2) & (SMMUV3_ACCESS_READ | SMMUV3_ACCESS_WRITE);
}

/*
 * A TLB slot: the entry in three words that the shared side reads with
 * relaxed atomics (see Locking).  ts_tag packs te_flags [7:0], te_regime
 * [15:8], te_size_log2 [23:16], te_level [31:24], te_asid [47:32] and
 * te_gen [63:48]; VMID is always 0 (no stage 2) and not stored.
 */
struct smmuv3__tlbslot {
	_Atomic uint64_t ts_tag;
	_Atomic uint64_t ts_va;
	_Atomic uint64_t ts_pa;
};

#define SMMUV3__TAG_FLAGS(t)  ((uint8_t)(t))
#define SMMUV3__TAG_REGIME(t) ((uint8_t)((t) >> 8))
#define SMMUV3__TAG_SIZE(t)   ((unsigned)((t) >> 16) & 63u)
#define SMMUV3__TAG_LEVEL(t)  ((uint8_t)((t) >> 24))
#define SMMUV3__TAG_ASID(t)   ((uint16_t)((t) >> 32))
#define SMMUV3__TAG_GEN(t)    ((uint16_t)((t) >> 48))

static inline uint64_t
smmuv3__tag_make(const struct smmuv3__tlbe *te)
{
	return (uint64_t)te->te_flags | (uint64_t)te->te_regime << 8 |
	    (uint64_t)te->te_size_log2 << 16 | (uint64_t)te->te_level << 24 |
	    (uint64_t)te->te_asid << 32 | (uint64_t)te->te_gen << 48;
}

static inline void
smmuv3__tlbe_from(
    struct smmuv3__tlbe *te, uint64_t tag, uint64_t va, uint64_t pa)
{
	te->te_va = va;
	te->te_pa = pa;
	te->te_asid = SMMUV3__TAG_ASID(tag);
	te->te_vmid = 0;
	te->te_flags = SMMUV3__TAG_FLAGS(tag);
	te->te_regime = SMMUV3__TAG_REGIME(tag);
	te->te_size_log2 = (uint8_t)SMMUV3__TAG_SIZE(tag);
	te->te_level = SMMUV3__TAG_LEVEL(tag);
	te->te_gen = SMMUV3__TAG_GEN(tag);
}

/*
 * Per (regime, ASID) state that makes TLBI by ASID O(1), in one word: the
 * generation [15:0], and that ASID's live non-global entries [39:16] and
 * those of them that are WIDE [63:40].  TLBI by ASID swaps in (gen + 1,
 * 0, 0): a non-global entry whose te_gen differs is dead (treated as
 * invalid everywhere, reused by the next fill), and the counts it swapped
 * out are exactly the entries it killed (st_tlb_invalidated,
 * sc_tlb_nwide).  A fill counts its entry with a compare-and-swap that
 * fails when the generation it walked under is gone, so a fill racing
 * the bump never enters a live entry it should have lost, and no count
 * is lost either way.  as_tbus has bit k set once a fill of TBU k
 * entered an entry of the ASID since its last TLBI by ASID, so a TLBI by
 * address and ASID visits only those TBUs (an ASID freed and given to a
 * stream of another TBU leaves no stale bit behind its TLBI by ASID).
 * Neighbouring ASIDs sit on different cache lines (smmuv3__tlb_asid), so two
 * threads filling for two domains do not bounce one line.
 */
struct smmuv3__asid {
	_Atomic uint64_t as_word;
	_Atomic uint64_t as_tbus;
};
#define SMMUV3__AS_GEN(w)  ((uint16_t)(w))
#define SMMUV3__AS_LIVE(w) (((w) >> 16) & 0xffffffu)
#define SMMUV3__AS_WIDE(w) ((w) >> 40)
#define SMMUV3__AS_LIVE1   (1ULL << 16)
#define SMMUV3__AS_WIDE1   (1ULL << 40)

/*
 * What a fill saw before it walked (smmuv3__tlb_fill_begin): the TLB's
 * invalidation epoch and its ASID's generation.  An entry is kept only
 * if no TLBI started in between (see hw_smmuv3_tlb.c, Concurrency).
 */
struct smmuv3__fill {
	uint64_t fl_epoch;
	uint16_t fl_gen;
};

/* Per TLB set, one cache line each: the fill lock and the victim. */
struct smmuv3__tlbset {
	_Atomic uint32_t tse_seq;    /* odd while a fill holds the set */
	uint8_t		 tse_victim; /* round-robin, under the fill lock */
	char		 tse_pad[64 - 5];
};
_Static_assert(sizeof(struct smmuv3__tlbset) == 64, "tlbset size");

/* A translation request and its result, as the walker sees it. */
struct smmuv3__req {
	uint32_t rq_sid;
	uint32_t rq_ssid;
	uint64_t rq_iova;
	unsigned rq_access; /* SMMUV3_ACCESS_* */
};

/* Event to record (7.3). */
struct smmuv3__event {
	uint8_t	 ev_id;
	uint32_t ev_sid;
	uint32_t ev_ssid; /* SMMUV3_NO_SSID: SSV = 0 */
	uint64_t ev_addr;
	uint64_t ev_fetch_addr;
	uint8_t	 ev_class;
	bool	 ev_rnw;
	bool	 ev_ind;
	bool	 ev_pnu;
};

/* Translate flags. */
#define SMMUV3__PROBE 0x1u /* no cache use or fill, no event, no counter */
#define SMMUV3__EXCL  0x2u /* the caller holds the exclusive side */

/*
 * smmuv3__translate's answer when the shared side cannot finish (a
 * config-cache fill is needed): redo the access on the exclusive side.
 */
#define SMMUV3__NEED_EXCL (-1)

/* Reader shards: more than the threads expected to hit one instance. */
#define SMMUV3__NSHARDS 8

/* Device-side counters kept per shard (summed by smmuv3_get_stats). */
struct smmuv3__dstats {
	uint64_t ds_translations;
	uint64_t ds_tlb_hits;
	uint64_t ds_tlb_misses;
	uint64_t ds_tlb_evictions;
	uint64_t ds_walks;
	uint64_t ds_walk_reads;
	uint64_t ds_cfg_hits;
	/* Fast-path hits: a translation, a config hit and a TLB hit each. */
	uint64_t ds_fast_hits;
};

/*
 * A shard's last fast-path hit, as a one-entry micro-TLB (as a TBU keeps
 * in front of the TCU's TLB): the TLB entry's translation and the
 * sequence of its set at the hit.  It stands while that sequence is
 * unchanged (no fill or TLBI by address touched the set: the entry is
 * still there), its ASID's generation is unchanged (no TLBI by ASID) and
 * no exclusive section ran since (where configurations change):
 * smmuv3__excl_release empties every shard's.  ut_seqp NULL: empty.
 */
struct smmuv3__utlb {
	_Atomic uint32_t    *ut_seqp;
	uint32_t	     ut_seq;
	uint16_t	     ut_gen;
	struct smmuv3__asid *ut_as;
	uint32_t	     ut_sid, ut_ssid;
	uint8_t		     ut_size_log2, ut_perm, ut_level;
	uint64_t	     ut_va, ut_pa;
};

/*
 * One reader lock with what its holder may change without other locks.
 * The padding keeps two shards' fields out of one cache line (the
 * instance itself is only malloc-aligned).
 */
struct smmuv3__shard {
	atomic_uint	      sh_lock;	    /* 0 free, 1 held */
	atomic_uint	      sh_exits;	    /* bumped as each holder leaves */
	struct smmuv3__cfg   *sh_cfgc_last; /* last fast-path hit, or NULL */
	struct smmuv3__utlb   sh_utlb;
	struct smmuv3__dstats sh_st;
	char		      sh_pad[256 - 16 - sizeof(struct smmuv3__utlb) -
	     sizeof(struct smmuv3__dstats)];
};
/* A power-of-two size: finding the thread's shard is a shift. */
_Static_assert(sizeof(struct smmuv3__shard) == 256, "shard size");

struct smmuv3__hold;

/* Per-thread: the entries it is inside of, and its preferred shard. */
struct smmuv3__tls {
	struct smmuv3__hold *tl_held;
	/*
	 * The hint: offsetof(struct smmuv3, sc_shard[k]) of the preferred
	 * shard k, the same in every instance (0: none chosen yet); an
	 * offset, so finding the shard adds no latency before the lock's
	 * exchange.  Fixed while tl_held != NULL.
	 */
	size_t tl_shoff;
};

/* One entry into an instance, on the entering function's stack. */
struct smmuv3__hold {
	struct smmuv3	     *hd_sc;
	struct smmuv3__hold  *hd_next;
	struct smmuv3__tls   *hd_tls;
	struct smmuv3__shard *hd_sh; /* counters go here */
	bool		      hd_excl;
	bool		      hd_cmd; /* the command side: sc_wlock and hd_sh */
};

struct smmuv3 {
	struct smmuv3_config	      sc_cfg;
	struct smmuv3_host_ops	      sc_ops;
	void			     *sc_cookie;
	const struct iommu_allocator *sc_alloc;

	/* Exclusive side: sc_wlock, then every shard (see Locking). */
	atomic_uint sc_wlock;
	atomic_uint sc_wpending;   /* a writer wants the shards: readers wait */
	atomic_uint sc_next_shard; /* hands out first shard hints */
	/* The command side's hold while one is in progress (under sc_wlock). */
	struct smmuv3__hold *sc_cmd_hold;
	/* Side lock (recursive): events, GERROR, notification callbacks. */
	atomic_uint	   sc_side;
	_Atomic(uintptr_t) sc_side_owner;
	unsigned	   sc_side_depth;

	/* ID registers, computed at create (6.3.1 - 6.3.6). */
	uint32_t sc_idr[6];
	uint32_t sc_iidr;
	uint32_t sc_aidr;
	unsigned sc_oas_bits;

	/* Programmable registers (6.3). */
	uint32_t sc_cr0;
	uint32_t sc_cr0ack;
	uint32_t sc_cr1;
	uint32_t sc_cr2;
	uint32_t sc_gbpa;
	uint32_t sc_irq_ctrl;
	uint32_t sc_irq_ctrlack;
	uint32_t sc_gerror;
	uint32_t sc_gerrorn;
	uint64_t sc_gerror_irq_cfg0;
	uint32_t sc_gerror_irq_cfg1;
	uint32_t sc_gerror_irq_cfg2;
	uint64_t sc_strtab_base;
	uint32_t sc_strtab_base_cfg;
	uint64_t sc_cmdq_base;
	uint32_t sc_cmdq_prod;
	uint32_t sc_cmdq_cons;
	uint64_t sc_eventq_base;
	uint32_t sc_eventq_prod;
	uint32_t sc_eventq_cons;
	uint64_t sc_eventq_irq_cfg0;
	uint32_t sc_eventq_irq_cfg1;
	uint32_t sc_eventq_irq_cfg2;

	/* Config cache: sets * ways entries, round-robin victim per set. */
	struct smmuv3__cfg *sc_cfgc;
	uint8_t		   *sc_cfgc_victim;
	unsigned	    sc_cfgc_sets;
	unsigned	    sc_cfgc_ways;

	/*
	 * TLB: sets * ways entries, round-robin victim per set; TBU k owns
	 * sets [k * tbu_sets, (k + 1) * tbu_sets).
	 */
	struct smmuv3__tlbslot *sc_tlb;
	struct smmuv3__tlbset  *sc_tlb_set; /* [sets] */
	unsigned		sc_tlb_sets;
	unsigned		sc_tlb_ways;
	unsigned		sc_tlb_tbu_sets; /* sets / cfg_tlb_tbus */
	_Atomic size_t		sc_tlb_nwide; /* valid WIDE or GLOBAL entries */
	/*
	 * Bumped before the first TLBI of each batch of commands looks at
	 * the TLB (fills check it); sc_tlb_bumped: done for this batch
	 * (command or exclusive side only).
	 */
	_Atomic uint64_t sc_tlb_epoch;
	bool		 sc_tlb_bumped;
	/* Granule shifts (bit gshift - 12) filled since the last flush. */
	atomic_uint sc_tlb_gshifts;
	/* [nregimes * nasids]: NS-EL1 ASIDs, then EL2 ones (IDR0.HYP). */
	struct smmuv3__asid *sc_tlb_as;	    /* permuted: smmuv3__tlb_asid */
	size_t		     sc_tlb_nasids; /* 256 or 65536 */
	size_t		     sc_tlb_nregimes;

	/* Exclusive-side counters (device ones are in the shards). */
	struct smmuv3_stats sc_stats;

	char		     sc_pad[64]; /* shards off the lines above */
	struct smmuv3__shard sc_shard[SMMUV3__NSHARDS];
};

/* hw_smmuv3_model.c: locking, logging, interrupts, GERROR. */
extern _Thread_local struct smmuv3__tls smmuv3__tls;
struct smmuv3__shard		       *smmuv3__shared_slow(
		      struct smmuv3 *, struct smmuv3__tls *);
int  smmuv3__enter_excl(struct smmuv3 *, struct smmuv3__hold *);
void smmuv3__excl_release(struct smmuv3 *);
int  smmuv3__enter_cmd(struct smmuv3 *, struct smmuv3__hold *);
void smmuv3__cmd_release(struct smmuv3 *);
void smmuv3__cmd_upgrade(struct smmuv3 *);
void smmuv3__cmd_grace(struct smmuv3 *);
void smmuv3__side_enter(struct smmuv3 *);
void smmuv3__side_leave(struct smmuv3 *);

/* Is this thread inside sc already (a host callback re-entering it)? */
static inline bool
smmuv3__held(const struct smmuv3 *sc, const struct smmuv3__tls *tl)
{
	const struct smmuv3__hold *h;

	for (h = tl->tl_held; h != NULL; h = h->hd_next)
		if (h->hd_sc == sc)
			return true;
	return false;
}

static inline void
smmuv3__push(struct smmuv3 *sc, struct smmuv3__hold *hd, struct smmuv3__tls *tl,
    struct smmuv3__shard *sh, bool excl)
{
	hd->hd_sc = sc;
	hd->hd_tls = tl;
	hd->hd_sh = sh;
	hd->hd_excl = excl;
	hd->hd_cmd = false;
	hd->hd_next = tl->tl_held;
	tl->tl_held = hd;
}

/*
 * The shared side: one exchange on the thread's own shard when nobody
 * else uses it (as cheap as the old single test-and-set lock, without the
 * shared cache line).  NULL when the thread is already inside sc: then
 * it holds its hint shard of sc (or all of them), the exchange fails and
 * smmuv3__shared_slow finds sc on the thread's list.
 */
static inline struct smmuv3__shard *
smmuv3__shared_lock(struct smmuv3 *sc, struct smmuv3__tls *tl)
{
	size_t		      off = tl->tl_shoff;
	struct smmuv3__shard *sh = (struct smmuv3__shard *)((char *)sc + off);

	if (off == 0 ||
	    atomic_load_explicit(&sc->sc_wpending, memory_order_relaxed) ||
	    atomic_exchange_explicit(&sh->sh_lock, 1, memory_order_seq_cst))
		return smmuv3__shared_slow(sc, tl);
	return sh;
}

/* sh_exits first: a CMD_SYNC waiting for this access sees either. */
static inline void
smmuv3__shared_unlock(struct smmuv3__shard *sh)
{
	atomic_store_explicit(&sh->sh_exits,
	    atomic_load_explicit(&sh->sh_exits, memory_order_relaxed) + 1,
	    memory_order_release);
	atomic_store_explicit(&sh->sh_lock, 0, memory_order_release);
}

/*
 * Enters the shared side, recorded in hd; EDEADLK when the thread is
 * already inside sc.  A path that calls no host callback may use
 * smmuv3__shared_lock alone.
 */
static inline int
smmuv3__enter_shared(struct smmuv3 *sc, struct smmuv3__hold *hd)
{
	struct smmuv3__tls   *tl = &smmuv3__tls;
	struct smmuv3__shard *sh = smmuv3__shared_lock(sc, tl);

	if (sh == NULL)
		return EDEADLK;
	smmuv3__push(sc, hd, tl, sh, false);
	return 0;
}

/* Leaves what smmuv3__enter_shared or smmuv3__enter_excl entered. */
static inline void
smmuv3__leave(struct smmuv3__hold *hd)
{
	hd->hd_tls->tl_held = hd->hd_next;
	if (hd->hd_excl) {
		smmuv3__excl_release(hd->hd_sc);
		return;
	}
	smmuv3__shared_unlock(hd->hd_sh);
	if (hd->hd_cmd)
		smmuv3__cmd_release(hd->hd_sc);
}
void smmuv3__log(struct smmuv3 *, enum smmuv3_log_level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void smmuv3__unimp(struct smmuv3 *, const char *what);
void smmuv3__trace(struct smmuv3 *, enum smmuv3_trace_kind, uint32_t sid,
    uint32_t ssid, uint64_t iova, uint64_t addr, uint64_t value, unsigned level,
    uint8_t event);
#define SMMUV3__TRACING(sc) ((sc)->sc_ops.ho_trace != NULL)
void smmuv3__gerror_raise(struct smmuv3 *, uint32_t bits);
void smmuv3__signal(
    struct smmuv3 *, enum smmuv3_irq_line, uint64_t cfg0, uint32_t cfg1);
int smmuv3__msi_write(struct smmuv3 *, uint64_t addr, uint32_t data);

/* hw_smmuv3_evtq.c */
bool smmuv3__evtq_record(struct smmuv3 *, const struct smmuv3__event *);
void smmuv3__evtq_encode(const struct smmuv3__event *, uint8_t rec[32]);

/* hw_smmuv3_cmdq.c */
void smmuv3__cmdq_process(struct smmuv3 *);

/* hw_smmuv3_config.c */
int  smmuv3__cfgc_init(struct smmuv3 *);
void smmuv3__cfgc_fini(struct smmuv3 *);
void smmuv3__cfgc_flush(struct smmuv3 *);
/*
 * Look up or fetch (sid, ssid); 0 with *out, EFAULT with *ev filled, or
 * SMMUV3__NEED_EXCL on the shared side when the cache must change.
 */
int  smmuv3__cfg_get(struct smmuv3 *, struct smmuv3__shard *, uint32_t sid,
     uint32_t ssid, unsigned flags, const struct smmuv3__cfg **out,
     struct smmuv3__cfg *tmp, struct smmuv3__event *ev);
void smmuv3__cfgc_inv_sid_range(
    struct smmuv3 *, uint64_t first, uint64_t last, bool cd_only);
void   smmuv3__cfgc_inv_cd(struct smmuv3 *, uint32_t sid, uint32_t ssid);
size_t smmuv3__cfgc_count(struct smmuv3 *);

/* hw_smmuv3_walk.c: stage-1 walk of cfg for req (ev gets the fault). */
int smmuv3__walk(struct smmuv3 *, struct smmuv3__shard *,
    const struct smmuv3__cfg *, const struct smmuv3__req *, unsigned flags,
    struct smmuv3__tlbe *out, struct smmuv3__event *ev);

/* hw_smmuv3_tlb.c */
int  smmuv3__tlb_init(struct smmuv3 *);
void smmuv3__tlb_fini(struct smmuv3 *);
void smmuv3__tlb_flush(struct smmuv3 *);
void smmuv3__tlb_fill_begin(
    struct smmuv3 *, const struct smmuv3__cfg *, struct smmuv3__fill *);
void smmuv3__tlb_insert(struct smmuv3 *, struct smmuv3__shard *,
    const struct smmuv3__cfg *, unsigned gshift, uint64_t iova,
    const struct smmuv3__tlbe *, const struct smmuv3__fill *);

/* Invalidation selector for smmuv3__tlb_invalidate. */
struct smmuv3__tlbi {
	bool	 ti_match_regime;
	uint8_t	 ti_regime;
	bool	 ti_match_asid;
	bool	 ti_global_too; /* with ti_match_asid: global entries too */
	uint16_t ti_asid;
	bool	 ti_match_va;
	uint64_t ti_va_first; /* inclusive range */
	uint64_t ti_va_last;
	unsigned ti_level; /* TTL hint: 0 = any */
};
void smmuv3__tlb_invalidate(struct smmuv3 *, const struct smmuv3__tlbi *);
/* Must ti run on the exclusive side (a TLBI by ASID whose generation wraps)? */
bool smmuv3__tlb_needs_excl(struct smmuv3 *, const struct smmuv3__tlbi *);

/* hw_smmuv3_xlate.c */
int smmuv3__translate(struct smmuv3 *, struct smmuv3__shard *,
    const struct smmuv3__req *, unsigned flags, struct smmuv3_xlate *,
    struct smmuv3_fault *);

/* 3.4.3: does [pa, pa + len) fit in the OAS? */
static inline bool
smmuv3__pa_ok(const struct smmuv3 *sc, uint64_t pa, uint64_t len)
{
	return ((pa + len - 1) >> sc->sc_oas_bits) == 0 && pa + len - 1 >= pa;
}

/* 3.4.3: queue and MSI addresses beyond the OAS are truncated. */
static inline uint64_t
smmuv3__pa_trunc(const struct smmuv3 *sc, uint64_t pa)
{
	return pa & ((1ULL << sc->sc_oas_bits) - 1);
}

/* Hot-path lookups, inline for the TLB-hit translation. */
/*
 * Consecutive StreamIDs (the common case) land in distinct sets, so up to
 * sets * ways of them stay cached together.
 */
static inline unsigned
smmuv3__cfgc_set(const struct smmuv3 *sc, uint32_t sid, uint32_t ssid)
{
	return (sid + (ssid + 1) * 0x9e3779b1u) & (sc->sc_cfgc_sets - 1);
}

/* A valid config-cache entry for (sid, ssid) with its CD part, or NULL. */
static inline struct smmuv3__cfg *
smmuv3__cfgc_lookup(struct smmuv3 *sc, uint32_t sid, uint32_t ssid)
{
	struct smmuv3__cfg *cf =
	    &sc->sc_cfgc[(size_t)smmuv3__cfgc_set(sc, sid, ssid) *
		sc->sc_cfgc_ways];
	unsigned w;

	for (w = 0; w < sc->sc_cfgc_ways; w++, cf++)
		if (cf->cf_valid && cf->cf_sid == sid && cf->cf_ssid == ssid)
			return cf;
	return NULL;
}

/*
 * Selects the TTB0 (0) or TTB1 (1) half for iova; -1 when the address is
 * outside the ranges both halves cover.  The top byte is ignored under
 * TBIx; bit 55 selects the half (D8.2, VA ranges).
 */
static inline int
smmuv3__tt_select(const struct smmuv3__cfg *cf, uint64_t iova)
{
	int h = cf->cf_two_halves ? (int)((iova >> 55) & 1) : 0;
	const struct smmuv3__tt *tt = &cf->cf_tt[h];
	unsigned		 top = tt->tt_tbi ? 56 : 64;
	uint64_t		 hi;

	if (tt->tt_disabled)
		return h;
	/* Bits [top-1 : va_bits] must all equal the selected half. */
	hi = (top == 64 ? iova : iova & ((1ULL << 56) - 1)) >> tt->tt_va_bits;
	if (hi != (h ? (1ULL << (top - tt->tt_va_bits)) - 1 : 0))
		return -1;
	return h;
}

/*
 * The set of iova in the TBU whose sets start at base: consecutive pages
 * of one ASID land in distinct sets.
 */
static inline unsigned
smmuv3__tlb_set(const struct smmuv3 *sc, unsigned base, unsigned asid,
    unsigned gshift, uint64_t iova)
{
	return base +
	    ((unsigned)((iova >> gshift) + asid * 0x9e3779b1u) &
		(sc->sc_tlb_tbu_sets - 1));
}

/* (regime, asid)'s state: ASIDs 8 apart share a cache line, not 1. */
static inline struct smmuv3__asid *
smmuv3__tlb_asid(const struct smmuv3 *sc, unsigned regime, unsigned asid)
{
	size_t n = sc->sc_tlb_nasids, a = asid & (n - 1);

	a = (a & 7) * (n / 8) + (a >> 3);
	return &sc->sc_tlb_as[(regime == SMMU_STE_STRW_NSEL1 ? 0 : n) + a];
}

static inline uint16_t
smmuv3__asid_gen(const struct smmuv3__asid *as)
{
	return SMMUV3__AS_GEN(
	    atomic_load_explicit(&as->as_word, memory_order_seq_cst));
}

/* Valid and, if non-global, of its ASID's current generation. */
static inline bool
smmuv3__tag_live(const struct smmuv3 *sc, uint64_t tag)
{
	if ((tag & SMMUV3__TE_VALID) == 0)
		return false;
	if ((tag & SMMUV3__TE_GLOBAL) != 0)
		return true;
	return SMMUV3__TAG_GEN(tag) ==
	    smmuv3__asid_gen(smmuv3__tlb_asid(
		sc, SMMUV3__TAG_REGIME(tag), SMMUV3__TAG_ASID(tag)));
}

void smmuv3__tlb_seq_wait(_Atomic uint32_t *);

/*
 * Looks iova up for cf; on a hit copies the entry to *out.  Lock-free on
 * the shared side: the set's sequence is even and unchanged around the
 * reads, or a fill ran in between and the lookup is repeated.  A torn
 * read is harmless (sizes are masked) because it is then discarded.  The
 * slot loads are acquire loads (plain loads on x86, ARMv8 LDAR) so the
 * second sequence read cannot move before them; the fill's slot stores
 * are release stores for the mirror reason (no fences: TSan lacks them).
 */
static inline bool
smmuv3__tlb_lookup(struct smmuv3 *sc, const struct smmuv3__cfg *cf,
    unsigned gshift, uint64_t iova, struct smmuv3__tlbe *out,
    struct smmuv3__utlb *ut)
{
	unsigned set =
	    smmuv3__tlb_set(sc, cf->cf_tlb_base, cf->cf_asid, gshift, iova);
	const struct smmuv3__tlbslot *ts0 =
	    &sc->sc_tlb[(size_t)set * sc->sc_tlb_ways];
	const struct smmuv3__tlbslot *ts;
	_Atomic uint32_t	     *seqp = &sc->sc_tlb_set[set].tse_seq;
	uint64_t		      tag = 0, va = 0, pa = 0;
	uint32_t		      seq;
	unsigned		      w, ways = sc->sc_tlb_ways;
	uint16_t		      gen = smmuv3__asid_gen(cf->cf_as);
	bool			      hit;

	for (;;) {
		seq = atomic_load_explicit(seqp, memory_order_seq_cst);
		if (seq & 1) {
			smmuv3__tlb_seq_wait(seqp);
			continue;
		}
		hit = false;
		for (w = 0, ts = ts0; w < ways; w++, ts++) {
			tag = atomic_load_explicit(
			    &ts->ts_tag, memory_order_acquire);
			if ((tag & SMMUV3__TE_VALID) == 0 ||
			    SMMUV3__TAG_REGIME(tag) != cf->cf_strw)
				continue;
			va = atomic_load_explicit(
			    &ts->ts_va, memory_order_acquire);
			if (((iova ^ va) >> SMMUV3__TAG_SIZE(tag)) != 0)
				continue;
			if ((tag & SMMUV3__TE_GLOBAL) == 0 &&
			    (SMMUV3__TAG_ASID(tag) != cf->cf_asid ||
				SMMUV3__TAG_GEN(tag) != gen))
				continue;
			pa = atomic_load_explicit(
			    &ts->ts_pa, memory_order_acquire);
			hit = true;
			break;
		}
		if (atomic_load_explicit(seqp, memory_order_relaxed) == seq)
			break;
	}
	if (hit)
		smmuv3__tlbe_from(out, tag, va, pa);
	if (hit && ut != NULL) {
		ut->ut_seqp = seqp;
		ut->ut_seq = seq;
	}
	return hit;
}

#endif /* HW_SMMUV3_INTERNAL_H */
