/*
 * Unit tests of the extent allocator: every flag and argument of
 * include/iommu/extent.h, mostly as tables whose comments say what each
 * case pins.  The randomized differential test is test_extent_random.c, the
 * threaded one test_extent_threads.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/extent.h>

#include "test_alloc.h"
#include "test_extent_util.h"

#define U64MAX	  UINT64_MAX
#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define EXPECT(ex, ...)                                                        \
	do {                                                                   \
		const struct test_range want_[] = {__VA_ARGS__};               \
		test_extent_expect(                                            \
		    ex, want_, sizeof(want_) / sizeof(want_[0]));              \
	} while (0)
#define EXPECT_EMPTY(ex) test_extent_expect(ex, NULL, 0)

static struct iommu_extent *
mk(uint64_t start, uint64_t end, int flags)
{
	struct iommu_extent *ex = NULL;

	assert_int_equal(iommu_extent_create("test", start, end,
			     test_cmocka_allocator(), NULL, 0, flags, &ex),
	    0);
	assert_non_null(ex);
	return ex;
}

static void
create_rejects_bad_arguments(void **state)
{
	struct iommu_extent *ex = NULL;
	char		     small[8];

	(void)state;
	/* start > end */
	assert_int_equal(
	    iommu_extent_create("x", 2, 1, NULL, NULL, 0, 0, &ex), EINVAL);
	/* operation flags are not creation flags */
	assert_int_equal(
	    iommu_extent_create("x", 0, 1, NULL, NULL, 0, IOMMU_EX_WAITOK, &ex),
	    EINVAL);
	assert_int_equal(
	    iommu_extent_create("x", 0, 1, NULL, NULL, 0, 0, NULL), EINVAL);
	/* storage too small for the extent itself */
	assert_int_equal(
	    iommu_extent_create("x", 0, 1, NULL, small, sizeof(small), 0, &ex),
	    EINVAL);
	assert_null(ex);
	/* a single-unit extent is fine; NULL name too */
	assert_int_equal(
	    iommu_extent_create(NULL, 5, 5, NULL, NULL, 0, 0, &ex), 0);
	iommu_extent_destroy(ex);
	iommu_extent_destroy(NULL);
}

static void
create_fails_cleanly_without_memory(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_extent	  *ex = NULL;

	(void)state;
	test_counting_alloc_init(&tc);
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_int_equal(
	    iommu_extent_create("x", 0, 99, &tc.tc_ops, NULL, 0, 0, &ex),
	    ENOMEM);
	/* FILLED needs a second block, the descriptor. */
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_int_equal(iommu_extent_create("x", 0, 99, &tc.tc_ops, NULL, 0,
			     IOMMU_EX_FILLED, &ex),
	    ENOMEM);
	assert_int_equal(tc.tc_live_blocks, 0);
}

static void
filled_extent_starts_fully_allocated(void **state)
{
	struct iommu_extent *ex = mk(0x100, 0x1ff, IOMMU_EX_FILLED);
	uint64_t	     r;

	(void)state;
	EXPECT(ex, {0x100, 0x1ff});
	assert_int_equal(iommu_extent_alloc(ex, 1, 1, 0, 0, 0, &r), EAGAIN);
	assert_int_equal(iommu_extent_free(ex, 0x180, 0x10, 0), 0);
	EXPECT(ex, {0x100, 0x17f}, {0x190, 0x1ff});
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, 0x180);
	EXPECT(ex, {0x100, 0x1ff});
	iommu_extent_destroy(ex);
}

static void
invalid_alloc_arguments_are_einval(void **state)
{
	static const struct {
		uint64_t    substart, subend, size, align, boundary;
		int	    flags;
		int	    error;
		const char *what;
	} cases[] = {
	    {0x1000, 0x1fff, 0, 1, 0, 0, EINVAL, "zero size"},
	    {0x1000, 0x1fff, 1, 0, 0, 0, EINVAL, "alignment 0"},
	    {0x1000, 0x1fff, 1, 3, 0, 0, EINVAL, "alignment not 2^n"},
	    {0x1000, 0x1fff, 4, 1, 6, 0, EINVAL, "boundary not 2^n"},
	    {0x1000, 0x1fff, 0x20, 1, 0x10, 0, EINVAL, "boundary < size"},
	    {0x0fff, 0x1fff, 1, 1, 0, 0, EINVAL, "subregion below extent"},
	    {0x1000, 0x2000, 1, 1, 0, 0, EINVAL, "subregion above extent"},
	    {0x1800, 0x17ff, 1, 1, 0, 0, EINVAL, "subregion inverted"},
	    {0x1800, 0x180f, 0x11, 1, 0, 0, EINVAL, "size > subregion"},
	    {0x1000, 0x1fff, 1, 1, 0, IOMMU_EX_CONFLICTOK, EINVAL,
		"alloc takes no CONFLICTOK"},
	    {0x1000, 0x1fff, 1, 1, 0, 0x8000, EINVAL, "unknown flag"},
	    /* the edges themselves are valid */
	    {0x1000, 0x1fff, 0x1000, 0x1000, 0x1000, 0, 0, "whole extent"},
	    {0x1fff, 0x1fff, 1, 1, 1, 0, 0, "last unit, boundary == size"},
	};
	struct iommu_extent_region rd;
	struct iommu_extent	  *ex = mk(0x1000, 0x1fff, 0);
	uint64_t		   r;
	size_t			   i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		int error = iommu_extent_alloc_subregion(ex, cases[i].substart,
		    cases[i].subend, cases[i].size, cases[i].align, 0,
		    cases[i].boundary, cases[i].flags, &r);

		if (error != cases[i].error)
			fail_msg("%s: error %d, expected %d", cases[i].what,
			    error, cases[i].error);
		if (error == 0)
			assert_int_equal(
			    iommu_extent_free(ex, r, cases[i].size, 0), 0);
		EXPECT_EMPTY(ex);
	}
	assert_int_equal(iommu_extent_alloc(ex, 1, 1, 0, 0, 0, NULL), EINVAL);
	assert_int_equal(iommu_extent_alloc(NULL, 1, 1, 0, 0, 0, &r), EINVAL);
	/* caller descriptors need a no-coalesce extent */
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 1, 1, 0, 0, 0, &rd, &r), EINVAL);
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 1, 1, 0, 0, 0, NULL, &r), EINVAL);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);
}

