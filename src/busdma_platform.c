/*
 * libiommu - the platform bus_dma tag: device address = physical address
 * over simulated RAM (OpenBSD arm64 machdep bus_dma, _dmamap_load_buffer).
 *
 * Loads turn a kernel buffer (direct-map or scattered-buffer pointers)
 * into physically contiguous segments.  The builder appends ranges to the
 * map's segment array: a range continues the last segment when it is
 * physically and virtually contiguous with it, the segment stays within
 * maxsegsz and the same boundary window; otherwise it opens a new segment,
 * and EFBIG when _dm_segcnt are used.  The work is per physically
 * contiguous run, never per byte: a direct-map buffer is one run, a
 * scattered buffer one run per page.  ds_addr == _ds_paddr for this tag.
 *
 * dmamem_alloc returns one physically contiguous run (over-allocated and
 * trimmed for alignment and boundary) or, when no such run exists and the
 * caller allows one segment per page, a scattered buffer whose pages are
 * the segments; dmamem_map hands out the direct-map pointer or that
 * buffer's pointer, so nothing is mapped or unmapped on the host.
 *
 * The simulated RAM is coherent with the device: sync is a full fence.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/busdma.h>
#include <iommu/physmem.h>

#include "busdma_internal.h"
#include "iommu_internal.h"

#define PAGE	       ((uint64_t)IOMMU_PAGE_SIZE)
#define ROUND_PAGE(x)  (((x) + IOMMU_PAGE_MASK) & ~IOMMU_PAGE_MASK)
#define COOKIE_ALIGN   16u
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))

static int  plat_create(struct iommu_dma_tag *, uint64_t, int, uint64_t,
     uint64_t, int, size_t, struct iommu_dmamap **);
static void plat_destroy(struct iommu_dma_tag *, struct iommu_dmamap *);
static int  plat_load(
     struct iommu_dma_tag *, struct iommu_dmamap *, void *, size_t, int);
static int plat_load_mbuf(
    struct iommu_dma_tag *, struct iommu_dmamap *, struct iommu_mbuf *, int);
static int plat_load_uio(
    struct iommu_dma_tag *, struct iommu_dmamap *, struct iommu_uio *, int);
static int  plat_load_raw(struct iommu_dma_tag *, struct iommu_dmamap *,
     const struct iommu_dma_segment *, int, uint64_t, int);
static void plat_unload(struct iommu_dma_tag *, struct iommu_dmamap *);
static int  plat_sync(
     struct iommu_dma_tag *, struct iommu_dmamap *, uint64_t, uint64_t, int);
static int  plat_dmamem_alloc(struct iommu_dma_tag *, uint64_t, uint64_t,
     uint64_t, struct iommu_dma_segment *, int, int *, int);
static void plat_dmamem_free(
    struct iommu_dma_tag *, struct iommu_dma_segment *, int);
static int  plat_dmamem_map(struct iommu_dma_tag *, struct iommu_dma_segment *,
     int, size_t, void **, int);
static void plat_dmamem_unmap(struct iommu_dma_tag *, void *, size_t);
static int64_t plat_dmamem_mmap(struct iommu_dma_tag *,
    struct iommu_dma_segment *, int, uint64_t, int, int);
static void    plat_tag_free(struct iommu_dma_tag *);

static int add_range(struct iommu_dmamap *, uint64_t, char *, uint64_t);
static int load_buffer(
    struct iommu_physmem *, struct iommu_dmamap *, char *, uint64_t);
static int alloc_contig(
    struct iommu_physmem *, uint64_t, uint64_t, uint64_t, uint64_t *);
static int alloc_scattered(struct iommu_physmem *, uint64_t, uint64_t,
    struct iommu_dma_segment *, int, int *);
static int is_direct(struct iommu_physmem *, const struct iommu_dma_segment *);

static const struct iommu__dma_tag_ops plat_ops = {
    .create = plat_create,
    .destroy = plat_destroy,
    .load = plat_load,
    .load_mbuf = plat_load_mbuf,
    .load_uio = plat_load_uio,
    .load_raw = plat_load_raw,
    .unload = plat_unload,
    .sync = plat_sync,
    .dmamem_alloc = plat_dmamem_alloc,
    .dmamem_free = plat_dmamem_free,
    .dmamem_map = plat_dmamem_map,
    .dmamem_unmap = plat_dmamem_unmap,
    .dmamem_mmap = plat_dmamem_mmap,
    .tag_free = plat_tag_free,
};

int
iommu_dma_tag_create_platform(struct iommu_physmem *pm,
    const struct iommu_allocator *alloc, struct iommu_dma_tag **out)
{
	struct iommu_dma_tag *t;

	if (pm == NULL || out == NULL)
		return EINVAL;
	alloc = iommu__allocator_or_default(alloc);
	if ((t = iommu__zalloc(alloc, sizeof(*t))) == NULL)
		return ENOMEM;
	t->dt_ops = &plat_ops;
	t->dt_cookie = pm;
	t->dt_alloc = alloc;
	*out = t;
	return 0;
}

static void
plat_tag_free(struct iommu_dma_tag *t)
{
	iommu__free(t->dt_alloc, t, sizeof(*t));
}

static int
plat_create(struct iommu_dma_tag *t, uint64_t size, int nsegments,
    uint64_t maxsegsz, uint64_t boundary, int flags, size_t cookie_size,
    struct iommu_dmamap **out)
{
	struct iommu__dmamap_hdr *mh;
	struct iommu_dmamap	 *map;
	size_t			  mapsize, total;

	mapsize = ALIGN_UP(iommu__dmamap_size(nsegments), COOKIE_ALIGN);
	total = sizeof(*mh) + mapsize + cookie_size;
	if ((mh = iommu__zalloc(t->dt_alloc, total)) == NULL)
		return ENOMEM;
	mh->mh_size = total;
	mh->mh_tag = t; /* the public create records the outermost tag */
	map = (struct iommu_dmamap *)(mh + 1);
	map->_dm_size = size;
	map->_dm_segcnt = nsegments;
	map->_dm_maxsegsz = maxsegsz;
	map->_dm_boundary = boundary;
	map->_dm_flags = flags;
	if (cookie_size != 0)
		map->_dm_cookie = (char *)map + mapsize;
	*out = map;
	return 0;
}

