/*
 * Test-side flat simulated RAM with fault injection (see test_flatmem.h).
 *
 * The test's own accessors (test_flatmem_rd64 and friends) bypass fault
 * injection and the counters: they model the CPU, while the callbacks
 * model the SMMU's bus master port, which is what the faults target.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_flatmem.h"

static bool
range_ok(const struct test_flatmem *fm, uint64_t pa, size_t len)
{
	return pa >= fm->fm_base && len <= fm->fm_size &&
	    pa - fm->fm_base <= fm->fm_size - len;
}

static bool
overlaps(uint64_t pa, size_t len, uint64_t lo, uint64_t hi)
{
	return lo < hi && pa < hi && pa + len > lo;
}

void
test_flatmem_init(struct test_flatmem *fm, uint64_t base, uint64_t size)
{
	memset(fm, 0, sizeof(*fm));
	assert_int_equal(pthread_mutex_init(&fm->fm_lock, NULL), 0);
	fm->fm_base = base;
	fm->fm_size = size;
	fm->fm_bytes = calloc(1, (size_t)size);
	assert_non_null(fm->fm_bytes);
}

void
test_flatmem_fini(struct test_flatmem *fm)
{
	free(fm->fm_bytes);
	fm->fm_bytes = NULL;
	pthread_mutex_destroy(&fm->fm_lock);
}

int
test_flatmem_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	struct test_flatmem *fm = cookie;
	int		     error = 0;

	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_reads++;
	if (!range_ok(fm, pa, len) ||
	    overlaps(pa, len, fm->fm_bad_read_lo, fm->fm_bad_read_hi) ||
	    fm->fm_reads == fm->fm_fail_read_at)
		error = EFAULT;
	if (error == 0)
		memcpy(buf, fm->fm_bytes + (pa - fm->fm_base), len);
	else
		fm->fm_failed_reads++;
	pthread_mutex_unlock(&fm->fm_lock);
	return error;
}

int
test_flatmem_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	struct test_flatmem *fm = cookie;
	int		     error = 0;

	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_writes++;
	if (!range_ok(fm, pa, len) ||
	    overlaps(pa, len, fm->fm_bad_write_lo, fm->fm_bad_write_hi))
		error = EFAULT;
	if (error == 0)
		memcpy(fm->fm_bytes + (pa - fm->fm_base), buf, len);
	else
		fm->fm_failed_writes++;
	pthread_mutex_unlock(&fm->fm_lock);
	return error;
}

uint64_t
test_flatmem_alloc(struct test_flatmem *fm, uint64_t size, uint64_t align)
{
	uint64_t off;

	assert_true(align != 0 && (align & (align - 1)) == 0);
	pthread_mutex_lock(&fm->fm_lock);
	/* Align the physical address, not the offset. */
	off = ((fm->fm_base + fm->fm_next + align - 1) & ~(align - 1)) -
	    fm->fm_base;
	if (off > fm->fm_size || size > fm->fm_size - off) {
		pthread_mutex_unlock(&fm->fm_lock);
		fail_msg("test_flatmem: out of RAM (%llu bytes wanted)",
		    (unsigned long long)size);
	}
	memset(fm->fm_bytes + off, 0, (size_t)size);
	fm->fm_next = off + size;
	pthread_mutex_unlock(&fm->fm_lock);
	return fm->fm_base + off;
}

static void
host_access(
    struct test_flatmem *fm, uint64_t pa, void *buf, size_t len, bool write)
{
	bool ok;

	pthread_mutex_lock(&fm->fm_lock);
	ok = range_ok(fm, pa, len);
	if (ok && write)
		memcpy(fm->fm_bytes + (pa - fm->fm_base), buf, len);
	else if (ok)
		memcpy(buf, fm->fm_bytes + (pa - fm->fm_base), len);
	pthread_mutex_unlock(&fm->fm_lock);
	if (!ok)
		fail_msg("test_flatmem: host access to %#llx outside RAM",
		    (unsigned long long)pa);
}

uint64_t
test_flatmem_rd64(struct test_flatmem *fm, uint64_t pa)
{
	uint8_t	 b[8];
	uint64_t v = 0;
	int	 i;

	host_access(fm, pa, b, 8, false);
	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

void
test_flatmem_wr64(struct test_flatmem *fm, uint64_t pa, uint64_t val)
{
	uint8_t b[8];
	int	i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	host_access(fm, pa, b, 8, true);
}

uint32_t
test_flatmem_rd32(struct test_flatmem *fm, uint64_t pa)
{
	uint8_t b[4];

	host_access(fm, pa, b, 4, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

void
test_flatmem_wr32(struct test_flatmem *fm, uint64_t pa, uint32_t val)
{
	uint8_t b[4];
	int	i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	host_access(fm, pa, b, 4, true);
}

void
test_flatmem_poison_reads(struct test_flatmem *fm, uint64_t pa, uint64_t len)
{
	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_bad_read_lo = pa;
	fm->fm_bad_read_hi = pa + len;
	pthread_mutex_unlock(&fm->fm_lock);
}

void
test_flatmem_poison_writes(struct test_flatmem *fm, uint64_t pa, uint64_t len)
{
	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_bad_write_lo = pa;
	fm->fm_bad_write_hi = pa + len;
	pthread_mutex_unlock(&fm->fm_lock);
}

void
test_flatmem_fail_nth_read(struct test_flatmem *fm, unsigned long n)
{
	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_fail_read_at = n == 0 ? 0 : fm->fm_reads + n;
	pthread_mutex_unlock(&fm->fm_lock);
}

void
test_flatmem_clear_faults(struct test_flatmem *fm)
{
	pthread_mutex_lock(&fm->fm_lock);
	fm->fm_bad_read_lo = fm->fm_bad_read_hi = 0;
	fm->fm_bad_write_lo = fm->fm_bad_write_hi = 0;
	fm->fm_fail_read_at = 0;
	pthread_mutex_unlock(&fm->fm_lock);
}

unsigned long
test_flatmem_reads(struct test_flatmem *fm)
{
	unsigned long n;

	pthread_mutex_lock(&fm->fm_lock);
	n = fm->fm_reads;
	pthread_mutex_unlock(&fm->fm_lock);
	return n;
}

struct iommu_mem_ops
test_flatmem_ops(struct test_flatmem *fm)
{
	struct iommu_mem_ops ops = {
	    .mo_read = test_flatmem_read,
	    .mo_write = test_flatmem_write,
	    .mo_cookie = fm,
	};

	return ops;
}
