/*
 * SMMUv3 model: thread safety.  Several device threads translate and DMA
 * on their own streams while a "driver" thread keeps remapping pages and
 * issuing TLBI + CMD_SYNC, and other threads read registers and stats.
 * Every translation must return either the old or the new mapping of a
 * page, never anything else; DMA data must round-trip.  Run under TSan by
 * the CI (label "threads").  Worker threads never call cmocka: they count
 * failures, which the main thread checks after joining.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		devices_translate_while_driver_remaps_and_invalidates),
	    cmocka_unit_test(separate_instances_run_in_parallel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
