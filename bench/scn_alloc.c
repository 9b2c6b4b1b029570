/*
 * iommu-bench - the "alloc" scenario: the IOVA allocator alone.
 *
 * An alloc+free pair (1 page, or 3 pages) with N ranges already
 * outstanding, in two orders:
 *   lifo  allocate, then free what was just allocated (the N stay put);
 *   fifo  a ring of N slots: free the oldest slot, allocate into it.
 * for two allocators:
 *   extent    the sorted-list extent, no-coalesce, caller-provided region
 *             descriptors (the seed's hot path: iommu_extent_*_with_descr);
 *   magazine  the per-thread magazine cache in front of such an extent.
 * Both cover a byte-addressed 64 GiB IOVA space with page alignment, as a
 * domain's arena does.  For the magazine cache the report also gives the
 * IOVA it holds for rounding (3 pages take 4).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommu/extent.h>
#include <iommu/iova_magazine.h>

#include "bench.h"

#define PAGE	  4096u
#define IOVA_BASE ((uint64_t)PAGE)
#define IOVA_END  (((uint64_t)1 << 36) - 1)

struct alloc_ctx {
	struct iommu_extent	   *ex;
	struct iommu_iova_magazine *mg;
	struct iommu_extent_region *descr; /* n + 1 */
	uint64_t		   *iova;  /* n + 1 */
	unsigned long		    n, next;
	uint64_t		    size;
	bool			    fifo;
	int			    failed;
};

static int
do_alloc(struct alloc_ctx *c, unsigned long slot)
{
	if (c->mg != NULL)
		return iommu_iova_magazine_alloc(
		    c->mg, c->size, &c->iova[slot]);
	return iommu_extent_alloc_with_descr(c->ex, c->size, PAGE, 0,
	    IOMMU_EX_NOBOUNDARY, IOMMU_EX_NOWAIT, &c->descr[slot],
	    &c->iova[slot]);
}

static int
do_free(struct alloc_ctx *c, unsigned long slot)
{
	if (c->mg != NULL)
		return iommu_iova_magazine_free(c->mg, c->iova[slot], c->size);
	return iommu_extent_free(
	    c->ex, c->iova[slot], c->size, IOMMU_EX_NOWAIT);
}

static void
run_pairs(void *arg, uint64_t iters)
{
	struct alloc_ctx *c = arg;
	uint64_t	  i;
	unsigned long	  slot;

	for (i = 0; i < iters; i++) {
		if (c->fifo && c->n > 0) {
			slot = c->next;
			if (++c->next == c->n)
				c->next = 0;
			c->failed |= do_free(c, slot);
			c->failed |= do_alloc(c, slot);
		} else {
			c->failed |= do_alloc(c, c->n);
			c->failed |= do_free(c, c->n);
		}
	}
}

static int
one_case(const struct bench_opts *o, struct bench_report *rep, bool magazine,
    bool fifo, unsigned pages, unsigned long n)
{
	struct iommu_iova_magazine_config cfg;
	struct iommu_iova_magazine_stats  st;
	struct alloc_ctx		  c;
	struct bench_result		  res;
	struct bench_row		  row;
	char				  variant[24];
	unsigned long			  i;
	uint64_t			  max_iters;
	int				  error;

	memset(&c, 0, sizeof(c));
	c.n = n;
	c.fifo = fifo;
	c.size = (uint64_t)pages * PAGE;
	c.descr = calloc(n + 1, sizeof(*c.descr));
	c.iova = calloc(n + 1, sizeof(*c.iova));
	if (c.descr == NULL || c.iova == NULL)
		return ENOMEM;
	error = iommu_extent_create("bench", IOVA_BASE, IOVA_END, NULL, NULL, 0,
	    IOMMU_EX_NOCOALESCE, &c.ex);
	if (error == 0 && magazine) {
		iommu_iova_magazine_config_init(&cfg);
		error = iommu_iova_magazine_create(c.ex, &cfg, &c.mg);
	}
	for (i = 0; error == 0 && i < n; i++)
		error = do_alloc(&c, i);
	if (error != 0) {
		fprintf(
		    stderr, "iommu-bench: alloc setup: %s\n", strerror(error));
		goto out;
	}
	snprintf(
	    variant, sizeof(variant), "%s-%up", fifo ? "fifo" : "lifo", pages);
	bench_progress(
	    "alloc %s %s N=%lu", variant, magazine ? "magazine" : "extent", n);
	/* Keep the slowest cases (tens of us per pair) bounded in time. */
	max_iters =
	    n >= 4096 && !magazine ? (o->quick ? 64 : 2048) : UINT64_MAX;
	bench_measure(o, run_pairs, &c, 1, max_iters, &res);
	if (c.failed) {
		fprintf(stderr, "iommu-bench: alloc pair failed\n");
		error = EIO;
		goto out;
	}
	bench_row_init(&row, "alloc", variant, magazine ? "magazine" : "extent",
	    n, "pair");
	bench_result_to_row(&res, &row);
	if (c.mg != NULL) {
		iommu_iova_magazine_get_stats(c.mg, &st);
		/* ratio: hit rate of the cache over the whole run. */
		row.ratio =
		    st.ms_allocs ? (double)st.ms_hits / st.ms_allocs : NAN;
	}
	bench_report_add(rep, &row);
out:
	for (i = 0; i < n; i++)
		if (c.iova[i] != 0)
			do_free(&c, i);
	iommu_iova_magazine_destroy(c.mg);
	iommu_extent_destroy(c.ex);
	free(c.descr);
	free(c.iova);
	return error;
}

int
bench_scn_alloc(const struct bench_opts *o, struct bench_report *rep)
{
	static const unsigned long full[] = {0, 16, 256, 1024, 4096, 16384};
	static const unsigned long quick[] = {0, 16, 256};
	const unsigned long	  *ns = o->quick ? quick : full;
	size_t			   nn = o->quick ? 3 : 6, i;
	unsigned		   v;
	int			   mag, error;

	for (v = 0; v < 4; v++) {
		bool	 fifo = (v & 1) != 0;
		unsigned pages = v < 2 ? 1 : 3;

		for (mag = 0; mag < 2; mag++)
			for (i = 0; i < nn; i++) {
				error =
				    one_case(o, rep, mag, fifo, pages, ns[i]);
				if (error != 0)
					return error;
			}
	}
	return 0;
}
