/*
 * Concurrency of the IOMMU bus_dma tag: several threads create, load,
 * unload and destroy maps of one shared domain (and, in a second test,
 * each of its own domain on one SMMU), acting as the device between load
 * and unload: the DMA must land on the thread's own bytes, and after
 * unload the old IOVA must never reach those bytes again (a stale TLB
 * entry would).  Runs under every IOVA strategy, and with deferred
 * invalidation, where the old IOVA is checked after a sync (before it the
 * device may legitimately still reach the page); meant for TSan too.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#include "drv_fixture.h"
#include "test_alloc.h"
#include "test_busdma_util.h"

#define PG	 ((uint64_t)IOMMU_PAGE_SIZE)
#define NTHREADS 4
#define SID	 1u

struct shared {
	struct drv_fixture	 fx;
	enum iommu_iova_strategy strat;
	bool			 lazy; /* dc_flush_depth set */
	struct iommu_dma_tag	*ptag;
	struct iommu_domain	*dom; /* shared-domain test */
	struct iommu_dma_tag	*tag;
};

struct worker {
	struct shared	     *sh;
	pthread_t	      thr;
	unsigned	      id;
	uint32_t	      sid;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *tag;
	uint64_t	      pa; /* 4 pages of its own */
	uint8_t		     *buf;
	int		      failed; /* first failing step, 0 if none */
};

static enum iommu_iova_strategy s_per_map = IOMMU_IOVA_PER_MAP;
/* The same strategies with the per-thread IOVA magazine cache on. */
static enum iommu_iova_strategy s_per_map_mags = IOMMU_IOVA_PER_MAP;
static enum iommu_iova_strategy s_per_seg_mags = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_per_seg = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_at_create = IOMMU_IOVA_AT_CREATE;
static enum iommu_iova_strategy s_identity = IOMMU_IOVA_IDENTITY;
/* Deferred invalidation (dc_flush_depth), alone and with the cache. */
static enum iommu_iova_strategy s_per_map_lazy = IOMMU_IOVA_PER_MAP;
static enum iommu_iova_strategy s_per_seg_lazy = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_at_create_lazy = IOMMU_IOVA_AT_CREATE;
static enum iommu_iova_strategy s_per_map_mags_lazy = IOMMU_IOVA_PER_MAP;

static bool
is_lazy(const void *state)
{
	return state == &s_per_map_lazy || state == &s_per_seg_lazy ||
	    state == &s_at_create_lazy || state == &s_per_map_mags_lazy;
}

#define CHECK(w, cond, step)                                                   \
	do {                                                                   \
		if (!(cond) && (w)->failed == 0)                               \
			(w)->failed = (step);                                  \
	} while (0)

/* Device-side round trip over one segment. */
static void
dev_rw(struct worker *w, const struct iommu_dma_segment *seg, uint32_t seed)
{
	struct smmuv3_fault ft;
	uint8_t		    pat[256], tmp[256];
	size_t n = seg->ds_len < sizeof(pat) ? seg->ds_len : sizeof(pat);

	bt_fill(pat, n, seed);
	CHECK(w,
	    smmuv3_dma_write(w->sh->fx.fx_model, w->sid, SMMUV3_NO_SSID,
		seg->ds_addr, pat, n, &ft) == 0,
	    1);
	CHECK(w,
	    iommu_physmem_read(w->sh->fx.fx_pm, seg->_ds_paddr, tmp, n) == 0 &&
		memcmp(tmp, pat, n) == 0,
	    2);
	memset(tmp, 0, n);
	CHECK(w,
	    smmuv3_dma_read(w->sh->fx.fx_model, w->sid, SMMUV3_NO_SSID,
		seg->ds_addr, tmp, n, &ft) == 0 &&
		memcmp(tmp, pat, n) == 0,
	    3);
}

