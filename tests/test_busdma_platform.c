/*
 * Tests of the platform (1:1) bus_dma tag: map creation, the segment
 * builder behind the four loads (nsegments, maxsegsz, boundary, EFBIG),
 * argument checks, sync validation, and dmamem alloc/free/map/mmap over
 * simulated RAM, including fault injection and the scattered fallback.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/busdma.h>
#include <iommu/physmem.h>

#include "test_alloc.h"
#include "test_busdma_util.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (8ULL << 20)
#define PG	 ((uint64_t)IOMMU_PAGE_SIZE)

struct pfx {
	struct iommu_physmem *pm;
	struct iommu_dma_tag *tag;
};

static int
setup(void **state)
{
	struct pfx *f = test_calloc(1, sizeof(*f));

	assert_int_equal(
	    iommu_physmem_create(RAM_BASE, RAM_SIZE, NULL, &f->pm), 0);
	assert_int_equal(iommu_dma_tag_create_platform(
			     f->pm, test_cmocka_allocator(), &f->tag),
	    0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct pfx *f = *state;

	iommu_dma_tag_destroy(f->tag);
	iommu_physmem_destroy(f->pm);
	test_free(f);
	return 0;
}

static uint64_t
frames_in_use(struct pfx *f)
{
	struct iommu_physmem_stats st;

	iommu_physmem_get_stats(f->pm, &st);
	return st.ps_frames_in_use;
}

/* A direct-map buffer of npages at page offset off (allocated frames). */
static uint8_t *
dmap_buf(struct pfx *f, size_t npages, uint64_t *pa)
{
	assert_int_equal(iommu_physmem_alloc_pages(f->pm, npages, pa), 0);
	return iommu_physmem_kva(f->pm, *pa);
}

static void
test_create_args(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map = NULL;

	assert_int_equal(
	    iommu_dmamap_create(NULL, PG, 1, PG, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 0, 1, PG, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 0, PG, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, -1, PG, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 1, 0, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 1, PG, 3 * PG, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0x40000000, &map),
	    EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 1 << 20, PG, 0, 0, &map), EINVAL);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, NULL), EINVAL);
	assert_null(map);

	assert_int_equal(iommu_dmamap_create(f->tag, 3 * PG, 4, PG, 2 * PG,
			     IOMMU_DMA_NOWAIT, &map),
	    0);
	assert_int_equal(map->dm_nsegs, 0);
	assert_int_equal(map->dm_mapsize, 0);
	assert_int_equal(map->_dm_size, 3 * PG);
	assert_int_equal(map->_dm_segcnt, 4);
	assert_int_equal(map->_dm_maxsegsz, PG);
	assert_int_equal(map->_dm_boundary, 2 * PG);
	assert_null(map->_dm_cookie);
	assert_int_equal(iommu_dma_tag_flags(f->tag), 0);
	iommu_dmamap_destroy(f->tag, map);
	iommu_dmamap_destroy(f->tag, NULL);
	iommu_dma_tag_destroy(NULL);
}

static void
test_create_enomem(void **state)
{
	struct pfx		  *f = *state;
	struct test_counting_alloc ca;
	struct iommu_dma_tag	  *tag;
	struct iommu_dmamap	  *map;

	test_counting_alloc_init(&ca);
	test_counting_alloc_fail_after(&ca, 1, 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(f->pm, &ca.tc_ops, &tag), ENOMEM);
	assert_int_equal(
	    iommu_dma_tag_create_platform(f->pm, &ca.tc_ops, &tag), 0);
	test_counting_alloc_fail_after(&ca, 1, 0);
	assert_int_equal(
	    iommu_dmamap_create(tag, PG, 1, PG, 0, IOMMU_DMA_NOWAIT, &map),
	    ENOMEM);
	assert_int_equal(iommu_dmamap_create(tag, PG, 1, PG, 0, 0, &map), 0);
	iommu_dmamap_destroy(tag, map);
	iommu_dma_tag_destroy(tag);
	assert_int_equal(ca.tc_live_blocks, 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(NULL, NULL, &tag), EINVAL);
}

