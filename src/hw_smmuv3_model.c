/*
 * libiommu - SMMUv3 model: instance lifecycle, the MMIO register file
 * (register pages 0 and 1, IHI 0070 chapter 6), interrupts, MSIs and the
 * GERROR/GERRORN protocol.
 *
 * Design: one struct smmuv3 per instance, allocated with the embedder's
 * allocator at create together with its TLB and config cache; nothing is
 * allocated afterwards.  Locking is a big-reader lock (the invariants are
 * in hw_smmuv3_internal.h): MMIO reads and device-side accesses take one
 * reader shard; a CMDQ_PROD write takes the command side (sc_wlock and
 * its own shard: TLBIs and CMD_SYNC run beside device accesses); other
 * MMIO writes, reset, stats and introspection take the exclusive side
 * (sc_wlock and every shard); each lock spins briefly and then yields.  The
 * thread's list of entered instances makes a host callback that re-enters its
 * instance fail with EDEADLK instead of deadlocking.  MMIO reads also take the
 * side lock: the shared side writes the event-queue producer index and GERROR
 * under it.  Register writes take effect synchronously: CR0ACK mirrors CR0 and
 * IRQ_CTRLACK mirrors IRQ_CTRL as soon as the write returns, GBPA.UPDATE reads
 * back as 0.
 *
 * Not implemented (unadvertised in the IDRs; accesses read as zero, ignore
 * writes and are logged as SMMUV3_LOG_UNIMP): the secure register bank,
 * the PRI queue, ATOS/VATOS, event-queue stall mode, MPAM, the
 * performance monitor, ECMDQ.  Register pages 0 and 1 only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hw_smmuv3_internal.h"
#include "iommu_spin.h"

_Thread_local struct smmuv3__tls smmuv3__tls;

static int	smmuv3_config_check(const struct smmuv3_config *);
static bool	smmuv3_is_msi_reg(uint64_t);
static unsigned smmuv3_oas_enc(unsigned bits);
static void	smmuv3_compute_idrs(struct smmuv3 *);
static void	smmuv3_reset_regs(struct smmuv3 *);
static int  smmuv3_reg_read(struct smmuv3 *, uint64_t, unsigned, uint64_t *);
static void smmuv3_reg_write(struct smmuv3 *, uint64_t, unsigned, uint64_t);
static void smmuv3_write_cr0(struct smmuv3 *, uint32_t);
static int  smmuv3_cmdq_doorbell(struct smmuv3 *, uint32_t);
static void smmuv3_take_shards(struct smmuv3 *, const struct smmuv3__shard *);
static void smmuv3_write_gerrorn(struct smmuv3 *, uint32_t);
static uint64_t smmuv3_q_base_mask(uint64_t val, unsigned maxlog2);
static uint32_t smmuv3_q_ptr_mask(uint64_t base);
static void	smmuv3_write64(uint64_t *, uint64_t off, uint64_t regoff,
	unsigned size, uint64_t val, uint64_t mask);

void
smmuv3_config_init(struct smmuv3_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->cfg_size = sizeof(*cfg);
	cfg->cfg_sidsize = 16;
	cfg->cfg_ssidsize = 8;
	cfg->cfg_cmdqs = 19;
	cfg->cfg_eventqs = 19;
	cfg->cfg_oas_bits = 48;
	cfg->cfg_granules = SMMUV3_GRAN_4K | SMMUV3_GRAN_16K | SMMUV3_GRAN_64K;
	cfg->cfg_two_level_strtab = true;
	cfg->cfg_asid16 = true;
	cfg->cfg_range_inv = true;
	cfg->cfg_hyp = true;
	cfg->cfg_msi = true;
	cfg->cfg_sev = true;
	cfg->cfg_tlb_sets = 256;
	cfg->cfg_tlb_ways = 4;
	cfg->cfg_cfgcache_entries = 64;
	cfg->cfg_check_stale = false;
	cfg->cfg_tlb_tbus = 1;
}

unsigned
smmuv3_version(void)
{
	return SMMUV3_MODEL_VERSION;
}

static unsigned
smmuv3_oas_enc(unsigned bits)
{
	unsigned enc;

	for (enc = 0; enc < 6; enc++)
		if (smmu_pa_size_bits(enc) == bits)
			return enc;
	return 7;
}

static int
smmuv3_config_check(const struct smmuv3_config *c)
{
	if (c->cfg_sidsize > 32 || c->cfg_ssidsize > 20)
		return EINVAL;
	if (c->cfg_cmdqs > 19 || c->cfg_eventqs > 19)
		return EINVAL;
	if (smmuv3_oas_enc(c->cfg_oas_bits) > 5)
		return EINVAL;
	if (c->cfg_granules == 0 ||
	    (c->cfg_granules &
		~(SMMUV3_GRAN_4K | SMMUV3_GRAN_16K | SMMUV3_GRAN_64K)) != 0)
		return EINVAL;
	if (c->cfg_tlb_sets == 0 || c->cfg_tlb_sets > (1u << 16) ||
	    (c->cfg_tlb_sets & (c->cfg_tlb_sets - 1)) != 0)
		return EINVAL;
	if (c->cfg_tlb_ways == 0 || c->cfg_tlb_ways > 64)
		return EINVAL;
	if (c->cfg_tlb_tbus == 0 || c->cfg_tlb_tbus > c->cfg_tlb_sets ||
	    c->cfg_tlb_tbus > 64 ||
	    (c->cfg_tlb_tbus & (c->cfg_tlb_tbus - 1)) != 0)
		return EINVAL;
	if (c->cfg_cfgcache_entries == 0 ||
	    c->cfg_cfgcache_entries > (1u << 20))
		return EINVAL;
	return 0;
}

int
smmuv3_create(const struct smmuv3_config *cfg,
    const struct smmuv3_host_ops *ops, void *cookie,
    const struct iommu_allocator *alloc, struct smmuv3 **out)
{
	const struct iommu_allocator *a;
	struct smmuv3		     *sc;
	unsigned		      i;
	int			      error;

	if (out == NULL)
		return EINVAL;
	*out = NULL;
	if (cfg == NULL || ops == NULL)
		return EINVAL;
	if (cfg->cfg_size < sizeof(*cfg) ||
	    ops->ho_size < offsetof(struct smmuv3_host_ops, ho_irq))
		return EINVAL;
	if (ops->ho_mem_read == NULL || ops->ho_mem_write == NULL)
		return EINVAL;
	if ((error = smmuv3_config_check(cfg)) != 0)
		return error;

	a = iommu__allocator_or_default(alloc);
	if ((sc = iommu__zalloc(a, sizeof(*sc))) == NULL)
		return ENOMEM;
	sc->sc_alloc = a;
	sc->sc_cfg = *cfg;
	sc->sc_cfg.cfg_size = sizeof(sc->sc_cfg);
	memcpy(&sc->sc_ops, ops,
	    ops->ho_size < sizeof(sc->sc_ops) ? ops->ho_size
					      : sizeof(sc->sc_ops));
	sc->sc_ops.ho_size = sizeof(sc->sc_ops);
	sc->sc_cookie = cookie;
	atomic_init(&sc->sc_wlock, 0);
	atomic_init(&sc->sc_wpending, 0);
	atomic_init(&sc->sc_next_shard, 0);
	atomic_init(&sc->sc_side, 0);
	atomic_init(&sc->sc_side_owner, 0);
	for (i = 0; i < SMMUV3__NSHARDS; i++) {
		atomic_init(&sc->sc_shard[i].sh_lock, 0);
		atomic_init(&sc->sc_shard[i].sh_exits, 0);
	}

	if ((error = smmuv3__tlb_init(sc)) != 0)
		goto fail;
	if ((error = smmuv3__cfgc_init(sc)) != 0)
		goto fail;
	smmuv3_compute_idrs(sc);
	smmuv3_reset_regs(sc);
	*out = sc;
	return 0;
fail:
	smmuv3__cfgc_fini(sc);
	smmuv3__tlb_fini(sc);
	iommu__free(a, sc, sizeof(*sc));
	return error;
}

void
smmuv3_destroy(struct smmuv3 *sc)
{
	if (sc == NULL)
		return;
	/* A host callback destroying its own instance is refused. */
	if (smmuv3__held(sc, &smmuv3__tls))
		return;
	smmuv3__cfgc_fini(sc);
	smmuv3__tlb_fini(sc);
	iommu__free(sc->sc_alloc, sc, sizeof(*sc));
}

