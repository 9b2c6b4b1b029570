/*
 * libiommu - the IOMMU bus_dma tag of one domain (the seed's
 * smmu_device_hook tag, smmu_load_map / smmu_unload_map) with four IOVA
 * strategies.
 *
 * The tag wraps a parent (platform) tag: the parent builds the physical
 * segments, this tag maps them into the domain and rewrites each ds_addr
 * to IOVA + page offset (_ds_paddr keeps the physical address).  It
 * overrides create, destroy, the four loads and unload, inherits sync and
 * the dmamem family, and marks itself coherent.
 *
 * Each dmamap carries a map state (the seed's smmu_map_state) in the
 * cookie bytes that the parent allocates with the map, so neither load nor
 * unload ever allocates host memory:
 *
 *   struct iommu_map_state
 *     ms_er      IOVA region descriptor handed to the extent (per-map,
 *                at-create): the extent never allocates one itself
 *     ms_dva     first IOVA of that region
 *     ms_len     its length (0: no IOVA held)
 *     ms_loaded  bytes of segment pages entered so far, in segment order
 *     ms_nalloc  per-segment: segments holding IOVA
 *     ms_strategy the tag's strategy when the map was created (fixed for
 *                the map's life: the state's size depends on it)
 *     ms_ticket .. ms_win  at-create: the windows (below)
 *     ms_span    at-create, and per-map in a magazine domain: where the
 *                pages' descriptors are (iommu_pt_span), when ms_by_span
 *     ms_segs[]  per-segment: one descriptor + IOVA + length per segment
 *
 * Where each strategy spends its time:
 *   per-map (default, the seed): load sums the page-rounded segment
 *     lengths (including their page offsets), makes one extent allocation,
 *     enters the pages; unload removes them, syncs, frees the IOVA.
 *   per-segment (the seed's first attempt): one extent allocation and
 *     free per segment per load; O(outstanding regions) each.
 *   at-create (OpenBSD's later smmu_dmamap_create): create reserves the
 *     worst case IOVA plus a guard page and pre-creates the table levels;
 *     load only enters PTEs, unload removes them and syncs.  The extent is
 *     never touched on the load/unload path.
 *   per-map in a magazine domain: the IOVA comes from the thread's
 *     magazine and, being recycled, usually still holds its pages' PTEDs
 *     (the domain keeps them): load fetches their span and fills it as
 *     at-create does, unload clears it.
 *   identity (before the seed): IOVA = PA, a page some other map already
 *     entered counts as success and unload removes every page of every
 *     segment, so two maps sharing a page break each other.  Kept only so
 *     that tests can demonstrate that hazard.
 *
 * bus_dma(9) boundary b: no segment's [ds_addr, ds_addr + ds_len) may
 * cross a multiple of b.  The parent honours it on physical addresses, so
 * b <= PAGE holds for the IOVA too (the page offset is kept), and for b >
 * PAGE a segment's page-rounded span is at most b.  per-segment: each
 * allocation must not cross b.  per-map: a map whose span total fits in
 * b is allocated not crossing b; a larger one is laid out with gaps (each
 * segment that would cross a line there starts on the line instead,
 * seg_place) in a b-aligned allocation, ms_len counting the gaps.
 * at-create: the reservation is sized and placed (at_create_len) so that
 * every load fits with the same layout.  identity: IOVA = PA already
 * honours b.  Unload needs no layout: it removes each segment's pages
 * from TRUNC_PAGE(ds_addr).  b == 0 costs one compare per segment.
 *
 * Invariants: ms_loaded only counts pages this load entered (identity:
 * pages it entered or found present); a failed load removes exactly those,
 * syncs, and releases the IOVA it took, leaving the domain as before.
 * Unload orders remove -> CMD_SYNC -> IOVA free; the seed frees the IOVA
 * before its sync, a window in which another CPU could allocate and map
 * the same IOVA while the SMMU still holds the old translation.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/busdma.h>
#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/pagetable.h>
#include <iommu/physmem.h>

#include "busdma_internal.h"
#include "iommu_internal.h"
#include "smmu_internal.h" /* the unload batch; the validator's page table */

#define PAGE		((uint64_t)IOMMU_PAGE_SIZE)
#define TRUNC_PAGE(x)	((x) & ~IOMMU_PAGE_MASK)
#define ROUND_PAGE(x)	(((x) + IOMMU_PAGE_MASK) & ~IOMMU_PAGE_MASK)
/* Segments of this many pages or more are entered and removed as ranges. */
#define RANGE_MIN_PAGES 4
/* By span: segments' runs filled per call. */
#define SPAN_RUNS	16

struct iommu_map_seg {
	struct iommu_extent_region mg_er;
	uint64_t		   mg_dva;
	uint64_t		   mg_len;
};

