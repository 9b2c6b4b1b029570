/*
 * SMMUv3 model: seeded fuzzing of hostile guest programming.  Random
 * register writes (every register, any size, values biased towards
 * pointers into RAM), random memory contents (words biased towards
 * plausible STEs, CDs, L1 descriptors and page-table descriptors, so the
 * walks get deep), random device traffic and failing memory ranges.
 *
 * What is asserted, for every single call: only documented return codes;
 * bounded work, measured as the number of host memory accesses the call
 * made (a translation reads at most the L1 descriptor, the STE, the CD and
 * four table levels, with or without the stale checker; a register write runs
 * at most one command queue's worth of commands); no host allocation
 * after smmuv3_create.  And for the whole run: the same seed gives the same
 * memory writes, interrupts and statistics (no hidden non-determinism).
 * ASan/UBSan/Valgrind runs of this suite check the rest.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommu/smmuv3_model.h>

#include "smmu_testdrv.h"
#include "smmuv3_defs.h"
#include "test_alloc.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (64u << 10)
#define CMDQS	 5 /* IDR1.CMDQS: at most 32 commands per doorbell */
#define EVENTQS	 4
#define SIDSIZE	 8
#define SSIDSIZE 4

/* Per-call bounds on host memory accesses (see the header comment). */
/*
 * L1 descriptor + STE + CD + four levels.  The stale checker stays within
 * it: a config hit rereads L1 + STE + CD, a TLB hit rewalks four levels,
 * and neither happens on a miss.
 */
#define XLATE_READS	(1 + 1 + 1 + 4)
#define XLATE_WRITES	3 /* event record, its MSI, a GERROR MSI */
#define DOORBELL_READS	(1u << CMDQS)
#define DOORBELL_WRITES (2 * (1u << CMDQS) + 2)

struct fz {
	uint8_t			   fz_ram[RAM_SIZE];
	struct test_rng		   fz_rng;
	struct test_counting_alloc fz_alloc;
	struct smmuv3		  *fz_smmu;
	uint64_t		   fz_bad_lo, fz_bad_hi; /* failing reads */
	unsigned long		   fz_reads, fz_writes;	 /* this call */
	uint64_t		   fz_hash; /* writes, MSIs, interrupts */
	unsigned long		   fz_calls, fz_translated, fz_faulted;
	unsigned long		   fz_max_reads;
};

static void
fz_mix(struct fz *fz, uint64_t v)
{
	fz->fz_hash = (fz->fz_hash ^ v) * 0x100000001b3ULL;
}

static int
fz_mem_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	struct fz *fz = cookie;

	fz->fz_reads++;
	if (pa < RAM_BASE || pa - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (pa - RAM_BASE))
		return EFAULT;
	if (pa < fz->fz_bad_hi && pa + len > fz->fz_bad_lo)
		return EFAULT;
	memcpy(buf, fz->fz_ram + (pa - RAM_BASE), len);
	return 0;
}

static int
fz_mem_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	struct fz     *fz = cookie;
	const uint8_t *p = buf;
	size_t	       i;

	fz->fz_writes++;
	fz_mix(fz, pa);
	for (i = 0; i < len; i++)
		fz_mix(fz, p[i]);
	if (pa < RAM_BASE || pa - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (pa - RAM_BASE))
		return EFAULT;
	memcpy(fz->fz_ram + (pa - RAM_BASE), buf, len);
	return 0;
}

static void
fz_irq(void *cookie, enum smmuv3_irq_line line)
{
	fz_mix(cookie, 0x1000 + (uint64_t)line);
}

static int
fz_msi(void *cookie, uint64_t addr, uint32_t data)
{
	struct fz *fz = cookie;

	fz->fz_writes++;
	fz_mix(fz, addr);
	fz_mix(fz, data);
	/* Some MSI targets fail, to reach the MSI_*_ABT_ERR paths. */
	return (addr & 0x40) != 0 ? EFAULT : 0;
}

static void
fz_stale(void *cookie, const struct smmuv3_stale_report *sr)
{
	fz_mix(cookie, 0x2000 + sr->sr_iova);
}

static void
fz_invalidate(void *cookie, const struct smmuv3_inval *iv)
{
	fz_mix(cookie, 0x3000 + iv->iv_opcode);
}

