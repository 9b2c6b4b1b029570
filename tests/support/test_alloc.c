/*
 * Test-side allocators, PRNG and scale factor; see test_alloc.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_alloc.h"

static void *
counting_alloc(void *ctx, size_t size)
{
	struct test_counting_alloc *tc = ctx;

	tc->tc_calls++;
	if (tc->tc_fail_at != 0 &&
	    (tc->tc_calls == tc->tc_fail_at ||
		(tc->tc_fail_sticky && tc->tc_calls > tc->tc_fail_at))) {
		tc->tc_failures++;
		return NULL;
	}
	tc->tc_live_blocks++;
	tc->tc_live_bytes += (long)size;
	return malloc(size);
}

static void
counting_free(void *ctx, void *ptr, size_t size)
{
	struct test_counting_alloc *tc = ctx;

	tc->tc_live_blocks--;
	tc->tc_live_bytes -= (long)size;
	free(ptr);
}

void
test_counting_alloc_init(struct test_counting_alloc *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->tc_ops.ia_alloc = counting_alloc;
	tc->tc_ops.ia_free = counting_free;
	tc->tc_ops.ia_ctx = tc;
}

void
test_counting_alloc_fail_after(
    struct test_counting_alloc *tc, unsigned long n, int sticky)
{
	tc->tc_fail_at = n == 0 ? 0 : tc->tc_calls + n;
	tc->tc_fail_sticky = sticky;
}

static void *
cmocka_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return test_malloc(size);
}

static void
cmocka_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	test_free(ptr);
}

static const struct iommu_allocator cmocka_allocator = {
    .ia_alloc = cmocka_alloc,
    .ia_free = cmocka_free,
    .ia_ctx = NULL,
};

const struct iommu_allocator *
test_cmocka_allocator(void)
{
	return &cmocka_allocator;
}

void
test_rng_seed(struct test_rng *r, uint64_t seed)
{
	r->tr_state = seed;
}

uint64_t
test_rng_next(struct test_rng *r)
{
	uint64_t z;

	z = (r->tr_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
test_rng_below(struct test_rng *r, uint64_t n)
{
	return test_rng_next(r) % n;
}

unsigned long
test_scale(unsigned long n)
{
	const char *s = getenv("IOMMU_TEST_SCALE");

	if (s != NULL && strcmp(s, "valgrind") == 0)
		return n / 20 > 0 ? n / 20 : 1;
	return n;
}
