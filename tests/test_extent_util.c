/*
 * Region snapshots and comparisons for the extent suites.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_extent_util.h"

static int
collect(void *arg, uint64_t start, uint64_t end)
{
	struct test_regions *out = arg;

	assert_true(out->n < TEST_EXTENT_MAXREGIONS);
	out->r[out->n].start = start;
	out->r[out->n].end = end;
	out->n++;
	return 0;
}

void
test_extent_snapshot(struct iommu_extent *ex, struct test_regions *out)
{
	out->n = 0;
	assert_int_equal(iommu_extent_foreach(ex, collect, out), 0);
}

void
test_extent_expect(
    struct iommu_extent *ex, const struct test_range *want, size_t n)
{
	static _Thread_local struct test_regions got;
	size_t					 i;

	assert_int_equal(iommu_extent_check(ex), 0);
	test_extent_snapshot(ex, &got);
	if (got.n != n) {
		iommu_extent_print(ex, stderr);
		fail_msg("%zu regions, expected %zu", got.n, n);
	}
	for (i = 0; i < n; i++) {
		if (got.r[i].start == want[i].start &&
		    got.r[i].end == want[i].end)
			continue;
		iommu_extent_print(ex, stderr);
		fail_msg("region %zu is 0x%llx-0x%llx, expected 0x%llx-0x%llx",
		    i, (unsigned long long)got.r[i].start,
		    (unsigned long long)got.r[i].end,
		    (unsigned long long)want[i].start,
		    (unsigned long long)want[i].end);
	}
}
