/*
 * Tests of the IOMMU bus_dma tag against the SMMUv3 model, under every
 * IOVA strategy: loads of every kind checked end to end by acting as the
 * device (DMA through the model lands on the right physical bytes, and
 * faults with F_TRANSLATION after unload), the double-mapping regression
 * (and the hazard the identity strategy demonstrates), destroy while
 * loaded, EINVAL/EFBIG, fault injection at every allocation point a load
 * reaches (extent, PTED pool, VP pool, frames) with the domain left
 * exactly as before, and the missing-invalidation mutants.
 *
 * Each strategy-dependent test runs once per strategy (cmocka prestate);
 * the fixture is simulated RAM + model + attached driver (drv_fixture),
 * one domain (SID 1) and a platform tag wrapped by the domain's tag.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"
#include "test_busdma_util.h"

#define PG  ((uint64_t)IOMMU_PAGE_SIZE)
#define SID 1u

struct bfx {
	struct drv_fixture	 fx;
	struct iommu_domain	*dom;
	struct iommu_dma_tag	*ptag, *tag;
	enum iommu_iova_strategy strat;
};

static enum iommu_iova_strategy s_per_map = IOMMU_IOVA_PER_MAP;
static enum iommu_iova_strategy s_per_seg = IOMMU_IOVA_PER_SEGMENT;
static enum iommu_iova_strategy s_at_create = IOMMU_IOVA_AT_CREATE;
static enum iommu_iova_strategy s_identity = IOMMU_IOVA_IDENTITY;

static struct iommu_domain *
new_domain(struct bfx *f, uint32_t sid)
{
	struct iommu_domain_config dc;
	struct iommu_domain	  *dom;

	iommu_domain_config_init(&dc);
	dc.dc_iova = f->strat;
	assert_int_equal(iommu_domain_create(f->fx.fx_smmu, sid, &dc, &dom), 0);
	return dom;
}

/*
 * The fixture lives inside each test body: cmocka checks setup, test and
 * teardown for leaks separately, and pool pages the test makes the driver
 * allocate are released only at detach.
 */
static struct bfx *
bfx_begin(void **state, const struct drv_fixture_opts *o)
{
	struct bfx *f = test_calloc(1, sizeof(*f));

	f->strat = *(const enum iommu_iova_strategy *)*state;
	if (getenv("BT_VERBOSE") != NULL)
		print_message("strategy %d\n", (int)f->strat);
	drv_fixture_init(&f->fx, o);
	f->dom = new_domain(f, SID);
	assert_int_equal(iommu_dma_tag_create_platform(
			     f->fx.fx_pm, f->fx.fx_alloc, &f->ptag),
	    0);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(f->dom, f->ptag, &f->tag), 0);
	return f;
}

static void
bfx_end(struct bfx *f)
{
	iommu_dma_tag_destroy(f->tag);
	iommu_dma_tag_destroy(f->ptag);
	assert_int_equal(iommu_domain_destroy(f->dom), 0);
	drv_fixture_fini(&f->fx);
	test_free(f);
}

static int
identity(const struct bfx *f)
{
	return f->strat == IOMMU_IOVA_IDENTITY;
}

/* npages of physically contiguous RAM inside one 2 MiB block. */
static uint8_t *
dmap_buf(struct bfx *f, size_t npages, uint64_t *pa)
{
	uint64_t spare[8];
	int	 n = 0;

	for (;;) {
		assert_int_equal(
		    iommu_physmem_alloc_pages(f->fx.fx_pm, npages, pa), 0);
		if ((*pa >> 21) == ((*pa + npages * PG - 1) >> 21))
			break;
		assert_true(n < 8);
		spare[n++] = *pa;
	}
	while (n-- > 0)
		assert_int_equal(
		    iommu_physmem_free_pages(f->fx.fx_pm, spare[n], npages), 0);
	return iommu_physmem_kva(f->fx.fx_pm, *pa);
}

static void
free_buf(struct bfx *f, uint64_t pa, size_t npages)
{
	assert_int_equal(iommu_physmem_free_pages(f->fx.fx_pm, pa, npages), 0);
}

/*
 * The device writes a pattern over the segment through the SMMU; it must
 * land at the segment's physical bytes (and its kernel address), and read
 * back the same through the SMMU.
 */
static void
dev_check_seg(struct bfx *f, const struct iommu_dma_segment *seg, uint32_t seed)
{
	struct smmuv3_fault ft;
	uint8_t *pat = malloc(seg->ds_len), *tmp = malloc(seg->ds_len);

	assert_non_null(pat);
	assert_non_null(tmp);
	bt_fill(pat, seg->ds_len, seed);
	assert_int_equal(smmuv3_dma_write(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			     seg->ds_addr, pat, seg->ds_len, &ft),
	    0);
	assert_int_equal(
	    iommu_physmem_read(f->fx.fx_pm, seg->_ds_paddr, tmp, seg->ds_len),
	    0);
	assert_memory_equal(tmp, pat, seg->ds_len);
	if (seg->_ds_vaddr != NULL)
		assert_memory_equal(seg->_ds_vaddr, pat, seg->ds_len);
	memset(tmp, 0, seg->ds_len);
	assert_int_equal(smmuv3_dma_read(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			     seg->ds_addr, tmp, seg->ds_len, &ft),
	    0);
	assert_memory_equal(tmp, pat, seg->ds_len);
	free(pat);
	free(tmp);
}

static void
dev_check_map(struct bfx *f, const struct iommu_dmamap *map, uint32_t seed)
{
	int i;

	for (i = 0; i < map->dm_nsegs; i++)
		dev_check_seg(f, &map->dm_segs[i], seed + (uint32_t)i);
}

