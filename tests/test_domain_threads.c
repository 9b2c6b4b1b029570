/*
 * Threaded tests for SMMU driver domains: several threads load and unload
 * 3-page "packets" (IOVA from the arena, enter, device DMA through the
 * model, remove, sync, IOVA back) on one shared domain and on a domain
 * each, with and without per-thread PTED caches, while another thread
 * creates and destroys domains on other streams.  After every unload the
 * device must fault on the freed IOVA (a probe, so no event is recorded),
 * and at the end the model's stale checker must not have fired and every
 * page, PTED and IOVA must be back.  Run under TSan by the CI script.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/domain.h>
#include <iommu/extent.h>
#include <iommu/pool.h>

#include "drv_fixture.h"
#include "smmu_internal.h"
#include "test_alloc.h"

#define NTHREADS 4
#define PKT	 3
#define RW	 (IOMMU_PROT_READ | IOMMU_PROT_WRITE)

struct worker {
	struct drv_fixture  *w_fx;
	struct iommu_domain *w_dom;
	unsigned	     w_id;
	unsigned	     w_iters;
	uint64_t	     w_pa[PKT];
	int		     w_failed; /* first failing step, 0 = none */
};

#define CHECK(w, cond, step)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                 \
			(w)->w_failed = (step);                                \
			return NULL;                                           \
		}                                                              \
	} while (0)

static void *
worker_run(void *arg)
{
	struct worker		  *w = arg;
	struct iommu_extent_region er;
	struct smmuv3_xlate	   xl;
	struct smmuv3_fault	   ft;
	uint64_t		   iova, v;
	uint32_t		   sid = iommu_domain_sid(w->w_dom);
	unsigned		   it, p;

	for (it = 0; it < w->w_iters; it++) {
		CHECK(w,
		    iommu_domain_iova_alloc(
			w->w_dom, PKT * IOMMU_PAGE_SIZE, &er, &iova) == 0,
		    1);
		for (p = 0; p < PKT; p++)
			CHECK(w,
			    iommu_domain_enter(w->w_dom,
				iova + p * IOMMU_PAGE_SIZE, w->w_pa[p], RW,
				IOMMU_CACHE_WB) == 0,
			    2);
		for (p = 0; p < PKT; p++) {
			CHECK(w,
			    drv_dev_read(w->w_fx, sid,
				iova + p * IOMMU_PAGE_SIZE, &v, 8, &ft) == 0,
			    3);
			CHECK(w, v == ((uint64_t)w->w_id << 8 | p), 4);
		}
		for (p = 0; p < PKT; p++)
			CHECK(w,
			    iommu_domain_remove(
				w->w_dom, iova + p * IOMMU_PAGE_SIZE) == 0,
			    5);
		CHECK(w, iommu_domain_sync(w->w_dom) == 0, 6);
		for (p = 0; p < PKT; p++)
			CHECK(w,
			    smmuv3_probe(w->w_fx->fx_model, sid, SMMUV3_NO_SSID,
				iova + p * IOMMU_PAGE_SIZE, SMMUV3_ACCESS_READ,
				&xl, &ft) == EFAULT,
			    7);
		CHECK(w,
		    iommu_domain_iova_free(
			w->w_dom, iova, PKT * IOMMU_PAGE_SIZE) == 0,
		    8);
	}
	return NULL;
}

/* Creates and destroys domains next to the workers (other SIDs). */
struct churn {
	struct drv_fixture *c_fx;
	uint64_t	    c_pa;
	unsigned	    c_iters;
	int		    c_failed;
};

