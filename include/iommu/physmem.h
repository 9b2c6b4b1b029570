/*
 * libiommu - simulated physical memory: a machine's RAM and its frame
 * allocator.
 *
 * One instance is the RAM of one simulated machine: [base_pa, base_pa +
 * size), page aligned.  Host memory backs it lazily (an anonymous shared
 * mapping reserved without committing), so several GiB of simulated RAM
 * cost nothing until pages are touched.
 *
 * Two views of the same bytes:
 *  - the driver side (kernel) sees a direct map: iommu_physmem_kva() turns
 *    a PA into a host pointer ("KVA"), iommu_physmem_extract() is the
 *    kernel's pmap_extract() and turns a KVA back into a PA;
 *  - the model side (the device) sees only physical addresses through
 *    struct iommu_mem_ops (iommu_physmem_mem_ops()), exactly the ops table
 *    a host simulator provides instead.  The model never assumes this flat
 *    implementation.
 *
 * Frames are handed out as page-aligned, physically contiguous, zeroed
 * runs.  iommu_physmem_alloc_scattered() builds a virtually contiguous
 * buffer from physically non-adjacent frames that aliases the direct map,
 * so one kernel buffer becomes several DMA segments, as on real hardware.
 *
 * All multi-byte structures in simulated memory are little-endian; the
 * read64/write64 helpers encode them explicitly.
 *
 * Errors: ENOMEM when no run of frames fits (or the fault-injection hook
 * fires), EFAULT for an address outside RAM or not mapped, EINVAL for a
 * misaligned or never-allocated argument.  Every function is thread-safe.
 */
#ifndef IOMMU_PHYSMEM_H
#define IOMMU_PHYSMEM_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>
#include <iommu/iommu_export.h>
#include <iommu/memops.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOMMU_PAGE_SHIFT 12
#define IOMMU_PAGE_SIZE	 (1u << IOMMU_PAGE_SHIFT)
#define IOMMU_PAGE_MASK	 ((uint64_t)IOMMU_PAGE_SIZE - 1)

struct iommu_physmem;

struct iommu_physmem_stats {
	uint64_t ps_frames_total;   /* size / IOMMU_PAGE_SIZE */
	uint64_t ps_frames_in_use;  /* frames currently allocated */
	uint64_t ps_frames_hwm;	    /* high-water mark of ps_frames_in_use */
	uint64_t ps_allocs;	    /* successful allocation calls */
	uint64_t ps_alloc_failures; /* allocation calls that got ENOMEM */
};

/*
 * Creates RAM [base_pa, base_pa + size).  Both must be page aligned, size
 * non-zero and the range must not wrap: EINVAL otherwise.  ENOMEM if the
 * host cannot reserve the address space.  alloc (NULL for the default)
 * supplies the instance's bookkeeping memory.
 */
IOMMU_EXPORT int iommu_physmem_create(uint64_t base_pa, uint64_t size,
    const struct iommu_allocator *alloc, struct iommu_physmem **out);
/* Frees everything, including frames and scattered buffers still held. */
IOMMU_EXPORT void iommu_physmem_destroy(struct iommu_physmem *pm);

/*
 * Allocates npages physically contiguous, zeroed frames; *pa is the first.
 * EINVAL for npages == 0, ENOMEM when no free run is long enough.
 */
IOMMU_EXPORT int iommu_physmem_alloc_pages(
    struct iommu_physmem *pm, size_t npages, uint64_t *pa);
/*
 * The same, with *pa a multiple of align, for tables the hardware wants
 * naturally aligned (SMMUv3 stream tables and queues).  align is a power
 * of two (0 and values below IOMMU_PAGE_SIZE mean a page); EINVAL
 * otherwise.
 */
IOMMU_EXPORT int iommu_physmem_alloc_pages_aligned(
    struct iommu_physmem *pm, size_t npages, uint64_t align, uint64_t *pa);
/*
 * Frees a run (or part of a run) of allocated frames.  EINVAL if pa is
 * misaligned, npages is 0, or any frame of the range is outside RAM or not
 * allocated (nothing is freed then).  Frames of a scattered buffer are
 * freed only with iommu_physmem_free_scattered().
 */
IOMMU_EXPORT int iommu_physmem_free_pages(
    struct iommu_physmem *pm, uint64_t pa, size_t npages);

/* The RAM range given at creation (0 for a NULL pm). */
IOMMU_EXPORT uint64_t iommu_physmem_base(const struct iommu_physmem *pm);
IOMMU_EXPORT uint64_t iommu_physmem_size(const struct iommu_physmem *pm);

/* Direct-map pointer for pa, or NULL if pa is outside RAM. */
IOMMU_EXPORT void *iommu_physmem_kva(struct iommu_physmem *pm, uint64_t pa);
/*
 * pmap_extract(): the PA behind kva, for direct-map pointers and for
 * pointers into scattered buffers.  EFAULT if kva maps no RAM.
 */
IOMMU_EXPORT int iommu_physmem_extract(
    struct iommu_physmem *pm, const void *kva, uint64_t *pa);

/*
 * Allocates a virtually contiguous, zeroed buffer of npages pages whose
 * frames are physically non-adjacent (deterministic placement: frame i+1
 * is never directly after frame i).  The buffer aliases the direct map:
 * what the driver writes through *kva a device reads at the frames' PAs.
 * EINVAL for npages == 0, ENOMEM when frames or host mappings run out
 * (each page is one host mapping), ENOTSUP when the host page size is not
 * IOMMU_PAGE_SIZE.
 */
IOMMU_EXPORT int iommu_physmem_alloc_scattered(
    struct iommu_physmem *pm, size_t npages, void **kva);
/* Frees a buffer from alloc_scattered; EINVAL if kva is not one. */
IOMMU_EXPORT int iommu_physmem_free_scattered(
    struct iommu_physmem *pm, void *kva);

/*
 * iommu_mem_read_fn / iommu_mem_write_fn over this RAM (cookie is the
 * struct iommu_physmem *).  0, or EFAULT with nothing transferred when any
 * byte of [pa, pa + len) is outside RAM.
 */
IOMMU_EXPORT int iommu_physmem_read(
    void *physmem, uint64_t pa, void *buf, size_t len);
IOMMU_EXPORT int iommu_physmem_write(
    void *physmem, uint64_t pa, const void *buf, size_t len);
/* Fills *out with the read/write ops above and pm as the cookie. */
IOMMU_EXPORT void iommu_physmem_mem_ops(
    struct iommu_physmem *pm, struct iommu_mem_ops *out);

/*
 * Explicit little-endian 64-bit access.  EINVAL if pa is not 8-byte
 * aligned, EFAULT outside RAM.  Each access is a single atomic 64-bit
 * load or store on the host, like a naturally aligned DRAM access.
 */
IOMMU_EXPORT int iommu_physmem_read64(
    struct iommu_physmem *pm, uint64_t pa, uint64_t *v);
IOMMU_EXPORT int iommu_physmem_write64(
    struct iommu_physmem *pm, uint64_t pa, uint64_t v);

IOMMU_EXPORT void iommu_physmem_get_stats(
    struct iommu_physmem *pm, struct iommu_physmem_stats *st);

/*
 * Fault injection for tests: the n-th frame allocation call from now
 * (alloc_pages[_aligned] or alloc_scattered; n = 1 is the next one) fails with
 * ENOMEM, once.  n = 0 disarms.
 */
IOMMU_EXPORT void iommu_physmem_fail_alloc_after(
    struct iommu_physmem *pm, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_PHYSMEM_H */
