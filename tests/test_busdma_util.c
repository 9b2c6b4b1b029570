/*
 * Helpers of the bus_dma suites (see test_busdma_util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_busdma_util.h"

uint8_t
bt_pattern(uint32_t seed, size_t i)
{
	uint64_t x = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return (uint8_t)(x >> 32);
}

void
bt_fill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = bt_pattern(seed, i);
}

void
bt_check_map(struct iommu_physmem *pm, const struct iommu_dmamap *map,
    const uint8_t *expect, size_t len, int phys_addr)
{
	const struct iommu_dma_segment *seg;
	uint64_t			total = 0, b = map->_dm_boundary;
	uint8_t			       *tmp;
	int				i;

	assert_int_equal(map->dm_mapsize, len);
	assert_true(map->dm_nsegs > 0 && map->dm_nsegs <= map->_dm_segcnt);
	for (i = 0; i < map->dm_nsegs; i++) {
		seg = &map->dm_segs[i];
		assert_true(seg->ds_len > 0);
		assert_true(seg->ds_len <= map->_dm_maxsegsz);
		/* bus_dma(9): neither address range crosses a line. */
		if (b != 0) {
			assert_true(((seg->_ds_paddr ^
					 (seg->_ds_paddr + seg->ds_len - 1)) &
					~(b - 1)) == 0);
			assert_true(
			    ((seg->ds_addr ^ (seg->ds_addr + seg->ds_len - 1)) &
				~(b - 1)) == 0);
		}
		if (phys_addr)
			assert_true(seg->ds_addr == seg->_ds_paddr);
		else
			assert_true((seg->ds_addr & IOMMU_PAGE_MASK) ==
			    (seg->_ds_paddr & IOMMU_PAGE_MASK));
		tmp = malloc(seg->ds_len);
		assert_non_null(tmp);
		assert_int_equal(
		    iommu_physmem_read(pm, seg->_ds_paddr, tmp, seg->ds_len),
		    0);
		assert_true(total + seg->ds_len <= len);
		assert_memory_equal(tmp, expect + total, seg->ds_len);
		if (seg->_ds_vaddr != NULL)
			assert_memory_equal(
			    seg->_ds_vaddr, expect + total, seg->ds_len);
		free(tmp);
		total += seg->ds_len;
	}
	assert_int_equal(total, len);
}
