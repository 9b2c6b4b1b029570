/*
 * bus_dma(9) boundary on device addresses behind the IOMMU tag: no loaded
 * segment's IOVA range [ds_addr, ds_addr + ds_len) may cross a multiple of
 * the map's boundary, whatever the IOVA strategy and with or without the
 * per-thread magazine cache.
 *
 * Design: each test runs once per variant (strategy x magazines, plus
 * identity), on a fresh fixture (drv_fixture) with one domain and a
 * platform tag wrapped by the domain's tag.  Segments are loaded raw from
 * hand-placed physical ranges (odd page offsets, spans chosen so that a
 * contiguous IOVA layout would cross a line, or an unconstrained first-fit
 * allocation would), then checked from the physical side and the device
 * address side (bt_check_map), by the device through the model at every
 * segment, and after unload by the arena being exactly as before (the
 * magazine cache flushed first) and the old IOVAs faulting.  The
 * constrained allocator is also checked directly: argument errors,
 * placement, statistics, and failures that leave nothing behind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/iova_magazine.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"
#include "test_busdma_util.h"

#define PG		 ((uint64_t)IOMMU_PAGE_SIZE)
#define SID		 1u
#define MAXSEG		 8
#define WINPG		 16 /* physical buffer: windows of up to 64 KiB */
#define NWIN		 6
#define KIB(x)		 ((uint64_t)(x) << 10)
#define CROSS(a, len, b) ((((a) ^ ((a) + (len)-1)) & ~((b)-1)) != 0)

struct variant {
	enum iommu_iova_strategy v_strat;
	bool			 v_mags;
};

static struct variant v_per_map = {IOMMU_IOVA_PER_MAP, false};
static struct variant v_per_seg = {IOMMU_IOVA_PER_SEGMENT, false};
static struct variant v_at_create = {IOMMU_IOVA_AT_CREATE, false};
static struct variant v_identity = {IOMMU_IOVA_IDENTITY, false};
static struct variant v_per_map_mags = {IOMMU_IOVA_PER_MAP, true};
static struct variant v_per_seg_mags = {IOMMU_IOVA_PER_SEGMENT, true};
static struct variant v_at_create_mags = {IOMMU_IOVA_AT_CREATE, true};

struct bfx {
	struct drv_fixture    fx;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *ptag, *tag;
	struct variant	      v;
	uint64_t	      pa, base; /* buffer; base: 64 KiB aligned */
	size_t		      npages;
};

/* One raw segment: byte offset from the buffer's base and length. */
struct rseg {
	uint64_t off, len;
};

static struct bfx *
bfx_begin(void **state, unsigned ias)
{
	struct bfx		  *f = test_calloc(1, sizeof(*f));
	struct iommu_domain_config dc;

	f->v = *(const struct variant *)*state;
	drv_fixture_init(&f->fx, NULL);
	iommu_domain_config_init(&dc);
	dc.dc_iova = f->v.v_strat;
	dc.dc_magazines = f->v.v_mags;
	if (ias != 0)
		dc.dc_ias = ias;
	drv_fixture_busdma(&f->fx, SID, &dc, &f->dom, &f->ptag, &f->tag);
	/* NWIN 64 KiB windows of RAM, filled with a pattern. */
	f->npages = (NWIN + 1) * WINPG;
	assert_int_equal(
	    iommu_physmem_alloc_pages(f->fx.fx_pm, f->npages, &f->pa), 0);
	f->base = (f->pa + KIB(64) - 1) & ~(KIB(64) - 1);
	bt_fill(iommu_physmem_kva(f->fx.fx_pm, f->pa), f->npages * PG, 7);
	return f;
}

static void
bfx_end(struct bfx *f)
{
	assert_int_equal(
	    iommu_physmem_free_pages(f->fx.fx_pm, f->pa, f->npages), 0);
	iommu_dma_tag_destroy(f->tag);
	iommu_dma_tag_destroy(f->ptag);
	assert_int_equal(iommu_domain_destroy(f->dom), 0);
	assert_int_equal(f->fx.fx_stale, 0);
	drv_fixture_fini(&f->fx);
	test_free(f);
}

