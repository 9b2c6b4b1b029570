/*
 * iommu-busdma-demo: a driver's view of bus_dma behind the SMMU.
 *
 * Builds a machine (64 MiB of simulated RAM, the SMMUv3 model, the driver
 * attached through MMIO), gives stream 1 a domain and an IOMMU bus_dma tag
 * over the platform tag, and then does what a network driver does with a
 * packet: loads a three-mbuf chain, lets the "device" DMA into it through
 * the SMMU, unloads it and shows that the device now faults.  Finally it
 * loads two small buffers that share a page into two maps and unloads one:
 * with the seed's strategies the other keeps working; with the pre-seed
 * identity mapping (argument "identity") the shared page disappears.
 *
 *   usage: iommu-busdma-demo [per-map|per-segment|at-create|identity]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (64ULL << 20)
#define SID	 1u

struct machine {
	struct iommu_physmem *pm;
	struct smmuv3	     *model;
	struct iommu_smmu    *smmu;
	struct iommu_domain  *dom;
	struct iommu_dma_tag *platform, *tag;
};

static int
parse_strategy(const char *s, enum iommu_iova_strategy *out)
{
	static const char *names[] = {
	    "per-map", "per-segment", "at-create", "identity"};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum iommu_iova_strategy)i;
			return 0;
		}
	return EINVAL;
}

static int
machine_up(struct machine *m, enum iommu_iova_strategy strategy)
{
	struct smmuv3_config	   mc;
	struct smmuv3_host_ops	   ho;
	struct iommu_smmu_config   sc;
	struct iommu_domain_config dc;
	int			   error;

	memset(m, 0, sizeof(*m));
	if ((error = iommu_physmem_create(RAM_BASE, RAM_SIZE, NULL, &m->pm)))
		return error;
	smmuv3_config_init(&mc);
	memset(&ho, 0, sizeof(ho));
	ho.ho_size = sizeof(ho);
	ho.ho_mem_read = iommu_physmem_read;
	ho.ho_mem_write = iommu_physmem_write;
	if ((error = smmuv3_create(&mc, &ho, m->pm, NULL, &m->model)))
		return error;
	iommu_smmu_config_init(&sc);
	iommu_smmu_model_mmio_ops(m->model, &sc.sc_mmio);
	sc.sc_physmem = m->pm;
	if ((error = iommu_smmu_attach(&sc, &m->smmu)))
		return error;
	iommu_domain_config_init(&dc);
	dc.dc_iova = strategy;
	if ((error = iommu_domain_create(m->smmu, SID, &dc, &m->dom)))
		return error;
	if ((error = iommu_dma_tag_create_platform(m->pm, NULL, &m->platform)))
		return error;
	return iommu_dma_tag_create_iommu(m->dom, m->platform, &m->tag);
}

static void
machine_down(struct machine *m)
{
	iommu_dma_tag_destroy(m->tag);
	iommu_dma_tag_destroy(m->platform);
	if (m->dom != NULL)
		(void)iommu_domain_destroy(m->dom);
	if (m->smmu != NULL)
		(void)iommu_smmu_detach(m->smmu);
	if (m->model != NULL)
		smmuv3_destroy(m->model);
	iommu_physmem_destroy(m->pm);
}

static void
print_map(const char *what, const struct iommu_dmamap *map)
{
	int i;

	printf("%s: %d segment(s), %" PRIu64 " bytes\n", what, map->dm_nsegs,
	    map->dm_mapsize);
	for (i = 0; i < map->dm_nsegs; i++)
		printf("  seg %d: device 0x%09" PRIx64 "  phys 0x%09" PRIx64
		       "  len %" PRIu64 "\n",
		    i, map->dm_segs[i].ds_addr, map->dm_segs[i]._ds_paddr,
		    map->dm_segs[i].ds_len);
}

/* The device reads one byte at iova; prints what happened. */
static int
device_peek(struct machine *m, const char *what, uint64_t iova)
{
	struct smmuv3_fault ft;
	uint8_t		    b;
	int		    error;

	error =
	    smmuv3_dma_read(m->model, SID, SMMUV3_NO_SSID, iova, &b, 1, &ft);
	if (error == 0)
		printf("  %s: device read at 0x%09" PRIx64 " ok (0x%02x)\n",
		    what, iova, b);
	else
		printf("  %s: device read at 0x%09" PRIx64
		       " faults (event 0x%02x)\n",
		    what, iova, ft.ft_event);
	return error;
}

