/*
 * libiommu - what a bus_dma unload does after removing its pages: strict
 * invalidation, or deferred invalidation through the domain's flush queue
 * (iommu/domain.h, dc_flush_depth), and the quarantine of IOVA whose
 * invalidation failed.
 *
 * Design.  An IOVA range may return to the arena only once the SMMU is
 * known to hold no translation for it, i.e. after a CMD_SYNC that
 * followed its invalidation completed.  Until then the range is "owed":
 *
 *   dom_fq[0 .. dom_fq_n)  spans (iova, len), still allocated in the
 *                          arena, freed by the next flush that works
 *   dom_fq_gen             tickets handed out: unloads that returned
 *                          before their invalidation was known complete
 *   dom_fq_done            every ticket <= it is invalidated
 *   dom_fq_base            dom_fq_gen as the last flush took it: a
 *                          deferred domain flushes when gen - base
 *                          reaches dc_flush_depth
 *
 * Tickets are taken with an atomic add (release: the unload's removes
 * come first), without dom_fq_mtx, which only guards the span queue.  A
 * flush takes the whole queue and the current dom_fq_gen (acquire) under
 * dom_fq_mtx, then (without it) issues TLBI by ASID + CMD_SYNC under the
 * command lock.  Every unload numbered up to that dom_fq_gen removed its
 * pages before taking its number, so the TLBI covers it; on success the
 * spans are freed and dom_fq_done advances, on failure they go back to
 * the queue.  When the queue has no room the span is quarantined: it
 * stays allocated until the domain is destroyed (ds_iova_quarantined).
 *
 * An arena region may hold a descriptor embedded in the bus_dma map
 * state (the seed's cookie); before such a span is queued the extent
 * moves it to a descriptor of its own, so the map may load again at
 * once.  Magazine domains carry no descriptor.
 *
 * Lock order: dom_fq_mtx is a leaf, never held while taking another
 * lock (the extent's or sc_cmd_mtx); it guards a few stores (a flush's
 * copy of the queue at most), so it spins (iommu_spin.h) rather than
 * pay a pthread mutex's cost on every deferred unload.
 */
#include <errno.h>
#include <string.h>

#include <iommu/extent.h>

#include "smmu_internal.h"

/* Entries a flush copies out at once (dom_fq_cap never exceeds it). */
#define FQ_CAP_MAX (2 * IOMMU_DOMAIN_FLUSH_DEPTH_MAX)
_Static_assert(SMMU_DRV_FQ_STRICT <= FQ_CAP_MAX, "strict queue too big");

int
iommu__domain_fq_init(struct iommu_domain *dom, unsigned depth)
{
	struct iommu_smmu *sc = dom->dom_sc;

	dom->dom_fq_depth = depth;
	dom->dom_fq_cap = depth != 0 ? 2 * depth : SMMU_DRV_FQ_STRICT;
	dom->dom_fq =
	    iommu__zalloc(sc->sc_alloc, dom->dom_fq_cap * sizeof(*dom->dom_fq));
	if (dom->dom_fq == NULL)
		return ENOMEM;
	iommu__spin_init(&dom->dom_fq_mtx);
	return 0;
}

/* The arena (extent and all) goes with the domain: spans need no free. */
void
iommu__domain_fq_fini(struct iommu_domain *dom)
{
	if (dom->dom_fq == NULL)
		return;
	iommu__free(dom->dom_sc->sc_alloc, dom->dom_fq,
	    dom->dom_fq_cap * sizeof(*dom->dom_fq));
	dom->dom_fq = NULL;
}

bool
iommu__domain_flush_pending(struct iommu_domain *dom)
{
	return atomic_load_explicit(&dom->dom_fq_gen, memory_order_acquire) !=
	    atomic_load_explicit(&dom->dom_fq_done, memory_order_acquire);
}

/* Frees spans whose invalidation completed. */
static void
fq_free(struct iommu_domain *dom, const struct iommu__iova_span *sp, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		(void)iommu_domain_iova_free(dom, sp[i].sp_iova, sp[i].sp_len);
}

/*
 * With dom_fq_mtx held: queue spans (their descriptors already the
 * arena's own); those without room are quarantined.
 */
static void
fq_push_locked(
    struct iommu_domain *dom, const struct iommu__iova_span *sp, unsigned n)
{
	uint64_t bytes = 0, lost = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (dom->dom_fq_n < dom->dom_fq_cap) {
			dom->dom_fq[dom->dom_fq_n++] = sp[i];
			bytes += sp[i].sp_len;
		} else {
			lost += sp[i].sp_len;
		}
	}
	iommu__count_locked(&dom->dom_stats.fq_bytes, bytes);
	iommu__count_locked(&dom->dom_stats.quarantined, lost);
}

/*
 * Takes a span off its caller's descriptor (an arena region may hold one
 * embedded in a bus_dma map).  Where the extent has no descriptor left,
 * a flush now lets the span be freed instead; false then, and the span is
 * freed even if that flush failed, since the map that holds its
 * descriptor may be reused or destroyed at once.
 */
