/*
 * libiommu - encoding of the VMSAv8-64 stage-1 descriptors the VP tables
 * write (4 KiB granule).  Internal to pagetable.c; the tests check these
 * bit by bit against their own reading of the architecture.
 *
 * Choices (documented in iommu/pagetable.h): AttrIndx = cache mode (see
 * IOMMU_PT_MAIR); AP[1] always set so privileged and unprivileged
 * transactions both pass, AP[2] for read-only; inner shareable for
 * write-back, outer shareable for non-cacheable and device (as Linux
 * io-pgtable; SH is ignored for device memory anyway); AF and nG always.
 * No XN, contiguous-hint or software bits.
 */
#ifndef IOMMU_PAGETABLE_DESC_H
#define IOMMU_PAGETABLE_DESC_H

#include <stdint.h>

#include <iommu/pagetable.h>

#include "smmuv3_defs.h"

#define IOMMU__PT_OA_MASK SMMU_PTE_OA_MASK(12) /* bits [47:12] */

static inline uint64_t
iommu__pt_table_desc(uint64_t next_pa)
{
	return SMMU_PTE_VALID | SMMU_PTE_TYPE_TABLE |
	    (next_pa & IOMMU__PT_OA_MASK);
}

static inline uint64_t
iommu__pt_page_desc(uint64_t pa, unsigned prot, unsigned cache)
{
	uint64_t d;

	d = SMMU_PTE_VALID | SMMU_PTE_TYPE_TABLE | SMMU_PTE_AF | SMMU_PTE_NG |
	    (pa & IOMMU__PT_OA_MASK);
	d = SMMU_FSET(d, SMMU_PTE_ATTRINDX, cache);
	d = SMMU_FSET(d, SMMU_PTE_AP,
	    (prot & IOMMU_PROT_WRITE) ? SMMU_PTE_AP_RW_EL0
				      : SMMU_PTE_AP_RO_EL0);
	d = SMMU_FSET(d, SMMU_PTE_SH, cache == IOMMU_CACHE_WB ? 3 : 2);
	return d;
}

#endif /* IOMMU_PAGETABLE_DESC_H */
