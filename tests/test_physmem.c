/*
 * Tests of simulated physical memory: creation limits, lazy host backing
 * of several GiB, the frame allocator (contiguous runs, ENOMEM, free
 * errors, accounting, fault injection, threads), scattered buffers that
 * alias the direct map, pmap_extract, and PA-side access through the
 * mem ops and the little-endian helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommu/physmem.h>

#include "test_alloc.h"

#define BASE   0x80000000ull
#define PG     IOMMU_PAGE_SIZE
#define GIB    (1ull << 30)
#define NPAGES 64

struct fixture {
	struct iommu_physmem *pm;
};

static int
setup_small(void **state)
{
	static struct fixture f;

	if (iommu_physmem_create(
		BASE, NPAGES * PG, test_cmocka_allocator(), &f.pm) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	iommu_physmem_destroy(f->pm);
	return 0;
}

static struct iommu_physmem *
pm_of(void **state)
{
	return ((struct fixture *)*state)->pm;
}

/* Resident set size in bytes, from /proc/self/statm (0 if unknown). */
static uint64_t
rss_bytes(void)
{
	unsigned long size, resident = 0;
	FILE	     *fp = fopen("/proc/self/statm", "r");

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(fp);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
create_rejects_bad_geometry(void **state)
{
	struct iommu_physmem *pm = NULL;

	(void)state;
	assert_int_equal(iommu_physmem_create(BASE + 1, PG, NULL, &pm), EINVAL);
	assert_int_equal(iommu_physmem_create(BASE, PG + 8, NULL, &pm), EINVAL);
	assert_int_equal(iommu_physmem_create(BASE, 0, NULL, &pm), EINVAL);
	assert_int_equal(
	    iommu_physmem_create(UINT64_MAX - PG + 1, 2 * PG, NULL, &pm),
	    EINVAL);
	assert_int_equal(iommu_physmem_create(BASE, PG, NULL, NULL), EINVAL);
	assert_null(pm);
	/* The very last page of the address space is fine. */
	assert_int_equal(
	    iommu_physmem_create(UINT64_MAX - PG + 1, PG, NULL, &pm), 0);
	assert_non_null(iommu_physmem_kva(pm, UINT64_MAX - 7));
	iommu_physmem_destroy(pm);
}

static void
several_gib_cost_no_host_memory(void **state)
{
	struct iommu_physmem	  *pm;
	struct iommu_physmem_stats st;
	uint64_t		   before, after, pa, v;
	uint64_t		   size = 8 * GIB;

	(void)state;
	before = rss_bytes();
	assert_int_equal(
	    iommu_physmem_create(BASE, size, test_cmocka_allocator(), &pm), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_total, size / PG);
	/* Touch the first and the last page only. */
	assert_int_equal(iommu_physmem_write64(pm, BASE, 1), 0);
	assert_int_equal(iommu_physmem_write64(pm, BASE + size - 8, 2), 0);
	assert_int_equal(iommu_physmem_read64(pm, BASE + size - 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa), 0);
	after = rss_bytes();
	/* Bitmaps (2 x 256 KiB) plus the touched pages, far below 8 GiB. */
	if (before != 0)
		assert_true(after < before + 16 * (1u << 20));
	iommu_physmem_destroy(pm);
}

static void
contiguous_runs_are_aligned_disjoint_and_zeroed(void **state)
{
	struct iommu_physmem *pm = pm_of(state);
	uint64_t	      a, b, c, v;
	uint8_t		     *p;
	size_t		      i;

	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &a), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 3, &b), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 8, &c), 0);
	assert_int_equal(a & (PG - 1), 0);
	assert_int_equal(b & (PG - 1), 0);
	assert_int_equal(c & (PG - 1), 0);
	assert_true(a >= BASE && c + 8 * PG <= BASE + NPAGES * PG);
	assert_true(a + PG <= b && b + 3 * PG <= c);
	/* Dirty the run, free it, allocate it again: zeroed. */
	p = iommu_physmem_kva(pm, b);
	assert_non_null(p);
	memset(p, 0xa5, 3 * PG);
	assert_int_equal(iommu_physmem_free_pages(pm, b, 3), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 3, &b), 0);
	for (i = 0; i < 3 * PG; i += 8) {
		assert_int_equal(iommu_physmem_read64(pm, b + i, &v), 0);
		assert_int_equal(v, 0);
	}
	/* A run is physically contiguous in the direct map too. */
	assert_ptr_equal(iommu_physmem_kva(pm, b + 2 * PG),
	    (uint8_t *)iommu_physmem_kva(pm, b) + 2 * PG);
	assert_int_equal(iommu_physmem_free_pages(pm, a, 1), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, b, 3), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, c, 8), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 0, &a), EINVAL);
}