static int
packet(struct machine *m)
{
	struct iommu_dmamap *map;
	struct iommu_mbuf    mb[3];
	uint64_t	     pa, iova;
	uint8_t		    *buf, msg[] = "hello from the device";
	int		     error;

	if ((error = iommu_physmem_alloc_pages(m->pm, 4, &pa)))
		return error;
	buf = iommu_physmem_kva(m->pm, pa);
	/* Header, payload and trailer, as a stack hands them down. */
	mb[0] = (struct iommu_mbuf){&mb[1], buf + 0x40, 54};
	mb[1] = (struct iommu_mbuf){&mb[2], buf + 0x1800, 1400};
	mb[2] = (struct iommu_mbuf){NULL, buf + 0x3010, 46};
	if ((error = iommu_dmamap_create(
		 m->tag, 2048, 4, 2048, 0, IOMMU_DMA_NOWAIT, &map)))
		return error;
	if ((error = iommu_dmamap_load_mbuf(m->tag, map, mb, 0)))
		return error;
	print_map("packet loaded", map);
	iova = map->dm_segs[1].ds_addr;
	error = smmuv3_dma_write(
	    m->model, SID, SMMUV3_NO_SSID, iova, msg, sizeof(msg), NULL);
	(void)iommu_dmamap_sync(
	    m->tag, map, 0, map->dm_mapsize, IOMMU_DMA_POSTREAD);
	printf("  device wrote into seg 1; the CPU reads \"%s\"\n",
	    error == 0 ? (char *)(buf + 0x1800) : "(fault)");
	iommu_dmamap_unload(m->tag, map);
	printf("packet unloaded\n");
	(void)device_peek(m, "after unload", iova);
	iommu_dmamap_destroy(m->tag, map);
	return iommu_physmem_free_pages(m->pm, pa, 4);
}

static int
shared_page(struct machine *m)
{
	struct iommu_dmamap *a, *b;
	uint64_t	     pa;
	uint8_t		    *buf;
	int		     error;

	if ((error = iommu_physmem_alloc_pages(m->pm, 1, &pa)))
		return error;
	buf = iommu_physmem_kva(m->pm, pa);
	if ((error = iommu_dmamap_create(m->tag, 512, 1, 512, 0, 0, &a)) ||
	    (error = iommu_dmamap_create(m->tag, 512, 1, 512, 0, 0, &b)))
		return error;
	if ((error = iommu_dmamap_load(m->tag, a, buf + 0x100, 200, 0)) ||
	    (error = iommu_dmamap_load(m->tag, b, buf + 0x800, 300, 0)))
		return error;
	printf("two buffers in one page, two maps:\n");
	print_map("  map A", a);
	print_map("  map B", b);
	iommu_dmamap_unload(m->tag, a);
	printf("map A unloaded, map B still loaded\n");
	if (device_peek(m, "map B", b->dm_segs[0].ds_addr) != 0)
		printf("  -> the double-mapping hazard: B lost its page\n");
	iommu_dmamap_destroy(m->tag, a);
	iommu_dmamap_destroy(m->tag, b);
	return iommu_physmem_free_pages(m->pm, pa, 1);
}

int
main(int argc, char **argv)
{
	enum iommu_iova_strategy strategy = IOMMU_IOVA_PER_MAP;
	struct machine		 m;
	int			 error;

	if (argc > 2 || (argc == 2 && parse_strategy(argv[1], &strategy))) {
		fprintf(stderr,
		    "usage: %s [per-map|per-segment|at-create|"
		    "identity]\n",
		    argv[0]);
		return 2;
	}
	if ((error = machine_up(&m, strategy)) == 0 &&
	    (error = packet(&m)) == 0)
		error = shared_page(&m);
	machine_down(&m);
	if (error != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(error));
		return 1;
	}
	return 0;
}
