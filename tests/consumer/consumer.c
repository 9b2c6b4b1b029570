/*
 * A downstream program built against the installed package: embeds the
 * SMMUv3 model over the library's simulated RAM, as a host simulator
 * would, and reads an ID register through MMIO.
 */
#include <stdio.h>

#include <iommu/physmem.h>
#include <iommu/smmuv3_model.h>

int
main(void)
{
	struct smmuv3_config   cfg;
	struct smmuv3_host_ops ops = {0};
	struct iommu_physmem  *pm;
	struct smmuv3	      *smmu;
	uint64_t	       idr0 = 0;
	int		       error;

	if (iommu_physmem_create(0x80000000u, 1u << 20, NULL, &pm) != 0)
		return 1;
	smmuv3_config_init(&cfg);
	ops.ho_size = sizeof(ops);
	ops.ho_mem_read = iommu_physmem_read;
	ops.ho_mem_write = iommu_physmem_write;
	error = smmuv3_create(&cfg, &ops, pm, NULL, &smmu);
	if (error == 0) {
		error = smmuv3_mmio_read(smmu, 0x0, 4, &idr0);
		smmuv3_destroy(smmu);
	}
	iommu_physmem_destroy(pm);
	if (error != 0 || (idr0 & 0x2) == 0) /* IDR0.S1P */
		return 1;
	printf("iommu consumer: linked, SMMUv3 model IDR0 = 0x%08llx\n",
	    (unsigned long long)idr0);
	return 0;
}
