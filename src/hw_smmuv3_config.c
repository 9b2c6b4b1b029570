/*
 * libiommu - SMMUv3 model: stream table walk, STE and CD fetch and
 * validation (IHI 0070 5.1 stream tables, 5.2 STE, 5.4 CD, 3.3 stream and
 * substream lookup) and the config cache of decoded STE+CD per stream.
 *
 * Design: the config cache holds sets * ways struct smmuv3__cfg, keyed by
 * (StreamID, SubstreamID or "none"), set chosen by a hash of the key,
 * round-robin victims.  An entry keeps the decoded STE part and, for
 * stage-1 streams, the decoded CD part; CFGI_CD and CFGI_CD_ALL drop only
 * the CD part (the next use refetches the CD through the cached STE),
 * CFGI_STE and CFGI_STE_RANGE drop whole entries.  Nothing else changes
 * an entry: a driver that edits an STE or CD without the CFGI it owes
 * keeps the old configuration, as on silicon.  Lookups that fault are not
 * cached (their event is recorded on every access).  Every read of the
 * stream table, L1 descriptors and CD tables goes through ho_mem_read; a
 * failed read is F_STE_FETCH / F_CD_FETCH with the fetch address.
 *
 * Concurrency (hw_smmuv3_internal.h): the cache changes only on the
 * exclusive side.  The shared side (device accesses) looks entries up and
 * uses them in place without locks; when it would have to fill an entry
 * or refetch a dropped CD, smmuv3__cfg_get answers SMMUV3__NEED_EXCL and
 * the caller redoes the access on the exclusive side.  Probes decode into
 * the caller's buffer and never touch the cache.
 *
 * Choices where the architecture leaves room: a base address that is not
 * aligned to its table size has the low bits ignored; STRTAB LOG2SIZE is
 * clamped to IDR1.SIDSIZE for the StreamID check (alignment uses the
 * literal value); a SPLIT other than 6/8/10 behaves as 6; an L1 Span of
 * 0, 12..31 or above SPLIT + 1 is invalid (5.1.1); CD.IPS above IDR5.OAS
 * (including reserved 7) is treated as OAS.
 *
 * Not implemented (unadvertised; an STE or CD asking for them is C_BAD_STE
 * or C_BAD_CD and logged SMMUV3_LOG_UNIMP): stage 2 and nested
 * translation, two-level CD tables (S1Fmt != 0), AArch32 CDs (AA64 = 0),
 * big-endian tables (ENDI), stall (CD.S, STE.S1STALLD), RAZ/WI termination
 * (CD.A = 0; IDR0.TERM_MODEL = 1), HTTU (CD.HA/HD), ATS (EATS is ignored),
 * the secure stream table.
 */
#include <errno.h>
#include <string.h>

#include "hw_smmuv3_internal.h"

static int smmuv3_ste_locate(
    struct smmuv3 *, uint32_t sid, uint64_t *addr, struct smmuv3__event *);
static int  smmuv3_ste_fetch(struct smmuv3 *, uint32_t sid, unsigned flags,
     struct smmuv3__cfg *, struct smmuv3__event *);
static int  smmuv3_ssid_resolve(struct smmuv3 *, struct smmuv3__cfg *,
     uint32_t ssid, struct smmuv3__event *);
static int  smmuv3_cd_fetch(struct smmuv3 *, unsigned flags,
     struct smmuv3__cfg *, struct smmuv3__event *);
static int  smmuv3_tt_decode(struct smmuv3 *, struct smmuv3__tt *, uint64_t ttb,
     unsigned tsz, unsigned gshift, unsigned ips_bits);
static int  smmuv3_cfg_decode(struct smmuv3 *, uint32_t sid, uint32_t ssid,
     unsigned flags, struct smmuv3__cfg *, struct smmuv3__event *);
static bool smmuv3_cfg_same(
    const struct smmuv3__cfg *, const struct smmuv3__cfg *);
