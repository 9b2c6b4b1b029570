/*
 * libiommu - bus_dma(9) entry points: argument checks and dispatch
 * through the tag's ops table.
 *
 * Every public function resolves the operation on the tag it was given;
 * an op the tag leaves NULL is taken from the nearest ancestor that has it
 * (the IOMMU tag inherits sync and the dmamem family from the platform
 * tag, as the seed's smmu_device_hook copies the parent tag and overrides
 * only the dmamap calls).  Checks that hold for every tag (NULL pointers,
 * unknown flags, a load on a loaded map) live here so that the tags only
 * implement the semantics.
 */
#include <errno.h>
#include <stddef.h>

#include <iommu/busdma.h>

#include "busdma_internal.h"
#include "iommu_internal.h"

#define RESOLVE(t, op)                                                         \
	while ((t)->dt_ops->op == NULL && (t)->dt_parent != NULL)              \
	(t) = (t)->dt_parent

void
iommu_dma_tag_destroy(struct iommu_dma_tag *t)
{
	if (t != NULL)
		t->dt_ops->tag_free(t);
}

int
iommu_dma_tag_flags(const struct iommu_dma_tag *t)
{
	return t != NULL ? t->dt_flags : 0;
}

int
iommu_dmamap_create(struct iommu_dma_tag *t, uint64_t size, int nsegments,
    uint64_t maxsegsz, uint64_t boundary, int flags, struct iommu_dmamap **out)
{
	if (t == NULL || out == NULL || size == 0 || nsegments <= 0 ||
	    nsegments > IOMMU__DMA_MAX_SEGS || maxsegsz == 0 ||
	    (boundary & (boundary - 1)) != 0 ||
	    (flags & ~IOMMU__DMA_CREATE_FLAGS) != 0)
		return EINVAL;
	return t->dt_ops->create(
	    t, size, nsegments, maxsegsz, boundary, flags, 0, out);
}

void
iommu_dmamap_destroy(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	if (t != NULL && map != NULL)
		t->dt_ops->destroy(t, map);
}

/* Common load preconditions. */
static int
load_check(struct iommu_dma_tag *t, struct iommu_dmamap *map, int flags)
{
	if (t == NULL || map == NULL || (flags & ~IOMMU__DMA_LOAD_FLAGS) != 0)
		return EINVAL;
	if (iommu__dmamap_loaded(map))
		return EINVAL;
	return 0;
}

int
iommu_dmamap_load(struct iommu_dma_tag *t, struct iommu_dmamap *map, void *buf,
    size_t len, int flags)
{
	int error;

	if ((error = load_check(t, map, flags)) != 0)
		return error;
	if (buf == NULL || len == 0 || len > map->_dm_size)
		return EINVAL;
	return t->dt_ops->load(t, map, buf, len, flags);
}

int
iommu_dmamap_load_mbuf(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_mbuf *m, int flags)
{
	int error;

	if ((error = load_check(t, map, flags)) != 0)
		return error;
	if (m == NULL)
		return EINVAL;
	return t->dt_ops->load_mbuf(t, map, m, flags);
}

int
iommu_dmamap_load_uio(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_uio *uio, int flags)
{
	int error;

	if ((error = load_check(t, map, flags)) != 0)
		return error;
	if (uio == NULL || uio->uio_resid == 0 || uio->uio_iovcnt <= 0 ||
	    uio->uio_iov == NULL || uio->uio_resid > map->_dm_size)
		return EINVAL;
	return t->dt_ops->load_uio(t, map, uio, flags);
}

int
iommu_dmamap_load_raw(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    const struct iommu_dma_segment *segs, int nsegs, uint64_t size, int flags)
{
	int error;

	if ((error = load_check(t, map, flags)) != 0)
		return error;
	if (segs == NULL || nsegs <= 0 || size == 0 || size > map->_dm_size)
		return EINVAL;
	return t->dt_ops->load_raw(t, map, segs, nsegs, size, flags);
}

void
iommu_dmamap_unload(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	if (t != NULL && map != NULL && iommu__dmamap_loaded(map))
		t->dt_ops->unload(t, map);
}

int
iommu_dmamap_sync(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    uint64_t offset, uint64_t len, int ops)
{
	if (t == NULL || map == NULL || ops == 0 ||
	    (ops & ~IOMMU__DMA_SYNC_OPS) != 0 || !iommu__dmamap_loaded(map) ||
	    offset > map->dm_mapsize || len > map->dm_mapsize - offset)
		return EINVAL;
	RESOLVE(t, sync);
	return t->dt_ops->sync(t, map, offset, len, ops);
}

int
iommu_dmamem_alloc(struct iommu_dma_tag *t, uint64_t size, uint64_t alignment,
    uint64_t boundary, struct iommu_dma_segment *segs, int nsegs, int *rsegs,
    int flags)
{
	if (t == NULL || segs == NULL || rsegs == NULL || nsegs <= 0 ||
	    size == 0 || (alignment & (alignment - 1)) != 0 ||
	    (boundary & (boundary - 1)) != 0 ||
	    (flags & ~(IOMMU__DMA_CREATE_FLAGS | IOMMU_DMA_ZERO)) != 0)
		return EINVAL;
	RESOLVE(t, dmamem_alloc);
	return t->dt_ops->dmamem_alloc(
	    t, size, alignment, boundary, segs, nsegs, rsegs, flags);
}

void
iommu_dmamem_free(
    struct iommu_dma_tag *t, struct iommu_dma_segment *segs, int nsegs)
{
	if (t == NULL || segs == NULL || nsegs <= 0)
		return;
	RESOLVE(t, dmamem_free);
	t->dt_ops->dmamem_free(t, segs, nsegs);
}

int
iommu_dmamem_map(struct iommu_dma_tag *t, struct iommu_dma_segment *segs,
    int nsegs, size_t size, void **kvap, int flags)
{
	if (t == NULL || segs == NULL || nsegs <= 0 || size == 0 ||
	    kvap == NULL ||
	    (flags & ~(IOMMU__DMA_CREATE_FLAGS | IOMMU_DMA_ZERO)) != 0)
		return EINVAL;
	RESOLVE(t, dmamem_map);
	return t->dt_ops->dmamem_map(t, segs, nsegs, size, kvap, flags);
}

void
iommu_dmamem_unmap(struct iommu_dma_tag *t, void *kva, size_t size)
{
	if (t == NULL || kva == NULL)
		return;
	RESOLVE(t, dmamem_unmap);
	t->dt_ops->dmamem_unmap(t, kva, size);
}

int64_t
iommu_dmamem_mmap(struct iommu_dma_tag *t, struct iommu_dma_segment *segs,
    int nsegs, uint64_t off, int prot, int flags)
{
	if (t == NULL || segs == NULL || nsegs <= 0)
		return -1;
	RESOLVE(t, dmamem_mmap);
	return t->dt_ops->dmamem_mmap(t, segs, nsegs, off, prot, flags);
}