static void
test_load_contiguous(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 4, &pa);

	bt_fill(buf, 4 * PG, 1);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 1, 4 * PG, 0, 0, &map), 0);
	/* 3 pages + 200 bytes from offset 100: one physical run. */
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + 100, 3 * PG + 200, 0), 0);
	assert_int_equal(map->dm_nsegs, 1);
	assert_int_equal(map->dm_segs[0].ds_addr, pa + 100);
	assert_int_equal(map->dm_segs[0]._ds_paddr, pa + 100);
	assert_ptr_equal(map->dm_segs[0]._ds_vaddr, buf + 100);
	bt_check_map(f->pm, map, buf + 100, 3 * PG + 200, 1);

	/* Loading a loaded map is EINVAL and leaves it as it was. */
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 16, 0), EINVAL);
	assert_int_equal(map->dm_nsegs, 1);
	assert_int_equal(map->dm_mapsize, 3 * PG + 200);
	iommu_dmamap_unload(f->tag, map);
	assert_int_equal(map->dm_nsegs, 0);
	assert_int_equal(map->dm_mapsize, 0);
	iommu_dmamap_unload(f->tag, map); /* unloading twice is harmless */

	/* Argument checks. */
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf, 4 * PG + 1, 0), EINVAL);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 0, 0), EINVAL);
	assert_int_equal(iommu_dmamap_load(f->tag, map, NULL, 8, 0), EINVAL);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf, 8, 0x40000000), EINVAL);
	/* A host pointer outside simulated RAM has no physical address. */
	assert_int_equal(iommu_dmamap_load(f->tag, map, &pa, 8, 0), EFAULT);
	assert_int_equal(map->dm_nsegs, 0);
	/* A direct-map buffer running past the end of RAM. */
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map,
		iommu_physmem_kva(f->pm, RAM_BASE + RAM_SIZE - PG), PG + 1, 0),
	    EFAULT);
	assert_int_equal(map->dm_nsegs, 0);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map,
		iommu_physmem_kva(f->pm, RAM_BASE + RAM_SIZE - PG), PG, 0),
	    0);
	assert_int_equal(map->dm_segs[0]._ds_paddr, RAM_BASE + RAM_SIZE - PG);
	iommu_dmamap_unload(f->tag, map);

	/* Destroying a loaded map is fine (the allocator checks leaks). */
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, PG, 0), 0);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 4), 0);
}

static void
test_load_maxsegsz_boundary(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 8, &pa);
	int		     i;

	bt_fill(buf, 8 * PG, 2);
	/* maxsegsz below a page: 3000-byte pieces. */
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 8 * PG, 8, 3000, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf + 1, 20000, 0), 0);
	assert_int_equal(map->dm_nsegs, 7);
	for (i = 0; i < 6; i++)
		assert_int_equal(map->dm_segs[i].ds_len, 3000);
	assert_int_equal(map->dm_segs[6].ds_len, 2000);
	bt_check_map(f->pm, map, buf + 1, 20000, 1);
	iommu_dmamap_unload(f->tag, map);
	/* One piece too many: EFBIG, nothing loaded. */
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + 1, 8 * 3000 + 1, 0), EFBIG);
	assert_int_equal(map->dm_nsegs, 0);
	assert_int_equal(map->dm_mapsize, 0);
	iommu_dmamap_destroy(f->tag, map);

	/* Boundary 8 KiB: a buffer straddling a line is cut there. */
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 8 * PG, 3, 8 * PG, 2 * PG, 0, &map), 0);
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + PG + 10, 2 * PG, 0), 0);
	bt_check_map(f->pm, map, buf + PG + 10, 2 * PG, 1);
	/* pa is page aligned; lines every 8 KiB from PA 0. */
	for (i = 0; i < map->dm_nsegs; i++)
		assert_int_equal(
		    ((map->dm_segs[i]._ds_paddr + 2 * PG) & ~(2 * PG - 1)) -
			    map->dm_segs[i]._ds_paddr >=
			map->dm_segs[i].ds_len,
		    1);
	assert_true(map->dm_nsegs == 2);
	iommu_dmamap_unload(f->tag, map);
	/* 6 pages from a line need 3 segments; from mid-window 4: EFBIG. */
	{
		uint64_t off = (pa & (2 * PG - 1)) == 0 ? 0 : PG;

		assert_int_equal(
		    iommu_dmamap_load(f->tag, map, buf + off, 6 * PG, 0), 0);
		assert_int_equal(map->dm_nsegs, 3);
		iommu_dmamap_unload(f->tag, map);
		assert_int_equal(
		    iommu_dmamap_load(f->tag, map, buf + off + PG, 6 * PG, 0),
		    EFBIG);
		assert_int_equal(map->dm_nsegs, 0);
	}
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 8), 0);
}