static void
invalid_region_and_free_arguments_are_einval(void **state)
{
	struct iommu_extent *ex = mk(0x1000, 0x1fff, 0);
	struct iommu_extent *top = mk(U64MAX - 0xff, U64MAX, 0);

	(void)state;
	assert_int_equal(iommu_extent_alloc_region(ex, 0x1000, 0, 0), EINVAL);
	assert_int_equal(iommu_extent_alloc_region(ex, 0xfff, 2, 0), EINVAL);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x1fff, 2, 0), EINVAL);
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x1000, 1, IOMMU_EX_FAST), EINVAL);
	/* start + size wraps past 2^64 - 1 */
	assert_int_equal(iommu_extent_alloc_region(top, U64MAX, 2, 0), EINVAL);
	assert_int_equal(
	    iommu_extent_alloc_region(top, U64MAX - 0xff, U64MAX, 0), EINVAL);
	assert_int_equal(iommu_extent_alloc_region(top, U64MAX, 1, 0), 0);
	assert_int_equal(iommu_extent_free(top, U64MAX, 2, 0), EINVAL);
	assert_int_equal(iommu_extent_free(top, U64MAX, 1, 0), 0);

	assert_int_equal(iommu_extent_alloc_region(ex, 0x1100, 0x100, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x1100, 0, 0), EINVAL);
	/* not allocated at all, or only partly */
	assert_int_equal(iommu_extent_free(ex, 0x1000, 0x10, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x10f0, 0x20, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x11f0, 0x20, 0), EINVAL);
	assert_int_equal(
	    iommu_extent_free(ex, 0x1100, 0x100, IOMMU_EX_CONFLICTOK), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x0, 0x10, 0), EINVAL);
	EXPECT(ex, {0x1100, 0x11ff});
	assert_int_equal(iommu_extent_free(ex, 0x1100, 0x100, 0), 0);
	EXPECT_EMPTY(ex);
	EXPECT_EMPTY(top);
	iommu_extent_destroy(ex);
	iommu_extent_destroy(top);
}

static void
alignment_and_skew_place_the_start(void **state)
{
	/* Extent [0x1000, 0xffff] holding [0x1000, 0x1003] first. */
	static const struct {
		uint64_t    size, align, skew, want;
		const char *what;
	} cases[] = {
	    {0x10, 1, 0, 0x1004, "no alignment: right after"},
	    {0x10, 0x100, 0, 0x1100, "aligned up to 0x100"},
	    {0x10, 0x100, 0x20, 0x1020, "skew 0x20: start == 0x20 mod 0x100"},
	    {0x10, 0x100, 0x4, 0x1004, "skew lands exactly on the gap"},
	    {0x10, 0x100, 0x3, 0x1103, "skew just below the gap: next line"},
	    {0x10, 0x100, 0x123, 0x1023, "skew >= alignment works mod align"},
	    {0x10, 0x1000, 0, 0x2000, "alignment = 0x1000"},
	    {0x10, 0x10000, 0, 0, "alignment beyond the extent: EAGAIN"},
	};
	struct iommu_extent *ex = mk(0x1000, 0xffff, 0);
	uint64_t	     r;
	size_t		     i;
	int		     error;

	(void)state;
	assert_int_equal(iommu_extent_alloc_region(ex, 0x1000, 4, 0), 0);
	for (i = 0; i < NITEMS(cases); i++) {
		error = iommu_extent_alloc(
		    ex, cases[i].size, cases[i].align, cases[i].skew, 0, 0, &r);
		if (cases[i].want == 0) {
			assert_int_equal(error, EAGAIN);
			continue;
		}
		if (error != 0 || r != cases[i].want)
			fail_msg("%s: error %d result 0x%llx", cases[i].what,
			    error, (unsigned long long)r);
		assert_int_equal(iommu_extent_free(ex, r, cases[i].size, 0), 0);
	}
	EXPECT(ex, {0x1000, 0x1003});
	iommu_extent_destroy(ex);
}

