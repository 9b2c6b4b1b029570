/*
 * iommu-extent-demo: the IOVA extent allocator used the way the seed's
 * smmu_dmamap_load uses it.
 *
 * A domain owns a 48-bit IOVA arena (no-coalesce, so each mapping is freed
 * exactly as allocated) with IOVA page 0 reserved, so a zero DVA is never
 * handed out.  Each "packet" is a 3-segment DMA map: the map's IOVA length
 * is the sum of the page-rounded segments (plus each segment's offset in
 * its first page), allocated page-aligned in one piece with a descriptor
 * embedded in the per-map state, so the load path never allocates.  The
 * demo loads four packets, unloads one and prints the arena.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <iommu/extent.h>

#define PAGE_SIZE     0x1000u
#define IOVA_BITS     48
#define NPACKETS      4
#define NSEGS	      3
#define round_page(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

struct segment {
	uint64_t pa;  /* physical address */
	uint64_t len; /* bytes */
	uint64_t dva; /* device address, once loaded */
};

/* What the seed keeps per DMA map (struct smmu_map_state). */
struct map_state {
	struct iommu_extent_region ms_er; /* embedded: no allocation */
	uint64_t		   ms_dva;
	uint64_t		   ms_len;
	struct segment		   ms_segs[NSEGS];
};

static int
load(struct iommu_extent *arena, struct map_state *ms)
{
	uint64_t maplen = 0, dva, off;
	int	 seg, error;

	for (seg = 0; seg < NSEGS; seg++) {
		off = ms->ms_segs[seg].pa & (PAGE_SIZE - 1);
		maplen += round_page(ms->ms_segs[seg].len + off);
	}
	error = iommu_extent_alloc_with_descr(arena, maplen, PAGE_SIZE, 0,
	    IOMMU_EX_NOBOUNDARY, IOMMU_EX_NOWAIT, &ms->ms_er, &dva);
	if (error != 0)
		return error;
	ms->ms_dva = dva;
	ms->ms_len = maplen;
	for (seg = 0; seg < NSEGS; seg++) {
		off = ms->ms_segs[seg].pa & (PAGE_SIZE - 1);
		ms->ms_segs[seg].dva = dva + off;
		dva += round_page(ms->ms_segs[seg].len + off);
	}
	return 0;
}

static int
unload(struct iommu_extent *arena, struct map_state *ms)
{
	int error;

	error = iommu_extent_free(arena, ms->ms_dva, ms->ms_len, 0);
	ms->ms_dva = ms->ms_len = 0;
	return error;
}

int
main(void)
{
	/* Header, payload and trailer buffers of a few received packets. */
	static const uint64_t pkt_pa[NPACKETS][NSEGS][2] = {
	    {{0x80001000, 64}, {0x80102040, 1450}, {0x80200ff0, 32}},
	    {{0x80002000, 64}, {0x80103000, 9000}, {0x80201000, 32}},
	    {{0x80003000, 64}, {0x80106100, 1450}, {0x80202000, 32}},
	    {{0x80004000, 64}, {0x80107000, 4096}, {0x80203000, 32}},
	};
	struct map_state     maps[NPACKETS];
	struct iommu_extent *arena = NULL;
	int		     i, seg, error;

	error = iommu_extent_create("smmu0 domain 1 iova", 0,
	    ((uint64_t)1 << IOVA_BITS) - 1, NULL, NULL, 0, IOMMU_EX_NOCOALESCE,
	    &arena);
	if (error == 0)
		error = iommu_extent_alloc_region(arena, 0, PAGE_SIZE, 0);
	if (error != 0) {
		fprintf(
		    stderr, "iommu-extent-demo: arena: %s\n", strerror(error));
		return 1;
	}
	printf("48-bit IOVA arena, page 0 reserved; one IOVA range per "
	       "3-segment packet\n\n");
	memset(maps, 0, sizeof(maps));
	for (i = 0; i < NPACKETS; i++) {
		for (seg = 0; seg < NSEGS; seg++) {
			maps[i].ms_segs[seg].pa = pkt_pa[i][seg][0];
			maps[i].ms_segs[seg].len = pkt_pa[i][seg][1];
		}
		if ((error = load(arena, &maps[i])) != 0) {
			fprintf(stderr, "iommu-extent-demo: load: %s\n",
			    strerror(error));
			return 1;
		}
		printf("load packet %d: IOVA 0x%09" PRIx64 " + 0x%05" PRIx64
		       "\n",
		    i, maps[i].ms_dva, maps[i].ms_len);
		for (seg = 0; seg < NSEGS; seg++)
			printf("    seg %d: pa 0x%09" PRIx64 " len %5" PRIu64
			       " -> dva 0x%09" PRIx64 "\n",
			    seg, maps[i].ms_segs[seg].pa,
			    maps[i].ms_segs[seg].len, maps[i].ms_segs[seg].dva);
	}
	printf("unload packet 1: free IOVA 0x%09" PRIx64 " + 0x%05" PRIx64
	       "\n\n",
	    maps[1].ms_dva, maps[1].ms_len);
	if ((error = unload(arena, &maps[1])) != 0) {
		fprintf(
		    stderr, "iommu-extent-demo: unload: %s\n", strerror(error));
		return 1;
	}
	iommu_extent_print(arena, stdout);
	error = iommu_extent_check(arena);
	for (i = 0; i < NPACKETS; i++)
		if (i != 1 && unload(arena, &maps[i]) != 0)
			error = EINVAL;
	iommu_extent_destroy(arena);
	return error == 0 ? 0 : 1;
}