void
smmuv3_reset(struct smmuv3 *sc)
{
	struct smmuv3__hold hd;
	unsigned	    i;

	if (sc == NULL || smmuv3__enter_excl(sc, &hd) != 0)
		return;
	smmuv3_reset_regs(sc);
	smmuv3__tlb_flush(sc);
	smmuv3__cfgc_flush(sc);
	memset(&sc->sc_stats, 0, sizeof(sc->sc_stats));
	for (i = 0; i < SMMUV3__NSHARDS; i++) {
		memset(
		    &sc->sc_shard[i].sh_st, 0, sizeof(sc->sc_shard[i].sh_st));
		sc->sc_shard[i].sh_cfgc_last = NULL;
	}
	smmuv3__leave(&hd);
}

static bool
smmuv3_trylock(atomic_uint *l)
{
	return !atomic_load_explicit(l, memory_order_relaxed) &&
	    !atomic_exchange_explicit(l, 1, memory_order_seq_cst);
}

static void
smmuv3_spinlock(atomic_uint *l)
{
	unsigned spins = 0;

	while (!smmuv3_trylock(l))
		iommu__spin_pause(&spins);
}

/*
 * Contended path of smmuv3__shared_lock: NULL when the thread is inside
 * sc already; else wait while a writer is pending, then take the first
 * free shard from the thread's hint on (a thread's first entry takes the
 * next hint the instance hands out, so threads spread over the shards);
 * the shard taken becomes the new hint.  A thread inside some instance
 * waits for its hint shard instead: the hint must not move while it is
 * inside any instance, since "inside sc on the shared side" has to mean
 * "holds sc's hint shard" for re-entry to always end up here.
 */
struct smmuv3__shard *
smmuv3__shared_slow(struct smmuv3 *sc, struct smmuv3__tls *tl)
{
	const size_t base = offsetof(struct smmuv3, sc_shard);
	unsigned     spins = 0, i, k = SMMUV3__NSHARDS;
	bool	     pinned;

	if (smmuv3__held(sc, tl))
		return NULL;
	if (tl->tl_shoff != 0)
		k = (unsigned)((tl->tl_shoff - base) /
		    sizeof(struct smmuv3__shard));
	pinned = tl->tl_held != NULL && k < SMMUV3__NSHARDS;
	if (k >= SMMUV3__NSHARDS)
		k = atomic_fetch_add_explicit(
			&sc->sc_next_shard, 1, memory_order_relaxed) %
		    SMMUV3__NSHARDS;
	for (;;) {
		while (atomic_load_explicit(
		    &sc->sc_wpending, memory_order_relaxed))
			iommu__spin_pause(&spins);
		for (i = 0; i < SMMUV3__NSHARDS; i++) {
			if (smmuv3_trylock(&sc->sc_shard[k].sh_lock)) {
				tl->tl_shoff =
				    base + k * sizeof(struct smmuv3__shard);
				return &sc->sc_shard[k];
			}
			if (pinned)
				break;
			k = (k + 1) % SMMUV3__NSHARDS;
		}
		iommu__spin_pause(&spins);
	}
}

/*
 * The exclusive side: sc_wlock orders writers; sc_wpending holds new
 * readers off while the writer collects every shard, so it cannot
 * starve.  Returns EDEADLK when the thread is already inside sc.
 */
