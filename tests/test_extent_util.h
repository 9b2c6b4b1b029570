/*
 * Helpers shared by the extent suites: snapshot an extent's regions
 * through iommu_extent_foreach() and compare them with an expected list.
 */
#ifndef TEST_EXTENT_UTIL_H
#define TEST_EXTENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <iommu/extent.h>

#define TEST_EXTENT_MAXREGIONS 4096

struct test_range {
	uint64_t start;
	uint64_t end;
};

struct test_regions {
	size_t		  n;
	struct test_range r[TEST_EXTENT_MAXREGIONS];
};

/* Fills *out (asserts there are at most TEST_EXTENT_MAXREGIONS). */
void test_extent_snapshot(struct iommu_extent *, struct test_regions *out);

/* Asserts the extent's regions are exactly want[0..n), and it checks. */
void test_extent_expect(
    struct iommu_extent *, const struct test_range *want, size_t n);

#endif /* TEST_EXTENT_UTIL_H */
