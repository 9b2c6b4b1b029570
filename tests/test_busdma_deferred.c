/*
 * Deferred invalidation (iommu_domain_config.dc_flush_depth) and the
 * quarantine of IOVA whose invalidation failed, through bus_dma and the
 * model:
 *   - a deferred unload leaves its IOVA allocated and out of reach of the
 *     next load until a flush; the stale window is real (the device still
 *     reaches the old page, the model's checker says so) and a sync ends it;
 *   - one TLBI by ASID and one CMD_SYNC per dc_flush_depth unloads;
 *   - an at-create map loaded again at the same IOVA waits for the flush,
 *     so the device sees the new page, never the cached old one;
 *   - a magazine domain: IOVA handed out is never one still owed;
 *   - strict unloads against a dead SMMU: the IOVA stays owed (not freed),
 *     an at-create map refuses to load again until the SMMU is back, the
 *     queue's overflow is quarantined until destroy, nothing leaks;
 *   - at-create and magazine unloads, strict or deferred (which clear
 *     their pages by span without a TLB note), count every page in
 *     ds_removes, and the device loses the page once invalidated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#include "drv_fixture.h"
#include "pagetable_internal.h" /* the walk hint */
#include "smmu_internal.h"
#include "smmuv3_defs.h"
#include "test_alloc.h"

#define PG  ((uint64_t)IOMMU_PAGE_SIZE)
#define SID 5u

struct dfx {
	struct drv_fixture    fx;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *ptag, *tag;
	bool		      dead; /* CMDQ_PROD writes are lost */
	uint64_t	      pa;   /* 16 pages of buffers */
	uint8_t		     *kva;
};

static int
dead_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct drv_fixture *fx = cookie;
	struct dfx	   *d = fx->fx_user;

	if (off == SMMU_CMDQ_PROD && d->dead)
		return 0;
	return smmuv3_mmio_write(fx->fx_model, off, size, val);
}

static void
dfx_init(
    struct dfx *d, enum iommu_iova_strategy strat, unsigned depth, bool mags)
{
	struct drv_fixture_opts	   o;
	struct iommu_domain_config dc;
	unsigned		   i;

	memset(d, 0, sizeof(*d));
	drv_fixture_opts_init(&o);
	o.fo_mmio_write = dead_write;
	o.fo_user = d;
	drv_fixture_init(&d->fx, &o);
	iommu_domain_config_init(&dc);
	dc.dc_iova = strat;
	dc.dc_flush_depth = depth;
	dc.dc_magazines = mags;
	drv_fixture_busdma(&d->fx, SID, &dc, &d->dom, &d->ptag, &d->tag);
	assert_int_equal(iommu_physmem_alloc_pages(d->fx.fx_pm, 16, &d->pa), 0);
	d->kva = iommu_physmem_kva(d->fx.fx_pm, d->pa);
	for (i = 0; i < 16; i++)
		memset(d->kva + i * PG, 0x10 + (int)i, PG);
}

/* Everything comes back: IOVA, pages, frames; no stale use left over. */
static void
dfx_fini(struct dfx *d)
{
	struct iommu_domain_stats ds;

	iommu_domain_get_stats(d->dom, &ds);
	assert_int_equal(ds.ds_pages_mapped, 0);
	iommu_dma_tag_destroy(d->tag);
	iommu_dma_tag_destroy(d->ptag);
	d->fx.fx_stale = 0; /* the tests count what they expect */
	assert_int_equal(iommu_domain_destroy(d->dom), 0);
	assert_int_equal(iommu_physmem_free_pages(d->fx.fx_pm, d->pa, 16), 0);
	(void)drv_fixture_drain(&d->fx);
	drv_fixture_fini(&d->fx);
}

static struct iommu_dmamap *
new_map(struct dfx *d)
{
	struct iommu_dmamap *map;

	assert_int_equal(
	    iommu_dmamap_create(d->tag, PG, 1, PG, 0, IOMMU_DMA_NOWAIT, &map),
	    0);
	return map;
}

/* Loads the page-th page of the buffer (1 KiB at offset 0x100). */
static uint64_t
load_page(struct dfx *d, struct iommu_dmamap *map, unsigned page)
{
	assert_int_equal(
	    iommu_dmamap_load(d->tag, map, d->kva + page * PG + 0x100, 0x400,
		IOMMU_DMA_NOWAIT),
	    0);
	return map->dm_segs[0].ds_addr;
}

