/*
 * libiommu - SMMUv3 model: device-side entry points (skeleton: ENOSYS).
 */
#include <errno.h>

#include "hw_smmuv3_internal.h"

int
smmuv3_translate(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, struct smmuv3_xlate *xl, struct smmuv3_fault *fault)
{
	(void)sc, (void)sid, (void)ssid, (void)iova, (void)access, (void)xl,
	    (void)fault;
	return ENOSYS;
}

int
smmuv3_probe(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    unsigned access, struct smmuv3_xlate *xl, struct smmuv3_fault *fault)
{
	(void)sc, (void)sid, (void)ssid, (void)iova, (void)access, (void)xl,
	    (void)fault;
	return ENOSYS;
}

int
smmuv3_dma_read(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    void *buf, size_t len, struct smmuv3_fault *fault)
{
	(void)sc, (void)sid, (void)ssid, (void)iova, (void)buf, (void)len,
	    (void)fault;
	return ENOSYS;
}

int
smmuv3_dma_write(struct smmuv3 *sc, uint32_t sid, uint32_t ssid, uint64_t iova,
    const void *buf, size_t len, struct smmuv3_fault *fault)
{
	(void)sc, (void)sid, (void)ssid, (void)iova, (void)buf, (void)len,
	    (void)fault;
	return ENOSYS;
}
