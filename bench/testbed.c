/*
 * iommu-bench - the simulated machine: RAM, model, driver, streams.
 *
 * Everything a scenario measures goes through the library's public API:
 * the driver reaches the model only through MMIO (iommu_smmu_model_mmio_ops)
 * and simulated RAM, exactly as the unit tests' fixture does.  The model's
 * stale-translation checker is left off (it re-walks memory on every TLB
 * hit, which is a test aid, not part of the cost being measured).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testbed.h"

static int
tb_mem_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	return iommu_physmem_read(cookie, pa, buf, len);
}

static int
tb_mem_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	return iommu_physmem_write(cookie, pa, buf, len);
}

int
testbed_init(struct testbed *tb, const struct bench_opts *o, uint64_t ram_mb,
    unsigned tlb_sets, unsigned tlb_ways)
{
	struct smmuv3_config	 mc;
	struct smmuv3_host_ops	 ho;
	struct iommu_smmu_config sc;
	int			 error;

	memset(tb, 0, sizeof(*tb));
	error =
	    iommu_physmem_create(TB_RAM_BASE, ram_mb << 20, NULL, &tb->tb_pm);
	if (error != 0)
		return error;
	smmuv3_config_init(&mc);
	if (o->tbus != 0)
		mc.cfg_tlb_tbus = o->tbus;
	/* Each TBU as big as the default TLB: a stream's capacity does not
	 * depend on how many TBUs share the model. */
	mc.cfg_tlb_sets =
	    (tlb_sets != 0 ? tlb_sets : mc.cfg_tlb_sets) * mc.cfg_tlb_tbus;
	if (tlb_ways != 0)
		mc.cfg_tlb_ways = tlb_ways;
	memset(&ho, 0, sizeof(ho));
	ho.ho_size = sizeof(ho);
	ho.ho_mem_read = tb_mem_read;
	ho.ho_mem_write = tb_mem_write;
	error = smmuv3_create(&mc, &ho, tb->tb_pm, NULL, &tb->tb_model);
	if (error != 0)
		goto fail;
	iommu_smmu_config_init(&sc);
	iommu_smmu_model_mmio_ops(tb->tb_model, &sc.sc_mmio);
	sc.sc_physmem = tb->tb_pm;
	sc.sc_pted_percpu = true;
	sc.sc_tlbi = (enum iommu_tlbi_policy)o->tlbi;
	tb->tb_flush_depth = o->flush_depth;
	tb->tb_map_malloc = o->map_malloc;
	tb->tb_map_size = o->map_size;
	error = iommu_smmu_attach(&sc, &tb->tb_smmu);
	if (error != 0)
		goto fail;
	return 0;
fail:
	testbed_fini(tb);
	return error;
}

void
testbed_fini(struct testbed *tb)
{
	if (tb->tb_smmu != NULL)
		iommu_smmu_detach(tb->tb_smmu);
	if (tb->tb_model != NULL)
		smmuv3_destroy(tb->tb_model);
	if (tb->tb_pm != NULL)
		iommu_physmem_destroy(tb->tb_pm);
	memset(tb, 0, sizeof(*tb));
}

int
stream_init(
    struct testbed *tb, struct stream *se, enum bench_strategy s, uint32_t sid)
{
	struct iommu_domain_config    dc;
	const struct iommu_allocator *alloc = NULL;
	int			      error;

	memset(se, 0, sizeof(*se));
	se->se_strategy = s;
	se->se_sid = sid;
	if (!tb->tb_map_malloc &&
	    (error = bench_arena_create(&se->se_arena, &alloc)) != 0)
		return error;
	error =
	    iommu_dma_tag_create_platform(tb->tb_pm, alloc, &se->se_platform);
	if (error != 0)
		goto fail;
	if (s == BS_NOIOMMU) {
		se->se_tag = se->se_platform;
		return 0;
	}
	iommu_domain_config_init(&dc);
	dc.dc_ias = 48; /* four-level tables */
	switch (s) {
	case BS_IDENTITY:
		dc.dc_iova = IOMMU_IOVA_IDENTITY;
		break;
	case BS_PERSEG:
		dc.dc_iova = IOMMU_IOVA_PER_SEGMENT;
		break;
	case BS_ATCREATE_LAZY:
		dc.dc_flush_depth = tb->tb_flush_depth;
		/* FALLTHROUGH */
	case BS_ATCREATE:
		dc.dc_iova = IOMMU_IOVA_AT_CREATE;
		break;
	case BS_MAGAZINE_LAZY:
		dc.dc_flush_depth = tb->tb_flush_depth;
		/* FALLTHROUGH */
	case BS_MAGAZINE:
		dc.dc_magazines = true;
		/* FALLTHROUGH */
	default:
		dc.dc_iova = IOMMU_IOVA_PER_MAP;
		break;
	}
	error = iommu_domain_create(tb->tb_smmu, sid, &dc, &se->se_dom);
	if (error != 0)
		goto fail;
	error = iommu_dma_tag_create_iommu(
	    se->se_dom, se->se_platform, &se->se_tag);
	if (error != 0)
		goto fail;
	return 0;
fail:
	stream_fini(tb, se);
	return error;
}

void
stream_fini(struct testbed *tb, struct stream *se)
{
	(void)tb;
	if (se->se_tag != NULL && se->se_tag != se->se_platform)
		iommu_dma_tag_destroy(se->se_tag);
	if (se->se_dom != NULL)
		iommu_domain_destroy(se->se_dom);
	if (se->se_platform != NULL)
		iommu_dma_tag_destroy(se->se_platform);
	bench_arena_destroy(se->se_arena);
	memset(se, 0, sizeof(*se));
}