static void
boundary_lines_are_never_crossed(void **state)
{
	/*
	 * Extent [0x10, 0xff] with [0x10, 0x3f] taken.  Lines every 0x40
	 * count from 0x10 (0x50, 0x90, ...) or, with BOUNDZERO, from 0
	 * (0x40, 0x80, ...).
	 */
	static const struct {
		uint64_t    size, align, skew, boundary;
		int	    flags;
		uint64_t    want; /* 0: EAGAIN */
		const char *what;
	} cases[] = {
	    {0x10, 1, 0, 0x40, 0, 0x40, "fits before line 0x50"},
	    {0x20, 1, 0, 0x40, 0, 0x50, "would cross 0x50: moved onto it"},
	    {0x40, 1, 0, 0x40, 0, 0x50, "size == boundary, on a line"},
	    {0x20, 1, 0, 0x40, IOMMU_EX_BOUNDZERO, 0x40,
		"BOUNDZERO: 0x40 is a line, may start there"},
	    {0x30, 1, 0, 0x40, IOMMU_EX_BOUNDZERO, 0x40, "ends at 0x6f"},
	    {0x41, 1, 0, 0x80, IOMMU_EX_BOUNDZERO, 0x80,
		"would cross 0x80: moved onto it"},
	    {0x10, 0x20, 0x8, 0x40, IOMMU_EX_BOUNDZERO, 0x48,
		"alignment + skew + boundary"},
	    {0x30, 0x20, 0x18, 0x40, IOMMU_EX_BOUNDZERO, 0,
		"every aligned start crosses a line: EAGAIN"},
	    {0x20, 0x40, 0x30, 0x40, 0, 0x70,
		"align == boundary, offset 0x20 from the line"},
	    {0x28, 0x40, 0x30, 0x40, 0, 0, "offset + size > boundary"},
	};
	struct iommu_extent *ex = mk(0x10, 0xff, 0);
	uint64_t	     r;
	size_t		     i;
	int		     error;

	(void)state;
	assert_int_equal(iommu_extent_alloc_region(ex, 0x10, 0x30, 0), 0);
	for (i = 0; i < NITEMS(cases); i++) {
		error = iommu_extent_alloc(ex, cases[i].size, cases[i].align,
		    cases[i].skew, cases[i].boundary,
		    cases[i].flags | IOMMU_EX_FAST, &r);
		if (cases[i].want == 0) {
			if (error != EAGAIN)
				fail_msg("%s: error %d result 0x%llx",
				    cases[i].what, error,
				    (unsigned long long)r);
			continue;
		}
		if (error != 0 || r != cases[i].want)
			fail_msg("%s: error %d result 0x%llx", cases[i].what,
			    error, (unsigned long long)r);
		assert_int_equal(iommu_extent_free(ex, r, cases[i].size, 0), 0);
	}
	EXPECT(ex, {0x10, 0x3f});
	iommu_extent_destroy(ex);
}

static void
best_fit_and_first_fit(void **state)
{
	/*
	 * Extent [0, 0xff] with [0, 0xf], [0x30, 0x3f], [0x50, 0x5f]
	 * taken: gaps [0x10, 0x2f] (0x20), [0x40, 0x4f] (0x10),
	 * [0x60, 0xff] (0xa0).
	 */
	static const struct {
		uint64_t    size, substart, subend;
		int	    flags;
		uint64_t    want;
		const char *what;
	} cases[] = {
	    {0x10, 0, 0xff, 0, 0x40, "best fit: the exact 0x10 gap"},
	    {0x10, 0, 0xff, IOMMU_EX_FAST, 0x10, "first fit: lowest gap"},
	    {0x8, 0, 0xff, 0, 0x40, "best fit: least waste (8 < 0x18)"},
	    {0x18, 0, 0xff, 0, 0x10, "0x10 gap too small: next best"},
	    {0x18, 0, 0xff, IOMMU_EX_FAST, 0x10, "first fit agrees"},
	    {0x21, 0, 0xff, 0, 0x60, "only the last gap fits"},
	    {0x10, 0x60, 0xff, 0, 0x60, "subregion excludes smaller gaps"},
	    {0x8, 0x28, 0x8f, 0, 0x28, "clipped first gap fits exactly"},
	    {0x8, 0x10, 0x67, 0, 0x60,
		"waste counts inside the subregion: clipped tail is exact"},
	    {0x8, 0x44, 0x8f, 0, 0x44, "clipped 0x44-0x4f gap wastes 4"},
	    {0x4, 0x28, 0x47, 0, 0x28, "equal waste (4): lowest address"},
	    {0xa0, 0, 0xff, 0, 0x60, "exactly the tail gap"},
	    {0xa1, 0, 0xff, 0, 0, "no gap is big enough: EAGAIN"},
	};
	struct iommu_extent *ex = mk(0, 0xff, 0);
	uint64_t	     r;
	size_t		     i;
	int		     error;

	(void)state;
	assert_int_equal(iommu_extent_alloc_region(ex, 0x00, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x30, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x50, 0x10, 0), 0);
	for (i = 0; i < NITEMS(cases); i++) {
		error = iommu_extent_alloc_subregion(ex, cases[i].substart,
		    cases[i].subend, cases[i].size, 1, 0, 0, cases[i].flags,
		    &r);
		if (cases[i].want == 0) {
			assert_int_equal(error, EAGAIN);
			continue;
		}
		if (error != 0 || r != cases[i].want)
			fail_msg("%s: error %d result 0x%llx", cases[i].what,
			    error, (unsigned long long)r);
		assert_int_equal(iommu_extent_free(ex, r, cases[i].size, 0), 0);
	}
	EXPECT(ex, {0, 0xf}, {0x30, 0x3f}, {0x50, 0x5f});
	iommu_extent_destroy(ex);
}

