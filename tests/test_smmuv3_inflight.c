/*
 * SMMUv3 model under the real driver: the in-flight rule of invalidation.
 * A device thread reads one IOVA of its stream over and over while the
 * test thread remaps that IOVA through the driver (iommu_domain_remove +
 * iommu_domain_sync: PTE cleared, TLBI, CMD_SYNC; then iommu_domain_enter
 * to the next frame).  Mapping m points at a frame filled with m.  Once
 * the remove + sync of mapping m has returned, a DMA that starts later
 * must not read m: it would have used an invalidated translation (for
 * instance one that a walk in flight during the TLBI put back into the
 * TLB afterwards).  It may fault (the IOVA is briefly unmapped) or read a
 * later mapping.  A second device thread on its own stream reads a page
 * that never changes, through the same model, and must always succeed.
 *
 * The stale-translation checker is off in this test: a TLB hit between
 * the driver's PTE clear and its TLBI is legitimate, but the checker
 * (which compares with memory) would report it.  Worker threads never
 * call cmocka: they count failures, checked after joining.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/alloc.h>
#include <iommu/domain.h>
#include <iommu/pagetable.h>
#include <iommu/physmem.h>

#include "drv_fixture.h"
#include "test_alloc.h"

#define NFRAMES	   4
#define IOVA	   0x400000ULL
#define STABLE_VAL 0x5ab1e5ab1eULL
#define RW	   (IOMMU_PROT_READ | IOMMU_PROT_WRITE)

struct inflight {
	struct drv_fixture   if_fx;
	struct iommu_domain *if_dom, *if_other;
	uint64_t	     if_frame[NFRAMES], if_stable;
	/* Mappings whose remove + sync has returned: 1..if_dead are dead. */
	_Atomic uint64_t      if_dead;
	_Atomic uint64_t      if_mapped; /* mappings entered so far */
	_Atomic bool	      if_stop;
	_Atomic unsigned long if_reads, if_stable_reads;
	unsigned long	      if_bad, if_stable_bad;
};

/* The remapped stream: never a dead mapping's data. */
static void *
remapped_device(void *arg)
{
	struct inflight	   *in = arg;
	struct smmuv3_fault ft;
	uint64_t	    dead, mapped, got[2];
	uint32_t	    sid = iommu_domain_sid(in->if_dom);
	int		    error;

	while (!atomic_load_explicit(&in->if_stop, memory_order_acquire)) {
		dead = atomic_load_explicit(&in->if_dead, memory_order_acquire);
		error = drv_dev_read(
		    &in->if_fx, sid, IOVA + 0x80, got, sizeof(got), &ft);
		mapped =
		    atomic_load_explicit(&in->if_mapped, memory_order_acquire);
		atomic_fetch_add_explicit(
		    &in->if_reads, 1, memory_order_release);
		if (error == EFAULT)
			continue; /* between remove and enter */
		if (error != 0 || got[0] != got[1] || got[0] <= dead ||
		    got[0] > mapped)
			in->if_bad++;
	}
	return NULL;
}

/* Another stream on the same model: its page never changes. */
static void *
stable_device(void *arg)
{
	struct inflight	   *in = arg;
	struct smmuv3_fault ft;
	uint64_t	    v;

	while (!atomic_load_explicit(&in->if_stop, memory_order_acquire)) {
		if (drv_dev_read(&in->if_fx, iommu_domain_sid(in->if_other),
			IOVA + 0x10, &v, sizeof(v), &ft) != 0 ||
		    v != STABLE_VAL)
			in->if_stable_bad++;
		atomic_fetch_add_explicit(
		    &in->if_stable_reads, 1, memory_order_release);
	}
	return NULL;
}

static void
fill_frame(struct inflight *in, uint64_t pa, uint64_t val)
{
	unsigned i;

	for (i = 0; i < IOMMU_PAGE_SIZE / 8; i++)
		assert_int_equal(
		    iommu_physmem_write64(in->if_fx.fx_pm, pa + i * 8, val), 0);
}