struct iommu_map_state {
	/*
	 * First, within 64 bytes: what every load and unload reads.  At a
	 * ring deeper than the caches hold, each line more that a packet
	 * touches costs (iommu-bench tcpbench at N = 1024 and up).
	 */
	uint64_t ms_loaded;
	uint64_t ms_dva;
	uint64_t ms_len;
	/* at-create: the invalidation each window must await before it is
	 * entered again, the windows' distance apart. */
	uint64_t ms_ticket[2];
	uint64_t ms_stride;
	/* By span (ms_by_span): at-create, window 0's, and window 1's pages
	 * are indexed from it (one level-3 table holds both); per-map with
	 * magazines, the loaded IOVA's. */
	struct iommu_pt_span ms_span;
	/* at-create: the pages a load may use (window length - guard). */
	uint32_t ms_winpages;
	/* enum iommu_iova_strategy: the tag's, at create */
	uint8_t ms_strategy;
	/* at-create: how many windows, which was loaded last. */
	uint8_t ms_nwin, ms_win;
	bool	ms_by_span;
	/* Touched at create and destroy, and by the slower strategies. */
	struct iommu_extent_region ms_er;
	uint64_t		   ms_winlen; /* at-create: window length */
	int			   ms_nalloc;
	struct iommu_map_seg	   ms_segs[]; /* per-segment */
};
_Static_assert(offsetof(struct iommu_map_state, ms_er) <= 64,
    "what every load and unload reads fits in 64 bytes");

struct iommu_tag {
	struct iommu_dma_tag	 it_tag; /* first: the public handle */
	struct iommu_domain	*it_dom;
	enum iommu_iova_strategy it_strategy;
};

static int  iommu_create(struct iommu_dma_tag *, uint64_t, int, uint64_t,
     uint64_t, int, size_t, struct iommu_dmamap **);
static void iommu_destroy(struct iommu_dma_tag *, struct iommu_dmamap *);
static int  iommu_load(
     struct iommu_dma_tag *, struct iommu_dmamap *, void *, size_t, int);
static int iommu_load_mbuf(
    struct iommu_dma_tag *, struct iommu_dmamap *, struct iommu_mbuf *, int);
static int iommu_load_uio(
    struct iommu_dma_tag *, struct iommu_dmamap *, struct iommu_uio *, int);
static int  iommu_load_raw(struct iommu_dma_tag *, struct iommu_dmamap *,
     const struct iommu_dma_segment *, int, uint64_t, int);
static void iommu_unload(struct iommu_dma_tag *, struct iommu_dmamap *);
static void iommu_tag_free(struct iommu_dma_tag *);

static int  load_map(struct iommu_tag *, struct iommu_dmamap *, int);
static int  load_window(struct iommu_tag *, struct iommu_dmamap *, unsigned);
static void unload_map(struct iommu_tag *, struct iommu_dmamap *);
static void clear_window(struct iommu_tag *, struct iommu_dmamap *, bool);
static void remove_segs(struct iommu_tag *, struct iommu_dmamap *);
#if IOMMU_DEBUG >= 3
static void check_loaded(struct iommu_tag *, const struct iommu_dmamap *);
#endif

static const struct iommu__dma_tag_ops iommu_ops = {
    .create = iommu_create,
    .destroy = iommu_destroy,
    .load = iommu_load,
    .load_mbuf = iommu_load_mbuf,
    .load_uio = iommu_load_uio,
    .load_raw = iommu_load_raw,
    .unload = iommu_unload,
    .tag_free = iommu_tag_free,
    /* sync and dmamem_*: the parent's (the seed removed its own). */
};

int
iommu_dma_tag_create_iommu(struct iommu_domain *dom,
    struct iommu_dma_tag *parent, struct iommu_dma_tag **out)
{
	struct iommu_tag *it;

	/* The parent builds physical segments: it cannot be an IOMMU tag. */
	if (dom == NULL || parent == NULL || out == NULL ||
	    parent->dt_ops == &iommu_ops)
		return EINVAL;
	if ((it = iommu__zalloc(parent->dt_alloc, sizeof(*it))) == NULL)
		return ENOMEM;
	it->it_tag.dt_ops = &iommu_ops;
	it->it_tag.dt_cookie = dom;
	it->it_tag.dt_parent = parent;
	it->it_tag.dt_flags = parent->dt_flags | IOMMU_DMA_COHERENT;
	it->it_tag.dt_alloc = parent->dt_alloc;
	it->it_dom = dom;
	it->it_strategy = iommu_domain_iova_strategy(dom);
	*out = &it->it_tag;
	return 0;
}

int
iommu_dma_tag_set_iova_strategy(
    struct iommu_dma_tag *t, enum iommu_iova_strategy strategy)
{
	struct iommu_tag	*it = (struct iommu_tag *)t;
	enum iommu_iova_strategy dom_strategy;

	if (t == NULL || t->dt_ops != &iommu_ops)
		return EINVAL;
	if (strategy != IOMMU_IOVA_PER_MAP &&
	    strategy != IOMMU_IOVA_PER_SEGMENT &&
	    strategy != IOMMU_IOVA_AT_CREATE && strategy != IOMMU_IOVA_IDENTITY)
		return EINVAL;
	/* IOVA = PA would collide with the arena's allocations (and back). */
	dom_strategy = iommu_domain_iova_strategy(it->it_dom);
	if ((strategy == IOMMU_IOVA_IDENTITY) !=
	    (dom_strategy == IOMMU_IOVA_IDENTITY))
		return EINVAL;
	it->it_strategy = strategy;
	return 0;
}