int
smmuv3__enter_excl(struct smmuv3 *sc, struct smmuv3__hold *hd)
{
	struct smmuv3__tls *tl = &smmuv3__tls;

	if (smmuv3__held(sc, tl))
		return EDEADLK;
	smmuv3_spinlock(&sc->sc_wlock);
	smmuv3_take_shards(sc, NULL);
	smmuv3__push(sc, hd, tl, &sc->sc_shard[0], true);
	return 0;
}

/*
 * With sc_wlock held: every shard but mine (held already, or NULL);
 * sc_wpending holds arriving readers off meanwhile.
 */
static void
smmuv3_take_shards(struct smmuv3 *sc, const struct smmuv3__shard *mine)
{
	unsigned i;

	atomic_store_explicit(&sc->sc_wpending, 1, memory_order_relaxed);
	for (i = 0; i < SMMUV3__NSHARDS; i++)
		if (&sc->sc_shard[i] != mine)
			smmuv3_spinlock(&sc->sc_shard[i].sh_lock);
}

void
smmuv3__excl_release(struct smmuv3 *sc)
{
	unsigned i;

	for (i = 0; i < SMMUV3__NSHARDS; i++) {
		/* What this section changed may void any last hit. */
		sc->sc_shard[i].sh_utlb.ut_seqp = NULL;
		atomic_store_explicit(
		    &sc->sc_shard[i].sh_lock, 0, memory_order_release);
	}
	sc->sc_cmd_hold = NULL;
	atomic_store_explicit(&sc->sc_wpending, 0, memory_order_relaxed);
	atomic_store_explicit(&sc->sc_wlock, 0, memory_order_release);
}

/*
 * The command side (a doorbell: CMDQ_PROD written): sc_wlock, which
 * orders it against every other writer, and one shard, the thread's own,
 * so that a host callback re-entering sc still fails with EDEADLK.
 * Device accesses keep running on the other shards meanwhile; what the
 * commands need from them is in smmuv3__cmd_upgrade (a configuration
 * change: take the whole exclusive side) and smmuv3__cmd_grace
 * (CMD_SYNC: wait for the accesses in flight to finish).
 */
int
smmuv3__enter_cmd(struct smmuv3 *sc, struct smmuv3__hold *hd)
{
	struct smmuv3__tls   *tl = &smmuv3__tls;
	struct smmuv3__shard *sh;

	if (smmuv3__held(sc, tl))
		return EDEADLK;
	smmuv3_spinlock(&sc->sc_wlock);
	/* No writer collects shards while we hold sc_wlock: never NULL. */
	sh = smmuv3__shared_lock(sc, tl);
	smmuv3__push(sc, hd, tl, sh, false);
	hd->hd_cmd = true;
	sc->sc_cmd_hold = hd;
	return 0;
}

void
smmuv3__cmd_release(struct smmuv3 *sc)
{
	sc->sc_cmd_hold = NULL;
	atomic_store_explicit(&sc->sc_wlock, 0, memory_order_release);
}

/*
 * Turns the command side into the exclusive side (a no-op on the
 * exclusive side).  Called with the side lock held once, at a command
 * boundary; gives it up while it waits for the shards (their holders may
 * need it to finish).
 */
void
smmuv3__cmd_upgrade(struct smmuv3 *sc)
{
	struct smmuv3__hold *hd = sc->sc_cmd_hold;

	if (hd == NULL || hd->hd_excl)
		return;
	smmuv3__side_leave(sc);
	smmuv3_take_shards(sc, hd->hd_sh);
	hd->hd_excl = true;
	smmuv3__side_enter(sc);
}

/*
 * CMD_SYNC on the command side: every device access that was in flight
 * when it started has finished (its shard was left, or taken again by a
 * later access) before it completes; accesses that start later see every
 * TLBI before it.  Side lock as for smmuv3__cmd_upgrade.
 */
void
smmuv3__cmd_grace(struct smmuv3 *sc)
{
	struct smmuv3__hold  *hd = sc->sc_cmd_hold;
	struct smmuv3__shard *sh;
	unsigned	      i, exits, spins = 0;

	if (hd == NULL || hd->hd_excl)
		return;
	smmuv3__side_leave(sc);
	for (i = 0; i < SMMUV3__NSHARDS; i++) {
		sh = &sc->sc_shard[i];
		if (sh == hd->hd_sh ||
		    !atomic_load_explicit(&sh->sh_lock, memory_order_seq_cst))
			continue;
		exits =
		    atomic_load_explicit(&sh->sh_exits, memory_order_seq_cst);
		while (
		    atomic_load_explicit(&sh->sh_lock, memory_order_seq_cst) &&
		    atomic_load_explicit(&sh->sh_exits, memory_order_seq_cst) ==
			exits)
			iommu__spin_pause(&spins);
	}
	smmuv3__side_enter(sc);
}

/*
 * The side lock: recursive, because an event record logs, traces and
 * signals, each of which takes it too.  Taken only inside an entered
 * section, never while waiting for the instance locks.
 */
void
smmuv3__side_enter(struct smmuv3 *sc)
{
	uintptr_t self = (uintptr_t)&smmuv3__tls;

	if (atomic_load_explicit(&sc->sc_side_owner, memory_order_relaxed) ==
	    self) {
		sc->sc_side_depth++;
		return;
	}
	smmuv3_spinlock(&sc->sc_side);
	atomic_store_explicit(&sc->sc_side_owner, self, memory_order_relaxed);
	sc->sc_side_depth = 1;
}

void
smmuv3__side_leave(struct smmuv3 *sc)
{
	if (--sc->sc_side_depth != 0)
		return;
	atomic_store_explicit(&sc->sc_side_owner, 0, memory_order_relaxed);
	atomic_store_explicit(&sc->sc_side, 0, memory_order_release);
}

