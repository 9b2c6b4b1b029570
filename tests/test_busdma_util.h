/*
 * Shared helpers of the bus_dma suites: byte patterns and a checker that
 * a loaded map describes a buffer correctly, from the physical side
 * (segment constraints, and the bytes at each segment's physical address
 * are the buffer's bytes in order).
 */
#ifndef TEST_BUSDMA_UTIL_H
#define TEST_BUSDMA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/busdma.h>
#include <iommu/physmem.h>

/* Fills buf with a pattern that depends on seed and the byte index. */
void bt_fill(void *buf, size_t len, uint32_t seed);
/* The pattern byte bt_fill writes at index i. */
uint8_t bt_pattern(uint32_t seed, size_t i);

/*
 * Asserts that map holds len bytes whose physical bytes (read through pm)
 * equal expect[0..len), that every segment honours the map's maxsegsz and
 * boundary (on its physical and on its device address: ds_addr is an IOVA
 * behind an IOMMU tag), lies in RAM, and (when phys_addr is true) that
 * ds_addr == _ds_paddr.
 */
void bt_check_map(struct iommu_physmem *pm, const struct iommu_dmamap *map,
    const uint8_t *expect, size_t len, int phys_addr);

#endif /* TEST_BUSDMA_UTIL_H */
