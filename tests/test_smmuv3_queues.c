/*
 * SMMUv3 model: queue mechanics (IHI 0070 3.5 / 7.2).  PROD/CONS index and
 * wrap bit at every LOG2SIZE, command errors and resumption (7.1), CMD_SYNC
 * completion by MSI write and by wired interrupt (4.7.3), event queue
 * overflow flag and its acknowledgement (7.4), and the GERROR/GERRORN
 * toggle protocol (6.3.17).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "smmu_testdrv.h"
#include "test_alloc.h"

#define SYNC_NONE smmu_cmd_sync(SMMU_SYNC_CS_NONE, 0, 0)

static void
init_td(struct smmu_td *td, bool msi)
{
	struct smmuv3_config cfg;

	smmuv3_config_init(&cfg);
	cfg.cfg_msi = msi;
	cfg.cfg_cmdqs = 10;
	cfg.cfg_eventqs = 10;
	smmu_td_init(td, &cfg, 0);
}

static void
cmdq_prod_cons_wrap_at_every_log2size(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_opts o;
	unsigned	    l2, i, n;
	uint32_t	    cons, start;

	(void)state;
	init_td(&td, false);
	smmu_td_default_opts(&o);
	for (l2 = 0; l2 <= td.td_cfg.cfg_cmdqs; l2++) {
		o.to_cmdq_log2 = l2;
		smmu_td_enable(&td, &o);
		start = smmu_td_cmdq_cons(&td);
		/* Enough single commands to wrap at least twice. */
		n = (unsigned)test_scale(2 * (1u << l2) + 3);
		if (n < (1u << l2) + 2)
			n = (1u << l2) + 2;
		for (i = 0; i < n; i++) {
			struct smmu_cmd c = SYNC_NONE;

			assert_int_equal(smmu_td_submit(&td, &c, 1), 0);
			cons = smmu_td_cmdq_cons(&td);
			assert_int_equal(cons & ((2u << l2) - 1),
			    td.td_cmdq_prod & ((2u << l2) - 1));
		}
		/* Index and wrap bit count n modulo 2^(LOG2SIZE + 1). */
		assert_int_equal(
		    smmu_td_cmdq_cons(&td), (start + n) & ((2u << l2) - 1));
		/* A batch filling the whole queue at once. */
		{
			struct smmu_cmd batch[1024];

			for (i = 0; i < (1u << l2) && i < 1024; i++)
				batch[i] = SYNC_NONE;
			assert_int_equal(smmu_td_submit(&td, batch, i), 0);
		}
	}
	smmu_td_fini(&td);
}

static void
eventq_prod_wraps_at_every_log2size(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_opts o;
	struct smmu_evt	    ev;
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;
	unsigned	    l2, i, n;

	(void)state;
	init_td(&td, false);
	smmu_td_default_opts(&o);
	for (l2 = 0; l2 <= td.td_cfg.cfg_eventqs; l2++) {
		o.to_evtq_log2 = l2;
		smmu_td_enable(&td, &o);
		/* At least one wrap (two natively). */
		n = (unsigned)test_scale(2 * (1u << l2) + 1);
		if (n < (1u << l2) + 1)
			n = (1u << l2) + 1;
		for (i = 0; i < n; i++) {
			/* SID 1000 >= 2^8: C_BAD_STREAMID, SID in the record.
			 */
			assert_int_equal(smmuv3_translate(td.td_smmu, 1000 + i,
					     SMMUV3_NO_SSID, 0,
					     SMMUV3_ACCESS_READ, &xl, &ft),
			    EFAULT);
			smmu_td_expect_event(
			    &td, SMMU_EVT_C_BAD_STREAMID, 1000 + i, &ev);
		}
		assert_int_equal(
		    smmu_td_rd32(&td, SMMU_EVENTQ_PROD) & ((2u << l2) - 1),
		    td.td_evtq_cons & ((2u << l2) - 1));
		assert_int_equal(
		    SMMU_Q_WRP(td.td_evtq_cons, l2) != 0, ((n >> l2) & 1) != 0);
	}
	smmu_td_fini(&td);
}