void
smmuv3__log(struct smmuv3 *sc, enum smmuv3_log_level lvl, const char *fmt, ...)
{
	char	buf[160];
	va_list ap;

	if (sc->sc_ops.ho_log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	smmuv3__side_enter(sc);
	sc->sc_ops.ho_log(sc->sc_cookie, lvl, buf);
	smmuv3__side_leave(sc);
}

void
smmuv3__unimp(struct smmuv3 *sc, const char *what)
{
	smmuv3__side_enter(sc);
	sc->sc_stats.st_unimplemented++;
	smmuv3__log(sc, SMMUV3_LOG_UNIMP, "%s", what);
	smmuv3__side_leave(sc);
}

/* Calls ho_trace; callers test SMMUV3__TRACING first. */
void
smmuv3__trace(struct smmuv3 *sc, enum smmuv3_trace_kind kind, uint32_t sid,
    uint32_t ssid, uint64_t iova, uint64_t addr, uint64_t value, unsigned level,
    uint8_t event)
{
	struct smmuv3_trace tr;

	if (sc->sc_ops.ho_trace == NULL)
		return;
	memset(&tr, 0, sizeof(tr));
	tr.tr_kind = kind;
	tr.tr_sid = sid;
	tr.tr_ssid = ssid;
	tr.tr_iova = iova;
	tr.tr_addr = addr;
	tr.tr_value = value;
	tr.tr_level = level;
	tr.tr_event = event;
	smmuv3__side_enter(sc);
	sc->sc_ops.ho_trace(sc->sc_cookie, &tr);
	smmuv3__side_leave(sc);
}

/* 6.3.1 - 6.3.6: advertise exactly what the model implements. */
static void
smmuv3_compute_idrs(struct smmuv3 *sc)
{
	const struct smmuv3_config *c = &sc->sc_cfg;
	uint32_t		    v;

	v = 0;
	v = SMMU_FSET(v, SMMU_IDR0_S1P, 1);
	v = SMMU_FSET(v, SMMU_IDR0_TTF, 2);
	v = SMMU_FSET(v, SMMU_IDR0_COHACC, 1);
	v = SMMU_FSET(v, SMMU_IDR0_HYP, c->cfg_hyp);
	v = SMMU_FSET(v, SMMU_IDR0_ASID16, c->cfg_asid16);
	v = SMMU_FSET(v, SMMU_IDR0_MSI, c->cfg_msi);
	v = SMMU_FSET(v, SMMU_IDR0_SEV, c->cfg_sev);
	v = SMMU_FSET(v, SMMU_IDR0_TTENDIAN, 2);
	v = SMMU_FSET(v, SMMU_IDR0_STALL_MODEL, 1);
	v = SMMU_FSET(v, SMMU_IDR0_TERM_MODEL, 1);
	v = SMMU_FSET(v, SMMU_IDR0_ST_LEVEL, c->cfg_two_level_strtab);
	sc->sc_idr[0] = v;

	v = 0;
	v = SMMU_FSET(v, SMMU_IDR1_SIDSIZE, c->cfg_sidsize);
	v = SMMU_FSET(v, SMMU_IDR1_SSIDSIZE, c->cfg_ssidsize);
	v = SMMU_FSET(v, SMMU_IDR1_EVENTQS, c->cfg_eventqs);
	v = SMMU_FSET(v, SMMU_IDR1_CMDQS, c->cfg_cmdqs);
	sc->sc_idr[1] = v;
	sc->sc_idr[2] = 0;
	sc->sc_idr[3] = (uint32_t)SMMU_FSET(0, SMMU_IDR3_RIL, c->cfg_range_inv);
	sc->sc_idr[4] = 0;

	v = 0;
	v = SMMU_FSET(v, SMMU_IDR5_OAS, smmuv3_oas_enc(c->cfg_oas_bits));
	v = SMMU_FSET(
	    v, SMMU_IDR5_GRAN4K, (c->cfg_granules & SMMUV3_GRAN_4K) != 0);
	v = SMMU_FSET(
	    v, SMMU_IDR5_GRAN16K, (c->cfg_granules & SMMUV3_GRAN_16K) != 0);
	v = SMMU_FSET(
	    v, SMMU_IDR5_GRAN64K, (c->cfg_granules & SMMUV3_GRAN_64K) != 0);
	sc->sc_idr[5] = v;
	sc->sc_oas_bits = c->cfg_oas_bits;

	/* Implementer 0x43b (Arm JEP106), product 0x1b: a made-up part. */
	sc->sc_iidr = (0x1bu << 20) | 0x43bu;
	/* SMMUv3.2: range invalidation is a v3.2 feature. */
	sc->sc_aidr = 2;
}

/* 6.3: reset values.  GBPA resets to bypass with SHCFG = incoming. */
static void
smmuv3_reset_regs(struct smmuv3 *sc)
{
	sc->sc_cr0 = sc->sc_cr0ack = 0;
	sc->sc_cr1 = sc->sc_cr2 = 0;
	sc->sc_gbpa = (uint32_t)SMMU_FSET(0, SMMU_GBPA_SHCFG, 1);
	sc->sc_irq_ctrl = sc->sc_irq_ctrlack = 0;
	sc->sc_gerror = sc->sc_gerrorn = 0;
	sc->sc_gerror_irq_cfg0 = 0;
	sc->sc_gerror_irq_cfg1 = sc->sc_gerror_irq_cfg2 = 0;
	sc->sc_strtab_base = 0;
	sc->sc_strtab_base_cfg = 0;
	sc->sc_cmdq_base = 0;
	sc->sc_cmdq_prod = sc->sc_cmdq_cons = 0;
	sc->sc_eventq_base = 0;
	sc->sc_eventq_prod = sc->sc_eventq_cons = 0;
	sc->sc_eventq_irq_cfg0 = 0;
	sc->sc_eventq_irq_cfg1 = sc->sc_eventq_irq_cfg2 = 0;
}

int
smmuv3_mmio_read(struct smmuv3 *sc, uint64_t off, unsigned size, uint64_t *val)
{
	struct smmuv3__hold hd;
	int		    error;

	if (sc == NULL || val == NULL)
		return EINVAL;
	*val = 0;
	if ((size != 4 && size != 8) || (off & (size - 1)) != 0 ||
	    off >= SMMU_MMIO_SIZE)
		return EINVAL;
	if ((error = smmuv3__enter_shared(sc, &hd)) != 0)
		return error;
	smmuv3__side_enter(sc);
	error = smmuv3_reg_read(sc, off, size, val);
	smmuv3__side_leave(sc);
	smmuv3__leave(&hd);
	return error;
}

int
smmuv3_mmio_write(struct smmuv3 *sc, uint64_t off, unsigned size, uint64_t val)
{
	struct smmuv3__hold hd;
	int		    error;

	if (sc == NULL)
		return EINVAL;
	if ((size != 4 && size != 8) || (off & (size - 1)) != 0 ||
	    off >= SMMU_MMIO_SIZE)
		return EINVAL;
	if (off == SMMU_CMDQ_PROD && size == 4)
		return smmuv3_cmdq_doorbell(sc, (uint32_t)val);
	if ((error = smmuv3__enter_excl(sc, &hd)) != 0)
		return error;
	if (size == 4)
		val &= 0xffffffffu;
	smmuv3_reg_write(sc, off, size, val);
	smmuv3__leave(&hd);
	return 0;
}

/*
 * CMDQ_PROD, the register written per command batch, on the command side
 * (smmuv3__enter_cmd): TLBIs and CMD_SYNC run alongside device accesses.
 * The side lock keeps the queue registers consistent for MMIO reads.
 */
static int
smmuv3_cmdq_doorbell(struct smmuv3 *sc, uint32_t val)
{
	struct smmuv3__hold hd;
	int		    error;

	if ((error = smmuv3__enter_cmd(sc, &hd)) != 0)
		return error;
	smmuv3__side_enter(sc);
	sc->sc_cmdq_prod = val & smmuv3_q_ptr_mask(sc->sc_cmdq_base);
	smmuv3__cmdq_process(sc);
	smmuv3__side_leave(sc);
	smmuv3__leave(&hd);
	return 0;
}

/* 6.3.21 - 6.3.23, 6.3.30 - 6.3.32: the IRQ_CFG registers exist with MSIs. */
static bool
smmuv3_is_msi_reg(uint64_t off)
{
	return (off >= SMMU_GERROR_IRQ_CFG0 && off <= SMMU_GERROR_IRQ_CFG2) ||
	    (off >= SMMU_EVENTQ_IRQ_CFG0 && off <= SMMU_EVENTQ_IRQ_CFG2);
}

/*
 * 64-bit registers may be accessed as two 32-bit halves; 32-bit registers
 * with an 8-byte access see the pair (offset, offset + 4).
 */
static int
smmuv3_reg_read(struct smmuv3 *sc, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t v;

	if (!sc->sc_cfg.cfg_msi && smmuv3_is_msi_reg(off)) {
		*val = 0; /* RES0 without MSI support */
		return 0;
	}
	if (size == 8) {
		switch (off) {
		case SMMU_GERROR_IRQ_CFG0:
			*val = sc->sc_gerror_irq_cfg0;
			return 0;
		case SMMU_STRTAB_BASE:
			*val = sc->sc_strtab_base;
			return 0;
		case SMMU_CMDQ_BASE:
			*val = sc->sc_cmdq_base;
			return 0;
		case SMMU_EVENTQ_BASE:
			*val = sc->sc_eventq_base;
			return 0;
		case SMMU_EVENTQ_IRQ_CFG0:
			*val = sc->sc_eventq_irq_cfg0;
			return 0;
		default: {
			uint64_t lo, hi;

			smmuv3_reg_read(sc, off, 4, &lo);
			smmuv3_reg_read(sc, off + 4, 4, &hi);
			*val = lo | hi << 32;
			return 0;
		}
		}
	}

	switch (off) {
	case SMMU_IDR0:
	case SMMU_IDR1:
	case SMMU_IDR2:
	case SMMU_IDR3:
	case SMMU_IDR4:
	case SMMU_IDR5:
		v = sc->sc_idr[off / 4];
		break;
	case SMMU_IIDR:
		v = sc->sc_iidr;
		break;
	case SMMU_AIDR:
		v = sc->sc_aidr;
		break;
	case SMMU_CR0:
		v = sc->sc_cr0;
		break;
	case SMMU_CR0ACK:
		v = sc->sc_cr0ack;
		break;
	case SMMU_CR1:
		v = sc->sc_cr1;
		break;
	case SMMU_CR2:
		v = sc->sc_cr2;
		break;
	case SMMU_STATUSR:
		v = 0;
		break;
	case SMMU_GBPA:
		v = sc->sc_gbpa;
		break;
	case SMMU_AGBPA:
		v = 0;
		break;
	case SMMU_IRQ_CTRL:
		v = sc->sc_irq_ctrl;
		break;
	case SMMU_IRQ_CTRLACK:
		v = sc->sc_irq_ctrlack;
		break;
	case SMMU_GERROR:
		v = sc->sc_gerror;
		break;
	case SMMU_GERRORN:
		v = sc->sc_gerrorn;
		break;
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_GERROR_IRQ_CFG0 + 4:
		v = sc->sc_gerror_irq_cfg0 >> (off & 4) * 8;
		break;
	case SMMU_GERROR_IRQ_CFG1:
		v = sc->sc_gerror_irq_cfg1;
		break;
	case SMMU_GERROR_IRQ_CFG2:
		v = sc->sc_gerror_irq_cfg2;
		break;
	case SMMU_STRTAB_BASE:
	case SMMU_STRTAB_BASE + 4:
		v = sc->sc_strtab_base >> (off & 4) * 8;
		break;
	case SMMU_STRTAB_BASE_CFG:
		v = sc->sc_strtab_base_cfg;
		break;
	case SMMU_CMDQ_BASE:
	case SMMU_CMDQ_BASE + 4:
		v = sc->sc_cmdq_base >> (off & 4) * 8;
		break;
	case SMMU_CMDQ_PROD:
		v = sc->sc_cmdq_prod;
		break;
	case SMMU_CMDQ_CONS:
		v = sc->sc_cmdq_cons;
		break;
	case SMMU_EVENTQ_BASE:
	case SMMU_EVENTQ_BASE + 4:
		v = sc->sc_eventq_base >> (off & 4) * 8;
		break;
	case SMMU_EVENTQ_PROD:
	case SMMU_EVENTQ_PROD_P0:
		v = sc->sc_eventq_prod;
		break;
	case SMMU_EVENTQ_CONS:
	case SMMU_EVENTQ_CONS_P0:
		v = sc->sc_eventq_cons;
		break;
	case SMMU_EVENTQ_IRQ_CFG0:
	case SMMU_EVENTQ_IRQ_CFG0 + 4:
		v = sc->sc_eventq_irq_cfg0 >> (off & 4) * 8;
		break;
	case SMMU_EVENTQ_IRQ_CFG1:
		v = sc->sc_eventq_irq_cfg1;
		break;
	case SMMU_EVENTQ_IRQ_CFG2:
		v = sc->sc_eventq_irq_cfg2;
		break;
	default:
		v = 0;
		sc->sc_stats.st_unimplemented++;
		smmuv3__log(sc, SMMUV3_LOG_UNIMP,
		    "read of unimplemented register 0x%05llx",
		    (unsigned long long)off);
		break;
	}
	*val = v & 0xffffffffu;
	return 0;
}

/* Updates the 32-bit half or the whole of a 64-bit register. */
static void
smmuv3_write64(uint64_t *reg, uint64_t off, uint64_t regoff, unsigned size,
    uint64_t val, uint64_t mask)
{
	uint64_t v = *reg;

	if (size == 8)
		v = val;
	else if (off == regoff)
		v = (v & ~0xffffffffULL) | (val & 0xffffffffu);
	else
		v = (v & 0xffffffffULL) | (val << 32);
	*reg = v & mask;
}

/* Queue base: ADDR [51:5] aligned to the queue size, LOG2SIZE clamped. */
static uint64_t
smmuv3_q_base_mask(uint64_t val, unsigned maxlog2)
{
	unsigned l2 = (unsigned)SMMU_FGET(val, SMMU_Q_BASE_LOG2SIZE);

	if (l2 > maxlog2)
		l2 = maxlog2;
	val &= SMMU_Q_BASE_ADDR_MASK | SMMU_FMASK(SMMU_Q_BASE_RWA);
	return SMMU_FSET(val, SMMU_Q_BASE_LOG2SIZE, l2);
}

/* PROD/CONS index plus wrap bit for a queue with this base. */
static uint32_t
smmuv3_q_ptr_mask(uint64_t base)
{
	unsigned l2 = (unsigned)SMMU_FGET(base, SMMU_Q_BASE_LOG2SIZE);

	return (2u << l2) - 1;
}

static void
smmuv3_reg_write(struct smmuv3 *sc, uint64_t off, unsigned size, uint64_t val)
{
	uint32_t v32 = (uint32_t)val;
	bool	 cmdqen = SMMU_FGET(sc->sc_cr0, SMMU_CR0_CMDQEN) != 0;
	bool	 evtqen = SMMU_FGET(sc->sc_cr0, SMMU_CR0_EVENTQEN) != 0;
	bool	 smmuen = SMMU_FGET(sc->sc_cr0, SMMU_CR0_SMMUEN) != 0;

	if (!sc->sc_cfg.cfg_msi && smmuv3_is_msi_reg(off))
		return; /* RES0 without MSI support */
	if (size == 8) {
		switch (off) {
		case SMMU_GERROR_IRQ_CFG0:
		case SMMU_STRTAB_BASE:
		case SMMU_CMDQ_BASE:
		case SMMU_EVENTQ_BASE:
		case SMMU_EVENTQ_IRQ_CFG0:
			break;
		default:
			smmuv3_reg_write(sc, off, 4, val & 0xffffffffu);
			smmuv3_reg_write(sc, off + 4, 4, val >> 32);
			return;
		}
	}

	switch (off) {
	case SMMU_CR0:
		smmuv3_write_cr0(sc, v32);
		break;
	case SMMU_CR1:
		/* 6.3.10: only while everything is disabled. */
		if (smmuen || cmdqen || evtqen)
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "CR1 written while enabled: ignored");
		else
			sc->sc_cr1 = v32 & SMMU_CR1_VALID_MASK;
		break;
	case SMMU_CR2:
		if (smmuen)
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "CR2 written while SMMUEN=1: ignored");
		else
			sc->sc_cr2 = v32 & SMMU_CR2_VALID_MASK;
		break;
	case SMMU_GBPA:
		/* 6.3.14: fields take effect only with UPDATE = 1. */
		if (SMMU_FGET(v32, SMMU_GBPA_UPDATE))
			sc->sc_gbpa = v32 & 0x001f3f1fu; /* RES0 bits dropped */
		break;
	case SMMU_IRQ_CTRL:
		sc->sc_irq_ctrl = v32 &
		    (uint32_t)(SMMU_FMASK(SMMU_IRQ_CTRL_GERROR) |
			SMMU_FMASK(SMMU_IRQ_CTRL_EVENTQ));
		sc->sc_irq_ctrlack = sc->sc_irq_ctrl;
		break;
	case SMMU_GERRORN:
		smmuv3_write_gerrorn(sc, v32);
		break;
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_GERROR_IRQ_CFG0 + 4:
		smmuv3_write64(&sc->sc_gerror_irq_cfg0, off,
		    SMMU_GERROR_IRQ_CFG0, size, val, SMMU_IRQ_CFG0_ADDR_MASK);
		break;
	case SMMU_GERROR_IRQ_CFG1:
		sc->sc_gerror_irq_cfg1 = v32;
		break;
	case SMMU_GERROR_IRQ_CFG2:
		sc->sc_gerror_irq_cfg2 = v32 & 0x3fu;
		break;
	case SMMU_STRTAB_BASE:
	case SMMU_STRTAB_BASE + 4:
		if (smmuen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "STRTAB_BASE written while SMMUEN=1: ignored");
			break;
		}
		smmuv3_write64(&sc->sc_strtab_base, off, SMMU_STRTAB_BASE, size,
		    val,
		    SMMU_STRTAB_BASE_ADDR_MASK |
			SMMU_FMASK(SMMU_STRTAB_BASE_RA));
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (smmuen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "STRTAB_BASE_CFG written while SMMUEN=1: ignored");
			break;
		}
		sc->sc_strtab_base_cfg = v32 &
		    (uint32_t)(SMMU_FMASK(SMMU_STRTAB_BASE_CFG_LOG2SIZE) |
			SMMU_FMASK(SMMU_STRTAB_BASE_CFG_SPLIT) |
			SMMU_FMASK(SMMU_STRTAB_BASE_CFG_FMT));
		break;
	case SMMU_CMDQ_BASE:
	case SMMU_CMDQ_BASE + 4:
		if (cmdqen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "CMDQ_BASE written while CMDQEN=1: ignored");
			break;
		}
		smmuv3_write64(
		    &sc->sc_cmdq_base, off, SMMU_CMDQ_BASE, size, val, ~0ULL);
		sc->sc_cmdq_base =
		    smmuv3_q_base_mask(sc->sc_cmdq_base, sc->sc_cfg.cfg_cmdqs);
		break;
	case SMMU_CMDQ_PROD:
		sc->sc_cmdq_prod = v32 & smmuv3_q_ptr_mask(sc->sc_cmdq_base);
		smmuv3__cmdq_process(sc);
		break;
	case SMMU_CMDQ_CONS:
		/* Writable only while the queue is disabled (6.3.27). */
		if (cmdqen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "CMDQ_CONS written while CMDQEN=1: ignored");
			break;
		}
		sc->sc_cmdq_cons = v32 &
		    (smmuv3_q_ptr_mask(sc->sc_cmdq_base) |
			(uint32_t)SMMU_FMASK(SMMU_CMDQ_CONS_ERR));
		break;
	case SMMU_EVENTQ_BASE:
	case SMMU_EVENTQ_BASE + 4:
		if (evtqen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "EVENTQ_BASE written while EVENTQEN=1: ignored");
			break;
		}
		smmuv3_write64(&sc->sc_eventq_base, off, SMMU_EVENTQ_BASE, size,
		    val, ~0ULL);
		sc->sc_eventq_base = smmuv3_q_base_mask(
		    sc->sc_eventq_base, sc->sc_cfg.cfg_eventqs);
		break;
	case SMMU_EVENTQ_PROD:
	case SMMU_EVENTQ_PROD_P0:
		/* The SMMU owns PROD; software may set it only while off. */
		if (evtqen) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "EVENTQ_PROD written while EVENTQEN=1: ignored");
			break;
		}
		sc->sc_eventq_prod = v32 &
		    (smmuv3_q_ptr_mask(sc->sc_eventq_base) |
			(uint32_t)SMMU_FMASK(SMMU_EVENTQ_PROD_OVFLG));
		break;
	case SMMU_EVENTQ_CONS:
	case SMMU_EVENTQ_CONS_P0:
		sc->sc_eventq_cons = v32 &
		    (smmuv3_q_ptr_mask(sc->sc_eventq_base) |
			(uint32_t)SMMU_FMASK(SMMU_EVENTQ_CONS_OVACKFLG));
		break;
	case SMMU_EVENTQ_IRQ_CFG0:
	case SMMU_EVENTQ_IRQ_CFG0 + 4:
		smmuv3_write64(&sc->sc_eventq_irq_cfg0, off,
		    SMMU_EVENTQ_IRQ_CFG0, size, val, SMMU_IRQ_CFG0_ADDR_MASK);
		break;
	case SMMU_EVENTQ_IRQ_CFG1:
		sc->sc_eventq_irq_cfg1 = v32;
		break;
	case SMMU_EVENTQ_IRQ_CFG2:
		sc->sc_eventq_irq_cfg2 = v32 & 0x3fu;
		break;
	case SMMU_IDR0:
	case SMMU_IDR1:
	case SMMU_IDR2:
	case SMMU_IDR3:
	case SMMU_IDR4:
	case SMMU_IDR5:
	case SMMU_IIDR:
	case SMMU_AIDR:
	case SMMU_CR0ACK:
	case SMMU_STATUSR:
	case SMMU_IRQ_CTRLACK:
	case SMMU_GERROR:
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "write to read-only register 0x%03llx ignored",
		    (unsigned long long)off);
		break;
	default:
		sc->sc_stats.st_unimplemented++;
		smmuv3__log(sc, SMMUV3_LOG_UNIMP,
		    "write of unimplemented register 0x%05llx ignored",
		    (unsigned long long)off);
		break;
	}
}