static uint64_t
fz_below(struct fz *fz, uint64_t n)
{
	return test_rng_below(&fz->fz_rng, n);
}

static uint64_t
fz_ram_ptr(struct fz *fz)
{
	return RAM_BASE + (fz_below(fz, RAM_SIZE) & ~7ULL);
}

/* STE DW0: V, Config (mostly stage 1), S1ContextPtr, S1CDMax. */
static uint64_t
fz_ste0(struct fz *fz)
{
	return (fz_ram_ptr(fz) & ~0x3fULL) | 1 |
	    ((fz_below(fz, 4) ? 5 : fz_below(fz, 8)) << 1) |
	    ((fz_below(fz, 4) ? 0 : fz_below(fz, 4)) << 4) |
	    ((fz_below(fz, 4) ? 0 : fz_below(fz, SSIDSIZE + 2)) << 59);
}

/* STE DW1: S1DSS, STRW, sometimes S1STALLD. */
static uint64_t
fz_ste1(struct fz *fz)
{
	return fz_below(fz, 4) |
	    ((fz_below(fz, 2) ? 0 : fz_below(fz, 4)) << 30) |
	    ((uint64_t)(fz_below(fz, 8) == 0) << 27);
}

/* CD DW0: mostly valid, now and then one bit flipped. */
static uint64_t
fz_cd0(struct fz *fz)
{
	uint64_t v;

	v = (14 + fz_below(fz, 28)) | (fz_below(fz, 4) << 6) |
	    ((uint64_t)(fz_below(fz, 8) == 0) << 14) | (1ULL << 31) |
	    ((uint64_t)(fz_below(fz, 8) != 0) << 30) | (fz_below(fz, 8) << 32) |
	    (fz_below(fz, 2) << 35) | (fz_below(fz, 4) << 38) | (1ULL << 41) |
	    (fz_below(fz, 2) << 45) | (1ULL << 46) |
	    (fz_below(fz, 0x10000) << 48);
	if (fz_below(fz, 8) == 0)
		v ^= 1ULL << fz_below(fz, 64);
	return v;
}

/* A memory word that often looks like one of the model's structures. */
static uint64_t
fz_word(struct fz *fz)
{

	switch (fz_below(fz, 16)) {
	case 0:
		return 0;
	case 1:
		return test_rng_next(&fz->fz_rng);
	case 2:
		return fz_below(fz, 64);
	case 3:
	case 4:
	case 5:
	case 6: /* table descriptor, or L1STD with a Span */
		return fz_ram_ptr(fz) | fz_below(fz, 12) | 3;
	case 7:
	case 8:
	case 9: /* page / block with AF, maybe read-only or non-global */
		return (fz_ram_ptr(fz) & ~0xfffULL) | 0x401 |
		    (fz_below(fz, 2) << 1) | (fz_below(fz, 4) << 6) |
		    (fz_below(fz, 2) << 11);
	case 10:
		return fz_ste0(fz);
	case 11:
		return fz_ste1(fz);
	case 12:
		return fz_cd0(fz);
	case 13: /* CD TTB */
		return fz_ram_ptr(fz) & ~0xfffULL;
	default: /* a pointer anywhere in or near RAM */
		return RAM_BASE - 0x1000 + fz_below(fz, RAM_SIZE + 0x2000);
	}
}

static void
fz_fill(struct fz *fz)
{
	size_t i;

	for (i = 0; i < RAM_SIZE; i += 8) {
		uint64_t v = fz_word(fz);

		memcpy(fz->fz_ram + i, &v, 8); /* byte order is irrelevant */
	}
}

static void
fz_wr(struct fz *fz, uint64_t off, unsigned size, uint64_t val)
{
	assert_int_equal(smmuv3_mmio_write(fz->fz_smmu, off, size, val), 0);
}

static void
fz_put(struct fz *fz, uint64_t pa, uint64_t val)
{
	memcpy(fz->fz_ram + (pa - RAM_BASE), &val, 8);
}

static uint64_t
fz_get(struct fz *fz, uint64_t pa)
{
	uint64_t v;

	memcpy(&v, fz->fz_ram + (pa - RAM_BASE), 8);
	return v;
}

