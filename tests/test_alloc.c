/*
 * Tests of the allocator ops plumbing and of the test-side allocators the
 * other suites rely on for fault injection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/alloc.h>

#include "test_alloc.h"

static void
default_allocator_round_trip(void **state)
{
	const struct iommu_allocator *a = iommu_default_allocator();
	char			     *p;

	(void)state;
	p = a->ia_alloc(a->ia_ctx, 64);
	assert_non_null(p);
	memset(p, 0xa5, 64);
	a->ia_free(a->ia_ctx, p, 64);
}

static void
counting_allocator_fails_exactly_the_nth_call(void **state)
{
	struct test_counting_alloc tc;
	void			  *p[4];
	int			   i;

	(void)state;
	test_counting_alloc_init(&tc);
	test_counting_alloc_fail_after(&tc, 3, 0);
	for (i = 0; i < 4; i++)
		p[i] = tc.tc_ops.ia_alloc(tc.tc_ops.ia_ctx, 16);
	assert_non_null(p[0]);
	assert_non_null(p[1]);
	assert_null(p[2]);
	assert_non_null(p[3]);
	assert_int_equal(tc.tc_failures, 1);
	assert_int_equal(tc.tc_live_blocks, 3);
	for (i = 0; i < 4; i++)
		if (p[i] != NULL)
			tc.tc_ops.ia_free(tc.tc_ops.ia_ctx, p[i], 16);
	assert_int_equal(tc.tc_live_blocks, 0);
	assert_int_equal(tc.tc_live_bytes, 0);
}

static void
sticky_failure_keeps_failing(void **state)
{
	struct test_counting_alloc tc;

	(void)state;
	test_counting_alloc_init(&tc);
	test_counting_alloc_fail_after(&tc, 1, 1);
	assert_null(tc.tc_ops.ia_alloc(tc.tc_ops.ia_ctx, 8));
	assert_null(tc.tc_ops.ia_alloc(tc.tc_ops.ia_ctx, 8));
	assert_int_equal(tc.tc_failures, 2);
}

static void
rng_is_deterministic(void **state)
{
	struct test_rng a, b;
	int		i;

	(void)state;
	test_rng_seed(&a, 42);
	test_rng_seed(&b, 42);
	for (i = 0; i < 100; i++)
		assert_int_equal(test_rng_next(&a), test_rng_next(&b));
	for (i = 0; i < 100; i++)
		assert_true(test_rng_below(&a, 7) < 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_allocator_round_trip),
	    cmocka_unit_test(counting_allocator_fails_exactly_the_nth_call),
	    cmocka_unit_test(sticky_failure_keeps_failing),
	    cmocka_unit_test(rng_is_deterministic),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
