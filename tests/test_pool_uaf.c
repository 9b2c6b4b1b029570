/*
 * Use-after-put must be reported by the memory checker.  Not a cmocka
 * suite: the access below is a deliberate error, so this program runs in
 * its own ctest registrations (tests/CMakeLists.txt):
 *  - under Valgrind without --error-exitcode; the program counts memcheck
 *    errors around the access and fails unless exactly one was reported,
 *    for a pool with and without per-thread caches;
 *  - built with ASan, where the access aborts the program; the test
 *    passes only if ASan's report names a use-after-poison.
 * Run natively with no checker it has nothing to observe and says so.
 */
#include <stdint.h>
#include <stdio.h>

#include <iommu/pool.h>

#if defined(IOMMU_HAVE_VALGRIND_H)
#include <valgrind/memcheck.h>
#endif

/* Not inlined: the checker's report names it. */
__attribute__((noinline)) static void
uaf_write_after_put(volatile uint64_t *item)
{
	item[3] = 0xdeadbeef;
}

static int
one_pool(unsigned flags)
{
	struct iommu_pool *pp;
	uint64_t	  *p;
	unsigned	   before = 0, after = 0;

	if (iommu_pool_create("uaf", 64, 0, flags, NULL, &pp) != 0)
		return 1;
	p = iommu_pool_get(pp, IOMMU_PR_ZERO);
	if (p == NULL)
		return 1;
	p[3] = 1; /* fine: the item is ours */
	iommu_pool_put(pp, p);
#if defined(IOMMU_HAVE_VALGRIND_H)
	before = VALGRIND_COUNT_ERRORS;
#endif
	uaf_write_after_put(p);
#if defined(IOMMU_HAVE_VALGRIND_H)
	after = VALGRIND_COUNT_ERRORS;
	if (RUNNING_ON_VALGRIND) {
		if (after != before + 1) {
			printf(
			    "use-after-put NOT reported (flags %u)\n", flags);
			return 1;
		}
		printf(
		    "use-after-put reported by valgrind (flags %u)\n", flags);
	}
#endif
	(void)before;
	(void)after;
	iommu_pool_destroy(pp);
	return 0;
}

int
main(void)
{
	if (one_pool(0) != 0 || one_pool(IOMMU_POOL_PERTHREAD) != 0)
		return 1;
	printf("done\n");
	return 0;
}