/* The arena as text, with the magazine cache emptied into it first. */
static char *
arena(struct bfx *f)
{
	char  *s = NULL;
	size_t len;
	FILE  *fp;

	if (f->dom->dom_mag != NULL)
		assert_int_equal(iommu_iova_magazine_flush(f->dom->dom_mag), 0);
	fp = open_memstream(&s, &len);
	assert_non_null(fp);
	iommu_extent_print(f->dom->dom_iovamap, fp);
	fclose(fp);
	return s;
}

/* The arena is as the text a0 (from arena()) says. */
static void
arena_unchanged(struct bfx *f, const char *a0)
{
	char *a1 = arena(f);

	assert_string_equal(a0, a1);
	free(a1);
}

static uint64_t
iova_bytes(struct bfx *f)
{
	struct iommu_domain_stats ds;

	iommu_domain_get_stats(f->dom, &ds);
	return ds.ds_iova_bytes;
}

/* The device writes, then reads back, every segment through the model. */
static void
dev_check(struct bfx *f, const struct iommu_dmamap *map)
{
	const struct iommu_dma_segment *seg;
	struct smmuv3_fault		ft;
	uint8_t				pat[WINPG * 4096], tmp[WINPG * 4096];
	int				i;

	for (i = 0; i < map->dm_nsegs; i++) {
		seg = &map->dm_segs[i];
		assert_true(seg->ds_len <= sizeof(pat));
		bt_fill(pat, seg->ds_len, 100 + (uint32_t)i);
		assert_int_equal(drv_dev_write(&f->fx, SID, seg->ds_addr, pat,
				     seg->ds_len, &ft),
		    0);
		assert_int_equal(iommu_physmem_read(f->fx.fx_pm, seg->_ds_paddr,
				     tmp, seg->ds_len),
		    0);
		assert_memory_equal(tmp, pat, seg->ds_len);
		memset(tmp, 0, seg->ds_len);
		assert_int_equal(drv_dev_read(&f->fx, SID, seg->ds_addr, tmp,
				     seg->ds_len, &ft),
		    0);
		assert_memory_equal(tmp, pat, seg->ds_len);
	}
}

static void
dev_expect_fault(struct bfx *f, uint64_t iova)
{
	struct smmuv3_fault ft;
	uint8_t		    b;

	memset(&ft, 0, sizeof(ft));
	assert_int_equal(drv_dev_read(&f->fx, SID, iova, &b, 1, &ft), EFAULT);
	(void)drv_fixture_drain(&f->fx);
}

/* Loads segs raw into map; returns the load's error. */
static int
load(struct bfx *f, struct iommu_dmamap *map, const struct rseg *rs, int n,
    uint8_t *expect)
{
	struct iommu_dma_segment segs[MAXSEG];
	uint64_t		 total = 0;
	int			 i;

	assert_true(n <= MAXSEG);
	memset(segs, 0, sizeof(segs));
	for (i = 0; i < n; i++) {
		assert_true(rs[i].off + rs[i].len <= NWIN * WINPG * PG);
		segs[i]._ds_paddr = f->base + rs[i].off;
		segs[i].ds_addr = segs[i]._ds_paddr;
		segs[i].ds_len = rs[i].len;
		if (expect != NULL)
			memcpy(expect + total,
			    iommu_physmem_kva(f->fx.fx_pm, segs[i]._ds_paddr),
			    rs[i].len);
		total += rs[i].len;
	}
	return iommu_dmamap_load_raw(
	    f->tag, map, segs, n, total, IOMMU_DMA_NOWAIT);
}

/*
 * Loads rs into a fresh map with boundary b, checks both sides and the
 * device, unloads, checks the old IOVAs fault and the arena is as before.
 * Returns the lowest IOVA page the load used.
 */
