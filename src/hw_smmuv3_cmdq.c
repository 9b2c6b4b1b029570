/*
 * libiommu - SMMUv3 model: the command queue and its commands (IHI 0070
 * 4 commands, 7.1 command errors, 7.2 queue pointers).
 *
 * Design: commands are consumed synchronously when CMDQ_PROD is written
 * (and when CMDQEN or a GERRORN acknowledgement of CMDQ_ERR restarts the
 * queue), in order, at most one queue's worth per call, each 16-byte
 * command read through ho_mem_read at CMDQ_BASE + index * 16 (the base
 * aligned to the queue size; up to CMDQ_BATCH pending commands that lie
 * contiguously before the end of the queue are fetched in one read, and
 * only when that read fails is the first one fetched alone, so a failing
 * fetch still stops the queue on the exact command).  An unknown opcode, an
 * illegal field or a command for an unadvertised feature stops the queue with
 * CMDQ_CONS.ERR = CERROR_ILL and GERROR.CMDQ_ERR toggled, CONS left on the bad
 * command; a failed fetch stops it with CERROR_ABT.  Processing resumes after
 * software acknowledges through GERRORN.  CMD_SYNC completes once the
 * device accesses in flight when it started have finished: the previous
 * commands have already taken effect.
 *
 * Concurrency: a CMDQ_PROD write processes the queue on the command side
 * (hw_smmuv3_model.c, smmuv3__enter_cmd), alongside device accesses: TLBI
 * commands change the TLB under its set locks and generations
 * (hw_smmuv3_tlb.c), CMD_SYNC waits for the accesses in flight
 * (smmuv3__cmd_grace).  A CFGI, or a TLBI by ASID whose generation
 * wraps, first takes the whole exclusive side (smmuv3__cmd_upgrade).
 * Queue processing started by other register writes (CMDQEN, GERRORN)
 * runs on the exclusive side, where both calls do nothing.
 *
 * Range invalidation (TG != 0, needs IDR3.RIL): the range is
 * (NUM + 1) << SCALE granules from Addr; it is applied exactly (every
 * entry overlapping it is dropped), which is what splitting it into
 * naturally aligned power-of-two chunks describes.  TTL, when non-zero,
 * restricts the invalidation to leaves of that level.  LEAF changes
 * nothing because the TLB holds no walk-cache entries.
 *
 * Not implemented (CERROR_ILL, logged SMMUV3_LOG_UNIMP): stage-2 and EL3
 * TLBIs, ATC_INV (no ATS), PRI_RESP (no PRI), RESUME / STALL_TERM (no
 * stall), secure commands (SSEC = 1).  PREFETCH_* are accepted and do
 * nothing (prefetching is optional).  CMD_SYNC with CS = SEV has nothing
 * to wake.
 */
#include <string.h>

#include "hw_smmuv3_internal.h"

/*
 * Commands fetched per host memory read.  Software may not change the
 * commands between CONS and PROD, so reading ahead is invisible to it.
 */
#define CMDQ_BATCH 8

static unsigned smmuv3_cmd_exec(struct smmuv3 *, uint64_t dw0, uint64_t dw1);
static unsigned smmuv3_cmd_tlbi(
    struct smmuv3 *, uint8_t op, uint64_t dw0, uint64_t dw1);
static unsigned smmuv3_cmd_sync(struct smmuv3 *, uint64_t dw0, uint64_t dw1);
static void	smmuv3_notify_cfgi(
	struct smmuv3 *, uint8_t op, uint64_t first, uint64_t last, uint32_t ssid);
static unsigned smmuv3_cmd_va_range(
    struct smmuv3 *, uint64_t dw0, uint64_t dw1, struct smmuv3__tlbi *);

