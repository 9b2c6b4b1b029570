/*
 * SMMUv3 model: thread safety.  Several device threads translate and DMA
 * on their own streams while a "driver" thread keeps remapping pages and
 * issuing TLBI + CMD_SYNC, and other threads read registers and stats.
 * Every translation must return either the old or the new mapping of a
 * page, never anything else; DMA data must round-trip.  Run under TSan by
 * the CI (label "threads").  Worker threads never call cmocka: they count
 * failures, which the main thread checks after joining.
 *
 * The in-flight rule (device accesses run concurrently on the shared side
 * of the model's lock): once a TLBI + CMD_SYNC has completed, no access
 * that starts afterwards may use the old translation, including one whose
 * walk read the old table before the TLBI and whose TLB fill comes after.
 * One test checks it by data: every remap points the page at a frame
 * holding the remap's number, so a DMA that starts after remap u was
 * synced must read u or later.  Another hammers two streams while a
 * third thread invalidates, with the stale-translation checker on.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"
#include "test_alloc.h"

#define NWORKERS 3
#define NPAGES	 8
#define IOVA	 0x20000000ULL

struct shared {
	struct smmu_td	   sh_td;
	struct smmu_td_dom sh_dom[NWORKERS];
	uint64_t	   sh_pa[2]; /* the two targets of a remapped page */
	uint64_t	   sh_dma[NWORKERS];
	unsigned long	   sh_iters;
	pthread_mutex_t	   sh_lock;
	unsigned long	   sh_bad; /* failures seen by workers */
	bool		   sh_stop;
};

struct worker {
	struct shared *wk_sh;
	unsigned       wk_id;
};

static void
bad(struct shared *sh)
{
	pthread_mutex_lock(&sh->sh_lock);
	sh->sh_bad++;
	pthread_mutex_unlock(&sh->sh_lock);
}

static void *
device_thread(void *arg)
{
	struct worker	   *wk = arg;
	struct shared	   *sh = wk->wk_sh;
	uint32_t	    sid = sh->sh_dom[wk->wk_id].dm_sid;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint8_t		    out[6000], in[6000];
	unsigned long	    i;
	unsigned	    j;

	for (i = 0; i < sh->sh_iters; i++) {
		uint64_t iova = IOVA + (i % NPAGES) * SMMU_TD_4K;

		if (smmuv3_translate(sh->sh_td.td_smmu, sid, SMMUV3_NO_SSID,
			iova + 8, SMMUV3_ACCESS_READ, &xl, &ft) != 0 ||
		    (xl.xl_pa != sh->sh_pa[0] + 8 &&
			xl.xl_pa != sh->sh_pa[1] + 8))
			bad(sh);
		/* DMA through the private, never remapped window. */
		for (j = 0; j < sizeof(out); j++)
			out[j] = (uint8_t)(i + j + wk->wk_id);
		if (smmuv3_dma_write(sh->sh_td.td_smmu, sid, SMMUV3_NO_SSID,
			IOVA + 0x100000 + 100, out, sizeof(out), NULL) != 0 ||
		    smmuv3_dma_read(sh->sh_td.td_smmu, sid, SMMUV3_NO_SSID,
			IOVA + 0x100000 + 100, in, sizeof(in), NULL) != 0 ||
		    memcmp(in, out, sizeof(in)) != 0)
			bad(sh);
		/* A fault now and then: events from several threads. */
		if (i % 64 == 0 &&
		    smmuv3_translate(sh->sh_td.td_smmu, sid, SMMUV3_NO_SSID,
			0x7000000000ULL, SMMUV3_ACCESS_WRITE, &xl,
			&ft) != EFAULT)
			bad(sh);
	}
	return NULL;
}