static void
illegal_command_stops_queue_with_cerror_ill_until_acknowledged(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd cmds[3];
	uint32_t	cons, idx;
	uint64_t	pa;

	(void)state;
	init_td(&td, true);
	smmu_td_enable(&td, NULL);
	cmds[0] = SYNC_NONE;
	cmds[1] = smmu_cmd_raw(0xff, 0); /* unallocated opcode */
	cmds[2] = smmu_cmd_sync(SMMU_SYNC_CS_IRQ, td.td_sync_word, 0xabcd);
	assert_int_equal(smmu_td_submit(&td, cmds, 3), SMMU_CERROR_ILL);
	cons = smmu_td_cmdq_cons(&td);
	idx = SMMU_Q_IDX(cons, td.td_opts.to_cmdq_log2);
	assert_int_equal(
	    idx, SMMU_Q_IDX(td.td_cmdq_prod, td.td_opts.to_cmdq_log2) - 2);
	assert_int_equal(
	    smmu_td_gerror_active(&td), SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_GERROR), 1);
	/* The SYNC behind the bad command did not run. */
	assert_int_equal(test_flatmem_rd32(&td.td_mem, td.td_sync_word), 0);
	/* Ringing again does not move past the error. */
	smmu_td_wr32(&td, SMMU_CMDQ_PROD, td.td_cmdq_prod);
	assert_int_equal(smmu_td_cmdq_cons(&td), cons);

	/* Fix the command in place (replace it by a CFGI_ALL), then ack. */
	pa = td.td_cmdq + (uint64_t)idx * SMMU_CMD_SIZE;
	test_flatmem_wr64(&td.td_mem, pa, smmu_cmd_cfgi_all().c_dw[0]);
	test_flatmem_wr64(&td.td_mem, pa + 8, smmu_cmd_cfgi_all().c_dw[1]);
	smmu_td_gerror_ack(&td, SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
	assert_int_equal(smmu_td_gerror_active(&td), 0);
	/* Processing resumes from CONS (a doorbell is harmless). */
	smmu_td_wr32(&td, SMMU_CMDQ_PROD, td.td_cmdq_prod);
	cons = smmu_td_cmdq_cons(&td);
	assert_int_equal(SMMU_FGET(cons, SMMU_CMDQ_CONS_ERR), 0);
	assert_int_equal(cons & 0xfffff, td.td_cmdq_prod & 0xfffff);
	assert_int_equal(
	    test_flatmem_rd32(&td.td_mem, td.td_sync_word), 0xabcd);
	smmu_td_fini(&td);
}

static void
cmd_sync_with_cs_3_is_cerror_ill(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = smmu_cmd_sync(3, 0, 0);

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	smmu_td_fini(&td);
}