static int
dev_byte(struct dfx *d, uint64_t iova, uint8_t *b)
{
	struct smmuv3_fault ft;

	return smmuv3_dma_read(
	    d->fx.fx_model, SID, SMMUV3_NO_SSID, iova, b, 1, &ft);
}

static void
test_deferred_iova_waits_for_flush(void **state)
{
	struct dfx		  d;
	struct iommu_dmamap	 *a, *b;
	struct iommu_domain_stats ds;
	uint64_t		  ia, ib;
	uint8_t			  v;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_PER_MAP, 8, false);
	a = new_map(&d);
	b = new_map(&d);
	ia = load_page(&d, a, 0);
	assert_int_equal(dev_byte(&d, ia, &v), 0); /* cached in the TLB */
	assert_int_equal(v, 0x10);
	iommu_dmamap_unload(d.tag, a);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, PG);
	assert_int_equal(ds.ds_iova_bytes, PG);
	assert_int_equal(ds.ds_flushes, 0);
	/* The window deferral opens: the device still reaches the page. */
	d.fx.fx_stale = 0;
	assert_int_equal(dev_byte(&d, ia, &v), 0);
	assert_true(d.fx.fx_stale > 0);
	/* Owed IOVA is out of reach: the next load lands elsewhere. */
	ib = load_page(&d, b, 1);
	assert_true(ib >> 12 != ia >> 12);
	/* A sync ends the window and frees the IOVA. */
	assert_int_equal(iommu_domain_sync(d.dom), 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, 0);
	assert_int_equal(ds.ds_iova_bytes, PG);
	assert_int_equal(ds.ds_flushes, 1);
	assert_int_equal(dev_byte(&d, ia, &v), EFAULT);
	assert_int_equal(dev_byte(&d, ib, &v), 0);
	assert_int_equal(v, 0x11);
	(void)drv_fixture_drain(&d.fx);
	iommu_dmamap_destroy(d.tag, a);
	iommu_dmamap_destroy(d.tag, b);
	dfx_fini(&d);
}

/* depth unloads share one TLBI by ASID and one CMD_SYNC. */
static void
test_deferred_flushes_every_depth(void **state)
{
	struct dfx		  d;
	struct iommu_dmamap	 *m;
	struct iommu_domain_stats d0, d1;
	unsigned		  i;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_PER_MAP, 4, false);
	m = new_map(&d);
	iommu_domain_get_stats(d.dom, &d0);
	for (i = 0; i < 3; i++) {
		(void)load_page(&d, m, i);
		iommu_dmamap_unload(d.tag, m);
	}
	iommu_domain_get_stats(d.dom, &d1);
	assert_int_equal(d1.ds_syncs, d0.ds_syncs);
	assert_int_equal(d1.ds_tlbi, d0.ds_tlbi);
	assert_int_equal(d1.ds_iova_deferred, 3 * PG);
	(void)load_page(&d, m, 3);
	iommu_dmamap_unload(d.tag, m);
	iommu_domain_get_stats(d.dom, &d1);
	assert_int_equal(d1.ds_syncs, d0.ds_syncs + 1);
	assert_int_equal(d1.ds_tlbi, d0.ds_tlbi + 1);
	assert_int_equal(d1.ds_flushes, 1);
	assert_int_equal(d1.ds_iova_deferred, 0);
	assert_int_equal(d1.ds_iova_bytes, 0);
	assert_int_equal(d1.ds_removes, d0.ds_removes + 4);
	iommu_dmamap_destroy(d.tag, m);
	dfx_fini(&d);
}