/* Reads registers, stats and the TLB until told to stop. */
static void *
observer_thread(void *arg)
{
	struct shared	   *sh = arg;
	struct smmuv3_stats st;
	uint64_t	    v;
	bool		    stop;

	do {
		if (smmuv3_mmio_read(sh->sh_td.td_smmu, SMMU_CR0ACK, 4, &v) !=
			0 ||
		    smmuv3_mmio_read(
			sh->sh_td.td_smmu, SMMU_EVENTQ_PROD, 4, &v) != 0)
			bad(sh);
		smmuv3_get_stats(sh->sh_td.td_smmu, &st);
		(void)smmuv3_tlb_foreach(sh->sh_td.td_smmu, NULL, NULL);
		(void)smmuv3_cfgcache_count(sh->sh_td.td_smmu);
		pthread_mutex_lock(&sh->sh_lock);
		stop = sh->sh_stop;
		pthread_mutex_unlock(&sh->sh_lock);
		/* Leave the CPU to the others (Valgrind runs one at a time). */
		sched_yield();
	} while (!stop);
	return NULL;
}

static void
shared_init(struct shared *sh)
{
	unsigned w, p;

	memset(sh, 0, sizeof(*sh));
	assert_int_equal(pthread_mutex_init(&sh->sh_lock, NULL), 0);
	smmu_td_init(&sh->sh_td, NULL, 0);
	smmu_td_enable(&sh->sh_td, NULL);
	sh->sh_pa[0] = test_flatmem_alloc(&sh->sh_td.td_mem, 4096, 4096);
	sh->sh_pa[1] = test_flatmem_alloc(&sh->sh_td.td_mem, 4096, 4096);
	sh->sh_iters = test_scale(SMMU_TD_SANITIZED ? 600 : 3000);
	for (w = 0; w < NWORKERS; w++) {
		struct smmu_td_dom *d = &sh->sh_dom[w];

		smmu_td_attach(&sh->sh_td, d, 10 + w, (uint16_t)(10 + w), 0, 0);
		for (p = 0; p < NPAGES; p++)
			smmu_td_map(&sh->sh_td, d->dm_root,
			    IOVA + p * SMMU_TD_4K, sh->sh_pa[0], SMMU_TD_4K,
			    SMMU_TD_PTE_RW);
		sh->sh_dma[w] = test_flatmem_alloc(
		    &sh->sh_td.td_mem, 2 * SMMU_TD_4K + 4096, SMMU_TD_4K);
		for (p = 0; p < 3; p++)
			smmu_td_map(&sh->sh_td, d->dm_root,
			    IOVA + 0x100000 + p * SMMU_TD_4K,
			    sh->sh_dma[w] + p * SMMU_TD_4K, SMMU_TD_4K,
			    SMMU_TD_PTE_RW);
	}
}

static void
shared_fini(struct shared *sh)
{
	smmu_td_fini(&sh->sh_td);
	pthread_mutex_destroy(&sh->sh_lock);
}

static void
devices_translate_while_driver_remaps_and_invalidates(void **state)
{
	struct shared	   *sh = test_malloc(sizeof(*sh));
	struct worker	    wk[NWORKERS];
	pthread_t	    th[NWORKERS], obs;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	unsigned long	    i;
	unsigned	    w, p;

	(void)state;
	shared_init(sh);
	for (w = 0; w < NWORKERS; w++) {
		wk[w].wk_sh = sh;
		wk[w].wk_id = w;
		assert_int_equal(
		    pthread_create(&th[w], NULL, device_thread, &wk[w]), 0);
	}
	assert_int_equal(pthread_create(&obs, NULL, observer_thread, sh), 0);
	/* The driver: flip pages between the two targets, invalidating. */
	for (i = 0; i < sh->sh_iters / 4; i++) {
		struct smmu_td_dom *d = &sh->sh_dom[i % NWORKERS];
		uint64_t	    iova = IOVA + (i % NPAGES) * SMMU_TD_4K;

		smmu_td_map(&sh->sh_td, d->dm_root, iova,
		    sh->sh_pa[(i / 3) & 1], SMMU_TD_4K, SMMU_TD_PTE_RW);
		if (i % 7 == 0)
			smmu_td_cmd_sync(&sh->sh_td,
			    smmu_cmd_tlbi_asid(
				SMMU_OP_TLBI_NH_ASID, d->dm_asid));
		else
			smmu_td_cmd_sync(&sh->sh_td,
			    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, d->dm_asid,
				iova, true, 0, 0, 0, 0));
	}
	for (w = 0; w < NWORKERS; w++)
		assert_int_equal(pthread_join(th[w], NULL), 0);
	pthread_mutex_lock(&sh->sh_lock);
	sh->sh_stop = true;
	pthread_mutex_unlock(&sh->sh_lock);
	assert_int_equal(pthread_join(obs, NULL), 0);
	assert_int_equal(sh->sh_bad, 0);

	/* Quiescent: every page now translates to what memory says. */
	for (w = 0; w < NWORKERS; w++)
		for (p = 0; p < NPAGES; p++) {
			uint64_t iova = IOVA + p * SMMU_TD_4K;
			uint64_t pte = test_flatmem_rd64(&sh->sh_td.td_mem,
			    smmu_td_pte_pa(
				&sh->sh_td, sh->sh_dom[w].dm_root, iova, 3));

			assert_int_equal(smmuv3_translate(sh->sh_td.td_smmu,
					     10 + w, SMMUV3_NO_SSID, iova,
					     SMMUV3_ACCESS_READ, &xl, &ft),
			    0);
			assert_int_equal(xl.xl_pa, pte & SMMU_PTE_OA_MASK(12));
		}
	assert_true(smmu_td_drain_events(&sh->sh_td) > 0);
	shared_fini(sh);
	test_free(sh);
}