static void
coalescing_merges_and_partial_frees_split(void **state)
{
	struct iommu_extent *ex = mk(0, 0xfff, 0);
	uint64_t	     r;
	int		     i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(
		    iommu_extent_alloc(ex, 0x100, 1, 0, 0, IOMMU_EX_FAST, &r),
		    0);
		assert_int_equal(r, (uint64_t)i * 0x100);
	}
	EXPECT(ex, {0, 0x3ff});
	/* head, tail, then a hole in the middle (a new descriptor) */
	assert_int_equal(iommu_extent_free(ex, 0, 0x10, 0), 0);
	EXPECT(ex, {0x10, 0x3ff});
	assert_int_equal(iommu_extent_free(ex, 0x3f0, 0x10, 0), 0);
	EXPECT(ex, {0x10, 0x3ef});
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x100, 0), 0);
	EXPECT(ex, {0x10, 0xff}, {0x200, 0x3ef});
	/* filling the hole exactly joins both sides into one region */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x100, 0x100, 0), 0);
	EXPECT(ex, {0x10, 0x3ef});
	/* a region touching only the end joins it */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x3f0, 0x10, 0), 0);
	EXPECT(ex, {0x10, 0x3ff});
	assert_int_equal(iommu_extent_free(ex, 0x10, 0x3f0, 0), 0);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);
}

static void
split_without_a_descriptor_fails_cleanly(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_extent	  *ex = NULL;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(
	    iommu_extent_create("x", 0, 0xfff, &tc.tc_ops, NULL, 0, 0, &ex), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0, 0x300, 0), 0);
	test_counting_alloc_fail_after(&tc, 1, 1);
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x100, 0), ENOMEM);
	assert_int_equal(
	    iommu_extent_free(ex, 0x100, 0x100, IOMMU_EX_WAITOK), ENOMEM);
	EXPECT(ex, {0, 0x2ff});
	/* trimming an end needs no descriptor */
	assert_int_equal(iommu_extent_free(ex, 0x200, 0x100, 0), 0);
	/* neither does allocating next to a region */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x200, 0x10, 0), 0);
	/* but a detached region does */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x800, 0x10, 0), ENOMEM);
	EXPECT(ex, {0, 0x20f});
	test_counting_alloc_fail_after(&tc, 0, 0);
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x100, 0), 0);
	EXPECT(ex, {0, 0xff}, {0x200, 0x20f});
	iommu_extent_destroy(ex);
	assert_int_equal(tc.tc_live_blocks, 0);
}

static void
no_coalesce_frees_must_match_exactly(void **state)
{
	struct iommu_extent *ex = mk(0, 0xfff, IOMMU_EX_NOCOALESCE);
	uint64_t	     r;

	(void)state;
	assert_int_equal(iommu_extent_alloc(ex, 0x100, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x100, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, 0x100);
	/* adjacent regions stay apart */
	EXPECT(ex, {0, 0xff}, {0x100, 0x1ff});
	/* the union, a part, or an overhang: none is one allocation */
	assert_int_equal(iommu_extent_free(ex, 0, 0x200, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0, 0x80, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x80, 0x80, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x180, 0x100, 0), EINVAL);
	EXPECT(ex, {0, 0xff}, {0x100, 0x1ff});
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x100, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0, 0x100, 0), 0);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);
}