void
smmuv3__cmdq_process(struct smmuv3 *sc)
{
	uint64_t       base = sc->sc_cmdq_base, qaddr, addr;
	unsigned       l2 = (unsigned)SMMU_FGET(base, SMMU_Q_BASE_LOG2SIZE);
	uint32_t       size = 1u << l2, n, idx, wrap, prod, cons, err, ahead;
	uint8_t	       buf[CMDQ_BATCH * SMMU_CMD_SIZE];
	const uint8_t *cmd;
	unsigned       nbuf = 0, next = 0;

	if (!SMMU_FGET(sc->sc_cr0, SMMU_CR0_CMDQEN))
		return;
	sc->sc_tlb_bumped = false; /* a new batch (hw_smmuv3_tlb.c) */
	qaddr = base & SMMU_Q_BASE_ADDR_MASK &
	    ~((uint64_t)size * SMMU_CMD_SIZE - 1);
	for (n = 0; n < size; n++) {
		if (((sc->sc_gerror ^ sc->sc_gerrorn) &
			(uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR)) != 0)
			return;
		prod = sc->sc_cmdq_prod & ((2u << l2) - 1);
		cons = sc->sc_cmdq_cons & ((2u << l2) - 1);
		if (prod == cons)
			return;
		idx = SMMU_Q_IDX(cons, l2);
		addr =
		    smmuv3__pa_trunc(sc, qaddr + (uint64_t)idx * SMMU_CMD_SIZE);
		if (next == nbuf) {
			/* Pending commands up to the end of the queue. */
			ahead = (prod - cons) & ((2u << l2) - 1);
			if (ahead > size - idx)
				ahead = size - idx;
			if (ahead > CMDQ_BATCH)
				ahead = CMDQ_BATCH;
			next = 0;
			nbuf = 0;
			if (ahead > 1 &&
			    sc->sc_ops.ho_mem_read(sc->sc_cookie, addr, buf,
				ahead * SMMU_CMD_SIZE) == 0)
				nbuf = ahead;
			else if (sc->sc_ops.ho_mem_read(sc->sc_cookie, addr,
				     buf, SMMU_CMD_SIZE) == 0)
				nbuf = 1;
		}
		if (next == nbuf) {
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "command fetch at 0x%llx failed",
			    (unsigned long long)addr);
			err = SMMU_CERROR_ABT;
		} else {
			cmd = buf + (size_t)next++ * SMMU_CMD_SIZE;
			if (SMMUV3__TRACING(sc))
				smmuv3__trace(sc, SMMUV3_TRACE_COMMAND, 0, 0, 0,
				    addr, cmd[0], 0, 0);
			err = smmuv3_cmd_exec(
			    sc, iommu__le64_dec(cmd), iommu__le64_dec(cmd + 8));
		}
		if (err != SMMU_CERROR_NONE) {
			sc->sc_cmdq_cons =
			    (uint32_t)SMMU_FSET(cons, SMMU_CMDQ_CONS_ERR, err);
			smmuv3__gerror_raise(
			    sc, (uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
			return;
		}
		wrap = SMMU_Q_WRP(cons, l2);
		if (++idx == size) {
			idx = 0;
			wrap ^= size;
		}
		sc->sc_cmdq_cons = wrap | idx;
	}
}

/* Tells the host which configurations were just invalidated. */
static void
smmuv3_notify_cfgi(
    struct smmuv3 *sc, uint8_t op, uint64_t first, uint64_t last, uint32_t ssid)
{
	struct smmuv3_inval iv;

	if (sc->sc_ops.ho_invalidate == NULL)
		return;
	memset(&iv, 0, sizeof(iv));
	iv.iv_opcode = op;
	iv.iv_config = true;
	iv.iv_sid_first = (uint32_t)first;
	iv.iv_sid_last = last > UINT32_MAX ? UINT32_MAX : (uint32_t)last;
	iv.iv_ssid = ssid;
	iv.iv_all_asids = true;
	iv.iv_iova_last = UINT64_MAX;
	sc->sc_ops.ho_invalidate(sc->sc_cookie, &iv);
}

/* Executes one command; returns a CERROR_* code. */
static unsigned
smmuv3_cmd_exec(struct smmuv3 *sc, uint64_t dw0, uint64_t dw1)
{
	uint8_t	 op = (uint8_t)SMMU_FGET(dw0, SMMU_CMD0_OP);
	uint32_t sid = (uint32_t)SMMU_FGET(dw0, SMMU_CMD0_SID);
	uint64_t first, span;
	unsigned range;

	sc->sc_stats.st_commands++;
	sc->sc_stats.st_commands_by_op[op]++;
	switch (op) {
	case SMMU_OP_PREFETCH_CONFIG:
	case SMMU_OP_PREFETCH_ADDR:
	case SMMU_OP_CFGI_STE:
	case SMMU_OP_CFGI_STE_RANGE:
	case SMMU_OP_CFGI_CD:
	case SMMU_OP_CFGI_CD_ALL:
		if (SMMU_FGET(dw0, SMMU_CMD0_SSEC)) {
			smmuv3__unimp(sc, "secure command (SSEC = 1)");
			return SMMU_CERROR_ILL;
		}
		if (op == SMMU_OP_PREFETCH_CONFIG ||
		    op == SMMU_OP_PREFETCH_ADDR)
			return SMMU_CERROR_NONE;
		/* The config cache changes only on the exclusive side. */
		smmuv3__cmd_upgrade(sc);
		break;
	default:
		break;
	}
	switch (op) {
	case SMMU_OP_CFGI_STE:
		smmuv3__cfgc_inv_sid_range(sc, sid, sid, false);
		smmuv3_notify_cfgi(sc, op, sid, sid, SMMUV3_NO_SSID);
		return SMMU_CERROR_NONE;
	case SMMU_OP_CFGI_STE_RANGE:
		/* 4.3.3: 2^(Range + 1) StreamIDs, aligned; 31 = all. */
		range = (unsigned)SMMU_FGET(dw1, SMMU_CMD1_RANGE);
		span = 1ULL << (range + 1);
		first = (uint64_t)sid & ~(span - 1);
		smmuv3__cfgc_inv_sid_range(sc, first, first + span - 1, false);
		smmuv3_notify_cfgi(
		    sc, op, first, first + span - 1, SMMUV3_NO_SSID);
		return SMMU_CERROR_NONE;
	case SMMU_OP_CFGI_CD:
		smmuv3__cfgc_inv_cd(
		    sc, sid, (uint32_t)SMMU_FGET(dw0, SMMU_CMD0_SSID));
		smmuv3_notify_cfgi(
		    sc, op, sid, sid, (uint32_t)SMMU_FGET(dw0, SMMU_CMD0_SSID));
		return SMMU_CERROR_NONE;
	case SMMU_OP_CFGI_CD_ALL:
		smmuv3__cfgc_inv_sid_range(sc, sid, sid, true);
		smmuv3_notify_cfgi(sc, op, sid, sid, SMMUV3_NO_SSID);
		return SMMU_CERROR_NONE;
	case SMMU_OP_TLBI_NH_ALL:
	case SMMU_OP_TLBI_NH_ASID:
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_NH_VAA:
	case SMMU_OP_TLBI_EL2_ALL:
	case SMMU_OP_TLBI_EL2_ASID:
	case SMMU_OP_TLBI_EL2_VA:
	case SMMU_OP_TLBI_EL2_VAA:
	case SMMU_OP_TLBI_NSNH_ALL:
		return smmuv3_cmd_tlbi(sc, op, dw0, dw1);
	case SMMU_OP_CMD_SYNC:
		return smmuv3_cmd_sync(sc, dw0, dw1);
	case SMMU_OP_TLBI_EL3_ALL:
	case SMMU_OP_TLBI_EL3_VA:
	case SMMU_OP_TLBI_S12_VMALL:
	case SMMU_OP_TLBI_S2_IPA:
	case SMMU_OP_ATC_INV:
	case SMMU_OP_PRI_RESP:
	case SMMU_OP_RESUME:
	case SMMU_OP_STALL_TERM:
		smmuv3__unimp(sc, "command for an unadvertised feature");
		return SMMU_CERROR_ILL;
	default:
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "unknown command opcode 0x%02x", op);
		return SMMU_CERROR_ILL;
	}
}