/* A device read at iova is not translated. */
static void
dev_expect_fault(struct bfx *f, uint64_t iova)
{
	struct smmuv3_fault ft;
	uint8_t		    b;

	memset(&ft, 0, sizeof(ft));
	assert_int_equal(smmuv3_dma_read(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			     iova, &b, 1, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
	assert_true(ft.ft_recorded);
	(void)drv_fixture_drain(&f->fx);
}

/* Every byte range the map's segments covered now faults. */
static void
dev_expect_map_gone(
    struct bfx *f, const struct iommu_dma_segment *segs, int nsegs)
{
	int i;

	for (i = 0; i < nsegs; i++) {
		dev_expect_fault(f, segs[i].ds_addr);
		dev_expect_fault(f, segs[i].ds_addr + segs[i].ds_len - 1);
	}
}

/* Snapshot of everything a load may touch. */
struct snap {
	uint64_t iova_bytes, pages_mapped, pted_out, vp_out, frames;
	uint64_t pt_levels[4], pt_pteds;
	char	*extent;
};

static void
take_snap(struct bfx *f, struct iommu_domain *dom, struct snap *s)
{
	struct iommu_domain_stats  ds;
	struct iommu_pool_stats	   ps;
	struct iommu_physmem_stats pm;
	struct iommu_pt_stats	   pt;
	size_t			   len;
	FILE			  *fp;

	memset(s, 0, sizeof(*s));
	iommu_domain_get_stats(dom, &ds);
	s->iova_bytes = ds.ds_iova_bytes;
	s->pages_mapped = ds.ds_pages_mapped;
	iommu_pool_get_stats(f->fx.fx_smmu->sc_pted_pool, &ps);
	s->pted_out = ps.pst_items_out;
	iommu_pool_get_stats(f->fx.fx_smmu->sc_vp_pool, &ps);
	s->vp_out = ps.pst_items_out;
	iommu_physmem_get_stats(f->fx.fx_pm, &pm);
	s->frames = pm.ps_frames_in_use;
	iommu_pt_get_stats(dom->dom_pt, &pt);
	memcpy(s->pt_levels, pt.pts_levels, sizeof(s->pt_levels));
	s->pt_pteds = pt.pts_pteds;
	fp = open_memstream(&s->extent, &len);
	assert_non_null(fp);
	iommu_extent_print(dom->dom_iovamap, fp);
	fclose(fp);
}

/*
 * The mappings are as before: IOVA, mapped pages, PTEDs and the arena.
 * Table levels (VP items, frames) are not compared: they are never freed.
 */
static void
assert_snap_maps_equal(struct snap *a, struct snap *b)
{
	assert_int_equal(a->iova_bytes, b->iova_bytes);
	assert_int_equal(a->pages_mapped, b->pages_mapped);
	assert_int_equal(a->pted_out, b->pted_out);
	assert_int_equal(a->pt_pteds, b->pt_pteds);
	assert_string_equal(a->extent, b->extent);
	free(a->extent);
	free(b->extent);
	a->extent = b->extent = NULL;
}

/* Everything is exactly as before, table levels included. */
static void
assert_snap_equal(struct snap *a, struct snap *b)
{
	assert_int_equal(a->vp_out, b->vp_out);
	assert_int_equal(a->frames, b->frames);
	assert_memory_equal(a->pt_levels, b->pt_levels, sizeof(a->pt_levels));
	assert_snap_maps_equal(a, b);
}

/* Load, check from both sides, unload, check the device faults. */
static void
e2e_finish(struct bfx *f, struct iommu_dmamap *map, const uint8_t *expect,
    size_t len, uint32_t seed)
{
	struct iommu_dma_segment segs[16];
	int			 nsegs = map->dm_nsegs;

	bt_check_map(f->fx.fx_pm, map, expect, len, identity(f));
	assert_true(nsegs <= 16);
	memcpy(segs, map->dm_segs, (size_t)nsegs * sizeof(segs[0]));
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 0, len, IOMMU_DMA_PREWRITE), 0);
	dev_check_map(f, map, seed);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 0, len, IOMMU_DMA_POSTREAD), 0);
	iommu_dmamap_unload(f->tag, map);
	assert_int_equal(map->dm_nsegs, 0);
	dev_expect_map_gone(f, segs, nsegs);
}

static void
test_e2e(void **state)
{
	struct bfx		*f = bfx_begin(state, NULL);
	struct iommu_dmamap	*map;
	struct iommu_mbuf	 m[3];
	struct iovec		 iov[2];
	struct iommu_uio	 uio;
	struct iommu_dma_segment raw[1];
	struct snap		 s0, s1;
	uint8_t			*buf, expect[4 * 4096];
	void			*kva;
	uint64_t		 pa;
	int			 rsegs;

	assert_int_equal(iommu_dma_tag_flags(f->tag) & IOMMU_DMA_COHERENT,
	    IOMMU_DMA_COHERENT);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 8, 4 * PG, 0, 0, &map), 0);
	take_snap(f, f->dom, &s0);

	/* Contiguous: 3 pages + 5 bytes from offset 123, one segment. */
	buf = dmap_buf(f, 4, &pa);
	bt_fill(buf, 4 * PG, 10);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + 123, 3 * PG + 5, 0), 0);
	assert_int_equal(map->dm_nsegs, 1);
	e2e_finish(f, map, buf + 123, 3 * PG + 5, 100);
	free_buf(f, pa, 4);

	/* Scattered: four physically separate pieces. */
	assert_int_equal(
	    iommu_physmem_alloc_scattered(f->fx.fx_pm, 4, &kva), 0);
	buf = kva;
	bt_fill(buf, 4 * PG, 11);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + 77, 3 * PG, 0), 0);
	assert_int_equal(map->dm_nsegs, 4);
	e2e_finish(f, map, buf + 77, 3 * PG, 200);

	/* mbuf chain: three segments at odd offsets (one straddles pages). */
	m[0] = (struct iommu_mbuf){&m[1], buf + 3 * PG + 101, 333};
	m[1] = (struct iommu_mbuf){&m[2], buf + PG - 7, 1001};
	m[2] = (struct iommu_mbuf){NULL, buf + 2 * PG + 9, 77};
	memcpy(expect, m[0].m_data, 333);
	memcpy(expect + 333, m[1].m_data, 1001);
	memcpy(expect + 1334, m[2].m_data, 77);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	assert_int_equal(map->dm_nsegs, 4); /* m[1] crosses two frames */
	e2e_finish(f, map, expect, 1411, 300);

	/* uio over two iovecs. */
	iov[0] = (struct iovec){buf + 5, 100};
	iov[1] = (struct iovec){buf + 2 * PG + 3, 2 * PG};
	uio = (struct iommu_uio){iov, 2, 100 + PG + 3};
	memcpy(expect, buf + 5, 100);
	memcpy(expect + 100, buf + 2 * PG + 3, PG + 3);
	assert_int_equal(iommu_dmamap_load_uio(f->tag, map, &uio, 0), 0);
	e2e_finish(f, map, expect, 100 + PG + 3, 400);
	assert_int_equal(iommu_physmem_free_scattered(f->fx.fx_pm, kva), 0);

	/* raw, from dmamem_alloc through the IOMMU tag (the parent's). */
	assert_int_equal(iommu_dmamem_alloc(f->tag, 2 * PG, PG, 0, raw, 1,
			     &rsegs, IOMMU_DMA_NOWAIT),
	    0);
	assert_int_equal(
	    iommu_dmamem_map(f->tag, raw, rsegs, 2 * PG, &kva, 0), 0);
	bt_fill(kva, 2 * PG, 12);
	assert_int_equal(
	    iommu_dmamap_load_raw(f->tag, map, raw, rsegs, 2 * PG - 1, 0), 0);
	e2e_finish(f, map, kva, 2 * PG - 1, 500);
	iommu_dmamem_unmap(f->tag, kva, 2 * PG);
	iommu_dmamem_free(f->tag, raw, rsegs);

	take_snap(f, f->dom, &s1);
	assert_snap_maps_equal(&s0, &s1);
	iommu_dmamap_destroy(f->tag, map);
	bfx_end(f);
}