/* 6.3.9: reserved bits ignored; the ACK follows once the change is done. */
static void
smmuv3_write_cr0(struct smmuv3 *sc, uint32_t v)
{
	uint32_t old = sc->sc_cr0;

	v &= SMMU_CR0_VALID_MASK;
	if (SMMU_FGET(v, SMMU_CR0_PRIQEN) || SMMU_FGET(v, SMMU_CR0_ATSCHK) ||
	    SMMU_FGET(v, SMMU_CR0_VMW)) {
		smmuv3__unimp(sc, "CR0: PRIQEN/ATSCHK/VMW not implemented");
		v &= ~(uint32_t)(SMMU_FMASK(SMMU_CR0_PRIQEN) |
		    SMMU_FMASK(SMMU_CR0_ATSCHK) | SMMU_FMASK(SMMU_CR0_VMW));
	}
	sc->sc_cr0 = v;
	sc->sc_cr0ack = v;
	if (SMMU_FGET(v, SMMU_CR0_CMDQEN) && !SMMU_FGET(old, SMMU_CR0_CMDQEN))
		smmuv3__cmdq_process(sc);
}

/* 7.5: an error is active while GERROR and GERRORN bits differ. */
static void
smmuv3_write_gerrorn(struct smmuv3 *sc, uint32_t v)
{
	uint32_t was_active = sc->sc_gerror ^ sc->sc_gerrorn;

	sc->sc_gerrorn = v & SMMU_GERROR_VALID_MASK;
	if ((sc->sc_gerror ^ sc->sc_gerrorn) & ~was_active)
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "GERRORN toggled an inactive error 0x%x",
		    (sc->sc_gerror ^ sc->sc_gerrorn) & ~was_active);
	if ((was_active & (uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR)) != 0 &&
	    ((sc->sc_gerror ^ sc->sc_gerrorn) &
		(uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR)) == 0)
		smmuv3__cmdq_process(sc);
}

