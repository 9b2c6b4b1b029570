/*
 * libiommu - SMMUv3 model: stage-1 walker (skeleton).
 */
#include "hw_smmuv3_internal.h"
