/*
 * libiommu - SMMUv3 model: event queue (skeleton).
 */
#include "hw_smmuv3_internal.h"

bool
smmuv3__evtq_record(struct smmuv3 *sc, const struct smmuv3__event *ev)
{
	(void)sc, (void)ev;
	return false;
}
