/*
 * bus_dma through a domain with the per-thread IOVA magazine cache on
 * (iommu_domain_config.dc_magazines), checked against the model:
 *   - random load/unload of mbuf-like buffers on many maps; after every
 *     load each segment translates (smmuv3_probe, no side effects) to its
 *     own physical address, no two loaded maps share an IOVA page, and
 *     after unload the old IOVA faults unless a loaded map owns it again
 *     (a cached IOVA is never handed out twice, never while mapped);
 *   - the same from several threads on one shared domain, each thread
 *     checking its own translations (a range handed to two threads shows
 *     as a wrong PA);
 *   - teardown: destroying the domain gives back every frame;
 *   - host-allocation failure: with the cache on, a load reaches the host
 *     allocator (the thread's cache on first use, an extent descriptor on
 *     a miss); failing every host allocation from the k-th on, for each k,
 *     the load returns ENOMEM and leaves no IOVA, PTED or mapping behind,
 *     and nothing leaks; the same when the PTED pool runs dry at each
 *     page (the IOVA the load took goes back through the cache).
 * With the driver ignoring dc_magazines the suite checks the plain arena;
 * once the domain routes its IOVA through the cache it checks the cache.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"

#define SID   0x31u
#define PG    IOMMU_PAGE_SIZE
#define NMAPS 24

struct mapslot {
	struct iommu_dmamap *map;
	uint64_t	     pa; /* 4-page buffer */
	unsigned char	    *kva;
	bool		     loaded;
};

struct world {
	struct drv_fixture    fx;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *platform, *tag;
};

static void
world_init(struct world *w, bool threads)
{
	struct drv_fixture_opts	   o;
	struct iommu_domain_config dc;

	drv_fixture_opts_init(&o);
	if (threads)
		o.fo_alloc = iommu_default_allocator();
	drv_fixture_init(&w->fx, &o);
	iommu_domain_config_init(&dc);
	dc.dc_magazines = true;
	drv_fixture_busdma(&w->fx, SID, &dc, &w->dom, &w->platform, &w->tag);
}

static void
world_fini(struct world *w)
{
	iommu_dma_tag_destroy(w->tag);
	iommu_dma_tag_destroy(w->platform);
	assert_int_equal(iommu_domain_destroy(w->dom), 0);
	assert_int_equal(w->fx.fx_stale, 0);
	drv_fixture_fini(&w->fx);
}

static void
slots_init(struct world *w, struct mapslot *s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		assert_int_equal(
		    iommu_physmem_alloc_pages(w->fx.fx_pm, 4, &s[i].pa), 0);
		s[i].kva = iommu_physmem_kva(w->fx.fx_pm, s[i].pa);
		assert_int_equal(iommu_dmamap_create(w->tag, 4 * PG, 4, 4 * PG,
				     0, IOMMU_DMA_NOWAIT, &s[i].map),
		    0);
		s[i].loaded = false;
	}
}

static void
slots_fini(struct world *w, struct mapslot *s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		iommu_dmamap_destroy(w->tag, s[i].map);
		assert_int_equal(
		    iommu_physmem_free_pages(w->fx.fx_pm, s[i].pa, 4), 0);
	}
}

/* Loads a 1..3-segment chain at random offsets; 0 or the load's error. */
static int
load_random(struct world *w, struct mapslot *s, struct test_rng *rng)
{
	struct iommu_mbuf m[3];
	unsigned	  nseg = 1 + (unsigned)test_rng_below(rng, 3), i;
	size_t		  off = test_rng_below(rng, 256);

	for (i = 0; i < nseg; i++) {
		size_t len = 1 + test_rng_below(rng, PG + PG / 2);

		m[i].m_data = s->kva + off;
		m[i].m_len = len;
		m[i].m_next = i + 1 < nseg ? &m[i + 1] : NULL;
		off += len + 8 + test_rng_below(rng, 64);
		if (off + PG + PG / 2 > 4 * PG) {
			m[i].m_next = NULL;
			break;
		}
	}
	return iommu_dmamap_load_mbuf(w->tag, s->map, m, IOMMU_DMA_NOWAIT);
}