static void
exhaustion_and_fragmentation_give_enomem(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	uint64_t		   pa[NPAGES], x;
	size_t			   i;

	for (i = 0; i < NPAGES; i++)
		assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[i]), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &x), ENOMEM);
	/* Two free frames, not adjacent: no run of two. */
	assert_int_equal(iommu_physmem_free_pages(pm, pa[10], 1), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, pa[20], 1), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 2, &x), ENOMEM);
	assert_int_equal(iommu_physmem_alloc_pages(pm, NPAGES + 1, &x), ENOMEM);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &x), 0);
	assert_int_equal(x, pa[10]); /* lowest first fit */
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_alloc_failures, 3);
	assert_int_equal(st.ps_frames_in_use, NPAGES - 1);
	for (i = 0; i < NPAGES; i++)
		if (i != 20)
			assert_int_equal(
			    iommu_physmem_free_pages(pm, pa[i], 1), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 0);
}

static void
free_rejects_what_was_not_allocated(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	uint64_t		   pa;

	assert_int_equal(iommu_physmem_alloc_pages(pm, 4, &pa), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, pa + 8, 1), EINVAL);
	assert_int_equal(iommu_physmem_free_pages(pm, pa, 0), EINVAL);
	assert_int_equal(iommu_physmem_free_pages(pm, BASE - PG, 1), EINVAL);
	assert_int_equal(
	    iommu_physmem_free_pages(pm, BASE + NPAGES * PG, 1), EINVAL);
	assert_int_equal(
	    iommu_physmem_free_pages(pm, BASE + (NPAGES - 1) * PG, 2), EINVAL);
	/* Runs past the allocation: nothing is freed. */
	assert_int_equal(iommu_physmem_free_pages(pm, pa, 5), EINVAL);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 4);
	/* Partial frees are fine; freeing twice is not. */
	assert_int_equal(iommu_physmem_free_pages(pm, pa + PG, 2), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, pa + PG, 1), EINVAL);
	assert_int_equal(iommu_physmem_free_pages(pm, pa, 1), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, pa + 3 * PG, 1), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 0);
}

static void
scattered_buffer_is_non_adjacent_and_aliases(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	uint64_t		   pa[8], x, blocker;
	uint8_t			  *kva, buf[16];
	size_t			   i, j;

	/* Start from a fragmented state so placement is not trivial. */
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &blocker), 0);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, 8, (void **)&kva), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(
		    iommu_physmem_extract(pm, kva + i * PG + 5, &pa[i]), 0);
		assert_int_equal(pa[i] & (PG - 1), 5);
		pa[i] -= 5;
		assert_true(pa[i] >= BASE && pa[i] < BASE + NPAGES * PG);
		assert_true(pa[i] != blocker);
		for (j = 0; j < i; j++)
			assert_true(pa[j] != pa[i]);
		if (i > 0) {
			assert_true(pa[i] != pa[i - 1] + PG);
			assert_true(pa[i] + PG != pa[i - 1]);
		}
	}
	/* Zeroed; driver writes through kva, device reads by PA. */
	for (i = 0; i < 8 * PG; i++)
		assert_int_equal(kva[i], 0);
	memcpy(kva + 3 * PG + 100, "scattered-bytes", 16);
	assert_int_equal(iommu_physmem_read(pm, pa[3] + 100, buf, 16), 0);
	assert_memory_equal(buf, "scattered-bytes", 16);
	/* And the other way round, plus the direct map view. */
	assert_int_equal(
	    iommu_physmem_write64(pm, pa[7] + 8, 0x1122334455667788ull), 0);
	assert_int_equal(kva[7 * PG + 8], 0x88);
	assert_int_equal(kva[7 * PG + 15], 0x11);
	assert_ptr_not_equal(iommu_physmem_kva(pm, pa[7]), kva + 7 * PG);
	assert_int_equal(((uint8_t *)iommu_physmem_kva(pm, pa[7]))[8], 0x88);
	/* Its frames belong to the buffer, not to free_pages. */
	assert_int_equal(iommu_physmem_free_pages(pm, pa[2], 1), EINVAL);
	assert_int_equal(iommu_physmem_free_scattered(pm, kva + PG), EINVAL);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 9);
	assert_int_equal(iommu_physmem_free_scattered(pm, kva), 0);
	assert_int_equal(iommu_physmem_extract(pm, kva, &x), EFAULT);
	assert_int_equal(iommu_physmem_free_scattered(pm, kva), EINVAL);
	assert_int_equal(iommu_physmem_free_pages(pm, blocker, 1), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 0);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, 0, (void **)&kva), EINVAL);
}