static uint64_t
roundtrip(struct bfx *f, uint64_t b, const struct rseg *rs, int n)
{
	struct iommu_dma_segment segs[MAXSEG];
	struct iommu_dmamap	*map;
	uint8_t			 expect[NWIN * WINPG * 4096];
	uint64_t		 total = 0, bytes0, lowest = UINT64_MAX;
	char			*a0;
	int			 i;

	for (i = 0; i < n; i++)
		total += rs[i].len;
	assert_int_equal(iommu_dmamap_create(f->tag, total, n, total, b,
			     IOMMU_DMA_NOWAIT, &map),
	    0);
	bytes0 = iova_bytes(f);
	a0 = arena(f);
	assert_int_equal(load(f, map, rs, n, expect), 0);
	assert_int_equal(map->dm_nsegs, n); /* rs never merge or split */
	bt_check_map(f->fx.fx_pm, map, expect, total,
	    f->v.v_strat == IOMMU_IOVA_IDENTITY);
	dev_check(f, map);
	memcpy(segs, map->dm_segs, (size_t)n * sizeof(segs[0]));
	for (i = 0; i < n; i++)
		if ((segs[i].ds_addr & ~(PG - 1)) < lowest)
			lowest = segs[i].ds_addr & ~(PG - 1);
	iommu_dmamap_unload(f->tag, map);
	for (i = 0; i < n; i++) {
		dev_expect_fault(f, segs[i].ds_addr);
		dev_expect_fault(f, segs[i].ds_addr + segs[i].ds_len - 1);
	}
	assert_int_equal(iova_bytes(f), bytes0);
	arena_unchanged(f, a0);
	free(a0);
	iommu_dmamap_destroy(f->tag, map);
	return lowest;
}

static uint64_t
span(const struct rseg *r)
{
	return ((r->off & (PG - 1)) + r->len + PG - 1) & ~(PG - 1);
}

/*
 * b = 64 KiB, three 10-page spans at odd page offsets: 30 pages in total,
 * so per-map lays them out with gaps (0, 16, 32 pages) in a 64 KiB-aligned
 * range of 42 pages.
 */
static void
test_gaps_64k(void **state)
{
	struct bfx	 *f = bfx_begin(state, 0);
	const struct rseg rs[3] = {
	    {0x123, 9 * PG + 100},
	    {KIB(64) + 0x800, 9 * PG + 0x7ff},
	    {KIB(128) + 0xff0, 9 * PG},
	};
	struct iommu_dmamap *map;
	uint64_t	     bytes0, lowest, want;
	int		     i;

	for (i = 0; i < 3; i++)
		assert_int_equal(span(&rs[i]), 10 * PG);
	lowest = roundtrip(f, KIB(64), rs, 3);
	if (f->v.v_strat == IOMMU_IOVA_PER_MAP)
		assert_int_equal(lowest & (KIB(64) - 1), 0);

	/* While loaded, the IOVA held is the layout's length, gaps too. */
	assert_int_equal(iommu_dmamap_create(f->tag, 30 * PG, 3, 30 * PG,
			     KIB(64), IOMMU_DMA_NOWAIT, &map),
	    0);
	bytes0 = iova_bytes(f);
	assert_int_equal(load(f, map, rs, 3, NULL), 0);
	switch (f->v.v_strat) {
	case IOMMU_IOVA_PER_MAP:
		want = 42 * PG;
		assert_int_equal(map->dm_segs[1].ds_addr & ~(PG - 1),
		    (map->dm_segs[0].ds_addr & ~(PG - 1)) + 16 * PG);
		assert_int_equal(map->dm_segs[2].ds_addr & ~(PG - 1),
		    (map->dm_segs[0].ds_addr & ~(PG - 1)) + 32 * PG);
		break;
	case IOMMU_IOVA_PER_SEGMENT:
		want = 30 * PG;
		break;
	default:
		want = 0;
		break;
	}
	assert_int_equal(iova_bytes(f) - bytes0, want);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iova_bytes(f), 0);
	bfx_end(f);
}

/*
 * b = 8 KiB, three segments spanning 2, 1 and 2 pages: per-map places
 * them at pages 0, 2 and 4 (not 0, 2, 3); per-segment must not take the
 * first-fit pages 1-2 of an empty arena for the first one.
 */
static void
test_8k_three_segs(void **state)
{
	struct bfx	 *f = bfx_begin(state, 0);
	const struct rseg rs[3] = {
	    {0x10, 2 * PG - 0x10},
	    {KIB(16) + 0x200, 0x100},
	    {KIB(32) + 0x1, 2 * PG - 0x2},
	};

	assert_int_equal(span(&rs[0]), 2 * PG);
	assert_int_equal(span(&rs[1]), PG);
	assert_int_equal(span(&rs[2]), 2 * PG);
	(void)roundtrip(f, KIB(8), rs, 3);
	/* The same without a boundary still loads (the common path). */
	(void)roundtrip(f, 0, rs, 3);
	bfx_end(f);
}