/*
 * Raise global errors: each bit in bits that is not already active is
 * toggled in GERROR; an interrupt follows if any became active.
 */
void
smmuv3__gerror_raise(struct smmuv3 *sc, uint32_t bits)
{
	uint32_t active = sc->sc_gerror ^ sc->sc_gerrorn;
	uint32_t newbits = bits & ~active & SMMU_GERROR_VALID_MASK;

	if (newbits == 0)
		return;
	sc->sc_gerror ^= newbits;
	if (SMMU_FGET(sc->sc_irq_ctrl, SMMU_IRQ_CTRL_GERROR))
		smmuv3__signal(sc, SMMUV3_IRQ_GERROR, sc->sc_gerror_irq_cfg0,
		    sc->sc_gerror_irq_cfg1);
}

/* A 32-bit MSI write: the host's MSI hook, else a memory write. */
int
smmuv3__msi_write(struct smmuv3 *sc, uint64_t addr, uint32_t data)
{
	uint8_t buf[4];

	addr = smmuv3__pa_trunc(sc, addr);
	if (sc->sc_ops.ho_msi != NULL)
		return sc->sc_ops.ho_msi(sc->sc_cookie, addr, data);
	iommu__le_enc(buf, data, 4);
	return sc->sc_ops.ho_mem_write(sc->sc_cookie, addr, buf, 4);
}