/*
 * 4.4.1: Addr, and with TG != 0 the range (NUM + 1) << SCALE granules and
 * the TTL level hint.  Returns a CERROR_* code.
 */
static unsigned
smmuv3_cmd_va_range(
    struct smmuv3 *sc, uint64_t dw0, uint64_t dw1, struct smmuv3__tlbi *ti)
{
	static const unsigned tg_shift[4] = {0, 12, 14, 16};
	unsigned	      tg = (unsigned)SMMU_FGET(dw1, SMMU_CMD1_TG);
	unsigned	      num = (unsigned)SMMU_FGET(dw0, SMMU_CMD0_NUM);
	unsigned	      scale = (unsigned)SMMU_FGET(dw0, SMMU_CMD0_SCALE);
	uint64_t	      addr = dw1 & SMMU_CMD1_ADDR_MASK, len;
	unsigned	      shift;

	ti->ti_match_va = true;
	ti->ti_level = 0;
	if (tg != 0 && !sc->sc_cfg.cfg_range_inv) {
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "range TLBI without IDR3.RIL: range ignored");
		tg = 0;
	}
	if (tg == 0) {
		ti->ti_va_first = ti->ti_va_last = addr;
		return SMMU_CERROR_NONE;
	}
	/* 4.4.1.1: TG 16K with TTL 1 needs IDR5.DS (not implemented). */
	if (tg == 2 && SMMU_FGET(dw1, SMMU_CMD1_TTL) == 1)
		return SMMU_CERROR_ILL;
	shift = tg_shift[tg] + scale;
	addr &= ~((1ULL << tg_shift[tg]) - 1);
	/* (num + 1) <= 32 and shift <= 47: no 64-bit overflow. */
	len = (uint64_t)(num + 1) << shift;
	ti->ti_va_first = addr;
	ti->ti_va_last = addr + (len - 1) < addr ? UINT64_MAX : addr + len - 1;
	ti->ti_level = (unsigned)SMMU_FGET(dw1, SMMU_CMD1_TTL);
	return SMMU_CERROR_NONE;
}

