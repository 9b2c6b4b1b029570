/*
 * libiommu - SMMU driver: command submission (IHI 0070 4 commands, 7.1
 * command errors, 7.2 queue pointers).
 *
 * Design: the queue is a run of frames in simulated RAM written in place
 * through the direct map (16-byte little-endian entries).  Everything
 * happens under sc_cmd_mtx.  Commands are written at the driver's own
 * producer index; CMDQ_PROD is written only when a batch must reach the
 * SMMU: at a CMD_SYNC, or when the queue is full, in which case the
 * driver publishes what it has and polls CMDQ_CONS (bounded) until there
 * is room, so no command is ever dropped.  A CMD_SYNC completes through
 * its MSI write of a sequence number to a word in simulated RAM when the
 * SMMU has MSIs (CS = SIG_IRQ with MSIAddress/MSIData, as Linux does),
 * otherwise (CS = none) when CMDQ_CONS has caught up with the producer;
 * CONS passing the CMD_SYNC also counts when MSIs are used, so a sync
 * whose MSI write aborts (GERROR.MSI_CMDQ_ABT_ERR) still completes.
 * Every poll is bounded (SMMU_DRV_POLL_LIMIT register reads, yielding the
 * CPU after the first few): a dead SMMU gives ETIMEDOUT, never a hang.
 *
 * Command errors: when CMDQ_CONS.ERR is set the SMMU has stopped on the
 * command at CONS.  The driver overwrites it with a CMD_SYNC that signals
 * nothing (the command is skipped, as Linux does), acknowledges
 * GERROR.CMDQ_ERR through GERRORN so the queue restarts, and the next
 * iommu__cmdq_sync() returns EIO.
 */
#include <errno.h>
#include <string.h>

#include "smmu_internal.h"

static uint32_t
cmdq_used(const struct iommu_smmu *sc, uint32_t prod, uint32_t cons)
{
	return (prod - cons) & ((2u << sc->sc_cmdq_log2) - 1);
}

static uint32_t
cmdq_inc(const struct iommu_smmu *sc, uint32_t p)
{
	return (p + 1) & ((2u << sc->sc_cmdq_log2) - 1);
}

static void
cmdq_write_entry(struct iommu_smmu *sc, uint32_t p, uint64_t dw0, uint64_t dw1)
{
	uint8_t *e = sc->sc_cmdq_kva +
	    (size_t)SMMU_Q_IDX(p, sc->sc_cmdq_log2) * SMMU_CMD_SIZE;

	uint64_t le[2] = {dw0, dw1};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	le[0] = __builtin_bswap64(le[0]);
	le[1] = __builtin_bswap64(le[1]);
#elif !defined(__BYTE_ORDER__)
	iommu__le64_enc(&le[0], dw0);
	iommu__le64_enc(&le[1], dw1);
#endif
	memcpy(e, le, sizeof(le)); /* the hot path: one 16-byte store */
}

/* Writes CMDQ_PROD if it changed (always with force: a retry). */
static int
cmdq_publish(struct iommu_smmu *sc, bool force)
{
	int error;

	if (sc->sc_cmdq_hwprod == sc->sc_cmdq_prod && !force)
		return 0;
	error = iommu__smmu_write32(sc, SMMU_CMDQ_PROD, sc->sc_cmdq_prod);
	if (error == 0)
		sc->sc_cmdq_hwprod = sc->sc_cmdq_prod;
	return error;
}

/* Reads CMDQ_CONS, recovering from a command error first. */
static int
cmdq_read_cons(struct iommu_smmu *sc)
{
	uint32_t v;
	int	 error;

	if ((error = iommu__smmu_read32(sc, SMMU_CMDQ_CONS, &v)) != 0)
		return error;
	if (SMMU_FGET(v, SMMU_CMDQ_CONS_ERR) != SMMU_CERROR_NONE) {
		iommu__cmdq_recover(sc);
		if ((error = iommu__smmu_read32(sc, SMMU_CMDQ_CONS, &v)) != 0)
			return error;
	}
	sc->sc_cmdq_cons = v & ((2u << sc->sc_cmdq_log2) - 1);
	return 0;
}

