/*
 * iommu-bench - the "translate" scenario: the device side of the SMMU.
 *
 *   tlb-hit   smmuv3_translate() of one IOVA over and over (n = 1): the
 *             model's one-entry micro-TLB per thread answers;
 *   tlb-hit-main
 *             translations cycling over 16 TLB-resident pages (n = 16),
 *             so each one is looked up in the set-associative TLB;
 *   tlb-miss  translations cycling over 4x as many pages as the TLB
 *             holds, each page under its own last-level table so every
 *             miss is a full 4-level walk in simulated memory (n = 4
 *             levels); ratio = the TLB miss rate the model counted;
 *   dma-read, dma-write
 *             smmuv3_dma_read/_write of n bytes (64 B .. 64 KiB) at a
 *             mapped, TLB-warm IOVA ("smmu") against memcpy() of the same
 *             bytes between host buffers and the direct map ("memcpy");
 *             mbyte_s = MB/s, ratio = smmu / memcpy bandwidth.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycles.h"
#include "testbed.h"

#define PG	  IOMMU_PAGE_SIZE
#define SID	  7
#define BUF_PAGES 16
#define BUF_IOVA  0x10000000ULL
#define MISS_IOVA 0x4000000000ULL
#define MISS_STEP (2ULL << 20) /* one L3 table per page */

struct xlate_ctx {
	struct smmuv3 *model;
	uint64_t       base, step, ncycle; /* run_cycle's pages */
	uint64_t       npages;		   /* tlb-miss working set */
	uint64_t       next;
	int	       failed;
	/* dma */
	unsigned char *kva; /* direct map of the mapped buffer */
	unsigned char *host;
	size_t	       len;
	bool	       write;
};

/* Translations cycling over c->ncycle pages c->step apart from c->base. */
static void
run_cycle(void *arg, uint64_t iters)
{
	struct xlate_ctx   *c = arg;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint64_t	    i;

	for (i = 0; i < iters; i++) {
		c->failed |= smmuv3_translate(c->model, SID, SMMUV3_NO_SSID,
		    c->base + c->next * c->step, SMMUV3_ACCESS_READ, &xl, &ft);
		if (++c->next == c->ncycle)
			c->next = 0;
	}
}

static void
cycle_over(struct xlate_ctx *c, uint64_t base, uint64_t step, uint64_t n)
{
	c->base = base;
	c->step = step;
	c->ncycle = n;
	c->next = 0;
}

static void
run_dma(void *arg, uint64_t iters)
{
	struct xlate_ctx *c = arg;
	uint64_t	  i;

	for (i = 0; i < iters; i++)
		c->failed |= c->write
		    ? smmuv3_dma_write(c->model, SID, SMMUV3_NO_SSID, BUF_IOVA,
			  c->host, c->len, NULL)
		    : smmuv3_dma_read(c->model, SID, SMMUV3_NO_SSID, BUF_IOVA,
			  c->host, c->len, NULL);
}

static void
run_memcpy(void *arg, uint64_t iters)
{
	struct xlate_ctx *c = arg;
	uint64_t	  i;

	for (i = 0; i < iters; i++) {
		if (c->write)
			memcpy(c->kva, c->host, c->len);
		else
			memcpy(c->host, c->kva, c->len);
		/* Keep the copies observable. */
		__asm__ __volatile__(""
				     :
				     : "r"(c->host), "r"(c->kva)
				     : "memory");
	}
}

