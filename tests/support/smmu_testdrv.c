/*
 * Test-side mini driver for the SMMUv3 model (see smmu_testdrv.h).  It
 * follows the initialisation order of IHI 0070 (6.3.9 CR0 and 3.3
 * queues): queues and stream table are programmed while disabled, each
 * CR0 change is confirmed through CR0ACK, the command queue is enabled
 * first so the caches can be invalidated before SMMUEN is set.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"

#define CR0ACK_POLLS 16

static int
td_mem_read(void *cookie, uint64_t pa, void *buf, size_t len)
{
	struct smmu_td *td = cookie;
	int		error = test_flatmem_read(&td->td_mem, pa, buf, len);

	pthread_mutex_lock(&td->td_lock);
	if (td->td_gate_pa != 0 && td->td_gate_pa >= pa &&
	    td->td_gate_pa - pa < len) {
		td->td_gate_parked = true;
		pthread_cond_broadcast(&td->td_gate_cv);
		while (td->td_gate_pa != 0)
			pthread_cond_wait(&td->td_gate_cv, &td->td_lock);
	}
	pthread_mutex_unlock(&td->td_lock);
	return error;
}

void
smmu_td_gate_arm(struct smmu_td *td, uint64_t pa)
{
	pthread_mutex_lock(&td->td_lock);
	td->td_gate_pa = pa;
	td->td_gate_parked = false;
	pthread_mutex_unlock(&td->td_lock);
}

void
smmu_td_gate_wait_parked(struct smmu_td *td)
{
	pthread_mutex_lock(&td->td_lock);
	while (!td->td_gate_parked)
		pthread_cond_wait(&td->td_gate_cv, &td->td_lock);
	pthread_mutex_unlock(&td->td_lock);
}

void
smmu_td_gate_open(struct smmu_td *td)
{
	pthread_mutex_lock(&td->td_lock);
	td->td_gate_pa = 0;
	pthread_cond_broadcast(&td->td_gate_cv);
	pthread_mutex_unlock(&td->td_lock);
}

static int
td_mem_write(void *cookie, uint64_t pa, const void *buf, size_t len)
{
	struct smmu_td *td = cookie;

	return test_flatmem_write(&td->td_mem, pa, buf, len);
}

static void
td_irq(void *cookie, enum smmuv3_irq_line line)
{
	struct smmu_td *td = cookie;

	pthread_mutex_lock(&td->td_lock);
	if ((unsigned)line < 4)
		td->td_irqs[line]++;
	pthread_mutex_unlock(&td->td_lock);
}

static void
td_log(void *cookie, enum smmuv3_log_level level, const char *msg)
{
	struct smmu_td *td = cookie;

	(void)msg;
	pthread_mutex_lock(&td->td_lock);
	if ((unsigned)level < 4)
		td->td_logs[level]++;
	pthread_mutex_unlock(&td->td_lock);
}

static void
td_stale(void *cookie, const struct smmuv3_stale_report *sr)
{
	struct smmu_td *td = cookie;

	pthread_mutex_lock(&td->td_lock);
	td->td_stale++;
	td->td_last_stale = *sr;
	pthread_mutex_unlock(&td->td_lock);
}

void
smmu_td_init(
    struct smmu_td *td, const struct smmuv3_config *cfg, uint64_t ram_size)
{
	struct smmuv3_host_ops ops;

	memset(td, 0, sizeof(*td));
	assert_int_equal(pthread_mutex_init(&td->td_lock, NULL), 0);
	assert_int_equal(pthread_cond_init(&td->td_gate_cv, NULL), 0);
	test_flatmem_init(&td->td_mem, SMMU_TD_RAM_BASE,
	    ram_size != 0 ? ram_size : SMMU_TD_RAM_SIZE);
	if (cfg != NULL)
		td->td_cfg = *cfg;
	else
		smmuv3_config_init(&td->td_cfg);
	memset(&ops, 0, sizeof(ops));
	ops.ho_size = sizeof(ops);
	ops.ho_mem_read = td_mem_read;
	ops.ho_mem_write = td_mem_write;
	ops.ho_irq = td_irq;
	ops.ho_log = td_log;
	ops.ho_stale = td_stale;
	assert_int_equal(
	    smmuv3_create(&td->td_cfg, &ops, td, NULL, &td->td_smmu), 0);
	smmu_td_default_opts(&td->td_opts);
}

void
smmu_td_fini(struct smmu_td *td)
{
	smmuv3_destroy(td->td_smmu);
	td->td_smmu = NULL;
	test_flatmem_fini(&td->td_mem);
	pthread_cond_destroy(&td->td_gate_cv);
	pthread_mutex_destroy(&td->td_lock);
}

void
smmu_td_default_opts(struct smmu_td_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->to_strtab_fmt = SMMU_STRTAB_FMT_LINEAR;
	o->to_strtab_log2 = 8;
	o->to_split = 8;
	o->to_cmdq_log2 = 8;
	o->to_evtq_log2 = 7;
}

uint32_t
smmu_td_rd32(struct smmu_td *td, uint64_t off)
{
	uint64_t v = ~0ULL;

	assert_int_equal(smmuv3_mmio_read(td->td_smmu, off, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

void
smmu_td_wr32(struct smmu_td *td, uint64_t off, uint32_t val)
{
	assert_int_equal(smmuv3_mmio_write(td->td_smmu, off, 4, val), 0);
}

uint64_t
smmu_td_rd64(struct smmu_td *td, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(smmuv3_mmio_read(td->td_smmu, off, 8, &v), 0);
	return v;
}

void
smmu_td_wr64(struct smmu_td *td, uint64_t off, uint64_t val)
{
	assert_int_equal(smmuv3_mmio_write(td->td_smmu, off, 8, val), 0);
}

void
smmu_td_write_cr0(struct smmu_td *td, uint32_t cr0)
{
	int i;

	smmu_td_wr32(td, SMMU_CR0, cr0);
	for (i = 0; i < CR0ACK_POLLS; i++)
		if (smmu_td_rd32(td, SMMU_CR0ACK) == cr0)
			return;
	fail_msg("CR0ACK did not follow CR0 = %#x", cr0);
}

uint32_t
smmu_q_inc(uint32_t p, unsigned l2)
{
	uint32_t mask = (2u << l2) - 1; /* index bits + wrap bit */

	return (p & ~mask) | ((p + 1) & mask);
}

