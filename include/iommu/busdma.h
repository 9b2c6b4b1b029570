/*
 * libiommu - bus_dma(9): tags, DMA maps, loads and DMA-safe memory.
 *
 * Two kinds of tag, as on OpenBSD arm64:
 *   - the platform tag maps 1:1 (device address = physical address) over
 *     simulated RAM; it splits buffers into physically contiguous segments
 *     honouring the map's nsegments, maxsegsz and boundary;
 *   - an IOMMU tag wraps a parent tag for one domain (smmu_device_hook):
 *     it lets the parent build the physical segments, then maps them into
 *     the domain's IOVA space and rewrites each ds_addr to IOVA + page
 *     offset.  It keeps a map-state cookie per dmamap (the seed's
 *     smmu_map_state: IOVA region descriptor, device address, length) and
 *     marks itself coherent.
 *
 * Where the IOMMU tag's IOVA comes from (enum iommu_iova_strategy, per
 * domain, or per tag with iommu_dma_tag_set_iova_strategy()):
 *   per-map      one extent allocation per load covering every segment's
 *                page-rounded span (the seed; the default);
 *   per-segment  one extent allocation per segment (the seed's first try);
 *   at-create    the worst case (size / PAGE + 2 pages per segment, plus
 *                an unmapped guard page) reserved at create with its table
 *                levels; load and unload never touch the extent;
 *   identity     IOVA = PA (before the seed): two maps sharing a page
 *                break each other on unload; for regression tests only.
 * Loads never allocate host memory: the map state is allocated at create.
 *
 * Contract (bus_dma(9) and the seed): a failed load leaves nothing behind
 * (no IOVA, no PTED, no mapping); loading a loaded map is EINVAL;
 * destroying a loaded map unloads it first; unload returns only after the
 * SMMU has consumed the invalidations (CMD_SYNC).  Maps of one tag may be
 * created, loaded, unloaded and destroyed from any thread; one map is used
 * by one thread at a time.
 */
#ifndef IOMMU_BUSDMA_H
#define IOMMU_BUSDMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <iommu/alloc.h>
#include <iommu/domain.h>
#include <iommu/iommu_export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommu_dma_tag;
struct iommu_domain;
struct iommu_physmem;

/* One DMA segment: what the device uses, and the RAM behind it. */
struct iommu_dma_segment {
	uint64_t ds_addr; /* device address (IOVA behind an IOMMU) */
	uint64_t ds_len;
	uint64_t _ds_paddr; /* physical address */
	void	*_ds_vaddr; /* kernel address it was loaded from, or NULL */
};

struct iommu_dmamap {
	uint64_t dm_mapsize; /* bytes loaded */
	int	 dm_nsegs;   /* segments loaded */
	/* Private to bus_dma: */
	uint64_t		 _dm_size;
	int			 _dm_segcnt;
	uint64_t		 _dm_maxsegsz;
	uint64_t		 _dm_boundary;
	int			 _dm_flags;
	void			*_dm_cookie; /* the IOMMU tag's map state */
	struct iommu_dma_segment dm_segs[];  /* _dm_segcnt entries */
};

/* Flags (bus_dma(9) BUS_DMA_*). */
#define IOMMU_DMA_WAITOK   0x0000
#define IOMMU_DMA_NOWAIT   0x0001
#define IOMMU_DMA_ALLOCNOW 0x0002
#define IOMMU_DMA_COHERENT 0x0004
#define IOMMU_DMA_NOCACHE  0x0010
#define IOMMU_DMA_READ	   0x0200 /* device -> memory only */
#define IOMMU_DMA_WRITE	   0x0400 /* memory -> device only */
#define IOMMU_DMA_ZERO	   0x1000 /* dmamem_alloc: zero the memory */

/* iommu_dmamap_sync operations. */
#define IOMMU_DMA_PREREAD   0x01
#define IOMMU_DMA_POSTREAD  0x02
#define IOMMU_DMA_PREWRITE  0x04
#define IOMMU_DMA_POSTWRITE 0x08

/* A minimal mbuf chain: the network stack's packet buffers. */
struct iommu_mbuf {
	struct iommu_mbuf *m_next;
	void		  *m_data;
	size_t		   m_len;
};