static void
fixed_storage_sizes_and_exhaustion(void **state)
{
	_Alignas(
	    16) unsigned char storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(3) + 1];
	struct test_counting_alloc tc;
	struct iommu_extent	  *ex = NULL;
	uint64_t		   r;
	int			   i;

	(void)state;
	assert_int_equal(iommu_extent_fixed_storage_size(3),
	    IOMMU_EXTENT_FIXED_STORAGE_SIZE(3));
	assert_int_equal(iommu_extent_fixed_storage_size(SIZE_MAX / 2), 0);
	test_counting_alloc_init(&tc);
	/* misaligned storage still holds 3 descriptors */
	assert_int_equal(
	    iommu_extent_create("fixed", 0, 0xff, &tc.tc_ops, storage + 1,
		IOMMU_EXTENT_FIXED_STORAGE_SIZE(3), IOMMU_EX_NOCOALESCE, &ex),
	    0);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), ENOMEM);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x80, 1, 0), ENOMEM);
	EXPECT(ex, {0, 0xf}, {0x10, 0x1f}, {0x20, 0x2f});
	assert_int_equal(iommu_extent_free(ex, 0x10, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x8, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, 0x10);
	assert_int_equal(tc.tc_calls, 0); /* never touched the allocator */
	iommu_extent_destroy(ex);

	/* MALLOCOK: past the storage, descriptors come from the allocator */
	assert_int_equal(iommu_extent_create("fixed", 0, 0xff, &tc.tc_ops,
			     storage, IOMMU_EXTENT_FIXED_STORAGE_SIZE(1),
			     IOMMU_EX_NOCOALESCE | IOMMU_EX_MALLOCOK, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), 0);
	assert_int_equal(tc.tc_live_blocks, 1);
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), ENOMEM);
	assert_int_equal(iommu_extent_free(ex, 0x10, 0x10, 0), 0);
	assert_int_equal(tc.tc_live_blocks, 0);
	/* destroy hands allocator descriptors back to the allocator */
	test_counting_alloc_fail_after(&tc, 0, 0);
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 1, 0, 0, 0, &r), 0);
	assert_int_equal(tc.tc_live_blocks, 1);
	iommu_extent_destroy(ex);
	assert_int_equal(tc.tc_live_blocks, 0);

	/* no descriptors at all: WAITOK cannot wait forever */
	assert_int_equal(iommu_extent_create("fixed", 0, 0xff, NULL, storage,
			     IOMMU_EXTENT_FIXED_STORAGE_SIZE(0), 0, &ex),
	    0);
	assert_int_equal(
	    iommu_extent_alloc(ex, 0x10, 1, 0, 0, IOMMU_EX_WAITOK, &r), ENOMEM);
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0, 1, IOMMU_EX_WAITOK), ENOMEM);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);

	/* FILLED with fixed storage takes the one descriptor */
	assert_int_equal(
	    iommu_extent_create("fixed", 0, 0xff, NULL, storage,
		IOMMU_EXTENT_FIXED_STORAGE_SIZE(1), IOMMU_EX_FILLED, &ex),
	    0);
	assert_int_equal(iommu_extent_free(ex, 0x10, 0x10, 0), ENOMEM);
	assert_int_equal(iommu_extent_free(ex, 0, 0x10, 0), 0);
	EXPECT(ex, {0x10, 0xff});
	iommu_extent_destroy(ex);
	assert_int_equal(
	    iommu_extent_create("fixed", 0, 0xff, NULL, storage,
		IOMMU_EXTENT_FIXED_STORAGE_SIZE(0), IOMMU_EX_FILLED, &ex),
	    ENOMEM);
}

static void
with_descr_never_allocates(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_extent_region rd[3];
	struct iommu_extent	  *ex = NULL;
	uint64_t		   r[3];
	int			   i;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(iommu_extent_create("descr", 0x1000, 0xffff,
			     &tc.tc_ops, NULL, 0, IOMMU_EX_NOCOALESCE, &ex),
	    0);
	test_counting_alloc_fail_after(&tc, 1, 1);
	for (i = 0; i < 2; i++)
		assert_int_equal(iommu_extent_alloc_with_descr(ex, 0x3000,
				     0x1000, 0, 0, 0, &rd[i], &r[i]),
		    0);
	assert_int_equal(iommu_extent_alloc_subregion_with_descr(ex, 0x8000,
			     0x8fff, 0x800, 0x800, 0, 0, 0, &rd[2], &r[2]),
	    0);
	assert_int_equal(r[0], 0x1000);
	assert_int_equal(r[1], 0x4000);
	assert_int_equal(r[2], 0x8000);
	assert_int_equal(rd[1].er_start, 0x4000);
	assert_int_equal(rd[1].er_end, 0x6fff);
	/* larger than the extent: invalid, whatever the descriptor */
	assert_int_equal(iommu_extent_alloc_with_descr(
			     ex, 0x10000, 1, 0, 0, 0, &rd[0], &r[0]),
	    EINVAL);
	EXPECT(ex, {0x1000, 0x3fff}, {0x4000, 0x6fff}, {0x8000, 0x87ff});
	assert_int_equal(iommu_extent_free(ex, 0x4000, 0x3000, 0), 0);
	EXPECT(ex, {0x1000, 0x3fff}, {0x8000, 0x87ff});
	/* the descriptor is the caller's again: reuse it */
	assert_int_equal(iommu_extent_alloc_with_descr(ex, 0x3000, 0x1000, 0, 0,
			     IOMMU_EX_FAST, &rd[1], &r[1]),
	    0);
	assert_int_equal(r[1], 0x4000);
	assert_int_equal(iommu_extent_alloc_subregion_with_descr(ex, 0x9000,
			     0x9fff, 0x1001, 1, 0, 0, 0, &rd[0], &r[0]),
	    EINVAL);
	assert_int_equal(tc.tc_calls, 1); /* the extent itself only */
	/* destroy with caller descriptors still linked frees nothing of them */
	iommu_extent_destroy(ex);
	assert_int_equal(tc.tc_live_blocks, 0);
}