static void
scattered_buffers_coexist_and_fail_cleanly(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	void			  *b[4];
	uint64_t		   pa, pb;
	size_t			   i;

	for (i = 0; i < 4; i++)
		assert_int_equal(
		    iommu_physmem_alloc_scattered(pm, 5, &b[i]), 0);
	/* Lookups in each buffer hit the right one. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(iommu_physmem_extract(pm, b[i], &pa), 0);
		assert_int_equal(iommu_physmem_extract(pm,
				     (uint8_t *)b[i] + 4 * PG + PG - 1, &pb),
		    0);
		assert_int_equal(pb & (PG - 1), PG - 1);
	}
	/* Not enough frames left for 64 more: ENOMEM, nothing taken. */
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, NPAGES, &b[0]) == ENOMEM, 1);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 20);
	/* Free in a different order than allocated. */
	assert_int_equal(iommu_physmem_free_scattered(pm, b[2]), 0);
	assert_int_equal(iommu_physmem_free_scattered(pm, b[0]), 0);
	assert_int_equal(iommu_physmem_free_scattered(pm, b[3]), 0);
	assert_int_equal(iommu_physmem_extract(pm, b[1], &pa), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 5);
	assert_int_equal(iommu_physmem_free_scattered(pm, b[1]), 0);
}

static void
instances_are_independent(void **state)
{
	struct iommu_physmem *a, *b;
	uint64_t	      pa, pb, v;

	(void)state;
	/* Same PA range twice: two machines, two RAMs. */
	assert_int_equal(iommu_physmem_create(BASE, 4 * PG, NULL, &a), 0);
	assert_int_equal(iommu_physmem_create(BASE, 4 * PG, NULL, &b), 0);
	assert_int_equal(iommu_physmem_base(a), BASE);
	assert_int_equal(iommu_physmem_size(b), 4 * PG);
	assert_int_equal(iommu_physmem_size(NULL), 0);
	assert_int_equal(iommu_physmem_alloc_pages(a, 1, &pa), 0);
	assert_int_equal(iommu_physmem_alloc_pages(b, 1, &pb), 0);
	assert_int_equal(pa, pb);
	assert_int_equal(iommu_physmem_write64(a, pa, 1), 0);
	assert_int_equal(iommu_physmem_write64(b, pb, 2), 0);
	assert_int_equal(iommu_physmem_read64(a, pa, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(
	    iommu_physmem_extract(a, iommu_physmem_kva(b, pb), &v), EFAULT);
	iommu_physmem_destroy(a);
	assert_int_equal(iommu_physmem_read64(b, pb, &v), 0);
	assert_int_equal(v, 2);
	iommu_physmem_destroy(b);
}

static void
destroy_reclaims_everything_still_held(void **state)
{
	struct iommu_physmem *pm;
	uint64_t	      pa;
	void		     *s;
	int		      i;

	(void)state;
	/* cmocka's allocator fails the test if destroy leaks a block. */
	assert_int_equal(iommu_physmem_create(
			     BASE, NPAGES * PG, test_cmocka_allocator(), &pm),
	    0);
	for (i = 0; i < 10; i++)
		assert_int_equal(iommu_physmem_alloc_scattered(pm, 2, &s), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 3, &pa), 0);
	iommu_physmem_destroy(pm);
	iommu_physmem_destroy(NULL);
}

/* Leaves exactly the frames listed free (pa[] gets every frame). */
static void
leave_free(struct iommu_physmem *pm, uint64_t *pa, const int *keep, int nkeep)
{
	int i;

	for (i = 0; i < NPAGES; i++)
		assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[i]), 0);
	for (i = 0; i < nkeep; i++)
		assert_int_equal(
		    iommu_physmem_free_pages(pm, pa[keep[i]], 1), 0);
}