/* The same IOVA, a new page: the cached old translation must be gone. */
static void
test_deferred_at_create_reload(void **state)
{
	struct dfx		  d;
	struct iommu_dmamap	 *m;
	struct iommu_domain_stats ds;
	uint64_t		  i0, i1, i2;
	uint8_t			  v;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_AT_CREATE, 64, false);
	m = new_map(&d);
	i0 = load_page(&d, m, 2);
	assert_int_equal(dev_byte(&d, i0, &v), 0);
	assert_int_equal(v, 0x12);
	iommu_dmamap_unload(d.tag, m);
	/* The other window: no need to wait for the flush. */
	i1 = load_page(&d, m, 3);
	assert_true(i1 != i0);
	assert_int_equal(dev_byte(&d, i1, &v), 0);
	assert_int_equal(v, 0x13);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_flushes, 0);
	iommu_dmamap_unload(d.tag, m);
	/* Back to the first window, whose old page the TLB still holds. */
	i2 = load_page(&d, m, 4);
	assert_int_equal(i2, i0);
	d.fx.fx_stale = 0;
	assert_int_equal(dev_byte(&d, i2, &v), 0);
	assert_int_equal(v, 0x14);
	assert_int_equal(d.fx.fx_stale, 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_flushes, 1);
	iommu_dmamap_destroy(d.tag, m);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_bytes, 0);
	dfx_fini(&d);
}

/*
 * Completions reaped in a batch at least the flush depth long (a NIC's
 * txeof): by the time a map is loaded again, its last window's unload is
 * invalidated, so the map keeps loading that window.  One map reloaded
 * at once still alternates (the reload test above).
 */
static void
test_deferred_at_create_keeps_window(void **state)
{
	enum { NM = 6, DEPTH = 4, ROUNDS = 4 };
	struct dfx	     d;
	struct iommu_dmamap *m[NM];
	uint64_t	     iova[NM];
	unsigned	     r, i;
	uint8_t		     v;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_AT_CREATE, DEPTH, false);
	for (i = 0; i < NM; i++) {
		m[i] = new_map(&d);
		iova[i] = load_page(&d, m[i], i);
	}
	for (r = 1; r <= ROUNDS; r++) {
		for (i = 0; i < NM; i++)
			iommu_dmamap_unload(d.tag, m[i]);
		/*
		 * The first round's DEPTH-th unload flushed the first DEPTH;
		 * later the last unloads may still wait: a sync ends that.
		 */
		if (r > 1)
			assert_int_equal(iommu_domain_sync(d.dom), 0);
		for (i = 0; i < NM; i++) {
			if (i < DEPTH || r > 1)
				assert_int_equal(
				    load_page(&d, m[i], (i + r) % 16), iova[i]);
			else
				iova[i] = load_page(&d, m[i], (i + r) % 16);
			d.fx.fx_stale = 0;
			assert_int_equal(
			    dev_byte(&d, m[i]->dm_segs[0].ds_addr, &v), 0);
			assert_int_equal(v, 0x10 + (i + r) % 16);
			assert_int_equal(d.fx.fx_stale, 0);
		}
	}
	for (i = 0; i < NM; i++)
		iommu_dmamap_destroy(d.tag, m[i]);
	dfx_fini(&d);
}

/* Two windows and a boundary: every load honours b in either window. */
static void
test_deferred_at_create_boundary(void **state)
{
	const uint64_t	     b = 4 * PG;
	struct dfx	     d;
	struct iommu_dmamap *m;
	struct iommu_mbuf    mb[4];
	struct smmuv3_fault  ft;
	uint8_t		     got[4 * PG];
	uint64_t	     a, al, seen[2] = {0, 0};
	unsigned	     r;
	int		     i;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_AT_CREATE, 8, false);
	al = 2 * PG + ((b - ((d.pa + 2 * PG) & (b - 1))) & (b - 1));
	assert_int_equal(iommu_dmamap_create(
			     d.tag, 8 * PG, 6, 8 * PG, b, IOMMU_DMA_NOWAIT, &m),
	    0);
	for (r = 0; r < 6; r++) {
		/* Three page-straddling pieces: the layout needs gaps. */
		mb[0] = (struct iommu_mbuf){&mb[1], d.kva + 0xfff + r, PG + 2};
		mb[1] =
		    (struct iommu_mbuf){&mb[2], d.kva + 5 * PG + 0xfff, PG + 2};
		mb[2] = (struct iommu_mbuf){
		    &mb[3], d.kva + 9 * PG + 0xffe, PG - 0x800};
		/* A whole b-aligned b: it fills a window's b exactly. */
		mb[3] = (struct iommu_mbuf){NULL, d.kva + al, b};
		assert_int_equal(iommu_dmamap_load_mbuf(d.tag, m, mb, 0), 0);
		for (i = 0; i < m->dm_nsegs; i++) {
			a = m->dm_segs[i].ds_addr;
			assert_false(
			    (a ^ (a + m->dm_segs[i].ds_len - 1)) & ~(b - 1));
			assert_int_equal(
			    smmuv3_dma_read(d.fx.fx_model, SID, SMMUV3_NO_SSID,
				a, got, m->dm_segs[i].ds_len, &ft),
			    0);
			assert_memory_equal(got,
			    (uint8_t *)iommu_physmem_kva(
				d.fx.fx_pm, m->dm_segs[i]._ds_paddr),
			    m->dm_segs[i].ds_len);
		}
		seen[r % 2] = m->dm_segs[0].ds_addr;
		iommu_dmamap_unload(d.tag, m);
	}
	assert_true(seen[0] != seen[1]); /* both windows were used */
	iommu_dmamap_destroy(d.tag, m);
	assert_int_equal(iommu_domain_sync(d.dom), 0);
	dfx_fini(&d);
}