/* Statistics summed over episodes (reset clears the model's). */
static void
fz_add_stats(struct smmuv3_stats *sum, const struct smmuv3_stats *st)
{
	sum->st_translations += st->st_translations;
	sum->st_tlb_hits += st->st_tlb_hits;
	sum->st_walks += st->st_walks;
	sum->st_walk_reads += st->st_walk_reads;
	sum->st_cd_fetches += st->st_cd_fetches;
	sum->st_commands += st->st_commands;
	sum->st_events += st->st_events;
	sum->st_stale += st->st_stale;
}

/*
 * A mostly sane bring-up with random sizes and formats, and plausible STEs
 * and CDs at the places the model will look, so episodes get past the
 * stream table into CDs and walks before the hostile writes start.
 */
static void
fz_bringup(struct fz *fz)
{
	uint64_t strtab = fz_ram_ptr(fz) & ~0xfffULL, ste, cd;
	unsigned sid, fmt = fz_below(fz, 3) ? 0 : 1;

	fz_wr(fz, SMMU_STRTAB_BASE, 8, strtab);
	fz_wr(fz, SMMU_STRTAB_BASE_CFG, 4,
	    fz_below(fz, 10) | ((uint64_t)(6 + 2 * fz_below(fz, 3)) << 6) |
		((uint64_t)fmt << 16));
	fz_wr(fz, SMMU_CMDQ_BASE, 8, fz_ram_ptr(fz) | fz_below(fz, CMDQS + 2));
	fz_wr(fz, SMMU_EVENTQ_BASE, 8,
	    fz_ram_ptr(fz) | fz_below(fz, EVENTQS + 2));
	fz_wr(
	    fz, SMMU_EVENTQ_IRQ_CFG0, 8, fz_below(fz, 2) ? fz_ram_ptr(fz) : 0);
	fz_wr(fz, SMMU_IRQ_CTRL, 4, 5);
	fz_wr(fz, SMMU_CR2, 4, fz_below(fz, 8));
	fz_wr(fz, SMMU_CR0, 4, 0xd);
	for (sid = 0; sid < 16 && fmt == 0; sid++) {
		ste = strtab + sid * SMMU_STE_SIZE;
		if (ste + SMMU_STE_SIZE > RAM_BASE + RAM_SIZE)
			break;
		fz_put(fz, ste, fz_ste0(fz));
		fz_put(fz, ste + 8, fz_ste1(fz));
		cd = fz_get(fz, ste) & SMMU_STE0_S1CTXPTR_MASK;
		if (cd >= RAM_BASE &&
		    cd + SMMU_CD_SIZE <= RAM_BASE + RAM_SIZE) {
			fz_put(fz, cd, fz_cd0(fz));
			fz_put(fz, cd + 8, fz_ram_ptr(fz) & ~0xfffULL);
		}
	}
}

static const uint64_t fz_regs[] = {SMMU_IDR0, SMMU_IDR1, SMMU_IDR5, SMMU_CR0,
    SMMU_CR0ACK, SMMU_CR1, SMMU_CR2, SMMU_STATUSR, SMMU_GBPA, SMMU_IRQ_CTRL,
    SMMU_GERROR, SMMU_GERRORN, SMMU_GERROR_IRQ_CFG0, SMMU_GERROR_IRQ_CFG1,
    SMMU_GERROR_IRQ_CFG2, SMMU_STRTAB_BASE, SMMU_STRTAB_BASE + 4,
    SMMU_STRTAB_BASE_CFG, SMMU_CMDQ_BASE, SMMU_CMDQ_BASE + 4, SMMU_CMDQ_PROD,
    SMMU_CMDQ_CONS, SMMU_EVENTQ_BASE, SMMU_EVENTQ_PROD, SMMU_EVENTQ_CONS,
    SMMU_EVENTQ_PROD_P0, SMMU_EVENTQ_CONS_P0, SMMU_EVENTQ_IRQ_CFG0,
    SMMU_EVENTQ_IRQ_CFG1, SMMU_EVENTQ_IRQ_CFG2, SMMU_PRIQ_BASE, SMMU_PRIQ_PROD,
    0x100, 0xffc, 0x8000, SMMU_PAGE1 + 0xfff8};