/* IOMMU_DMA_WRITE (memory -> device): the device may not write. */
static void
test_direction(void **state)
{
	struct bfx	    *f = bfx_begin(state, NULL);
	struct iommu_dmamap *map;
	struct smmuv3_fault  ft;
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 1, &pa), b = 0;

	assert_int_equal(iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &map), 0);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf, 64, IOMMU_DMA_WRITE), 0);
	assert_int_equal(smmuv3_dma_read(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			     map->dm_segs[0].ds_addr, &b, 1, &ft),
	    0);
	assert_int_equal(smmuv3_dma_write(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			     map->dm_segs[0].ds_addr, &b, 1, &ft),
	    EFAULT);
	assert_int_equal(ft.ft_event, SMMU_EVT_F_PERMISSION);
	(void)drv_fixture_drain(&f->fx);
	iommu_dmamap_unload(f->tag, map);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, pa, 1);
	bfx_end(f);
}

/*
 * Two maps over one physical page.  Unloading one must leave the other
 * working; the identity strategy (before the seed) removes the shared
 * page and the survivor faults: the hazard the seed commit fixed.
 */
static void
double_map_case(struct bfx *f, uint8_t *a, size_t alen, uint8_t *b, size_t blen)
{
	struct iommu_dmamap	*m1, *m2;
	struct iommu_dma_segment s1;
	struct smmuv3_fault	 ft;
	uint8_t			 t;

	assert_int_equal(iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &m1), 0);
	assert_int_equal(iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &m2), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, m1, a, alen, 0), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, m2, b, blen, 0), 0);
	dev_check_map(f, m1, 1);
	dev_check_map(f, m2, 2);
	s1 = m1->dm_segs[0];
	iommu_dmamap_unload(f->tag, m1);
	if (identity(f)) {
		/* The hazard: m2 is still loaded but its page is gone. */
		assert_int_equal(m2->dm_nsegs, 1);
		assert_int_equal(
		    smmuv3_dma_read(f->fx.fx_model, SID, SMMUV3_NO_SSID,
			m2->dm_segs[0].ds_addr, &t, 1, &ft),
		    EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
		(void)drv_fixture_drain(&f->fx);
	} else {
		dev_check_map(f, m2, 3);
		dev_expect_fault(f, s1.ds_addr);
	}
	iommu_dmamap_unload(f->tag, m2);
	dev_expect_fault(f, s1.ds_addr);
	iommu_dmamap_destroy(f->tag, m1);
	iommu_dmamap_destroy(f->tag, m2);
}

static void
test_double_mapping(void **state)
{
	struct bfx		*f = bfx_begin(state, NULL);
	struct snap		 s0, s1;
	struct iommu_dmamap	*map;
	struct iommu_mbuf	 m[3];
	struct iommu_dma_segment segs[3];
	uint64_t		 pa;
	uint8_t			*buf = dmap_buf(f, 1, &pa);
	int			 nsegs;

	take_snap(f, f->dom, &s0);
	/* Two small buffers in the same page. */
	double_map_case(f, buf + 100, 200, buf + 1000, 300);
	/* The same buffer loaded in two maps at once. */
	double_map_case(f, buf + 100, 200, buf + 100, 200);
	take_snap(f, f->dom, &s1);
	assert_snap_maps_equal(&s0, &s1);

	/* One map, two segments in one page (and one shared byte range). */
	m[0] = (struct iommu_mbuf){&m[1], buf + 2000, 100};
	m[1] = (struct iommu_mbuf){&m[2], buf + 100, 50};
	m[2] = (struct iommu_mbuf){NULL, buf + 2000, 10};
	take_snap(f, f->dom, &s0);
	assert_int_equal(iommu_dmamap_create(f->tag, PG, 3, PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	assert_int_equal(map->dm_nsegs, 3);
	dev_check_map(f, map, 5);
	nsegs = map->dm_nsegs;
	memcpy(segs, map->dm_segs, sizeof(segs[0]) * (size_t)nsegs);
	iommu_dmamap_unload(f->tag, map);
	dev_expect_map_gone(f, segs, nsegs);
	iommu_dmamap_destroy(f->tag, map);
	take_snap(f, f->dom, &s1);
	assert_snap_maps_equal(&s0, &s1);
	free_buf(f, pa, 1);
	bfx_end(f);
}

static void
test_destroy_loaded(void **state)
{
	struct bfx		*f = bfx_begin(state, NULL);
	struct iommu_dmamap	*map;
	struct iommu_dma_segment segs[4];
	struct iommu_mbuf	 m[2];
	struct snap		 s0, s1;
	uint64_t		 pa;
	uint8_t			*buf = dmap_buf(f, 3, &pa);
	int			 nsegs;

	take_snap(f, f->dom, &s0);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 3 * PG, 4, PG, 0, 0, &map), 0);
	m[0] = (struct iommu_mbuf){&m[1], buf + 2 * PG + 1, 100};
	m[1] = (struct iommu_mbuf){NULL, buf + 10, PG + 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	dev_check_map(f, map, 7);
	/* Handed to the platform tag, the map is refused, not half-handled. */
	iommu_dmamap_unload(f->ptag, map);
	iommu_dmamap_destroy(f->ptag, map);
	assert_int_equal(
	    iommu_dmamap_sync(f->ptag, map, 0, 1, IOMMU_DMA_PREWRITE), EINVAL);
	assert_int_equal(iommu_dmamap_load(f->ptag, map, buf, 10, 0), EINVAL);
	assert_true(map->dm_nsegs > 0);
	dev_check_map(f, map, 8);
	nsegs = map->dm_nsegs;
	memcpy(segs, map->dm_segs, sizeof(segs[0]) * (size_t)nsegs);
	iommu_dmamap_destroy(f->tag, map);
	dev_expect_map_gone(f, segs, nsegs);
	take_snap(f, f->dom, &s1);
	assert_snap_maps_equal(&s0, &s1);
	free_buf(f, pa, 3);
	bfx_end(f);
}

static void
test_load_loaded_efbig(void **state)
{
	struct bfx	    *f = bfx_begin(state, NULL);
	struct iommu_dmamap *map;
	struct iommu_mbuf    m[4];
	struct snap	     s0, s1;
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 8, &pa);
	int		     i;

	assert_int_equal(
	    iommu_dmamap_create(f->tag, 8 * PG, 3, 8 * PG, 0, 0, &map), 0);
	take_snap(f, f->dom, &s0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 100, 0), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 100, 0), EINVAL);
	assert_int_equal(map->dm_nsegs, 1);
	assert_int_equal(map->dm_mapsize, 100);
	dev_check_map(f, map, 20);
	iommu_dmamap_unload(f->tag, map);

	/* Four pieces, three segments: EFBIG from the parent, nothing kept. */
	for (i = 0; i < 4; i++)
		m[i] = (struct iommu_mbuf){
		    i < 3 ? &m[i + 1] : NULL, buf + (uint64_t)i * 2 * PG, 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EFBIG);
	assert_int_equal(map->dm_nsegs, 0);
	take_snap(f, f->dom, &s1);
	assert_snap_maps_equal(&s0, &s1);
	iommu_dmamap_destroy(f->tag, map);

	/* maxsegsz and boundary splits are mapped segment by segment. */
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 8 * PG, 8, 1000, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf + 3, 2500, 0), 0);
	assert_int_equal(map->dm_nsegs, 3);
	e2e_finish(f, map, buf + 3, 2500, 30);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 8001, 0), EFBIG);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 8 * PG, 2, 8 * PG, 2 * PG, 0, &map), 0);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + PG + 1, 2 * PG, 0), 0);
	assert_int_equal(map->dm_nsegs, 2);
	e2e_finish(f, map, buf + PG + 1, 2 * PG, 40);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + PG + 1, 5 * PG, 0), EFBIG);
	iommu_dmamap_destroy(f->tag, map);
	take_snap(f, f->dom, &s1);
	assert_int_equal(s1.pages_mapped, s0.pages_mapped);
	free(s1.extent);
	free(s0.extent);
	free_buf(f, pa, 8);
	bfx_end(f);
}