/* Magazine domain: an IOVA handed out is never one still owed. */
static void
test_deferred_magazine_never_reuses_owed(void **state)
{
	enum { NM = 6, ROUNDS = 200, DEPTH = 5 };
	struct dfx		  d;
	struct iommu_dmamap	 *m[NM];
	struct iommu_domain_stats ds;
	uint64_t		  owed[DEPTH], old, iova, flushes = 0;
	unsigned		  nowed = 0, r, i, k;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_PER_MAP, DEPTH, true);
	for (i = 0; i < NM; i++) {
		m[i] = new_map(&d);
		(void)load_page(&d, m[i], i);
	}
	for (r = 0; r < ROUNDS; r++) {
		i = r % NM;
		old = m[i]->dm_segs[0].ds_addr;
		iommu_dmamap_unload(d.tag, m[i]);
		iommu_domain_get_stats(d.dom, &ds);
		if (ds.ds_flushes != flushes) {
			flushes = ds.ds_flushes; /* it covered this one too */
			nowed = 0;
		} else {
			assert_true(nowed < DEPTH);
			owed[nowed++] = old;
		}
		assert_int_equal(ds.ds_iova_deferred, nowed * PG);
		iova = load_page(&d, m[i], (r * 7) % 16);
		for (k = 0; k < nowed; k++)
			assert_true(iova >> 12 != owed[k] >> 12);
	}
	for (i = 0; i < NM; i++)
		iommu_dmamap_destroy(d.tag, m[i]);
	assert_int_equal(iommu_domain_sync(d.dom), 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, 0);
	assert_int_equal(ds.ds_iova_bytes, 0);
	assert_true(ds.ds_flushes >= ROUNDS / DEPTH);
	dfx_fini(&d);
}

/* Strict, SMMU dead: unload cannot free, at-create cannot reload. */
static void
test_failed_sync_keeps_iova_owed(void **state)
{
	struct dfx		  d;
	struct iommu_dmamap	 *m, *ac;
	struct iommu_dma_tag	 *actag;
	struct iommu_domain_stats ds;
	uint64_t		  i0, i1;
	uint8_t			  v;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_PER_MAP, 0, false);
	assert_int_equal(iommu_dma_tag_create_iommu(d.dom, d.ptag, &actag), 0);
	assert_int_equal(
	    iommu_dma_tag_set_iova_strategy(actag, IOMMU_IOVA_AT_CREATE), 0);
	assert_int_equal(
	    iommu_dmamap_create(actag, PG, 1, PG, 0, IOMMU_DMA_NOWAIT, &ac), 0);
	m = new_map(&d);
	i0 = load_page(&d, m, 0);
	assert_int_equal(
	    iommu_dmamap_load(actag, ac, d.kva + 0x100, 0x10, IOMMU_DMA_NOWAIT),
	    0);
	assert_int_equal(dev_byte(&d, i0, &v), 0);
	d.dead = true;
	iommu_dmamap_unload(d.tag, m);
	iommu_dmamap_unload(actag, ac);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, PG);
	/* The owed range is not handed out again. */
	i1 = load_page(&d, m, 1);
	assert_true(i1 >> 12 != i0 >> 12);
	/* At-create: the same IOVA cannot be trusted yet. */
	assert_int_equal(
	    iommu_dmamap_load(actag, ac, d.kva + 0x100, 0x10, IOMMU_DMA_NOWAIT),
	    ETIMEDOUT);
	assert_int_equal(ac->dm_nsegs, 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(
	    ds.ds_iova_deferred, PG); /* the failed flush kept it */
	/* The SMMU comes back: the next load flushes first. */
	d.dead = false;
	assert_int_equal(
	    iommu_dmamap_load(actag, ac, d.kva + 0x100, 0x10, IOMMU_DMA_NOWAIT),
	    0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, 0);
	assert_int_equal(dev_byte(&d, i0, &v), EFAULT);
	(void)drv_fixture_drain(&d.fx);
	iommu_dmamap_destroy(d.tag, m);
	iommu_dmamap_destroy(actag, ac);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_bytes, 0);
	iommu_dma_tag_destroy(actag);
	dfx_fini(&d);
}

