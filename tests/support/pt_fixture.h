/*
 * Test-side fixture for the page-table suites: simulated RAM that holds
 * nothing but table frames, the PTED and VP pools, a table, a TLB hook
 * that records what it is told (optionally every IOVA, in order), and a
 * snapshot of everything an ENOMEM must leave unchanged.  Host memory comes
 * from cmocka's leak-checking allocator.
 */
#ifndef PT_FIXTURE_H
#define PT_FIXTURE_H

#include <stdatomic.h>
#include <stdint.h>

#include <iommu/memops.h>
#include <iommu/pagetable.h>
#include <iommu/physmem.h>
#include <iommu/pool.h>

#define PT_FX_RAM_BASE 0x40000000ULL
#define PT_FX_RAM_SIZE (64ULL << 20)

struct pt_fixture {
	struct iommu_physmem *fx_pm;
	struct iommu_pool    *fx_pted_pool;
	struct iommu_pool    *fx_vp_pool;
	struct iommu_pt	     *fx_pt;
	struct iommu_mem_ops  fx_mem;
	unsigned	      fx_ias;
	unsigned	      fx_oas;
	/* TLB hook record (the hooks may run on several threads). */
	_Atomic uint64_t fx_tlb_pages;
	_Atomic uint64_t fx_tlb_last_iova;
	_Atomic uint64_t fx_tlb_last_granule;
	_Atomic uint64_t fx_tlb_other; /* flush_all / flush_walk calls */
	/*
	 * Optional: the IOVA of each tlb_add_page call, in call order, into
	 * fx_tlb_log[0 .. fx_tlb_log_cap) (fx_tlb_log_n counts every call
	 * since the log was set, kept or not).  NULL: not kept.
	 */
	uint64_t	*fx_tlb_log;
	uint64_t	 fx_tlb_log_cap;
	_Atomic uint64_t fx_tlb_log_n;
};

/* Everything that ENOMEM must leave as it was. */
struct pt_snapshot {
	uint64_t	      sn_digest;
	uint64_t	      sn_ndesc;
	uint64_t	      sn_frames;
	uint64_t	      sn_pteds_out;
	uint64_t	      sn_vps_out;
	struct iommu_pt_stats sn_stats;
};

/*
 * Sets up everything (asserts on failure) with a fresh table, host memory
 * from cmocka's leak-checking allocator (single-threaded tests) or from
 * alloc (NULL: malloc, for threaded tests: cmocka's is not thread-safe).
 */
void pt_fixture_init(struct pt_fixture *, unsigned ias, unsigned oas);
void pt_fixture_init_with(struct pt_fixture *, unsigned ias, unsigned oas,
    const struct iommu_allocator *alloc);
/* Destroys the table and checks that pools and RAM are back to zero. */
void pt_fixture_fini(struct pt_fixture *);
void pt_snapshot_take(struct pt_fixture *, struct pt_snapshot *);
void pt_snapshot_assert_equal(
    const struct pt_snapshot *, const struct pt_snapshot *);

#endif /* PT_FIXTURE_H */
