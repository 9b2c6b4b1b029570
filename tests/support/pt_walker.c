/*
 * Test-side stage-1 walker (see pt_walker.h).  Each level indexes 9 bits
 * of the input address: level 0 [47:39], 1 [38:30], 2 [29:21], 3 [20:12].
 * Descriptor bits [1:0]: 0bx0 invalid, 0b11 table (levels 0..2) or page
 * (level 3), 0b01 block at levels 1..2 or reserved at level 3.  The
 * library never writes blocks, so the walker reports any 0b01 as a
 * translation fault for a test to notice.  The output address is bits
 * [47:12].
 */
#include <stdint.h>

#include "pt_walker.h"

#define OA_BITS_MASK 0x0000fffffffff000ULL

unsigned
pt_walker_start_level(unsigned ias)
{
	unsigned stride = 9, bits = ias - 12;

	/* 4 - ceil((ias - 12) / 9) */
	return 4 - (bits + stride - 1) / stride;
}

static int
read_desc(const struct iommu_mem_ops *mem, uint64_t pa, uint64_t *v)
{
	uint8_t	 b[8];
	uint64_t x = 0;
	int	 i;

	if (mem->mo_read(mem->mo_cookie, pa, b, sizeof(b)) != 0)
		return -1;
	for (i = 7; i >= 0; i--)
		x = (x << 8) | b[i];
	*v = x;
	return 0;
}

int
pt_walker_translate(const struct iommu_mem_ops *mem, uint64_t root_pa,
    unsigned ias, unsigned oas, uint64_t va, struct pt_walk_result *res)
{
	uint64_t table = root_pa, desc, idx;
	unsigned level, shift;

	for (level = 0; level < 4; level++)
		res->pw_table_desc[level] = 0;
	res->pw_desc = 0;
	level = pt_walker_start_level(ias);
	res->pw_level = level;
	if (ias < 64 && (va >> ias) != 0)
		return PT_WALK_ADDR_SIZE;
	for (;;) {
		shift = 12 + 9 * (3 - level);
		idx = (va >> shift) & 0x1ff;
		res->pw_level = level;
		if (read_desc(mem, table + idx * 8, &desc) != 0)
			return PT_WALK_EXTABT;
		if ((desc & 1) == 0)
			return PT_WALK_TRANSLATION;
		if ((desc & OA_BITS_MASK) >> oas != 0)
			return PT_WALK_ADDR_SIZE;
		if (level == 3) {
			if ((desc & 2) == 0)
				return PT_WALK_TRANSLATION; /* reserved */
			res->pw_desc = desc;
			res->pw_pa = (desc & OA_BITS_MASK) | (va & 0xfff);
			return PT_WALK_OK;
		}
		if ((desc & 2) == 0)
			return PT_WALK_TRANSLATION; /* blocks: never written */
		res->pw_table_desc[level] = desc;
		table = desc & OA_BITS_MASK;
		level++;
	}
}

static int
digest_level(const struct iommu_mem_ops *mem, uint64_t table, unsigned level,
    uint64_t *h, uint64_t *n)
{
	uint64_t desc, i;

	for (i = 0; i < 512; i++) {
		if (read_desc(mem, table + i * 8, &desc) != 0)
			return -1;
		if (desc == 0)
			continue;
		/* FNV-1a over (level, index, descriptor). */
		*h = (*h ^ (level * 512 + i)) * 0x100000001b3ULL;
		*h = (*h ^ desc) * 0x100000001b3ULL;
		(*n)++;
		if (level < 3 && (desc & 3) == 3 &&
		    digest_level(mem, desc & OA_BITS_MASK, level + 1, h, n) !=
			0)
			return -1;
	}
	return 0;
}

int
pt_walker_digest(const struct iommu_mem_ops *mem, uint64_t root_pa,
    unsigned ias, uint64_t *digest, uint64_t *ndesc)
{
	*digest = 0xcbf29ce484222325ULL;
	*ndesc = 0;
	return digest_level(
	    mem, root_pa, pt_walker_start_level(ias), digest, ndesc);
}