static bool
fq_adopt(struct iommu_domain *dom, uint64_t iova, uint64_t len)
{
	if (dom->dom_mag != NULL ||
	    iommu_extent_release_descr(
		dom->dom_iovamap, iova, len, IOMMU_EX_NOWAIT) == 0)
		return true;
	(void)iommu__domain_flush(dom);
	(void)iommu_domain_iova_free(dom, iova, len);
	return false;
}

int
iommu__domain_flush(struct iommu_domain *dom)
{
	struct iommu_smmu      *sc = dom->dom_sc;
	struct iommu__iova_span sp[FQ_CAP_MAX];
	uint64_t		gen, done, bytes = 0;
	unsigned		n, i;
	int			error;

	iommu__spin_lock(&dom->dom_fq_mtx);
	/* Acquire: every unload numbered up to gen has removed its pages. */
	gen = atomic_load_explicit(&dom->dom_fq_gen, memory_order_acquire);
	atomic_store_explicit(&dom->dom_fq_base, gen, memory_order_relaxed);
	n = dom->dom_fq_n;
	memcpy(sp, dom->dom_fq, n * sizeof(sp[0]));
	dom->dom_fq_n = 0;
	for (i = 0; i < n; i++)
		bytes += sp[i].sp_len;
	atomic_store_explicit(&dom->dom_stats.fq_bytes,
	    atomic_load_explicit(
		&dom->dom_stats.fq_bytes, memory_order_relaxed) -
		bytes,
	    memory_order_relaxed);
	iommu__spin_unlock(&dom->dom_fq_mtx);

	iommu__spin_lock(&sc->sc_cmd_mtx);
	error = iommu__domain_sync_locked(dom, true);
	iommu__spin_unlock(&sc->sc_cmd_mtx);

	iommu__spin_lock(&dom->dom_fq_mtx);
	if (error != 0) {
		fq_push_locked(dom, sp, n);
		iommu__spin_unlock(&dom->dom_fq_mtx);
		return error;
	}
	iommu__count_locked(&dom->dom_stats.flushes, 1);
	iommu__spin_unlock(&dom->dom_fq_mtx);
	fq_free(dom, sp, n);
	/* Another flush may have got further meanwhile: only move forward. */
	done = atomic_load_explicit(&dom->dom_fq_done, memory_order_relaxed);
	while (done < gen &&
	    !atomic_compare_exchange_weak_explicit(&dom->dom_fq_done, &done,
		gen, memory_order_release, memory_order_relaxed))
		;
	return 0;
}

int
iommu__domain_unload_invalidate(
    struct iommu_domain *dom, bool batched, bool entered)
{
	if (dom->dom_fq_depth == 0)
		return iommu__domain_batch_end(dom, batched, entered);
	if (batched)
		iommu__domain_batch_release(dom);
	return entered ? EINPROGRESS : 0;
}

void
iommu__domain_iova_owe(struct iommu_domain *dom, uint64_t iova, uint64_t len)
{
	struct iommu__iova_span sp = {iova, len};

	if (!fq_adopt(dom, iova, len))
		return;
	iommu__spin_lock(&dom->dom_fq_mtx);
	fq_push_locked(dom, &sp, 1);
	iommu__spin_unlock(&dom->dom_fq_mtx);
}

uint64_t
iommu__domain_unload_defer(
    struct iommu_domain *dom, const struct iommu__iova_span *last)
{
	uint64_t ticket;
	bool	 flush = false;

	if (last != NULL && !fq_adopt(dom, last->sp_iova, last->sp_len))
		last = NULL;
	if (last != NULL) {
		iommu__spin_lock(&dom->dom_fq_mtx);
		fq_push_locked(dom, last, 1);
		flush = dom->dom_fq_depth != 0 &&
		    dom->dom_fq_n >= dom->dom_fq_depth;
		iommu__spin_unlock(&dom->dom_fq_mtx);
	}
	/*
	 * No lock for the number (an at-create unload queues no span): the
	 * release orders this unload's removes before it, for the flush that
	 * reads it.  Two unloads both seeing depth reached flush twice.
	 */
	ticket = atomic_fetch_add_explicit(
		     &dom->dom_fq_gen, 1, memory_order_acq_rel) +
	    1;
	if (dom->dom_fq_depth != 0 &&
	    ticket -
		    atomic_load_explicit(
			&dom->dom_fq_base, memory_order_relaxed) >=
		dom->dom_fq_depth)
		flush = true;
	if (flush)
		(void)iommu__domain_flush(dom);
	return ticket;
}

int
iommu__domain_ticket_wait(struct iommu_domain *dom, uint64_t ticket)
{
	int error;

	if (iommu__domain_ticket_done(dom, ticket))
		return 0;
	if ((error = iommu__domain_flush(dom)) != 0)
		return error;
	/* The flush took a generation >= ticket (handed out before it). */
	IOMMU_ASSERT(ticket <= atomic_load(&dom->dom_fq_done));
	return 0;
}