/* More owed ranges than the queue holds: the rest stay until destroy. */
static void
test_queue_overflow_quarantines(void **state)
{
	enum { N = SMMU_DRV_FQ_STRICT + 6 };
	struct dfx		  d;
	struct iommu_dmamap	 *m;
	struct iommu_domain_stats ds;
	unsigned		  i;

	(void)state;
	dfx_init(&d, IOMMU_IOVA_PER_MAP, 0, false);
	m = new_map(&d);
	d.dead = true;
	for (i = 0; i < N; i++) {
		(void)load_page(&d, m, i % 16);
		iommu_dmamap_unload(d.tag, m);
	}
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, SMMU_DRV_FQ_STRICT * PG);
	assert_int_equal(ds.ds_iova_quarantined, 6 * PG);
	assert_int_equal(ds.ds_iova_bytes, N * PG);
	assert_int_equal(iommu_domain_sync(d.dom), ETIMEDOUT);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, SMMU_DRV_FQ_STRICT * PG);
	d.dead = false;
	assert_int_equal(iommu_domain_sync(d.dom), 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_iova_deferred, 0);
	assert_int_equal(ds.ds_iova_bytes, 6 * PG);
	iommu_dmamap_destroy(d.tag, m);
	dfx_fini(&d); /* the quarantined ranges go with the arena */
}

/* Pages the loaded map's segments span (at-create: each its own). */
static uint64_t
map_pages(const struct iommu_dmamap *m)
{
	const struct iommu_dma_segment *s;
	uint64_t			n = 0;
	int				i;

	for (i = 0; i < m->dm_nsegs; i++) {
		s = &m->dm_segs[i];
		n += (s->ds_addr + s->ds_len + PG - 1) / PG - s->ds_addr / PG;
	}
	return n;
}

/*
 * K load/unload cycles of a map, P pages a load: every page an unload
 * clears is a remove, whether it was noted to the unload's TLB batch
 * (strict) or cleared quietly by span for the flush's TLBI by ASID
 * (deferred at-create, and magazine maps whose IOVA comes back parked:
 * counted by the unload itself).  Once the unload's invalidation is done
 * the device no longer reaches the page.
 */