struct inst_arg {
	struct smmu_td	  *ia_td;
	struct smmu_td_dom ia_dom;
	unsigned long	   ia_bad;
	unsigned long	   ia_iters;
};

static void *
instance_thread(void *arg)
{
	struct inst_arg	   *ia = arg;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	unsigned long	    i;

	for (i = 0; i < ia->ia_iters; i++)
		if (smmuv3_translate(ia->ia_td->td_smmu, 1, SMMUV3_NO_SSID,
			IOVA + (i & 3) * SMMU_TD_4K, SMMUV3_ACCESS_READ, &xl,
			&ft) != 0 ||
		    xl.xl_pa != SMMU_TD_RAM_BASE + 0x80000 + (i & 3) * 4096)
			ia->ia_bad++;
	return NULL;
}

static void
separate_instances_run_in_parallel(void **state)
{
	struct smmu_td *td = test_malloc(2 * sizeof(*td));
	struct inst_arg ia[2];
	pthread_t	th[2];
	unsigned	k, p;

	(void)state;
	for (k = 0; k < 2; k++) {
		smmu_td_init(&td[k], NULL, 1 << 20);
		smmu_td_enable(&td[k], NULL);
		ia[k].ia_td = &td[k];
		ia[k].ia_bad = 0;
		ia[k].ia_iters = test_scale(SMMU_TD_SANITIZED ? 1000 : 5000);
		smmu_td_attach(&td[k], &ia[k].ia_dom, 1, 1, 0, 0);
		for (p = 0; p < 4; p++)
			smmu_td_map(&td[k], ia[k].ia_dom.dm_root,
			    IOVA + p * SMMU_TD_4K,
			    SMMU_TD_RAM_BASE + 0x80000 + p * 4096, SMMU_TD_4K,
			    SMMU_TD_PTE_RW);
	}
	for (k = 0; k < 2; k++)
		assert_int_equal(
		    pthread_create(&th[k], NULL, instance_thread, &ia[k]), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(th[k], NULL), 0);
		assert_int_equal(ia[k].ia_bad, 0);
		smmu_td_fini(&td[k]);
	}
	test_free(td);
}

#define INFL_FRAMES 4
#define INFL_IOVA   0x30000000ULL
#define INFL_SID    20

struct inflight {
	struct smmu_td	      if_td;
	struct smmu_td_dom    if_dom;
	uint64_t	      if_frame[INFL_FRAMES];
	_Atomic uint64_t      if_synced; /* remaps whose CMD_SYNC completed */
	_Atomic bool	      if_stop;
	unsigned long	      if_bad, if_old_seen;
	_Atomic unsigned long if_dmas;
};