/*
 * Enable sequence.  Table and queue bases are aligned to their sizes, as
 * the architecture requires (the model may ignore low bits, silicon does).
 */
void
smmu_td_enable(struct smmu_td *td, const struct smmu_td_opts *opts)
{
	struct smmu_td_opts *o = &td->td_opts;
	uint64_t	     sz;
	uint32_t	     cr0;

	if (opts != NULL)
		*o = *opts;
	smmu_td_write_cr0(td, 0);
	smmu_td_wr32(td, SMMU_CR1, 0xd75);
	smmu_td_wr32(td, SMMU_CR2, o->to_cr2 | (1u << 1));

	if (o->to_strtab_fmt == SMMU_STRTAB_FMT_2LVL) {
		sz = 8ULL << (o->to_strtab_log2 > o->to_split
			     ? o->to_strtab_log2 - o->to_split
			     : 0);
		if (sz < 64)
			sz = 64;
	} else
		sz = (uint64_t)SMMU_STE_SIZE << o->to_strtab_log2;
	td->td_strtab = test_flatmem_alloc(&td->td_mem, sz, sz);
	smmu_td_wr64(td, SMMU_STRTAB_BASE, td->td_strtab | (1ULL << 62));
	smmu_td_wr32(td, SMMU_STRTAB_BASE_CFG,
	    (uint32_t)(SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_LOG2SIZE,
			   o->to_strtab_log2) |
		SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_SPLIT, o->to_split) |
		SMMU_FSET(0, SMMU_STRTAB_BASE_CFG_FMT, o->to_strtab_fmt)));

	sz = (uint64_t)SMMU_CMD_SIZE << o->to_cmdq_log2;
	td->td_cmdq = test_flatmem_alloc(&td->td_mem, sz, sz < 32 ? 32 : sz);
	smmu_td_wr64(td, SMMU_CMDQ_BASE, td->td_cmdq | o->to_cmdq_log2);
	smmu_td_wr32(td, SMMU_CMDQ_PROD, 0);
	smmu_td_wr32(td, SMMU_CMDQ_CONS, 0);
	td->td_cmdq_prod = 0;

	sz = (uint64_t)SMMU_EVT_SIZE << o->to_evtq_log2;
	td->td_evtq = test_flatmem_alloc(&td->td_mem, sz, sz);
	smmu_td_wr64(td, SMMU_EVENTQ_BASE, td->td_evtq | o->to_evtq_log2);
	smmu_td_wr32(td, SMMU_EVENTQ_PROD, 0);
	smmu_td_wr32(td, SMMU_EVENTQ_CONS, 0);
	td->td_evtq_cons = 0;
	td->td_sync_word = test_flatmem_alloc(&td->td_mem, 8, 8);

	cr0 = SMMU_FSET(0, SMMU_CR0_CMDQEN, 1);
	smmu_td_write_cr0(td, cr0);
	smmu_td_cmd_sync(td, smmu_cmd_cfgi_all());
	smmu_td_cmd_sync(td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_NSNH_ALL));
	if (td->td_cfg.cfg_hyp)
		smmu_td_cmd_sync(td, smmu_cmd_tlbi_all(SMMU_OP_TLBI_EL2_ALL));
	cr0 |= SMMU_FSET(0, SMMU_CR0_EVENTQEN, 1);
	smmu_td_write_cr0(td, cr0);
	smmu_td_wr32(td, SMMU_IRQ_CTRL, 0x5);
	assert_int_equal(smmu_td_rd32(td, SMMU_IRQ_CTRLACK), 0x5);
	cr0 |= SMMU_FSET(0, SMMU_CR0_SMMUEN, 1);
	smmu_td_write_cr0(td, cr0);
}

