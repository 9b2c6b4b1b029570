/*
 * iommu-bench - the NIC ring (see ring.h).
 *
 * Slot layout: one 2-page physically contiguous "cluster" per slot from
 * simulated RAM.  TX segments (offsets vary by slot over four layouts so
 * that not every packet starts at the same page offset):
 *
 *   page 0                      page 1
 *   |..[hdr 66 B]......[seg1 1000 B ...|... ]....[seg2 434 B]....|
 *
 * The replay does, per packet, what the IOMMU tag does: the platform tag
 * builds the physical segments, then IOVA is allocated (per strategy),
 * each page entered, and on unload each page removed, the TLBIs and one
 * CMD_SYNC issued (iommu_domain_sync) and the IOVA freed.  Phase times
 * are taken with the cycle counter around each group of calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"
#include "ring.h"

#define PG	 IOMMU_PAGE_SIZE
#define MAXSEG	 4
#define MAXPAGES 8

struct ring_slot {
	struct iommu_dmamap *map; /* bus_dma, or the platform map (replay) */
	uint64_t	     pa;  /* the 2-page cluster */
	unsigned char	    *kva;
	struct iommu_mbuf    m[3];
	bool		     loaded;
	/* replay state */
	struct iommu_extent_region descr[MAXSEG];
	uint64_t		   iova[MAXSEG], iova_len[MAXSEG];
	int			   niova;
	uint64_t		   pages[MAXPAGES]; /* IOVA pages entered */
	int			   npages;
	uint64_t		   dev_addr[MAXSEG];
	uint64_t		   dev_len[MAXSEG];
	int			   nseg;
	uint64_t		   reserved; /* at-create replay */
};

static const unsigned layouts[4][3] = {
    /* offsets of hdr, seg1, seg2 inside the 8 KiB cluster */
    {0x0a0, 0xe20, 0x1400},
    {0x1a0, 0xd00, 0x1600},
    {0x060, 0xc80, 0x1300},
    {0x2e0, 0xf10, 0x1500},
};
static const size_t seglen[3] = {66, 1000, 434};

static inline uint64_t
trunc_pg(uint64_t a)
{
	return a & ~(uint64_t)(PG - 1);
}

static inline uint64_t
round_pg(uint64_t a)
{
	return (a + PG - 1) & ~(uint64_t)(PG - 1);
}

static int
dev_read(struct ring *rg, uint64_t addr, uint64_t len)
{
	if (rg->rg_se->se_dom == NULL)
		return iommu_physmem_read(
		    rg->rg_tb->tb_pm, addr, rg->rg_bounce, len);
	return smmuv3_dma_read(rg->rg_tb->tb_model, rg->rg_se->se_sid,
	    SMMUV3_NO_SSID, addr, rg->rg_bounce, len, NULL);
}

static int
dev_write(struct ring *rg, uint64_t addr, uint64_t len)
{
	if (rg->rg_se->se_dom == NULL)
		return iommu_physmem_write(
		    rg->rg_tb->tb_pm, addr, rg->rg_bounce, len);
	return smmuv3_dma_write(rg->rg_tb->tb_model, rg->rg_se->se_sid,
	    SMMUV3_NO_SSID, addr, rg->rg_bounce, len, NULL);
}

static struct iommu_dma_tag *
load_tag(struct ring *rg)
{
	return rg->rg_replay ? rg->rg_se->se_platform : rg->rg_se->se_tag;
}

static int
alloc_iova(struct ring *rg, struct ring_slot *s, int i, uint64_t len)
{
	struct stream *se = rg->rg_se;

	s->iova_len[i] = len;
	return iommu_domain_iova_alloc(
	    se->se_dom, len, &s->descr[i], &s->iova[i]);
}

static int
free_iova(struct ring *rg, struct ring_slot *s, int i)
{
	struct stream *se = rg->rg_se;

	return iommu_domain_iova_free(se->se_dom, s->iova[i], s->iova_len[i]);
}