static unsigned
smmuv3_cmd_tlbi(struct smmuv3 *sc, uint8_t op, uint64_t dw0, uint64_t dw1)
{
	struct smmuv3__tlbi ti;
	uint16_t	    asid = (uint16_t)SMMU_FGET(dw0, SMMU_CMD0_ASID);
	bool el2 = op >= SMMU_OP_TLBI_EL2_ALL && op <= SMMU_OP_TLBI_EL2_VAA;
	bool e2h = SMMU_FGET(sc->sc_cr2, SMMU_CR2_E2H) != 0;

	if (el2 && !sc->sc_cfg.cfg_hyp) {
		smmuv3__unimp(sc, "TLBI_EL2_* without IDR0.HYP");
		return SMMU_CERROR_ILL;
	}
	if (!sc->sc_cfg.cfg_asid16)
		asid &= 0xff;
	memset(&ti, 0, sizeof(ti));
	ti.ti_match_regime = true;
	ti.ti_regime = el2 ? SMMU_STE_STRW_EL2 : SMMU_STE_STRW_NSEL1;
	ti.ti_asid = asid;
	switch (op) {
	case SMMU_OP_TLBI_NH_ALL:
	case SMMU_OP_TLBI_EL2_ALL:
	case SMMU_OP_TLBI_NSNH_ALL:
		break;
	case SMMU_OP_TLBI_NH_ASID:
	case SMMU_OP_TLBI_EL2_ASID:
		ti.ti_match_asid = true;
		break;
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_EL2_VA:
		/* Without E2H the EL2 regime has no ASIDs (all global). */
		ti.ti_match_asid = op == SMMU_OP_TLBI_NH_VA || e2h;
		ti.ti_global_too = true;
		if (smmuv3_cmd_va_range(sc, dw0, dw1, &ti) != SMMU_CERROR_NONE)
			return SMMU_CERROR_ILL;
		break;
	default: /* NH_VAA, EL2_VAA */
		if (smmuv3_cmd_va_range(sc, dw0, dw1, &ti) != SMMU_CERROR_NONE)
			return SMMU_CERROR_ILL;
		break;
	}
	if (smmuv3__tlb_needs_excl(sc, &ti))
		smmuv3__cmd_upgrade(sc);
	smmuv3__tlb_invalidate(sc, &ti);
	if (sc->sc_ops.ho_invalidate != NULL) {
		struct smmuv3_inval iv;

		memset(&iv, 0, sizeof(iv));
		iv.iv_opcode = op;
		iv.iv_ssid = SMMUV3_NO_SSID;
		iv.iv_regime = ti.ti_regime;
		iv.iv_all_asids = !ti.ti_match_asid;
		iv.iv_asid = ti.ti_asid;
		iv.iv_iova_first = ti.ti_match_va ? ti.ti_va_first : 0;
		iv.iv_iova_last = ti.ti_match_va ? ti.ti_va_last : UINT64_MAX;
		sc->sc_ops.ho_invalidate(sc->sc_cookie, &iv);
	}
	return SMMU_CERROR_NONE;
}

/* 4.7.3: completion signal; the preceding commands are complete. */
static unsigned
smmuv3_cmd_sync(struct smmuv3 *sc, uint64_t dw0, uint64_t dw1)
{
	unsigned cs = (unsigned)SMMU_FGET(dw0, SMMU_CMD0_SYNC_CS);
	uint64_t msiaddr = dw1 & SMMU_CMD1_SYNC_MSIADDR_MASK;
	uint32_t msidata = (uint32_t)SMMU_FGET(dw0, SMMU_CMD0_SYNC_MSIDATA);

	smmuv3__cmd_grace(sc);
	switch (cs) {
	case SMMU_SYNC_CS_NONE:
		return SMMU_CERROR_NONE;
	case SMMU_SYNC_CS_IRQ:
		if (sc->sc_cfg.cfg_msi && msiaddr != 0) {
			if (smmuv3__msi_write(sc, msiaddr, msidata) != 0)
				smmuv3__gerror_raise(sc,
				    (uint32_t)SMMU_FMASK(
					SMMU_GERROR_MSI_CMDQ_ABT));
		} else if (sc->sc_ops.ho_irq != NULL)
			sc->sc_ops.ho_irq(sc->sc_cookie, SMMUV3_IRQ_CMD_SYNC);
		return SMMU_CERROR_NONE;
	case SMMU_SYNC_CS_SEV:
		if (!sc->sc_cfg.cfg_sev)
			return SMMU_CERROR_ILL;
		return SMMU_CERROR_NONE;
	default:
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR, "CMD_SYNC with CS = 3");
		return SMMU_CERROR_ILL;
	}
}
