/*
 * libiommu - owned spans of parked pages (iommu/pagetable.h,
 * iommu_pt_span): a caller that alone maps and unmaps a prepared range
 * keeps one handle for it and skips the walk.
 *
 *   level-3 frame:  | desc 0 | desc 1 | ... | desc i3 | ... | desc 511 |
 *                                             ^ a span's handle: page k of
 *                                               the span is desc i3 + k
 *
 * A parked page's descriptor is the whole record of its mapping (the PTED
 * stays untouched: see pagetable_internal.h), so a fill is one
 * compare-and-swap on the descriptor, what iommu_pt_enter does to a
 * parked page once it has walked to it and holds the slot, and a clear one
 * load and one store.  A span needs no hold: the compare-and-swap alone
 * picks one winner against a racing enter, and only unprepare, which the
 * span's owner does not run on pages it fills, takes a parked PTED away.
 * Handles stay valid because nothing but iommu_pt_unprepare and
 * iommu_pt_destroy unlinks a parked PTED, and frames are never freed
 * before destroy.  Fetching a span reads the level-3 table's parked
 * bitmap, not the PTEDs (a cold PTED a page was a cache miss a page).
 */
#include "pagetable_internal.h"

_Static_assert(IOMMU_PT_SPAN_BYTES == PT_L3_SPAN,
    "a span is the IOVA of one level-3 table");

int
iommu_pt_span(struct iommu_pt *pt, uint64_t iova, uint64_t npages,
    struct iommu_pt_span *span)
{
	struct iommu__pt_level *l3;
	uint64_t		last, k;
	unsigned		i3;

	if (pt == NULL || span == NULL || (iova & IOMMU_PAGE_MASK) != 0 ||
	    npages == 0 || npages > (UINT64_MAX >> IOMMU_PAGE_SHIFT))
		return EINVAL;
	last = iova + (npages << IOMMU_PAGE_SHIFT) - 1;
	if (last < iova)
		return EINVAL;
	if (last >> pt->pt_ias != 0)
		return ERANGE;
	if ((iova ^ last) >= PT_L3_SPAN)
		return EXDEV;
	if ((l3 = pt_l3_lookup(pt, iova)) == NULL)
		return ENOENT;
	i3 = pt_index(3, iova);
	for (k = 0; k < npages; k++)
		if (!pt_parked_test(l3, i3 + (unsigned)k))
			return ENOENT;
	span->ps_desc = &l3->lv_desc[i3];
	return 0;
}

/* A run's pages: EINVAL, ERANGE or 0 (see iommu_pt_span_fill). */
static int
run_check(const struct iommu_pt *pt, const struct iommu_pt_run *r)
{
	uint64_t last;

	if ((r->pr_pa & IOMMU_PAGE_MASK) != 0 || r->pr_npages == 0 ||
	    r->pr_npages > (UINT64_MAX >> IOMMU_PAGE_SHIFT))
		return EINVAL;
	last = r->pr_pa + (r->pr_npages << IOMMU_PAGE_SHIFT) - 1;
	if (last >> pt->pt_oas != 0 || last < r->pr_pa)
		return ERANGE;
	return 0;
}

int
iommu_pt_span_fill(struct iommu_pt *pt, const struct iommu_pt_span *span,
    const struct iommu_pt_run *runs, unsigned nruns, unsigned prot,
    unsigned cache, uint64_t *entered)
{
	uint64_t *d, done = 0, k, desc;
	unsigned  i;
	int	  error = 0;

	if (pt == NULL || span == NULL || span->ps_desc == NULL ||
	    runs == NULL || nruns == 0 ||
	    pt_enter_args(0, 0, prot, cache, 0) != 0)
		error = EINVAL;
	for (i = 0; i < nruns && error == 0; i++) {
		if ((error = run_check(pt, &runs[i])) != 0)
			break;
		d = span->ps_desc + runs[i].pr_first;
		desc = pt_page_desc(pt, runs[i].pr_pa, prot, cache);
		for (k = 0; k < runs[i].pr_npages;
		     k++, desc += IOMMU_PAGE_SIZE) {
			error = pt_parked_fill(&d[k], desc);
			if (error != 0)
				break;
		}
		done += k;
	}
	if (entered != NULL)
		*entered = done;
	return error;
}

int
iommu_pt_span_clear(struct iommu_pt *pt, const struct iommu_pt_span *span,
    uint64_t first, uint64_t iova, uint64_t npages, unsigned flags,
    uint64_t *removed)
{
	uint64_t *d, k = 0;
	int	  error = 0;

	if (removed != NULL)
		*removed = 0;
	if (pt == NULL || span == NULL || span->ps_desc == NULL ||
	    npages == 0 || (iova & IOMMU_PAGE_MASK) != 0 ||
	    (flags & ~(unsigned)IOMMU_PT_NOTLBADD) != 0)
		return EINVAL;
	d = span->ps_desc + first;
	for (; k < npages; k++, iova += IOMMU_PAGE_SIZE) {
		if (!pt_slot_mapped(&d[k])) {
			error = ENOENT;
			break;
		}
		pt_desc_write(&d[k], 0);
		if (!(flags & IOMMU_PT_NOTLBADD))
			pt_note_removed(pt, iova);
	}
	if (removed != NULL)
		*removed = k;
	return error;
}
