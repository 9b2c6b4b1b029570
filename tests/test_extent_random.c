/*
 * Randomized differential test of the extent allocator against a
 * deliberately naive reference: a bitmap of used units, plus (for
 * no-coalesce extents) the list of allocations.  Placement in the
 * reference is brute force over every unit of every free run (all
 * constraints checked directly, best fit = least space left after the
 * region in the clipped run, ties to the lowest address), so it shares no
 * arithmetic with the list walk in src/extent.c.  After every step the
 * extent's regions must equal the reference's and validate.
 *
 * Modes: coalescing and no-coalesce, at the bottom and at the very top of
 * the 64-bit space, with allocator, fixed-storage (exhaustion -> ENOMEM,
 * predicted exactly) and caller-owned descriptors.
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

#define W      1024u /* units in every extent */
#define NFIXED 24u
#define NSTEPS 10000ul

enum descr_mode { D_ALLOC, D_FIXED, D_CALLER };

struct rec {
	uint64_t		    start, end; /* absolute */
	struct iommu_extent_region *descr;	/* caller's, or NULL */
};

struct ref {
	uint64_t	    base; /* absolute address of unit 0 */
	int		    nocoalesce;
	enum descr_mode	    dmode;
	unsigned char	    used[W];
	struct rec	    recs[W]; /* no-coalesce: allocations */
	size_t		    at[W];   /* 1 + index of the rec starting here */
	size_t		    nrecs;
	struct test_regions want, got;
	struct iommu_extent_region  descr_pool[W];
	struct iommu_extent_region *descr_free[W];
	size_t			    ndescr_free;
	unsigned long		    nerr[4]; /* 0, EAGAIN, ENOMEM, EINVAL */
	unsigned long		    nmax_regions;
};

static void
count(struct ref *rf, int err)
{
	rf->nerr[err == 0 ? 0 : err == EAGAIN ? 1 : err == ENOMEM ? 2 : 3]++;
}

static int
is_used(const struct ref *rf, uint64_t a)
{
	return rf->used[a - rf->base];
}

static void
set_used(struct ref *rf, uint64_t s, uint64_t e, int v)
{
	for (;;) {
		rf->used[s - rf->base] = (unsigned char)v;
		if (s == e)
			break;
		s++;
	}
}

/* The regions the extent must hold, in address order. */
static void
ref_regions(struct ref *rf, struct test_regions *out)
{
	size_t	 i, j;
	uint64_t u;

	out->n = 0;
	if (rf->nocoalesce) {
		memset(rf->at, 0, sizeof(rf->at));
		for (j = 0; j < rf->nrecs; j++)
			rf->at[rf->recs[j].start - rf->base] = j + 1;
		for (u = 0; u < W; u++)
			if (rf->at[u] != 0) {
				j = rf->at[u] - 1;
				out->r[out->n].start = rf->recs[j].start;
				out->r[out->n].end = rf->recs[j].end;
				out->n++;
			}
		return;
	}
	for (u = 0; u < W; u = i) {
		if (!rf->used[u]) {
			i = u + 1;
			continue;
		}
		for (i = u; i < W && rf->used[i]; i++)
			continue;
		out->r[out->n].start = rf->base + u;
		out->r[out->n].end = rf->base + i - 1;
		out->n++;
	}
}

static void
compare(struct ref *rf, struct iommu_extent *ex, unsigned long step)
{
	size_t i;

	assert_int_equal(iommu_extent_check(ex), 0);
	ref_regions(rf, &rf->want);
	test_extent_snapshot(ex, &rf->got);
	if (rf->got.n > rf->nmax_regions)
		rf->nmax_regions = rf->got.n;
	if (rf->got.n == rf->want.n &&
	    memcmp(rf->got.r, rf->want.r, rf->got.n * sizeof(rf->got.r[0])) ==
		0)
		return;
	iommu_extent_print(ex, stderr);
	for (i = 0; i < rf->want.n; i++)
		fprintf(stderr, "want 0x%llx-0x%llx\n",
		    (unsigned long long)rf->want.r[i].start,
		    (unsigned long long)rf->want.r[i].end);
	fail_msg("step %lu: extent and reference differ", step);
}

/* Descriptors the library holds in its fixed storage right now. */
static size_t
fixed_in_use(struct ref *rf)
{
	ref_regions(rf, &rf->want);
	return rf->want.n;
}

/* Would [s, e] need a fresh descriptor (no merge with a neighbour)? */
static int
needs_descr(const struct ref *rf, uint64_t s, uint64_t e)
{
	if (rf->nocoalesce)
		return 1;
	if (s > rf->base && is_used(rf, s - 1))
		return 0;
	if (e < rf->base + W - 1 && is_used(rf, e + 1))
		return 0;
	return 1;
}

