/*
 * iommu-bench - the simulated machine the scenarios run on: simulated RAM,
 * an SMMUv3 model over it, the driver attached through MMIO, and helpers
 * to make a domain, a bus_dma tag and packet buffers per strategy.
 */
#ifndef BENCH_TESTBED_H
#define BENCH_TESTBED_H

#include <stdbool.h>
#include <stdint.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/iova_magazine.h>
#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#include "bench.h"

#define TB_RAM_BASE 0x80000000ULL

struct testbed {
	struct iommu_physmem *tb_pm;
	struct smmuv3	     *tb_model;
	struct iommu_smmu    *tb_smmu;
	struct iommu_dma_tag *tb_platform;    /* the 1:1 parent tag */
	unsigned	      tb_flush_depth; /* opts->flush_depth */
};

/*
 * ram_mb of simulated RAM; opts->tbus TBUs (0: one), each with a TLB of
 * tlb_sets x tlb_ways (0: the model's default); the driver's TLBI policy
 * from opts->tlbi.
 */
int  testbed_init(struct testbed *, const struct bench_opts *, uint64_t ram_mb,
     unsigned tlb_sets, unsigned tlb_ways);
void testbed_fini(struct testbed *);

/*
 * One strategy's view of a stream: its domain (NULL for no-IOMMU) and the
 * tag to load through.
 */
struct stream {
	enum bench_strategy   se_strategy;
	uint32_t	      se_sid;
	struct iommu_domain  *se_dom;
	struct iommu_dma_tag *se_tag;
};

int stream_init(
    struct testbed *, struct stream *, enum bench_strategy, uint32_t sid);
void stream_fini(struct testbed *, struct stream *);

#endif /* BENCH_TESTBED_H */
