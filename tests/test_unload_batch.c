/*
 * The domain's unload batch (iommu__domain_batch_begin/_end) and the
 * bus_dma unload that uses it: one command-lock hold queues every TLBI of
 * the unload and its CMD_SYNC, and nothing the SMMU cached survives.
 *
 * Design: a drv_fixture with the model's stale-translation checker on.
 * The bus_dma test unloads a map of more pages than the batch holds (so
 * the overflow flush runs) and checks the exact command counts (one TLBI
 * per page, one CMD_SYNC) and that the device faults on the old IOVA.  The
 * direct test checks ownership: one owner per domain, a second begin (any
 * thread) is refused, a non-owner's remove is queued at once while the
 * owner's are queued only at end, and end releases the batch.  Last, the
 * domain's IOVA statistics under the magazine cache, which come from the
 * cache's own counters (no atomics of the domain's on that path).
 */
#include <errno.h>
#include <pthread.h>
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
#include "smmu_internal.h"

#define PG	 ((uint64_t)IOMMU_PAGE_SIZE)
#define SID	 3u
#define NPAGES	 (2 * SMMU_DRV_BATCH + 8) /* overflows the batch twice */
#define IOVA_DIR 0x100000ULL		  /* direct test's pages */

static enum iommu_iova_strategy s_per_map = IOMMU_IOVA_PER_MAP;
static enum iommu_iova_strategy s_at_create = IOMMU_IOVA_AT_CREATE;

static struct iommu_domain *
new_domain(struct drv_fixture *fx, enum iommu_iova_strategy strat)
{
	struct iommu_domain_config dc;
	struct iommu_domain	  *dom;

	iommu_domain_config_init(&dc);
	dc.dc_iova = strat;
	assert_int_equal(iommu_domain_create(fx->fx_smmu, SID, &dc, &dom), 0);
	return dom;
}

static void
test_busdma_unload_batched(void **state)
{
	enum iommu_iova_strategy strat =
	    *(const enum iommu_iova_strategy *)*state;
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_dma_tag	 *ptag, *tag;
	struct iommu_dmamap	 *map;
	struct iommu_domain_stats d0, d1;
	struct iommu_smmu_stats	  s0, s1;
	struct smmuv3_fault	  ft;
	uint64_t		  pa, iova;
	uint8_t			 *buf, b;
	unsigned		  i;

	drv_fixture_init(&fx, NULL);
	dom = new_domain(&fx, strat);
	assert_int_equal(
	    iommu_dma_tag_create_platform(fx.fx_pm, fx.fx_alloc, &ptag), 0);
	assert_int_equal(iommu_dma_tag_create_iommu(dom, ptag, &tag), 0);
	assert_int_equal(
	    iommu_dmamap_create(tag, NPAGES * PG, 1, NPAGES * PG, 0, 0, &map),
	    0);
	assert_int_equal(iommu_physmem_alloc_pages(fx.fx_pm, NPAGES, &pa), 0);
	buf = iommu_physmem_kva(fx.fx_pm, pa);
	for (i = 0; i < NPAGES; i++)
		buf[i * PG] = (uint8_t)(i + 1);

	assert_int_equal(iommu_dmamap_load(tag, map, buf, NPAGES * PG, 0), 0);
	assert_int_equal(map->dm_nsegs, 1);
	iova = map->dm_segs[0].ds_addr;
	/* The device reads every page: the model's TLB holds them all. */
	for (i = 0; i < NPAGES; i++) {
		assert_int_equal(
		    drv_dev_read(&fx, SID, iova + i * PG, &b, 1, &ft), 0);
		assert_int_equal(b, (uint8_t)(i + 1));
	}
	iommu_domain_get_stats(dom, &d0);
	iommu_smmu_get_stats(fx.fx_smmu, &s0);
	iommu_dmamap_unload(tag, map);
	iommu_domain_get_stats(dom, &d1);
	iommu_smmu_get_stats(fx.fx_smmu, &s1);

	assert_int_equal(d1.ds_removes - d0.ds_removes, NPAGES);
	assert_int_equal(d1.ds_tlbi - d0.ds_tlbi, NPAGES);
	assert_int_equal(d1.ds_syncs - d0.ds_syncs, 1);
	assert_int_equal(s1.ss_syncs - s0.ss_syncs, 1);
	assert_int_equal(s1.ss_commands - s0.ss_commands, NPAGES + 1);
	/* The batch was released. */
	assert_int_equal(atomic_load(&dom->dom_batch_owner), 0);
	assert_int_equal(dom->dom_batch_n, 0);
	for (i = 0; i < NPAGES; i++)
		assert_int_not_equal(
		    drv_dev_read(&fx, SID, iova + i * PG, &b, 1, &ft), 0);
	assert_int_equal(atomic_load(&fx.fx_stale), 0);

	iommu_dmamap_destroy(tag, map);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, pa, NPAGES), 0);
	iommu_dma_tag_destroy(tag);
	iommu_dma_tag_destroy(ptag);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