static void
plat_destroy(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	struct iommu__dmamap_hdr *mh = iommu__dmamap_hdr(map);

	iommu__free(t->dt_alloc, mh, mh->mh_size);
}

/*
 * Appends [pa, pa + len) (kernel address va, or NULL) to the map's
 * segments: fills the last segment up to maxsegsz when contiguous and in
 * the same boundary window, then opens new ones.
 */
static int
add_range(struct iommu_dmamap *map, uint64_t pa, char *va, uint64_t len)
{
	struct iommu_dma_segment *seg;
	uint64_t boundary = map->_dm_boundary, bmask = ~(boundary - 1);
	uint64_t maxsegsz = map->_dm_maxsegsz, sgsize, take;

	while (len > 0) {
		sgsize = len;
		if (boundary != 0 && sgsize > ((pa + boundary) & bmask) - pa)
			sgsize = ((pa + boundary) & bmask) - pa;
		seg =
		    map->dm_nsegs > 0 ? &map->dm_segs[map->dm_nsegs - 1] : NULL;
		if (seg != NULL && seg->_ds_paddr + seg->ds_len == pa &&
		    seg->ds_len < maxsegsz &&
		    (boundary == 0 || ((seg->_ds_paddr ^ pa) & bmask) == 0) &&
		    (seg->_ds_vaddr == NULL
			    ? va == NULL
			    : va == (char *)seg->_ds_vaddr + seg->ds_len)) {
			take = sgsize < maxsegsz - seg->ds_len
			    ? sgsize
			    : maxsegsz - seg->ds_len;
			seg->ds_len += take;
		} else {
			if (map->dm_nsegs == map->_dm_segcnt)
				return EFBIG;
			take = sgsize < maxsegsz ? sgsize : maxsegsz;
			seg = &map->dm_segs[map->dm_nsegs++];
			seg->ds_addr = pa;
			seg->_ds_paddr = pa;
			seg->ds_len = take;
			seg->_ds_vaddr = va;
		}
		pa += take;
		if (va != NULL)
			va += take;
		len -= take;
	}
	return 0;
}

