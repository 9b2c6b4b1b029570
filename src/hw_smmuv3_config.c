/*
 * libiommu - SMMUv3 model: stream table and context descriptors (skeleton).
 */
#include <errno.h>
#include <string.h>

#include "hw_smmuv3_internal.h"

int
smmuv3__cfgc_init(struct smmuv3 *sc)
{
	unsigned n = sc->sc_cfg.cfg_cfgcache_entries;
	unsigned ways = n < 4 ? n : 4;
	unsigned sets = 1;

	while (sets * 2 * ways <= n)
		sets *= 2;
	sc->sc_cfgc_sets = sets;
	sc->sc_cfgc_ways = ways;
	sc->sc_cfgc = iommu__zalloc(
	    sc->sc_alloc, (size_t)sets * ways * sizeof(*sc->sc_cfgc));
	sc->sc_cfgc_victim = iommu__zalloc(sc->sc_alloc, sets);
	if (sc->sc_cfgc == NULL || sc->sc_cfgc_victim == NULL) {
		smmuv3__cfgc_fini(sc);
		return ENOMEM;
	}
	return 0;
}

void
smmuv3__cfgc_fini(struct smmuv3 *sc)
{
	if (sc->sc_cfgc != NULL)
		iommu__free(sc->sc_alloc, sc->sc_cfgc,
		    (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways *
			sizeof(*sc->sc_cfgc));
	if (sc->sc_cfgc_victim != NULL)
		iommu__free(sc->sc_alloc, sc->sc_cfgc_victim, sc->sc_cfgc_sets);
	sc->sc_cfgc = NULL;
	sc->sc_cfgc_victim = NULL;
}

void
smmuv3__cfgc_flush(struct smmuv3 *sc)
{
	memset(sc->sc_cfgc, 0,
	    (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways * sizeof(*sc->sc_cfgc));
	memset(sc->sc_cfgc_victim, 0, sc->sc_cfgc_sets);
}

size_t
smmuv3__cfgc_count(struct smmuv3 *sc)
{
	size_t i, n = 0;

	for (i = 0; i < (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways; i++)
		n += sc->sc_cfgc[i].cf_valid;
	return n;
}