/*
 * b = 2 pages, random segments at odd page offsets, each inside one
 * physical 8 KiB window, loaded repeatedly (maps of 1..MAXSEG segments).
 */
static void
test_2page_random(void **state)
{
	struct bfx     *f = bfx_begin(state, 0);
	struct rseg	rs[MAXSEG];
	struct test_rng rng;
	unsigned long	iter, niter = test_scale(60);
	uint64_t	win, off, len;
	int		n, i;

	test_rng_seed(&rng, 0xb0da);
	for (iter = 0; iter < niter; iter++) {
		n = 1 + (int)test_rng_below(&rng, MAXSEG);
		for (i = 0; i < n; i++) {
			/* Window i*3 + 1: segments never touch. */
			win = (uint64_t)(i * 3 + 1) * KIB(8);
			off = test_rng_below(&rng, KIB(8) - 1);
			len = 1 + test_rng_below(&rng, KIB(8) - off);
			rs[i].off = win + off;
			rs[i].len = len;
		}
		(void)roundtrip(f, KIB(8), rs, n);
	}
	bfx_end(f);
}

/*
 * At-create reservations: W = floor((size - 2 * nsegments) / PAGE) +
 * 2 * nsegments pages, doubled when a boundary above a page is smaller
 * than W, plus a guard page; a load that spans exactly W pages fits; and
 * a worst-case load (every segment forced past a line) fits.
 */
static void
test_at_create_reservation(void **state)
{
	struct bfx *f = bfx_begin(state, 0);
	/*
	 * 3-page spans of 4098 bytes with b = 16 KiB: pages 0, 4, 8, 12 of
	 * the layout, 15 pages in all, above W = 4 + 2 * 4 = 12 pages.
	 */
	/* W itself: 2 + 2 + 2 + 5 = 11 pages, 16 KiB in 4 segments. */
	const struct rseg worst[4] = {
	    {PG - 1, 2},
	    {3 * PG - 1, 2},
	    {5 * PG - 1, 2},
	    {7 * PG - 1, KIB(16) - 6},
	};
	const struct rseg rs[4] = {
	    {0xfff, PG + 2},
	    {KIB(64) + 0xfff, PG + 2},
	    {KIB(128) + KIB(4) + 0xfff, PG + 2},
	    {KIB(192) + KIB(16) + 0xfff, PG + 2},
	};
	static const struct {
		uint64_t size, b;
		int	 nsegs;
		uint64_t pages; /* reservation, guard included */
	} c[] = {
	    {4 * 4096, 0, 2, 3 + 4 + 1}, {4 * 4096, 4096, 2, 3 + 4 + 1},
	    {4 * 4096, 2048, 2, 3 + 4 + 1},
	    {4 * 4096, KIB(64), 2, 3 + 4 + 1},	 /* fits in b */
	    {4 * 4096, KIB(32), 2, 3 + 4 + 1},	 /* 7 + guard fits 8 */
	    {4 * 4096, KIB(16), 2, 2 * 7 + 1},	 /* 7 > 4: doubled */
	    {30 * 4096, KIB(64), 3, 2 * 35 + 1}, /* 35 > 16 */
	    {4 * 4096 + 8, 0, 4, 4 + 8 + 1},	 /* no page to spare */
	    {6, 0, 3, 6 + 1},			 /* three straddling */
	    {4, 0, 4, 7 + 1}, /* fewer bytes than 2n: floor(-4/PAGE) */
	};
	struct iommu_dmamap *map;
	uint64_t	     bytes0, total = 0;
	char		    *a0;
	size_t		     i;
	int		     j;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bytes0 = iova_bytes(f);
		assert_int_equal(
		    iommu_dmamap_create(f->tag, c[i].size, c[i].nsegs,
			c[i].size, c[i].b, IOMMU_DMA_NOWAIT, &map),
		    0);
		assert_int_equal(iova_bytes(f) - bytes0,
		    f->v.v_strat == IOMMU_IOVA_AT_CREATE ? c[i].pages * PG : 0);
		iommu_dmamap_destroy(f->tag, map);
		assert_int_equal(iova_bytes(f), bytes0);
	}

	for (j = 0; j < 4; j++)
		total += span(&worst[j]);
	assert_int_equal(total, 11 * PG);
	total = 0;
	(void)roundtrip(f, 0, worst, 4);

	/* Worse than W for b = 16 KiB: each segment pushed to a line. */
	for (j = 0; j < 4; j++) {
		assert_int_equal(span(&rs[j]), 3 * PG);
		total += rs[j].len;
	}
	a0 = arena(f);
	(void)roundtrip(f, KIB(16), rs, 4);
	assert_int_equal(iommu_dmamap_create(f->tag, total, 4, total, KIB(16),
			     IOMMU_DMA_NOWAIT, &map),
	    0);
	assert_int_equal(load(f, map, rs, 4, NULL), 0);
	if (f->v.v_strat != IOMMU_IOVA_IDENTITY &&
	    f->v.v_strat != IOMMU_IOVA_PER_SEGMENT)
		for (j = 1; j < 4; j++)
			assert_int_equal(map->dm_segs[j].ds_addr & ~(PG - 1),
			    (map->dm_segs[0].ds_addr & ~(PG - 1)) +
				(uint64_t)j * KIB(16));
	iommu_dmamap_destroy(f->tag, map); /* unloads */
	arena_unchanged(f, a0);
	free(a0);
	bfx_end(f);
}