/*
 * One kernel buffer: a direct-map pointer is a single physical run; any
 * other pointer (a scattered buffer) is resolved page by page.
 */
static int
load_buffer(
    struct iommu_physmem *pm, struct iommu_dmamap *map, char *va, uint64_t len)
{
	uint64_t pa, run;
	int	 error;

	while (len > 0) {
		if (iommu_physmem_extract(pm, va, &pa) != 0)
			return EFAULT;
		/*
		 * The last byte sits where the direct map puts it only if
		 * the whole buffer is one direct-map run (scattered buffers
		 * are separate host mappings).
		 */
		if (pa + (len - 1) >= pa &&
		    iommu_physmem_kva(pm, pa + (len - 1)) == va + (len - 1)) {
			run = len;
		} else {
			run = PAGE - (pa & IOMMU_PAGE_MASK);
			if (run > len)
				run = len;
		}
		if ((error = add_range(map, pa, va, run)) != 0)
			return error;
		va += run;
		len -= run;
	}
	return 0;
}

static void
reset_map(struct iommu_dmamap *map)
{
	map->dm_nsegs = 0;
	map->dm_mapsize = 0;
}

/* The end of every load: nothing stays loaded on error, else the size. */
static int
load_done(struct iommu_dmamap *map, int error, uint64_t mapsize)
{
	if (error != 0) {
		reset_map(map);
		return error;
	}
	map->dm_mapsize = mapsize;
	return 0;
}

static int
plat_load(struct iommu_dma_tag *t, struct iommu_dmamap *map, void *buf,
    size_t len, int flags)
{
	int error;

	(void)flags;
	reset_map(map);
	error = load_buffer(t->dt_cookie, map, buf, len);
	return load_done(map, error, len);
}

static int
plat_load_mbuf(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_mbuf *m, int flags)
{
	uint64_t total = 0;
	unsigned nempty = 0;
	int	 error = 0;

	(void)flags;
	reset_map(map);
	for (; m != NULL && error == 0; m = m->m_next) {
		if (m->m_len == 0) {
			/* bounds a (bogus) cycle of empty mbufs */
			if (++nempty > IOMMU__DMA_MAX_SEGS)
				error = EINVAL;
			continue;
		}
		if (m->m_data == NULL || m->m_len > map->_dm_size - total)
			error = EINVAL;
		else
			error =
			    load_buffer(t->dt_cookie, map, m->m_data, m->m_len);
		total += m->m_len;
	}
	if (error == 0 && total == 0)
		error = EINVAL;
	return load_done(map, error, total);
}

static int
plat_load_uio(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_uio *uio, int flags)
{
	const struct iovec *iov = uio->uio_iov;
	size_t		    resid = uio->uio_resid, n;
	int		    i, error = 0;

	(void)flags;
	reset_map(map);
	for (i = 0; i < uio->uio_iovcnt && resid > 0 && error == 0; i++) {
		n = iov[i].iov_len < resid ? iov[i].iov_len : resid;
		if (n == 0)
			continue;
		if (iov[i].iov_base == NULL)
			error = EINVAL;
		else
			error =
			    load_buffer(t->dt_cookie, map, iov[i].iov_base, n);
		resid -= n;
	}
	if (error == 0 && resid != 0)
		error = EINVAL;
	return load_done(map, error, uio->uio_resid);
}

static int
plat_load_raw(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    const struct iommu_dma_segment *segs, int nsegs, uint64_t size, int flags)
{
	struct iommu_physmem *pm = t->dt_cookie;
	uint64_t	      resid = size, n, pa;
	int		      i, error = 0;

	(void)flags;
	reset_map(map);
	for (i = 0; i < nsegs && resid > 0 && error == 0; i++) {
		n = segs[i].ds_len < resid ? segs[i].ds_len : resid;
		if (n == 0)
			continue;
		pa = segs[i]._ds_paddr;
		if (pa + n < pa || iommu_physmem_kva(pm, pa) == NULL ||
		    iommu_physmem_kva(pm, pa + n - 1) == NULL)
			error = EFAULT;
		else
			error = add_range(map, pa, segs[i]._ds_vaddr, n);
		resid -= n;
	}
	if (error == 0 && resid != 0)
		error = EINVAL;
	return load_done(map, error, size);
}