/* Reads the remapped page until told to stop; checks the remap number. */
static void *
inflight_device(void *arg)
{
	struct inflight	   *in = arg;
	struct smmuv3_fault ft;
	uint64_t	    before, after, got[2];

	while (!atomic_load_explicit(&in->if_stop, memory_order_acquire)) {
		before =
		    atomic_load_explicit(&in->if_synced, memory_order_acquire);
		if (smmuv3_dma_read(in->if_td.td_smmu, INFL_SID, SMMUV3_NO_SSID,
			INFL_IOVA + 64, got, sizeof(got), &ft) != 0) {
			in->if_bad++;
			continue;
		}
		after =
		    atomic_load_explicit(&in->if_synced, memory_order_acquire);
		atomic_fetch_add_explicit(
		    &in->if_dmas, 1, memory_order_release);
		/*
		 * Remap before + 1 may be live already (its PTE written, its
		 * sync pending), so anything in [before, after + 1] is fine.
		 */
		if (got[0] != got[1] || got[0] < before || got[0] > after + 1)
			in->if_bad++;
		else if (got[0] < after)
			in->if_old_seen++; /* in flight across a sync: allowed
					    */
	}
	return NULL;
}

static void
inflight_fill(struct inflight *in, uint64_t frame, uint64_t m)
{
	unsigned i;

	for (i = 0; i < 4096 / 8; i++)
		test_flatmem_wr64(&in->if_td.td_mem, frame + i * 8, m);
}

static void
dma_never_uses_a_translation_invalidated_before_it_started(void **state)
{
	struct inflight *in = test_malloc(sizeof(*in));
	pthread_t	 th;
	uint64_t	 m, n;
	unsigned	 k;

	(void)state;
	memset(in, 0, sizeof(*in));
	smmu_td_init(&in->if_td, NULL, 0);
	smmu_td_enable(&in->if_td, NULL);
	smmu_td_attach(&in->if_td, &in->if_dom, INFL_SID, INFL_SID, 0, 0);
	for (k = 0; k < INFL_FRAMES; k++)
		in->if_frame[k] =
		    test_flatmem_alloc(&in->if_td.td_mem, 4096, 4096);
	inflight_fill(in, in->if_frame[0], 0);
	smmu_td_map(&in->if_td, in->if_dom.dm_root, INFL_IOVA, in->if_frame[0],
	    SMMU_TD_4K, SMMU_TD_PTE_RW);
	atomic_init(&in->if_synced, 0);
	atomic_init(&in->if_dmas, 0);
	atomic_init(&in->if_stop, false);
	assert_int_equal(pthread_create(&th, NULL, inflight_device, in), 0);
	n = test_scale(SMMU_TD_SANITIZED ? 1500 : 8000);
	for (m = 1; m <= n; m++) {
		/* Frame m % 4 last served remap m - 4, dead since sync m - 3.
		 */
		uint64_t frame = in->if_frame[m % INFL_FRAMES];

		inflight_fill(in, frame, m);
		smmu_td_map(&in->if_td, in->if_dom.dm_root, INFL_IOVA, frame,
		    SMMU_TD_4K, SMMU_TD_PTE_RW);
		if (m % 5 == 0)
			smmu_td_cmd_sync(&in->if_td,
			    smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, INFL_SID));
		else if (m % 13 == 0)
			smmu_td_cmd_sync(&in->if_td,
			    smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
		else
			smmu_td_cmd_sync(&in->if_td,
			    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, INFL_SID,
				INFL_IOVA, true, 0, 0, 0, 0));
		atomic_store_explicit(&in->if_synced, m, memory_order_release);
		/* Let the device run between remaps (Valgrind: one CPU). */
		if (m % 16 == 0)
			sched_yield();
	}
	/* Under Valgrind the device may not have run yet. */
	while (atomic_load_explicit(&in->if_dmas, memory_order_acquire) == 0)
		sched_yield();
	atomic_store_explicit(&in->if_stop, true, memory_order_release);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(in->if_bad, 0);
	smmu_td_fini(&in->if_td);
	test_free(in);
}

#define HAM_STREAMS 2
#define HAM_PAGES   8
#define HAM_IOVA    0x40000000ULL
#define HAM_ASID    30

/*
 * Two streams sharing one ASID and one table (as streams of one domain
 * do): both threads fill and read the same TLB entries, so a torn fill
 * would show.  Each has its own DMA window in that table.
 */