static void *
churn_run(void *arg)
{
	struct churn	    *c = arg;
	struct iommu_domain *dom;
	struct smmuv3_fault  ft;
	uint64_t	     v;
	unsigned	     i;
	uint32_t	     sid;

	for (i = 0; i < c->c_iters; i++) {
		/* Every fourth in a SID group of its own (a new L2 table). */
		sid = (i % 4 == 3) ? 0x1000u * (i % 15 + 1) : 0x80 + i % 3;
		if (iommu_domain_create(c->c_fx->fx_smmu, sid, NULL, &dom) !=
		    0) {
			c->c_failed = 1;
			return NULL;
		}
		if (iommu_domain_enter(dom, 0x3000, c->c_pa, RW, 0) != 0 ||
		    drv_dev_read(c->c_fx, sid, 0x3000, &v, 8, &ft) != 0 ||
		    v != 0xc0ffee) {
			c->c_failed = 2;
			return NULL;
		}
		if (iommu_domain_destroy(dom) != 0) {
			c->c_failed = 3;
			return NULL;
		}
	}
	return NULL;
}

static void
run_workers(bool shared, bool percpu)
{
	struct drv_fixture_opts	  o;
	struct drv_fixture	  fx;
	struct worker		  w[NTHREADS];
	pthread_t		  t[NTHREADS];
	struct iommu_domain	 *doms[NTHREADS];
	struct iommu_domain_stats ds;
	struct iommu_pool_stats	  ps;
	struct churn		  ch;
	pthread_t		  cht;
	unsigned		  i, p, ndom = shared ? 1 : NTHREADS;

	drv_fixture_opts_init(&o);
	o.fo_alloc = iommu_default_allocator(); /* cmocka's is not MT-safe */
	o.fo_smmu.sc_pted_percpu = percpu;
	o.fo_smmu.sc_cmdq_log2 = 4; /* small: the queue fills under load */
	drv_fixture_init(&fx, &o);
	for (i = 0; i < ndom; i++)
		assert_int_equal(
		    iommu_domain_create(fx.fx_smmu, 0x40 + i, NULL, &doms[i]),
		    0);
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].w_fx = &fx;
		w[i].w_dom = doms[shared ? 0 : i];
		w[i].w_id = i;
		w[i].w_iters = (unsigned)test_scale(400);
		for (p = 0; p < PKT; p++) {
			w[i].w_pa[p] = drv_fixture_page(&fx);
			assert_int_equal(
			    iommu_physmem_write64(
				fx.fx_pm, w[i].w_pa[p], (uint64_t)i << 8 | p),
			    0);
		}
	}
	memset(&ch, 0, sizeof(ch));
	ch.c_fx = &fx;
	ch.c_pa = drv_fixture_page(&fx);
	ch.c_iters = (unsigned)test_scale(60);
	assert_int_equal(iommu_physmem_write64(fx.fx_pm, ch.c_pa, 0xc0ffee), 0);
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	assert_int_equal(pthread_create(&cht, NULL, churn_run, &ch), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].w_failed, 0);
	}
	assert_int_equal(pthread_join(cht, NULL), 0);
	assert_int_equal(ch.c_failed, 0);
	assert_int_equal(iommu_physmem_free_pages(fx.fx_pm, ch.c_pa, 1), 0);
	assert_int_equal(fx.fx_stale, 0);
	assert_int_equal(drv_fixture_drain(&fx), 0);
	for (i = 0; i < ndom; i++) {
		iommu_domain_get_stats(doms[i], &ds);
		assert_int_equal(ds.ds_pages_mapped, 0);
		assert_int_equal(ds.ds_iova_bytes, 0);
		assert_int_equal(ds.ds_enters, ds.ds_removes);
		assert_int_equal(ds.ds_iova_allocs, ds.ds_iova_frees);
		assert_int_equal(iommu_domain_destroy(doms[i]), 0);
	}
	iommu_pool_cache_flush(fx.fx_smmu->sc_pted_pool);
	iommu_pool_get_stats(fx.fx_smmu->sc_pted_pool, &ps);
	assert_int_equal(ps.pst_items_out - ps.pst_items_cached, 0);
	for (i = 0; i < NTHREADS; i++)
		for (p = 0; p < PKT; p++)
			assert_int_equal(
			    iommu_physmem_free_pages(fx.fx_pm, w[i].w_pa[p], 1),
			    0);
	drv_fixture_fini(&fx);
}