/* A region leaves its caller descriptor and stays allocated. */
static void
release_descr_keeps_region(void **state)
{
	struct test_counting_alloc tc;
	struct iommu_extent_region rd;
	struct iommu_extent	  *ex = NULL;
	uint64_t		   r;

	(void)state;
	test_counting_alloc_init(&tc);
	assert_int_equal(iommu_extent_create("rel", 0x1000, 0xffff, &tc.tc_ops,
			     NULL, 0, IOMMU_EX_NOCOALESCE, &ex),
	    0);
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x2000, 0x1000, 0, 0, 0, &rd, &r),
	    0);
	/* not exactly a region: nothing moves */
	assert_int_equal(iommu_extent_release_descr(ex, r, 0x1000, 0), EINVAL);
	assert_int_equal(
	    iommu_extent_release_descr(ex, r + 0x1000, 0x1000, 0), EINVAL);
	/* no descriptor to be had: the caller's stays linked */
	test_counting_alloc_fail_after(&tc, 1, 0);
	assert_int_equal(iommu_extent_release_descr(ex, r, 0x2000, 0), ENOMEM);
	assert_int_equal(iommu_extent_release_descr(ex, r, 0x2000, 0), 0);
	/* the caller's storage is free: scribble on it, reuse it */
	memset(&rd, 0x5a, sizeof(rd));
	EXPECT(ex, {0x1000, 0x2fff});
	assert_int_equal(iommu_extent_check(ex), 0);
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x1000, 0x1000, 0, 0, 0, &rd, &r),
	    0);
	assert_int_equal(r, 0x3000);
	/* already the extent's own: nothing to do */
	assert_int_equal(iommu_extent_release_descr(ex, 0x1000, 0x2000, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x1000, 0x2000, 0), 0);
	EXPECT(ex, {0x3000, 0x3fff});
	iommu_extent_destroy(ex);
	assert_int_equal(tc.tc_live_blocks, 0);
}

static void
with_descr_full_extent_is_eagain(void **state)
{
	struct iommu_extent_region rd[2];
	struct iommu_extent	  *ex = mk(0, 0xff, IOMMU_EX_NOCOALESCE);
	uint64_t		   r;

	(void)state;
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0xf0, 1, 0, 0, 0, &rd[0], &r), 0);
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x11, 1, 0, 0, 0, &rd[1], &r),
	    EAGAIN);
	assert_int_equal(iommu_extent_free(ex, 0, 0xf0, 0), 0);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);
}

static void
top_of_the_64_bit_space(void **state)
{
	struct iommu_extent *ex = mk(U64MAX - 0xffff, U64MAX, 0);
	struct iommu_extent *all;
	uint64_t	     r;

	(void)state;
	/* the whole extent, ending at 2^64 - 1 */
	assert_int_equal(iommu_extent_alloc(ex, 0x10000, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, U64MAX - 0xffff);
	EXPECT(ex, {U64MAX - 0xffff, U64MAX});
	assert_int_equal(iommu_extent_free(ex, U64MAX - 0xf, 0x10, 0), 0);
	/* the last 16 units, aligned; a boundary line would be at 2^64 */
	assert_int_equal(iommu_extent_alloc(ex, 0x10, 0x10, 0, 0x10000,
			     IOMMU_EX_BOUNDZERO, &r),
	    0);
	assert_int_equal(r, U64MAX - 0xf);
	assert_int_equal(iommu_extent_free(ex, U64MAX - 0xffff, 0x10000, 0), 0);
	/* aligning past the top wraps: no room, not a wrong answer */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, U64MAX - 0xffff, 1, 0), 0);
	assert_int_equal(
	    iommu_extent_alloc(ex, 1, 0x10000, 0, 0, 0, &r), EAGAIN);
	assert_int_equal(
	    iommu_extent_alloc(ex, 1, (uint64_t)1 << 63, 0, 0, 0, &r), EAGAIN);
	/* skew makes U64MAX itself reachable */
	assert_int_equal(
	    iommu_extent_alloc(ex, 1, 0x10000, 0xffff, 0, 0, &r), 0);
	assert_int_equal(r, U64MAX);
	/* a boundary line just below the top must still be honoured */
	assert_int_equal(
	    iommu_extent_alloc(ex, 0x20, 1, 0, 0x1000, IOMMU_EX_BOUNDZERO, &r),
	    0);
	assert_int_equal(r, U64MAX - 0xffff + 1);
	assert_int_equal(
	    iommu_extent_alloc_subregion(ex, U64MAX - 0x100f, U64MAX - 1, 0x20,
		1, 0, 0x1000, IOMMU_EX_BOUNDZERO | IOMMU_EX_FAST, &r),
	    0);
	assert_int_equal(r, U64MAX - 0xfff); /* moved onto the line */
	assert_int_equal(iommu_extent_alloc_subregion(ex, U64MAX - 0x1f, U64MAX,
			     0x20, 1, 0, 0x20, IOMMU_EX_BOUNDZERO, &r),
	    EAGAIN); /* U64MAX is taken */
	iommu_extent_destroy(ex);

	/* an extent of all 2^64 units */
	all = mk(0, U64MAX, IOMMU_EX_FILLED);
	EXPECT(all, {0, U64MAX});
	assert_int_equal(iommu_extent_free(all, 0, U64MAX, 0), 0);
	EXPECT(all, {U64MAX, U64MAX});
	assert_int_equal(iommu_extent_alloc(all, U64MAX, 1, 0, 0, 0, &r), 0);
	assert_int_equal(r, 0);
	EXPECT(all, {0, U64MAX});
	iommu_extent_destroy(all);
}