struct hammer {
	struct smmu_td	   hm_td;
	struct smmu_td_dom hm_dom[HAM_STREAMS];
	uint64_t	   hm_page[HAM_PAGES];
	uint64_t	   hm_dma[HAM_STREAMS];
	_Atomic bool	   hm_stop;
};

struct hammer_arg {
	struct hammer	     *ha_hm;
	unsigned	      ha_id;
	unsigned long	      ha_bad;
	_Atomic unsigned long ha_iters;
};

/*
 * A device on its own stream: reads the stable pages (each holds its own
 * physical address), round-trips data through its window and faults now
 * and then.
 */
static void *
hammer_device(void *arg)
{
	struct hammer_arg  *ha = arg;
	struct hammer	   *hm = ha->ha_hm;
	uint32_t	    sid = hm->hm_dom[ha->ha_id].dm_sid;
	uint64_t	    win = HAM_IOVA + 0x100000 + ha->ha_id * 0x10000;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint8_t		    out[5000], in[5000];
	uint64_t	    v;
	unsigned long	    i;
	unsigned	    p, j;

	for (i = 0; !atomic_load_explicit(&hm->hm_stop, memory_order_acquire);
	     i++,
	    atomic_fetch_add_explicit(&ha->ha_iters, 1, memory_order_release)) {
		p = (unsigned)(i % HAM_PAGES);
		if (smmuv3_dma_read(hm->hm_td.td_smmu, sid, SMMUV3_NO_SSID,
			HAM_IOVA + p * SMMU_TD_4K + 8 * p, &v, sizeof(v),
			&ft) != 0 ||
		    v != hm->hm_page[p])
			ha->ha_bad++;
		for (j = 0; j < sizeof(out); j++)
			out[j] = (uint8_t)(i * 7 + j + ha->ha_id);
		if (smmuv3_dma_write(hm->hm_td.td_smmu, sid, SMMUV3_NO_SSID,
			win + 300, out, sizeof(out), NULL) != 0 ||
		    smmuv3_dma_read(hm->hm_td.td_smmu, sid, SMMUV3_NO_SSID,
			win + 300, in, sizeof(in), NULL) != 0 ||
		    memcmp(in, out, sizeof(in)) != 0)
			ha->ha_bad++;
		if (i % 97 == 0 &&
		    smmuv3_translate(hm->hm_td.td_smmu, sid, SMMUV3_NO_SSID,
			0x7000000000ULL, SMMUV3_ACCESS_READ, &xl,
			&ft) != EFAULT)
			ha->ha_bad++;
	}
	return NULL;
}

static void
hammer_init(struct hammer *hm)
{
	struct smmuv3_config cfg;
	unsigned	     w, p;

	memset(hm, 0, sizeof(*hm));
	smmuv3_config_init(&cfg);
	cfg.cfg_check_stale = true;
	cfg.cfg_tlb_sets = 4; /* small: fills evict each other's entries */
	smmu_td_init(&hm->hm_td, &cfg, 0);
	smmu_td_enable(&hm->hm_td, NULL);
	for (w = 0; w < HAM_STREAMS; w++) {
		struct smmu_td_dom *d = &hm->hm_dom[w];

		smmu_td_attach(&hm->hm_td, d, 30 + w, HAM_ASID, 0, 0);
		if (w > 0) {
			/* Not used yet: nothing cached, no CFGI owed. */
			d->dm_root = hm->hm_dom[0].dm_root;
			smmu_cd_s1(d->dm_cd, d->dm_root, HAM_ASID);
			smmu_td_dom_rewrite(&hm->hm_td, d);
		}
		hm->hm_dma[w] = test_flatmem_alloc(
		    &hm->hm_td.td_mem, 2 * SMMU_TD_4K, SMMU_TD_4K);
		for (p = 0; p < 2; p++)
			smmu_td_map(&hm->hm_td, d->dm_root,
			    HAM_IOVA + 0x100000 + w * 0x10000 + p * SMMU_TD_4K,
			    hm->hm_dma[w] + p * SMMU_TD_4K, SMMU_TD_4K,
			    SMMU_TD_PTE_RW);
	}
	for (p = 0; p < HAM_PAGES; p++) {
		hm->hm_page[p] =
		    test_flatmem_alloc(&hm->hm_td.td_mem, 4096, 4096);
		test_flatmem_wr64(
		    &hm->hm_td.td_mem, hm->hm_page[p] + 8 * p, hm->hm_page[p]);
		smmu_td_map(&hm->hm_td, hm->hm_dom[0].dm_root,
		    HAM_IOVA + p * SMMU_TD_4K, hm->hm_page[p], SMMU_TD_4K,
		    SMMU_TD_PTE_RW);
	}
}

