/*
 * libiommu - bus_dma internals shared by the tag implementations
 * (busdma.c dispatch, busdma_platform.c 1:1 tag, busdma_iommu.c IOMMU tag).
 * Never installed.
 *
 * A tag is an ops table, a cookie and a parent, like OpenBSD's
 * machine_bus_dma_tag: the public iommu_dmamap_* / iommu_dmamem_*
 * functions dispatch through tag->dt_ops; a NULL op is inherited from the
 * parent (the IOMMU tag inherits sync and the dmamem family, as the seed
 * leaves them to the platform tag).  Tags are immutable after creation, so
 * dispatch takes no lock.
 *
 * A dmamap is one host allocation laid out as
 *
 *   +---------------------+--------------------------+----------------+
 *   | struct iommu_dmamap | dm_segs[_dm_segcnt]      | cookie bytes   |
 *   +---------------------+--------------------------+----------------+
 *                                                     ^ _dm_cookie
 *
 * where the cookie bytes are requested by the tag that creates the map
 * through its parent (the IOMMU tag's map state), so neither load nor
 * unload ever allocates host memory.
 */
#ifndef IOMMU_BUSDMA_INTERNAL_H
#define IOMMU_BUSDMA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/busdma.h>

/* Flags accepted by iommu_dmamap_create and the loads. */
#define IOMMU__DMA_CREATE_FLAGS                                                \
	(IOMMU_DMA_NOWAIT | IOMMU_DMA_ALLOCNOW | IOMMU_DMA_COHERENT |          \
	    IOMMU_DMA_NOCACHE | IOMMU_DMA_READ | IOMMU_DMA_WRITE)
#define IOMMU__DMA_LOAD_FLAGS                                                  \
	(IOMMU_DMA_NOWAIT | IOMMU_DMA_NOCACHE | IOMMU_DMA_READ |               \
	    IOMMU_DMA_WRITE | IOMMU_DMA_COHERENT)
#define IOMMU__DMA_SYNC_OPS                                                    \
	(IOMMU_DMA_PREREAD | IOMMU_DMA_POSTREAD | IOMMU_DMA_PREWRITE |         \
	    IOMMU_DMA_POSTWRITE)
/* Largest nsegments a map may have (keeps the size arithmetic exact). */
#define IOMMU__DMA_MAX_SEGS 65536

struct iommu__dma_tag_ops {
	/* cookie_size: bytes the caller (a wrapping tag) wants after segs. */
	int (*create)(struct iommu_dma_tag *, uint64_t size, int nsegments,
	    uint64_t maxsegsz, uint64_t boundary, int flags, size_t cookie_size,
	    struct iommu_dmamap **out);
	void (*destroy)(struct iommu_dma_tag *, struct iommu_dmamap *);
	int (*load)(struct iommu_dma_tag *, struct iommu_dmamap *, void *buf,
	    size_t len, int flags);
	int (*load_mbuf)(struct iommu_dma_tag *, struct iommu_dmamap *,
	    struct iommu_mbuf *, int flags);
	int (*load_uio)(struct iommu_dma_tag *, struct iommu_dmamap *,
	    struct iommu_uio *, int flags);
	int (*load_raw)(struct iommu_dma_tag *, struct iommu_dmamap *,
	    const struct iommu_dma_segment *, int nsegs, uint64_t size,
	    int flags);
	void (*unload)(struct iommu_dma_tag *, struct iommu_dmamap *);
	int (*sync)(struct iommu_dma_tag *, struct iommu_dmamap *,
	    uint64_t offset, uint64_t len, int ops);
	int (*dmamem_alloc)(struct iommu_dma_tag *, uint64_t size,
	    uint64_t alignment, uint64_t boundary, struct iommu_dma_segment *,
	    int nsegs, int *rsegs, int flags);
	void (*dmamem_free)(
	    struct iommu_dma_tag *, struct iommu_dma_segment *, int nsegs);
	int (*dmamem_map)(struct iommu_dma_tag *, struct iommu_dma_segment *,
	    int nsegs, size_t size, void **kvap, int flags);
	void (*dmamem_unmap)(struct iommu_dma_tag *, void *kva, size_t size);
	int64_t (*dmamem_mmap)(struct iommu_dma_tag *,
	    struct iommu_dma_segment *, int nsegs, uint64_t off, int prot,
	    int flags);
	/* Frees the tag's own memory (tag destroy). */
	void (*tag_free)(struct iommu_dma_tag *);
};

struct iommu_dma_tag {
	const struct iommu__dma_tag_ops *dt_ops;
	void				*dt_cookie;
	struct iommu_dma_tag		*dt_parent;
	int				 dt_flags; /* IOMMU_DMA_COHERENT */
	const struct iommu_allocator	*dt_alloc;
};

/* Size of a map with nsegments segments (without cookie bytes). */
static inline size_t
iommu__dmamap_size(int nsegments)
{
	return sizeof(struct iommu_dmamap) +
	    (size_t)nsegments * sizeof(struct iommu_dma_segment);
}

/* The map is loaded (a load always produces at least one segment). */
static inline int
iommu__dmamap_loaded(const struct iommu_dmamap *map)
{
	return map->dm_nsegs > 0;
}

#endif /* IOMMU_BUSDMA_INTERNAL_H */