/*
 * Three 2-byte segments, each straddling a page line, need six pages of
 * IOVA in a 6-byte map: OpenBSD's at-create reservation (round_page(size)
 * + one page per segment = 4 pages) would not hold them.
 */
static void
test_straddling_segments(void **state)
{
	struct bfx	    *f = bfx_begin(state, NULL);
	struct iommu_dmamap *map;
	struct iommu_mbuf    m[3];
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 6, &pa), expect[6];
	int		     i;

	bt_fill(buf, 6 * PG, 50);
	for (i = 0; i < 3; i++) {
		m[i] = (struct iommu_mbuf){i < 2 ? &m[i + 1] : NULL,
		    buf + (uint64_t)(2 * i + 1) * PG - 1, 2};
		memcpy(expect + 2 * i, m[i].m_data, 2);
	}
	assert_int_equal(iommu_dmamap_create(f->tag, 6, 3, 6, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	assert_int_equal(map->dm_nsegs, 3);
	e2e_finish(f, map, expect, 6, 60);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, pa, 6);
	bfx_end(f);
}

/*
 * Enough maps that their IOVA reaches past 2 MiB lines (a new level-3
 * table): at-create's reservations, held all at once, fill more than one
 * table, and none crosses a line (its window loads by span).  Every map,
 * loaded twice, must work end to end.  One 5-page segment a map: an
 * at-create window of 5 pages and a guard, loaded whole.
 */
#define LINE_MAPS 400

static void
test_maps_across_a_level3_line(void **state)
{
	struct bfx	    *f = bfx_begin(state, NULL);
	struct iommu_dmamap *map[LINE_MAPS];
	struct iommu_mbuf    m;
	uint64_t	     pa, first, last;
	uint8_t		    *buf = dmap_buf(f, 5, &pa);
	unsigned	     i, round, crossed = 0;

	m = (struct iommu_mbuf){NULL, buf + 100, 4 * PG};
	for (i = 0; i < LINE_MAPS; i++)
		assert_int_equal(iommu_dmamap_create(
				     f->tag, 4 * PG, 1, 4 * PG, 0, 0, &map[i]),
		    0);
	for (round = 0; round < 2; round++)
		for (i = 0; i < LINE_MAPS; i++) {
			/* The device wrote over the buffer last time. */
			bt_fill(buf, 5 * PG, 70 + i);
			assert_int_equal(
			    iommu_dmamap_load_mbuf(f->tag, map[i], &m, 0), 0);
			first = map[i]->dm_segs[0].ds_addr;
			last = first + map[i]->dm_segs[0].ds_len - 1;
			crossed += (first >> 21) != (last >> 21);
			e2e_finish(f, map[i], buf + 100, 4 * PG, 71 + i);
		}
	if (f->strat == IOMMU_IOVA_AT_CREATE)
		assert_int_equal(crossed, 0);
	for (i = 0; i < LINE_MAPS; i++)
		iommu_dmamap_destroy(f->tag, map[i]);
	free_buf(f, pa, 5);
	bfx_end(f);
}

/*
 * A map larger than a level-3 table's 2 MiB: an at-create reservation
 * that no span covers, so its window is entered and removed by walking
 * (still without the pool: its PTEDs are parked).  A two-segment load
 * works end to end, twice, and at-create takes no PTED for it.
 */
static void
test_map_larger_than_a_level3_table(void **state)
{
	struct bfx	       *f = bfx_begin(state, NULL);
	struct iommu_dmamap    *map;
	struct iommu_mbuf	m[2];
	struct iommu_pool_stats p0, p1;
	uint64_t		pa[2];
	uint8_t		       *buf[2], expect[2 * 4 * 4096];
	unsigned		round;

	buf[0] = dmap_buf(f, 4, &pa[0]);
	buf[1] = dmap_buf(f, 4, &pa[1]);
	assert_int_equal(iommu_dmamap_create(f->tag, 2 * IOMMU_PT_SPAN_BYTES, 2,
			     IOMMU_PT_SPAN_BYTES, 0, 0, &map),
	    0);
	for (round = 0; round < 2; round++) {
		bt_fill(buf[0], 4 * PG, 80 + round);
		bt_fill(buf[1], 4 * PG, 90 + round);
		m[0] = (struct iommu_mbuf){&m[1], buf[0] + 0x10, 4 * PG - 0x10};
		m[1] = (struct iommu_mbuf){NULL, buf[1], 4 * PG};
		memcpy(expect, m[0].m_data, m[0].m_len);
		memcpy(expect + m[0].m_len, m[1].m_data, m[1].m_len);
		iommu_pool_get_stats(f->fx.fx_smmu->sc_pted_pool, &p0);
		assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
		iommu_pool_get_stats(f->fx.fx_smmu->sc_pted_pool, &p1);
		if (f->strat == IOMMU_IOVA_AT_CREATE)
			assert_int_equal(p1.pst_gets, p0.pst_gets);
		e2e_finish(f, map, expect, m[0].m_len + m[1].m_len, 95 + round);
	}
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, pa[0], 4);
	free_buf(f, pa[1], 4);
	bfx_end(f);
}

