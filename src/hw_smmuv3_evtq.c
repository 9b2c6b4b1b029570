/*
 * libiommu - SMMUv3 model: event records and the event queue (IHI 0070
 * 7.2 queue pointers, 7.3 event records, 7.4 interrupts).
 *
 * Design: a record is encoded into 32 little-endian bytes with the
 * architectural field placement (DW0 event ID, SSV/SSID, SID; DW1 RnW,
 * InD, PnU, CLASS; DW2 input address; DW3 fetch address [51:3]; each
 * event type only the fields its 7.3.x record defines) and
 * written through ho_mem_write at EVENTQ_BASE + index * 32.  The queue is
 * full when the PROD and CONS indices are equal and their wrap bits
 * differ; a record that finds the queue full is dropped and the overflow
 * flag EVENTQ_PROD.OVFLG is toggled, once per overflow episode (while it
 * equals EVENTQ_CONS.OVACKFLG): an overflow is not an abort.  A failing
 * record write raises GERROR.EVENTQ_ABT_ERR, and no records are written
 * while that error is active.  An interrupt follows every record written
 * while IRQ_CTRL.EVENTQ_IRQEN is set.
 *
 * Recording runs under the side lock (hw_smmuv3_internal.h), as device
 * threads on the shared side may fault at the same time; MMIO reads of
 * the queue pointers take it too, MMIO writes are on the exclusive side.
 *
 * Not implemented: stall (no STAG/Stall fields are ever set), the PRI
 * queue, stage-2 fields (S2, NSIPA, IPA).
 */
#include <string.h>

#include "hw_smmuv3_internal.h"

static bool smmuv3_evtq_put(struct smmuv3 *, const struct smmuv3__event *);

/*
 * 7.3: the architectural record layout.  Configuration events carry only
 * the fields their record defines (the rest is RES0): C_BAD_STREAMID and
 * C_BAD_STE / C_BAD_CD have StreamID and SSV/SubstreamID; the *_FETCH
 * events add FetchAddr in DW3; F_STREAM_DISABLED has only the StreamID;
 * C_BAD_SUBSTREAMID has the SubstreamID without an SSV bit (7.3.9).
 * Translation faults and F_WALK_EABT carry everything.
 */
void
smmuv3__evtq_encode(const struct smmuv3__event *ev, uint8_t rec[32])
{
	uint64_t dw0 = 0, dw1 = 0, dw2 = 0, dw3 = 0;
	bool	 ssv = ev->ev_ssid != SMMUV3_NO_SSID;

	dw0 = SMMU_FSET(dw0, SMMU_EVT0_ID, ev->ev_id);
	dw0 = SMMU_FSET(dw0, SMMU_EVT0_SID, ev->ev_sid);
	switch (ev->ev_id) {
	case SMMU_EVT_F_STREAM_DISABLED:
		break;
	case SMMU_EVT_C_BAD_SUBSTREAMID:
		dw0 = SMMU_FSET(dw0, SMMU_EVT0_SSID, ssv ? ev->ev_ssid : 0);
		break;
	case SMMU_EVT_C_BAD_STREAMID:
	case SMMU_EVT_C_BAD_STE:
	case SMMU_EVT_C_BAD_CD:
	case SMMU_EVT_F_STE_FETCH:
	case SMMU_EVT_F_CD_FETCH:
		if (ssv) {
			dw0 = SMMU_FSET(dw0, SMMU_EVT0_SSV, 1);
			dw0 = SMMU_FSET(dw0, SMMU_EVT0_SSID, ev->ev_ssid);
		}
		if (ev->ev_id == SMMU_EVT_F_STE_FETCH ||
		    ev->ev_id == SMMU_EVT_F_CD_FETCH)
			dw3 = ev->ev_fetch_addr & SMMU_EVT3_FETCH_MASK;
		break;
	default:
		if (ssv) {
			dw0 = SMMU_FSET(dw0, SMMU_EVT0_SSV, 1);
			dw0 = SMMU_FSET(dw0, SMMU_EVT0_SSID, ev->ev_ssid);
		}
		dw1 = SMMU_FSET(dw1, SMMU_EVT1_PNU, ev->ev_pnu);
		dw1 = SMMU_FSET(dw1, SMMU_EVT1_IND, ev->ev_ind);
		dw1 = SMMU_FSET(dw1, SMMU_EVT1_RNW, ev->ev_rnw);
		dw1 = SMMU_FSET(dw1, SMMU_EVT1_CLASS, ev->ev_class);
		dw2 = ev->ev_addr;
		dw3 = ev->ev_fetch_addr & SMMU_EVT3_FETCH_MASK;
		break;
	}
	iommu__le64_enc(rec, dw0);
	iommu__le64_enc(rec + 8, dw1);
	iommu__le64_enc(rec + 16, dw2);
	iommu__le64_enc(rec + 24, dw3);
}

