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

#include "arena.h"
#include "bench.h"

#define TB_RAM_BASE 0x80000000ULL

struct testbed {
	struct iommu_physmem *tb_pm;
	struct smmuv3	     *tb_model;
	struct iommu_smmu    *tb_smmu;
	unsigned	      tb_flush_depth; /* opts->flush_depth */
	bool		      tb_map_malloc;  /* opts->map_malloc */
	uint64_t	      tb_map_size;    /* opts->map_size */
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
 * One strategy's view of a stream: its domain (NULL for no-IOMMU), its 1:1
 * platform tag, whose allocator (the stream's arena, or malloc with
 * --map-alloc malloc) every map of the stream comes from, and the tag to
 * load through (the platform tag itself for no-IOMMU).
 */
struct stream {
	enum bench_strategy   se_strategy;
	uint32_t	      se_sid;
	struct bench_arena   *se_arena;
	struct iommu_dma_tag *se_platform;
	struct iommu_domain  *se_dom;
	struct iommu_dma_tag *se_tag;
};

int stream_init(
    struct testbed *, struct stream *, enum bench_strategy, uint32_t sid);
void stream_fini(struct testbed *, struct stream *);

#endif /* BENCH_TESTBED_H */
