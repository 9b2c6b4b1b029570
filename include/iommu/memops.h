/*
 * libiommu - access to simulated physical memory.
 *
 * The driver side writes its tables (stream table, context descriptors,
 * page tables, queues) into simulated physical memory, and the SMMUv3 model
 * reads them back through these callbacks, exactly as silicon reads DRAM.
 * The library's own flat RAM (iommu/physmem.h) provides one implementation;
 * a host simulator embedding the model provides its own.
 *
 * Contract: a call either transfers all len bytes and returns 0, or
 * transfers nothing and returns EFAULT (address outside memory).  Data is
 * raw bytes; every multi-byte structure in simulated memory is
 * little-endian and is decoded explicitly by whoever reads it.
 */
#ifndef IOMMU_MEMOPS_H
#define IOMMU_MEMOPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int iommu_mem_read_fn(void *cookie, uint64_t pa, void *buf, size_t len);
typedef int iommu_mem_write_fn(
    void *cookie, uint64_t pa, const void *buf, size_t len);

struct iommu_mem_ops {
	iommu_mem_read_fn  *mo_read;
	iommu_mem_write_fn *mo_write;
	void		   *mo_cookie;
};

#ifdef __cplusplus
}
#endif

#endif /* IOMMU_MEMOPS_H */