static void
free_all_but(struct iommu_physmem *pm, uint64_t *pa, const int *keep, int nkeep)
{
	int i, j;

	for (i = 0; i < NPAGES; i++) {
		for (j = 0; j < nkeep; j++)
			if (keep[j] == i)
				break;
		if (j == nkeep)
			assert_int_equal(
			    iommu_physmem_free_pages(pm, pa[i], 1), 0);
	}
}

static void
scattered_placement_wraps_but_never_goes_adjacent(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	static const int wrap[] = {5, 6, 20}, tight[] = {10, 11, 12, 13};
	uint64_t	 pa[NPAGES], got[3];
	uint8_t		*kva;
	int		 i;

	/* Free 5, 6, 20: 5, then 20 (after a gap), then wrap back to 6. */
	leave_free(pm, pa, wrap, 3);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, 3, (void **)&kva), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    iommu_physmem_extract(pm, kva + i * PG, &got[i]), 0);
	assert_int_equal(got[0], pa[5]);
	assert_int_equal(got[1], pa[20]);
	assert_int_equal(got[2], pa[6]);
	assert_int_equal(iommu_physmem_free_scattered(pm, kva), 0);
	free_all_but(pm, pa, wrap, 3);
	/* Free 10..13 only: every choice for a third page is adjacent. */
	leave_free(pm, pa, tight, 4);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, 3, (void **)&kva), ENOMEM);
	assert_int_equal(
	    iommu_physmem_alloc_scattered(pm, 2, (void **)&kva), 0);
	assert_int_equal(iommu_physmem_extract(pm, kva + PG, &got[1]), 0);
	assert_int_equal(got[1], pa[12]);
	assert_int_equal(iommu_physmem_free_scattered(pm, kva), 0);
	free_all_but(pm, pa, tight, 4);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 0);
}

static void
first_fit_reuses_holes_and_respects_the_end(void **state)
{
	struct iommu_physmem *pm = pm_of(state);
	uint64_t	      a[4], run, one, x;
	int		      i;

	for (i = 0; i < 4; i++)
		assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &a[i]), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, a[1], 1), 0);
	/* A run of two does not fit the hole; it goes after frame 3... */
	assert_int_equal(iommu_physmem_alloc_pages(pm, 2, &run), 0);
	assert_int_equal(run, BASE + 4 * PG);
	/* ...and the hole is still found by the next single frame. */
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &one), 0);
	assert_int_equal(one, a[1]);
	/* Runs may not extend past the end of RAM. */
	assert_int_equal(iommu_physmem_alloc_pages(pm, NPAGES - 8, &x), 0);
	assert_int_equal(x, BASE + 6 * PG);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 3, &x), ENOMEM);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 2, &x), 0);
	assert_int_equal(x, BASE + (NPAGES - 2) * PG);
	assert_int_equal(iommu_physmem_free_pages(pm, BASE, NPAGES), 0);
}