static void
test_load_scattered(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	uint8_t		    *buf;
	void		    *kva;
	uint64_t	     pa;
	int		     i;

	assert_int_equal(iommu_physmem_alloc_scattered(f->pm, 5, &kva), 0);
	buf = kva;
	bt_fill(buf, 5 * PG, 3);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 5 * PG, 5, 5 * PG, 0, 0, &map), 0);
	/* From offset 7, 4 pages + 100: five physical pieces. */
	assert_int_equal(
	    iommu_dmamap_load(f->tag, map, buf + 7, 4 * PG + 100, 0), 0);
	assert_int_equal(map->dm_nsegs, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(iommu_physmem_extract(
				     f->pm, buf + (i == 0 ? 7 : i * PG), &pa),
		    0);
		assert_int_equal(map->dm_segs[i]._ds_paddr, pa);
	}
	assert_int_equal(map->dm_segs[0].ds_len, PG - 7);
	assert_int_equal(map->dm_segs[4].ds_len, 107);
	bt_check_map(f->pm, map, buf + 7, 4 * PG + 100, 1);
	iommu_dmamap_unload(f->tag, map);
	/* Not enough segments for a scattered buffer: EFBIG. */
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 5 * PG, 4, 5 * PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 5 * PG, 0), EFBIG);
	assert_int_equal(map->dm_nsegs, 0);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_scattered(f->pm, kva), 0);
}

static void
test_load_mbuf(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	struct iommu_mbuf    m[4];
	uint8_t		    *a, *b, expect[3000];
	uint64_t	     pa, pb;
	size_t		     n = 0;

	a = dmap_buf(f, 1, &pa);
	b = dmap_buf(f, 2, &pb);
	bt_fill(a, PG, 4);
	bt_fill(b, 2 * PG, 5);
	/* Three mbufs at odd offsets, one empty one in between. */
	m[0] = (struct iommu_mbuf){&m[1], a + 13, 501};
	m[1] = (struct iommu_mbuf){&m[2], b + 3, 0};
	m[2] = (struct iommu_mbuf){&m[3], b + PG - 77, 999};
	m[3] = (struct iommu_mbuf){NULL, a + 2001, 1001};
	memcpy(expect, a + 13, 501);
	n = 501;
	memcpy(expect + n, b + PG - 77, 999);
	n += 999;
	memcpy(expect + n, a + 2001, 1001);
	n += 1001;
	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4000, 3, 4000, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	assert_int_equal(map->dm_nsegs, 3);
	assert_int_equal(map->dm_segs[1]._ds_paddr, pb + PG - 77);
	bt_check_map(f->pm, map, expect, n, 1);
	iommu_dmamap_unload(f->tag, map);

	/* Adjacent mbufs (physically and virtually) share a segment. */
	m[0] = (struct iommu_mbuf){&m[1], a + 10, 100};
	m[1] = (struct iommu_mbuf){NULL, a + 110, 50};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), 0);
	assert_int_equal(map->dm_nsegs, 1);
	bt_check_map(f->pm, map, a + 10, 150, 1);
	iommu_dmamap_unload(f->tag, map);

	/* Too long a chain, an empty one, a NULL data pointer. */
	m[0] = (struct iommu_mbuf){&m[1], b, 2 * PG};
	m[1] = (struct iommu_mbuf){NULL, a, 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EINVAL);
	m[0] = (struct iommu_mbuf){NULL, a, 0};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EINVAL);
	m[0] = (struct iommu_mbuf){NULL, NULL, 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EINVAL);
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, NULL, 0), EINVAL);
	/* A cycle ends when segments run out, or (all empty) at a bound. */
	m[0] = (struct iommu_mbuf){&m[1], a, 10};
	m[1] = (struct iommu_mbuf){&m[0], a + 20, 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EFBIG);
	m[0] = (struct iommu_mbuf){&m[1], a, 0};
	m[1] = (struct iommu_mbuf){&m[0], a + 20, 0};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EINVAL);
	/* Four separate pieces in a three-segment map. */
	m[0] = (struct iommu_mbuf){&m[1], a, 10};
	m[1] = (struct iommu_mbuf){&m[2], b, 10};
	m[2] = (struct iommu_mbuf){&m[3], a + 100, 10};
	m[3] = (struct iommu_mbuf){NULL, b + 100, 10};
	assert_int_equal(iommu_dmamap_load_mbuf(f->tag, map, m, 0), EFBIG);
	assert_int_equal(map->dm_nsegs, 0);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 1), 0);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pb, 2), 0);
}

