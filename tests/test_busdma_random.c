/*
 * Randomized bus_dma sequences (seeded, deterministic): maps with random
 * nsegments/maxsegsz/boundary, loaded with random mbuf chains over a
 * direct-map buffer and a scattered one, several maps loaded at once,
 * unloaded or destroyed in random order.  Every successful load is
 * checked from the physical side (constraints, bytes) and by the device
 * through the model; every unload by the device faulting at each old
 * segment; every failed load (EFBIG) by the domain being unchanged.  At
 * the end the domain holds no IOVA and no page.  Identity is left out: its
 * maps break each other by design (see test_busdma_iommu).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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
#include "smmuv3_defs.h"
#include "test_alloc.h"
#include "test_busdma_util.h"

#define PG	((uint64_t)IOMMU_PAGE_SIZE)
#define SID	1u
#define NMAPS	4
#define BUFPG	16
#define MAXSEGS 12
#define MAXLEN	(6 * PG)

struct slot {
	struct iommu_dmamap *map;
	int		     loaded;
	uint8_t		     expect[MAXLEN];
	size_t		     len;
};

struct rfx {
	struct drv_fixture    fx;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *ptag, *tag;
	struct test_rng	      rng;
	uint8_t		     *dbuf, *sbuf; /* direct-map and scattered */
	uint64_t	      dpa;
	struct slot	      slots[NMAPS];
	unsigned long	      nloads, nefbig, nunloads;
};

static enum iommu_iova_strategy s_per_map = IOMMU_IOVA_PER_MAP;
/* The same strategies with the per-thread IOVA magazine cache on. */
static enum iommu_iova_strategy s_per_map_mags = IOMMU_IOVA_PER_MAP;
static enum iommu_iova_strategy s_per_seg_mags = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_per_seg = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_at_create = IOMMU_IOVA_AT_CREATE;

static uint64_t
rnd(struct rfx *r, uint64_t n)
{
	return test_rng_below(&r->rng, n);
}

static void
dev_check(struct rfx *r, const struct iommu_dmamap *map, uint32_t seed)
{
	const struct iommu_dma_segment *seg;
	struct smmuv3_fault		ft;
	uint8_t				pat[MAXLEN], tmp[MAXLEN];
	int				i;

	for (i = 0; i < map->dm_nsegs; i++) {
		seg = &map->dm_segs[i];
		bt_fill(pat, seg->ds_len, seed + (uint32_t)i);
		assert_int_equal(
		    smmuv3_dma_write(r->fx.fx_model, SID, SMMUV3_NO_SSID,
			seg->ds_addr, pat, seg->ds_len, &ft),
		    0);
		assert_int_equal(iommu_physmem_read(r->fx.fx_pm, seg->_ds_paddr,
				     tmp, seg->ds_len),
		    0);
		assert_memory_equal(tmp, pat, seg->ds_len);
		assert_int_equal(
		    smmuv3_dma_read(r->fx.fx_model, SID, SMMUV3_NO_SSID,
			seg->ds_addr, tmp, seg->ds_len, &ft),
		    0);
		assert_memory_equal(tmp, pat, seg->ds_len);
	}
}

