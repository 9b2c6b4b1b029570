/*
 * Test-side stage-1 table walker, written from the Arm ARM (D8, 4 KiB
 * granule, AArch64 descriptors) independently of src/pagetable*.  It reads
 * simulated memory only through struct iommu_mem_ops, as the SMMUv3 model
 * does, so a test can check that the bytes the library wrote translate the
 * way the library's own bookkeeping says.
 */
#ifndef PT_WALKER_H
#define PT_WALKER_H

#include <stdint.h>

#include <iommu/memops.h>

struct pt_walk_result {
	uint64_t pw_pa;		   /* output address (page PA + offset) */
	uint64_t pw_desc;	   /* the leaf descriptor */
	uint64_t pw_table_desc[4]; /* table descriptors met, by level */
	unsigned pw_level; /* level of the leaf, or where the walk faulted */
};

/* Walk outcomes. */
#define PT_WALK_OK	    0
#define PT_WALK_TRANSLATION 1 /* invalid or reserved descriptor */
#define PT_WALK_ADDR_SIZE   2 /* input beyond T0SZ, or OA beyond oas */
#define PT_WALK_EXTABT	    3 /* memory read failed */

/*
 * Translates va with TTB0 = root_pa and T0SZ = 64 - ias (start level from
 * the architectural formula), outputs limited to oas bits.
 */
int pt_walker_translate(const struct iommu_mem_ops *mem, uint64_t root_pa,
    unsigned ias, unsigned oas, uint64_t va, struct pt_walk_result *res);

/* Start level the architecture derives for a 4 KiB granule and ias bits. */
unsigned pt_walker_start_level(unsigned ias);

/*
 * Digest of every valid descriptor reachable from root_pa (level, index
 * and value hashed in walk order); *ndesc gets their number.  Two equal
 * digests mean the hardware-visible tables are the same.  -1 if memory
 * could not be read.
 */
int pt_walker_digest(const struct iommu_mem_ops *mem, uint64_t root_pa,
    unsigned ias, uint64_t *digest, uint64_t *ndesc);

#endif /* PT_WALKER_H */