/* One invalidation of kind k (nothing in memory changes). */
static void
hammer_invalidate(struct hammer *hm, unsigned long k)
{
	uint32_t sid = hm->hm_dom[k % HAM_STREAMS].dm_sid;

	switch (k % 6) {
	case 0:
		smmu_td_cmd_sync(&hm->hm_td,
		    smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, HAM_ASID));
		break;
	case 1:
		smmu_td_cmd_sync(&hm->hm_td,
		    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, HAM_ASID,
			HAM_IOVA + (k % HAM_PAGES) * SMMU_TD_4K, true, 0, 0, 0,
			0));
		break;
	case 2:
		smmu_td_cmd_sync(
		    &hm->hm_td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
		break;
	case 3:
		smmu_td_cmd_sync(&hm->hm_td, smmu_cmd_cfgi_ste(sid, true));
		break;
	case 4:
		smmu_td_cmd_sync(&hm->hm_td, smmu_cmd_cfgi_cd(sid, 0, true));
		break;
	default:
		smmu_td_cmd_sync(&hm->hm_td,
		    smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VAA, 0,
			HAM_IOVA + 0x100000, true, 0, 0, 0, 0));
		break;
	}
}

static void
two_streams_hammer_dma_while_a_third_thread_invalidates(void **state)
{
	struct hammer	   *hm = test_malloc(sizeof(*hm));
	struct hammer_arg   ha[HAM_STREAMS];
	struct smmuv3_stats st;
	pthread_t	    th[HAM_STREAMS];
	unsigned long	    i, n;
	unsigned	    w;

	(void)state;
	hammer_init(hm);
	atomic_init(&hm->hm_stop, false);
	for (w = 0; w < HAM_STREAMS; w++) {
		ha[w].ha_hm = hm;
		ha[w].ha_id = w;
		ha[w].ha_bad = 0;
		atomic_init(&ha[w].ha_iters, 0);
		assert_int_equal(
		    pthread_create(&th[w], NULL, hammer_device, &ha[w]), 0);
	}
	/*
	 * The invalidating thread: every kind of TLBI and CFGI for the two
	 * streams, so fills race invalidations and config-cache misses send
	 * accesses to the exclusive side.  As the tables never change, no
	 * translation may change and no stale report may appear.
	 */
	n = test_scale(SMMU_TD_SANITIZED ? 800 : 4000);
	for (i = 0; i < n; i++) {
		hammer_invalidate(hm, i);
		if (i % 8 == 0)
			sched_yield();
	}
	/* Under Valgrind a device may not have run yet. */
	for (w = 0; w < HAM_STREAMS; w++)
		while (atomic_load_explicit(
			   &ha[w].ha_iters, memory_order_acquire) == 0)
			sched_yield();
	atomic_store_explicit(&hm->hm_stop, true, memory_order_release);
	for (w = 0; w < HAM_STREAMS; w++) {
		assert_int_equal(pthread_join(th[w], NULL), 0);
		assert_int_equal(ha[w].ha_bad, 0);
	}
	assert_int_equal(smmu_td_stale_count(&hm->hm_td), 0);
	smmuv3_get_stats(hm->hm_td.td_smmu, &st);
	assert_int_equal(st.st_stale, 0);
	/* Every translation is a TLB hit or a miss, or faulted before. */
	assert_true(st.st_tlb_hits + st.st_tlb_misses <= st.st_translations);
	assert_true(st.st_tlb_misses > 0 && st.st_tlb_hits > 0);
	assert_true(smmu_td_drain_events(&hm->hm_td) > 0);
	smmu_td_fini(&hm->hm_td);
	test_free(hm);
}