static int
crosses(uint64_t s, uint64_t e, uint64_t boundary, uint64_t bbase)
{
	return boundary != 0 &&
	    (s - bbase) / boundary != (e - bbase) / boundary;
}

/* Brute-force placement: 0 and *res, or EAGAIN. */
static int
ref_place(const struct ref *rf, uint64_t substart, uint64_t subend,
    uint64_t size, uint64_t align, uint64_t skew, uint64_t boundary, int flags,
    uint64_t *res)
{
	uint64_t lo, hi, s, e, waste, bestwaste = 0, bbase;
	int	 found = 0;

	bbase = (flags & IOMMU_EX_BOUNDZERO) ? 0 : rf->base;
	for (lo = substart; lo <= subend; lo = hi + 1) {
		if (is_used(rf, lo)) {
			hi = lo;
			if (hi == subend)
				break;
			continue;
		}
		for (hi = lo; hi < subend && !is_used(rf, hi + 1); hi++)
			continue;
		for (s = lo; hi - s + 1 >= size; s++) {
			e = s + size - 1;
			if (((s - skew) & (align - 1)) != 0 ||
			    crosses(s, e, boundary, bbase))
				continue;
			waste = hi - e;
			if (!found || waste < bestwaste) {
				found = 1;
				bestwaste = waste;
				*res = s;
			}
			break;
		}
		if (found && (flags & IOMMU_EX_FAST))
			break;
		if (hi == subend)
			break;
	}
	return found ? 0 : EAGAIN;
}

static void
rec_add(struct ref *rf, uint64_t s, uint64_t e, struct iommu_extent_region *d)
{
	set_used(rf, s, e, 1);
	if (!rf->nocoalesce)
		return; /* the bitmap is the whole truth */
	assert_true(rf->nrecs < W);
	rf->recs[rf->nrecs].start = s;
	rf->recs[rf->nrecs].end = e;
	rf->recs[rf->nrecs].descr = d;
	rf->nrecs++;
}

static void
rec_del(struct ref *rf, size_t i)
{
	if (rf->recs[i].descr != NULL)
		rf->descr_free[rf->ndescr_free++] = rf->recs[i].descr;
	set_used(rf, rf->recs[i].start, rf->recs[i].end, 0);
	rf->recs[i] = rf->recs[--rf->nrecs];
}

static uint64_t
pow2_upto(struct test_rng *rng, unsigned maxlog)
{
	return (uint64_t)1 << test_rng_below(rng, maxlog + 1);
}

static void
step_alloc(struct ref *rf, struct iommu_extent *ex, struct test_rng *rng)
{
	uint64_t size, align, skew, boundary, substart, subend, want = 0, got;
	struct iommu_extent_region *d = NULL;
	int			    flags, werr, err;

	size = 1 +
	    (test_rng_below(rng, 4) == 0 ? test_rng_below(rng, 200)
					 : test_rng_below(rng, 24));
	align = pow2_upto(rng, 6);
	skew = test_rng_below(rng, 3) == 0 ? test_rng_next(rng) : 0;
	boundary = 0;
	if (test_rng_below(rng, 2) == 0) {
		boundary = pow2_upto(rng, 9);
		if (boundary < size && test_rng_below(rng, 8) != 0)
			boundary = 0; /* mostly valid */
	}
	substart = rf->base;
	subend = rf->base + W - 1;
	if (test_rng_below(rng, 3) == 0) {
		substart = rf->base + test_rng_below(rng, W);
		subend =
		    substart + test_rng_below(rng, rf->base + W - substart);
	}
	flags = 0;
	if (test_rng_below(rng, 2) == 0)
		flags |= IOMMU_EX_FAST;
	if (test_rng_below(rng, 2) == 0)
		flags |= IOMMU_EX_BOUNDZERO;
	if (rf->dmode == D_CALLER && rf->ndescr_free > 0)
		d = rf->descr_free[rf->ndescr_free - 1];

	if ((boundary != 0 && boundary < size) || size - 1 > subend - substart)
		werr = EINVAL;
	else
		werr = ref_place(rf, substart, subend, size, align, skew,
		    boundary, flags, &want);
	if (werr == 0 && d == NULL && rf->dmode == D_FIXED &&
	    needs_descr(rf, want, want + size - 1) &&
	    fixed_in_use(rf) == NFIXED)
		werr = ENOMEM;

	got = 0;
	if (d != NULL)
		err = iommu_extent_alloc_subregion_with_descr(ex, substart,
		    subend, size, align, skew, boundary, flags, d, &got);
	else
		err = iommu_extent_alloc_subregion(ex, substart, subend, size,
		    align, skew, boundary, flags, &got);
	if (err != werr || (err == 0 && got != want))
		fail_msg("alloc [0x%llx,0x%llx] size %llu align %llu skew %llu "
			 "boundary %llu flags 0x%x: error %d got 0x%llx, "
			 "expected error %d 0x%llx",
		    (unsigned long long)substart, (unsigned long long)subend,
		    (unsigned long long)size, (unsigned long long)align,
		    (unsigned long long)skew, (unsigned long long)boundary,
		    flags, err, (unsigned long long)got, werr,
		    (unsigned long long)want);
	count(rf, err);
	if (err != 0)
		return;
	/* the constraints, restated */
	assert_true(got >= substart && got + size - 1 <= subend);
	assert_int_equal((got - skew) & (align - 1), 0);
	assert_false(crosses(got, got + size - 1, boundary,
	    (flags & IOMMU_EX_BOUNDZERO) ? 0 : rf->base));
	if (d != NULL)
		rf->ndescr_free--;
	rec_add(rf, got, got + size - 1, d);
}