/* A uio over kernel iovecs (load_uio). */
struct iommu_uio {
	const struct iovec *uio_iov;
	int		    uio_iovcnt;
	size_t		    uio_resid; /* bytes to load */
};

/* The 1:1 tag over simulated RAM. */
IOMMU_EXPORT int iommu_dma_tag_create_platform(struct iommu_physmem *,
    const struct iommu_allocator *, struct iommu_dma_tag **out);
/* A tag that maps through dom's IOMMU; parent builds physical segments. */
IOMMU_EXPORT int  iommu_dma_tag_create_iommu(struct iommu_domain *dom,
     struct iommu_dma_tag *parent, struct iommu_dma_tag **out);
IOMMU_EXPORT void iommu_dma_tag_destroy(struct iommu_dma_tag *);
/*
 * Per-tag IOVA strategy for maps created from now on (the default is the
 * domain's).  EINVAL for a platform tag, an unknown strategy, or mixing
 * identity with the domain's arena (identity only on identity domains).
 * Not concurrently with iommu_dmamap_create on the same tag.
 */
IOMMU_EXPORT int iommu_dma_tag_set_iova_strategy(
    struct iommu_dma_tag *, enum iommu_iova_strategy);
/* The tag's IOMMU_DMA_* properties: IOMMU_DMA_COHERENT for IOMMU tags. */
IOMMU_EXPORT int iommu_dma_tag_flags(const struct iommu_dma_tag *);

IOMMU_EXPORT int  iommu_dmamap_create(struct iommu_dma_tag *, uint64_t size,
     int nsegments, uint64_t maxsegsz, uint64_t boundary, int flags,
     struct iommu_dmamap **out);
IOMMU_EXPORT void iommu_dmamap_destroy(
    struct iommu_dma_tag *, struct iommu_dmamap *);
IOMMU_EXPORT int iommu_dmamap_load(struct iommu_dma_tag *,
    struct iommu_dmamap *, void *buf, size_t len, int flags);
IOMMU_EXPORT int iommu_dmamap_load_mbuf(struct iommu_dma_tag *,
    struct iommu_dmamap *, struct iommu_mbuf *, int flags);
IOMMU_EXPORT int iommu_dmamap_load_uio(struct iommu_dma_tag *,
    struct iommu_dmamap *, struct iommu_uio *, int flags);
/* segs: physical segments (from dmamem_alloc); ds_addr ignored. */
IOMMU_EXPORT int  iommu_dmamap_load_raw(struct iommu_dma_tag *,
     struct iommu_dmamap *, const struct iommu_dma_segment *segs, int nsegs,
     uint64_t size, int flags);
IOMMU_EXPORT void iommu_dmamap_unload(
    struct iommu_dma_tag *, struct iommu_dmamap *);
/* EINVAL for a range outside the loaded map or unknown ops. */
IOMMU_EXPORT int iommu_dmamap_sync(struct iommu_dma_tag *,
    struct iommu_dmamap *, uint64_t offset, uint64_t len, int ops);

IOMMU_EXPORT int  iommu_dmamem_alloc(struct iommu_dma_tag *, uint64_t size,
     uint64_t alignment, uint64_t boundary, struct iommu_dma_segment *segs,
     int nsegs, int *rsegs, int flags);
IOMMU_EXPORT void iommu_dmamem_free(
    struct iommu_dma_tag *, struct iommu_dma_segment *segs, int nsegs);
IOMMU_EXPORT int  iommu_dmamem_map(struct iommu_dma_tag *,
     struct iommu_dma_segment *segs, int nsegs, size_t size, void **kvap,
     int flags);
IOMMU_EXPORT void iommu_dmamem_unmap(
    struct iommu_dma_tag *, void *kva, size_t size);
/* The physical address to mmap for byte off, or -1 (bus_dmamem_mmap). */
IOMMU_EXPORT int64_t iommu_dmamem_mmap(struct iommu_dma_tag *,
    struct iommu_dma_segment *segs, int nsegs, uint64_t off, int prot,
    int flags);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_BUSDMA_H */