/*
 * The command side: a walk or a DMA held in flight by the read gate
 * (smmu_td_gate_*) while TLBIs and a CMD_SYNC are processed.
 */
struct held {
	struct smmu_td	   *hd_td;
	uint32_t	    hd_sid;
	uint64_t	    hd_iova;
	bool		    hd_dma; /* smmuv3_dma_read, else smmuv3_translate */
	int		    hd_error;
	uint64_t	    hd_pa; /* what the translation gave */
	uint64_t	    hd_data;
	uint32_t	    hd_prod; /* the doorbell's value */
	_Atomic bool	    hd_done;
	struct smmuv3_fault hd_ft;
};

static void *
held_access(void *arg)
{
	struct held	   *h = arg;
	struct smmuv3_xlate xl;

	if (h->hd_dma)
		h->hd_error = smmuv3_dma_read(h->hd_td->td_smmu, h->hd_sid,
		    SMMUV3_NO_SSID, h->hd_iova, &h->hd_data, sizeof(h->hd_data),
		    &h->hd_ft);
	else {
		h->hd_error = smmuv3_translate(h->hd_td->td_smmu, h->hd_sid,
		    SMMUV3_NO_SSID, h->hd_iova, SMMUV3_ACCESS_READ, &xl,
		    &h->hd_ft);
		h->hd_pa = xl.xl_pa;
	}
	atomic_store(&h->hd_done, true);
	return NULL;
}

static void *
ring_doorbell(void *arg)
{
	struct held *h = arg;

	h->hd_error =
	    smmuv3_mmio_write(h->hd_td->td_smmu, SMMU_CMDQ_PROD, 4, h->hd_prod);
	atomic_store(&h->hd_done, true);
	return NULL;
}

/*
 * A walk reads the old leaf, then a TLBI for that page runs to completion
 * (on the command side, not waiting for the walk), then the walk enters
 * its leaf: the entry must not survive, so after the CMD_SYNC the page
 * translates to its new frame.  (The access itself may use the old
 * frame: it was in flight.)
 */