int
bench_scn_translate(const struct bench_opts *o, struct bench_report *rep)
{
	static const size_t sizes[] = {64, 256, 1024, 4096, 16384, 65536};
	struct iommu_domain_config dc;
	struct testbed		   tb;
	struct iommu_domain	  *dom = NULL;
	struct xlate_ctx	   c;
	struct bench_result	   res;
	struct bench_row	   row;
	struct smmuv3_stats	   s0, s1;
	uint64_t		   pa, i, tlb;
	unsigned		   k, w;
	double			   mem_mbs;
	int			   error;

	/* 512 TLB entries: a realistic SMMU TLB, small enough to miss. */
	error = testbed_init(&tb, o, 96, 128, 4);
	if (error != 0)
		return error;
	tlb = 128 * 4;
	memset(&c, 0, sizeof(c));
	c.model = tb.tb_model;
	iommu_domain_config_init(&dc);
	dc.dc_ias = 48;
	error = iommu_domain_create(tb.tb_smmu, SID, &dc, &dom);
	if (error == 0)
		error = iommu_physmem_alloc_pages(tb.tb_pm, BUF_PAGES, &pa);
	for (i = 0; error == 0 && i < BUF_PAGES; i++)
		error = iommu_domain_enter(dom, BUF_IOVA + i * PG, pa + i * PG,
		    IOMMU_PROT_READ | IOMMU_PROT_WRITE, IOMMU_CACHE_WB);
	c.npages = o->quick ? tlb * 2 : tlb * 4;
	for (i = 0; error == 0 && i < c.npages; i++)
		error = iommu_domain_enter(dom, MISS_IOVA + i * MISS_STEP, pa,
		    IOMMU_PROT_READ, IOMMU_CACHE_WB);
	if (error == 0)
		error = iommu_domain_sync(dom);
	if (error != 0) {
		fprintf(stderr, "iommu-bench: translate setup: %s\n",
		    strerror(error));
		goto out;
	}
	c.kva = iommu_physmem_kva(tb.tb_pm, pa);
	c.host = malloc(BUF_PAGES * PG);
	if (c.host == NULL) {
		error = ENOMEM;
		goto out;
	}
	memset(c.host, 0x5a, BUF_PAGES * PG);

	bench_progress("translate tlb-hit");
	cycle_over(&c, BUF_IOVA, PG, 1);
	bench_measure(o, run_cycle, &c, 1, UINT64_MAX, &res);
	bench_row_init(&row, "translate", "tlb-hit", "smmu", 1, "translation");
	bench_result_to_row(&res, &row);
	bench_report_add(rep, &row);

	cycle_over(&c, BUF_IOVA, PG, BUF_PAGES);
	bench_measure(o, run_cycle, &c, 1, UINT64_MAX, &res);
	bench_row_init(&row, "translate", "tlb-hit-main", "smmu", BUF_PAGES,
	    "translation");
	bench_result_to_row(&res, &row);
	bench_report_add(rep, &row);

	bench_progress("translate tlb-miss");
	cycle_over(&c, MISS_IOVA, MISS_STEP, c.npages);
	smmuv3_get_stats(tb.tb_model, &s0);
	bench_measure(o, run_cycle, &c, 1, UINT64_MAX, &res);
	smmuv3_get_stats(tb.tb_model, &s1);
	bench_row_init(&row, "translate", "tlb-miss", "smmu", 4, "translation");
	bench_result_to_row(&res, &row);
	if (s1.st_translations > s0.st_translations)
		row.ratio = (double)(s1.st_tlb_misses - s0.st_tlb_misses) /
		    (double)(s1.st_translations - s0.st_translations);
	bench_report_add(rep, &row);

	for (w = 0; w < 2; w++) {
		c.write = w == 1;
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			const char *v = c.write ? "dma-write" : "dma-read";

			c.len = sizes[k];
			bench_progress("translate %s %zu", v, c.len);
			bench_measure(o, run_memcpy, &c, 1, UINT64_MAX, &res);
			bench_row_init(
			    &row, "translate", v, "memcpy", c.len, "transfer");
			bench_result_to_row(&res, &row);
			row.mbyte_s = (double)c.len / res.ns * 1000.0;
			mem_mbs = row.mbyte_s;
			bench_report_add(rep, &row);
			bench_measure(o, run_dma, &c, 1, UINT64_MAX, &res);
			bench_row_init(
			    &row, "translate", v, "smmu", c.len, "transfer");
			bench_result_to_row(&res, &row);
			row.mbyte_s = (double)c.len / res.ns * 1000.0;
			row.ratio = row.mbyte_s / mem_mbs;
			bench_report_add(rep, &row);
		}
	}
	if (c.failed) {
		fprintf(stderr, "iommu-bench: a translation or DMA failed\n");
		error = EIO;
	}
out:
	free(c.host);
	if (dom != NULL)
		iommu_domain_destroy(dom);
	testbed_fini(&tb);
	return error;
}