/*
 * Deliver an interrupt: an MSI when MSIs are advertised and IRQ_CFG0.ADDR
 * is non-zero (7.4), else a pulse on the wired line.
 */
void
smmuv3__signal(
    struct smmuv3 *sc, enum smmuv3_irq_line line, uint64_t cfg0, uint32_t cfg1)
{
	uint64_t addr = cfg0 & SMMU_IRQ_CFG0_ADDR_MASK;

	if (SMMUV3__TRACING(sc))
		smmuv3__trace(sc, SMMUV3_TRACE_IRQ, 0, 0, 0, addr, line, 0, 0);
	if (sc->sc_cfg.cfg_msi && addr != 0) {
		if (smmuv3__msi_write(sc, addr, cfg1) != 0) {
			if (line == SMMUV3_IRQ_EVENTQ)
				smmuv3__gerror_raise(sc,
				    (uint32_t)SMMU_FMASK(
					SMMU_GERROR_MSI_EVENTQ_ABT));
			else if (line == SMMUV3_IRQ_GERROR) {
				/* No further interrupt for this one. */
				sc->sc_gerror ^=
				    (uint32_t)SMMU_FMASK(
					SMMU_GERROR_MSI_GERROR_ABT) &
				    ~(sc->sc_gerror ^ sc->sc_gerrorn);
			}
		}
		return;
	}
	if (sc->sc_ops.ho_irq != NULL)
		sc->sc_ops.ho_irq(sc->sc_cookie, line);
}