static void
command_fetch_abort_is_cerror_abt(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = SYNC_NONE;
	uint64_t	pa;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	pa = td.td_cmdq +
	    (uint64_t)SMMU_Q_IDX(td.td_cmdq_prod, td.td_opts.to_cmdq_log2) *
		SMMU_CMD_SIZE;
	test_flatmem_poison_reads(&td.td_mem, pa, SMMU_CMD_SIZE);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ABT);
	assert_int_equal(
	    smmu_td_gerror_active(&td), SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
	test_flatmem_clear_faults(&td.td_mem);
	smmu_td_gerror_ack(&td, SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
	smmu_td_wr32(&td, SMMU_CMDQ_PROD, td.td_cmdq_prod);
	assert_int_equal(smmu_td_cmdq_cons(&td), td.td_cmdq_prod);
	smmu_td_fini(&td);
}

/*
 * Commands are fetched several at a time; a fault on the third of five
 * pending commands must still run the first two, stop CONS on the third
 * and leave the rest for after the acknowledgement.
 */
static void
command_fetch_abort_mid_batch_stops_on_that_command(void **state)
{
	struct smmu_td	    td;
	struct smmu_cmd	    c[5];
	struct smmuv3_stats st;
	uint32_t	    cons0, cons;
	unsigned	    i, l2;
	uint64_t	    pa;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	l2 = td.td_opts.to_cmdq_log2;
	for (i = 0; i < 5; i++)
		c[i] = smmu_cmd_tlbi_asid(SMMU_OP_TLBI_NH_ASID, (uint16_t)i);
	cons0 = smmu_td_cmdq_cons(&td);
	pa = td.td_cmdq +
	    (uint64_t)SMMU_Q_IDX(
		smmu_q_inc(smmu_q_inc(td.td_cmdq_prod, l2), l2), l2) *
		SMMU_CMD_SIZE;
	test_flatmem_poison_reads(&td.td_mem, pa, SMMU_CMD_SIZE);
	smmuv3_get_stats(td.td_smmu, &st);
	assert_int_equal(st.st_commands_by_op[SMMU_OP_TLBI_NH_ASID], 0);
	assert_int_equal(smmu_td_submit(&td, c, 5), SMMU_CERROR_ABT);
	cons = smmu_td_cmdq_cons(&td);
	assert_int_equal(cons & ((2u << l2) - 1),
	    smmu_q_inc(smmu_q_inc(cons0, l2), l2) & ((2u << l2) - 1));
	smmuv3_get_stats(td.td_smmu, &st);
	assert_int_equal(st.st_commands_by_op[SMMU_OP_TLBI_NH_ASID], 2);
	test_flatmem_clear_faults(&td.td_mem);
	smmu_td_gerror_ack(&td, SMMU_FMASK(SMMU_GERROR_CMDQ_ERR));
	smmu_td_wr32(&td, SMMU_CMDQ_PROD, td.td_cmdq_prod);
	assert_int_equal(smmu_td_cmdq_cons(&td), td.td_cmdq_prod);
	smmuv3_get_stats(td.td_smmu, &st);
	assert_int_equal(st.st_commands_by_op[SMMU_OP_TLBI_NH_ASID], 5);
	smmu_td_fini(&td);
}

static void
cmd_sync_msi_writes_data_to_address(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c;

	(void)state;
	init_td(&td, true);
	smmu_td_enable(&td, NULL);
	c = smmu_cmd_sync(SMMU_SYNC_CS_IRQ, td.td_sync_word, 0x12345678);
	assert_int_equal(smmu_td_submit(&td, &c, 1), 0);
	assert_int_equal(
	    test_flatmem_rd32(&td.td_mem, td.td_sync_word), 0x12345678);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_CMD_SYNC), 0);
	/* CS = none: no write. */
	test_flatmem_wr32(&td.td_mem, td.td_sync_word, 0);
	c = smmu_cmd_sync(SMMU_SYNC_CS_NONE, td.td_sync_word, 0x55);
	assert_int_equal(smmu_td_submit(&td, &c, 1), 0);
	assert_int_equal(test_flatmem_rd32(&td.td_mem, td.td_sync_word), 0);
	smmu_td_fini(&td);
}

static void
cmd_sync_without_msi_pulses_the_sync_line(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c[2];

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	c[0] = smmu_cmd_sync(SMMU_SYNC_CS_IRQ, 0, 0);
	c[1] = smmu_cmd_sync(SMMU_SYNC_CS_IRQ, 0, 0);
	assert_int_equal(smmu_td_submit(&td, c, 2), 0);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_CMD_SYNC), 2);
	c[0] = SYNC_NONE;
	assert_int_equal(smmu_td_submit(&td, c, 1), 0);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_CMD_SYNC), 2);
	smmu_td_fini(&td);
}

static void
fault(struct smmu_td *td, uint32_t sid)
{
	struct smmuv3_xlate xl;
	struct smmuv3_fault ft;

	assert_int_equal(smmuv3_translate(td->td_smmu, sid, SMMUV3_NO_SSID,
			     0x1000, SMMUV3_ACCESS_READ, &xl, &ft),
	    EFAULT);
}

