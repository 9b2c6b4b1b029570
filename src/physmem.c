/*
 * libiommu - simulated physical memory: RAM backing, frame allocator,
 * KVA <-> PA translation and the flat iommu_mem_ops implementation.
 *
 * Layout.  RAM is one shared-memory file (memfd on Linux, an unlinked
 * POSIX shm object elsewhere) of pm_size bytes, sparse until written, and
 * mapped once, MAP_SHARED, as the direct map:
 *
 *	PA   pm_base                                  pm_base + pm_size
 *	      |----- frame 0 -----|----- frame 1 -----|  ...  |
 *	KVA  pm_dmap                                  pm_dmap + pm_size
 *	file offset 0                                 pm_size
 *
 * A scattered buffer is a private reservation of VA (PROT_NONE) over which
 * each page is re-mapped MAP_FIXED from its frame's file offset, so it
 * aliases the direct map byte for byte:
 *
 *	sb_kva:  | page 0 | page 1 | page 2 |       (virtually contiguous)
 *	             |        |        |
 *	frames:  ... f0 ...  f1 ...    f2 ...        (f[i+1] != f[i] +- 1)
 *
 * Frame allocator: pm_used has one bit per frame (set = allocated);
 * pm_scat marks the frames owned by scattered buffers, which only
 * iommu_physmem_free_scattered() may free.  pm_hint is a frame index below
 * which every frame is allocated, so single-frame allocations (page-table
 * levels, the common case) scan from there a word at a time.  Allocation
 * is lowest-address first fit, hence deterministic.  Scattered buffers are
 * kept in pm_sbufs, an array sorted by KVA, for pmap_extract().
 *
 * Invariants (pm_lock held): popcount(pm_used) == pm_inuse;
 * pm_scat is a subset of pm_used; every frame below pm_hint is used;
 * pm_sbufs is sorted and non-overlapping, and its frames are exactly the
 * pm_scat bits.
 *
 * The direct map and the file are never resized; data access
 * (read/write/kva) takes no lock, as DRAM has none: concurrent access to
 * the same bytes is the caller's business, except read64/write64 and the
 * aligned 8-byte read/write, which are single atomic accesses, acquire
 * loads and release stores: the SMMU's table walks read descriptors that
 * the driver writes lock-free with release order, and see what it wrote
 * before them.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* memfd_create */
#endif

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <iommu/physmem.h>

#include "iommu_internal.h"

#define BITS_PER_WORD 64

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0 /* not everywhere; shared files are lazy anyway */
#endif

struct physmem_sbuf {
	uintptr_t sb_kva;
	size_t	  sb_npages;
	uint64_t *sb_frames; /* frame index of each page */
};

struct iommu_physmem {
	const struct iommu_allocator *pm_alloc;
	uint64_t		      pm_base;
	uint64_t		      pm_size;
	uint64_t		      pm_nframes;
	int			      pm_fd;
	uint8_t			     *pm_dmap;

	pthread_mutex_t pm_lock;
	uint64_t       *pm_used; /* bitmap, one bit per frame */
	uint64_t *pm_scat; /* bitmap: frame belongs to a scattered buffer */
	size_t	  pm_nwords;
	uint64_t  pm_hint;
	uint64_t  pm_inuse;
	uint64_t  pm_hwm;
	uint64_t  pm_allocs;
	uint64_t  pm_failures;
	uint64_t  pm_fail_countdown; /* 0: disarmed */

	struct physmem_sbuf *pm_sbufs;
	size_t		     pm_nsbufs;
	size_t		     pm_sbufs_cap;
};