/* After unload the IOVA may be someone else's now, but never our page. */
static void
dev_gone(struct worker *w, const struct iommu_dma_segment *seg)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	int		    error;

	error = smmuv3_translate(w->sh->fx.fx_model, w->sid, SMMUV3_NO_SSID,
	    seg->ds_addr, SMMUV3_ACCESS_READ, &xl, &ft);
	if (error == 0)
		CHECK(w,
		    (xl.xl_pa & ~IOMMU_PAGE_MASK) !=
			(seg->_ds_paddr & ~IOMMU_PAGE_MASK),
		    4);
	else
		CHECK(w, error == EFAULT, 5);
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct iommu_dmamap	*map;
	struct iommu_dma_segment segs[4];
	struct iommu_mbuf	 m[3];
	unsigned long		 i, iters = test_scale(150);
	int			 nsegs, s, error;
	size_t			 nev;

	for (i = 0; i < iters && w->failed == 0; i++) {
		/* Create per iteration now and then: create/destroy race too.
		 */
		error = iommu_dmamap_create(
		    w->tag, 4 * PG, 3, 4 * PG, 0, IOMMU_DMA_NOWAIT, &map);
		CHECK(w, error == 0, 10);
		if (error != 0)
			break;
		m[0] = (struct iommu_mbuf){&m[1], w->buf + 17 + (i % 64), 200};
		m[1] = (struct iommu_mbuf){
		    &m[2], w->buf + 2 * PG + 5, 300 + (i % 7)};
		m[2] = (struct iommu_mbuf){NULL, w->buf + PG + 1000, 1500};
		error = iommu_dmamap_load_mbuf(w->tag, map, m, 0);
		CHECK(w, error == 0, 11);
		if (error != 0) {
			iommu_dmamap_destroy(w->tag, map);
			break;
		}
		nsegs = map->dm_nsegs;
		memcpy(segs, map->dm_segs, sizeof(segs[0]) * (size_t)nsegs);
		for (s = 0; s < nsegs; s++)
			dev_rw(w, &segs[s], (uint32_t)(w->id * 1000 + i + s));
		if (i % 3 == 0) {
			/* destroy while loaded unloads */
			iommu_dmamap_destroy(w->tag, map);
		} else {
			iommu_dmamap_unload(w->tag, map);
			iommu_dmamap_destroy(w->tag, map);
		}
		/* Deferred: the window closes at a sync (half the time). */
		if (w->sh->lazy) {
			if (i % 2 != 0)
				continue;
			CHECK(w, iommu_domain_sync(w->dom) == 0, 12);
		}
		for (s = 0; s < nsegs; s++)
			dev_gone(w, &segs[s]);
		if (i % 16 == 0)
			(void)iommu_smmu_drain_events(w->sh->fx.fx_smmu, &nev);
	}
	return NULL;
}

static void
run(void **state, int own_domains)
{
	struct shared		  *sh = test_calloc(1, sizeof(*sh));
	struct drv_fixture_opts	   o;
	struct worker		   w[NTHREADS];
	struct iommu_domain_config dc;
	struct iommu_domain_stats  ds;
	unsigned		   i;

	sh->strat = *(enum iommu_iova_strategy *)*state;
	drv_fixture_opts_init(&o);
	o.fo_alloc = iommu_default_allocator(); /* cmocka's is not MT-safe */
	drv_fixture_init(&sh->fx, &o);
	iommu_domain_config_init(&dc);
	dc.dc_iova = sh->strat;
	dc.dc_magazines = *state == &s_per_map_mags ||
	    *state == &s_per_seg_mags || *state == &s_per_map_mags_lazy;
	sh->lazy = is_lazy(*state);
	dc.dc_flush_depth = sh->lazy ? 8 : 0;
	assert_int_equal(
	    iommu_dma_tag_create_platform(sh->fx.fx_pm, o.fo_alloc, &sh->ptag),
	    0);
	if (!own_domains) {
		assert_int_equal(
		    iommu_domain_create(sh->fx.fx_smmu, SID, &dc, &sh->dom), 0);
		assert_int_equal(
		    iommu_dma_tag_create_iommu(sh->dom, sh->ptag, &sh->tag), 0);
	}
	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].sh = sh;
		w[i].id = i;
		assert_int_equal(
		    iommu_physmem_alloc_pages(sh->fx.fx_pm, 4, &w[i].pa), 0);
		w[i].buf = iommu_physmem_kva(sh->fx.fx_pm, w[i].pa);
		if (own_domains) {
			w[i].sid = SID + 1 + i;
			assert_int_equal(iommu_domain_create(sh->fx.fx_smmu,
					     w[i].sid, &dc, &w[i].dom),
			    0);
			assert_int_equal(iommu_dma_tag_create_iommu(
					     w[i].dom, sh->ptag, &w[i].tag),
			    0);
		} else {
			w[i].sid = SID;
			w[i].dom = sh->dom;
			w[i].tag = sh->tag;
		}
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&w[i].thr, NULL, worker_main, &w[i]), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(w[i].thr, NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		if (w[i].failed != 0)
			print_error(
			    "worker %u failed at step %d\n", i, w[i].failed);
		assert_int_equal(w[i].failed, 0);
		assert_int_equal(iommu_domain_sync(w[i].dom), 0);
		iommu_domain_get_stats(w[i].dom, &ds);
		assert_int_equal(ds.ds_pages_mapped, 0);
		assert_int_equal(ds.ds_iova_bytes, 0);
		if (own_domains) {
			iommu_dma_tag_destroy(w[i].tag);
			assert_int_equal(iommu_domain_destroy(w[i].dom), 0);
		}
		assert_int_equal(
		    iommu_physmem_free_pages(sh->fx.fx_pm, w[i].pa, 4), 0);
	}
	if (!own_domains) {
		iommu_dma_tag_destroy(sh->tag);
		assert_int_equal(iommu_domain_destroy(sh->dom), 0);
	}
	iommu_dma_tag_destroy(sh->ptag);
	drv_fixture_fini(&sh->fx);
	test_free(sh);
}

