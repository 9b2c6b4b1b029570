/*
 * libiommu - SMMUv3 model: command queue (skeleton: not yet consumed).
 */
#include "hw_smmuv3_internal.h"

void
smmuv3__cmdq_process(struct smmuv3 *sc)
{
	(void)sc;
}
