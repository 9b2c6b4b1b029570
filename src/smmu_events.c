/*
 * libiommu - SMMU driver: the event queue consumer and global error
 * handling (IHI 0070 7.2 queue pointers, 7.3 event records, 7.5 GERROR).
 *
 * Design: the SMMU writes 32-byte little-endian records into a queue in
 * simulated RAM and advances EVENTQ_PROD; the driver reads PROD (the MMIO
 * read orders the records before it), decodes every record between its
 * CONS and PROD through the direct map, hands each to the event callback
 * and writes CONS once for the batch.  An overflow (EVENTQ_PROD.OVFLG
 * differing from the driver's OVACKFLG) is counted and acknowledged by
 * copying the flag into CONS.  The callback runs with sc_evt_mtx held: it
 * must not drain events itself.
 *
 * GERROR: an error is active while its GERROR bit differs from GERRORN.
 * CMDQ_ERR is handled by the command layer (skip the command, restart the
 * queue); every other active error is acknowledged as found, and all of
 * them are reported to the caller.
 */
#include <errno.h>
#include <string.h>

#include "smmu_internal.h"

int
iommu__evtq_init(struct iommu_smmu *sc)
{
	void *kva;
	int   error;

	sc->sc_evtq_pages =
	    ((size_t)SMMU_EVT_SIZE << sc->sc_evtq_log2) / IOMMU_PAGE_SIZE;
	if (sc->sc_evtq_pages == 0)
		sc->sc_evtq_pages = 1;
	error = iommu__smmu_alloc_aligned(
	    sc, sc->sc_evtq_pages, &sc->sc_evtq_pa, &kva);
	if (error != 0) {
		sc->sc_evtq_pages = 0;
		return error;
	}
	sc->sc_evtq_kva = kva;
	sc->sc_evtq_cons = 0;
	return 0;
}

static void
evt_decode(const uint8_t *rec, struct iommu_smmu_event *ev)
{
	unsigned i;

	memset(ev, 0, sizeof(*ev));
	for (i = 0; i < 4; i++)
		ev->ev_raw[i] = iommu__le64_dec(rec + 8 * i);
	ev->ev_id = (uint8_t)SMMU_FGET(ev->ev_raw[0], SMMU_EVT0_ID);
	ev->ev_ssv = SMMU_FGET(ev->ev_raw[0], SMMU_EVT0_SSV) != 0;
	ev->ev_ssid = (uint32_t)SMMU_FGET(ev->ev_raw[0], SMMU_EVT0_SSID);
	ev->ev_sid = (uint32_t)SMMU_FGET(ev->ev_raw[0], SMMU_EVT0_SID);
	ev->ev_rnw = SMMU_FGET(ev->ev_raw[1], SMMU_EVT1_RNW) != 0;
	ev->ev_class = (uint8_t)SMMU_FGET(ev->ev_raw[1], SMMU_EVT1_CLASS);
	ev->ev_addr = ev->ev_raw[2];
	ev->ev_fetch_addr = ev->ev_raw[3] & SMMU_EVT3_FETCH_MASK;
}

int
iommu_smmu_drain_events(struct iommu_smmu *sc, size_t *np)
{
	struct iommu_smmu_event ev;
	uint32_t		prod, cons, ptrmask, ovf;
	unsigned		l2;
	size_t			n = 0;
	int			error;

	if (sc == NULL)
		return EINVAL;
	l2 = sc->sc_evtq_log2;
	ptrmask = (2u << l2) - 1;
	ovf = (uint32_t)SMMU_FMASK(SMMU_EVENTQ_PROD_OVFLG);
	pthread_mutex_lock(&sc->sc_evt_mtx);
	if ((error = iommu__smmu_read32(sc, SMMU_EVENTQ_PROD, &prod)) != 0)
		goto out;
	cons = sc->sc_evtq_cons;
	while ((cons & ptrmask) != (prod & ptrmask)) {
		evt_decode(sc->sc_evtq_kva +
			(size_t)SMMU_Q_IDX(cons, l2) * SMMU_EVT_SIZE,
		    &ev);
		if (sc->sc_event_fn != NULL)
			sc->sc_event_fn(sc->sc_event_cookie, &ev);
		n++;
		cons = (cons & ovf) | ((cons + 1) & ptrmask);
	}
	if ((prod & ovf) != (cons & ovf)) {
		atomic_fetch_add_explicit(
		    &sc->sc_stats.events_lost, 1, memory_order_relaxed);
		cons ^= ovf;
	}
	if (cons != sc->sc_evtq_cons) {
		error = iommu__smmu_write32(sc, SMMU_EVENTQ_CONS, cons);
		sc->sc_evtq_cons = cons;
	}
	atomic_fetch_add_explicit(
	    &sc->sc_stats.events, n, memory_order_relaxed);
out:
	pthread_mutex_unlock(&sc->sc_evt_mtx);
	if (np != NULL)
		*np = n;
	return error;
}

int
iommu_smmu_handle_gerror(struct iommu_smmu *sc, uint32_t *activep)
{
	uint32_t gerror, gerrorn, active, cmdq_err;
	int	 error;

	if (sc == NULL)
		return EINVAL;
	cmdq_err = (uint32_t)SMMU_FMASK(SMMU_GERROR_CMDQ_ERR);
	if ((error = iommu__smmu_read32(sc, SMMU_GERROR, &gerror)) != 0 ||
	    (error = iommu__smmu_read32(sc, SMMU_GERRORN, &gerrorn)) != 0)
		return error;
	active = (gerror ^ gerrorn) & SMMU_GERROR_VALID_MASK;
	if (active & cmdq_err) {
		iommu__spin_lock(&sc->sc_cmd_mtx);
		iommu__cmdq_recover(sc);
		iommu__spin_unlock(&sc->sc_cmd_mtx);
	}
	if (active & ~cmdq_err) {
		if ((error = iommu__smmu_read32(sc, SMMU_GERRORN, &gerrorn)) !=
		    0)
			return error;
		error = iommu__smmu_write32(
		    sc, SMMU_GERRORN, gerrorn ^ (active & ~cmdq_err));
	}
	if (activep != NULL)
		*activep = active;
	return error;
}