static void
plat_unload(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	(void)t;
	reset_map(map);
}

static int
plat_sync(struct iommu_dma_tag *t, struct iommu_dmamap *map, uint64_t offset,
    uint64_t len, int ops)
{
	(void)t;
	(void)map;
	(void)offset;
	(void)len;
	(void)ops;
	/* Order the CPU's accesses against the device's (no caches here). */
	atomic_thread_fence(memory_order_seq_cst);
	return 0;
}

static int
plat_dmamem_alloc(struct iommu_dma_tag *t, uint64_t size, uint64_t alignment,
    uint64_t boundary, struct iommu_dma_segment *segs, int nsegs, int *rsegs,
    int flags)
{
	struct iommu_physmem *pm = t->dt_cookie;
	uint64_t	      pa, rsize;
	int		      error;

	(void)flags; /* frames are always zeroed: IOMMU_DMA_ZERO holds */
	if (size > UINT64_MAX - PAGE)
		return EINVAL;
	rsize = ROUND_PAGE(size);
	if (alignment < PAGE)
		alignment = PAGE;
	if (boundary != 0 && boundary < PAGE)
		return EINVAL;
	error = ENOMEM;
	if (boundary == 0 || boundary >= rsize)
		error = alloc_contig(pm, rsize, alignment, boundary, &pa);
	if (error == 0) {
		segs[0].ds_addr = pa;
		segs[0]._ds_paddr = pa;
		segs[0].ds_len = rsize;
		segs[0]._ds_vaddr = iommu_physmem_kva(pm, pa);
		*rsegs = 1;
		return 0;
	}
	if (error != ENOMEM || alignment > PAGE)
		return error;
	return alloc_scattered(pm, rsize, boundary, segs, nsegs, rsegs);
}

/*
 * rsize bytes at an alignment-aligned PA not crossing a boundary line:
 * over-allocate, pick the first fitting start, give back the rest.  If the
 * aligned start crosses a line, the line itself is aligned (boundary >=
 * alignment, or boundary < alignment and then no aligned start crosses),
 * so 2 * rsize + alignment - PAGE bytes always hold a fit.
 */
static int
alloc_contig(struct iommu_physmem *pm, uint64_t rsize, uint64_t alignment,
    uint64_t boundary, uint64_t *pap)
{
	uint64_t base, start, total;
	int	 error;

	total = rsize + (alignment - PAGE);
	if (boundary != 0)
		total += rsize;
	if (total < rsize)
		return ENOMEM;
	error = iommu_physmem_alloc_pages(pm, total / PAGE, &base);
	if (error != 0)
		return error;
	start = ALIGN_UP(base, alignment);
	if (boundary != 0 &&
	    ((start ^ (start + rsize - 1)) & ~(boundary - 1)) != 0)
		start = (start | (boundary - 1)) + 1;
	IOMMU_ASSERT(start + rsize <= base + total);
	if (start > base)
		(void)iommu_physmem_free_pages(pm, base, (start - base) / PAGE);
	if (base + total > start + rsize)
		(void)iommu_physmem_free_pages(
		    pm, start + rsize, (base + total - start - rsize) / PAGE);
	*pap = start;
	return 0;
}

/* One segment per page (coalescing adjacent frames) of a scattered buffer. */
static int
alloc_scattered(struct iommu_physmem *pm, uint64_t rsize, uint64_t boundary,
    struct iommu_dma_segment *segs, int nsegs, int *rsegs)
{
	struct iommu_dma_segment *seg;
	uint64_t		  npages = rsize / PAGE, i, pa;
	char			 *kva;
	void			 *buf;
	int			  n = 0, error;