static void
cycles_count_removes(enum iommu_iova_strategy strat, bool mags, unsigned depth,
    uint64_t boundary, uint64_t size)
{
	enum { P = 5 };
	struct dfx			d;
	struct iommu_dmamap	       *m;
	struct iommu_domain_stats	d0, ds;
	const struct iommu_dma_segment *last;
	unsigned long			k, cycles = test_scale(40);
	uint64_t			n, pages = 0, end;
	uint8_t				v;

	dfx_init(&d, strat, depth, mags);
	assert_int_equal(iommu_dmamap_create(d.tag, size, P,
			     boundary != 0 ? boundary : P * PG, boundary,
			     IOMMU_DMA_NOWAIT, &m),
	    0);
	iommu_domain_get_stats(d.dom, &d0);
	assert_int_equal(d0.ds_pages_mapped, 0);
	for (k = 0; k < cycles; k++) {
		/* P pages from 0x100 into buffer page k % 8. */
		assert_int_equal(
		    iommu_dmamap_load(d.tag, m, d.kva + (k % 8) * PG + 0x100,
			(P - 1) * PG + 0x80, IOMMU_DMA_NOWAIT),
		    0);
		n = map_pages(m);
		if (boundary == 0)
			assert_int_equal(n, P);
		pages += n;
		iommu_domain_get_stats(d.dom, &ds);
		assert_int_equal(ds.ds_pages_mapped, n);
		last = &m->dm_segs[m->dm_nsegs - 1];
		assert_int_equal(
		    dev_byte(&d, last->ds_addr + last->ds_len - 1, &v), 0);
		assert_int_equal(v, 0x10 + (k % 8) + P - 1);
		end = last->ds_addr + last->ds_len - 1;
		iommu_dmamap_unload(d.tag, m);
		iommu_domain_get_stats(d.dom, &ds);
		assert_int_equal(ds.ds_pages_mapped, 0);
		assert_int_equal(ds.ds_removes - d0.ds_removes, pages);
		if (k % 4 == 3)
			assert_int_equal(iommu_domain_sync(d.dom), 0);
		if (depth == 0 || k % 4 == 3) {
			assert_int_not_equal(dev_byte(&d, end, &v), 0);
			(void)drv_fixture_drain(&d.fx);
		}
	}
	if (boundary == 0)
		assert_int_equal(pages, cycles * P);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_removes - d0.ds_removes, pages);
	assert_int_equal(ds.ds_enters - d0.ds_enters, pages);
	assert_int_equal(ds.ds_enters, ds.ds_removes + ds.ds_pages_mapped);
	iommu_dmamap_destroy(d.tag, m);
	assert_int_equal(iommu_domain_sync(d.dom), 0);
	iommu_domain_get_stats(d.dom, &ds);
	assert_int_equal(ds.ds_removes - d0.ds_removes, pages);
	dfx_fini(&d);
}

static void
test_at_create_removes_counted(void **state)
{
	(void)state;
	cycles_count_removes(IOMMU_IOVA_AT_CREATE, false, 8, 0, 5 * PG);
	cycles_count_removes(IOMMU_IOVA_AT_CREATE, false, 0, 0, 5 * PG);
	/* With gaps in the layout: cleared segment by segment. */
	cycles_count_removes(IOMMU_IOVA_AT_CREATE, false, 8, 2 * PG, 5 * PG);
	cycles_count_removes(IOMMU_IOVA_AT_CREATE, false, 0, 2 * PG, 5 * PG);
	/* A reservation larger than a level-3 table: no span, walked. */
	cycles_count_removes(
	    IOMMU_IOVA_AT_CREATE, false, 8, 0, IOMMU_PT_SPAN_BYTES);
	cycles_count_removes(
	    IOMMU_IOVA_AT_CREATE, false, 0, 0, IOMMU_PT_SPAN_BYTES);
}

/* Per-map with magazines: page by page first, by span once parked. */
static void
test_magazine_removes_counted(void **state)
{
	(void)state;
	cycles_count_removes(IOMMU_IOVA_PER_MAP, true, 8, 0, 5 * PG);
	cycles_count_removes(IOMMU_IOVA_PER_MAP, true, 0, 0, 5 * PG);
	/* A boundary: never by span. */
	cycles_count_removes(IOMMU_IOVA_PER_MAP, true, 8, 2 * PG, 5 * PG);
	cycles_count_removes(IOMMU_IOVA_PER_MAP, true, 0, 2 * PG, 5 * PG);
	/* Without magazines nothing is kept: page by page always. */
	cycles_count_removes(IOMMU_IOVA_PER_MAP, false, 8, 0, 5 * PG);
}

/*
 * Two load + unload cycles of map m, the table's walk hint cleared before
 * each step: which steps walked the table (set the hint again), loads in
 * bit 0, unloads in bit 1.  At IOMMU_DEBUG 3 a load's validator walks
 * every page it loaded: there the loads are not told.
 */