static void
test_load_uio(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	struct iovec	     iov[3];
	struct iommu_uio     uio;
	uint8_t		    *a, expect[PG];
	uint64_t	     pa;

	a = dmap_buf(f, 2, &pa);
	bt_fill(a, 2 * PG, 6);
	iov[0] = (struct iovec){a + 5, 100};
	iov[1] = (struct iovec){a + PG + 1, 300};
	iov[2] = (struct iovec){a + 1000, 500};
	memcpy(expect, a + 5, 100);
	memcpy(expect + 100, a + PG + 1, 300);
	memcpy(expect + 400, a + 1000, 250);
	uio = (struct iommu_uio){iov, 3, 650}; /* stops inside iov[2] */
	assert_int_equal(iommu_dmamap_create(f->tag, PG, 3, PG, 0, 0, &map), 0);
	assert_int_equal(iommu_dmamap_load_uio(f->tag, map, &uio, 0), 0);
	assert_int_equal(map->dm_nsegs, 3);
	bt_check_map(f->pm, map, expect, 650, 1);
	iommu_dmamap_unload(f->tag, map);
	uio.uio_resid = 901; /* more than the iovecs hold */
	assert_int_equal(iommu_dmamap_load_uio(f->tag, map, &uio, 0), EINVAL);
	uio.uio_resid = PG + 1; /* more than the map */
	assert_int_equal(iommu_dmamap_load_uio(f->tag, map, &uio, 0), EINVAL);
	uio.uio_resid = 0;
	assert_int_equal(iommu_dmamap_load_uio(f->tag, map, &uio, 0), EINVAL);
	assert_int_equal(map->dm_nsegs, 0);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 2), 0);
}

static void
test_load_raw_and_dmamem(void **state)
{
	struct pfx		*f = *state;
	struct iommu_dmamap	*map;
	struct iommu_dma_segment segs[2], bad;
	uint64_t		 before = frames_in_use(f);
	void			*kva;
	int			 rsegs;

	assert_int_equal(iommu_dmamem_alloc(f->tag, 3 * PG + 5, PG, 0, segs, 1,
			     &rsegs, IOMMU_DMA_ZERO | IOMMU_DMA_NOWAIT),
	    0);
	assert_int_equal(rsegs, 1);
	assert_int_equal(segs[0].ds_len, 4 * PG);
	assert_int_equal(frames_in_use(f), before + 4);
	assert_int_equal(iommu_dmamem_map(f->tag, segs, 1, 4 * PG, &kva, 0), 0);
	assert_ptr_equal(kva, iommu_physmem_kva(f->pm, segs[0]._ds_paddr));
	bt_fill(kva, 4 * PG, 7);
	assert_int_equal(iommu_dmamem_mmap(f->tag, segs, 1, 2 * PG, 0, 0),
	    (int64_t)segs[0]._ds_paddr + 2 * PG);
	assert_int_equal(iommu_dmamem_mmap(f->tag, segs, 1, 4 * PG, 0, 0), -1);
	assert_int_equal(iommu_dmamem_mmap(f->tag, segs, 1, 5, 0, 0), -1);

	assert_int_equal(
	    iommu_dmamap_create(f->tag, 4 * PG, 2, PG, 0, 0, &map), 0);
	/* maxsegsz of a page and two segments: 2 pages at most. */
	assert_int_equal(
	    iommu_dmamap_load_raw(f->tag, map, segs, 1, 3 * PG, 0), EFBIG);
	assert_int_equal(
	    iommu_dmamap_load_raw(f->tag, map, segs, 1, 2 * PG, 0), 0);
	bt_check_map(f->pm, map, kva, 2 * PG, 1);
	iommu_dmamap_unload(f->tag, map);
	/* More bytes than the segments hold; a segment outside RAM. */
	assert_int_equal(
	    iommu_dmamap_load_raw(f->tag, map, segs, 1, 4 * PG + 1, 0), EINVAL);
	bad = (struct iommu_dma_segment){0, PG, RAM_BASE - PG, NULL};
	assert_int_equal(
	    iommu_dmamap_load_raw(f->tag, map, &bad, 1, PG, 0), EFAULT);
	assert_int_equal(map->dm_nsegs, 0);
	iommu_dmamap_destroy(f->tag, map);

	iommu_dmamem_unmap(f->tag, kva, 4 * PG);
	iommu_dmamem_free(f->tag, segs, rsegs);
	assert_int_equal(frames_in_use(f), before);

	/* Argument checks. */
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, 0, PG, 0, segs, 1, &rsegs, 0), EINVAL);
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, PG, 3 * PG, 0, segs, 1, &rsegs, 0),
	    EINVAL);
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, 2 * PG, PG, PG, segs, 1, &rsegs, 0),
	    ENOMEM); /* a boundary smaller than the size needs more segs */
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, PG, PG, 0, segs, 1, NULL, 0), EINVAL);
	assert_int_equal(frames_in_use(f), before);
}