static void
aligned_runs_honour_alignment_of_the_pa(void **state)
{
	struct iommu_physmem *pm;
	uint64_t	      one, a, b, c;
	uint64_t	      base = BASE + 3 * PG; /* not 16 KiB aligned */

	(void)state;
	assert_int_equal(iommu_physmem_create(
			     base, NPAGES * PG, test_cmocka_allocator(), &pm),
	    0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &one), 0);
	assert_int_equal(one, base);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 4, 4 * PG, &a), 0);
	assert_int_equal(a, BASE + 4 * PG);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 2, 16 * PG, &b), 0);
	assert_int_equal(b, BASE + 16 * PG);
	/* The hole between the aligned runs is still first fit. */
	assert_int_equal(iommu_physmem_alloc_pages_aligned(pm, 1, 0, &c), 0);
	assert_int_equal(c, BASE + 8 * PG);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 1, 1ull << 40, &c), ENOMEM);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 1, 3 * PG, &c), EINVAL);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 0, PG, &c), EINVAL);
	/* A run that would fit unaligned but not aligned: ENOMEM. */
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 32, 64 * PG, &c), ENOMEM);
	assert_int_equal(
	    iommu_physmem_alloc_pages_aligned(pm, 32, 16 * PG, &c), 0);
	assert_int_equal(c, BASE + 32 * PG);
	iommu_physmem_destroy(pm);
}

static void
runs_stop_at_a_ram_size_that_is_not_a_bitmap_word(void **state)
{
	struct iommu_physmem *pm;
	uint64_t	      x, y;

	(void)state;
	/* 60 frames: the bitmap word has 4 bits past the end of RAM. */
	assert_int_equal(
	    iommu_physmem_create(BASE, 60 * PG, test_cmocka_allocator(), &pm),
	    0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 57, &x), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 4, &y), ENOMEM);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 3, &y), 0);
	assert_int_equal(y, BASE + 57 * PG);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &y), ENOMEM);
	assert_int_equal(
	    iommu_physmem_free_pages(pm, BASE + 59 * PG, 2), EINVAL);
	iommu_physmem_destroy(pm);
}

static void
extract_and_kva_round_trip(void **state)
{
	struct iommu_physmem *pm = pm_of(state);
	uint64_t	      pa, got;
	uint8_t		     *kva;
	int		      local;

	assert_int_equal(iommu_physmem_alloc_pages(pm, 2, &pa), 0);
	kva = iommu_physmem_kva(pm, pa + 123);
	assert_non_null(kva);
	assert_int_equal(iommu_physmem_extract(pm, kva, &got), 0);
	assert_int_equal(got, pa + 123);
	assert_int_equal(iommu_physmem_extract(pm, kva + PG, &got), 0);
	assert_int_equal(got, pa + PG + 123);
	assert_int_equal(iommu_physmem_extract(pm, &local, &got), EFAULT);
	assert_int_equal(iommu_physmem_extract(pm, NULL, &got), EFAULT);
	assert_null(iommu_physmem_kva(pm, BASE - 1));
	assert_null(iommu_physmem_kva(pm, BASE + NPAGES * PG));
	assert_non_null(iommu_physmem_kva(pm, BASE + NPAGES * PG - 1));
	assert_int_equal(iommu_physmem_free_pages(pm, pa, 2), 0);
}

static void
pa_access_out_of_range_is_efault_and_all_or_nothing(void **state)
{
	struct iommu_physmem *pm = pm_of(state);
	struct iommu_mem_ops  ops;
	uint8_t		      buf[32], zero[32];
	uint64_t	      end = BASE + NPAGES * PG;

	iommu_physmem_mem_ops(pm, &ops);
	assert_ptr_equal(ops.mo_cookie, pm);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(ops.mo_write(ops.mo_cookie, end - 32, buf, 32), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ops.mo_read(ops.mo_cookie, end - 32, buf, 32), 0);
	assert_int_equal(buf[31], 0x5a);
	/* Straddling the end: EFAULT and nothing transferred. */
	memset(buf, 0, sizeof(buf));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(ops.mo_read(ops.mo_cookie, end - 16, buf, 32), EFAULT);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(
	    ops.mo_write(ops.mo_cookie, end - 16, zero, 32), EFAULT);
	assert_int_equal(ops.mo_read(ops.mo_cookie, end - 16, buf, 16), 0);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(ops.mo_read(ops.mo_cookie, BASE - 1, buf, 2), EFAULT);
	assert_int_equal(ops.mo_write(ops.mo_cookie, end, buf, 1), EFAULT);
	assert_int_equal(
	    ops.mo_read(ops.mo_cookie, UINT64_MAX - 3, buf, 8), EFAULT);
	assert_int_equal(ops.mo_read(ops.mo_cookie, end, buf, 0), EFAULT);
	assert_int_equal(ops.mo_read(ops.mo_cookie, BASE, buf, 0), 0);
}