static int  physmem_open_backing(struct iommu_physmem *);
static bool bit_test(const uint64_t *, uint64_t);
static void bits_set(uint64_t *, uint64_t, uint64_t);
static void bits_clear(uint64_t *, uint64_t, uint64_t);
static bool bits_all_set(const uint64_t *, uint64_t, uint64_t);
static bool bits_any_set(const uint64_t *, uint64_t, uint64_t);
static bool frame_find_free(const struct iommu_physmem *, uint64_t, uint64_t *);
static bool run_find(struct iommu_physmem *, uint64_t, uint64_t, uint64_t *);
static bool alloc_should_fail(struct iommu_physmem *);
static void frames_take(struct iommu_physmem *, uint64_t, uint64_t);
static void frames_release(struct iommu_physmem *, uint64_t, uint64_t);
static bool pa_range_ok(const struct iommu_physmem *, uint64_t, size_t);
static int  sbuf_insert(struct iommu_physmem *, const struct physmem_sbuf *);
static struct physmem_sbuf *sbuf_lookup(struct iommu_physmem *, uintptr_t);
static void sbuf_release(struct iommu_physmem *, struct physmem_sbuf *);

int
iommu_physmem_create(uint64_t base_pa, uint64_t size,
    const struct iommu_allocator *alloc, struct iommu_physmem **out)
{
	struct iommu_physmem *pm;
	int		      error;

	if (out == NULL || size == 0 || (base_pa & IOMMU_PAGE_MASK) != 0 ||
	    (size & IOMMU_PAGE_MASK) != 0 || base_pa + size - 1 < base_pa)
		return EINVAL;
	if (size > (uint64_t)SIZE_MAX / 2 || (uint64_t)(off_t)size != size)
		return EINVAL;
	alloc = iommu__allocator_or_default(alloc);
	pm = iommu__zalloc(alloc, sizeof(*pm));
	if (pm == NULL)
		return ENOMEM;
	pm->pm_alloc = alloc;
	pm->pm_base = base_pa;
	pm->pm_size = size;
	pm->pm_nframes = size >> IOMMU_PAGE_SHIFT;
	pm->pm_nwords =
	    (size_t)((pm->pm_nframes + BITS_PER_WORD - 1) / BITS_PER_WORD);
	pm->pm_fd = -1;
	pm->pm_dmap = MAP_FAILED;
	error = ENOMEM;
	pm->pm_used = iommu__zalloc(alloc, pm->pm_nwords * sizeof(uint64_t));
	pm->pm_scat = iommu__zalloc(alloc, pm->pm_nwords * sizeof(uint64_t));
	if (pm->pm_used == NULL || pm->pm_scat == NULL)
		goto fail;
	if ((error = physmem_open_backing(pm)) != 0)
		goto fail;
	pm->pm_dmap = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_NORESERVE, pm->pm_fd, 0);
	if (pm->pm_dmap == MAP_FAILED) {
		error = ENOMEM;
		goto fail;
	}
	if ((error = pthread_mutex_init(&pm->pm_lock, NULL)) != 0)
		goto fail;
	*out = pm;
	return 0;
fail:
	if (pm->pm_dmap != MAP_FAILED)
		munmap(pm->pm_dmap, (size_t)size);
	if (pm->pm_fd >= 0)
		close(pm->pm_fd);
	if (pm->pm_used != NULL)
		iommu__free(
		    alloc, pm->pm_used, pm->pm_nwords * sizeof(uint64_t));
	if (pm->pm_scat != NULL)
		iommu__free(
		    alloc, pm->pm_scat, pm->pm_nwords * sizeof(uint64_t));
	iommu__free(alloc, pm, sizeof(*pm));
	return error;
}

/* A sparse shared-memory file of pm_size bytes: no host memory committed. */
static int
physmem_open_backing(struct iommu_physmem *pm)
{
#if defined(__linux__)
	pm->pm_fd = memfd_create("iommu-physmem", MFD_CLOEXEC);
#else
	char name[64];

	snprintf(name, sizeof(name), "/iommu-physmem-%ld-%p", (long)getpid(),
	    (void *)pm);
	pm->pm_fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (pm->pm_fd >= 0)
		shm_unlink(name);
#endif
	if (pm->pm_fd < 0)
		return errno == EMFILE || errno == ENFILE ? EAGAIN : ENOMEM;
	if (ftruncate(pm->pm_fd, (off_t)pm->pm_size) != 0)
		return ENOMEM;
	return 0;
}

