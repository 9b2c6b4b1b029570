/*
 * libiommu - glue: the driver's MMIO ops over the bundled SMMUv3 model,
 * so tests, the bench and embedders attach the driver to a model without
 * writing their own.
 *
 * Design: the ops cookie is the struct smmuv3 * itself; the accessors
 * forward to smmuv3_mmio_read/_write unchanged.
 */
#include <stddef.h>

#include <iommu/domain.h>
#include <iommu/smmuv3_model.h>

static int
glue_read(void *cookie, uint64_t off, unsigned size, uint64_t *val)
{
	return smmuv3_mmio_read(cookie, off, size, val);
}

static int
glue_write(void *cookie, uint64_t off, unsigned size, uint64_t val)
{
	return smmuv3_mmio_write(cookie, off, size, val);
}

void
iommu_smmu_model_mmio_ops(struct smmuv3 *model, struct iommu_mmio_ops *ops)
{
	if (ops == NULL)
		return;
	ops->mmio_read = glue_read;
	ops->mmio_write = glue_write;
	ops->cookie = model;
}