static void
iommu_tag_free(struct iommu_dma_tag *t)
{
	iommu__free(t->dt_alloc, t, sizeof(struct iommu_tag));
}

/* The most pages a gapless load may span: W below. */
static inline uint64_t
load_worst_pages(uint64_t size, int nsegments)
{
	uint64_t two_n = 2 * (uint64_t)nsegments;

	if (size >= two_n)
		return ((size - two_n) >> IOMMU_PAGE_SHIFT) + two_n;
	/* floor of a negative quotient, toward minus infinity */
	return two_n - ((two_n - size + PAGE - 1) >> IOMMU_PAGE_SHIFT);
}

/*
 * At-create reservation.  A segment of L >= 1 bytes spans the most pages
 * from page offset PAGE - 1: floor((L - 2) / PAGE) + 2, the floor taken
 * toward minus infinity (L = 1: one page).  A sum of floors is at most the
 * floor of the sum, so n segments of at most size bytes in all span at
 * most W = floor((size - 2n) / PAGE) + 2n pages, and W grows with n, so
 * nsegments bounds every load (16 KiB in 4 segments: 11 pages, reached by
 * three 2-byte segments and one of 16378, each from offset PAGE - 1).
 * OpenBSD reserves round_page(size) + one page per segment, which three
 * 2-byte segments that each straddle a page line already overflow (W =
 * 6 pages for those 6 bytes).  With a boundary b >
 * PAGE and W > b a load may need the gap layout (seg_place), whose gaps
 * are each smaller than the segment that follows them, so it is shorter
 * than 2 * W: the reservation doubles.  One more page stays unmapped as a
 * guard.  0: the size overflows.
 */
static uint64_t
at_create_len(uint64_t size, int nsegments, uint64_t b)
{
	uint64_t w = load_worst_pages(size, nsegments) * PAGE;

	if (b > PAGE && w > b) {
		if (w > (UINT64_MAX >> 2))
			return 0;
		w *= 2;
	}
	return w + PAGE;
}

/*
 * Where a segment of span pages goes in a map's IOVA range, given the
 * first free offset cur: at cur, or at the next multiple of b when it
 * would cross one there (bus_dma(9) boundary, b > PAGE; b == 0: never).
 * Offsets count from a b-aligned base, or from any base when the whole
 * range lies between two b lines.  A segment's span never exceeds b: its
 * physical range does not cross a b line and b is a multiple of PAGE.
 */
static inline uint64_t
seg_place(uint64_t cur, uint64_t span, uint64_t b)
{
	if (b != 0 && (cur & (b - 1)) + span > b)
		cur = (cur | (b - 1)) + 1;
	return cur;
}

/* The boundary the IOVA layout must honour, else 0. */
static inline uint64_t
layout_boundary(uint64_t boundary)
{
	/* b <= PAGE: the page offset is kept, so the IOVA honours it. */
	return boundary > PAGE ? boundary : 0;
}

static inline uint64_t
map_boundary(const struct iommu_dmamap *map)
{
	return layout_boundary(map->_dm_boundary);
}

/*
 * At-create geometry: window length and stride, the reservation's length
 * (ms_len), and how it is placed (*align, *bound).  Between two b lines
 * when it fits there (no load needs a gap), else b-aligned so that
 * seg_place's offsets are the lines' (the guard page may cross: it stays
 * unmapped).  Deferred invalidation: two windows, loaded in turn, so a
 * load need not wait for the flush of the unload just before it (its
 * window was unloaded one load earlier); with a boundary the second
 * starts on a b line too.  A reservation that fits in a level-3 table is
 * kept inside one, so that its windows load by span.  EINVAL when the
 * size overflows.
 */
static int
at_create_plan(struct iommu_tag *it, uint64_t size, int nsegments,
    uint64_t boundary, struct iommu_map_state *ms, uint64_t *align,
    uint64_t *bound)
{
	uint64_t b = layout_boundary(boundary), winpages;

	*align = *bound = 0;
	ms->ms_nwin = it->it_dom->dom_fq_depth != 0 ? 2 : 1;
	ms->ms_winlen = at_create_len(size, nsegments, b);
	ms->ms_stride = ms->ms_winlen;
	if (b != 0 && ms->ms_nwin == 1 && ms->ms_winlen <= b) {
		*bound = b;
	} else if (b != 0) {
		*align = b;
		ms->ms_stride = (ms->ms_winlen + b - 1) & ~(b - 1);
	}
	if (ms->ms_winlen == 0 || ms->ms_stride < ms->ms_winlen ||
	    ms->ms_stride > UINT64_MAX - ms->ms_winlen)
		return EINVAL;
	ms->ms_len = ms->ms_stride * (ms->ms_nwin - 1) + ms->ms_winlen;
	/* A 2^k bound is also one for any larger power of two. */
	if (ms->ms_len <= IOMMU_PT_SPAN_BYTES &&
	    (*bound == 0 || *bound > IOMMU_PT_SPAN_BYTES))
		*bound = IOMMU_PT_SPAN_BYTES;
	winpages = (ms->ms_winlen >> IOMMU_PAGE_SHIFT) - 1;
	if (winpages > UINT32_MAX)
		return EINVAL;
	ms->ms_winpages = (uint32_t)winpages;
	return 0;
}