struct other {
	struct iommu_domain *dom;
	bool		     began;
	uint64_t	     tlbi_before, tlbi_after;
	int		     enter, remove;
};

/* Another thread during our batch: refused, and its remove goes out. */
static void *
other_thread(void *arg)
{
	struct other		 *o = arg;
	struct iommu_domain_stats st;

	o->began = iommu__domain_batch_begin(o->dom);
	iommu_domain_get_stats(o->dom, &st);
	o->tlbi_before = st.ds_tlbi;
	o->enter = iommu_domain_enter(o->dom, IOVA_DIR + PG, 0x80000000ULL,
	    IOMMU_PROT_READ, IOMMU_CACHE_WB);
	o->remove = iommu_domain_remove(o->dom, IOVA_DIR + PG);
	iommu_domain_get_stats(o->dom, &st);
	o->tlbi_after = st.ds_tlbi;
	return NULL;
}

static void
test_batch_ownership(void **state)
{
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_domain_stats st0, st1;
	struct other		  o;
	pthread_t		  thr;

	(void)state;
	drv_fixture_init(&fx, NULL);
	dom = new_domain(&fx, IOMMU_IOVA_PER_MAP);
	assert_int_equal(iommu_domain_enter(dom, IOVA_DIR, 0x80000000ULL,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB),
	    0);
	iommu_domain_get_stats(dom, &st0);

	assert_true(iommu__domain_batch_begin(dom));
	assert_false(iommu__domain_batch_begin(dom)); /* one at a time */
	assert_int_equal(iommu_domain_remove(dom, IOVA_DIR), 0);
	iommu_domain_get_stats(dom, &st1);
	assert_int_equal(st1.ds_tlbi, st0.ds_tlbi); /* noted, not queued */
	assert_int_equal(dom->dom_batch_n, 1);

	memset(&o, 0, sizeof(o));
	o.dom = dom;
	assert_int_equal(pthread_create(&thr, NULL, other_thread, &o), 0);
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_false(o.began);
	assert_int_equal(o.enter, 0);
	assert_int_equal(o.remove, 0);
	assert_int_equal(o.tlbi_after - o.tlbi_before, 1);
	assert_int_equal(dom->dom_batch_n, 1);

	assert_int_equal(iommu__domain_batch_end(dom, true, true), 0);
	iommu_domain_get_stats(dom, &st1);
	assert_int_equal(st1.ds_tlbi - st0.ds_tlbi, 2);
	assert_int_equal(st1.ds_syncs - st0.ds_syncs, 1);
	assert_int_equal(dom->dom_batch_n, 0);

	/* Released: taken again; end without sync issues no CMD_SYNC. */
	assert_true(iommu__domain_batch_begin(dom));
	assert_int_equal(iommu__domain_batch_end(dom, true, false), 0);
	iommu_domain_get_stats(dom, &st0);
	assert_int_equal(st0.ds_syncs, st1.ds_syncs);
	/* Not batched, no sync: nothing at all. */
	assert_int_equal(iommu__domain_batch_end(dom, false, false), 0);
	/* Not batched (another owner held it), sync: an ordinary sync. */
	assert_int_equal(iommu__domain_batch_end(dom, false, true), 0);
	iommu_domain_get_stats(dom, &st1);
	assert_int_equal(st1.ds_syncs - st0.ds_syncs, 1);

	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

/* NO_TLBI: the batch counts the remove but queues no TLBI. */
static void
test_batch_mutant_no_tlbi(void **state)
{
	struct drv_fixture_opts	  fo;
	struct drv_fixture	  fx;
	struct iommu_domain	 *dom;
	struct iommu_domain_stats st0, st1;

	(void)state;
#if !IOMMU_MUTANTS
	skip(); /* a build without the mutants (IOMMU_MUTANTS=OFF) */
#endif
	drv_fixture_opts_init(&fo);
	fo.fo_smmu.sc_mutations = IOMMU_SMMU_MUTATE_NO_TLBI;
	drv_fixture_init(&fx, &fo);
	dom = new_domain(&fx, IOMMU_IOVA_PER_MAP);
	assert_int_equal(iommu_domain_enter(dom, IOVA_DIR, 0x80000000ULL,
			     IOMMU_PROT_READ, IOMMU_CACHE_WB),
	    0);
	iommu_domain_get_stats(dom, &st0);
	assert_true(iommu__domain_batch_begin(dom));
	assert_int_equal(iommu_domain_remove(dom, IOVA_DIR), 0);
	assert_int_equal(dom->dom_batch_n, 1); /* noted: it is counted */
	assert_int_equal(iommu__domain_batch_end(dom, true, true), 0);
	iommu_domain_get_stats(dom, &st1);
	assert_int_equal(st1.ds_tlbi, st0.ds_tlbi);
	assert_int_equal(st1.ds_removes - st0.ds_removes, 1);
	assert_int_equal(st1.ds_pages_mapped, 0);
	assert_int_equal(st1.ds_enters, st0.ds_enters);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

/*
 * A domain with the IOVA cache takes its IOVA statistics from the cache's
 * own per-thread counters: exact for hits, misses and the bypass (sizes
 * above the largest class), for allocations and frees.
 */
static void
test_magazine_domain_stats(void **state)
{
	struct drv_fixture	   fx;
	struct iommu_domain_config dc;
	struct iommu_domain	  *dom;
	struct iommu_domain_stats  st;
	uint64_t		   iova[6], big = 4096 * PG;
	unsigned		   i;

	(void)state;
	drv_fixture_init(&fx, NULL);
	iommu_domain_config_init(&dc);
	dc.dc_magazines = true;
	assert_int_equal(iommu_domain_create(fx.fx_smmu, SID, &dc, &dom), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(
		    iommu_domain_iova_alloc(dom, (i + 1) * PG, NULL, &iova[i]),
		    0);
	assert_int_equal(iommu_domain_iova_alloc(dom, big, NULL, &iova[5]), 0);
	iommu_domain_get_stats(dom, &st);
	assert_int_equal(st.ds_iova_allocs, 6);
	assert_int_equal(st.ds_iova_frees, 0);
	assert_int_equal(st.ds_iova_bytes, 15 * PG + big);
	assert_int_equal(iommu_domain_iova_free(dom, iova[5], big), 0);
	assert_int_equal(iommu_domain_iova_free(dom, iova[1], 2 * PG), 0);
	iommu_domain_get_stats(dom, &st);
	assert_int_equal(st.ds_iova_frees, 2);
	assert_int_equal(st.ds_iova_bytes, 13 * PG);
	/* A cache hit: the range just freed comes back. */
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, 2 * PG, NULL, &iova[1]), 0);
	iommu_domain_get_stats(dom, &st);
	assert_int_equal(st.ds_iova_allocs, 7);
	assert_int_equal(st.ds_iova_bytes, 15 * PG);
	for (i = 0; i < 5; i++)
		assert_int_equal(
		    iommu_domain_iova_free(dom, iova[i], (i + 1) * PG), 0);
	iommu_domain_get_stats(dom, &st);
	assert_int_equal(st.ds_iova_frees, 7);
	assert_int_equal(st.ds_iova_bytes, 0);
	assert_int_equal(st.ds_iova_failures, 0);
	assert_int_equal(
	    iommu_domain_iova_alloc(dom, 1ULL << 48, NULL, &iova[0]), EAGAIN);
	iommu_domain_get_stats(dom, &st);
	assert_int_equal(st.ds_iova_failures, 1);
	assert_int_equal(st.ds_iova_allocs, 7);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	drv_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(test_busdma_unload_batched, &s_per_map),
	    cmocka_unit_test_prestate(test_busdma_unload_batched, &s_at_create),
	    cmocka_unit_test(test_batch_ownership),
	    cmocka_unit_test(test_batch_mutant_no_tlbi),
	    cmocka_unit_test(test_magazine_domain_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