static void
test_threads_one_domain(void **state)
{
	(void)state;
	run_workers(true, false);
}

static void
test_threads_own_domains(void **state)
{
	(void)state;
	run_workers(false, false);
}

static void
test_threads_percpu_pteds(void **state)
{
	(void)state;
	run_workers(true, true);
}

/* Devices fault from two threads while a third drains the event queue. */
struct faulter {
	struct drv_fixture *f_fx;
	uint32_t	    f_sid;
	unsigned	    f_n;
	int		    f_failed;
};

static void *
faulter_run(void *arg)
{
	struct faulter	   *f = arg;
	struct smmuv3_fault ft;
	uint8_t		    b;
	unsigned	    i;

	for (i = 0; i < f->f_n; i++)
		if (drv_dev_read(f->f_fx, f->f_sid, 0x100000 + i * 0x1000, &b,
			1, &ft) != EFAULT ||
		    ft.ft_event != SMMU_EVT_F_TRANSLATION)
			f->f_failed = 1;
	return NULL;
}

struct drainer {
	struct drv_fixture *d_fx;
	_Atomic int	    d_stop;
	size_t		    d_total;
	int		    d_failed;
};

static void *
drainer_run(void *arg)
{
	struct drainer *d = arg;
	size_t		n;

	while (!atomic_load(&d->d_stop)) {
		if (iommu_smmu_drain_events(d->d_fx->fx_smmu, &n) != 0)
			d->d_failed = 1;
		d->d_total += n;
	}
	return NULL;
}

static void
test_threads_event_drain(void **state)
{
	struct drv_fixture_opts o;
	struct drv_fixture	fx;
	struct iommu_domain    *doms[2];
	struct faulter		f[2];
	struct drainer		d;
	struct iommu_smmu_stats st;
	pthread_t		ft[2], dt;
	size_t			n;
	unsigned		i;

	(void)state;
	drv_fixture_opts_init(&o);
	o.fo_alloc = iommu_default_allocator();
	o.fo_smmu.sc_evtq_log2 = 10; /* room for every record */
	drv_fixture_init(&fx, &o);
	memset(&d, 0, sizeof(d));
	d.d_fx = &fx;
	for (i = 0; i < 2; i++) {
		assert_int_equal(
		    iommu_domain_create(fx.fx_smmu, 0x60 + i, NULL, &doms[i]),
		    0);
		memset(&f[i], 0, sizeof(f[i]));
		f[i].f_fx = &fx;
		f[i].f_sid = 0x60 + i;
		f[i].f_n = (unsigned)test_scale(400);
	}
	assert_int_equal(pthread_create(&dt, NULL, drainer_run, &d), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(
		    pthread_create(&ft[i], NULL, faulter_run, &f[i]), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(ft[i], NULL), 0);
		assert_int_equal(f[i].f_failed, 0);
	}
	atomic_store(&d.d_stop, 1);
	assert_int_equal(pthread_join(dt, NULL), 0);
	assert_int_equal(d.d_failed, 0);
	assert_int_equal(iommu_smmu_drain_events(fx.fx_smmu, &n), 0);
	assert_int_equal(d.d_total + n, f[0].f_n + f[1].f_n);
	assert_int_equal(fx.fx_nevents, f[0].f_n + f[1].f_n);
	iommu_smmu_get_stats(fx.fx_smmu, &st);
	assert_int_equal(st.ss_events_lost, 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(iommu_domain_destroy(doms[i]), 0);
	drv_fixture_fini(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads_one_domain),
	    cmocka_unit_test(test_threads_own_domains),
	    cmocka_unit_test(test_threads_percpu_pteds),
	    cmocka_unit_test(test_threads_event_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