/* A register write a hostile (or merely confused) driver might make. */
static void
fz_mmio(struct fz *fz)
{
	uint64_t off = fz_regs[fz_below(fz, sizeof(fz_regs) / 8)], val;
	unsigned size = fz_below(fz, 8) == 0 ? 1u << fz_below(fz, 5)
	    : (off & 4) != 0		     ? 4
					     : 4u << fz_below(fz, 2);
	uint64_t prev;
	bool	 valid;
	int	 error;

	switch (off) {
	case SMMU_CR0:
		val = fz_below(fz, 2) ? 0xd : test_rng_next(&fz->fz_rng);
		break;
	case SMMU_STRTAB_BASE:
	case SMMU_CMDQ_BASE:
	case SMMU_EVENTQ_BASE:
		val = fz_ram_ptr(fz) | fz_below(fz, 32) |
		    (fz_below(fz, 4) == 0 ? test_rng_next(&fz->fz_rng) : 0);
		break;
	case SMMU_STRTAB_BASE_CFG:
		val = fz_below(fz, 64) | (fz_below(fz, 32) << 6) |
		    (fz_below(fz, 4) << 16);
		break;
	case SMMU_CMDQ_PROD:
	case SMMU_EVENTQ_CONS:
	case SMMU_EVENTQ_CONS_P0:
		val = fz_below(fz, 1u << (CMDQS + 1)) | (fz_below(fz, 2) << 31);
		break;
	case SMMU_GERRORN:
		/* Mostly a proper acknowledgement of what is active. */
		assert_int_equal(
		    smmuv3_mmio_read(fz->fz_smmu, SMMU_GERROR, 4, &prev), 0);
		val = fz_below(fz, 4) ? prev : test_rng_next(&fz->fz_rng);
		break;
	default:
		val =
		    fz_below(fz, 2) ? fz_word(fz) : test_rng_next(&fz->fz_rng);
		break;
	}
	fz->fz_reads = fz->fz_writes = 0;
	error = smmuv3_mmio_write(fz->fz_smmu, off, size, val);
	valid = (size == 4 || size == 8) && (off & (size - 1)) == 0;
	assert_int_equal(error, valid ? 0 : EINVAL);
	assert_in_range(fz->fz_reads, 0, DOORBELL_READS);
	assert_in_range(fz->fz_writes, 0, DOORBELL_WRITES);
	fz->fz_reads = fz->fz_writes = 0;
	if (valid) {
		assert_int_equal(
		    smmuv3_mmio_read(fz->fz_smmu, off, size, &val), 0);
		assert_int_equal(fz->fz_reads + fz->fz_writes, 0);
	}
}

/* Commands written into the command queue, then the doorbell. */
static void
fz_commands(struct fz *fz)
{
	static const uint8_t ops[] = {SMMU_OP_PREFETCH_CONFIG, SMMU_OP_CFGI_STE,
	    SMMU_OP_CFGI_STE_RANGE, SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD_ALL,
	    SMMU_OP_TLBI_NH_ALL, SMMU_OP_TLBI_NH_ASID, SMMU_OP_TLBI_NH_VA,
	    SMMU_OP_TLBI_NH_VAA, SMMU_OP_TLBI_EL2_ALL, SMMU_OP_TLBI_EL2_VA,
	    SMMU_OP_TLBI_NSNH_ALL, SMMU_OP_CMD_SYNC, SMMU_OP_ATC_INV, 0x7f};
	uint64_t	     base, prod, pa;
	unsigned	     i, n = 1 + (unsigned)fz_below(fz, 8), l2;

	assert_int_equal(
	    smmuv3_mmio_read(fz->fz_smmu, SMMU_CMDQ_BASE, 8, &base), 0);
	assert_int_equal(
	    smmuv3_mmio_read(fz->fz_smmu, SMMU_CMDQ_PROD, 4, &prod), 0);
	l2 = (unsigned)SMMU_FGET(base, SMMU_Q_BASE_LOG2SIZE);
	for (i = 0; i < n; i++) {
		uint64_t dw0 = ops[fz_below(fz, sizeof(ops))] |
		    (test_rng_next(&fz->fz_rng) & ~0xffULL &
			(fz_below(fz, 2) ? 0xffff00000001f000ULL : ~0ULL));
		uint64_t dw1 =
		    fz_below(fz, 2) ? fz_word(fz) : test_rng_next(&fz->fz_rng);

		pa = (base & SMMU_Q_BASE_ADDR_MASK &
			 ~(((uint64_t)SMMU_CMD_SIZE << l2) - 1)) +
		    SMMU_Q_IDX((uint32_t)prod, l2) * SMMU_CMD_SIZE;
		if (pa >= RAM_BASE && pa + 16 <= RAM_BASE + RAM_SIZE) {
			memcpy(fz->fz_ram + (pa - RAM_BASE), &dw0, 8);
			memcpy(fz->fz_ram + (pa - RAM_BASE) + 8, &dw1, 8);
		}
		prod = smmu_q_inc((uint32_t)prod, l2);
	}
	fz->fz_reads = fz->fz_writes = 0;
	assert_int_equal(
	    smmuv3_mmio_write(fz->fz_smmu, SMMU_CMDQ_PROD, 4, prod), 0);
	assert_in_range(fz->fz_reads, 0, DOORBELL_READS);
	assert_in_range(fz->fz_writes, 0, DOORBELL_WRITES);
}