static void
conflictok_reservations_nest(void **state)
{
	struct iommu_extent *ex = mk(0, 0xfff, 0);

	(void)state;
	assert_int_equal(iommu_extent_alloc_region(ex, 0x100, 0x100, 0), 0);
	/* without CONFLICTOK an overlap is no room */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x140, 0x40, 0), EAGAIN);
	/* strictly inside: nothing changes (no inverted region) */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x140, 0x40, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0x100, 0x1ff});
	/* the same window again */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x100, 0x100, IOMMU_EX_CONFLICTOK),
	    0);
	EXPECT(ex, {0x100, 0x1ff});
	/* an enclosing window absorbs it */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x80, 0x200, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0x80, 0x27f});
	/* a window over a tail, a gap, a whole region and a head */
	assert_int_equal(iommu_extent_alloc_region(ex, 0x400, 0x10, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x500, 0x100, 0), 0);
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x200, 0x340, IOMMU_EX_CONFLICTOK),
	    0);
	EXPECT(ex, {0x80, 0x5ff});
	/* no overlap: an ordinary reservation */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x800, 0x10, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0x80, 0x5ff}, {0x800, 0x80f});
	assert_int_equal(iommu_extent_free(ex, 0x80, 0x580, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x800, 0x10, 0), 0);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex); /* cmocka fails the test on a leak */
}

static void
conflictok_in_no_coalesce_and_fixed_extents(void **state)
{
	_Alignas(16) unsigned char storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(2)];
	struct iommu_extent_region rd;
	struct iommu_extent	  *ex = NULL;
	uint64_t		   r;

	(void)state;
	assert_int_equal(iommu_extent_create("fixed", 0, 0xfff, NULL, storage,
			     sizeof(storage), IOMMU_EX_NOCOALESCE, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x100, 0x100, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x200, 0x100, 0), 0);
	/* storage exhausted: a nested window reuses an absorbed descriptor */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x180, 0x10, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0x100, 0x1ff}, {0x200, 0x2ff});
	/* spanning both: they become one reservation, one descriptor freed */
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0x1f0, 0x20, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0x100, 0x2ff});
	assert_int_equal(iommu_extent_alloc_region(ex, 0x400, 0x10, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x100, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0x100, 0x200, 0), 0);
	/* a caller descriptor absorbed by a window is unlinked, not reused */
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x10, 1, 0, 0, 0, &rd, &r), 0);
	assert_int_equal(r, 0);
	assert_int_equal(
	    iommu_extent_alloc_region(ex, 0, 0x100, IOMMU_EX_CONFLICTOK), 0);
	EXPECT(ex, {0, 0xff}, {0x400, 0x40f});
	assert_int_equal(iommu_extent_free(ex, 0, 0x10, 0), EINVAL);
	assert_int_equal(iommu_extent_free(ex, 0, 0x100, 0), 0);
	assert_int_equal(iommu_extent_free(ex, 0x400, 0x10, 0), 0);
	EXPECT_EMPTY(ex);
	iommu_extent_destroy(ex);
}

static void
waiting_that_cannot_end_returns(void **state)
{
	struct iommu_extent *ex = mk(0, 0xff, 0);
	uint64_t	     r;

	(void)state;
	/* nothing allocated: waiting for space could never end */
	assert_int_equal(iommu_extent_alloc(ex, 0x20, 0x40, 0x30, 0x40,
			     IOMMU_EX_WAITSPACE, &r),
	    EAGAIN);
	/* space available: WAITSPACE / WAITOK change nothing */
	assert_int_equal(iommu_extent_alloc(ex, 0x20, 1, 0, 0,
			     IOMMU_EX_WAITSPACE | IOMMU_EX_WAITOK, &r),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x20, 0x20,
			     IOMMU_EX_WAITSPACE | IOMMU_EX_WAITOK),
	    0);
	assert_int_equal(iommu_extent_free(ex, 0x10, 0x20, IOMMU_EX_WAITOK), 0);
	EXPECT(ex, {0, 0xf}, {0x30, 0x3f});
	iommu_extent_destroy(ex);
}

static int
count_until(void *arg, uint64_t start, uint64_t end)
{
	int *n = arg;

	(void)start;
	(void)end;
	return ++*n == 2 ? 42 : 0;
}

static void
foreach_stops_on_nonzero(void **state)
{
	struct iommu_extent *ex = mk(0, 0xff, IOMMU_EX_NOCOALESCE);
	int		     n = 0;
	int		     i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    iommu_extent_alloc_region(ex, (uint64_t)i * 0x10, 8, 0), 0);
	assert_int_equal(iommu_extent_foreach(ex, count_until, &n), 42);
	assert_int_equal(n, 2);
	assert_int_equal(iommu_extent_foreach(ex, NULL, &n), EINVAL);
	assert_int_equal(iommu_extent_foreach(NULL, count_until, &n), EINVAL);
	iommu_extent_print(NULL, stderr); /* no-ops, no crash */
	iommu_extent_print(ex, NULL);
	iommu_extent_destroy(ex);
}