static unsigned
cycles_walk(struct dfx *d, struct iommu_dmamap *m)
{
	struct iommu_pt *pt = d->dom->dom_pt;
	unsigned	 i, walked = 0;

	for (i = 0; i < 2; i++) {
		atomic_store(&pt->pt_l3_hint, NULL);
		(void)load_page(d, m, 1 + i);
		if (IOMMU_DEBUG < 3 && atomic_load(&pt->pt_l3_hint) != NULL)
			walked |= 1;
		atomic_store(&pt->pt_l3_hint, NULL);
		iommu_dmamap_unload(d->tag, m);
		if (atomic_load(&pt->pt_l3_hint) != NULL)
			walked |= 2;
	}
	return walked;
}

/*
 * By span, an at-create window in one level-3 table loads and unloads
 * without a walk, strict or deferred; a magazine map's recycled IOVA, its
 * PTEDs parked, walks once a load to fetch its span and not at all to
 * unload.  A reservation larger than a table walks both ways, as per-map
 * without magazines does (the check can fail).
 */
static void
test_loads_by_span_walk_no_table(void **state)
{
	static const struct {
		enum iommu_iova_strategy strat;
		bool			 mags;
		unsigned		 depth;
		uint64_t		 size;
		unsigned		 walks; /* cycles_walk's */
	} c[] = {
	    {IOMMU_IOVA_AT_CREATE, false, 0, PG, 0},
	    {IOMMU_IOVA_AT_CREATE, false, 8, PG, 0},
	    {IOMMU_IOVA_PER_MAP, true, 0, PG, 1},
	    {IOMMU_IOVA_PER_MAP, true, 8, PG, 1},
	    {IOMMU_IOVA_AT_CREATE, false, 0, IOMMU_PT_SPAN_BYTES, 3},
	    {IOMMU_IOVA_AT_CREATE, false, 8, IOMMU_PT_SPAN_BYTES, 3},
	    {IOMMU_IOVA_PER_MAP, false, 8, PG, 3},
	};
	struct dfx	     d;
	struct iommu_dmamap *m;
	unsigned	     i, k, load_told = IOMMU_DEBUG < 3 ? 3 : 2;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		dfx_init(&d, c[i].strat, c[i].depth, c[i].mags);
		assert_int_equal(iommu_dmamap_create(d.tag, c[i].size, 1,
				     c[i].size, 0, IOMMU_DMA_NOWAIT, &m),
		    0);
		/* A magazine's IOVA parks its PTEDs at its first unload. */
		for (k = 0; k < 4; k++) {
			(void)load_page(&d, m, k);
			iommu_dmamap_unload(d.tag, m);
		}
		assert_int_equal(iommu_domain_sync(d.dom), 0);
		assert_int_equal(cycles_walk(&d, m), c[i].walks & load_told);
		iommu_dmamap_destroy(d.tag, m);
		dfx_fini(&d);
	}
}

static void
test_bad_depth_is_einval(void **state)
{
	struct drv_fixture	   fx;
	struct iommu_domain_config dc;
	struct iommu_domain	  *dom = NULL;

	(void)state;
	drv_fixture_init(&fx, NULL);
	iommu_domain_config_init(&dc);
	dc.dc_flush_depth = IOMMU_DOMAIN_FLUSH_DEPTH_MAX + 1;
	assert_int_equal(
	    iommu_domain_create(fx.fx_smmu, SID, &dc, &dom), EINVAL);
	assert_null(dom);
	dc.dc_flush_depth = IOMMU_DOMAIN_FLUSH_DEPTH_MAX;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, &dc, &dom), 0);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deferred_iova_waits_for_flush),
	    cmocka_unit_test(test_deferred_flushes_every_depth),
	    cmocka_unit_test(test_deferred_at_create_reload),
	    cmocka_unit_test(test_deferred_at_create_keeps_window),
	    cmocka_unit_test(test_deferred_at_create_boundary),
	    cmocka_unit_test(test_deferred_magazine_never_reuses_owed),
	    cmocka_unit_test(test_failed_sync_keeps_iova_owed),
	    cmocka_unit_test(test_queue_overflow_quarantines),
	    cmocka_unit_test(test_at_create_removes_counted),
	    cmocka_unit_test(test_magazine_removes_counted),
	    cmocka_unit_test(test_loads_by_span_walk_no_table),
	    cmocka_unit_test(test_bad_depth_is_einval),
	};

	return cmocka_run_group_tests_name(
	    "busdma_deferred", tests, NULL, NULL);
}