static void
test_shared_domain(void **state)
{
	run(state, 0);
}

static void
test_own_domains(void **state)
{
	run(state, 1);
}

/*
 * Identity maps share pages: two threads load and unload maps of
 * different bytes of the same two pages, so an enter often finds the page
 * the other entered (EEXIST: its own too) and an unload removes a page the
 * other may still use (the strategy's hazard, docs/busdma.md), the two
 * removes of a page often at once.  Every load succeeds, the page's PTED
 * is freed once (the pool checks for a double put at IOMMU_DEBUG >= 1),
 * and nothing stays mapped.
 */
struct sharer {
	struct iommu_dma_tag *tag;
	uint8_t		     *buf; /* the shared pages, the same for both */
	unsigned	      id;
	int		      failed;
};

static void *
sharer_main(void *arg)
{
	struct sharer	    *s = arg;
	struct iommu_dmamap *map;
	unsigned long	     i, iters = test_scale(20000);

	if (iommu_dmamap_create(
		s->tag, 2 * PG, 1, 2 * PG, 0, IOMMU_DMA_NOWAIT, &map) != 0) {
		s->failed = 1;
		return NULL;
	}
	for (i = 0; i < iters && s->failed == 0; i++) {
		/* Across the line between the two pages: both in each map. */
		if (iommu_dmamap_load(s->tag, map,
			s->buf + PG - 64 + s->id * 16 + i % 8, 100,
			IOMMU_DMA_NOWAIT) != 0 ||
		    map->dm_nsegs != 1)
			s->failed = 2;
		iommu_dmamap_unload(s->tag, map);
	}
	iommu_dmamap_destroy(s->tag, map);
	return NULL;
}

static void
test_identity_shared_pages(void **state)
{
	struct drv_fixture	   fx;
	struct drv_fixture_opts	   o;
	struct iommu_domain_config dc;
	struct iommu_domain_stats  ds;
	struct iommu_domain	  *dom;
	struct iommu_dma_tag	  *ptag, *tag;
	struct sharer		   s[2];
	pthread_t		   thr[2];
	uint64_t		   pa;
	unsigned		   i;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_alloc = iommu_default_allocator(); /* cmocka's is not MT-safe */
	drv_fixture_init(&fx, &o);
	iommu_domain_config_init(&dc);
	dc.dc_iova = IOMMU_IOVA_IDENTITY;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, &dc, &dom), 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(fx.fx_pm, o.fo_alloc, &ptag), 0);
	assert_int_equal(iommu_dma_tag_create_iommu(dom, ptag, &tag), 0);
	assert_int_equal(iommu_physmem_alloc_pages(fx.fx_pm, 2, &pa), 0);
	for (i = 0; i < 2; i++) {
		s[i] =
		    (struct sharer){tag, iommu_physmem_kva(fx.fx_pm, pa), i, 0};
		assert_int_equal(
		    pthread_create(&thr[i], NULL, sharer_main, &s[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(thr[i], NULL), 0);
		assert_int_equal(s[i].failed, 0);
	}
	assert_int_equal(iommu_domain_sync(dom), 0);
	iommu_domain_get_stats(dom, &ds);
	assert_int_equal(ds.ds_pages_mapped, 0);
	assert_int_equal(ds.ds_enters, ds.ds_removes);
	iommu_dma_tag_destroy(tag);
	iommu_dma_tag_destroy(ptag);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, 2), 0);
	drv_fixture_fini(&fx);
}

#define PER_STRATEGY(fn)                                                       \
	cmocka_unit_test_prestate(fn, &s_per_map),                             \
	    cmocka_unit_test_prestate(fn, &s_per_seg),                         \
	    cmocka_unit_test_prestate(fn, &s_at_create),                       \
	    cmocka_unit_test_prestate(fn, &s_identity),                        \
	    cmocka_unit_test_prestate(fn, &s_per_map_mags),                    \
	    cmocka_unit_test_prestate(fn, &s_per_seg_mags),                    \
	    cmocka_unit_test_prestate(fn, &s_per_map_lazy),                    \
	    cmocka_unit_test_prestate(fn, &s_per_seg_lazy),                    \
	    cmocka_unit_test_prestate(fn, &s_at_create_lazy),                  \
	    cmocka_unit_test_prestate(fn, &s_per_map_mags_lazy)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    PER_STRATEGY(test_shared_domain),
	    PER_STRATEGY(test_own_domains),
	    cmocka_unit_test(test_identity_shared_pages),
	};

	return cmocka_run_group_tests_name("busdma_threads", tests, NULL, NULL);
}