void
iommu_physmem_destroy(struct iommu_physmem *pm)
{
	const struct iommu_allocator *alloc;

	if (pm == NULL)
		return;
	alloc = pm->pm_alloc;
	while (pm->pm_nsbufs > 0)
		sbuf_release(pm, &pm->pm_sbufs[pm->pm_nsbufs - 1]);
	if (pm->pm_sbufs != NULL)
		iommu__free(alloc, pm->pm_sbufs,
		    pm->pm_sbufs_cap * sizeof(*pm->pm_sbufs));
	munmap(pm->pm_dmap, (size_t)pm->pm_size);
	close(pm->pm_fd);
	pthread_mutex_destroy(&pm->pm_lock);
	iommu__free(alloc, pm->pm_used, pm->pm_nwords * sizeof(uint64_t));
	iommu__free(alloc, pm->pm_scat, pm->pm_nwords * sizeof(uint64_t));
	iommu__free(alloc, pm, sizeof(*pm));
}

static bool
bit_test(const uint64_t *map, uint64_t i)
{
	return (map[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

static void
bits_set(uint64_t *map, uint64_t i, uint64_t n)
{
	for (; n > 0; i++, n--)
		map[i / BITS_PER_WORD] |= (uint64_t)1 << (i % BITS_PER_WORD);
}

static void
bits_clear(uint64_t *map, uint64_t i, uint64_t n)
{
	for (; n > 0; i++, n--)
		map[i / BITS_PER_WORD] &= ~((uint64_t)1 << (i % BITS_PER_WORD));
}

static bool
bits_all_set(const uint64_t *map, uint64_t i, uint64_t n)
{
	for (; n > 0; i++, n--)
		if (!bit_test(map, i))
			return false;
	return true;
}

static bool
bits_any_set(const uint64_t *map, uint64_t i, uint64_t n)
{
	for (; n > 0; i++, n--)
		if (bit_test(map, i))
			return true;
	return false;
}

/* Lowest free frame at or above from, a word at a time. */
static bool
frame_find_free(const struct iommu_physmem *pm, uint64_t from, uint64_t *frame)
{
	uint64_t w, bits, f;

	if (from >= pm->pm_nframes)
		return false;
	w = from / BITS_PER_WORD;
	bits = ~pm->pm_used[w] & (~(uint64_t)0 << (from % BITS_PER_WORD));
	for (;;) {
		if (bits != 0) {
			f = w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(bits);
			if (f >= pm->pm_nframes)
				return false;
			*frame = f;
			return true;
		}
		if (++w >= pm->pm_nwords)
			return false;
		bits = ~pm->pm_used[w];
	}
}

/*
 * Lowest run of n free frames whose PA is a multiple of align_frames
 * frames (first fit; align_frames is a power of two).
 */
static bool
run_find(struct iommu_physmem *pm, uint64_t n, uint64_t align_frames,
    uint64_t *first)
{
	uint64_t base = pm->pm_base >> IOMMU_PAGE_SHIFT,
		 mask = align_frames - 1;
	uint64_t start, f, len;

	start = pm->pm_hint;
	while (frame_find_free(pm, start, &start)) {
		start = ((base + start + mask) & ~mask) - base;
		if (start >= pm->pm_nframes || pm->pm_nframes - start < n)
			return false;
		for (len = 0, f = start; len < n; len++, f++)
			if (bit_test(pm->pm_used, f))
				break;
		if (len == n) {
			*first = start;
			return true;
		}
		start = f + 1;
	}
	return false;
}

static bool
alloc_should_fail(struct iommu_physmem *pm)
{
	if (pm->pm_fail_countdown == 0)
		return false;
	return --pm->pm_fail_countdown == 0;
}

static void
frames_take(struct iommu_physmem *pm, uint64_t first, uint64_t n)
{
	bits_set(pm->pm_used, first, n);
	pm->pm_inuse += n;
	if (pm->pm_inuse > pm->pm_hwm)
		pm->pm_hwm = pm->pm_inuse;
	if (first == pm->pm_hint)
		pm->pm_hint = first + n;
}

static void
frames_release(struct iommu_physmem *pm, uint64_t first, uint64_t n)
{
	bits_clear(pm->pm_used, first, n);
	pm->pm_inuse -= n;
	if (first < pm->pm_hint)
		pm->pm_hint = first;
}

int
iommu_physmem_alloc_pages(struct iommu_physmem *pm, size_t npages, uint64_t *pa)
{
	return iommu_physmem_alloc_pages_aligned(
	    pm, npages, IOMMU_PAGE_SIZE, pa);
}

int
iommu_physmem_alloc_pages_aligned(
    struct iommu_physmem *pm, size_t npages, uint64_t align, uint64_t *pa)
{
	uint64_t first;

	if (pm == NULL || pa == NULL || npages == 0 ||
	    (align & (align - 1)) != 0)
		return EINVAL;
	if (align < IOMMU_PAGE_SIZE)
		align = IOMMU_PAGE_SIZE;
	pthread_mutex_lock(&pm->pm_lock);
	if (alloc_should_fail(pm) || npages > pm->pm_nframes ||
	    !run_find(pm, npages, align >> IOMMU_PAGE_SHIFT, &first)) {
		pm->pm_failures++;
		pthread_mutex_unlock(&pm->pm_lock);
		return ENOMEM;
	}
	frames_take(pm, first, npages);
	pm->pm_allocs++;
	pthread_mutex_unlock(&pm->pm_lock);
	/* The frames are ours now; zero them outside the lock. */
	memset(pm->pm_dmap + (first << IOMMU_PAGE_SHIFT), 0,
	    npages << IOMMU_PAGE_SHIFT);
	*pa = pm->pm_base + (first << IOMMU_PAGE_SHIFT);
	return 0;
}

int
iommu_physmem_free_pages(struct iommu_physmem *pm, uint64_t pa, size_t npages)
{
	uint64_t first;

	if (pm == NULL || npages == 0 || (pa & IOMMU_PAGE_MASK) != 0 ||
	    pa < pm->pm_base)
		return EINVAL;
	first = (pa - pm->pm_base) >> IOMMU_PAGE_SHIFT;
	if (first >= pm->pm_nframes || npages > pm->pm_nframes - first)
		return EINVAL;
	pthread_mutex_lock(&pm->pm_lock);
	if (!bits_all_set(pm->pm_used, first, npages) ||
	    bits_any_set(pm->pm_scat, first, npages)) {
		pthread_mutex_unlock(&pm->pm_lock);
		return EINVAL;
	}
	frames_release(pm, first, npages);
	pthread_mutex_unlock(&pm->pm_lock);
	return 0;
}

uint64_t
iommu_physmem_base(const struct iommu_physmem *pm)
{
	return pm == NULL ? 0 : pm->pm_base;
}

uint64_t
iommu_physmem_size(const struct iommu_physmem *pm)
{
	return pm == NULL ? 0 : pm->pm_size;
}

void *
iommu_physmem_kva(struct iommu_physmem *pm, uint64_t pa)
{
	if (pm == NULL || pa < pm->pm_base || pa - pm->pm_base >= pm->pm_size)
		return NULL;
	return pm->pm_dmap + (pa - pm->pm_base);
}

int
iommu_physmem_extract(struct iommu_physmem *pm, const void *kva, uint64_t *pa)
{
	uintptr_t	     va = (uintptr_t)kva, dmap;
	struct physmem_sbuf *sb;
	size_t		     page;
	int		     error = EFAULT;

	if (pm == NULL || pa == NULL)
		return EINVAL;
	dmap = (uintptr_t)pm->pm_dmap;
	if (va >= dmap && va - dmap < pm->pm_size) {
		*pa = pm->pm_base + (va - dmap);
		return 0;
	}
	pthread_mutex_lock(&pm->pm_lock);
	if ((sb = sbuf_lookup(pm, va)) != NULL) {
		page = (va - sb->sb_kva) >> IOMMU_PAGE_SHIFT;
		*pa = pm->pm_base + (sb->sb_frames[page] << IOMMU_PAGE_SHIFT) +
		    (va & IOMMU_PAGE_MASK);
		error = 0;
	}
	pthread_mutex_unlock(&pm->pm_lock);
	return error;
}

/* Scattered buffer containing va, or NULL (binary search, pm_lock held). */
static struct physmem_sbuf *
sbuf_lookup(struct iommu_physmem *pm, uintptr_t va)
{
	size_t		     lo = 0, hi = pm->pm_nsbufs, mid;
	struct physmem_sbuf *sb;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		sb = &pm->pm_sbufs[mid];
		if (va < sb->sb_kva)
			hi = mid;
		else if (va - sb->sb_kva >= sb->sb_npages * IOMMU_PAGE_SIZE)
			lo = mid + 1;
		else
			return sb;
	}
	return NULL;
}

/* Adds a record to the sorted array, growing it (pm_lock held). */
static int
sbuf_insert(struct iommu_physmem *pm, const struct physmem_sbuf *nsb)
{
	struct physmem_sbuf *arr;
	size_t		     cap, i;

	if (pm->pm_nsbufs == pm->pm_sbufs_cap) {
		cap = pm->pm_sbufs_cap == 0 ? 8 : pm->pm_sbufs_cap * 2;
		arr = pm->pm_alloc->ia_alloc(
		    pm->pm_alloc->ia_ctx, cap * sizeof(*arr));
		if (arr == NULL)
			return ENOMEM;
		if (pm->pm_nsbufs > 0)
			memcpy(arr, pm->pm_sbufs, pm->pm_nsbufs * sizeof(*arr));
		if (pm->pm_sbufs != NULL)
			iommu__free(pm->pm_alloc, pm->pm_sbufs,
			    pm->pm_sbufs_cap * sizeof(*arr));
		pm->pm_sbufs = arr;
		pm->pm_sbufs_cap = cap;
	}
	for (i = pm->pm_nsbufs;
	     i > 0 && pm->pm_sbufs[i - 1].sb_kva > nsb->sb_kva; i--)
		pm->pm_sbufs[i] = pm->pm_sbufs[i - 1];
	pm->pm_sbufs[i] = *nsb;
	pm->pm_nsbufs++;
	return 0;
}

/* Unmaps a scattered buffer, frees its frames and its record. */
static void
sbuf_release(struct iommu_physmem *pm, struct physmem_sbuf *sb)
{
	size_t i, idx = (size_t)(sb - pm->pm_sbufs);

	munmap((void *)sb->sb_kva, sb->sb_npages * IOMMU_PAGE_SIZE);
	for (i = 0; i < sb->sb_npages; i++) {
		bits_clear(pm->pm_scat, sb->sb_frames[i], 1);
		frames_release(pm, sb->sb_frames[i], 1);
	}
	iommu__free(pm->pm_alloc, sb->sb_frames,
	    sb->sb_npages * sizeof(*sb->sb_frames));
	memmove(sb, sb + 1, (pm->pm_nsbufs - idx - 1) * sizeof(*sb));
	if (--pm->pm_nsbufs == 0) {
		/* An idle instance holds no bookkeeping beyond its bitmaps. */
		iommu__free(pm->pm_alloc, pm->pm_sbufs,
		    pm->pm_sbufs_cap * sizeof(*pm->pm_sbufs));
		pm->pm_sbufs = NULL;
		pm->pm_sbufs_cap = 0;
	}
}

int
iommu_physmem_alloc_scattered(
    struct iommu_physmem *pm, size_t npages, void **kva)
{
	struct physmem_sbuf sb;
	uint64_t	    f, from, prev = 0;
	size_t		    i, got = 0, len;
	uint8_t		   *va = MAP_FAILED;
	bool		    wrapped;
	int		    error = ENOMEM;

	if (pm == NULL || kva == NULL || npages == 0 ||
	    npages > SIZE_MAX / IOMMU_PAGE_SIZE / 2)
		return EINVAL;
	if (sysconf(_SC_PAGESIZE) != IOMMU_PAGE_SIZE)
		return ENOTSUP;
	len = npages * IOMMU_PAGE_SIZE;
	sb.sb_npages = npages;
	sb.sb_frames = pm->pm_alloc->ia_alloc(
	    pm->pm_alloc->ia_ctx, npages * sizeof(*sb.sb_frames));
	if (sb.sb_frames == NULL)
		return ENOMEM;
	pthread_mutex_lock(&pm->pm_lock);
	if (alloc_should_fail(pm) || npages > pm->pm_nframes - pm->pm_inuse)
		goto fail;
	/*
	 * Lowest free frame that is not next to the previous page's frame on
	 * either side; leave a gap after each frame so the run stays sparse.
	 */
	for (i = 0; i < npages; i++) {
		from = i == 0 ? pm->pm_hint : prev + 2;
		wrapped = i == 0;
		for (;;) {
			if (!frame_find_free(pm, from, &f)) {
				if (wrapped)
					goto fail;
				wrapped = true;
				from = pm->pm_hint;
				continue;
			}
			if (i == 0 || (f + 1 != prev && f != prev + 1))
				break;
			from = f + 1;
		}
		sb.sb_frames[i] = f;
		frames_take(pm, f, 1);
		bits_set(pm->pm_scat, f, 1);
		got++;
		prev = f;
	}
	va = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED)
		goto fail;
	for (i = 0; i < npages; i++) {
		if (mmap(va + i * IOMMU_PAGE_SIZE, IOMMU_PAGE_SIZE,
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			pm->pm_fd,
			(off_t)(sb.sb_frames[i] << IOMMU_PAGE_SHIFT)) ==
		    MAP_FAILED)
			goto fail;
		memset(va + i * IOMMU_PAGE_SIZE, 0, IOMMU_PAGE_SIZE);
	}
	sb.sb_kva = (uintptr_t)va;
	if ((error = sbuf_insert(pm, &sb)) != 0)
		goto fail;
	pm->pm_allocs++;
	pthread_mutex_unlock(&pm->pm_lock);
	*kva = va;
	return 0;
fail:
	if (va != MAP_FAILED)
		munmap(va, len);
	for (i = 0; i < got; i++) {
		bits_clear(pm->pm_scat, sb.sb_frames[i], 1);
		frames_release(pm, sb.sb_frames[i], 1);
	}
	pm->pm_failures++;
	pthread_mutex_unlock(&pm->pm_lock);
	iommu__free(pm->pm_alloc, sb.sb_frames, npages * sizeof(*sb.sb_frames));
	return error;
}

int
iommu_physmem_free_scattered(struct iommu_physmem *pm, void *kva)
{
	struct physmem_sbuf *sb;
	int		     error = EINVAL;

	if (pm == NULL)
		return EINVAL;
	pthread_mutex_lock(&pm->pm_lock);
	sb = sbuf_lookup(pm, (uintptr_t)kva);
	if (sb != NULL && sb->sb_kva == (uintptr_t)kva) {
		sbuf_release(pm, sb);
		error = 0;
	}
	pthread_mutex_unlock(&pm->pm_lock);
	return error;
}

static bool
pa_range_ok(const struct iommu_physmem *pm, uint64_t pa, size_t len)
{
	/* Even an empty access must name an address inside RAM. */
	return pa >= pm->pm_base && pa - pm->pm_base < pm->pm_size &&
	    len <= pm->pm_size - (pa - pm->pm_base);
}

/* An aligned 8-byte word of RAM to or from buf (any alignment), atomic. */
static inline void
load64_acquire(const uint8_t *ram, void *buf)
{
	uint64_t v = __atomic_load_n(
	    (const uint64_t *)(const void *)ram, __ATOMIC_ACQUIRE);

	memcpy(buf, &v, 8);
}

static inline void
store64_release(uint8_t *ram, const void *buf)
{
	uint64_t v;

	memcpy(&v, buf, 8);
	__atomic_store_n((uint64_t *)(void *)ram, v, __ATOMIC_RELEASE);
}

int
iommu_physmem_read(void *physmem, uint64_t pa, void *buf, size_t len)
{
	struct iommu_physmem *pm = physmem;

	if (pm == NULL || (buf == NULL && len > 0))
		return EFAULT;
	if (!pa_range_ok(pm, pa, len))
		return EFAULT;
	/* Fixed sizes inline: commands, descriptors and MSIs are hot. */
	if (len == 16)
		memcpy(buf, pm->pm_dmap + (pa - pm->pm_base), 16);
	else if (len == 8 && (pa & 7) == 0)
		load64_acquire(pm->pm_dmap + (pa - pm->pm_base), buf);
	else if (len == 4)
		memcpy(buf, pm->pm_dmap + (pa - pm->pm_base), 4);
	else if (len > 0)
		memcpy(buf, pm->pm_dmap + (pa - pm->pm_base), len);
	return 0;
}

int
iommu_physmem_write(void *physmem, uint64_t pa, const void *buf, size_t len)
{
	struct iommu_physmem *pm = physmem;

	if (pm == NULL || (buf == NULL && len > 0))
		return EFAULT;
	if (!pa_range_ok(pm, pa, len))
		return EFAULT;
	if (len == 16)
		memcpy(pm->pm_dmap + (pa - pm->pm_base), buf, 16);
	else if (len == 8 && (pa & 7) == 0)
		store64_release(pm->pm_dmap + (pa - pm->pm_base), buf);
	else if (len == 4)
		memcpy(pm->pm_dmap + (pa - pm->pm_base), buf, 4);
	else if (len > 0)
		memcpy(pm->pm_dmap + (pa - pm->pm_base), buf, len);
	return 0;
}

void
iommu_physmem_mem_ops(struct iommu_physmem *pm, struct iommu_mem_ops *out)
{
	if (out == NULL)
		return;
	out->mo_read = iommu_physmem_read;
	out->mo_write = iommu_physmem_write;
	out->mo_cookie = pm;
}

int
iommu_physmem_read64(struct iommu_physmem *pm, uint64_t pa, uint64_t *v)
{
	uint64_t raw;

	if (pm == NULL || v == NULL || (pa & 7) != 0)
		return EINVAL;
	if (!pa_range_ok(pm, pa, 8))
		return EFAULT;
	load64_acquire(pm->pm_dmap + (pa - pm->pm_base), &raw);
	*v = iommu__le64_dec(&raw);
	return 0;
}

int
iommu_physmem_write64(struct iommu_physmem *pm, uint64_t pa, uint64_t v)
{
	uint64_t raw;

	if (pm == NULL || (pa & 7) != 0)
		return EINVAL;
	if (!pa_range_ok(pm, pa, 8))
		return EFAULT;
	iommu__le64_enc(&raw, v);
	store64_release(pm->pm_dmap + (pa - pm->pm_base), &raw);
	return 0;
}

void
iommu_physmem_get_stats(
    struct iommu_physmem *pm, struct iommu_physmem_stats *st)
{
	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	if (pm == NULL)
		return;
	pthread_mutex_lock(&pm->pm_lock);
	st->ps_frames_total = pm->pm_nframes;
	st->ps_frames_in_use = pm->pm_inuse;
	st->ps_frames_hwm = pm->pm_hwm;
	st->ps_allocs = pm->pm_allocs;
	st->ps_alloc_failures = pm->pm_failures;
	pthread_mutex_unlock(&pm->pm_lock);
}

void
iommu_physmem_fail_alloc_after(struct iommu_physmem *pm, uint64_t n)
{
	if (pm == NULL)
		return;
	pthread_mutex_lock(&pm->pm_lock);
	pm->pm_fail_countdown = n;
	pthread_mutex_unlock(&pm->pm_lock);
}