static void smmuv3_cfg_check_stale(struct smmuv3 *, const struct smmuv3__cfg *);
static void smmuv3_bad(struct smmuv3__event *, uint8_t id, uint32_t sid,
    uint32_t ssid, uint64_t fetch, uint8_t cls);

int
smmuv3__cfgc_init(struct smmuv3 *sc)
{
	unsigned n = sc->sc_cfg.cfg_cfgcache_entries;
	unsigned ways = n < 4 ? n : 4;
	unsigned sets = 1;

	while (sets * 2 * ways <= n)
		sets *= 2;
	sc->sc_cfgc_sets = sets;
	sc->sc_cfgc_ways = ways;
	sc->sc_cfgc = iommu__zalloc(
	    sc->sc_alloc, (size_t)sets * ways * sizeof(*sc->sc_cfgc));
	sc->sc_cfgc_victim = iommu__zalloc(sc->sc_alloc, sets);
	if (sc->sc_cfgc == NULL || sc->sc_cfgc_victim == NULL) {
		smmuv3__cfgc_fini(sc);
		return ENOMEM;
	}
	return 0;
}

void
smmuv3__cfgc_fini(struct smmuv3 *sc)
{
	if (sc->sc_cfgc != NULL)
		iommu__free(sc->sc_alloc, sc->sc_cfgc,
		    (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways *
			sizeof(*sc->sc_cfgc));
	if (sc->sc_cfgc_victim != NULL)
		iommu__free(sc->sc_alloc, sc->sc_cfgc_victim, sc->sc_cfgc_sets);
	sc->sc_cfgc = NULL;
	sc->sc_cfgc_victim = NULL;
}

void
smmuv3__cfgc_flush(struct smmuv3 *sc)
{
	memset(sc->sc_cfgc, 0,
	    (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways * sizeof(*sc->sc_cfgc));
	memset(sc->sc_cfgc_victim, 0, sc->sc_cfgc_sets);
}

size_t
smmuv3__cfgc_count(struct smmuv3 *sc)
{
	size_t i, n = 0;

	for (i = 0; i < (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways; i++)
		n += sc->sc_cfgc[i].cf_valid;
	return n;
}

/* CFGI_STE / CFGI_STE_RANGE / CFGI_CD_ALL over [first, last]. */
void
smmuv3__cfgc_inv_sid_range(
    struct smmuv3 *sc, uint64_t first, uint64_t last, bool cd_only)
{
	size_t		    i, n = (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways;
	struct smmuv3__cfg *cf;

	for (i = 0, cf = sc->sc_cfgc; i < n; i++, cf++) {
		if (!cf->cf_valid || cf->cf_sid < first || cf->cf_sid > last)
			continue;
		if (cd_only)
			cf->cf_cd_valid = false;
		else
			cf->cf_valid = false;
	}
}

/* CFGI_CD: the CD numbered ssid of stream sid. */
void
smmuv3__cfgc_inv_cd(struct smmuv3 *sc, uint32_t sid, uint32_t ssid)
{
	size_t		    i, n = (size_t)sc->sc_cfgc_sets * sc->sc_cfgc_ways;
	struct smmuv3__cfg *cf;

	for (i = 0, cf = sc->sc_cfgc; i < n; i++, cf++)
		if (cf->cf_valid && cf->cf_sid == sid &&
		    cf->cf_cd_index == ssid)
			cf->cf_cd_valid = false;
}

static void
smmuv3_bad(struct smmuv3__event *ev, uint8_t id, uint32_t sid, uint32_t ssid,
    uint64_t fetch, uint8_t cls)
{
	ev->ev_id = id;
	ev->ev_sid = sid;
	ev->ev_ssid = ssid;
	ev->ev_fetch_addr = fetch;
	ev->ev_class = cls;
}

/* 5.1, 3.3.2: the address of the STE for sid. */
static int
smmuv3_ste_locate(
    struct smmuv3 *sc, uint32_t sid, uint64_t *addr, struct smmuv3__event *ev)
{
	uint32_t cfg = sc->sc_strtab_base_cfg;
	unsigned log2size =
	    (unsigned)SMMU_FGET(cfg, SMMU_STRTAB_BASE_CFG_LOG2SIZE);
	unsigned fmt = (unsigned)SMMU_FGET(cfg, SMMU_STRTAB_BASE_CFG_FMT);
	unsigned split, span, l1bits, raw_log2size;
	uint64_t base = sc->sc_strtab_base & SMMU_STRTAB_BASE_ADDR_MASK;
	uint64_t l1addr, l1size, desc, l2ptr;
	uint8_t	 buf[8];

	/*
	 * 6.3.24: the base is aligned to the table size given by the literal
	 * LOG2SIZE; StreamIDs are bounded by min(LOG2SIZE, SIDSIZE).
	 */
	raw_log2size = log2size;
	if (log2size > sc->sc_cfg.cfg_sidsize)
		log2size = sc->sc_cfg.cfg_sidsize;
	if ((uint64_t)sid >> log2size != 0)
		goto bad_sid;
	if (fmt != SMMU_STRTAB_FMT_2LVL || !sc->sc_cfg.cfg_two_level_strtab) {
		if (fmt != SMMU_STRTAB_FMT_LINEAR)
			smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
			    "STRTAB_BASE_CFG.FMT %u unsupported: linear", fmt);
		base &= ~(((uint64_t)SMMU_STE_SIZE << raw_log2size) - 1);
		*addr = base + (uint64_t)sid * SMMU_STE_SIZE;
		return 0;
	}
	split = (unsigned)SMMU_FGET(cfg, SMMU_STRTAB_BASE_CFG_SPLIT);
	/* 6.3.25: reserved SPLIT values behave as 6. */
	if (split != 6 && split != 8 && split != 10) {
		smmuv3__log(sc, SMMUV3_LOG_GUEST_ERROR,
		    "STRTAB_BASE_CFG.SPLIT %u reserved: as 6", split);
		split = 6;
	}
	l1bits = raw_log2size > split ? raw_log2size - split : 0;
	l1size = (uint64_t)8 << l1bits;
	if (l1size < 64)
		l1size = 64;
	base &= ~(l1size - 1);
	l1addr = base + (uint64_t)(sid >> split) * 8;
	/* 3.4.3: a fetch beyond the OAS is F_STE_FETCH (not truncated). */
	if (!smmuv3__pa_ok(sc, l1addr, 8) ||
	    sc->sc_ops.ho_mem_read(sc->sc_cookie, l1addr, buf, 8) != 0) {
		smmuv3_bad(ev, SMMU_EVT_F_STE_FETCH, sid, ev->ev_ssid, l1addr,
		    SMMU_EVT_CLASS_CD);
		return EFAULT;
	}
	desc = iommu__le64_dec(buf);
	span = (unsigned)SMMU_FGET(desc, SMMU_L1STD_SPAN);
	/* 5.1.1: Span 0, reserved (12..31) or beyond SPLIT + 1: invalid. */
	if (span == 0 || span > 11 || span > split + 1)
		goto bad_sid;
	if ((sid & ((1u << split) - 1)) >> (span - 1) != 0)
		goto bad_sid;
	l2ptr = desc & SMMU_L1STD_L2PTR_MASK &
	    ~(((uint64_t)SMMU_STE_SIZE << (span - 1)) - 1);
	*addr = l2ptr + (uint64_t)(sid & ((1u << split) - 1)) * SMMU_STE_SIZE;
	return 0;
bad_sid:
	smmuv3_bad(ev, SMMU_EVT_C_BAD_STREAMID, sid, ev->ev_ssid, 0,
	    SMMU_EVT_CLASS_CD);
	return EFAULT;
}

/* 5.2: fetch and validate the STE part of cf. */
static int
smmuv3_ste_fetch(struct smmuv3 *sc, uint32_t sid, unsigned flags,
    struct smmuv3__cfg *cf, struct smmuv3__event *ev)
{
	uint8_t	 ste[SMMU_STE_SIZE];
	uint64_t addr, dw0, dw1;
	unsigned config, strw, fmt;
	int	 error;

	if ((error = smmuv3_ste_locate(sc, sid, &addr, ev)) != 0)
		return error;
	if (!(flags & SMMUV3__PROBE)) {
		sc->sc_stats.st_ste_fetches++;
		if (SMMUV3__TRACING(sc))
			smmuv3__trace(sc, SMMUV3_TRACE_STE_FETCH, sid,
			    ev->ev_ssid, 0, addr, 0, 0, 0);
	}
	if (!smmuv3__pa_ok(sc, addr, sizeof(ste)) ||
	    sc->sc_ops.ho_mem_read(sc->sc_cookie, addr, ste, sizeof(ste)) !=
		0) {
		smmuv3_bad(ev, SMMU_EVT_F_STE_FETCH, sid, ev->ev_ssid, addr,
		    SMMU_EVT_CLASS_CD);
		return EFAULT;
	}
	dw0 = iommu__le64_dec(ste);
	dw1 = iommu__le64_dec(ste + 8);
	smmuv3_bad(
	    ev, SMMU_EVT_C_BAD_STE, sid, ev->ev_ssid, 0, SMMU_EVT_CLASS_CD);
	if (!SMMU_FGET(dw0, SMMU_STE0_V))
		return EFAULT;
	config = (unsigned)SMMU_FGET(dw0, SMMU_STE0_CONFIG);
	cf->cf_sid = sid;
	cf->cf_tbu = (uint8_t)(sid & (sc->sc_cfg.cfg_tlb_tbus - 1));
	cf->cf_tlb_base = cf->cf_tbu * sc->sc_tlb_tbu_sets;
	cf->cf_strw = 0;
	if ((config & 4) == 0) {
		cf->cf_kind = SMMUV3__CFG_ABORT;
		return 0;
	}
	if (config == SMMU_STE_CONFIG_BYPASS) {
		cf->cf_kind = SMMUV3__CFG_BYPASS;
		return 0;
	}
	if (config != SMMU_STE_CONFIG_S1) {
		if (!(flags & SMMUV3__PROBE))
			smmuv3__unimp(sc, "STE.Config stage 2 / nested");
		return EFAULT;
	}
	/* 5.2 S1CDMax: IGNORED without substreams, else 0..SSIDSIZE. */
	cf->cf_s1cdmax = sc->sc_cfg.cfg_ssidsize == 0
	    ? 0
	    : (uint8_t)SMMU_FGET(dw0, SMMU_STE0_S1CDMAX);
	if (cf->cf_s1cdmax > sc->sc_cfg.cfg_ssidsize)
		return EFAULT;
	/* S1Fmt: IGNORED with one CD; 0b11 behaves as 0b00; no CD2L. */
	fmt = (unsigned)SMMU_FGET(dw0, SMMU_STE0_S1FMT);
	if (cf->cf_s1cdmax != 0 && (fmt == 1 || fmt == 2)) {
		if (!(flags & SMMUV3__PROBE))
			smmuv3__unimp(sc, "STE.S1Fmt: two-level CD tables");
		return EFAULT;
	}
	cf->cf_s1ctxptr = dw0 & SMMU_STE0_S1CTXPTR_MASK;
	if (cf->cf_s1ctxptr >> sc->sc_oas_bits != 0)
		return EFAULT;
	/* A linear CD table is aligned to its size: low bits taken as 0. */
	cf->cf_s1ctxptr &= ~(((uint64_t)SMMU_CD_SIZE << cf->cf_s1cdmax) - 1);
	/* 5.5: S1STALLD = 1 is ILLEGAL unless STALL_MODEL = 0b00. */
	if (SMMU_FGET(dw1, SMMU_STE1_S1STALLD))
		return EFAULT;
	/* S1DSS 0b11 is reserved and behaves as 0b00 (terminate). */
	cf->cf_s1dss = (uint8_t)SMMU_FGET(dw1, SMMU_STE1_S1DSS);
	if (cf->cf_s1dss == 3)
		cf->cf_s1dss = 0;
	strw = (unsigned)SMMU_FGET(dw1, SMMU_STE1_STRW);
	if (strw == SMMU_STE_STRW_EL2 ? !sc->sc_cfg.cfg_hyp
				      : strw != SMMU_STE_STRW_NSEL1)
		return EFAULT;
	cf->cf_strw = (uint8_t)strw;
	cf->cf_kind = SMMUV3__CFG_S1;
	return 0;
}

/* 3.3.3: which CD (if any) a transaction with ssid uses. */
static int
smmuv3_ssid_resolve(struct smmuv3 *sc, struct smmuv3__cfg *cf, uint32_t ssid,
    struct smmuv3__event *ev)
{
	cf->cf_ssid = ssid;
	cf->cf_cd_index = 0;
	if (cf->cf_kind == SMMUV3__CFG_ABORT)
		return 0;
	if (ssid != SMMUV3_NO_SSID) {
		/* 5.2 S1Fmt: a SubstreamID on a stage-1-bypass STE too. */
		if (cf->cf_kind != SMMUV3__CFG_S1 || cf->cf_s1cdmax == 0 ||
		    (ssid >> cf->cf_s1cdmax) != 0 ||
		    (ssid >> sc->sc_cfg.cfg_ssidsize) != 0) {
			smmuv3_bad(ev, SMMU_EVT_C_BAD_SUBSTREAMID, cf->cf_sid,
			    ssid, 0, SMMU_EVT_CLASS_CD);
			return EFAULT;
		}
		/* 5.2 S1DSS 0b10: substream 0 is reserved for no-SSID. */
		if (cf->cf_s1dss == 2 && ssid == 0)
			cf->cf_kind = SMMUV3__CFG_DISABLED;
		cf->cf_cd_index = ssid;
		return 0;
	}
	if (cf->cf_kind != SMMUV3__CFG_S1)
		return 0;
	if (cf->cf_s1cdmax == 0)
		return 0;
	switch (cf->cf_s1dss) {
	case 0:
		cf->cf_kind = SMMUV3__CFG_DISABLED;
		break;
	case 1:
		cf->cf_kind = SMMUV3__CFG_BYPASS;
		break;
	default:
		break;
	}
	return 0;
}

/* One TTBx half: table base aligned to the start-level table. */
static int
smmuv3_tt_decode(struct smmuv3 *sc, struct smmuv3__tt *tt, uint64_t ttb,
    unsigned tsz, unsigned gshift, unsigned ips_bits)
{
	unsigned stride = gshift - 3, va_bits, levels, top_bits;
	uint64_t tsize;

	(void)sc;
	/* 5.4: TxSZ 16..39 (no 52-bit VA, no small translation tables). */
	if (tsz < 16 || tsz > 39)
		return EFAULT;
	va_bits = 64 - tsz;
	levels = (va_bits - gshift + stride - 1) / stride;
	if (levels > 4)
		return EFAULT;
	tt->tt_va_bits = (uint8_t)va_bits;
	tt->tt_gshift = (uint8_t)gshift;
	tt->tt_start_level = (uint8_t)(4 - levels);
	/* Index bits resolved by the start level. */
	top_bits = va_bits - gshift - (levels - 1) * stride;
	tsize = (uint64_t)8 << top_bits;
	if (tsize < 64)
		tsize = 64;
	ttb &= SMMU_CD1_TTB0_MASK;
	if (ttb >> ips_bits != 0)
		return EFAULT;
	tt->tt_base = ttb & ~(tsize - 1);
	return 0;
}

/* 5.4: fetch and validate the CD part of cf. */
static int
smmuv3_cd_fetch(struct smmuv3 *sc, unsigned flags, struct smmuv3__cfg *cf,
    struct smmuv3__event *ev)
{
	static const uint8_t tg0_shift[4] = {12, 16, 14, 0};
	static const uint8_t tg1_shift[4] = {0, 14, 12, 16};
	uint8_t		     cd[SMMU_CD_SIZE];
	uint64_t	     addr, dw0;
	unsigned	     ips, h, tsz, gshift;
	uint64_t	     ttb;
	bool		     epd, tbi;

	cf->cf_cd_valid = true;
	if (cf->cf_kind != SMMUV3__CFG_S1)
		return 0;
	cf->cf_cd_valid = false;
	addr = cf->cf_s1ctxptr + (uint64_t)cf->cf_cd_index * SMMU_CD_SIZE;
	/* 3.4.3 (SMMUv3.1+): a CD address beyond the OAS is C_BAD_STE. */
	if (!smmuv3__pa_ok(sc, addr, SMMU_CD_SIZE)) {
		smmuv3_bad(ev, SMMU_EVT_C_BAD_STE, cf->cf_sid, ev->ev_ssid, 0,
		    SMMU_EVT_CLASS_CD);
		return EFAULT;
	}
	if (!(flags & SMMUV3__PROBE)) {
		sc->sc_stats.st_cd_fetches++;
		if (SMMUV3__TRACING(sc))
			smmuv3__trace(sc, SMMUV3_TRACE_CD_FETCH, cf->cf_sid,
			    ev->ev_ssid, 0, addr, 0, 0, 0);
	}
	if (sc->sc_ops.ho_mem_read(sc->sc_cookie, addr, cd, sizeof(cd)) != 0) {
		smmuv3_bad(ev, SMMU_EVT_F_CD_FETCH, cf->cf_sid, ev->ev_ssid,
		    addr, SMMU_EVT_CLASS_CD);
		return EFAULT;
	}
	smmuv3_bad(ev, SMMU_EVT_C_BAD_CD, cf->cf_sid, ev->ev_ssid, 0,
	    SMMU_EVT_CLASS_CD);
	dw0 = iommu__le64_dec(cd);
	if (!SMMU_FGET(dw0, SMMU_CD0_V))
		return EFAULT;
	/*
	 * 5.4, 5.5: ILLEGAL here because the IDRs do not advertise them:
	 * AArch32 tables (TTF), big-endian tables (TTENDIAN), stall (S with
	 * STALL_MODEL = 1), RAZ/WI termination (A = 0 with TERM_MODEL = 1),
	 * HTTU (HA/HD).
	 */
	if (!SMMU_FGET(dw0, SMMU_CD0_AA64) || SMMU_FGET(dw0, SMMU_CD0_ENDI) ||
	    SMMU_FGET(dw0, SMMU_CD0_S) || !SMMU_FGET(dw0, SMMU_CD0_A) ||
	    SMMU_FGET(dw0, SMMU_CD0_HA) || SMMU_FGET(dw0, SMMU_CD0_HD)) {
		if (!(flags & SMMUV3__PROBE))
			smmuv3__unimp(sc,
			    "CD: AArch32, big-endian, stall, A = 0 or HTTU");
		return EFAULT;
	}
	/* 5.4 IPS: eff_IPS = MIN(IPS, OAS); reserved 7 is above any OAS. */
	ips = (unsigned)SMMU_FGET(dw0, SMMU_CD0_IPS);
	cf->cf_ips_bits = ips >= 6 ? (uint8_t)sc->sc_oas_bits
				   : (uint8_t)smmu_pa_size_bits(ips);
	if (cf->cf_ips_bits > sc->sc_oas_bits)
		cf->cf_ips_bits = (uint8_t)sc->sc_oas_bits;
	cf->cf_affd = SMMU_FGET(dw0, SMMU_CD0_AFFD) != 0;
	cf->cf_record = SMMU_FGET(dw0, SMMU_CD0_R) != 0;
	cf->cf_asid = (uint16_t)SMMU_FGET(dw0, SMMU_CD0_ASID);
	cf->cf_two_halves = cf->cf_strw == SMMU_STE_STRW_NSEL1 ||
	    SMMU_FGET(sc->sc_cr2, SMMU_CR2_E2H) != 0;
	/* ASID is IGNORED for an EL2 StreamWorld; 8-bit ASIDs need [15:8] 0. */
	if (!cf->cf_two_halves)
		cf->cf_asid = 0;
	else if (!sc->sc_cfg.cfg_asid16 && cf->cf_asid > 0xff)
		return EFAULT;
	cf->cf_as = smmuv3__tlb_asid(sc, cf->cf_strw, cf->cf_asid);
	cf->cf_mair = iommu__le64_dec(cd + 24);
	for (h = 0; h < 2; h++) {
		struct smmuv3__tt *tt = &cf->cf_tt[h];

		memset(tt, 0, sizeof(*tt));
		if (h == 0) {
			tsz = (unsigned)SMMU_FGET(dw0, SMMU_CD0_T0SZ);
			gshift = tg0_shift[SMMU_FGET(dw0, SMMU_CD0_TG0)];
			/* EPDx are IGNORED for an any-EL2 StreamWorld. */
			epd = SMMU_FGET(dw0, SMMU_CD0_EPD0) != 0 &&
			    cf->cf_two_halves;
			tbi = SMMU_FGET(dw0, SMMU_CD0_TBI0) != 0;
			ttb = iommu__le64_dec(cd + 8);
		} else {
			tsz = (unsigned)SMMU_FGET(dw0, SMMU_CD0_T1SZ);
			gshift = tg1_shift[SMMU_FGET(dw0, SMMU_CD0_TG1)];
			epd = SMMU_FGET(dw0, SMMU_CD0_EPD1) != 0 ||
			    !cf->cf_two_halves;
			tbi = SMMU_FGET(dw0, SMMU_CD0_TBI1) != 0;
			ttb = iommu__le64_dec(cd + 16);
		}
		tt->tt_tbi = tbi;
		if (epd) {
			tt->tt_disabled = true;
			continue;
		}
		if (gshift == 0 ||
		    (gshift == 12 &&
			!(sc->sc_cfg.cfg_granules & SMMUV3_GRAN_4K)) ||
		    (gshift == 14 &&
			!(sc->sc_cfg.cfg_granules & SMMUV3_GRAN_16K)) ||
		    (gshift == 16 &&
			!(sc->sc_cfg.cfg_granules & SMMUV3_GRAN_64K)))
			return EFAULT;
		if (smmuv3_tt_decode(sc, tt, ttb, tsz, gshift, cf->cf_ips_bits))
			return EFAULT;
	}
	cf->cf_cd_valid = true;
	return 0;
}

/* STE, substream resolution and CD, from memory. */
static int
smmuv3_cfg_decode(struct smmuv3 *sc, uint32_t sid, uint32_t ssid,
    unsigned flags, struct smmuv3__cfg *cf, struct smmuv3__event *ev)
{
	int error;

	memset(cf, 0, sizeof(*cf));
	ev->ev_ssid = ssid;
	if ((error = smmuv3_ste_fetch(sc, sid, flags, cf, ev)) != 0)
		return error;
	if ((error = smmuv3_ssid_resolve(sc, cf, ssid, ev)) != 0)
		return error;
	if ((error = smmuv3_cd_fetch(sc, flags, cf, ev)) != 0)
		return error;
	cf->cf_valid = true;
	return 0;
}

static bool
smmuv3_cfg_same(const struct smmuv3__cfg *a, const struct smmuv3__cfg *b)
{
	unsigned h;

	if (a->cf_kind != b->cf_kind || a->cf_strw != b->cf_strw)
		return false;
	if (a->cf_kind != SMMUV3__CFG_S1)
		return true;
	if (a->cf_s1ctxptr != b->cf_s1ctxptr ||
	    a->cf_s1cdmax != b->cf_s1cdmax || a->cf_s1dss != b->cf_s1dss ||
	    a->cf_cd_index != b->cf_cd_index || a->cf_asid != b->cf_asid ||
	    a->cf_ips_bits != b->cf_ips_bits || a->cf_affd != b->cf_affd ||
	    a->cf_record != b->cf_record ||
	    a->cf_two_halves != b->cf_two_halves || a->cf_mair != b->cf_mair)
		return false;
	for (h = 0; h < 2; h++) {
		const struct smmuv3__tt *x = &a->cf_tt[h], *y = &b->cf_tt[h];

		if (x->tt_disabled != y->tt_disabled || x->tt_tbi != y->tt_tbi)
			return false;
		if (!x->tt_disabled &&
		    (x->tt_base != y->tt_base ||
			x->tt_va_bits != y->tt_va_bits ||
			x->tt_gshift != y->tt_gshift))
			return false;
	}
	return true;
}

/* The stale checker for config-cache hits: compare with memory. */
static void
smmuv3_cfg_check_stale(struct smmuv3 *sc, const struct smmuv3__cfg *cached)
{
	struct smmuv3_stale_report sr;
	struct smmuv3__cfg	   fresh;
	struct smmuv3__event	   ev;
	int			   error;

	memset(&ev, 0, sizeof(ev));
	error = smmuv3_cfg_decode(
	    sc, cached->cf_sid, cached->cf_ssid, SMMUV3__PROBE, &fresh, &ev);
	if (error == 0 && smmuv3_cfg_same(cached, &fresh))
		return;
	smmuv3__side_enter(sc);
	sc->sc_stats.st_stale++;
	if (sc->sc_ops.ho_stale != NULL) {
		memset(&sr, 0, sizeof(sr));
		sr.sr_sid = cached->cf_sid;
		sr.sr_ssid = cached->cf_ssid;
		sr.sr_config = true;
		sr.sr_fresh_event = error != 0 ? ev.ev_id : 0;
		sc->sc_ops.ho_stale(sc->sc_cookie, &sr);
	}
	smmuv3__side_leave(sc);
}

int
smmuv3__cfg_get(struct smmuv3 *sc, struct smmuv3__shard *sh, uint32_t sid,
    uint32_t ssid, unsigned flags, const struct smmuv3__cfg **out,
    struct smmuv3__cfg *tmp, struct smmuv3__event *ev)
{
	struct smmuv3__cfg *set, *cf;
	unsigned	    s, w;
	int		    error;

	if (flags & SMMUV3__PROBE) {
		if ((error = smmuv3_cfg_decode(sc, sid, ssid, flags, tmp, ev)))
			return error;
		*out = tmp;
		return 0;
	}
	s = smmuv3__cfgc_set(sc, sid, ssid);
	set = &sc->sc_cfgc[(size_t)s * sc->sc_cfgc_ways];
	for (w = 0, cf = set; w < sc->sc_cfgc_ways; w++, cf++) {
		if (!cf->cf_valid || cf->cf_sid != sid || cf->cf_ssid != ssid)
			continue;
		if (!cf->cf_cd_valid) {
			/* CFGI_CD dropped the CD: refetch through the STE. */
			if (!(flags & SMMUV3__EXCL))
				return SMMUV3__NEED_EXCL;
			sc->sc_stats.st_cfg_misses++;
			ev->ev_ssid = ssid;
			if ((error = smmuv3_cd_fetch(sc, flags, cf, ev)) != 0) {
				cf->cf_valid = false;
				return error;
			}
		} else {
			sh->sh_st.ds_cfg_hits++;
			if (sc->sc_cfg.cfg_check_stale)
				smmuv3_cfg_check_stale(sc, cf);
		}
		*out = cf;
		return 0;
	}
	if (!(flags & SMMUV3__EXCL))
		return SMMUV3__NEED_EXCL;
	sc->sc_stats.st_cfg_misses++;
	if ((error = smmuv3_cfg_decode(sc, sid, ssid, flags, tmp, ev)) != 0)
		return error;
	for (w = 0; w < sc->sc_cfgc_ways; w++)
		if (!set[w].cf_valid)
			break;
	if (w == sc->sc_cfgc_ways) {
		w = sc->sc_cfgc_victim[s];
		sc->sc_cfgc_victim[s] = (uint8_t)((w + 1) % sc->sc_cfgc_ways);
	}
	set[w] = *tmp;
	*out = &set[w];
	return 0;
}
