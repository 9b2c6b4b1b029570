/*
 * Test-side simulated physical memory: one flat little-endian RAM window
 * implementing iommu_mem_read_fn / iommu_mem_write_fn, with fault
 * injection and a bump allocator for aligned table memory.
 *
 * Design: fm_bytes holds fm_size bytes that appear at physical address
 * fm_base.  An access outside [fm_base, fm_base + fm_size) fails with
 * EFAULT, as does any read that overlaps an armed "poisoned" read range or
 * that is the armed n-th read; writes fail the same way for a poisoned
 * write range.  Every access takes fm_lock, so a test thread may rewrite a
 * descriptor while the model (on another thread) walks the tables.  The
 * allocator only moves forward (tests free the whole RAM at once).
 */
#ifndef TEST_FLATMEM_H
#define TEST_FLATMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommu/memops.h>

struct test_flatmem {
	pthread_mutex_t fm_lock;
	uint64_t	fm_base;
	uint64_t	fm_size;
	uint8_t	       *fm_bytes;
	uint64_t	fm_next; /* bump allocator cursor (offset) */
	/* Fault injection. */
	uint64_t      fm_bad_read_lo, fm_bad_read_hi; /* [lo, hi) */
	uint64_t      fm_bad_write_lo, fm_bad_write_hi;
	unsigned long fm_fail_read_at; /* absolute read number, 0 = off */
	/* Counters. */
	unsigned long fm_reads;
	unsigned long fm_writes;
	unsigned long fm_failed_reads;
	unsigned long fm_failed_writes;
};

/* Allocates size bytes of zeroed RAM at base; fails the test on ENOMEM. */
void test_flatmem_init(struct test_flatmem *, uint64_t base, uint64_t size);
void test_flatmem_fini(struct test_flatmem *);

/* The callbacks; cookie is the struct test_flatmem. */
int test_flatmem_read(void *cookie, uint64_t pa, void *buf, size_t len);
int test_flatmem_write(void *cookie, uint64_t pa, const void *buf, size_t len);

/*
 * Zeroed, align-aligned (power of two) block; fails the test when RAM is
 * exhausted.  Returns its physical address.
 */
uint64_t test_flatmem_alloc(
    struct test_flatmem *, uint64_t size, uint64_t align);

/* Little-endian accessors for the test side; fail the test on EFAULT. */
uint64_t test_flatmem_rd64(struct test_flatmem *, uint64_t pa);
void	 test_flatmem_wr64(struct test_flatmem *, uint64_t pa, uint64_t val);
uint32_t test_flatmem_rd32(struct test_flatmem *, uint64_t pa);
void	 test_flatmem_wr32(struct test_flatmem *, uint64_t pa, uint32_t val);

/* Reads overlapping [pa, pa + len) fail until cleared. */
void test_flatmem_poison_reads(
    struct test_flatmem *, uint64_t pa, uint64_t len);
void test_flatmem_poison_writes(
    struct test_flatmem *, uint64_t pa, uint64_t len);
/* The n-th read from now (1 = the next) fails once. */
void test_flatmem_fail_nth_read(struct test_flatmem *, unsigned long n);
void test_flatmem_clear_faults(struct test_flatmem *);
unsigned long test_flatmem_reads(struct test_flatmem *);

/* Ops bundle for code that takes struct iommu_mem_ops. */
struct iommu_mem_ops test_flatmem_ops(struct test_flatmem *);

#endif /* TEST_FLATMEM_H */