/* Replay of the IOMMU tag's load over the platform map's segments. */
static int
replay_map(struct ring *rg, struct ring_slot *s)
{
	struct iommu_dmamap *map = s->map;
	enum bench_strategy  st = rg->rg_se->se_strategy;
	uint64_t	     t0 = 0, t1 = 0, base = 0, off, len, pg;
	int		     i, error = 0;

	s->niova = 0;
	s->npages = 0;
	s->nseg = map->dm_nsegs;
	if (rg->rg_phases)
		t0 = bench_cycles();
	if (st == BS_PERMAP || st == BS_MAGAZINE) {
		for (i = 0, len = 0; i < map->dm_nsegs; i++)
			len += round_pg((map->dm_segs[i].ds_addr & (PG - 1)) +
			    map->dm_segs[i].ds_len);
		error = alloc_iova(rg, s, 0, len);
		s->niova = error == 0;
		base = s->iova[0];
	} else if (st == BS_PERSEG) {
		for (i = 0; i < map->dm_nsegs && error == 0; i++) {
			error = alloc_iova(rg, s, i,
			    round_pg((map->dm_segs[i].ds_addr & (PG - 1)) +
				map->dm_segs[i].ds_len));
			if (error == 0)
				s->niova++;
		}
	} else if (st == BS_ATCREATE) {
		base = s->reserved;
	}
	if (rg->rg_phases) {
		t1 = bench_cycles();
		rg->rg_t_alloc += t1 - t0;
	}
	for (i = 0, off = 0; i < map->dm_nsegs && error == 0; i++) {
		uint64_t pa = map->dm_segs[i].ds_addr;
		uint64_t iova,
		    end = round_pg((pa & (PG - 1)) + map->dm_segs[i].ds_len);

		if (st == BS_IDENTITY)
			iova = trunc_pg(pa);
		else if (st == BS_PERSEG)
			iova = s->iova[i];
		else
			iova = base + off;
		off += end;
		s->dev_addr[i] = iova + (pa & (PG - 1));
		s->dev_len[i] = map->dm_segs[i].ds_len;
		for (pg = 0; pg < end && error == 0; pg += PG) {
			error = iommu_domain_enter(rg->rg_se->se_dom, iova + pg,
			    trunc_pg(pa) + pg,
			    IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_WB);
			if (error == EEXIST && st == BS_IDENTITY) {
				error = 0; /* shared page: already ours */
				continue;
			}
			if (error == 0 && s->npages < MAXPAGES)
				s->pages[s->npages++] = iova + pg;
		}
	}
	if (rg->rg_phases)
		rg->rg_t_pt += bench_cycles() - t1;
	return error;
}

static int
replay_unmap(struct ring *rg, struct ring_slot *s)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0;
	int	 i, error = 0;

	if (rg->rg_phases)
		t0 = bench_cycles();
	for (i = 0; i < s->npages; i++)
		error |= iommu_domain_remove(rg->rg_se->se_dom, s->pages[i]);
	if (rg->rg_phases)
		t1 = bench_cycles();
	error |= iommu_domain_sync(rg->rg_se->se_dom);
	if (rg->rg_phases)
		t2 = bench_cycles();
	for (i = 0; i < s->niova; i++)
		error |= free_iova(rg, s, i);
	if (rg->rg_phases) {
		rg->rg_t_pt += t1 - t0;
		rg->rg_t_inval += t2 - t1;
		rg->rg_t_alloc += bench_cycles() - t2;
	}
	s->npages = s->niova = 0;
	return error;
}

static int
slot_unload(struct ring *rg, struct ring_slot *s)
{
	int error = 0;

	if (!s->loaded)
		return 0;
	if (rg->rg_replay && rg->rg_se->se_dom != NULL)
		error = replay_unmap(rg, s);
	iommu_dmamap_unload(load_tag(rg), s->map);
	s->loaded = false;
	return error;
}

static int
slot_load(struct ring *rg, struct ring_slot *s)
{
	int error, i;

	if (rg->rg_rx)
		error = iommu_dmamap_load(load_tag(rg), s->map, s->kva + 0x800,
		    2048, IOMMU_DMA_NOWAIT | IOMMU_DMA_READ);
	else
		error = iommu_dmamap_load_mbuf(load_tag(rg), s->map, s->m,
		    IOMMU_DMA_NOWAIT | IOMMU_DMA_WRITE);
	if (error != 0)
		return error;
	s->loaded = true;
	if (rg->rg_replay && rg->rg_se->se_dom != NULL)
		return replay_map(rg, s);
	s->nseg = s->map->dm_nsegs;
	for (i = 0; i < s->nseg && i < MAXSEG; i++) {
		s->dev_addr[i] = s->map->dm_segs[i].ds_addr;
		s->dev_len[i] = s->map->dm_segs[i].ds_len;
	}
	return 0;
}

