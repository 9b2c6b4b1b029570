/*
 * iommu-bench - an arena allocator for a stream's bus_dma maps.
 *
 * A NIC driver creates its ring's maps one after another at attach, and a
 * kernel's malloc(9) keeps allocations of one size together, so the maps
 * of a ring lie in a row and the hardware prefetchers follow them as the
 * ring turns.  glibc's heap does not: it interleaves the maps with the
 * pool pages a create takes (at-create) and carves them from the holes
 * an earlier case's ring left, and past the caches (N = 16384) that
 * layout alone moves a strategy's cost by tens of ns (docs/benchmarks.md).
 * The bench gives each stream an arena, so every strategy meets the
 * layout a driver would, whatever ran before it; --map-alloc malloc keeps
 * glibc's heap to show the difference.
 *
 * Blocks are carved in order from chunks of at least ARENA_CHUNK bytes;
 * a free only counts, and the arena starts over once nothing is
 * outstanding (a ring torn down and built again reuses its memory).
 */
#ifndef BENCH_ARENA_H
#define BENCH_ARENA_H

#include <iommu/alloc.h>

struct bench_arena;

/* 0 or ENOMEM; *alloc serves from the arena until bench_arena_destroy. */
int bench_arena_create(
    struct bench_arena **out, const struct iommu_allocator **alloc);
void bench_arena_destroy(struct bench_arena *);

#endif /* BENCH_ARENA_H */