static void
test_dmamem_align_boundary(void **state)
{
	struct pfx		*f = *state;
	struct iommu_dma_segment seg, hold[4];
	uint64_t		 before = frames_in_use(f), pa;
	int			 rsegs, i;

	/* Misalign the free space first so alignment has work to do. */
	assert_int_equal(iommu_physmem_alloc_pages(f->pm, 1, &pa), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(iommu_dmamem_alloc(f->tag, 3 * PG, 16 * PG, 0,
				     &seg, 1, &rsegs, 0),
		    0);
		assert_int_equal(seg._ds_paddr & (16 * PG - 1), 0);
		assert_int_equal(frames_in_use(f), before + 1 + 3);
		iommu_dmamem_free(f->tag, &seg, 1);
	}
	/* 3 pages never crossing a 4-page line, whatever the free start. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(iommu_dmamem_alloc(
				     f->tag, PG, PG, 0, &hold[i], 1, &rsegs, 0),
		    0);
		assert_int_equal(iommu_dmamem_alloc(f->tag, 3 * PG, PG, 4 * PG,
				     &seg, 1, &rsegs, 0),
		    0);
		assert_int_equal(
		    (seg._ds_paddr ^ (seg._ds_paddr + 3 * PG - 1)) &
			~(4 * PG - 1),
		    0);
		iommu_dmamem_free(f->tag, &seg, 1);
	}
	for (i = 0; i < 4; i++)
		iommu_dmamem_free(f->tag, &hold[i], 1);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 1), 0);
	assert_int_equal(frames_in_use(f), before);
}

/* With RAM too fragmented for a run, one segment per page is the answer. */
static void
test_dmamem_scattered_fallback(void **state)
{
	struct iommu_physmem	  *pm;
	struct iommu_dma_tag	  *tag;
	struct iommu_dma_segment   segs[4];
	struct iommu_physmem_stats st;
	uint64_t		   pa[32];
	void			  *kva;
	uint8_t			   tmp[64];
	int			   i, rsegs;

	(void)state;
	assert_int_equal(iommu_physmem_create(RAM_BASE, 32 * PG, NULL, &pm), 0);
	assert_int_equal(
	    iommu_dma_tag_create_platform(pm, test_cmocka_allocator(), &tag),
	    0);
	for (i = 0; i < 32; i++)
		assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[i]), 0);
	for (i = 0; i < 32; i += 2)
		assert_int_equal(iommu_physmem_free_pages(pm, pa[i], 1), 0);
	/* One segment allowed: no run of 3 exists. */
	assert_int_equal(
	    iommu_dmamem_alloc(tag, 3 * PG, PG, 0, segs, 1, &rsegs, 0), ENOMEM);
	/* Alignment beyond a page cannot be met page by page. */
	assert_int_equal(
	    iommu_dmamem_alloc(tag, 3 * PG, 2 * PG, 0, segs, 4, &rsegs, 0),
	    ENOMEM);
	assert_int_equal(
	    iommu_dmamem_alloc(tag, 3 * PG, PG, 0, segs, 4, &rsegs, 0), 0);
	assert_int_equal(rsegs, 3);
	assert_int_equal(iommu_dmamem_map(tag, segs, 3, 3 * PG, &kva, 0), 0);
	assert_ptr_equal(kva, segs[0]._ds_vaddr);
	bt_fill(tmp, sizeof(tmp), 8);
	memcpy((uint8_t *)kva + 2 * PG + 5, tmp, sizeof(tmp));
	memset(tmp, 0, sizeof(tmp));
	assert_int_equal(
	    iommu_physmem_read(pm, segs[2]._ds_paddr + 5, tmp, sizeof(tmp)), 0);
	for (i = 0; i < (int)sizeof(tmp); i++)
		assert_int_equal(tmp[i], bt_pattern(8, (size_t)i));
	assert_int_equal(iommu_dmamem_mmap(tag, segs, 3, 2 * PG, 0, 0),
	    (int64_t)segs[2]._ds_paddr);
	/* Out of order the segments map nowhere contiguous. */
	{
		struct iommu_dma_segment sw[2] = {segs[1], segs[0]};

		assert_int_equal(
		    iommu_dmamem_map(tag, sw, 2, 2 * PG, &kva, 0), EINVAL);
	}
	assert_int_equal(
	    iommu_dmamem_map(tag, segs, 3, 3 * PG + 1, &kva, 0), EINVAL);
	iommu_dmamem_free(tag, segs, rsegs);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 16);
	iommu_dma_tag_destroy(tag);
	iommu_physmem_destroy(pm);
}