/*
 * The load used by the fault-injection sweeps: three segments from one
 * 4-page run inside a 2 MiB block (one, one and two pages).
 */
struct fi_buf {
	uint64_t	  pa;
	uint8_t		 *buf;
	struct iommu_mbuf m[3];
};

static void
fi_buf_init(struct bfx *f, struct fi_buf *b)
{
	b->buf = dmap_buf(f, 4, &b->pa);
	b->m[0] = (struct iommu_mbuf){&b->m[1], b->buf + 100, 200};
	b->m[1] = (struct iommu_mbuf){&b->m[2], b->buf + 3 * PG + 10, 30};
	b->m[2] = (struct iommu_mbuf){NULL, b->buf + 2 * PG - 50, 100};
}

/*
 * Loads under injection until it succeeds; every failure leaves no trace.
 * warm: load and unload once first, so that the table levels exist (they
 * are never freed, so a failure after a level was made for an earlier
 * page would otherwise leave that level behind, by design).
 */
static void
fi_sweep(struct bfx *f, struct iommu_domain *dom, struct iommu_dma_tag *tag,
    struct fi_buf *b, void (*arm)(struct bfx *, unsigned), int warm,
    unsigned *nfail)
{
	struct iommu_dmamap *map;
	struct snap	     s0, s1;
	unsigned	     k;
	int		     error;

	assert_int_equal(
	    iommu_dmamap_create(tag, 4 * PG, 3, PG, 0, 0, &map), 0);
	if (warm) {
		assert_int_equal(iommu_dmamap_load_mbuf(tag, map, b->m, 0), 0);
		iommu_dmamap_unload(tag, map);
	}
	*nfail = 0;
	for (k = 1;; k++) {
		take_snap(f, dom, &s0);
		arm(f, k);
		error = iommu_dmamap_load_mbuf(tag, map, b->m, 0);
		arm(f, 0);
		if (error == 0)
			break;
		assert_int_equal(error, ENOMEM);
		assert_int_equal(map->dm_nsegs, 0);
		take_snap(f, dom, &s1);
		assert_snap_equal(&s0, &s1);
		(*nfail)++;
		assert_true(k < 64);
	}
	free(s0.extent);
	assert_int_equal(map->dm_nsegs, 3);
	iommu_dmamap_unload(tag, map);
	iommu_dmamap_destroy(tag, map);
}

/* arm(k): the k-th get from now fails; arm(0) disarms. */
static void
arm_pool(struct iommu_pool *pp, unsigned k)
{
	struct iommu_pool_stats ps;

	if (k == 0) {
		assert_int_equal(iommu_pool_sethardlimit(pp, SIZE_MAX), 0);
		return;
	}
	iommu_pool_get_stats(pp, &ps);
	assert_int_equal(
	    iommu_pool_sethardlimit(pp, ps.pst_items_out + k - 1), 0);
}

static void
arm_pted(struct bfx *f, unsigned k)
{
	arm_pool(f->fx.fx_smmu->sc_pted_pool, k);
}

static void
arm_vp(struct bfx *f, unsigned k)
{
	arm_pool(f->fx.fx_smmu->sc_vp_pool, k);
}

static void
arm_frames(struct bfx *f, unsigned k)
{
	iommu_physmem_fail_alloc_after(f->fx.fx_pm, k);
}

/* Fills the domain's arena: power-of-two regions, largest first. */
static int
fill_arena(struct iommu_domain *dom, struct iommu_extent_region *d,
    uint64_t *iova, uint64_t *size, int max)
{
	uint64_t sz;
	int	 n = 0;

	for (sz = 1ULL << 47; sz >= PG; sz >>= 1)
		while (n < max &&
		    iommu_domain_iova_alloc(dom, sz, &d[n], &iova[n]) == 0)
			size[n++] = sz;
	return n;
}

static void
test_fault_injection(void **state)
{
	struct bfx		  *f = bfx_begin(state, NULL);
	struct iommu_extent_region d[96];
	struct iommu_domain	  *dom;
	struct iommu_dma_tag	  *tag;
	struct iommu_dmamap	  *map, *map2;
	struct fi_buf		   b;
	struct snap		   s0, s1;
	uint64_t		   iova[96], size[96];
	unsigned		   nfail, holes, nholes;
	int			   n, i, error;

	fi_buf_init(f, &b);

	/*
	 * PTED pool: each of the four page entries may fail, except under
	 * at-create, whose PTEDs were parked at create: loads take none.
	 */
	fi_sweep(f, f->dom, f->tag, &b, arm_pted, 1, &nfail);
	assert_int_equal(nfail, f->strat == IOMMU_IOVA_AT_CREATE ? 0 : 4);

	/* VP pool and frames: table levels, on a fresh domain each time. */
	dom = new_domain(f, 2);
	assert_int_equal(iommu_dma_tag_create_iommu(dom, f->ptag, &tag), 0);
	if (f->strat == IOMMU_IOVA_AT_CREATE) {
		/* Levels were made at create: loads never need one. */
		fi_sweep(f, dom, tag, &b, arm_vp, 0, &nfail);
		assert_int_equal(nfail, 0);
	} else {
		fi_sweep(f, dom, tag, &b, arm_vp, 0, &nfail);
		assert_true(nfail >= 1);
	}
	iommu_dma_tag_destroy(tag);
	assert_int_equal(iommu_domain_destroy(dom), 0);
	dom = new_domain(f, 2);
	assert_int_equal(iommu_dma_tag_create_iommu(dom, f->ptag, &tag), 0);
	fi_sweep(f, dom, tag, &b, arm_frames, 0, &nfail);
	assert_true(f->strat == IOMMU_IOVA_AT_CREATE ? nfail == 0 : nfail >= 1);
	iommu_dma_tag_destroy(tag);
	assert_int_equal(iommu_domain_destroy(dom), 0);

	/*
	 * IOVA: a full arena, then one free page, then three.  Per-map needs
	 * four contiguous pages and fails each time; per-segment fails at its
	 * first, second, third allocation; at-create and identity never ask.
	 */
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 3, PG, 0, 0, &map), 0);
	n = fill_arena(f->dom, d, iova, size, 96);
	assert_true(n > 0 && n < 96);
	/* With no IOVA left only at-create fails at create (EAGAIN). */
	take_snap(f, f->dom, &s0);
	error = iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &map2);
	if (f->strat == IOMMU_IOVA_AT_CREATE) {
		assert_int_equal(error, EAGAIN);
	} else {
		assert_int_equal(error, 0);
		iommu_dmamap_destroy(f->tag, map2);
	}
	take_snap(f, f->dom, &s1);
	assert_snap_equal(&s0, &s1);
	nholes =
	    f->strat == IOMMU_IOVA_PER_MAP || f->strat == IOMMU_IOVA_PER_SEGMENT
	    ? 3
	    : 1;
	for (holes = 0; holes < nholes; holes++) {
		if (holes > 0) { /* free the PG, then the 2 * PG region */
			for (i = n - 1; i >= 0; i--)
				if (size[i] == (PG << (holes - 1)))
					break;
			assert_true(i >= 0);
			assert_int_equal(
			    iommu_domain_iova_free(f->dom, iova[i], size[i]),
			    0);
			size[i] = 0;
		}
		take_snap(f, f->dom, &s0);
		error = iommu_dmamap_load_mbuf(f->tag, map, b.m, 0);
		if (f->strat == IOMMU_IOVA_AT_CREATE ||
		    f->strat == IOMMU_IOVA_IDENTITY) {
			assert_int_equal(error, 0);
			dev_check_map(f, map, 90);
			iommu_dmamap_unload(f->tag, map);
		} else {
			assert_int_equal(error, EAGAIN);
			assert_int_equal(map->dm_nsegs, 0);
		}
		/* Per-segment may have made levels for an earlier segment. */
		take_snap(f, f->dom, &s1);
		assert_snap_maps_equal(&s0, &s1);
	}
	for (i = 0; i < n; i++)
		if (size[i] != 0)
			assert_int_equal(
			    iommu_domain_iova_free(f->dom, iova[i], size[i]),
			    0);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, b.pa, 4);
	bfx_end(f);
}

