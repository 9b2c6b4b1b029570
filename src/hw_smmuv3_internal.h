/*
 * libiommu - SMMUv3 model internals shared by the hw_smmuv3_*.c files:
 * the instance structure, the decoded configuration, TLB entries and the
 * cross-file smmuv3__ functions.  Never installed.
 *
 * Layout of one instance (everything allocated once, at create):
 *
 *   struct smmuv3
 *     registers (sc_cr0 ... sc_eventq_irq_cfg*)      MMIO state, 6.3
 *     sc_cfgc[sets * ways]  struct smmuv3__cfg        config cache
 *     sc_tlb[sets * ways]   struct smmuv3__tlbe       TLB
 *     sc_stats                                        counters
 *
 * Invariants: every field is protected by sc_lock; sc_owner names the
 * thread holding it (0 when free) so a host callback that re-enters the
 * same instance gets EDEADLK.  Caches change only on a fill (translate)
 * or on an invalidation command / reset; nothing reads guest memory except
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

struct smmuv3__asid_gen;

/* A decoded STE (and, for stage 1, CD) for one (sid, ssid). */
struct smmuv3__cfg {
	uint32_t cf_sid;
	uint32_t cf_ssid; /* SMMUV3_NO_SSID when SSV = 0 */
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
	const struct smmuv3__asid_gen *cf_agen;
	uint8_t			       cf_ips_bits; /* min(CD.IPS, OAS) */
	bool			       cf_affd;
	bool			       cf_record; /* CD.R */
	bool			       cf_two_halves;
	uint64_t		       cf_mair;
	struct smmuv3__tt	       cf_tt[2];
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

/*
 * Per (regime, ASID) state that makes TLBI by ASID O(1): the command bumps
 * ag_gen, and a non-global entry whose te_gen differs is dead (treated as
 * invalid everywhere, reused by the next fill).  ag_live and ag_wide count
 * that ASID's live non-global entries and those of them that are WIDE, so
 * the bump keeps st_tlb_invalidated and sc_tlb_nwide exact.
 */
struct smmuv3__asid_gen {
	uint16_t ag_gen;
	uint32_t ag_live;
	uint32_t ag_wide;
};

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

struct smmuv3 {
	struct smmuv3_config	      sc_cfg;
	struct smmuv3_host_ops	      sc_ops;
	void			     *sc_cookie;
	const struct iommu_allocator *sc_alloc;

	atomic_uint	   sc_lock; /* 0 free, 1 held */
	_Atomic(uintptr_t) sc_owner;

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
	struct smmuv3__cfg *sc_cfgc_last; /* last fast-path hit, or NULL */
	unsigned	    sc_cfgc_sets;
	unsigned	    sc_cfgc_ways;

	/* TLB: sets * ways entries, round-robin victim per set. */
	struct smmuv3__tlbe *sc_tlb;
	uint8_t		    *sc_tlb_victim;
	unsigned	     sc_tlb_sets;
	unsigned	     sc_tlb_ways;
	size_t		     sc_tlb_nwide; /* valid WIDE or GLOBAL entries */
	/* Granule shifts (bit gshift - 12) filled since the last flush. */
	unsigned sc_tlb_gshifts;
	/* [nregimes * nasids]: NS-EL1 ASIDs, then EL2 ones (IDR0.HYP). */
	struct smmuv3__asid_gen *sc_tlb_asids;
	size_t			 sc_tlb_nasids; /* 256 or 65536 */
	size_t			 sc_tlb_nregimes;