static void
le64_helpers_are_little_endian_and_checked(void **state)
{
	struct iommu_physmem *pm = pm_of(state);
	const uint8_t le[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
	uint8_t	      raw[8];
	uint64_t      v;

	assert_int_equal(
	    iommu_physmem_write64(pm, BASE + 64, 0x0123456789abcdefull), 0);
	assert_int_equal(iommu_physmem_read(pm, BASE + 64, raw, 8), 0);
	assert_memory_equal(raw, le, 8);
	assert_int_equal(iommu_physmem_write(pm, BASE + 72, le, 8), 0);
	assert_int_equal(iommu_physmem_read64(pm, BASE + 72, &v), 0);
	assert_int_equal(v, 0x0123456789abcdefull);
	assert_int_equal(iommu_physmem_read64(pm, BASE + 4, &v), EINVAL);
	assert_int_equal(iommu_physmem_write64(pm, BASE + 1, 0), EINVAL);
	assert_int_equal(
	    iommu_physmem_read64(pm, BASE + NPAGES * PG, &v), EFAULT);
	assert_int_equal(iommu_physmem_write64(pm, BASE - 8, 0), EFAULT);
}

static void
accounting_tracks_use_and_high_water(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	uint64_t		   a, b;
	void			  *s;

	assert_int_equal(iommu_physmem_alloc_pages(pm, 5, &a), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 7, &b), 0);
	assert_int_equal(iommu_physmem_alloc_scattered(pm, 3, &s), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_total, NPAGES);
	assert_int_equal(st.ps_frames_in_use, 15);
	assert_int_equal(st.ps_frames_hwm, 15);
	assert_int_equal(st.ps_allocs, 3);
	assert_int_equal(st.ps_alloc_failures, 0);
	assert_int_equal(iommu_physmem_free_pages(pm, b, 7), 0);
	assert_int_equal(iommu_physmem_free_scattered(pm, s), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 2, &b), 0);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 7);
	assert_int_equal(st.ps_frames_hwm, 15);
	assert_int_equal(st.ps_allocs, 4);
	assert_int_equal(iommu_physmem_free_pages(pm, a, 5), 0);
	assert_int_equal(iommu_physmem_free_pages(pm, b, 2), 0);
}

static void
fault_injection_fails_exactly_the_nth_alloc(void **state)
{
	struct iommu_physmem	  *pm = pm_of(state);
	struct iommu_physmem_stats st;
	uint64_t		   pa[4];
	void			  *s;

	iommu_physmem_fail_alloc_after(pm, 3);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[0]), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[1]), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[2]), ENOMEM);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[2]), 0);
	iommu_physmem_fail_alloc_after(pm, 1);
	assert_int_equal(iommu_physmem_alloc_scattered(pm, 2, &s), ENOMEM);
	iommu_physmem_fail_alloc_after(pm, 2);
	iommu_physmem_fail_alloc_after(pm, 0); /* disarmed */
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[3]), 0);
	assert_int_equal(iommu_physmem_alloc_pages(pm, 1, &pa[3]) == 0, 1);
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_alloc_failures, 2);
	assert_int_equal(st.ps_frames_in_use, 5);
}

struct hammer_arg {
	struct iommu_physmem *pm;
	unsigned	      id;
	unsigned long	      iters;
	int		      bad;
};