static void
print_format_is_stable(void **state)
{
	static const char want[] =
	    "extent \"dev0 iova\" 0x0000000000001000-0x0000ffffffffffff "
	    "flags=nocoalesce regions=2\n"
	    "  0x0000000000001000-0x0000000000003fff size=0x3000\n"
	    "  0x0000000000010000-0x0000000000010000 size=0x1\n"
	    "extent \"this name is longer than 31 cha\" "
	    "0x0000000000000000-0xffffffffffffffff flags=none regions=1\n"
	    "  0x0000000000000000-0xffffffffffffffff size=0x0\n";
	_Alignas(16) unsigned char storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(2)];
	struct iommu_extent	  *ex = NULL, *all = NULL, *fx = NULL;
	char			   buf[1024];
	FILE			  *fp;
	size_t			   n;

	(void)state;
	assert_int_equal(
	    iommu_extent_create("dev0 iova", 0x1000, 0xffffffffffffULL, NULL,
		NULL, 0, IOMMU_EX_NOCOALESCE, &ex),
	    0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x1000, 0x3000, 0), 0);
	assert_int_equal(iommu_extent_alloc_region(ex, 0x10000, 1, 0), 0);
	assert_int_equal(
	    iommu_extent_create("this name is longer than 31 characters", 0,
		U64MAX, NULL, NULL, 0, IOMMU_EX_FILLED, &all),
	    0);
	fp = tmpfile();
	assert_non_null(fp);
	iommu_extent_print(ex, fp);
	iommu_extent_print(all, fp);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf, want);
	iommu_extent_destroy(ex);
	iommu_extent_destroy(all);

	assert_int_equal(iommu_extent_create("f", 0, 0xff, NULL, storage,
			     sizeof(storage), IOMMU_EX_MALLOCOK, &fx),
	    0);
	fp = tmpfile();
	assert_non_null(fp);
	iommu_extent_print(fx, fp);
	rewind(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf,
	    "extent \"f\" 0x0000000000000000-"
	    "0x00000000000000ff flags=fixed,mallocok "
	    "regions=0\n");
	iommu_extent_destroy(fx);
}

static void
check_detects_corruption(void **state)
{
	struct iommu_extent_region rd[2];
	struct iommu_extent	  *ex = mk(0, 0xff, IOMMU_EX_NOCOALESCE);
	uint64_t		   r, save;

	(void)state;
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x10, 1, 0, 0, 0, &rd[0], &r), 0);
	assert_int_equal(
	    iommu_extent_alloc_with_descr(ex, 0x10, 1, 0, 0, 0, &rd[1], &r), 0);
	assert_int_equal(iommu_extent_check(ex), 0);
	save = rd[0].er_end;
	rd[0].er_end = rd[1].er_start; /* overlap */
	assert_int_equal(iommu_extent_check(ex), EINVAL);
	rd[0].er_end = save;
	rd[1].er_end = rd[1].er_start - 1; /* inverted */
	assert_int_equal(iommu_extent_check(ex), EINVAL);
	rd[1].er_end = 0x100; /* outside */
	assert_int_equal(iommu_extent_check(ex), EINVAL);
	rd[1].er_end = 0x1f;
	rd[1].er_next = &rd[0]; /* a cycle */
	assert_int_equal(iommu_extent_check(ex), EINVAL);
	rd[1].er_next = NULL;
	assert_int_equal(iommu_extent_check(ex), 0);
	assert_int_equal(iommu_extent_check(NULL), EINVAL);
	iommu_extent_destroy(ex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_rejects_bad_arguments),
	    cmocka_unit_test(create_fails_cleanly_without_memory),
	    cmocka_unit_test(filled_extent_starts_fully_allocated),
	    cmocka_unit_test(invalid_alloc_arguments_are_einval),
	    cmocka_unit_test(invalid_region_and_free_arguments_are_einval),
	    cmocka_unit_test(alignment_and_skew_place_the_start),
	    cmocka_unit_test(boundary_lines_are_never_crossed),
	    cmocka_unit_test(best_fit_and_first_fit),
	    cmocka_unit_test(coalescing_merges_and_partial_frees_split),
	    cmocka_unit_test(split_without_a_descriptor_fails_cleanly),
	    cmocka_unit_test(no_coalesce_frees_must_match_exactly),
	    cmocka_unit_test(fixed_storage_sizes_and_exhaustion),
	    cmocka_unit_test(with_descr_never_allocates),
	    cmocka_unit_test(with_descr_full_extent_is_eagain),
	    cmocka_unit_test(top_of_the_64_bit_space),
	    cmocka_unit_test(conflictok_reservations_nest),
	    cmocka_unit_test(conflictok_in_no_coalesce_and_fixed_extents),
	    cmocka_unit_test(waiting_that_cannot_end_returns),
	    cmocka_unit_test(release_descr_keeps_region),
	    cmocka_unit_test(foreach_stops_on_nonzero),
	    cmocka_unit_test(print_format_is_stable),
	    cmocka_unit_test(check_detects_corruption),
	};

	return cmocka_run_group_tests_name("extent", tests, NULL, NULL);
}