static void
step_region(struct ref *rf, struct iommu_extent *ex, struct test_rng *rng)
{
	uint64_t start, size, end, ns, ne, a;
	size_t	 i;
	int	 conflictok, overlap, reuse, werr, err;

	start = rf->base + test_rng_below(rng, W);
	size = 1 + test_rng_below(rng, test_rng_below(rng, 4) == 0 ? 128 : 16);
	conflictok = test_rng_below(rng, 6) == 0;
	if (size - 1 > rf->base + W - 1 - start) {
		err = iommu_extent_alloc_region(
		    ex, start, size, conflictok ? IOMMU_EX_CONFLICTOK : 0);
		assert_int_equal(err, EINVAL);
		return;
	}
	end = start + size - 1;
	overlap = 0;
	for (a = start;; a++) {
		overlap |= is_used(rf, a);
		if (a == end)
			break;
	}
	/* Absorbed library descriptors are reused; caller ones are not. */
	ns = start;
	ne = end;
	reuse = 0;
	if (rf->nocoalesce) {
		for (i = 0; i < rf->nrecs; i++)
			if (rf->recs[i].start <= end &&
			    rf->recs[i].end >= start) {
				reuse |= rf->recs[i].descr == NULL;
				if (rf->recs[i].start < ns)
					ns = rf->recs[i].start;
				if (rf->recs[i].end > ne)
					ne = rf->recs[i].end;
			}
	} else if (overlap) {
		reuse = 1;
		while (ns > rf->base && is_used(rf, ns - 1))
			ns--;
		while (ne < rf->base + W - 1 && is_used(rf, ne + 1))
			ne++;
	}
	werr = 0;
	if (overlap && !conflictok)
		werr = EAGAIN;
	else if (rf->dmode == D_FIXED && !reuse && needs_descr(rf, ns, ne) &&
	    fixed_in_use(rf) == NFIXED)
		werr = ENOMEM;
	err = iommu_extent_alloc_region(
	    ex, start, size, conflictok ? IOMMU_EX_CONFLICTOK : 0);
	if (err != werr)
		fail_msg("alloc_region 0x%llx+%llu%s: error %d, expected %d",
		    (unsigned long long)start, (unsigned long long)size,
		    conflictok ? " conflictok" : "", err, werr);
	count(rf, err);
	if (err != 0)
		return;
	if (rf->nocoalesce) {
		for (i = rf->nrecs; i-- > 0;)
			if (rf->recs[i].start <= end &&
			    rf->recs[i].end >= start)
				rec_del(rf, i);
		rec_add(rf, ns, ne, NULL);
	} else {
		set_used(rf, start, end, 1);
	}
}

static void
step_free(struct ref *rf, struct iommu_extent *ex, struct test_rng *rng)
{
	uint64_t s, e, rs, re;
	size_t	 i;
	int	 werr, err, bogus;

	bogus = test_rng_below(rng, 8) == 0;
	if (rf->nocoalesce) {
		if (rf->nrecs == 0)
			return;
		i = test_rng_below(rng, rf->nrecs);
		s = rf->recs[i].start;
		e = rf->recs[i].end;
		if (bogus && s < e) {
			/* a part of one allocation is not an allocation */
			err = iommu_extent_free(ex, s + 1, e - s, 0);
			assert_int_equal(err, EINVAL);
			return;
		}
		assert_int_equal(iommu_extent_free(ex, s, e - s + 1, 0), 0);
		rec_del(rf, i);
		return;
	}
	if (bogus) {
		/* any range: EINVAL unless it lies inside one region */
		s = rf->base + test_rng_below(rng, W);
		e = s + test_rng_below(rng, rf->base + W - s);
		werr = 0;
		for (rs = s;; rs++) {
			if (!is_used(rf, rs))
				werr = EINVAL;
			if (rs == e)
				break;
		}
	} else {
		/* a random piece of the region under a random used unit */
		for (i = 0; i < 8; i++) {
			s = rf->base + test_rng_below(rng, W);
			if (is_used(rf, s))
				break;
		}
		if (!is_used(rf, s))
			return;
		for (rs = s; rs > rf->base && is_used(rf, rs - 1); rs--)
			continue;
		for (re = s; re < rf->base + W - 1 && is_used(rf, re + 1); re++)
			continue;
		s = rs + test_rng_below(rng, re - rs + 1);
		e = s + test_rng_below(rng, re - s + 1);
		werr = 0;
	}
	/* splitting a region in the middle takes a descriptor */
	if (werr == 0 && rf->dmode == D_FIXED && s > rf->base &&
	    is_used(rf, s - 1) && e < rf->base + W - 1 && is_used(rf, e + 1) &&
	    fixed_in_use(rf) == NFIXED)
		werr = ENOMEM;
	err = iommu_extent_free(ex, s, e - s + 1, 0);
	if (err != werr)
		fail_msg("free 0x%llx-0x%llx: error %d, expected %d",
		    (unsigned long long)s, (unsigned long long)e, err, werr);
	count(rf, err);
	if (err == 0)
		set_used(rf, s, e, 0);
}