/*
 * Creates a 4 MiB map on a fresh domain under injection until it succeeds:
 * at-create fails (ENOMEM, its IOVA returned) while preparing the levels,
 * the other strategies allocate nothing there.
 */
static void
create_sweep(struct bfx *f, void (*arm)(struct bfx *, unsigned))
{
	struct iommu_domain_stats ds0, ds1;
	struct iommu_domain	 *dom = new_domain(f, 2);
	struct iommu_dma_tag	 *tag;
	struct iommu_dmamap	 *map;
	unsigned		  k;
	int			  error;

	assert_int_equal(iommu_dma_tag_create_iommu(dom, f->ptag, &tag), 0);
	for (k = 1;; k++) {
		iommu_domain_get_stats(dom, &ds0);
		arm(f, k);
		error = iommu_dmamap_create(tag, 4 << 20, 4, PG, 0, 0, &map);
		arm(f, 0);
		iommu_domain_get_stats(dom, &ds1);
		if (error == 0)
			break;
		assert_int_equal(error, ENOMEM);
		assert_int_equal(ds0.ds_iova_bytes, ds1.ds_iova_bytes);
		assert_true(f->strat == IOMMU_IOVA_AT_CREATE);
		assert_true(k < 16);
	}
	if (f->strat == IOMMU_IOVA_AT_CREATE) {
		assert_true(k > 1);
		assert_true(ds1.ds_iova_bytes > ds0.ds_iova_bytes);
	} else {
		assert_int_equal(k, 1);
		assert_int_equal(ds0.ds_iova_bytes, ds1.ds_iova_bytes);
	}
	iommu_dmamap_destroy(tag, map);
	iommu_domain_get_stats(dom, &ds1);
	assert_int_equal(ds1.ds_iova_bytes, 0);
	iommu_dma_tag_destroy(tag);
	assert_int_equal(iommu_domain_destroy(dom), 0);
}

/*
 * at-create parks a PTED on every page at create: the pool running dry
 * half way fails the create (ENOMEM) with no PTED, IOVA or mapping left.
 */
static void
pted_create_failure(struct bfx *f)
{
	struct iommu_pool_stats	  p0, p1;
	struct iommu_domain_stats ds0, ds1;
	struct iommu_dmamap	 *map;
	struct iommu_pool	 *pp = f->fx.fx_smmu->sc_pted_pool;
	int			  error;

	iommu_pool_get_stats(pp, &p0);
	iommu_domain_get_stats(f->dom, &ds0);
	arm_pted(f, 30);
	error = iommu_dmamap_create(f->tag, 64 * PG, 4, PG, 0, 0, &map);
	arm_pted(f, 0);
	iommu_pool_get_stats(pp, &p1);
	iommu_domain_get_stats(f->dom, &ds1);
	assert_int_equal(p0.pst_items_out, p1.pst_items_out);
	assert_int_equal(ds0.ds_iova_bytes, ds1.ds_iova_bytes);
	if (f->strat != IOMMU_IOVA_AT_CREATE) {
		assert_int_equal(error, 0);
		iommu_dmamap_destroy(f->tag, map);
		return;
	}
	assert_int_equal(error, ENOMEM);
	/* With room, create parks one per page; destroy gives them back. */
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 64 * PG, 4, PG, 0, 0, &map), 0);
	iommu_pool_get_stats(pp, &p1);
	assert_true(p1.pst_items_out >= p0.pst_items_out + 64);
	iommu_dmamap_destroy(f->tag, map);
	iommu_pool_get_stats(pp, &p1);
	assert_int_equal(p0.pst_items_out, p1.pst_items_out);
}

/* at-create: a failure while reserving or preparing leaves nothing. */
static void
test_create_fault_injection(void **state)
{
	struct bfx		  *f = bfx_begin(state, NULL);
	struct iommu_dmamap	  *map;
	struct iommu_domain_stats  ds0, ds1;
	struct test_counting_alloc ca;
	struct iommu_dma_tag	  *ptag, *tag;

	/* Host memory for the map itself. */
	test_counting_alloc_init(&ca);
	assert_int_equal(
	    iommu_dma_tag_create_platform(f->fx.fx_pm, &ca.tc_ops, &ptag), 0);
	test_counting_alloc_fail_after(&ca, 1, 0);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(f->dom, ptag, &tag), ENOMEM);
	assert_int_equal(iommu_dma_tag_create_iommu(f->dom, ptag, &tag), 0);
	test_counting_alloc_fail_after(&ca, 1, 0);
	iommu_domain_get_stats(f->dom, &ds0);
	assert_int_equal(
	    iommu_dmamap_create(tag, PG, 1, PG, 0, IOMMU_DMA_NOWAIT, &map),
	    ENOMEM);
	iommu_domain_get_stats(f->dom, &ds1);
	assert_int_equal(ds0.ds_iova_bytes, ds1.ds_iova_bytes);
	iommu_dma_tag_destroy(tag);
	iommu_dma_tag_destroy(ptag);
	assert_int_equal(ca.tc_live_blocks, 0);

	/* Table levels (pool items, frames) for at-create, fresh domains. */
	create_sweep(f, arm_vp);
	create_sweep(f, arm_frames);
	pted_create_failure(f);
	bfx_end(f);
}

