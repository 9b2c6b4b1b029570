/*
 * Test-side helpers shared by every suite: allocators that fail on demand
 * or hand blocks to cmocka's leak checker, a seeded PRNG, and a scale
 * factor so long randomized loops stay short under Valgrind.
 */
#ifndef TEST_ALLOC_H
#define TEST_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/alloc.h>

/*
 * Counts calls and live blocks; the call numbered fail_at (1-based) and,
 * if fail_sticky, every later one returns NULL.  fail_at = 0: never fail.
 */
struct test_counting_alloc {
	struct iommu_allocator tc_ops;
	unsigned long	       tc_calls;
	unsigned long	       tc_fail_at;
	int		       tc_fail_sticky;
	unsigned long	       tc_failures;
	long		       tc_live_blocks;
	long		       tc_live_bytes;
};

void test_counting_alloc_init(struct test_counting_alloc *);
/* Fail the n-th call counted from now (1 = the next one). */
void test_counting_alloc_fail_after(
    struct test_counting_alloc *, unsigned long n, int sticky);

/* Blocks from cmocka's test_malloc(): a test that leaks one fails. */
const struct iommu_allocator *test_cmocka_allocator(void);

/* Deterministic PRNG (splitmix64). */
struct test_rng {
	uint64_t tr_state;
};
void	 test_rng_seed(struct test_rng *, uint64_t seed);
uint64_t test_rng_next(struct test_rng *);
/* Uniform in [0, n); n > 0. */
uint64_t test_rng_below(struct test_rng *, uint64_t n);

/*
 * Iteration count for randomized tests: n normally, n/20 (at least 1) when
 * IOMMU_TEST_SCALE=valgrind, which the Valgrind registrations set.
 */
unsigned long test_scale(unsigned long n);

#endif /* TEST_ALLOC_H */