static void
test_dmamem_fault_injection(void **state)
{
	struct pfx		*f = *state;
	struct iommu_dma_segment seg;
	uint64_t		 before = frames_in_use(f);
	int			 rsegs;

	iommu_physmem_fail_alloc_after(f->pm, 1);
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, 2 * PG, PG, 0, &seg, 1, &rsegs, 0),
	    ENOMEM);
	assert_int_equal(frames_in_use(f), before);
	assert_int_equal(
	    iommu_dmamem_alloc(f->tag, 2 * PG, PG, 0, &seg, 1, &rsegs, 0), 0);
	iommu_dmamem_free(f->tag, &seg, 1);
	assert_int_equal(frames_in_use(f), before);
}

static void
test_sync(void **state)
{
	struct pfx	    *f = *state;
	struct iommu_dmamap *map;
	uint64_t	     pa;
	uint8_t		    *buf = dmap_buf(f, 1, &pa);

	assert_int_equal(iommu_dmamap_create(f->tag, PG, 1, PG, 0, 0, &map), 0);
	/* Unloaded: nothing to sync. */
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 0, 0, IOMMU_DMA_PREWRITE), EINVAL);
	assert_int_equal(iommu_dmamap_load(f->tag, map, buf, 100, 0), 0);
	assert_int_equal(iommu_dmamap_sync(f->tag, map, 0, 100,
			     IOMMU_DMA_PREREAD | IOMMU_DMA_PREWRITE),
	    0);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 99, 1, IOMMU_DMA_POSTREAD), 0);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 100, 0, IOMMU_DMA_POSTWRITE), 0);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 99, 2, IOMMU_DMA_POSTREAD), EINVAL);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 101, 0, IOMMU_DMA_POSTREAD), EINVAL);
	assert_int_equal(
	    iommu_dmamap_sync(f->tag, map, 1, UINT64_MAX, IOMMU_DMA_POSTREAD),
	    EINVAL);
	assert_int_equal(iommu_dmamap_sync(f->tag, map, 0, 10, 0), EINVAL);
	assert_int_equal(iommu_dmamap_sync(f->tag, map, 0, 10, 0x10), EINVAL);
	assert_int_equal(
	    iommu_dmamap_sync(NULL, map, 0, 10, IOMMU_DMA_PREREAD), EINVAL);
	iommu_dmamap_destroy(f->tag, map);
	assert_int_equal(iommu_physmem_free_pages(f->pm, pa, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_create_enomem, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_load_contiguous, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_load_maxsegsz_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_load_scattered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_mbuf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_uio, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_load_raw_and_dmamem, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_dmamem_align_boundary, setup, teardown),
	    cmocka_unit_test(test_dmamem_scattered_fallback),
	    cmocka_unit_test_setup_teardown(
		test_dmamem_fault_injection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
	};

	return cmocka_run_group_tests_name(
	    "busdma_platform", tests, NULL, NULL);
}