/* at-create: window w's first IOVA. */
static inline uint64_t
window_base(const struct iommu_map_state *ms, unsigned w)
{
	return ms->ms_dva + w * ms->ms_stride;
}

/* at-create by span: window w's first page, as a page of ms_span. */
static inline uint64_t
window_first(const struct iommu_map_state *ms, unsigned w)
{
	return w * (ms->ms_stride >> IOMMU_PAGE_SHIFT);
}

/*
 * Table levels and parked PTEDs for every page a load may enter (each
 * window but its guard page): loads and unloads then take nothing from
 * the pools (OpenBSD's later smmu_prepare).  And the windows' span, when
 * the reservation lies in one level-3 table (at_create_plan sees to it
 * when it fits): then they walk no table either.
 */
static int
prepare_windows(struct iommu_tag *it, struct iommu_map_state *ms)
{
	struct iommu_pt_span span[2];
	uint64_t	     wbase;
	unsigned	     w;
	bool		     spans = true;
	int		     error = 0;

	for (w = 0; w < ms->ms_nwin && error == 0; w++) {
		wbase = window_base(ms, w);
		error = iommu_domain_prepare_pteds(
		    it->it_dom, wbase, ms->ms_winlen - PAGE);
		if (error == 0 &&
		    iommu_pt_span(it->it_dom->dom_pt, wbase, ms->ms_winpages,
			&span[w]) != 0)
			spans = false;
	}
	ms->ms_by_span = error == 0 && spans &&
	    (ms->ms_nwin == 1 ||
		span[1].ps_desc == span[0].ps_desc + window_first(ms, 1));
	if (ms->ms_by_span)
		ms->ms_span = span[0];
	return error;
}

/* Gives the parked PTEDs back (the map holds no page: unloaded). */
static void
unprepare_windows(struct iommu_tag *it, struct iommu_map_state *ms)
{
	unsigned w;

	for (w = 0; w < ms->ms_nwin; w++)
		(void)iommu_domain_unprepare(
		    it->it_dom, window_base(ms, w), ms->ms_winlen - PAGE);
}

static int
iommu_create(struct iommu_dma_tag *t, uint64_t size, int nsegments,
    uint64_t maxsegsz, uint64_t boundary, int flags, size_t cookie_size,
    struct iommu_dmamap **out)
{
	struct iommu_tag       *it = (struct iommu_tag *)t;
	struct iommu_dma_tag   *parent = t->dt_parent;
	struct iommu_map_state *ms, plan;
	struct iommu_dmamap    *map;
	uint64_t		align = 0, bound = 0;
	size_t			mssize = sizeof(*ms);
	int			error;

	IOMMU_ASSERT(cookie_size == 0);
	(void)cookie_size;
	if (size > (UINT64_MAX >> 1))
		return EINVAL;
	if (it->it_strategy == IOMMU_IOVA_PER_SEGMENT)
		mssize += (size_t)nsegments * sizeof(ms->ms_segs[0]);
	if (it->it_strategy == IOMMU_IOVA_AT_CREATE) {
		error = at_create_plan(
		    it, size, nsegments, boundary, &plan, &align, &bound);
		if (error != 0)
			return error;
	}
	error = parent->dt_ops->create(
	    parent, size, nsegments, maxsegsz, boundary, flags, mssize, &map);
	if (error != 0)
		return error;
	ms = map->_dm_cookie;
	ms->ms_strategy = (uint8_t)it->it_strategy;
	if (it->it_strategy == IOMMU_IOVA_AT_CREATE) {
		ms->ms_nwin = plan.ms_nwin;
		ms->ms_winlen = plan.ms_winlen;
		ms->ms_stride = plan.ms_stride;
		ms->ms_winpages = plan.ms_winpages;
		error = iommu_domain_iova_alloc_constrained(it->it_dom,
		    plan.ms_len, align, bound, &ms->ms_er, &ms->ms_dva);
		if (error == 0) {
			ms->ms_len = plan.ms_len;
			error = prepare_windows(it, ms);
			if (error != 0) {
				unprepare_windows(it, ms);
				(void)iommu_domain_iova_free(
				    it->it_dom, ms->ms_dva, ms->ms_len);
				ms->ms_len = 0;
			}
		}
		if (error != 0) {
			parent->dt_ops->destroy(parent, map);
			return error;
		}
	}
	*out = map;
	return 0;
}

static void
iommu_destroy(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	struct iommu_tag       *it = (struct iommu_tag *)t;
	struct iommu_map_state *ms = map->_dm_cookie;

	/* bus_dma(9): destroying a loaded map unloads it (the seed). */
	if (iommu__dmamap_loaded(map))
		iommu_unload(t, map);
	/* A reservation the SMMU may still translate stays owed. */
	if (ms->ms_strategy == IOMMU_IOVA_AT_CREATE && ms->ms_len != 0) {
		unprepare_windows(it, ms);
		if (iommu__domain_ticket_wait(it->it_dom, ms->ms_ticket[0]) ==
			0 &&
		    iommu__domain_ticket_wait(it->it_dom, ms->ms_ticket[1]) ==
			0)
			(void)iommu_domain_iova_free(
			    it->it_dom, ms->ms_dva, ms->ms_len);
		else
			iommu__domain_iova_owe(
			    it->it_dom, ms->ms_dva, ms->ms_len);
	}
	t->dt_parent->dt_ops->destroy(t->dt_parent, map);
}