	if (npages > (uint64_t)nsegs)
		return ENOMEM;
	if ((error = iommu_physmem_alloc_scattered(pm, npages, &buf)) != 0)
		return error;
	kva = buf;
	for (i = 0; i < npages; i++, kva += PAGE) {
		(void)iommu_physmem_extract(pm, kva, &pa);
		seg = n > 0 ? &segs[n - 1] : NULL;
		if (seg != NULL && seg->_ds_paddr + seg->ds_len == pa &&
		    (boundary == 0 ||
			((seg->_ds_paddr ^ pa) & ~(boundary - 1)) == 0)) {
			seg->ds_len += PAGE;
			continue;
		}
		seg = &segs[n++];
		seg->ds_addr = pa;
		seg->_ds_paddr = pa;
		seg->ds_len = PAGE;
		seg->_ds_vaddr = kva;
	}
	*rsegs = n;
	return 0;
}

/* Segments from a contiguous run carry their direct-map address. */
static int
is_direct(struct iommu_physmem *pm, const struct iommu_dma_segment *seg)
{
	return seg->_ds_vaddr == NULL ||
	    seg->_ds_vaddr == iommu_physmem_kva(pm, seg->_ds_paddr);
}

static void
plat_dmamem_free(
    struct iommu_dma_tag *t, struct iommu_dma_segment *segs, int nsegs)
{
	struct iommu_physmem *pm = t->dt_cookie;
	int		      i;

	if (!is_direct(pm, &segs[0])) {
		(void)iommu_physmem_free_scattered(pm, segs[0]._ds_vaddr);
		return;
	}
	for (i = 0; i < nsegs; i++)
		(void)iommu_physmem_free_pages(pm,
		    segs[i]._ds_paddr & ~IOMMU_PAGE_MASK,
		    ROUND_PAGE(segs[i].ds_len +
			(segs[i]._ds_paddr & IOMMU_PAGE_MASK)) /
			PAGE);
}

/*
 * A virtually contiguous view of the segments: the direct map when they
 * are physically consecutive, the scattered buffer they came from when
 * their kernel addresses are consecutive; EINVAL otherwise (there is no
 * host VM to build another mapping with).
 */
static int
plat_dmamem_map(struct iommu_dma_tag *t, struct iommu_dma_segment *segs,
    int nsegs, size_t size, void **kvap, int flags)
{
	struct iommu_physmem *pm = t->dt_cookie;
	uint64_t	      total = 0;
	int		      i, direct = 1, virt = segs[0]._ds_vaddr != NULL;

	(void)flags; /* NOCACHE/COHERENT: simulated RAM has no caches */
	for (i = 0; i < nsegs; i++) {
		if (i > 0 &&
		    segs[i]._ds_paddr !=
			segs[i - 1]._ds_paddr + segs[i - 1].ds_len)
			direct = 0;
		if (i > 0 &&
		    (segs[i]._ds_vaddr == NULL ||
			(char *)segs[i]._ds_vaddr !=
			    (char *)segs[i - 1]._ds_vaddr + segs[i - 1].ds_len))
			virt = 0;
		total += segs[i].ds_len;
	}
	if (size > total)
		return EINVAL;
	if (direct && iommu_physmem_kva(pm, segs[0]._ds_paddr) != NULL &&
	    iommu_physmem_kva(pm, segs[0]._ds_paddr + size - 1) != NULL) {
		*kvap = iommu_physmem_kva(pm, segs[0]._ds_paddr);
		return 0;
	}
	if (virt) {
		*kvap = segs[0]._ds_vaddr;
		return 0;
	}
	return EINVAL;
}

static void
plat_dmamem_unmap(struct iommu_dma_tag *t, void *kva, size_t size)
{
	/* dmamem_map created no mapping: the memory goes with dmamem_free. */
	(void)t;
	(void)kva;
	(void)size;
}

static int64_t
plat_dmamem_mmap(struct iommu_dma_tag *t, struct iommu_dma_segment *segs,
    int nsegs, uint64_t off, int prot, int flags)
{
	int i;

	(void)t;
	(void)prot;
	(void)flags;
	if ((off & IOMMU_PAGE_MASK) != 0)
		return -1;
	for (i = 0; i < nsegs; i++) {
		if (off < segs[i].ds_len)
			return (int64_t)(segs[i]._ds_paddr + off);
		off -= segs[i].ds_len;
	}
	return -1;
}