struct smmu_cmd
smmu_cmd_raw(uint64_t dw0, uint64_t dw1)
{
	struct smmu_cmd c = {{dw0, dw1}};

	return c;
}

struct smmu_cmd
smmu_cmd_sync(unsigned cs, uint64_t msiaddr, uint32_t msidata)
{
	uint64_t dw0 = SMMU_OP_CMD_SYNC;

	dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_CS, cs);
	dw0 = SMMU_FSET(dw0, SMMU_CMD0_SYNC_MSIDATA, msidata);
	return smmu_cmd_raw(dw0, msiaddr & SMMU_CMD1_SYNC_MSIADDR_MASK);
}

struct smmu_cmd
smmu_cmd_cfgi_ste(uint32_t sid, bool leaf)
{
	return smmu_cmd_raw(
	    SMMU_FSET(SMMU_OP_CFGI_STE, SMMU_CMD0_SID, sid), leaf ? 1 : 0);
}

struct smmu_cmd
smmu_cmd_cfgi_ste_range(uint32_t sid, unsigned range)
{
	return smmu_cmd_raw(
	    SMMU_FSET(SMMU_OP_CFGI_STE_RANGE, SMMU_CMD0_SID, sid),
	    SMMU_FSET(0, SMMU_CMD1_RANGE, range));
}

struct smmu_cmd
smmu_cmd_cfgi_all(void)
{
	return smmu_cmd_cfgi_ste_range(0, SMMU_CFGI_RANGE_ALL);
}

struct smmu_cmd
smmu_cmd_cfgi_cd(uint32_t sid, uint32_t ssid, bool leaf)
{
	uint64_t dw0 = SMMU_OP_CFGI_CD;

	dw0 = SMMU_FSET(dw0, SMMU_CMD0_SSID, ssid);
	dw0 = SMMU_FSET(dw0, SMMU_CMD0_SID, sid);
	return smmu_cmd_raw(dw0, leaf ? 1 : 0);
}

struct smmu_cmd
smmu_cmd_cfgi_cd_all(uint32_t sid)
{
	return smmu_cmd_raw(
	    SMMU_FSET(SMMU_OP_CFGI_CD_ALL, SMMU_CMD0_SID, sid), 0);
}

struct smmu_cmd
smmu_cmd_tlbi_asid(uint8_t op, uint16_t asid)
{
	return smmu_cmd_raw(SMMU_FSET(op, SMMU_CMD0_ASID, asid), 0);
}

struct smmu_cmd
smmu_cmd_tlbi_all(uint8_t op)
{
	return smmu_cmd_raw(op, 0);
}