/* Common tail of the four loads: map what the parent built, or undo it. */
static int
finish_load(
    struct iommu_dma_tag *t, struct iommu_dmamap *map, int error, int flags)
{
	if (error != 0)
		return error;
	if ((error = load_map((struct iommu_tag *)t, map, flags)) != 0)
		t->dt_parent->dt_ops->unload(t->dt_parent, map);
	return error;
}

static int
iommu_load(struct iommu_dma_tag *t, struct iommu_dmamap *map, void *buf,
    size_t len, int flags)
{
	struct iommu_dma_tag *p = t->dt_parent;

	return finish_load(
	    t, map, p->dt_ops->load(p, map, buf, len, flags), flags);
}

static int
iommu_load_mbuf(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_mbuf *m, int flags)
{
	struct iommu_dma_tag *p = t->dt_parent;

	return finish_load(
	    t, map, p->dt_ops->load_mbuf(p, map, m, flags), flags);
}

static int
iommu_load_uio(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    struct iommu_uio *uio, int flags)
{
	struct iommu_dma_tag *p = t->dt_parent;

	return finish_load(
	    t, map, p->dt_ops->load_uio(p, map, uio, flags), flags);
}

static int
iommu_load_raw(struct iommu_dma_tag *t, struct iommu_dmamap *map,
    const struct iommu_dma_segment *segs, int nsegs, uint64_t size, int flags)
{
	struct iommu_dma_tag *p = t->dt_parent;

	return finish_load(t, map,
	    p->dt_ops->load_raw(p, map, segs, nsegs, size, flags), flags);
}

static void
iommu_unload(struct iommu_dma_tag *t, struct iommu_dmamap *map)
{
	unload_map((struct iommu_tag *)t, map);
	t->dt_parent->dt_ops->unload(t->dt_parent, map);
}

/* Pages [ds_addr & ~mask, ...) a segment covers. */
static inline uint64_t
seg_pages_len(const struct iommu_dma_segment *seg)
{
	return ROUND_PAGE(seg->ds_len + (seg->_ds_paddr & IOMMU_PAGE_MASK));
}

/* What the device may do: IOMMU_DMA_WRITE is memory -> device only. */
static unsigned
load_prot(int flags)
{
	switch (flags & (IOMMU_DMA_READ | IOMMU_DMA_WRITE)) {
	case IOMMU_DMA_WRITE:
		return IOMMU_PROT_READ;
	case IOMMU_DMA_READ:
		return IOMMU_PROT_WRITE;
	default:
		return IOMMU_PROT_READ | IOMMU_PROT_WRITE;
	}
}

/*
 * Enters the pages of segment seg at IOVA dva (page aligned) and rewrites
 * its ds_addr; ms_loaded grows by each page entered.
 */
static int
enter_seg(struct iommu_tag *it, struct iommu_map_state *ms,
    struct iommu_dma_segment *seg, uint64_t dva, unsigned prot)
{
	uint64_t pa = TRUNC_PAGE(seg->_ds_paddr), len = seg_pages_len(seg);
	uint64_t done;
	int	 error;

	seg->ds_addr = dva + (seg->_ds_paddr & IOMMU_PAGE_MASK);
	/*
	 * Long segments go in as a range (one walk per level-3 table, PTEDs
	 * in batches); for the one- and two-page segments of a packet the
	 * single calls measured faster (iommu-bench map_ns).
	 */
	if (ms->ms_strategy != IOMMU_IOVA_IDENTITY &&
	    len >= RANGE_MIN_PAGES * PAGE) {
		error = iommu_domain_enter_range(
		    it->it_dom, dva, pa, len, prot, IOMMU_CACHE_WB, &done);
		ms->ms_loaded += done;
		return error;
	}
	for (; len > 0; len -= PAGE, dva += PAGE, pa += PAGE) {
		error = iommu_domain_enter(
		    it->it_dom, dva, pa, prot, IOMMU_CACHE_WB);
		/* identity: a page another map entered is "ours" too. */
		if (error == EEXIST && ms->ms_strategy == IOMMU_IOVA_IDENTITY)
			error = 0;
		if (error != 0)
			return error;
		ms->ms_loaded += PAGE;
	}
	return 0;
}

/* Fills n runs of the map's span; ms_loaded grows by each page. */
static int
fill_runs(struct iommu_tag *it, struct iommu_map_state *ms,
    const struct iommu_pt_run *runs, unsigned n, unsigned prot)
{
	uint64_t done;
	int	 error;

	error = iommu_pt_span_fill(it->it_dom->dom_pt, &ms->ms_span, runs, n,
	    prot, IOMMU_CACHE_WB, &done);
	ms->ms_loaded += done << IOMMU_PAGE_SHIFT;
	return error;
}

/*
 * Maps the segments at base, segment after segment in seg_place's layout
 * (at most maxpages pages), through the map's span, whose page first is
 * base's: one run per segment, SPAN_RUNS runs per call.
 */
