/*
 * iommu-bench - a NIC ring of N dmamaps driven through one stream.
 *
 * TX: each packet is a 3-segment mbuf chain (66-byte header mbuf, then
 * 1000 and 434 bytes of payload in a 2-page cluster, at page offsets that
 * make the middle segment cross a page: 4 pages of IOVA per packet);
 * per packet the slot's previous packet is unloaded (TX completion), the
 * new one loaded with load_mbuf and the device reads it through the SMMU.
 * RX: N 2 KiB receive buffers stay loaded; per packet the device writes
 * 1500 bytes into the oldest, which is unloaded and loaded again (refill).
 *
 * Two drivers of the same work: bus_dma (the library's IOMMU tag, what the
 * strategies really cost) and a replay through the domain API that times
 * each phase with the cycle counter (the breakdown; and the magazine
 * strategy while the driver does not yet honour dc_magazines).
 */
#ifndef BENCH_RING_H
#define BENCH_RING_H

#include "testbed.h"

struct ring_slot;

struct ring {
	struct testbed	 *rg_tb;
	struct stream	 *rg_se;
	struct ring_slot *rg_slots;
	unsigned long	  rg_n, rg_next;
	bool		  rg_rx;
	bool		  rg_replay;  /* domain-API replay instead of bus_dma */
	bool		  rg_phases;  /* replay: time each phase */
	bool		  rg_nodev;   /* no device access: map+unmap only */
	uint64_t	  rg_reserve; /* at-create replay: bytes per map */
	uint64_t	  rg_t_alloc, rg_t_pt, rg_t_inval; /* ticks */
	uint64_t	  rg_packets;
	int		  rg_error;
	unsigned char	  rg_bounce[2048];
};

int ring_init(struct ring *, struct testbed *, struct stream *, unsigned long n,
    bool rx, bool replay);
/* iters packets; errors land in rg_error. */
void ring_run(void *ring, uint64_t iters);
void ring_fini(struct ring *);

#endif /* BENCH_RING_H */