struct smmu_cmd
smmu_cmd_tlbi_va(uint8_t op, uint16_t asid, uint64_t va, bool leaf, unsigned tg,
    unsigned num, unsigned scale, unsigned ttl)
{
	uint64_t dw0 = op, dw1;

	dw0 = SMMU_FSET(dw0, SMMU_CMD0_ASID, asid);
	dw0 = SMMU_FSET(dw0, SMMU_CMD0_NUM, num);
	dw0 = SMMU_FSET(dw0, SMMU_CMD0_SCALE, scale);
	dw1 = va & SMMU_CMD1_ADDR_MASK;
	dw1 = SMMU_FSET(dw1, SMMU_CMD1_LEAF, leaf ? 1 : 0);
	dw1 = SMMU_FSET(dw1, SMMU_CMD1_TG, tg);
	dw1 = SMMU_FSET(dw1, SMMU_CMD1_TTL, ttl);
	return smmu_cmd_raw(dw0, dw1);
}

uint32_t
smmu_td_cmdq_cons(struct smmu_td *td)
{
	return smmu_td_rd32(td, SMMU_CMDQ_CONS);
}

unsigned
smmu_td_submit(struct smmu_td *td, const struct smmu_cmd *cmds, unsigned n)
{
	unsigned l2 = td->td_opts.to_cmdq_log2;
	uint32_t ptrmask = (2u << l2) - 1, cons, err;
	unsigned i, done = 0;

	while (done < n) {
		/* Never more than the queue holds per doorbell. */
		i = n - done < (1u << l2) ? n - done : (1u << l2);
		smmu_td_queue(td, cmds + done, i);
		done += i;
		smmu_td_wr32(td, SMMU_CMDQ_PROD, td->td_cmdq_prod);
		cons = smmu_td_cmdq_cons(td);
		err = (uint32_t)SMMU_FGET(cons, SMMU_CMDQ_CONS_ERR);
		if (err != 0)
			return err;
		assert_int_equal(cons & ptrmask, td->td_cmdq_prod & ptrmask);
	}
	return 0;
}

uint32_t
smmu_td_queue(struct smmu_td *td, const struct smmu_cmd *cmds, unsigned n)
{
	unsigned l2 = td->td_opts.to_cmdq_log2, i;

	assert_true(n <= (1u << l2));
	for (i = 0; i < n; i++) {
		uint64_t pa = td->td_cmdq +
		    (uint64_t)SMMU_Q_IDX(td->td_cmdq_prod, l2) * SMMU_CMD_SIZE;

		test_flatmem_wr64(&td->td_mem, pa, cmds[i].c_dw[0]);
		test_flatmem_wr64(&td->td_mem, pa + 8, cmds[i].c_dw[1]);
		td->td_cmdq_prod = smmu_q_inc(td->td_cmdq_prod, l2);
	}
	return td->td_cmdq_prod;
}

void
smmu_td_cmd_sync(struct smmu_td *td, struct smmu_cmd c)
{
	struct smmu_cmd cmds[2];

	cmds[0] = c;
	cmds[1] = smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0);
	assert_int_equal(smmu_td_submit(td, cmds, 2), 0);
}

void
smmu_td_sync(struct smmu_td *td)
{
	struct smmu_cmd c = smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0);

	assert_int_equal(smmu_td_submit(td, &c, 1), 0);
}

uint64_t
smmu_td_ste_pa(struct smmu_td *td, uint32_t sid)
{
	unsigned split = td->td_opts.to_split;
	uint64_t l1pa, l1, l2;

	if (td->td_opts.to_strtab_fmt != SMMU_STRTAB_FMT_2LVL)
		return td->td_strtab + (uint64_t)sid * SMMU_STE_SIZE;
	l1pa = td->td_strtab + (uint64_t)(sid >> split) * 8;
	l1 = test_flatmem_rd64(&td->td_mem, l1pa);
	if (SMMU_FGET(l1, SMMU_L1STD_SPAN) == 0) {
		uint64_t sz = (uint64_t)SMMU_STE_SIZE << split;

		l2 = test_flatmem_alloc(&td->td_mem, sz, sz);
		test_flatmem_wr64(&td->td_mem, l1pa,
		    l2 | SMMU_FSET(0, SMMU_L1STD_SPAN, split + 1));
	} else
		l2 = l1 & SMMU_L1STD_L2PTR_MASK;
	return l2 + (uint64_t)(sid & ((1u << split) - 1)) * SMMU_STE_SIZE;
}