static void
fz_device(struct fz *fz)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	uint8_t		    buf[3 * 4096 + 64];
	uint32_t	    sid =
	    (uint32_t)fz_below(fz, fz_below(fz, 4) ? 16 : 1u << (SIDSIZE + 1));
	uint32_t ssid = fz_below(fz, 3) == 0
	    ? (uint32_t)fz_below(fz, 1u << (SSIDSIZE + 1))
	    : SMMUV3_NO_SSID;
	uint64_t iova =
	    fz_below(fz, 2) ? fz_ram_ptr(fz) : test_rng_next(&fz->fz_rng);
	size_t len, pages;
	int    error;

	fz->fz_reads = fz->fz_writes = 0;
	switch (fz_below(fz, 4)) {
	case 0:
	case 1:
		error = smmuv3_translate(fz->fz_smmu, sid, ssid, iova,
		    1u + (unsigned)fz_below(fz, 3), &xl, &ft);
		break;
	case 2:
		error = smmuv3_probe(
		    fz->fz_smmu, sid, ssid, iova, SMMUV3_ACCESS_READ, &xl, &ft);
		assert_true(fz->fz_writes == 0);
		break;
	default:
		len = (size_t)fz_below(fz, sizeof(buf) + 1);
		pages = len / 4096 + 2;
		memset(buf, 0x5a, sizeof(buf));
		error = fz_below(fz, 2) ? smmuv3_dma_read(fz->fz_smmu, sid,
					      ssid, iova, buf, len, &ft)
					: smmuv3_dma_write(fz->fz_smmu, sid,
					      ssid, iova, buf, len, &ft);
		assert_true(error == 0 || error == EFAULT || error == EIO ||
		    error == EINVAL);
		assert_in_range(fz->fz_reads, 0, pages * (XLATE_READS + 1));
		assert_in_range(fz->fz_writes, 0, pages * (XLATE_WRITES + 1));
		return;
	}
	assert_true(error == 0 || error == EFAULT);
	if (error == 0)
		fz->fz_translated++;
	else
		fz->fz_faulted++;
	if (fz->fz_reads > fz->fz_max_reads)
		fz->fz_max_reads = fz->fz_reads;
	assert_in_range(fz->fz_reads, 0, XLATE_READS);
	assert_in_range(fz->fz_writes, 0, XLATE_WRITES);
}

/* One seeded run; returns the hash of everything the model wrote. */
static uint64_t
fz_run(struct fz *fz, uint64_t seed, unsigned long episodes, unsigned long ops,
    struct smmuv3_stats *st)
{
	struct smmuv3_host_ops ops_tab;
	struct smmuv3_config   cfg;
	struct smmuv3_stats    one;
	unsigned long	       ep, i, calls;