void
iommu__cmdq_recover(struct iommu_smmu *sc)
{
	uint32_t cons, gerror, gerrorn, bit;

	bit = (uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR);
	if (iommu__smmu_read32(sc, SMMU_CMDQ_CONS, &cons) != 0 ||
	    iommu__smmu_read32(sc, SMMU_GERROR, &gerror) != 0 ||
	    iommu__smmu_read32(sc, SMMU_GERRORN, &gerrorn) != 0)
		return;
	if (((gerror ^ gerrorn) & bit) == 0)
		return;
	if (SMMU_FGET(cons, SMMU_CMDQ_CONS_ERR) != SMMU_CERROR_NONE) {
		/* Skip the offending command: a CMD_SYNC signalling nothing. */
		cmdq_write_entry(
		    sc, cons, SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_CMD_SYNC), 0);
		sc->sc_cmd_error = true;
		iommu__count_locked(&sc->sc_stats.cmd_errors, 1);
	}
	(void)iommu__smmu_write32(sc, SMMU_GERRORN, gerrorn ^ bit);
}

/* Publishes and waits until the queue has room for one more command. */
static int
cmdq_wait_room(struct iommu_smmu *sc)
{
	uint32_t size = 1u << sc->sc_cmdq_log2;
	unsigned i;
	int	 error;

	iommu__count_locked(&sc->sc_stats.full_waits, 1);
	/* Forced: an earlier write may not have reached a stalled SMMU. */
	if ((error = cmdq_publish(sc, true)) != 0)
		return error;
	for (i = 0; i < SMMU_DRV_POLL_LIMIT; i++) {
		if ((error = cmdq_read_cons(sc)) != 0)
			return error;
		if (cmdq_used(sc, sc->sc_cmdq_prod, sc->sc_cmdq_cons) < size)
			return 0;
		iommu__smmu_pause(i);
	}
	return ETIMEDOUT;
}

int
iommu__cmdq_put(struct iommu_smmu *sc, uint64_t dw0, uint64_t dw1)
{
	int error;

	if (cmdq_used(sc, sc->sc_cmdq_prod, sc->sc_cmdq_cons) >=
	    (1u << sc->sc_cmdq_log2)) {
		if ((error = cmdq_wait_room(sc)) != 0)
			return error;
	}
	cmdq_write_entry(sc, sc->sc_cmdq_prod, dw0, dw1);
	sc->sc_cmdq_prod = cmdq_inc(sc, sc->sc_cmdq_prod);
	iommu__count_locked(&sc->sc_stats.commands, 1);
	return 0;
}

static bool
cmdq_sync_done(struct iommu_smmu *sc, uint32_t seq)
{
	uint32_t v = __atomic_load_n(sc->sc_sync_kva, __ATOMIC_ACQUIRE);

	/* The word is little-endian in RAM; compare modulo 2^32. */
	v = (uint32_t)iommu__le_dec(&v, 4);
	return (int32_t)(v - seq) >= 0;
}

int
iommu__cmdq_sync(struct iommu_smmu *sc)
{
	uint64_t dw0, dw1 = 0;
	uint32_t seq = 0, target;
	unsigned i;
	int	 error;

	dw0 = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_CMD_SYNC);
	if (sc->sc_msi) {
		seq = ++sc->sc_sync_seq;
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_CS, SMMU_SYNC_CS_IRQ);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_MSH, 3);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_MSIATTR, 0xf);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_MSIDATA, seq);
		dw1 = sc->sc_sync_pa & SMMU_CMD1_SYNC_MSIADDR_MASK;
	}
	if ((error = iommu__cmdq_put(sc, dw0, dw1)) != 0)
		return error;
	target = sc->sc_cmdq_prod;
	if ((error = cmdq_publish(sc, false)) != 0)
		return error;
	for (i = 0; i < SMMU_DRV_POLL_LIMIT; i++) {
		if (sc->sc_msi && cmdq_sync_done(sc, seq))
			break;
		if ((error = cmdq_read_cons(sc)) != 0)
			return error;
		/* Consumed means complete (4.7.3): also when the MSI aborted.
		 */
		if (cmdq_used(sc, target, sc->sc_cmdq_cons) == 0)
			break;
		iommu__smmu_pause(i);
	}
	if (i == SMMU_DRV_POLL_LIMIT)
		return ETIMEDOUT;
	iommu__count_locked(&sc->sc_stats.syncs, 1);
	if (sc->sc_cmd_error) {
		sc->sc_cmd_error = false;
		return EIO;
	}
	return 0;
}