/*
 * Steady state: once the pools hold enough items, loads and unloads make
 * no host allocation at all (the map state is allocated at create and the
 * extent gets the map's own descriptor).
 */
static void
test_no_host_alloc(void **state)
{
	struct drv_fixture_opts	   o;
	struct test_counting_alloc ca;
	struct bfx		  *f;
	struct iommu_dmamap	  *map;
	struct fi_buf		   b;
	unsigned long		   calls;
	int			   i;

	test_counting_alloc_init(&ca);
	drv_fixture_opts_init(&o);
	o.fo_alloc = &ca.tc_ops;
	f = bfx_begin(state, &o);
	fi_buf_init(f, &b);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 3, PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, b.m, 0), 0);
	iommu_dmamap_unload(f->tag, map);
	calls = ca.tc_calls;
	for (i = 0; i < 50; i++) {
		assert_int_equal(
		    iommu_dmamap_load_mbuf(f->tag, map, b.m, 0), 0);
		iommu_dmamap_unload(f->tag, map);
	}
	assert_int_equal(ca.tc_calls, calls);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, b.pa, 4);
	bfx_end(f);
	assert_int_equal(ca.tc_live_blocks, 0);
}

/*
 * Unload order: the CMD_SYNC that retires the unloaded pages must be
 * published while the map still owns its IOVA (the seed returns the IOVA
 * first, so another thread could reuse it under a stale TLB entry).  The
 * interposer looks at the arena on every CMDQ_PROD write.
 */
struct order_watch {
	struct iommu_domain *dom;
	uint64_t	     iova;
	int		     armed;
	int		     prod_writes;
	int		     freed_at_prod;
};

static int
region_has(void *arg, uint64_t start, uint64_t end)
{
	uint64_t iova = *(uint64_t *)arg;

	return iova >= start && iova <= end;
}

static int
order_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	struct drv_fixture *fx = cookie;
	struct order_watch *w = fx->fx_user;

	if (w->armed && off == SMMU_CMDQ_PROD) {
		w->prod_writes++;
		if (iommu_extent_foreach(
			w->dom->dom_iovamap, region_has, &w->iova) == 0)
			w->freed_at_prod++;
	}
	return smmuv3_mmio_write(fx->fx_model, off, size, val);
}

static void
test_unload_order(void **state)
{
	struct drv_fixture_opts o;
	struct order_watch	w;
	struct bfx	       *f;
	struct iommu_dmamap    *map;
	uint64_t		pa;
	uint8_t		       *buf;

	memset(&w, 0, sizeof(w));
	drv_fixture_opts_init(&o);
	o.fo_mmio_write = order_write;
	o.fo_user = &w;
	f = bfx_begin(state, &o);
	w.dom = f->dom;
	buf = dmap_buf(f, 2, &pa);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 2 * PG, 1, 2 * PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf + 8, PG, 0), 0);
	dev_check_map(f, map, 80);
	w.iova = map->dm_segs[0].ds_addr;
	w.armed = 1;
	iommu_dmamap_unload(f->tag, map);
	w.armed = 0;
	assert_true(w.prod_writes > 0);
	/* Identity IOVAs never came from the arena. */
	if (!identity(f))
		assert_int_equal(w.freed_at_prod, 0);
	dev_expect_fault(f, w.iova);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, pa, 2);
	bfx_end(f);
}

/*
 * Mutants: without the per-page TLBI, or without the CMD_SYNC, the
 * device still reaches an unloaded buffer through a stale TLB entry (or
 * the model's stale-translation checker reports it).  The same sequence
 * on the correct driver faults and reports nothing.
 */
static void
run_mutant(void **state, unsigned mutations)
{
	struct drv_fixture_opts o;
	struct bfx	       *f;
	struct iommu_dmamap    *map;
	struct smmuv3_fault	ft;
	uint64_t		pa, iova;
	uint8_t		       *buf, t[64];
	int			error;

	drv_fixture_opts_init(&o);
	o.fo_smmu.sc_mutations = mutations;
	f = bfx_begin(state, &o);
	buf = dmap_buf(f, 1, &pa);
	assert_int_equal(iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 64, 0), 0);
	iova = map->dm_segs[0].ds_addr;
	dev_check_map(f, map, 70); /* the TLB now holds the page */
	iommu_dmamap_unload(f->tag, map);
	error = smmuv3_dma_read(
	    f->fx.fx_model, SID, SMMUV3_NO_SSID, iova, t, sizeof(t), &ft);
	if (mutations == 0) {
		assert_int_equal(error, EFAULT);
		assert_int_equal(ft.ft_event, SMMU_EVT_F_TRANSLATION);
		assert_int_equal(atomic_load(&f->fx.fx_stale), 0);
	} else {
		assert_true(error == 0 || atomic_load(&f->fx.fx_stale) > 0);
	}
	(void)drv_fixture_drain(&f->fx);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, pa, 1);
	bfx_end(f);
}

static void
test_mutants(void **state)
{
#if !IOMMU_MUTANTS
	skip(); /* a build without the mutants (IOMMU_MUTANTS=OFF) */
#endif
	run_mutant(state, 0);
	run_mutant(state, IOMMU_SMMU_MUTATE_NO_TLBI);
	run_mutant(state, IOMMU_SMMU_MUTATE_NO_SYNC);
}

static uint64_t
model_reg(struct bfx *f, uint64_t off)
{
	uint64_t v;

	assert_int_equal(smmuv3_mmio_read(f->fx.fx_model, off, 4, &v), 0);
	return v;
}

static uint64_t
model_ops(struct bfx *f, uint8_t op)
{
	static struct smmuv3_stats st;

	smmuv3_get_stats(f->fx.fx_model, &st);
	return st.st_commands_by_op[op];
}

/*
 * The seed's TLB contract at the bus_dma level: a load sends the SMMU no
 * command at all; an unload sends one TLBI_NH_VA (leaf) per page it
 * removed and exactly one CMD_SYNC, and has it consumed before returning.
 */