	struct smmuv3_stats sc_stats;
};

/* hw_smmuv3_model.c: locking, logging, interrupts, GERROR. */
extern _Thread_local char smmuv3__thread_token;
void			  smmuv3__lock_slow(struct smmuv3 *);

/*
 * The instance lock: a test-and-set lock that yields the CPU while
 * contended (smmuv3__lock_slow).  An uncontended enter/leave is one atomic
 * exchange and one release store, which keeps a TLB-hit translation
 * within a few nanoseconds; a mutex costs several times that.  Returns
 * EDEADLK when the calling thread already holds the lock (a host callback
 * re-entering its instance).
 */
static inline int
smmuv3__enter(struct smmuv3 *sc)
{
	uintptr_t self = (uintptr_t)&smmuv3__thread_token;

	if (atomic_load_explicit(&sc->sc_owner, memory_order_relaxed) == self)
		return EDEADLK;
	if (atomic_exchange_explicit(&sc->sc_lock, 1, memory_order_acquire))
		smmuv3__lock_slow(sc);
	atomic_store_explicit(&sc->sc_owner, self, memory_order_relaxed);
	return 0;
}

static inline void
smmuv3__leave(struct smmuv3 *sc)
{
	atomic_store_explicit(&sc->sc_owner, 0, memory_order_relaxed);
	atomic_store_explicit(&sc->sc_lock, 0, memory_order_release);
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
/* Look up or fetch (sid, ssid); 0 with *out, or EFAULT with *ev filled. */
int  smmuv3__cfg_get(struct smmuv3 *, uint32_t sid, uint32_t ssid,
     unsigned flags, const struct smmuv3__cfg **out, struct smmuv3__cfg *tmp,
     struct smmuv3__event *ev);
void smmuv3__cfgc_inv_sid_range(
    struct smmuv3 *, uint64_t first, uint64_t last, bool cd_only);
void   smmuv3__cfgc_inv_cd(struct smmuv3 *, uint32_t sid, uint32_t ssid);
size_t smmuv3__cfgc_count(struct smmuv3 *);

/* hw_smmuv3_walk.c: stage-1 walk of cfg for req (ev gets the fault). */
int smmuv3__walk(struct smmuv3 *, const struct smmuv3__cfg *,
    const struct smmuv3__req *, unsigned flags, struct smmuv3__tlbe *out,
    struct smmuv3__event *ev);

/* hw_smmuv3_tlb.c */
int  smmuv3__tlb_init(struct smmuv3 *);
void smmuv3__tlb_fini(struct smmuv3 *);
void smmuv3__tlb_flush(struct smmuv3 *);
void smmuv3__tlb_insert(struct smmuv3 *, const struct smmuv3__cfg *,
    unsigned gshift, uint64_t iova, const struct smmuv3__tlbe *);

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

/* hw_smmuv3_xlate.c */
int smmuv3__translate(struct smmuv3 *, const struct smmuv3__req *,
    unsigned flags, struct smmuv3_xlate *, struct smmuv3_fault *);

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

/* Consecutive pages of one ASID land in distinct sets. */
static inline unsigned
smmuv3__tlb_set(
    const struct smmuv3 *sc, unsigned asid, unsigned gshift, uint64_t iova)
{
	return (unsigned)((iova >> gshift) + asid * 0x9e3779b1u) &
	    (sc->sc_tlb_sets - 1);
}

static inline struct smmuv3__asid_gen *
smmuv3__tlb_asid(const struct smmuv3 *sc, unsigned regime, unsigned asid)
{
	return &sc->sc_tlb_asids[(regime == SMMU_STE_STRW_NSEL1
					 ? 0
					 : sc->sc_tlb_nasids) +
	    (asid & (sc->sc_tlb_nasids - 1))];
}

/* Valid and, if non-global, of its ASID's current generation. */
static inline bool
smmuv3__tlbe_live(const struct smmuv3 *sc, const struct smmuv3__tlbe *te)
{
	if ((te->te_flags & SMMUV3__TE_VALID) == 0)
		return false;
	if ((te->te_flags & SMMUV3__TE_GLOBAL) != 0)
		return true;
	return te->te_gen ==
	    smmuv3__tlb_asid(sc, te->te_regime, te->te_asid)->ag_gen;
}

static inline const struct smmuv3__tlbe *
smmuv3__tlb_lookup(struct smmuv3 *sc, const struct smmuv3__cfg *cf,
    unsigned gshift, uint64_t iova)
{
	const struct smmuv3__tlbe *te;
	unsigned		   w;

	te =
	    &sc->sc_tlb[(size_t)smmuv3__tlb_set(sc, cf->cf_asid, gshift, iova) *
		sc->sc_tlb_ways];
	for (w = 0; w < sc->sc_tlb_ways; w++, te++) {
		if ((te->te_flags & SMMUV3__TE_VALID) == 0 ||
		    te->te_regime != cf->cf_strw)
			continue;
		if (((iova ^ te->te_va) >> te->te_size_log2) != 0)
			continue;
		if ((te->te_flags & SMMUV3__TE_GLOBAL) == 0 &&
		    (te->te_asid != cf->cf_asid ||
			te->te_gen != cf->cf_agen->ag_gen))
			continue;
		return te;
	}
	return NULL;
}

#endif /* HW_SMMUV3_INTERNAL_H */