void
smmu_td_write_ste(struct smmu_td *td, uint32_t sid, const uint64_t *ste)
{
	uint64_t pa = smmu_td_ste_pa(td, sid);
	int	 i;

	/* DW0 (holding V) last, as a driver publishing an entry does. */
	for (i = SMMU_STE_DWORDS - 1; i >= 0; i--)
		test_flatmem_wr64(&td->td_mem, pa + 8 * (uint64_t)i, ste[i]);
}

void
smmu_ste_abort(uint64_t *ste)
{
	memset(ste, 0, SMMU_STE_SIZE);
	ste[0] = SMMU_FSET(0, SMMU_STE0_V, 1) |
	    SMMU_FSET(0, SMMU_STE0_CONFIG, SMMU_STE_CONFIG_ABORT);
}

void
smmu_ste_bypass(uint64_t *ste)
{
	memset(ste, 0, SMMU_STE_SIZE);
	ste[0] = SMMU_FSET(0, SMMU_STE0_V, 1) |
	    SMMU_FSET(0, SMMU_STE0_CONFIG, SMMU_STE_CONFIG_BYPASS);
}

void
smmu_ste_s1(uint64_t *ste, uint64_t cdptr, unsigned cdmax, unsigned s1dss,
    unsigned strw)
{
	memset(ste, 0, SMMU_STE_SIZE);
	ste[0] = SMMU_FSET(0, SMMU_STE0_V, 1) |
	    SMMU_FSET(0, SMMU_STE0_CONFIG, SMMU_STE_CONFIG_S1) |
	    (cdptr & SMMU_STE0_S1CTXPTR_MASK) |
	    SMMU_FSET(0, SMMU_STE0_S1CDMAX, cdmax);
	ste[1] = SMMU_FSET(0, SMMU_STE1_S1DSS, s1dss) |
	    SMMU_FSET(0, SMMU_STE1_S1CIR, 1) |
	    SMMU_FSET(0, SMMU_STE1_S1COR, 1) |
	    SMMU_FSET(0, SMMU_STE1_S1CSH, 3) |
	    SMMU_FSET(0, SMMU_STE1_STRW, strw);
}

void
smmu_cd_s1(uint64_t *cd, uint64_t ttb0, uint16_t asid)
{
	memset(cd, 0, SMMU_CD_SIZE);
	cd[0] = SMMU_FSET(0, SMMU_CD0_T0SZ, 16) |
	    SMMU_FSET(0, SMMU_CD0_TG0, SMMU_CD_TG0_4K) |
	    SMMU_FSET(0, SMMU_CD0_IR0, 1) | SMMU_FSET(0, SMMU_CD0_OR0, 1) |
	    SMMU_FSET(0, SMMU_CD0_SH0, 3) | SMMU_FSET(0, SMMU_CD0_EPD1, 1) |
	    SMMU_FSET(0, SMMU_CD0_V, 1) | SMMU_FSET(0, SMMU_CD0_IPS, 5) |
	    SMMU_FSET(0, SMMU_CD0_AA64, 1) | SMMU_FSET(0, SMMU_CD0_R, 1) |
	    SMMU_FSET(0, SMMU_CD0_A, 1) | SMMU_FSET(0, SMMU_CD0_ASET, 1) |
	    SMMU_FSET(0, SMMU_CD0_ASID, asid);
	cd[1] = ttb0 & SMMU_CD1_TTB0_MASK;
	cd[3] = 0x44ff04; /* MAIR: 0 device, 1 WB normal, 2 NC */
}

void
smmu_td_write_cd(struct smmu_td *td, uint64_t cd_pa, const uint64_t *cd)
{
	int i;

	for (i = SMMU_CD_DWORDS - 1; i >= 0; i--)
		test_flatmem_wr64(&td->td_mem, cd_pa + 8 * (uint64_t)i, cd[i]);
}

uint64_t
smmu_td_pt_new(struct smmu_td *td)
{
	return smmu_td_pt_new_g(td, 12);
}

static unsigned
level_shift(unsigned gshift, unsigned level)
{
	return gshift + (gshift - 3) * (3 - level);
}

static uint64_t
desc_pa(unsigned gshift, uint64_t table, uint64_t iova, unsigned level)
{
	uint64_t idx =
	    (iova >> level_shift(gshift, level)) & ((1ULL << (gshift - 3)) - 1);

	return table + idx * 8;
}

uint64_t
smmu_td_pt_new_g(struct smmu_td *td, unsigned gshift)
{
	return test_flatmem_alloc(&td->td_mem, 1ULL << gshift, 1ULL << gshift);
}