/* Every byte range of every segment translates to its own PA. */
static int
check_translates(struct world *w, const struct iommu_dmamap *map)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    k;
	int		    i;

	for (i = 0; i < map->dm_nsegs; i++) {
		const struct iommu_dma_segment *sg = &map->dm_segs[i];

		for (k = 0; k < sg->ds_len; k += PG / 2) {
			if (smmuv3_probe(w->fx.fx_model, SID, SMMUV3_NO_SSID,
				sg->ds_addr + k, SMMUV3_ACCESS_READ, &xl,
				&ft) != 0)
				return EFAULT;
			if (xl.xl_pa != sg->_ds_paddr + k)
				return EINVAL;
		}
		if (smmuv3_probe(w->fx.fx_model, SID, SMMUV3_NO_SSID,
			sg->ds_addr + sg->ds_len - 1, SMMUV3_ACCESS_READ, &xl,
			&ft) != 0 ||
		    xl.xl_pa != sg->_ds_paddr + sg->ds_len - 1)
			return EINVAL;
	}
	return 0;
}

static bool
page_loaded(struct mapslot *s, unsigned n, uint64_t page)
{
	unsigned i;
	int	 j;

	for (i = 0; i < n; i++) {
		if (!s[i].loaded)
			continue;
		for (j = 0; j < s[i].map->dm_nsegs; j++) {
			const struct iommu_dma_segment *sg =
			    &s[i].map->dm_segs[j];
			uint64_t first = sg->ds_addr & ~(uint64_t)(PG - 1);
			uint64_t last = (sg->ds_addr + sg->ds_len - 1) &
			    ~(uint64_t)(PG - 1);

			if (page >= first && page <= last)
				return true;
		}
	}
	return false;
}

static void
test_random_single(void **state)
{
	struct world	    w;
	struct mapslot	    s[NMAPS];
	struct test_rng	    rng;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    old[8];
	unsigned long	    it, iters = test_scale(3000);
	unsigned	    i, n, k;
	int		    j;

	(void)state;
	world_init(&w, false);
	slots_init(&w, s, NMAPS);
	test_rng_seed(&rng, 0x6d61);
	for (it = 0; it < iters; it++) {
		i = (unsigned)test_rng_below(&rng, NMAPS);
		if (s[i].loaded) {
			n = 0;
			for (j = 0; j < s[i].map->dm_nsegs && n < 8; j++)
				old[n++] = s[i].map->dm_segs[j].ds_addr;
			iommu_dmamap_unload(w.tag, s[i].map);
			s[i].loaded = false;
			for (k = 0; k < n; k++) {
				uint64_t page = old[k] & ~(uint64_t)(PG - 1);

				if (!page_loaded(s, NMAPS, page))
					assert_int_equal(
					    smmuv3_probe(w.fx.fx_model, SID,
						SMMUV3_NO_SSID, old[k],
						SMMUV3_ACCESS_READ, &xl, &ft),
					    EFAULT);
			}
			continue;
		}
		assert_int_equal(load_random(&w, &s[i], &rng), 0);
		/* No page of the new load is already another map's. */
		for (j = 0; j < s[i].map->dm_nsegs; j++) {
			const struct iommu_dma_segment *sg =
			    &s[i].map->dm_segs[j];
			uint64_t p;

			for (p = sg->ds_addr & ~(uint64_t)(PG - 1);
			     p < sg->ds_addr + sg->ds_len; p += PG)
				assert_false(page_loaded(s, NMAPS, p));
		}
		s[i].loaded = true;
		assert_int_equal(check_translates(&w, s[i].map), 0);
	}
	slots_fini(&w, s, NMAPS);
	world_fini(&w);
}

#define NTHREADS 3
#define TMAPS	 8

struct tworker {
	struct world  *w;
	struct mapslot s[TMAPS];
	unsigned       id;
	atomic_int    *bad;
};