static void
full_event_queue_sets_overflow_flag_until_acknowledged(void **state)
{
	struct smmu_td	    td;
	struct smmu_td_opts o;
	struct smmuv3_stats st;
	struct smmu_evt	    ev;
	uint32_t	    prod;

	(void)state;
	init_td(&td, false);
	smmu_td_default_opts(&o);
	o.to_evtq_log2 = 1;
	smmu_td_enable(&td, &o);
	fault(&td, 1000);
	fault(&td, 1001);
	prod = smmu_td_rd32(&td, SMMU_EVENTQ_PROD);
	assert_int_equal(SMMU_FGET(prod, SMMU_EVENTQ_PROD_OVFLG), 0);
	fault(&td, 1002); /* lost: queue full */
	prod = smmu_td_rd32(&td, SMMU_EVENTQ_PROD);
	assert_int_equal(SMMU_FGET(prod, SMMU_EVENTQ_PROD_OVFLG), 1);
	smmuv3_get_stats(td.td_smmu, &st);
	assert_int_equal(st.st_events_lost, 1);
	/* Overflow is not a global error (7.4). */
	assert_int_equal(smmu_td_gerror_active(&td), 0);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 1000, &ev);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 1001, &ev);
	smmu_td_expect_no_event(&td);
	/* Acknowledge: CONS.OVACKFLG = PROD.OVFLG. */
	td.td_evtq_cons |= 1u << 31;
	smmu_td_wr32(&td, SMMU_EVENTQ_CONS, td.td_evtq_cons);
	assert_int_equal(SMMU_FGET(smmu_td_rd32(&td, SMMU_EVENTQ_CONS),
			     SMMU_EVENTQ_CONS_OVACKFLG),
	    1);
	fault(&td, 1003);
	prod = smmu_td_rd32(&td, SMMU_EVENTQ_PROD);
	assert_int_equal(SMMU_FGET(prod, SMMU_EVENTQ_PROD_OVFLG), 1);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 1003, &ev);
	/* A second overflow toggles OVFLG back to 0 (!= OVACKFLG). */
	fault(&td, 1004);
	fault(&td, 1005);
	fault(&td, 1006);
	prod = smmu_td_rd32(&td, SMMU_EVENTQ_PROD);
	assert_int_equal(SMMU_FGET(prod, SMMU_EVENTQ_PROD_OVFLG), 0);
	smmu_td_fini(&td);
}

static void
eventq_irq_pulses_only_when_enabled(void **state)
{
	struct smmu_td td;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	fault(&td, 1000);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_EVENTQ), 1);
	smmu_td_wr32(&td, SMMU_IRQ_CTRL, 0x1);
	assert_int_equal(smmu_td_rd32(&td, SMMU_IRQ_CTRLACK), 0x1);
	fault(&td, 1001);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_EVENTQ), 1);
	assert_int_equal(smmu_td_drain_events(&td), 2);
	smmu_td_fini(&td);
}

static void
eventq_write_abort_raises_gerror_eventq_abt(void **state)
{
	struct smmu_td td;
	uint32_t       bit = SMMU_FMASK(SMMU_GERROR_EVENTQ_ABT);

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	test_flatmem_poison_writes(&td.td_mem, td.td_evtq, 32ULL << 7);
	fault(&td, 1000);
	assert_int_equal(smmu_td_gerror_active(&td) & bit, bit);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_GERROR), 1);
	smmu_td_gerror_ack(&td, bit);
	assert_int_equal(smmu_td_gerror_active(&td) & bit, 0);
	smmu_td_fini(&td);
}

static void
gerrorn_toggle_acknowledges_and_next_error_toggles_gerror(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = smmu_cmd_raw(0xfe, 0);
	uint32_t	bit = SMMU_FMASK(SMMU_GERROR_CMDQ_ERR);
	uint32_t	g;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	assert_int_equal(smmu_td_gerror_active(&td), 0);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	g = smmu_td_rd32(&td, SMMU_GERROR);
	assert_int_equal(g & bit, bit);
	/* GERROR is read-only. */
	smmu_td_wr32(&td, SMMU_GERROR, 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_GERROR), g);
	/* Fix the command before acknowledging, then resume. */
	test_flatmem_wr64(&td.td_mem,
	    td.td_cmdq +
		(uint64_t)SMMU_Q_IDX(
		    smmu_td_cmdq_cons(&td), td.td_opts.to_cmdq_log2) *
		    SMMU_CMD_SIZE,
	    SMMU_OP_CMD_SYNC);
	smmu_td_gerror_ack(&td, bit);
	assert_int_equal(smmu_td_gerror_active(&td), 0);
	/* A second error toggles GERROR back; active again. */
	smmu_td_wr32(&td, SMMU_CMDQ_PROD, td.td_cmdq_prod);
	assert_int_equal(smmu_td_cmdq_cons(&td), td.td_cmdq_prod);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	assert_int_equal(smmu_td_rd32(&td, SMMU_GERROR) & bit, 0);
	assert_int_equal(smmu_td_gerror_active(&td), bit);
	smmu_td_fini(&td);
}