/* A scattered buffer: stamp through kva, check through each PA. */
static int
hammer_scattered(struct hammer_arg *h)
{
	uint64_t *kva, pa, v;
	size_t	  i;
	int	  bad = 0;

	if (iommu_physmem_alloc_scattered(h->pm, 3, (void **)&kva) != 0)
		return 1;
	for (i = 0; i < 3; i++)
		kva[i * PG / 8] = h->id * 100 + i;
	for (i = 0; i < 3; i++) {
		if (iommu_physmem_extract(h->pm, &kva[i * PG / 8], &pa) != 0 ||
		    iommu_physmem_read64(h->pm, pa, &v) != 0 ||
		    v != h->id * 100 + i)
			bad = 1;
	}
	if (iommu_physmem_free_scattered(h->pm, kva) != 0)
		bad = 1;
	return bad;
}

/* Each thread stamps its frames and checks nobody else got them. */
static void *
hammer_frames(void *arg)
{
	struct hammer_arg *h = arg;
	uint64_t	   pa[4], v;
	unsigned long	   it;
	size_t		   i;

	for (it = 0; it < h->iters; it++) {
		for (i = 0; i < 4; i++) {
			if (iommu_physmem_alloc_pages(
				h->pm, 1 + i % 2, &pa[i]) != 0) {
				h->bad++;
				return NULL;
			}
			iommu_physmem_write64(h->pm, pa[i], h->id);
		}
		for (i = 0; i < 4; i++) {
			iommu_physmem_read64(h->pm, pa[i], &v);
			if (v != h->id)
				h->bad++;
			iommu_physmem_free_pages(h->pm, pa[i], 1 + i % 2);
		}
		if (it % 16 == 0 && hammer_scattered(h) != 0)
			h->bad++;
	}
	return NULL;
}

static void
frame_allocator_is_thread_safe(void **state)
{
	struct iommu_physmem	  *pm;
	struct iommu_physmem_stats st;
	struct hammer_arg	   h[4];
	pthread_t		   t[4];
	unsigned		   i;

	(void)state;
	assert_int_equal(iommu_physmem_create(BASE, 256 * PG, NULL, &pm), 0);
	for (i = 0; i < 4; i++) {
		h[i] = (struct hammer_arg){pm, i + 1, test_scale(2000), 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, hammer_frames, &h[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].bad, 0);
	}
	iommu_physmem_get_stats(pm, &st);
	assert_int_equal(st.ps_frames_in_use, 0);
	/* 6 frames per thread, or 3 while a scattered buffer is out. */
	assert_true(st.ps_frames_hwm <= 24);
	iommu_physmem_destroy(pm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_rejects_bad_geometry),
	    cmocka_unit_test(several_gib_cost_no_host_memory),
	    cmocka_unit_test_setup_teardown(
		contiguous_runs_are_aligned_disjoint_and_zeroed, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		exhaustion_and_fragmentation_give_enomem, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		free_rejects_what_was_not_allocated, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(
		scattered_buffer_is_non_adjacent_and_aliases, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		scattered_buffers_coexist_and_fail_cleanly, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		scattered_placement_wraps_but_never_goes_adjacent, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		first_fit_reuses_holes_and_respects_the_end, setup_small,
		teardown),
	    cmocka_unit_test(runs_stop_at_a_ram_size_that_is_not_a_bitmap_word),
	    cmocka_unit_test(aligned_runs_honour_alignment_of_the_pa),
	    cmocka_unit_test_setup_teardown(
		extract_and_kva_round_trip, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(
		pa_access_out_of_range_is_efault_and_all_or_nothing,
		setup_small, teardown),
	    cmocka_unit_test_setup_teardown(
		le64_helpers_are_little_endian_and_checked, setup_small,
		teardown),
	    cmocka_unit_test_setup_teardown(
		accounting_tracks_use_and_high_water, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(
		fault_injection_fails_exactly_the_nth_alloc, setup_small,
		teardown),
	    cmocka_unit_test(destroy_reclaims_everything_still_held),
	    cmocka_unit_test(instances_are_independent),
	    cmocka_unit_test(frame_allocator_is_thread_safe),
	};

	return cmocka_run_group_tests_name("physmem", tests, NULL, NULL);
}