static void *
worker_main(void *arg)
{
	struct tworker *t = arg;
	struct test_rng rng;
	unsigned long	it, iters = test_scale(2000);
	unsigned	i;

	test_rng_seed(&rng, 1000 + t->id);
	for (it = 0; it < iters; it++) {
		i = (unsigned)test_rng_below(&rng, TMAPS);
		if (t->s[i].loaded) {
			iommu_dmamap_unload(t->w->tag, t->s[i].map);
			t->s[i].loaded = false;
			continue;
		}
		if (load_random(t->w, &t->s[i], &rng) != 0) {
			atomic_fetch_add(t->bad, 1);
			continue;
		}
		t->s[i].loaded = true;
		if (check_translates(t->w, t->s[i].map) != 0)
			atomic_fetch_add(t->bad, 1);
	}
	for (i = 0; i < TMAPS; i++)
		if (t->s[i].loaded)
			iommu_dmamap_unload(t->w->tag, t->s[i].map);
	return NULL;
}

static void
test_threads_shared_domain(void **state)
{
	static struct tworker t[NTHREADS];
	struct world	      w;
	pthread_t	      tid[NTHREADS];
	atomic_int	      bad = 0;
	unsigned	      i;

	(void)state;
	world_init(&w, true);
	for (i = 0; i < NTHREADS; i++) {
		t[i].w = &w;
		t[i].id = i;
		t[i].bad = &bad;
		slots_init(&w, t[i].s, TMAPS);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&tid[i], NULL, worker_main, &t[i]), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	assert_int_equal(atomic_load(&bad), 0);
	for (i = 0; i < NTHREADS; i++)
		slots_fini(&w, t[i].s, TMAPS);
	world_fini(&w);
}

/*
 * A range freed into the cache is still allocated in the arena; reserving
 * it must return it to the arena first instead of failing.
 */
static void
test_reserve_takes_back_cached_iova(void **state)
{
	struct world w;
	uint64_t     iova, again;

	(void)state;
	world_init(&w, false);
	assert_int_equal(iommu_domain_iova_alloc(w.dom, PG, NULL, &iova), 0);
	assert_int_equal(iommu_domain_iova_free(w.dom, iova, PG), 0);
	assert_int_equal(iommu_domain_reserve(w.dom, iova, PG), 0);
	assert_int_equal(iommu_domain_iova_alloc(w.dom, PG, NULL, &again), 0);
	assert_int_not_equal(again, iova);
	assert_int_equal(iommu_domain_iova_free(w.dom, again, PG), 0);
	world_fini(&w);
}

/* The parts of a domain a failed load must leave as they were. */
struct fi_state {
	uint64_t iova_bytes, pages_mapped, pted_out;
};

static void
fi_state(struct world *w, struct fi_state *st)
{
	struct iommu_domain_stats ds;
	struct iommu_pool_stats	  ps;

	iommu_domain_get_stats(w->dom, &ds);
	iommu_pool_get_stats(w->fx.fx_smmu->sc_pted_pool, &ps);
	st->iova_bytes = ds.ds_iova_bytes;
	st->pages_mapped = ds.ds_pages_mapped;
	st->pted_out = ps.pst_items_out;
}