int
ring_init(struct ring *rg, struct testbed *tb, struct stream *se,
    unsigned long n, bool rx, bool replay)
{
	unsigned long i;
	int	      error = 0, j;

	memset(rg, 0, sizeof(*rg));
	rg->rg_tb = tb;
	rg->rg_se = se;
	rg->rg_n = n;
	rg->rg_rx = rx;
	rg->rg_replay = replay;
	/* The tag's window (busdma_iommu.c, W) and a guard; size >= 2 KiB. */
	rg->rg_reserve =
	    ((tb->tb_map_size - 2 * MAXSEG) / PG + 2 * MAXSEG + 1) * PG;
	rg->rg_slots = calloc(n, sizeof(*rg->rg_slots));
	if (rg->rg_slots == NULL)
		return ENOMEM;
	for (i = 0; i < n && error == 0; i++) {
		struct ring_slot *s = &rg->rg_slots[i];
		const unsigned	 *lay = layouts[i % 4];

		error = iommu_physmem_alloc_pages(tb->tb_pm, 2, &s->pa);
		if (error != 0)
			break;
		s->kva = iommu_physmem_kva(tb->tb_pm, s->pa);
		for (j = 0; j < 3; j++) {
			s->m[j].m_data = s->kva + lay[j];
			s->m[j].m_len = seglen[j];
			s->m[j].m_next = j < 2 ? &s->m[j + 1] : NULL;
		}
		error = iommu_dmamap_create(load_tag(rg), tb->tb_map_size,
		    MAXSEG, tb->tb_map_size, 0, IOMMU_DMA_NOWAIT, &s->map);
		if (error != 0)
			break;
		if (rg->rg_replay && se->se_strategy == BS_ATCREATE) {
			/* What the (strict) at-create tag does at
			 * dmamap_create: reserve one window, the most
			 * pages a load may span + a guard page, and
			 * pre-create the table levels. */
			error = iommu_domain_iova_alloc(
			    se->se_dom, rg->rg_reserve, NULL, &s->reserved);
			if (error == 0)
				error = iommu_domain_prepare(
				    se->se_dom, s->reserved, rg->rg_reserve);
		}
	}
	/* Prime the ring: every slot holds a packet / a receive buffer. */
	for (i = 0; i < n && error == 0; i++)
		error = slot_load(rg, &rg->rg_slots[i]);
	if (error != 0)
		ring_fini(rg);
	return error;
}

void
ring_run(void *arg, uint64_t iters)
{
	struct ring	 *rg = arg;
	struct ring_slot *s;
	uint64_t	  k;
	int		  i, error = 0;

	for (k = 0; k < iters && error == 0; k++) {
		s = &rg->rg_slots[rg->rg_next];
		if (++rg->rg_next == rg->rg_n)
			rg->rg_next = 0;
		if (rg->rg_rx) {
			/* The device fills the oldest buffer, the driver
			 * takes it off the ring and loads a fresh one. */
			if (!rg->rg_nodev)
				error = dev_write(rg, s->dev_addr[0], 1500);
			error |= slot_unload(rg, s);
			error |= slot_load(rg, s);
		} else {
			error = slot_unload(rg, s);
			error |= slot_load(rg, s);
			for (i = 0; i < s->nseg && error == 0 && !rg->rg_nodev;
			     i++)
				error =
				    dev_read(rg, s->dev_addr[i], s->dev_len[i]);
		}
	}
	rg->rg_packets += k;
	if (error != 0 && rg->rg_error == 0)
		rg->rg_error = error;
}

void
ring_fini(struct ring *rg)
{
	unsigned long i;

	if (rg->rg_slots == NULL)
		return;
	for (i = 0; i < rg->rg_n; i++) {
		struct ring_slot *s = &rg->rg_slots[i];

		if (s->map != NULL) {
			(void)slot_unload(rg, s);
			iommu_dmamap_destroy(load_tag(rg), s->map);
		}
		if (s->reserved != 0)
			(void)iommu_domain_iova_free(
			    rg->rg_se->se_dom, s->reserved, rg->rg_reserve);
		if (s->pa != 0)
			(void)iommu_physmem_free_pages(
			    rg->rg_tb->tb_pm, s->pa, 2);
	}
	free(rg->rg_slots);
	memset(rg, 0, sizeof(*rg));
}