/*
 * A small map (its whole layout fits in b = 64 KiB) right below a line:
 * with IOVA pages 1-11 taken, first fit would put 7 pages at 12-18, across
 * page 16.  per-map and at-create must place the range (map, reservation)
 * between two lines, per-segment the 4-page second segment.
 */
static void
test_small_map_near_line(void **state)
{
	struct bfx	 *f = bfx_begin(state, 0);
	const struct rseg rs[2] = {
	    {0xfff, PG + 2},		   /* 3 pages */
	    {KIB(64) + 0xfff, 3 * PG - 2}, /* 4 pages */
	};

	assert_int_equal(span(&rs[0]), 3 * PG);
	assert_int_equal(span(&rs[1]), 4 * PG);
	if (f->v.v_strat != IOMMU_IOVA_IDENTITY)
		assert_int_equal(iommu_domain_reserve(f->dom, PG, 11 * PG), 0);
	(void)roundtrip(f, KIB(64), rs, 2);
	bfx_end(f);
}

/*
 * Failures: with the arena cut down to page 1 and pages 5-6 (the latter
 * crossing an 8 KiB line), a map of a 1-page and a 2-page segment with b =
 * 8 KiB cannot be placed (per-segment gets the first page, then fails on
 * the second; at-create fails at create).  The load (or create) returns
 * EAGAIN and the domain is exactly as before; without a boundary the
 * per-segment load fits there (per-map still finds no 3 contiguous pages;
 * with magazines a 2-page range is 8 KiB aligned, so it fails too).
 */