static void
test_host_alloc_injection(void **state)
{
	struct test_counting_alloc ca;
	struct drv_fixture_opts	   o;
	struct iommu_domain_config dc;
	struct iommu_dmamap	  *map, *map2;
	struct iommu_mbuf	   m[3];
	struct fi_state		   s0, s1;
	struct world		   w;
	unsigned char		  *kva;
	uint64_t		   pa;
	size_t			   base;
	unsigned		   k, nfail = 0;
	int			   error;

	(void)state;
	test_counting_alloc_init(&ca);
	drv_fixture_opts_init(&o);
	o.fo_alloc = &ca.tc_ops;
	drv_fixture_init(&w.fx, &o);
	iommu_domain_config_init(&dc);
	dc.dc_magazines = true;
	assert_int_equal(
	    iommu_domain_create(w.fx.fx_smmu, SID, &dc, &w.dom), 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(w.fx.fx_pm, &ca.tc_ops, &w.platform),
	    0);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(w.dom, w.platform, &w.tag), 0);
	assert_int_equal(iommu_physmem_alloc_pages(w.fx.fx_pm, 4, &pa), 0);
	kva = iommu_physmem_kva(w.fx.fx_pm, pa);
	m[0] = (struct iommu_mbuf){&m[1], kva + 100, 200};
	m[1] = (struct iommu_mbuf){&m[2], kva + 3 * PG + 10, 30};
	m[2] = (struct iommu_mbuf){NULL, kva + 2 * PG - 50, 100};
	assert_int_equal(
	    iommu_dmamap_create(w.tag, 4 * PG, 3, PG, 0, 0, &map), 0);
	for (k = 1;; k++) {
		fi_state(&w, &s0);
		test_counting_alloc_fail_after(&ca, k, 1);
		error = iommu_dmamap_load_mbuf(w.tag, map, m, 0);
		test_counting_alloc_fail_after(&ca, 0, 0);
		if (error == 0)
			break;
		assert_int_equal(error, ENOMEM);
		assert_int_equal(map->dm_nsegs, 0);
		fi_state(&w, &s1);
		assert_memory_equal(&s0, &s1, sizeof(s0));
		nfail++;
		assert_true(k < 256);
	}
	/* The first host allocation of a load with an empty cache fails. */
	assert_true(nfail >= 1);
	assert_int_equal(check_translates(&w, map), 0);
	iommu_dmamap_unload(w.tag, map);
	/* The cached IOVA comes back with its pages' PTEDs: none taken. */
	fi_state(&w, &s0);
	assert_int_equal(
	    iommu_pool_sethardlimit(w.fx.fx_smmu->sc_pted_pool, s0.pted_out),
	    0);
	assert_int_equal(iommu_dmamap_load_mbuf(w.tag, map, m, 0), 0);
	assert_int_equal(
	    iommu_pool_sethardlimit(w.fx.fx_smmu->sc_pted_pool, SIZE_MAX), 0);
	assert_int_equal(check_translates(&w, map), 0);
	/*
	 * Fresh IOVA for a second map: PTED pool empty at each page.  A
	 * failed load keeps the PTEDs of the pages it took back (parked on
	 * them, not lost: the retry uses them), so the limit counts from a
	 * fixed base.
	 */
	assert_int_equal(
	    iommu_dmamap_create(w.tag, 4 * PG, 3, PG, 0, 0, &map2), 0);
	fi_state(&w, &s0);
	base = s0.pted_out;
	for (k = 1, nfail = 0;; k++) {
		fi_state(&w, &s0);
		assert_int_equal(iommu_pool_sethardlimit(
				     w.fx.fx_smmu->sc_pted_pool, base + k - 1),
		    0);
		error = iommu_dmamap_load_mbuf(w.tag, map2, m, 0);
		assert_int_equal(iommu_pool_sethardlimit(
				     w.fx.fx_smmu->sc_pted_pool, SIZE_MAX),
		    0);
		if (error == 0)
			break;
		assert_int_equal(error, ENOMEM);
		assert_int_equal(map2->dm_nsegs, 0);
		fi_state(&w, &s1);
		assert_int_equal(s0.iova_bytes, s1.iova_bytes);
		assert_int_equal(s0.pages_mapped, s1.pages_mapped);
		assert_true(s1.pted_out <= base + k - 1);
		nfail++;
		assert_true(k < 16);
	}
	assert_int_equal(nfail, 4); /* one PTED per page entered */
	assert_int_equal(check_translates(&w, map2), 0);
	iommu_dmamap_unload(w.tag, map2);
	iommu_dmamap_destroy(w.tag, map2);
	iommu_dmamap_unload(w.tag, map);
	iommu_dmamap_destroy(w.tag, map);
	assert_int_equal(iommu_physmem_free_pages(w.fx.fx_pm, pa, 4), 0);
	world_fini(&w);
	assert_int_equal(ca.tc_live_blocks, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_single),
	    cmocka_unit_test(test_threads_shared_domain),
	    cmocka_unit_test(test_reserve_takes_back_cached_iova),
	    cmocka_unit_test(test_host_alloc_injection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