	memset(fz, 0, sizeof(*fz));
	test_rng_seed(&fz->fz_rng, seed);
	test_counting_alloc_init(&fz->fz_alloc);
	fz->fz_hash = 0xcbf29ce484222325ULL;
	memset(&ops_tab, 0, sizeof(ops_tab));
	ops_tab.ho_size = sizeof(ops_tab);
	ops_tab.ho_mem_read = fz_mem_read;
	ops_tab.ho_mem_write = fz_mem_write;
	ops_tab.ho_irq = fz_irq;
	ops_tab.ho_msi = fz_msi;
	ops_tab.ho_stale = fz_stale;
	ops_tab.ho_invalidate = fz_invalidate;
	smmuv3_config_init(&cfg);
	cfg.cfg_sidsize = SIDSIZE;
	cfg.cfg_ssidsize = SSIDSIZE;
	cfg.cfg_cmdqs = CMDQS;
	cfg.cfg_eventqs = EVENTQS;
	cfg.cfg_tlb_sets = 8;
	cfg.cfg_tlb_ways = 2;
	cfg.cfg_cfgcache_entries = 8;
	cfg.cfg_check_stale = (seed & 1) != 0;
	cfg.cfg_tlb_tbus = (seed & 2) != 0 ? 4 : 1;
	assert_int_equal(smmuv3_create(&cfg, &ops_tab, fz, &fz->fz_alloc.tc_ops,
			     &fz->fz_smmu),
	    0);
	calls = fz->fz_alloc.tc_calls;
	memset(st, 0, sizeof(*st));
	for (ep = 0; ep < episodes; ep++) {
		smmuv3_reset(fz->fz_smmu);
		fz_fill(fz);
		fz->fz_bad_lo = fz->fz_bad_hi = 0;
		fz_bringup(fz);
		for (i = 0; i < ops; i++) {
			switch (fz_below(fz, 12)) {
			case 0:
			case 1:
			case 2:
				fz_mmio(fz);
				break;
			case 3:
				fz_commands(fz);
				break;
			case 4: /* rewrite a few words */
				memset(fz->fz_ram + (fz_ram_ptr(fz) - RAM_BASE),
				    0, 8);
				break;
			case 5: /* a failing range of RAM, or none */
				fz->fz_bad_lo = fz_ram_ptr(fz);
				fz->fz_bad_hi =
				    fz->fz_bad_lo + fz_below(fz, 4096);
				break;
			default:
				fz_device(fz);
				break;
			}
		}
		smmuv3_get_stats(fz->fz_smmu, &one);
		fz_add_stats(st, &one);
	}
	/* Everything the instance needs was allocated at create. */
	assert_int_equal(fz->fz_alloc.tc_calls, calls);
	smmuv3_destroy(fz->fz_smmu);
	assert_int_equal(fz->fz_alloc.tc_live_blocks, 0);
	return fz->fz_hash;
}

static void
random_programming_does_bounded_work(void **state)
{
	struct fz	   *fz = malloc(sizeof(*fz));
	struct smmuv3_stats st;
	unsigned long	    eps = test_scale(SMMU_TD_SANITIZED ? 200 : 1000);
	uint64_t	    seed;

	(void)state;
	assert_non_null(fz);
	for (seed = 1; seed <= 2; seed++) {
		fz_run(fz, seed, eps / 2, 250, &st);
		print_message("seed %llu: %lu translated, %lu faulted, "
			      "%llu events, %llu commands, %llu walks, "
			      "max %lu reads per translation\n",
		    (unsigned long long)seed, fz->fz_translated, fz->fz_faulted,
		    (unsigned long long)st.st_events,
		    (unsigned long long)st.st_commands,
		    (unsigned long long)st.st_walks, fz->fz_max_reads);
		/* The stream reached the deep paths. */
		assert_true(fz->fz_translated > 0 && fz->fz_faulted > 0);
		assert_true(st.st_walks > 0 && st.st_events > 0);
		assert_true(st.st_commands > 0);
	}
	free(fz);
}

static void
same_seed_same_outcome(void **state)
{
	struct fz	   *fz = malloc(sizeof(*fz));
	struct smmuv3_stats st1, st2;
	uint64_t	    h1, h2;

	(void)state;
	assert_non_null(fz);
	h1 = fz_run(fz, 0xfeed, test_scale(20), 250, &st1);
	h2 = fz_run(fz, 0xfeed, test_scale(20), 250, &st2);
	assert_true(h1 == h2);
	assert_memory_equal(&st1, &st2, sizeof(st1));
	h2 = fz_run(fz, 0xfeee, test_scale(20), 250, &st2);
	assert_true(h1 != h2);
	free(fz);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(random_programming_does_bounded_work),
	    cmocka_unit_test(same_seed_same_outcome),
	};

	return cmocka_run_group_tests_name("smmuv3_fuzz", tests, NULL, NULL);
}