/* Returns true when the record was written to the queue. */
bool
smmuv3__evtq_record(struct smmuv3 *sc, const struct smmuv3__event *ev)
{
	bool done;

	smmuv3__side_enter(sc);
	done = smmuv3_evtq_put(sc, ev);
	smmuv3__side_leave(sc);
	return done;
}

static bool
smmuv3_evtq_put(struct smmuv3 *sc, const struct smmuv3__event *ev)
{
	uint8_t	 rec[SMMU_EVT_SIZE];
	unsigned l2;
	uint32_t prod, cons, idx, wrap, size;
	uint64_t base, addr;

	sc->sc_stats.st_events++;
	sc->sc_stats.st_events_by_id[ev->ev_id]++;
	if (!SMMU_FGET(sc->sc_cr0, SMMU_CR0_EVENTQEN) ||
	    ((sc->sc_gerror ^ sc->sc_gerrorn) &
		(uint32_t)SMMU_FMASK(SMMU_GERROR_EVENTQ_ABT)) != 0) {
		sc->sc_stats.st_events_lost++;
		return false;
	}
	base = sc->sc_eventq_base;
	l2 = (unsigned)SMMU_FGET(base, SMMU_Q_BASE_LOG2SIZE);
	size = 1u << l2;
	prod = sc->sc_eventq_prod;
	cons = sc->sc_eventq_cons;
	if (SMMU_Q_IDX(prod, l2) == SMMU_Q_IDX(cons, l2) &&
	    SMMU_Q_WRP(prod, l2) != SMMU_Q_WRP(cons, l2)) {
		sc->sc_stats.st_events_lost++;
		if (SMMU_FGET(prod, SMMU_EVENTQ_PROD_OVFLG) ==
		    SMMU_FGET(cons, SMMU_EVENTQ_CONS_OVACKFLG))
			sc->sc_eventq_prod ^=
			    (uint32_t)SMMU_FMASK(SMMU_EVENTQ_PROD_OVFLG);
		return false;
	}
	/* The queue is aligned to its size (a misaligned base drops bits). */
	addr = (base & SMMU_Q_BASE_ADDR_MASK &
		   ~(((uint64_t)size * SMMU_EVT_SIZE) - 1)) +
	    (uint64_t)SMMU_Q_IDX(prod, l2) * SMMU_EVT_SIZE;
	addr = smmuv3__pa_trunc(sc, addr);
	smmuv3__evtq_encode(ev, rec);
	if (sc->sc_ops.ho_mem_write(sc->sc_cookie, addr, rec, sizeof(rec)) !=
	    0) {
		sc->sc_stats.st_events_lost++;
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "event record write to 0x%llx failed",
		    (unsigned long long)addr);
		smmuv3__gerror_raise(
		    sc, (uint32_t)SMMU_FMASK(SMMU_GERROR_EVENTQ_ABT));
		return false;
	}
	if (SMMUV3__TRACING(sc))
		smmuv3__trace(sc, SMMUV3_TRACE_EVENT, ev->ev_sid, ev->ev_ssid,
		    ev->ev_addr, addr, 0, 0, ev->ev_id);
	idx = SMMU_Q_IDX(prod, l2) + 1;
	wrap = SMMU_Q_WRP(prod, l2);
	if (idx == size) {
		idx = 0;
		wrap ^= size;
	}
	sc->sc_eventq_prod =
	    (prod & (uint32_t)SMMU_FMASK(SMMU_EVENTQ_PROD_OVFLG)) | wrap | idx;
	if (SMMU_FGET(sc->sc_irq_ctrl, SMMU_IRQ_CTRL_EVENTQ))
		smmuv3__signal(sc, SMMUV3_IRQ_EVENTQ, sc->sc_eventq_irq_cfg0,
		    sc->sc_eventq_irq_cfg1);
	return true;
}
