/*
 * libiommu - SMMUv3 model: the stage-1 VMSAv8-64 translation table walker
 * (IHI 0070 3.4 / Arm ARM D8: AArch64 descriptors, 4K, 16K and 64K
 * granules, start level from TxSZ).
 *
 * Design: a walk reads one 8-byte descriptor per level through
 * ho_mem_read, little-endian, and produces a leaf (struct smmuv3__tlbe)
 * or a fault in struct smmuv3__event.  Fault priority follows the Arm ARM:
 * external abort on the descriptor fetch (F_WALK_EABT with the fetch
 * address), translation (invalid or reserved descriptor, block at a level
 * that cannot hold one), address size (a table or output address beyond
 * the effective IPS), access flag (AF = 0 unless CD.AFFD); stage-1 faults
 * are CLASS IN, F_WALK_EABT is CLASS TT (7.3.12 - 7.3.14).  Permissions
 * are left to the caller (they apply to TLB hits as well): AP[2] and
 * APTable[1] make a mapping read-only.  The walker only reads: it runs on
 * the shared side, several walks at once, and counts in the caller's
 * shard.
 *
 * Not implemented: hardware AF/dirty update (HTTU unadvertised), 52-bit
 * addresses (LPA/LPA2), EL0 / privileged distinction (AP[1], PXN/UXN:
 * device transactions are treated as data accesses with no privilege
 * check), contiguous-hint merging, stage 2.
 */
#include <string.h>

#include "hw_smmuv3_internal.h"

static int smmuv3_walk_fault(
    struct smmuv3__event *, uint8_t id, uint8_t cls, uint64_t fetch);

static int
smmuv3_walk_fault(
    struct smmuv3__event *ev, uint8_t id, uint8_t cls, uint64_t fetch)
{
	ev->ev_id = id;
	ev->ev_class = cls;
	ev->ev_fetch_addr = fetch;
	return 1;
}

/*
 * Walks cf's tables for req->rq_iova (already canonical: the top byte
 * cleared or set under TBI).  Returns 0 with *out, or non-zero with the
 * fault in *ev.
 */
int
smmuv3__walk(struct smmuv3 *sc, struct smmuv3__shard *sh,
    const struct smmuv3__cfg *cf, const struct smmuv3__req *req, unsigned flags,
    struct smmuv3__tlbe *out, struct smmuv3__event *ev)
{
	const struct smmuv3__tt *tt;
	uint64_t		 va = req->rq_iova, table, addr, desc, oa;
	uint64_t		 oa_mask, index_mask;
	unsigned		 level, shift, stride, gshift, reads = 0;
	bool			 ro = false;
	uint8_t			 buf[8];
	int			 h, fault = 0;

	h = smmuv3__tt_select(cf, va);
	if (h < 0 || cf->cf_tt[h].tt_disabled)
		return smmuv3_walk_fault(
		    ev, SMMU_EVT_F_TRANSLATION, SMMU_EVT_CLASS_IN, 0);
	tt = &cf->cf_tt[h];
	gshift = tt->tt_gshift;
	stride = gshift - 3;
	oa_mask = SMMU_PTE_OA_MASK(gshift);
	table = tt->tt_base;
	level = tt->tt_start_level;
	shift = gshift + (3 - level) * stride;
	/* The start level indexes with what is left of the VA bits. */
	index_mask = (1ULL << (tt->tt_va_bits - shift)) - 1;
	for (;; level++, shift -= stride, index_mask = (1ULL << stride) - 1) {
		addr = table + ((va >> shift) & index_mask) * 8;
		reads++;
		if (sc->sc_ops.ho_mem_read(sc->sc_cookie, addr, buf, 8) != 0) {
			fault = smmuv3_walk_fault(
			    ev, SMMU_EVT_F_WALK_EABT, SMMU_EVT_CLASS_TT, addr);
			goto out;
		}
		desc = iommu__le64_dec(buf);
		if (!(flags & SMMUV3__PROBE) && SMMUV3__TRACING(sc))
			smmuv3__trace(sc, SMMUV3_TRACE_WALK, cf->cf_sid,
			    cf->cf_ssid, va, addr, desc, level, 0);
		if ((desc & SMMU_PTE_VALID) == 0)
			goto translation_fault;
		oa = desc & oa_mask;
		if (level == 3 || (desc & SMMU_PTE_TYPE_TABLE) == 0)
			break;
		if (oa >> cf->cf_ips_bits != 0)
			goto address_size_fault;
		if (SMMU_FGET(desc, SMMU_PTE_APTABLE) & 2)
			ro = true;
		table = oa;
	}
	/* Page at level 3; blocks only where the granule allows. */
	if (level == 3 ? (desc & SMMU_PTE_TYPE_TABLE) == 0
		       : level == 0 || (gshift != 12 && level == 1))
		goto translation_fault;
	oa &= ~((1ULL << shift) - 1);
	if (oa >> cf->cf_ips_bits != 0)
		goto address_size_fault;
	if ((desc & SMMU_PTE_AF) == 0 && !cf->cf_affd) {
		fault = smmuv3_walk_fault(
		    ev, SMMU_EVT_F_ACCESS, SMMU_EVT_CLASS_IN, 0);
		goto out;
	}
	if (SMMU_FGET(desc, SMMU_PTE_AP) & 2)
		ro = true;
	memset(out, 0, sizeof(*out));
	out->te_va = va & ~((1ULL << shift) - 1);
	out->te_pa = oa;
	out->te_asid = cf->cf_asid;
	out->te_regime = cf->cf_strw;
	out->te_size_log2 = (uint8_t)shift;
	out->te_level = (uint8_t)level;
	out->te_flags = SMMUV3__TE_R | (ro ? 0 : SMMUV3__TE_W);
	if ((desc & SMMU_PTE_NG) == 0 || !cf->cf_two_halves)
		out->te_flags |= SMMUV3__TE_GLOBAL;
	goto out;

translation_fault:
	fault =
	    smmuv3_walk_fault(ev, SMMU_EVT_F_TRANSLATION, SMMU_EVT_CLASS_IN, 0);
	goto out;
address_size_fault:
	fault =
	    smmuv3_walk_fault(ev, SMMU_EVT_F_ADDR_SIZE, SMMU_EVT_CLASS_IN, 0);
out:
	if (!(flags & SMMUV3__PROBE)) {
		sh->sh_st.ds_walks++;
		sh->sh_st.ds_walk_reads += reads;
	}
	return fault;
}