int
iommu__cmdq_init(struct iommu_smmu *sc)
{
	void *kva;
	int   error;

	sc->sc_cmdq_pages =
	    ((size_t)SMMU_CMD_SIZE << sc->sc_cmdq_log2) / IOMMU_PAGE_SIZE;
	if (sc->sc_cmdq_pages == 0)
		sc->sc_cmdq_pages = 1;
	error = iommu__smmu_alloc_aligned(
	    sc, sc->sc_cmdq_pages, &sc->sc_cmdq_pa, &kva);
	if (error != 0) {
		sc->sc_cmdq_pages = 0;
		return error;
	}
	sc->sc_cmdq_kva = kva;
	error = iommu_physmem_alloc_pages(sc->sc_pm, 1, &sc->sc_sync_pa);
	if (error != 0)
		return error;
	sc->sc_sync_kva = iommu_physmem_kva(sc->sc_pm, sc->sc_sync_pa);
	sc->sc_sync_seq = 0;
	sc->sc_cmdq_prod = sc->sc_cmdq_hwprod = sc->sc_cmdq_cons = 0;
	return 0;
}

void
iommu__cmdq_fini(struct iommu_smmu *sc)
{
	if (sc->sc_cmdq_pages != 0)
		(void)iommu_physmem_free_pages(
		    sc->sc_pm, sc->sc_cmdq_pa, sc->sc_cmdq_pages);
	if (sc->sc_sync_kva != NULL)
		(void)iommu_physmem_free_pages(sc->sc_pm, sc->sc_sync_pa, 1);
	sc->sc_cmdq_pages = 0;
	sc->sc_sync_kva = NULL;
}

void
iommu__cmd_cfgi_ste(uint32_t sid, uint64_t cmd[2])
{
	cmd[0] = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_CFGI_STE);
	cmd[0] = SMMU_FSET(cmd[0], SMMU_CMD0_SID, sid);
	cmd[1] = SMMU_FSET(0, SMMU_CMD1_LEAF, 1);
}

void
iommu__cmd_cfgi_cd(uint32_t sid, uint64_t cmd[2])
{
	cmd[0] = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_CFGI_CD);
	cmd[0] = SMMU_FSET(cmd[0], SMMU_CMD0_SID, sid);
	cmd[1] = SMMU_FSET(0, SMMU_CMD1_LEAF, 1);
}

void
iommu__cmd_tlbi_asid(uint16_t asid, uint64_t cmd[2])
{
	cmd[0] = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NH_ASID);
	cmd[0] = SMMU_FSET(cmd[0], SMMU_CMD0_ASID, asid);
	cmd[1] = 0;
}

void
iommu__cmd_tlbi_va(uint16_t asid, uint64_t iova, uint64_t cmd[2])
{
	cmd[0] = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NH_VA);
	cmd[0] = SMMU_FSET(cmd[0], SMMU_CMD0_ASID, asid);
	cmd[1] = (iova & SMMU_CMD1_ADDR_MASK) | SMMU_FSET(0, SMMU_CMD1_LEAF, 1);
}

/*
 * 4.4.1 range invalidation: each command covers (NUM + 1) << SCALE pages
 * from Addr; the page count is split by its set bits, lowest first, so
 * the commands cover [lo, hi] exactly (Linux does the same).
 */
int
iommu__cmdq_tlbi_range(
    struct iommu_smmu *sc, uint16_t asid, uint64_t lo, uint64_t hi, unsigned *n)
{
	uint64_t pages = ((hi - lo) >> IOMMU_PAGE_SHIFT) + 1, addr = lo, num;
	uint64_t dw0, dw1;
	unsigned scale;
	int	 error;

	while (pages != 0) {
		scale = (unsigned)__builtin_ctzll(pages);
		num = (pages >> scale) & 31;
		dw0 = SMMU_FSET(0, SMMU_CMD0_OP, SMMU_OP_TLBI_NH_VA);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_ASID, asid);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_NUM, num - 1);
		dw0 = SMMU_FSET(dw0, SMMU_CMD0_SCALE, scale);
		dw1 = (addr & SMMU_CMD1_ADDR_MASK) |
		    SMMU_FSET(0, SMMU_CMD1_LEAF, 1) |
		    SMMU_FSET(0, SMMU_CMD1_TG, 1);
		if ((error = iommu__cmdq_put(sc, dw0, dw1)) != 0)
			return error;
		(*n)++;
		pages -= num << scale;
		addr += (num << scale) << IOMMU_PAGE_SHIFT;
	}
	return 0;
}

int
iommu__smmu_submit_raw(
    struct iommu_smmu *sc, uint64_t dw0, uint64_t dw1, bool sync)
{
	int error;

	iommu__spin_lock(&sc->sc_cmd_mtx);
	error = iommu__cmdq_put(sc, dw0, dw1);
	if (error == 0)
		error = sync ? iommu__cmdq_sync(sc) : cmdq_publish(sc, false);
	iommu__spin_unlock(&sc->sc_cmd_mtx);
	return error;
}