void
smmuv3_get_stats(struct smmuv3 *sc, struct smmuv3_stats *st)
{
	struct smmuv3__hold hd;
	unsigned	    i;

	if (sc == NULL || st == NULL)
		return;
	if (smmuv3__enter_excl(sc, &hd) != 0) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = sc->sc_stats;
	for (i = 0; i < SMMUV3__NSHARDS; i++) {
		const struct smmuv3__dstats *ds = &sc->sc_shard[i].sh_st;

		st->st_translations += ds->ds_translations;
		st->st_tlb_hits += ds->ds_tlb_hits;
		st->st_tlb_misses += ds->ds_tlb_misses;
		st->st_tlb_evictions += ds->ds_tlb_evictions;
		st->st_walks += ds->ds_walks;
		st->st_walk_reads += ds->ds_walk_reads;
		st->st_cfg_hits += ds->ds_cfg_hits + ds->ds_fast_hits;
		st->st_translations += ds->ds_fast_hits;
		st->st_tlb_hits += ds->ds_fast_hits;
	}
	smmuv3__leave(&hd);
}

void
smmuv3_get_config(struct smmuv3 *sc, struct smmuv3_config *cfg)
{
	if (sc == NULL || cfg == NULL)
		return;
	*cfg = sc->sc_cfg; /* immutable after create: no lock needed */
}

size_t
smmuv3_cfgcache_count(struct smmuv3 *sc)
{
	struct smmuv3__hold hd;
	size_t		    n;

	if (sc == NULL || smmuv3__enter_excl(sc, &hd) != 0)
		return 0;
	n = smmuv3__cfgc_count(sc);
	smmuv3__leave(&hd);
	return n;
}