static void
test_failure_leaves_nothing(void **state)
{
	struct bfx	 *f = bfx_begin(state, 32);
	const struct rseg rs[2] = {
	    {0x40, 0x100},
	    {KIB(64) + 0x10, 2 * PG - 0x20},
	};
	struct iommu_domain_stats ds0, ds1;
	struct iommu_dmamap	 *map;
	uint64_t		  bytes0;
	char			 *a0;
	int			  error;

	if (f->v.v_strat == IOMMU_IOVA_IDENTITY) {
		bfx_end(f); /* IOVA = PA: the arena is not involved */
		return;
	}
	assert_int_equal(iommu_domain_reserve(f->dom, 2 * PG, 3 * PG), 0);
	assert_int_equal(
	    iommu_domain_reserve(f->dom, 7 * PG, (1ULL << 32) - 7 * PG), 0);
	bytes0 = iova_bytes(f);
	a0 = arena(f);
	iommu_domain_get_stats(f->dom, &ds0);
	error = iommu_dmamap_create(
	    f->tag, 3 * PG, 2, 3 * PG, KIB(8), IOMMU_DMA_NOWAIT, &map);
	if (f->v.v_strat == IOMMU_IOVA_AT_CREATE) {
		assert_int_equal(error, EAGAIN);
	} else {
		assert_int_equal(error, 0);
		assert_int_equal(load(f, map, rs, 2, NULL), EAGAIN);
		assert_int_equal(map->dm_nsegs, 0);
		iommu_dmamap_destroy(f->tag, map);
	}
	iommu_domain_get_stats(f->dom, &ds1);
	assert_int_equal(ds1.ds_iova_failures, ds0.ds_iova_failures + 1);
	assert_int_equal(ds1.ds_pages_mapped, ds0.ds_pages_mapped);
	assert_int_equal(iova_bytes(f), bytes0);
	arena_unchanged(f, a0);

	/* Without the boundary the holes are enough. */
	if (f->v.v_strat != IOMMU_IOVA_AT_CREATE) {
		assert_int_equal(iommu_dmamap_create(f->tag, 3 * PG, 2, 3 * PG,
				     0, IOMMU_DMA_NOWAIT, &map),
		    0);
		assert_int_equal(load(f, map, rs, 2, NULL),
		    f->v.v_strat == IOMMU_IOVA_PER_MAP || f->v.v_mags ? EAGAIN
								      : 0);
		iommu_dmamap_destroy(f->tag, map);
		arena_unchanged(f, a0);
	}
	free(a0);
	bfx_end(f);
}

/*
 * iommu_domain_iova_alloc_constrained: argument errors, placement,
 * statistics, and failures that leave the arena alone.
 */
static void
test_constrained_alloc(void **state)
{
	struct bfx		  *f = bfx_begin(state, 32);
	struct iommu_domain	  *dom = f->dom;
	struct iommu_domain_stats  ds0, ds1;
	struct iommu_extent_region er[4];
	uint64_t		   iova[4], x;
	char			  *a0;

	iommu_domain_get_stats(dom, &ds0);
	a0 = arena(f);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(NULL, PG, 0, 0, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG, 0, 0, NULL, NULL),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, 0, 0, 0, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG + 1, 0, 0, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG, 3 * PG, 0, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG, PG / 2, 0, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG, 0, 3 * PG, NULL, &x),
	    EINVAL);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, PG, 0, PG / 2, NULL, &x),
	    EINVAL);
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, 3 * PG, 0, 2 * PG, NULL, &x),
	    EFBIG);
	assert_int_equal(
	    iommu_domain_iova_alloc_constrained(dom, 2 * PG, 0, PG, NULL, &x),
	    EFBIG);
	iommu_domain_get_stats(dom, &ds1);
	assert_int_equal(ds1.ds_iova_failures, ds0.ds_iova_failures);
	assert_int_equal(ds1.ds_iova_allocs, ds0.ds_iova_allocs);

	/* Empty arena, page 0 reserved: first fit would cross at page 2. */
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, 2 * PG, 0, 2 * PG, &er[0], &iova[0]),
	    0);
	assert_false(CROSS(iova[0], 2 * PG, 2 * PG));
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, 3 * PG, 0, KIB(16), &er[1], &iova[1]),
	    0);
	assert_false(CROSS(iova[1], 3 * PG, KIB(16)));
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, PG, KIB(64), 0, &er[2], &iova[2]),
	    0);
	assert_int_equal(iova[2] & (KIB(64) - 1), 0);
	/* The plain call is the constrained one with no constraint. */
	assert_int_equal(iommu_domain_iova_alloc(dom, PG, &er[3], &iova[3]), 0);
	iommu_domain_get_stats(dom, &ds1);
	assert_int_equal(ds1.ds_iova_allocs, ds0.ds_iova_allocs + 4);
	assert_int_equal(
	    ds1.ds_iova_bytes, ds0.ds_iova_bytes + 2 * PG + 3 * PG + 2 * PG);

	/* No 2 GiB-aligned 2 GiB + 1 page in a 4 GiB arena: EAGAIN. */
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, (1ULL << 31) + PG, 1ULL << 31, 0, NULL, &x),
	    EAGAIN);
	iommu_domain_get_stats(dom, &ds0);
	assert_int_equal(ds0.ds_iova_failures, ds1.ds_iova_failures + 1);
	assert_int_equal(ds0.ds_iova_allocs, ds1.ds_iova_allocs);
	assert_int_equal(ds0.ds_iova_bytes, ds1.ds_iova_bytes);

	assert_int_equal(iommu_domain_iova_free(dom, iova[0], 2 * PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, iova[1], 3 * PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, iova[2], PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, iova[3], PG), 0);
	iommu_domain_get_stats(dom, &ds1);
	assert_int_equal(ds1.ds_iova_frees, ds0.ds_iova_frees + 4);
	assert_int_equal(ds1.ds_iova_bytes, ds0.ds_iova_bytes - 7 * PG);
	arena_unchanged(f, a0);
	free(a0);
	bfx_end(f);
}