static int
fill_segments(struct iommu_tag *it, struct iommu_dmamap *map, uint64_t base,
    uint64_t first, uint64_t maxpages, unsigned prot)
{
	struct iommu_map_state	 *ms = map->_dm_cookie;
	struct iommu_dma_segment *seg;
	struct iommu_pt_run	  runs[SPAN_RUNS];
	uint64_t		  b = map_boundary(map), off = 0, span;
	unsigned		  n = 0;
	int			  i, error = 0;

	for (i = 0; i < map->dm_nsegs && error == 0; i++) {
		seg = &map->dm_segs[i];
		span = seg_pages_len(seg);
		off = seg_place(off, span, b);
		if (off + span > maxpages << IOMMU_PAGE_SHIFT) {
			error = EFBIG; /* cannot happen: the callers size it */
			break;
		}
		seg->ds_addr = base + off + (seg->_ds_paddr & IOMMU_PAGE_MASK);
		runs[n].pr_first = first + (off >> IOMMU_PAGE_SHIFT);
		runs[n].pr_pa = TRUNC_PAGE(seg->_ds_paddr);
		runs[n].pr_npages = span >> IOMMU_PAGE_SHIFT;
		off += span;
		if (++n == SPAN_RUNS) {
			error = fill_runs(it, ms, runs, n, prot);
			n = 0;
		}
	}
	/* ms_loaded counts pages in segment order: runs are filled so. */
	if (n > 0 && error == 0)
		error = fill_runs(it, ms, runs, n, prot);
	return error;
}

/*
 * Enters the segments at base page by page through the domain, in
 * seg_place's layout: what a map without a span does.
 */
static int
enter_segments(struct iommu_tag *it, struct iommu_dmamap *map, uint64_t base,
    unsigned prot)
{
	uint64_t off = 0, span, b = map_boundary(map);
	int	 seg, error = 0;

	for (seg = 0; seg < map->dm_nsegs && error == 0; seg++) {
		span = seg_pages_len(&map->dm_segs[seg]);
		off = seg_place(off, span, b);
		error = enter_seg(
		    it, map->_dm_cookie, &map->dm_segs[seg], base + off, prot);
		off += span;
	}
	return error;
}

/*
 * at-create: fills a window.  The window's last unload, if deferred or
 * failed, must be invalidated first: the SMMU may still cache its old
 * translations.  So the window loaded last is loaded again once that is
 * done, else the other one.  The first holds when a flush came between
 * the unload and this load (a driver that unloads at TX completion and
 * loads the slot much later); a ring that unloads a slot just before it
 * loads it again alternates its windows every lap.
 */
static int
load_window(struct iommu_tag *it, struct iommu_dmamap *map, unsigned prot)
{
	struct iommu_map_state *ms = map->_dm_cookie;
	unsigned		w = ms->ms_win;
	int			error;

	if (ms->ms_nwin == 2 &&
	    !iommu__domain_ticket_done(it->it_dom, ms->ms_ticket[w]))
		w ^= 1;
	if (ms->ms_ticket[w] != 0) {
		error = iommu__domain_ticket_wait(it->it_dom, ms->ms_ticket[w]);
		if (error != 0)
			return error;
		ms->ms_ticket[w] = 0;
	}
	ms->ms_win = w;
	if (!ms->ms_by_span)
		return enter_segments(it, map, window_base(ms, w), prot);
	return fill_segments(it, map, window_base(ms, w), window_first(ms, w),
	    ms->ms_winpages, prot);
}

/*
 * per-map in a domain that keeps PTEDs (magazines): fetches the span of
 * the npages pages of the map's IOVA when every one is parked, that is
 * when the IOVA was mapped before (the usual case: the cache recycles it)
 * and lies in one level-3 table.  Then the map is loaded and unloaded as
 * an at-create window is, without a walk per page.  false: page by page.
 * Not with a boundary: the unload clears the pages as one run.
 */
static bool
fetch_span(struct iommu_tag *it, struct iommu_dmamap *map, uint64_t npages)
{
	struct iommu_map_state *ms = map->_dm_cookie;

	return it->it_dom->dom_magazines && map_boundary(map) == 0 &&
	    iommu_pt_span(
		it->it_dom->dom_pt, ms->ms_dva, npages, &ms->ms_span) == 0;
}