static void
test_unload_commands(void **state)
{
	struct bfx	    *f = bfx_begin(state, NULL);
	struct iommu_dmamap *map;
	struct fi_buf	     b;
	uint64_t	     va0, sync0, all0, pages = 0;
	int		     i;

	fi_buf_init(f, &b);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 3, PG, 0, 0, &map), 0);
	va0 = model_ops(f, SMMU_OP_TLBI_NH_VA);
	sync0 = model_ops(f, SMMU_OP_CMD_SYNC);
	all0 = va0 + sync0 + model_ops(f, SMMU_OP_TLBI_NH_ASID);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, b.m, 0), 0);
	assert_int_equal(model_ops(f, SMMU_OP_TLBI_NH_VA) +
		model_ops(f, SMMU_OP_CMD_SYNC) +
		model_ops(f, SMMU_OP_TLBI_NH_ASID),
	    all0);
	assert_int_equal(map->dm_nsegs, 3);
	for (i = 0; i < map->dm_nsegs; i++)
		pages += (((map->dm_segs[i]._ds_paddr & (PG - 1)) +
			      map->dm_segs[i].ds_len + PG - 1) /
		    PG);
	assert_int_equal(pages, 4); /* m[2] straddles a page line */
	iommu_dmamap_unload(f->tag, map);
	assert_int_equal(model_ops(f, SMMU_OP_TLBI_NH_VA) - va0, pages);
	assert_int_equal(model_ops(f, SMMU_OP_CMD_SYNC) - sync0, 1);
	assert_int_equal(model_reg(f, SMMU_CMDQ_CONS) & 0xfffff,
	    model_reg(f, SMMU_CMDQ_PROD) & 0xfffff);
	iommu_dmamap_destroy(f->tag, map);
	free_buf(f, b.pa, 4);
	bfx_end(f);
}

static void
test_tag_strategy(void **state)
{
	struct bfx		 *f = bfx_begin(state, NULL);
	struct iommu_dmamap	 *m1, *m2, *m3;
	struct iommu_domain_stats ds0, ds1;
	struct iommu_mbuf	  m[3];
	uint64_t		  pa;
	uint8_t			 *buf = dmap_buf(f, 3, &pa);

	assert_int_equal(
	    iommu_dma_tag_set_iova_strategy(f->ptag, IOMMU_IOVA_PER_MAP),
	    EINVAL);
	assert_int_equal(iommu_dma_tag_set_iova_strategy(f->tag, 99), EINVAL);
	if (identity(f)) {
		assert_int_equal(
		    iommu_dma_tag_set_iova_strategy(f->tag, IOMMU_IOVA_PER_MAP),
		    EINVAL);
	} else {
		assert_int_equal(iommu_dma_tag_set_iova_strategy(
				     f->tag, IOMMU_IOVA_IDENTITY),
		    EINVAL);
		/* The override applies to maps created from now on. */
		assert_int_equal(
		    iommu_dmamap_create(f->tag, PG, 3, PG, 0, 0, &m1), 0);
		assert_int_equal(iommu_dma_tag_set_iova_strategy(
				     f->tag, IOMMU_IOVA_AT_CREATE),
		    0);
		iommu_domain_get_stats(f->dom, &ds0);
		assert_int_equal(
		    iommu_dmamap_create(f->tag, PG, 3, PG, 0, 0, &m2), 0);
		iommu_domain_get_stats(f->dom, &ds1);
		/* W = (PG - 6) / PAGE + 2 * 3, and a guard */
		assert_int_equal(ds1.ds_iova_bytes - ds0.ds_iova_bytes,
		    (0 + 2 * 3 + 1) * PG);
		assert_int_equal(iommu_dma_tag_set_iova_strategy(
				     f->tag, IOMMU_IOVA_PER_SEGMENT),
		    0);
		assert_int_equal(
		    iommu_dmamap_create(f->tag, PG, 3, PG, 0, 0, &m3), 0);
		m[0] = (struct iommu_mbuf){&m[1], buf + 10, 10};
		m[1] = (struct iommu_mbuf){&m[2], buf + PG + 10, 10};
		m[2] = (struct iommu_mbuf){NULL, buf + 2 * PG + 10, 10};
		/* m1 keeps its strategy, m2 allocates nothing, m3 three. */
		iommu_domain_get_stats(f->dom, &ds0);
		assert_int_equal(iommu_dmamap_load_mbuf(f->tag, m1, m, 0), 0);
		assert_int_equal(iommu_dmamap_load_mbuf(f->tag, m2, m, 0), 0);
		assert_int_equal(iommu_dmamap_load_mbuf(f->tag, m3, m, 0), 0);
		iommu_domain_get_stats(f->dom, &ds1);
		assert_int_equal(ds1.ds_iova_allocs - ds0.ds_iova_allocs,
		    (f->strat == IOMMU_IOVA_PER_SEGMENT	     ? 3
			    : f->strat == IOMMU_IOVA_PER_MAP ? 1
							     : 0) +
			3);
		dev_check_map(f, m1, 1);
		dev_check_map(f, m2, 2);
		dev_check_map(f, m3, 3);
		iommu_dmamap_destroy(f->tag, m1);
		iommu_dmamap_destroy(f->tag, m2);
		iommu_dmamap_destroy(f->tag, m3);
		iommu_domain_get_stats(f->dom, &ds1);
		assert_int_equal(ds1.ds_iova_bytes, 0);
		assert_int_equal(ds1.ds_pages_mapped, 0);
	}
	free_buf(f, pa, 3);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(NULL, f->ptag, &f->tag), EINVAL);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(f->dom, f->tag, &f->tag), EINVAL);
	assert_int_equal(
	    iommu_dma_tag_create_iommu(f->dom, NULL, &f->tag), EINVAL);
	bfx_end(f);
}

#define PER_STRATEGY(fn)                                                       \
	cmocka_unit_test_prestate(fn, &s_per_map),                             \
	    cmocka_unit_test_prestate(fn, &s_per_seg),                         \
	    cmocka_unit_test_prestate(fn, &s_at_create),                       \
	    cmocka_unit_test_prestate(fn, &s_identity)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    PER_STRATEGY(test_e2e),
	    PER_STRATEGY(test_direction),
	    PER_STRATEGY(test_double_mapping),
	    PER_STRATEGY(test_destroy_loaded),
	    PER_STRATEGY(test_load_loaded_efbig),
	    PER_STRATEGY(test_straddling_segments),
	    PER_STRATEGY(test_maps_across_a_level3_line),
	    PER_STRATEGY(test_map_larger_than_a_level3_table),
	    PER_STRATEGY(test_fault_injection),
	    PER_STRATEGY(test_create_fault_injection),
	    PER_STRATEGY(test_tag_strategy),
	    PER_STRATEGY(test_unload_order),
	    PER_STRATEGY(test_no_host_alloc),
	    PER_STRATEGY(test_mutants),
	    PER_STRATEGY(test_unload_commands),
	};

	return cmocka_run_group_tests_name("busdma_iommu", tests, NULL, NULL);
}