static void
no_dma_reads_a_mapping_after_its_remove_and_sync(void **state)
{
	struct inflight	       *in = test_malloc(sizeof(*in));
	struct drv_fixture_opts o;
	pthread_t		th[2];
	uint64_t		m, n;
	unsigned		k;

	(void)state;
	memset(in, 0, sizeof(*in));
	drv_fixture_opts_init(&o);
	o.fo_alloc = iommu_default_allocator(); /* cmocka's is not MT-safe */
	o.fo_model.cfg_check_stale = false;	/* see the header comment */
	drv_fixture_init(&in->if_fx, &o);
	assert_int_equal(
	    iommu_domain_create(in->if_fx.fx_smmu, 0x21, NULL, &in->if_dom), 0);
	assert_int_equal(
	    iommu_domain_create(in->if_fx.fx_smmu, 0x22, NULL, &in->if_other),
	    0);
	for (k = 0; k < NFRAMES; k++)
		in->if_frame[k] = drv_fixture_page(&in->if_fx);
	in->if_stable = drv_fixture_page(&in->if_fx);
	assert_int_equal(iommu_physmem_write64(
			     in->if_fx.fx_pm, in->if_stable + 0x10, STABLE_VAL),
	    0);
	assert_int_equal(iommu_domain_enter(in->if_other, IOVA, in->if_stable,
			     RW, IOMMU_CACHE_WB),
	    0);
	fill_frame(in, in->if_frame[1], 1);
	assert_int_equal(iommu_domain_enter(in->if_dom, IOVA, in->if_frame[1],
			     RW, IOMMU_CACHE_WB),
	    0);
	atomic_init(&in->if_dead, 0);
	atomic_init(&in->if_mapped, 1);
	atomic_init(&in->if_stop, false);
	atomic_init(&in->if_reads, 0);
	atomic_init(&in->if_stable_reads, 0);
	assert_int_equal(pthread_create(&th[0], NULL, remapped_device, in), 0);
	assert_int_equal(pthread_create(&th[1], NULL, stable_device, in), 0);
	n = test_scale(1500);
	for (m = 1; m <= n; m++) {
		/* Frame (m + 1) % 4 last held mapping m - 3, dead long ago. */
		uint64_t next = in->if_frame[(m + 1) % NFRAMES];

		assert_int_equal(iommu_domain_remove(in->if_dom, IOVA), 0);
		assert_int_equal(iommu_domain_sync(in->if_dom), 0);
		atomic_store_explicit(&in->if_dead, m, memory_order_release);
		/* Announced before the PTE exists: a read may see it next. */
		atomic_store_explicit(
		    &in->if_mapped, m + 1, memory_order_release);
		fill_frame(in, next, m + 1);
		assert_int_equal(iommu_domain_enter(in->if_dom, IOVA, next, RW,
				     IOMMU_CACHE_WB),
		    0);
		if (m % 8 == 0)
			sched_yield(); /* Valgrind runs one thread at a time */
	}
	/* Under Valgrind the devices may not have run yet. */
	while (atomic_load_explicit(&in->if_reads, memory_order_acquire) == 0 ||
	    atomic_load_explicit(&in->if_stable_reads, memory_order_acquire) ==
		0)
		sched_yield();
	atomic_store_explicit(&in->if_stop, true, memory_order_release);
	for (k = 0; k < 2; k++)
		assert_int_equal(pthread_join(th[k], NULL), 0);
	assert_int_equal(in->if_bad, 0);
	assert_int_equal(in->if_stable_bad, 0);

	assert_int_equal(iommu_domain_remove(in->if_dom, IOVA), 0);
	assert_int_equal(iommu_domain_remove(in->if_other, IOVA), 0);
	assert_int_equal(iommu_domain_destroy(in->if_other), 0);
	for (k = 0; k < NFRAMES; k++)
		assert_int_equal(iommu_physmem_free_pages(
				     in->if_fx.fx_pm, in->if_frame[k], 1),
		    0);
	assert_int_equal(
	    iommu_physmem_free_pages(in->if_fx.fx_pm, in->if_stable, 1), 0);
	/* Faults were recorded while the IOVA was unmapped: drain them. */
	assert_int_equal(iommu_domain_destroy(in->if_dom), 0);
	(void)drv_fixture_drain(&in->if_fx);
	drv_fixture_fini(&in->if_fx);
	test_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_dma_reads_a_mapping_after_its_remove_and_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