static int
load_map(struct iommu_tag *it, struct iommu_dmamap *map, int flags)
{
	struct iommu_map_state *ms = map->_dm_cookie;
	struct iommu_map_seg   *mg;
	unsigned		prot = load_prot(flags);
	uint64_t		maplen = 0, span, b = map_boundary(map);
	int			seg, error = 0;

	ms->ms_loaded = 0;
	switch ((enum iommu_iova_strategy)ms->ms_strategy) {
	case IOMMU_IOVA_PER_MAP:
		for (seg = 0; seg < map->dm_nsegs; seg++) {
			span = seg_pages_len(&map->dm_segs[seg]);
			maplen = seg_place(maplen, span, b) + span;
		}
		/*
		 * No gap (maplen <= b): anywhere between two lines; gaps:
		 * from a line, where seg_place put them.
		 */
		error = iommu_domain_iova_alloc_constrained(it->it_dom, maplen,
		    maplen > b ? b : 0, maplen > b ? 0 : b, &ms->ms_er,
		    &ms->ms_dva);
		if (error != 0)
			return error;
		ms->ms_len = maplen;
		ms->ms_by_span =
		    fetch_span(it, map, maplen >> IOMMU_PAGE_SHIFT);
		if (ms->ms_by_span)
			error = fill_segments(it, map, ms->ms_dva, 0,
			    maplen >> IOMMU_PAGE_SHIFT, prot);
		else
			error = enter_segments(it, map, ms->ms_dva, prot);
		break;
	case IOMMU_IOVA_AT_CREATE:
		error = load_window(it, map, prot);
		break;
	case IOMMU_IOVA_PER_SEGMENT:
		ms->ms_nalloc = 0;
		for (seg = 0; seg < map->dm_nsegs && error == 0; seg++) {
			mg = &ms->ms_segs[seg];
			mg->mg_len = seg_pages_len(&map->dm_segs[seg]);
			/* mg_len <= b: see seg_place. */
			error = iommu_domain_iova_alloc_constrained(it->it_dom,
			    mg->mg_len, 0, b, &mg->mg_er, &mg->mg_dva);
			if (error != 0)
				break;
			ms->ms_nalloc++;
			error = enter_seg(
			    it, ms, &map->dm_segs[seg], mg->mg_dva, prot);
		}
		break;
	case IOMMU_IOVA_IDENTITY:
		for (seg = 0; seg < map->dm_nsegs && error == 0; seg++)
			error = enter_seg(it, ms, &map->dm_segs[seg],
			    TRUNC_PAGE(map->dm_segs[seg]._ds_paddr), prot);
		break;
	}
	if (error != 0)
		unload_map(it, map);
#if IOMMU_DEBUG >= 3
	else
		check_loaded(it, map);
#endif
	return error;
}

#if IOMMU_DEBUG >= 3
/*
 * Validator: every page of every loaded segment translates, in the tables
 * the SMMU walks, to the segment's physical page.  Not for identity maps,
 * whose pages another map may legitimately (that is the hazard) remove.
 */
static void
check_loaded(struct iommu_tag *it, const struct iommu_dmamap *map)
{
	const struct iommu_dma_segment *seg;
	const struct iommu_map_state   *ms = map->_dm_cookie;
	uint64_t			off, iova, pa, want;
	int				i;

	if (ms->ms_strategy == IOMMU_IOVA_IDENTITY)
		return;
	for (i = 0; i < map->dm_nsegs; i++) {
		seg = &map->dm_segs[i];
		for (off = 0; off < seg_pages_len(seg); off += PAGE) {
			iova = TRUNC_PAGE(seg->ds_addr) + off;
			want = TRUNC_PAGE(seg->_ds_paddr) + off;
			if (iommu_pt_extract(
				it->it_dom->dom_pt, iova, &pa, NULL) != 0 ||
			    pa != want)
				IOMMU_PANIC("segment %d: IOVA 0x%llx does not "
					    "translate to 0x%llx",
				    i, (unsigned long long)iova,
				    (unsigned long long)want);
		}
	}
}
#endif

/* A span's IOVA after its unload's invalidation (error: not known done). */
static void
give_back(
    struct iommu_domain *dom, int error, const struct iommu__iova_span *sp)
{
	if (error == 0)
		(void)iommu_domain_iova_free(dom, sp->sp_iova, sp->sp_len);
	else
		iommu__domain_iova_owe(dom, sp->sp_iova, sp->sp_len);
}

/*
 * Unmaps pages first .. first + n - 1 of the map's span, whose IOVAs run
 * from iova; quiet (deferred): no per-page TLB note.
 */
static void
clear_span(struct iommu_tag *it, struct iommu_map_state *ms, uint64_t first,
    uint64_t iova, uint64_t n, bool quiet)
{
	(void)iommu_pt_span_clear(it->it_dom->dom_pt, &ms->ms_span, first, iova,
	    n, quiet ? IOMMU_PT_NOTLBADD : 0, NULL);
}

/* at-create by span: clears the pages of [iova, iova + n pages). */
static void
clear_window_run(struct iommu_tag *it, struct iommu_map_state *ms,
    uint64_t iova, uint64_t n, bool quiet)
{
	clear_span(
	    it, ms, (iova - ms->ms_dva) >> IOMMU_PAGE_SHIFT, iova, n, quiet);
}

/*
 * at-create by span: clears the ms_loaded bytes of pages filled in the
 * loaded window.  Without a boundary the layout has no gap: they are the
 * window's first pages.  Else segment after segment, as one run where
 * their pages follow each other.
 */
static void
clear_window(struct iommu_tag *it, struct iommu_dmamap *map, bool quiet)
{
	struct iommu_map_state *ms = map->_dm_cookie;
	uint64_t loaded = ms->ms_loaded, n, iova, run = 0, runlen = 0;
	int	 i;

	if (map_boundary(map) == 0) {
		run = window_base(ms, ms->ms_win);
		runlen = loaded >> IOMMU_PAGE_SHIFT;
		loaded = 0;
	}
	for (i = 0; i < map->dm_nsegs && loaded > 0; i++) {
		n = seg_pages_len(&map->dm_segs[i]);
		if (n > loaded)
			n = loaded;
		loaded -= n;
		iova = TRUNC_PAGE(map->dm_segs[i].ds_addr);
		if (runlen != 0 && run + (runlen << IOMMU_PAGE_SHIFT) == iova) {
			runlen += n >> IOMMU_PAGE_SHIFT;
			continue;
		}
		if (runlen != 0)
			clear_window_run(it, ms, run, runlen, quiet);
		run = iova;
		runlen = n >> IOMMU_PAGE_SHIFT;
	}
	if (runlen != 0)
		clear_window_run(it, ms, run, runlen, quiet);
}