unsigned
smmu_td_start_level(unsigned gshift)
{
	/* 48-bit input: 4 - ceil((48 - g) / (g - 3)) (Arm ARM D8.2). */
	return 4 - (48 - gshift + gshift - 4) / (gshift - 3);
}

void
smmu_td_map_g(struct smmu_td *td, uint64_t root, unsigned gshift, uint64_t iova,
    uint64_t pa, unsigned target, uint64_t attrs)
{
	unsigned level;
	uint64_t table = root, d, dpa;

	for (level = smmu_td_start_level(gshift); level < target; level++) {
		dpa = desc_pa(gshift, table, iova, level);
		d = test_flatmem_rd64(&td->td_mem, dpa);
		if ((d & SMMU_PTE_VALID) == 0) {
			uint64_t next = smmu_td_pt_new_g(td, gshift);

			test_flatmem_wr64(&td->td_mem, dpa,
			    next | SMMU_PTE_VALID | SMMU_PTE_TYPE_TABLE);
			table = next;
		} else {
			assert_true((d & SMMU_PTE_TYPE_TABLE) != 0);
			table = d & SMMU_PTE_OA_MASK(gshift);
		}
	}
	d = (pa & SMMU_PTE_OA_MASK(gshift)) | attrs | SMMU_PTE_VALID;
	if (target == 3)
		d |= SMMU_PTE_TYPE_TABLE;
	test_flatmem_wr64(&td->td_mem, desc_pa(gshift, table, iova, target), d);
}

void
smmu_td_map(struct smmu_td *td, uint64_t root, uint64_t iova, uint64_t pa,
    uint64_t size, uint64_t attrs)
{
	unsigned target;

	target = size == SMMU_TD_1G ? 1 : size == SMMU_TD_2M ? 2 : 3;
	assert_true(size == SMMU_TD_4K || target != 3);
	smmu_td_map_g(td, root, 12, iova, pa, target, attrs);
}

uint64_t
smmu_td_pte_pa(struct smmu_td *td, uint64_t root, uint64_t iova, unsigned level)
{
	uint64_t table = root, d;
	unsigned l;

	for (l = 0; l < level; l++) {
		d = test_flatmem_rd64(&td->td_mem, desc_pa(12, table, iova, l));
		assert_true((d & 3) == 3);
		table = d & SMMU_PTE_OA_MASK(12);
	}
	return desc_pa(12, table, iova, level);
}

void
smmu_td_attach(struct smmu_td *td, struct smmu_td_dom *dm, uint32_t sid,
    uint16_t asid, unsigned cdmax, unsigned strw)
{
	uint64_t sz = (uint64_t)SMMU_CD_SIZE << cdmax;

	memset(dm, 0, sizeof(*dm));
	dm->dm_sid = sid;
	dm->dm_asid = asid;
	dm->dm_cdmax = cdmax;
	dm->dm_root = smmu_td_pt_new(td);
	dm->dm_cdtab = test_flatmem_alloc(&td->td_mem, sz, sz);
	/* EPD1 stays set: IGNORED for EL2, needed for EL1 and EL2-E2H. */
	smmu_cd_s1(dm->dm_cd, dm->dm_root, asid);
	smmu_ste_s1(dm->dm_ste, dm->dm_cdtab, cdmax, 0, strw);
	smmu_td_dom_rewrite(td, dm);
	smmu_td_cmd_sync(td, smmu_cmd_cfgi_ste(sid, true));
}

void
smmu_td_dom_rewrite(struct smmu_td *td, struct smmu_td_dom *dm)
{
	smmu_td_write_cd(td, dm->dm_cdtab, dm->dm_cd);
	smmu_td_write_ste(td, dm->dm_sid, dm->dm_ste);
}