static void
dev_gone(struct rfx *r, const struct iommu_dma_segment *segs, int nsegs)
{
	struct smmuv3_fault ft;
	uint8_t		    b;
	int		    i;

	for (i = 0; i < nsegs; i++) {
		assert_int_equal(
		    smmuv3_dma_read(r->fx.fx_model, SID, SMMUV3_NO_SSID,
			segs[i].ds_addr, &b, 1, &ft),
		    EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	}
	(void)drv_fixture_drain(&r->fx);
}

static void
new_map(struct rfx *r, struct slot *sl)
{
	static const uint64_t maxsegs[] = {
	    100, 1000, PG - 1, PG, 2 * PG, MAXLEN};
	uint64_t boundary = 0;

	if (rnd(r, 3) == 0)
		boundary = PG << rnd(r, 3); /* 4, 8 or 16 KiB */
	assert_int_equal(
	    iommu_dmamap_create(r->tag, MAXLEN, 1 + (int)rnd(r, MAXSEGS),
		maxsegs[rnd(r, sizeof(maxsegs) / sizeof(maxsegs[0]))], boundary,
		IOMMU_DMA_NOWAIT, &sl->map),
	    0);
	sl->loaded = 0;
}

/* A random chain of 1..4 pieces over both buffers; fills sl->expect. */
static int
load_random(struct rfx *r, struct slot *sl)
{
	struct iommu_mbuf m[4];
	uint64_t	  off, len;
	uint8_t		 *base;
	size_t		  total = 0;
	int		  n = 1 + (int)rnd(r, 4), i;

	for (i = 0; i < n; i++) {
		base = rnd(r, 2) ? r->dbuf : r->sbuf;
		len = 1 + rnd(r, (MAXLEN / (uint64_t)n) >> rnd(r, 5));
		off = rnd(r, BUFPG * PG - len);
		m[i] = (struct iommu_mbuf){
		    i + 1 < n ? &m[i + 1] : NULL, base + off, len};
		memcpy(sl->expect + total, base + off, len);
		total += len;
	}
	sl->len = total;
	return iommu_dmamap_load_mbuf(r->tag, sl->map, m, 0);
}

static void
step(struct rfx *r, uint32_t iter)
{
	struct iommu_domain_stats before, after;
	struct iommu_dma_segment  segs[MAXSEGS];
	struct slot		 *sl = &r->slots[rnd(r, NMAPS)];
	int			  nsegs, error;

	if (sl->map == NULL)
		new_map(r, sl);
	if (!sl->loaded) {
		iommu_domain_get_stats(r->dom, &before);
		error = load_random(r, sl);
		if (error == EFBIG) {
			r->nefbig++;
			iommu_domain_get_stats(r->dom, &after);
			assert_int_equal(sl->map->dm_nsegs, 0);
			assert_int_equal(
			    before.ds_iova_bytes, after.ds_iova_bytes);
			assert_int_equal(
			    before.ds_pages_mapped, after.ds_pages_mapped);
			/* Its limits may never fit: try another map. */
			iommu_dmamap_destroy(r->tag, sl->map);
			sl->map = NULL;
			return;
		}
		assert_int_equal(error, 0);
		r->nloads++;
		sl->loaded = 1;
		bt_check_map(r->fx.fx_pm, sl->map, sl->expect, sl->len, 0);
		dev_check(r, sl->map, iter);
		return;
	}
	/* Loaded: check it still works, then unload or destroy it. */
	dev_check(r, sl->map, iter);
	nsegs = sl->map->dm_nsegs;
	memcpy(segs, sl->map->dm_segs, (size_t)nsegs * sizeof(segs[0]));
	if (rnd(r, 4) == 0) {
		iommu_dmamap_destroy(r->tag, sl->map);
		sl->map = NULL;
	} else {
		iommu_dmamap_unload(r->tag, sl->map);
	}
	sl->loaded = 0;
	r->nunloads++;
	dev_gone(r, segs, nsegs);
}

static void
test_random(void **state)
{
	struct rfx		  *r = test_calloc(1, sizeof(*r));
	struct iommu_domain_config dc;
	struct iommu_domain_stats  ds;
	void			  *kva;
	unsigned long		   i, n = test_scale(1500);
	int			   s;

	drv_fixture_init(&r->fx, NULL);
	iommu_domain_config_init(&dc);
	dc.dc_iova = *(enum iommu_iova_strategy *)*state;
	dc.dc_magazines =
	    *state == &s_per_map_mags || *state == &s_per_seg_mags;
	test_rng_seed(&r->rng, 0x5eed0000u + (uint64_t)dc.dc_iova);
	drv_fixture_busdma(&r->fx, SID, &dc, &r->dom, &r->ptag, &r->tag);
	assert_int_equal(
	    iommu_physmem_alloc_pages(r->fx.fx_pm, BUFPG, &r->dpa), 0);
	r->dbuf = iommu_physmem_kva(r->fx.fx_pm, r->dpa);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(r->fx.fx_pm, BUFPG, &kva), 0);
	r->sbuf = kva;
	bt_fill(r->dbuf, BUFPG * PG, 1);
	bt_fill(r->sbuf, BUFPG * PG, 2);

	for (i = 0; i < n; i++)
		step(r, (uint32_t)i);
	/* The mix must exercise both outcomes. */
	if (getenv("BT_VERBOSE") != NULL)
		print_message("loads %lu efbig %lu unloads %lu\n", r->nloads,
		    r->nefbig, r->nunloads);
	assert_true(r->nloads > n / 8 && r->nefbig > n / 50);
	assert_true(r->nunloads + NMAPS >= r->nloads);
	for (s = 0; s < NMAPS; s++)
		if (r->slots[s].map != NULL)
			iommu_dmamap_destroy(r->tag, r->slots[s].map);
	iommu_domain_get_stats(r->dom, &ds);
	assert_int_equal(ds.ds_pages_mapped, 0);
	assert_int_equal(ds.ds_iova_bytes, 0);

	assert_int_equal(iommu_physmem_free_scattered(r->fx.fx_pm, kva), 0);
	assert_int_equal(
	    iommu_physmem_free_pages(r->fx.fx_pm, r->dpa, BUFPG), 0);
	iommu_dma_tag_destroy(r->tag);
	iommu_dma_tag_destroy(r->ptag);
	assert_int_equal(iommu_domain_destroy(r->dom), 0);
	drv_fixture_fini(&r->fx);
	test_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(test_random, &s_per_map),
	    cmocka_unit_test_prestate(test_random, &s_per_seg),
	    cmocka_unit_test_prestate(test_random, &s_at_create),
	    cmocka_unit_test_prestate(test_random, &s_per_map_mags),
	    cmocka_unit_test_prestate(test_random, &s_per_seg_mags),
	};

	return cmocka_run_group_tests_name("busdma_random", tests, NULL, NULL);
}