static void
cmdq_cons_writable_only_while_cmdq_disabled(void **state)
{
	struct smmu_td td;
	uint32_t       cons;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	cons = smmu_td_cmdq_cons(&td);
	smmu_td_wr32(&td, SMMU_CMDQ_CONS, cons + 3);
	assert_int_equal(smmu_td_cmdq_cons(&td), cons);
	smmu_td_write_cr0(&td, 0);
	smmu_td_wr32(&td, SMMU_CMDQ_CONS, 5);
	assert_int_equal(smmu_td_cmdq_cons(&td), 5);
	smmu_td_fini(&td);
}

static void
disabled_cmdq_consumes_nothing(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = SYNC_NONE;
	uint64_t	pa;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	smmu_td_write_cr0(&td,
	    SMMU_FSET(0, SMMU_CR0_SMMUEN, 1) |
		SMMU_FSET(0, SMMU_CR0_EVENTQEN, 1));
	pa = td.td_cmdq +
	    (uint64_t)SMMU_Q_IDX(td.td_cmdq_prod, td.td_opts.to_cmdq_log2) *
		SMMU_CMD_SIZE;
	test_flatmem_wr64(&td.td_mem, pa, c.c_dw[0]);
	test_flatmem_wr64(&td.td_mem, pa + 8, c.c_dw[1]);
	smmu_td_wr32(&td, SMMU_CMDQ_PROD,
	    smmu_q_inc(td.td_cmdq_prod, td.td_opts.to_cmdq_log2));
	assert_int_equal(smmu_td_cmdq_cons(&td), td.td_cmdq_prod);
	smmu_td_fini(&td);
}

static void
events_with_eventq_disabled_are_lost_and_counted(void **state)
{
	struct smmu_td	    td;
	struct smmuv3_stats st;

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	smmu_td_write_cr0(&td,
	    SMMU_FSET(0, SMMU_CR0_SMMUEN, 1) |
		SMMU_FSET(0, SMMU_CR0_CMDQEN, 1));
	fault(&td, 1000);
	smmuv3_get_stats(td.td_smmu, &st);
	assert_int_equal(st.st_events_lost, 1);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_PROD), 0);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_EVENTQ), 0);
	smmu_td_fini(&td);
}

static void
gerror_irq_follows_irq_ctrl(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = smmu_cmd_raw(0xfe, 0);

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	smmu_td_wr32(&td, SMMU_IRQ_CTRL, 0);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	assert_int_not_equal(smmu_td_gerror_active(&td), 0);
	assert_int_equal(smmu_td_irqs(&td, SMMUV3_IRQ_GERROR), 0);
	smmu_td_fini(&td);
}

static void
prefetch_and_sync_variants_are_accepted(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c[4];

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	c[0] = smmu_cmd_raw(
	    SMMU_FSET(SMMU_OP_PREFETCH_CONFIG, SMMU_CMD0_SID, 3), 0);
	c[1] = smmu_cmd_raw(
	    SMMU_FSET(SMMU_OP_PREFETCH_ADDR, SMMU_CMD0_SID, 3), 0x1000);
	c[2] = smmu_cmd_sync(SMMU_SYNC_CS_SEV, 0, 0);
	c[3] = smmu_cmd_cfgi_cd_all(3);
	assert_int_equal(smmu_td_submit(&td, c, 4), 0);
	assert_int_equal(smmu_td_gerror_active(&td), 0);
	smmu_td_fini(&td);
}