void
smmu_evt_decode(const uint64_t raw[4], struct smmu_evt *ev)
{
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->ev_raw, raw, sizeof(ev->ev_raw));
	ev->ev_id = (uint8_t)SMMU_FGET(raw[0], SMMU_EVT0_ID);
	ev->ev_ssv = SMMU_FGET(raw[0], SMMU_EVT0_SSV) != 0;
	ev->ev_ssid = (uint32_t)SMMU_FGET(raw[0], SMMU_EVT0_SSID);
	ev->ev_sid = (uint32_t)SMMU_FGET(raw[0], SMMU_EVT0_SID);
	ev->ev_rnw = SMMU_FGET(raw[1], SMMU_EVT1_RNW) != 0;
	ev->ev_pnu = SMMU_FGET(raw[1], SMMU_EVT1_PNU) != 0;
	ev->ev_ind = SMMU_FGET(raw[1], SMMU_EVT1_IND) != 0;
	ev->ev_s2 = SMMU_FGET(raw[1], SMMU_EVT1_S2) != 0;
	ev->ev_class = (unsigned)SMMU_FGET(raw[1], SMMU_EVT1_CLASS);
	ev->ev_addr = raw[2];
	ev->ev_fetch = raw[3] & SMMU_EVT3_FETCH_MASK;
}

bool
smmu_td_pop_event(struct smmu_td *td, struct smmu_evt *ev)
{
	unsigned l2 = td->td_opts.to_evtq_log2;
	uint32_t ptrmask = (2u << l2) - 1, prod;
	uint64_t raw[4], pa;
	int	 i;

	prod = smmu_td_rd32(td, SMMU_EVENTQ_PROD);
	if ((prod & ptrmask) == (td->td_evtq_cons & ptrmask))
		return false;
	pa = td->td_evtq +
	    (uint64_t)SMMU_Q_IDX(td->td_evtq_cons, l2) * SMMU_EVT_SIZE;
	for (i = 0; i < 4; i++)
		raw[i] = test_flatmem_rd64(&td->td_mem, pa + 8 * (uint64_t)i);
	td->td_evtq_cons = smmu_q_inc(td->td_evtq_cons, l2);
	smmu_td_wr32(td, SMMU_EVENTQ_CONS, td->td_evtq_cons);
	if (ev != NULL)
		smmu_evt_decode(raw, ev);
	return true;
}

unsigned
smmu_td_drain_events(struct smmu_td *td)
{
	unsigned n = 0;

	while (smmu_td_pop_event(td, NULL))
		n++;
	return n;
}

void
smmu_td_expect_event(
    struct smmu_td *td, uint8_t id, uint32_t sid, struct smmu_evt *out)
{
	struct smmu_evt ev;

	if (!smmu_td_pop_event(td, &ev))
		fail_msg("expected event %#x for SID %u, queue empty", id, sid);
	if (ev.ev_id != id || ev.ev_sid != sid)
		fail_msg("expected event %#x SID %u, got %#x SID %u", id, sid,
		    ev.ev_id, ev.ev_sid);
	if (out != NULL)
		*out = ev;
}

void
smmu_td_expect_no_event(struct smmu_td *td)
{
	struct smmu_evt ev;

	if (smmu_td_pop_event(td, &ev))
		fail_msg("unexpected event %#x SID %u addr %#llx", ev.ev_id,
		    ev.ev_sid, (unsigned long long)ev.ev_addr);
}

uint32_t
smmu_td_gerror_active(struct smmu_td *td)
{
	return (smmu_td_rd32(td, SMMU_GERROR) ^
		   smmu_td_rd32(td, SMMU_GERRORN)) &
	    SMMU_GERROR_VALID_MASK;
}

void
smmu_td_gerror_ack(struct smmu_td *td, uint32_t bits)
{
	smmu_td_wr32(td, SMMU_GERRORN, smmu_td_rd32(td, SMMU_GERRORN) ^ bits);
}

unsigned long
smmu_td_irqs(struct smmu_td *td, enum smmuv3_irq_line line)
{
	unsigned long n;

	pthread_mutex_lock(&td->td_lock);
	n = td->td_irqs[line];
	pthread_mutex_unlock(&td->td_lock);
	return n;
}

unsigned long
smmu_td_stale_count(struct smmu_td *td)
{
	unsigned long n;

	pthread_mutex_lock(&td->td_lock);
	n = td->td_stale;
	pthread_mutex_unlock(&td->td_lock);
	return n;
}

uint64_t
smmu_td_pa_of(struct smmu_td *td, uint32_t sid, uint64_t iova)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	int		    error;

	error = smmuv3_translate(td->td_smmu, sid, SMMUV3_NO_SSID, iova,
	    SMMUV3_ACCESS_READ, &xl, &ft);
	if (error != 0)
		fail_msg("SID %u iova %#llx: error %d event %#x", sid,
		    (unsigned long long)iova, error, ft.ft_event);
	return xl.xl_pa;
}