/*
 * Removes the ms_loaded bytes of pages entered, segment after segment,
 * each segment's pages from TRUNC_PAGE(ds_addr).
 */
static void
remove_segs(struct iommu_tag *it, struct iommu_dmamap *map)
{
	struct iommu_map_state *ms = map->_dm_cookie;
	uint64_t		loaded = ms->ms_loaded, n, dva;
	int			seg;

	for (seg = 0; seg < map->dm_nsegs && loaded > 0; seg++) {
		n = seg_pages_len(&map->dm_segs[seg]);
		if (n > loaded)
			n = loaded;
		loaded -= n;
		dva = TRUNC_PAGE(map->dm_segs[seg].ds_addr);
		/* Identity: a page another map removed is simply gone. */
		if (ms->ms_strategy != IOMMU_IOVA_IDENTITY &&
		    n >= RANGE_MIN_PAGES * PAGE)
			(void)iommu_domain_remove_range(
			    it->it_dom, dva, n, NULL);
		else
			for (; n > 0; n -= PAGE, dva += PAGE)
				(void)iommu_domain_remove(it->it_dom, dva);
	}
}

/*
 * Removes the ms_loaded bytes of pages entered (segment order, each
 * segment's pages from TRUNC_PAGE(ds_addr), so the boundary gaps of the
 * layout need no recomputing), waits for the SMMU to drop
 * them (CMD_SYNC), and only then returns the IOVA to the arena.
 */
static void
unload_map(struct iommu_tag *it, struct iommu_dmamap *map)
{
	struct iommu_map_state *ms = map->_dm_cookie;
	struct iommu__iova_span last = {0, 0};
	uint64_t		pages = ms->ms_loaded >> IOMMU_PAGE_SHIFT;
	bool			batched = false, have_last = false;
	bool quiet = ms->ms_by_span && it->it_dom->dom_fq_depth != 0;
	int  i, error;

	/*
	 * The removes only note their pages; the TLBIs and the CMD_SYNC go
	 * out together under one hold of the command lock.  A deferred
	 * unload by span notes nothing (the flush's TLBI by ASID covers
	 * its pages): it counts them.
	 */
	if (pages != 0 && !quiet)
		batched = iommu__domain_batch_begin(it->it_dom);
	if (pages != 0) {
		if (ms->ms_strategy == IOMMU_IOVA_AT_CREATE && ms->ms_by_span)
			clear_window(it, map, quiet);
		else if (ms->ms_by_span)
			clear_span(it, ms, 0, ms->ms_dva, pages, quiet);
		else if (ms->ms_strategy == IOMMU_IOVA_PER_MAP &&
		    map_boundary(map) == 0)
			(void)iommu_domain_remove_range(
			    it->it_dom, ms->ms_dva, ms->ms_loaded, NULL);
		else
			remove_segs(it, map);
		if (quiet)
			iommu__domain_count_removes(it->it_dom, pages);
	}
	/*
	 * The IOVA goes back to the arena only once the SMMU has consumed the
	 * invalidations: the seed frees it before smmu_tlb_sync_context(), so
	 * another CPU could map the same IOVA while the old translation is
	 * still cached.  Deferred (or failed) invalidation: the domain holds
	 * the IOVA until a flush completes.  Nothing entered (a load that
	 * failed early): nothing to invalidate.
	 */
	error = iommu__domain_unload_invalidate(
	    it->it_dom, batched, ms->ms_loaded != 0);
	ms->ms_loaded = 0;
	switch ((enum iommu_iova_strategy)ms->ms_strategy) {
	case IOMMU_IOVA_PER_MAP:
		if (ms->ms_len != 0) {
			last.sp_iova = ms->ms_dva;
			last.sp_len = ms->ms_len;
			have_last = true;
		}
		ms->ms_dva = 0;
		ms->ms_len = 0;
		ms->ms_by_span = false;
		break;
	case IOMMU_IOVA_PER_SEGMENT:
		for (i = 0; i < ms->ms_nalloc; i++) {
			if (have_last)
				give_back(it->it_dom, error, &last);
			last.sp_iova = ms->ms_segs[i].mg_dva;
			last.sp_len = ms->ms_segs[i].mg_len;
			have_last = true;
		}
		ms->ms_nalloc = 0;
		break;
	case IOMMU_IOVA_AT_CREATE: /* the reservation lives until destroy */
	case IOMMU_IOVA_IDENTITY:
		break;
	}
	if (error == 0) {
		if (have_last)
			give_back(it->it_dom, 0, &last);
	} else {
		ms->ms_ticket[ms->ms_win] = iommu__domain_unload_defer(
		    it->it_dom, have_last ? &last : NULL);
	}
}