static void
reset_clears_command_errors_and_queue_state(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = smmu_cmd_raw(0xfe, 0);

	(void)state;
	init_td(&td, false);
	smmu_td_enable(&td, NULL);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	fault(&td, 1000);
	smmuv3_reset(td.td_smmu);
	assert_int_equal(smmu_td_rd32(&td, SMMU_GERROR), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_GERRORN), 0);
	assert_int_equal(smmu_td_cmdq_cons(&td), 0);
	assert_int_equal(smmu_td_rd32(&td, SMMU_EVENTQ_PROD), 0);
	/* The driver starts over and everything works again. */
	smmu_td_enable(&td, NULL);
	smmu_td_sync(&td);
	fault(&td, 1001);
	smmu_td_expect_event(&td, SMMU_EVT_C_BAD_STREAMID, 1001, NULL);
	smmu_td_fini(&td);
}

/* 6.3.21 / 6.3.31: with IRQ_CFG0.ADDR != 0 the interrupt is an MSI write. */
static void
eventq_and_gerror_interrupts_become_msi_writes(void **state)
{
	struct smmu_td	td;
	struct smmu_cmd c = smmu_cmd_raw(0xfe, 0);
	uint64_t	evt_msi, gerr_msi;

	(void)state;
	init_td(&td, true);
	smmu_td_enable(&td, NULL);
	evt_msi = test_flatmem_alloc(&td.td_mem, 8, 8);
	gerr_msi = test_flatmem_alloc(&td.td_mem, 8, 8);
	smmu_td_wr64(&td, SMMU_EVENTQ_IRQ_CFG0, evt_msi);
	smmu_td_wr32(&td, SMMU_EVENTQ_IRQ_CFG1, 0xe1e1e1e1);
	smmu_td_wr64(&td, SMMU_GERROR_IRQ_CFG0, gerr_msi);
	smmu_td_wr32(&td, SMMU_GERROR_IRQ_CFG1, 0x6e6e6e6e);
	fault(&td, 1000);
	assert_int_equal(test_flatmem_rd32(&td.td_mem, evt_msi), 0xe1e1e1e1);
	assert_int_equal(smmu_td_submit(&td, &c, 1), SMMU_CERROR_ILL);
	assert_int_equal(test_flatmem_rd32(&td.td_mem, gerr_msi), 0x6e6e6e6e);
	assert_int_equal(smmu_td_drain_events(&td), 1);
	smmu_td_fini(&td);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cmdq_prod_cons_wrap_at_every_log2size),
	    cmocka_unit_test(eventq_prod_wraps_at_every_log2size),
	    cmocka_unit_test(
		illegal_command_stops_queue_with_cerror_ill_until_acknowledged),
	    cmocka_unit_test(cmd_sync_with_cs_3_is_cerror_ill),
	    cmocka_unit_test(command_fetch_abort_is_cerror_abt),
	    cmocka_unit_test(
		command_fetch_abort_mid_batch_stops_on_that_command),
	    cmocka_unit_test(cmd_sync_msi_writes_data_to_address),
	    cmocka_unit_test(cmd_sync_without_msi_pulses_the_sync_line),
	    cmocka_unit_test(
		full_event_queue_sets_overflow_flag_until_acknowledged),
	    cmocka_unit_test(eventq_irq_pulses_only_when_enabled),
	    cmocka_unit_test(eventq_write_abort_raises_gerror_eventq_abt),
	    cmocka_unit_test(
		gerrorn_toggle_acknowledges_and_next_error_toggles_gerror),
	    cmocka_unit_test(cmdq_cons_writable_only_while_cmdq_disabled),
	    cmocka_unit_test(disabled_cmdq_consumes_nothing),
	    cmocka_unit_test(events_with_eventq_disabled_are_lost_and_counted),
	    cmocka_unit_test(gerror_irq_follows_irq_ctrl),
	    cmocka_unit_test(prefetch_and_sync_variants_are_accepted),
	    cmocka_unit_test(reset_clears_command_errors_and_queue_state),
	    cmocka_unit_test(eventq_and_gerror_interrupts_become_msi_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