/*
 * Magazine domains: a cached class range that does not meet a constrained
 * request (here a larger alignment) is not handed out (it stays cached),
 * one that fits is; the cache keeps freeing by class either way.  A
 * class range is aligned to its size, so it crosses no boundary its size
 * fits in.
 */
static void
test_magazine_cached_crossing(void **state)
{
	struct bfx	    *f = bfx_begin(state, 0);
	struct iommu_domain *dom = f->dom;
	uint64_t	     a, b, c, d;

	if (!f->v.v_mags) {
		bfx_end(f);
		return;
	}
	/* Page 0 is reserved: the first 2-page range is pages 2-3. */
	assert_int_equal(iommu_domain_iova_alloc(dom, 2 * PG, NULL, &a), 0);
	assert_int_equal(a, 2 * PG);
	assert_int_equal(iommu_domain_iova_alloc(dom, 2 * PG, NULL, &b), 0);
	assert_int_equal(b, 4 * PG);
	assert_int_equal(iommu_domain_iova_free(dom, b, 2 * PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, a, 2 * PG), 0);
	/* Top of the magazine: a (not 16 KiB aligned): not handed out. */
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, 2 * PG, KIB(16), 0, NULL, &c),
	    0);
	assert_int_equal(c % KIB(16), 0);
	assert_true(c != a && c != b);
	/* Unconstrained: the cache still holds a, then b. */
	assert_int_equal(iommu_domain_iova_alloc(dom, 2 * PG, NULL, &d), 0);
	assert_int_equal(d, a);
	assert_int_equal(iommu_domain_iova_free(dom, d, 2 * PG), 0);
	/* a crosses no 8 KiB line: handed out. */
	assert_int_equal(iommu_domain_iova_alloc_constrained(
			     dom, 2 * PG, 0, KIB(8), NULL, &d),
	    0);
	assert_false(CROSS(d, 2 * PG, KIB(8)));
	assert_int_equal(d, a);
	assert_int_equal(iommu_domain_iova_free(dom, c, 2 * PG), 0);
	assert_int_equal(iommu_domain_iova_free(dom, d, 2 * PG), 0);
	assert_int_equal(iova_bytes(f), 0);
	bfx_end(f);
}

#define ALL_VARIANTS(fn)                                                       \
	cmocka_unit_test_prestate(fn, &v_per_map),                             \
	    cmocka_unit_test_prestate(fn, &v_per_seg),                         \
	    cmocka_unit_test_prestate(fn, &v_at_create),                       \
	    cmocka_unit_test_prestate(fn, &v_identity),                        \
	    cmocka_unit_test_prestate(fn, &v_per_map_mags),                    \
	    cmocka_unit_test_prestate(fn, &v_per_seg_mags),                    \
	    cmocka_unit_test_prestate(fn, &v_at_create_mags)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    ALL_VARIANTS(test_gaps_64k),
	    ALL_VARIANTS(test_8k_three_segs),
	    ALL_VARIANTS(test_2page_random),
	    ALL_VARIANTS(test_at_create_reservation),
	    ALL_VARIANTS(test_small_map_near_line),
	    ALL_VARIANTS(test_failure_leaves_nothing),
	    ALL_VARIANTS(test_constrained_alloc),
	    cmocka_unit_test_prestate(
		test_magazine_cached_crossing, &v_per_map_mags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