static void
run(uint64_t base, int nocoalesce, enum descr_mode dmode, uint64_t seed)
{
	_Alignas(16) static unsigned char
			     storage[IOMMU_EXTENT_FIXED_STORAGE_SIZE(NFIXED)];
	struct iommu_extent *ex = NULL;
	struct test_rng	     rng;
	struct ref	    *rf;
	unsigned long	     step, nsteps;
	size_t		     i;
	int		     flags;

	rf = calloc(1, sizeof(*rf));
	assert_non_null(rf);
	rf->base = base;
	rf->nocoalesce = nocoalesce;
	rf->dmode = dmode;
	for (i = 0; i < W; i++)
		rf->descr_free[rf->ndescr_free++] = &rf->descr_pool[i];
	flags = nocoalesce ? IOMMU_EX_NOCOALESCE : 0;
	if (dmode == D_FIXED)
		assert_int_equal(
		    iommu_extent_create("random", base, base + W - 1, NULL,
			storage, sizeof(storage), flags, &ex),
		    0);
	else
		assert_int_equal(
		    iommu_extent_create("random", base, base + W - 1,
			test_cmocka_allocator(), NULL, 0, flags, &ex),
		    0);
	test_rng_seed(&rng, seed);
	nsteps = test_scale(NSTEPS);
	for (step = 0; step < nsteps; step++) {
		switch (test_rng_below(&rng, 8)) {
		case 0:
		case 1:
		case 2:
			step_alloc(rf, ex, &rng);
			break;
		case 3:
			step_region(rf, ex, &rng);
			break;
		default:
			step_free(rf, ex, &rng);
			break;
		}
		compare(rf, ex, step);
	}
	/*
	 * A full-length run must have reached every outcome and a crowded
	 * extent (the short Valgrind runs are for memory errors only).
	 */
	if (nsteps == NSTEPS) {
		assert_true(rf->nerr[0] > nsteps / 8);
		assert_true(rf->nerr[1] > 0);
		assert_true(rf->nerr[3] > 0);
		assert_true(rf->nerr[2] > 0 || dmode != D_FIXED);
		assert_true(
		    rf->nmax_regions >= (dmode == D_FIXED ? NFIXED : 20));
	}
	/* give everything back */
	ref_regions(rf, &rf->want);
	for (i = 0; i < rf->want.n; i++)
		assert_int_equal(
		    iommu_extent_free(ex, rf->want.r[i].start,
			rf->want.r[i].end - rf->want.r[i].start + 1, 0),
		    0);
	rf->nrecs = 0;
	memset(rf->used, 0, sizeof(rf->used));
	compare(rf, ex, step);
	iommu_extent_destroy(ex);
	free(rf);
}

#define TOP (UINT64_MAX - W + 1)

static void
coalescing_low(void **state)
{
	(void)state;
	run(0x1000, 0, D_ALLOC, 1);
}

static void
coalescing_top_fixed_storage(void **state)
{
	(void)state;
	run(TOP, 0, D_FIXED, 2);
}

static void
no_coalesce_low_caller_descriptors(void **state)
{
	(void)state;
	run(0x1000, 1, D_CALLER, 3);
}

static void
no_coalesce_top(void **state)
{
	(void)state;
	run(TOP, 1, D_ALLOC, 4);
}

static void
no_coalesce_fixed_storage(void **state)
{
	(void)state;
	run(0, 1, D_FIXED, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(coalescing_low),
	    cmocka_unit_test(coalescing_top_fixed_storage),
	    cmocka_unit_test(no_coalesce_low_caller_descriptors),
	    cmocka_unit_test(no_coalesce_top),
	    cmocka_unit_test(no_coalesce_fixed_storage),
	};

	return cmocka_run_group_tests_name("extent_random", tests, NULL, NULL);
}