static void
tlbi_during_a_walk_leaves_no_stale_entry(void **state)
{
	struct smmu_td	   td;
	struct smmu_td_dom d;
	struct held	   h;
	struct smmu_cmd	   c;
	pthread_t	   t;
	uint64_t	   pa1 = SMMU_TD_RAM_BASE + 0x100000;
	uint64_t	   pa2 = SMMU_TD_RAM_BASE + 0x200000;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_enable(&td, NULL);
	smmu_td_attach(&td, &d, 3, 3, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_map(&td, d.dm_root, IOVA, pa1, SMMU_TD_4K, SMMU_TD_PTE_RW);
	/* Another page first: the held walk must not need the config cache
	 * filled (that runs on the exclusive side). */
	smmu_td_map(
	    &td, d.dm_root, IOVA + SMMU_TD_4K, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	assert_int_equal(smmu_td_pa_of(&td, 3, IOVA + SMMU_TD_4K), pa2);
	memset(&h, 0, sizeof(h));
	h.hd_td = &td;
	h.hd_sid = 3;
	h.hd_iova = IOVA;
	smmu_td_gate_arm(&td, smmu_td_pte_pa(&td, d.dm_root, IOVA, 3));
	assert_int_equal(pthread_create(&t, NULL, held_access, &h), 0);
	smmu_td_gate_wait_parked(&td);
	smmu_td_map(&td, d.dm_root, IOVA, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	c = smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 3, IOVA, true, 0, 0, 0, 0);
	assert_int_equal(smmu_td_submit(&td, &c, 1), 0);
	smmu_td_gate_open(&td);
	pthread_join(t, NULL);
	assert_int_equal(h.hd_error, 0);
	assert_int_equal(h.hd_pa, pa1);
	smmu_td_sync(&td);
	assert_int_equal(smmu_td_pa_of(&td, 3, IOVA), pa2);
	smmu_td_fini(&td);
}

/*
 * A DMA holds its access in flight (parked in the host's memory read):
 * TLBIs complete and other accesses keep translating meanwhile, but the
 * CMD_SYNC behind them completes only once that DMA has finished.
 */
static void
cmd_sync_waits_for_the_access_in_flight(void **state)
{
	struct smmu_td	   td;
	struct smmu_td_dom d;
	struct held	   dma, bell;
	struct smmu_cmd	   c[2];
	pthread_t	   t_dma, t_bell;
	uint64_t	   pa1 = SMMU_TD_RAM_BASE + 0x100000;
	uint64_t	   pa2 = SMMU_TD_RAM_BASE + 0x200000;
	uint32_t	   l2;
	unsigned	   i;

	(void)state;
	smmu_td_init(&td, NULL, 0);
	smmu_td_enable(&td, NULL);
	l2 = td.td_opts.to_cmdq_log2;
	smmu_td_attach(&td, &d, 3, 3, 0, SMMU_STE_STRW_NSEL1);
	smmu_td_map(&td, d.dm_root, IOVA, pa1, SMMU_TD_4K, SMMU_TD_PTE_RW);
	smmu_td_map(
	    &td, d.dm_root, IOVA + SMMU_TD_4K, pa2, SMMU_TD_4K, SMMU_TD_PTE_RW);
	test_flatmem_wr64(&td.td_mem, pa1, 0x1111);
	/* Config cache filled: the held DMA runs on the shared side. */
	assert_int_equal(smmu_td_pa_of(&td, 3, IOVA + SMMU_TD_4K), pa2);
	memset(&dma, 0, sizeof(dma));
	dma.hd_td = &td;
	dma.hd_sid = 3;
	dma.hd_iova = IOVA;
	dma.hd_dma = true;
	smmu_td_gate_arm(&td, pa1);
	assert_int_equal(pthread_create(&t_dma, NULL, held_access, &dma), 0);
	smmu_td_gate_wait_parked(&td);

	/* Unmap the page the DMA is reading, TLBI, CMD_SYNC. */
	test_flatmem_wr64(
	    &td.td_mem, smmu_td_pte_pa(&td, d.dm_root, IOVA, 3), 0);
	c[0] = smmu_cmd_tlbi_va(SMMU_OP_TLBI_NH_VA, 3, IOVA, true, 0, 0, 0, 0);
	c[1] = smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0);
	memset(&bell, 0, sizeof(bell));
	bell.hd_td = &td;
	bell.hd_prod = smmu_td_queue(&td, c, 2);
	assert_int_equal(
	    pthread_create(&t_bell, NULL, ring_doorbell, &bell), 0);
	/* The TLBI is done (CONS reaches the CMD_SYNC); the SYNC is not. */
	while ((smmu_td_cmdq_cons(&td) & ((2u << l2) - 1)) !=
		((bell.hd_prod - 1) & ((2u << l2) - 1)) &&
	    !atomic_load(&bell.hd_done))
		sched_yield();
	assert_false(atomic_load(&bell.hd_done));
	/* Other accesses go on: the next page translates. */
	assert_int_equal(smmu_td_pa_of(&td, 3, IOVA + SMMU_TD_4K), pa2);
	for (i = 0; i < 1000; i++)
		sched_yield();
	assert_false(atomic_load(&bell.hd_done));
	assert_false(atomic_load(&dma.hd_done));

	smmu_td_gate_open(&td);
	pthread_join(t_dma, NULL);
	pthread_join(t_bell, NULL);
	assert_int_equal(dma.hd_error, 0);
	assert_int_equal(dma.hd_data, 0x1111);
	assert_int_equal(bell.hd_error, 0);
	assert_int_equal(smmu_td_cmdq_cons(&td) & ((2u << l2) - 1),
	    bell.hd_prod & ((2u << l2) - 1));
	smmu_td_fini(&td);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		devices_translate_while_driver_remaps_and_invalidates),
	    cmocka_unit_test(separate_instances_run_in_parallel),
	    cmocka_unit_test(
		dma_never_uses_a_translation_invalidated_before_it_started),
	    cmocka_unit_test(
		two_streams_hammer_dma_while_a_third_thread_invalidates),
	    cmocka_unit_test(tlbi_during_a_walk_leaves_no_stale_entry),
	    cmocka_unit_test(cmd_sync_waits_for_the_access_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
