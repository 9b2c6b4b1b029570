/*
 * iommu-bench - command line, scenario dispatch, target checks, output.
 *
 * Usage: iommu-bench [options]; see usage() or docs/benchmarks.md.  The
 * default run is the tcpbench scenario at N = 256 plus a short sweep of
 * N; --sweep runs the full 16..16384 sweep, --quick a seconds-long smoke
 * run (what ctest executes; its output is checked for form, not timing).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommu/domain.h>

#include "bench.h"
#include "cycles.h"

static const char *scn_names[BENCH_SCN_COUNT] = {
    "tcpbench", "alloc", "translate", "scale"};
static const char *strategy_names[BS_COUNT] = {"noiommu", "identity",
    "per-segment", "per-map", "at-create", "magazine", "at-create-lazy",
    "magazine-lazy"};

const char *
bench_strategy_name(enum bench_strategy s)
{
	return (unsigned)s < BS_COUNT ? strategy_names[s] : "?";
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: iommu-bench [options]\n"
	    "  -s, --scenario LIST   tcpbench (default), alloc, translate, "
	    "scale, all\n"
	    "  -S, --strategy LIST   noiommu,identity,per-segment,per-map,"
	    "at-create,magazine,\n"
	    "                        at-create-lazy,magazine-lazy\n"
	    "  -N, --ring N          tcpbench ring depth (default 256)\n"
	    "      --sweep           tcpbench over N = 16..16384 (x4 steps)\n"
	    "      --sweep-list LIST tcpbench over these N (comma list)\n"
	    "  -r, --runs R          measured repetitions (default 7)\n"
	    "      --run-ms MS       length of one repetition (default 20)\n"
	    "  -t, --threads T       scale: up to T threads (default nproc)\n"
	    "      --tlbi POLICY     driver TLBI policy: page (default), asid, "
	    "range\n"
	    "      --flush-depth D   unloads per flush for the -lazy "
	    "strategies (default 64)\n"
	    "      --tbus T          the model's TBUs, each with a TLB of the "
	    "default size (default 8)\n"
	    "      --map-alloc A     where bus_dma maps live: arena (default: "
	    "one per stream,\n"
	    "                        in creation order) or malloc (glibc's "
	    "heap)\n"
	    "      --map-size BYTES  the ring's maps: dmamap_create size, "
	    "%u..%u\n"
	    "                        (default %u; at-create reserves for "
	    "it)\n"
	    "      --quick           seconds-long smoke run\n"
	    "      --csv | --json    machine-readable output (default: table)\n"
	    "      --plot FILE.svg   plot tcpbench ns/packet vs N\n"
	    "  -h, --help\n",
	    BENCH_MIN_MAP_SIZE, BENCH_MAX_MAP_SIZE, BENCH_DEFAULT_MAP_SIZE);
}

static int
parse_list(
    const char *arg, const char *const *names, unsigned count, unsigned *mask)
{
	char	*copy = strdup(arg), *tok, *save = NULL;
	unsigned i;
	int	 error = 0;

	if (copy == NULL)
		return ENOMEM;
	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "all") == 0) {
			*mask = (1u << count) - 1;
			continue;
		}
		for (i = 0; i < count; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == count) {
			fprintf(
			    stderr, "iommu-bench: unknown name '%s'\n", tok);
			error = EINVAL;
			break;
		}
		*mask |= 1u << i;
	}
	free(copy);
	return error;
}

static int
parse_ulongs(const char *arg, unsigned long *v, unsigned max, unsigned *n)
{
	char *end;

	*n = 0;
	while (*arg != '\0') {
		if (*n == max)
			return EINVAL;
		v[*n] = strtoul(arg, &end, 10);
		if (end == arg || v[*n] == 0)
			return EINVAL;
		(*n)++;
		arg = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return EINVAL;
	}
	return *n > 0 ? 0 : EINVAL;
}

static double
row_ns(const struct bench_report *rep, const char *scn, const char *variant,
    const char *strategy, unsigned long n)
{
	const struct bench_row *r =
	    bench_report_find(rep, scn, variant, strategy, n);

	return r != NULL ? r->ns : NAN;
}

/*
 * Min / max over the sweep of the map+unmap work per packet (bus_dma load
 * + unload, invalidation included, over the no-IOMMU tag's), what the
 * at-create and magazine targets bound.
 */
static void
overhead_range(const struct bench_report *rep, const char *strategy, double *lo,
    double *hi, unsigned long *nlo, unsigned long *nhi)
{
	size_t i;

	*lo = INFINITY;
	*hi = -INFINITY;
	*nlo = *nhi = 0;
	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		if (strcmp(r->scenario, "tcpbench") != 0 ||
		    strcmp(r->variant, "tx") != 0 ||
		    strcmp(r->strategy, strategy) != 0 || isnan(r->map_ns))
			continue;
		if (r->map_ns < *lo) {
			*lo = r->map_ns;
			*nlo = r->n;
		}
		if (r->map_ns > *hi) {
			*hi = r->map_ns;
			*nhi = r->n;
		}
	}
}

static void
map_target(struct bench_report *rep, const char *strategy, double bound)
{
	double	      lo, hi;
	unsigned long nlo, nhi;
	char	      name[96];

	overhead_range(rep, strategy, &lo, &hi, &nlo, &nhi);
	if (!isfinite(hi))
		return;
	snprintf(name, sizeof(name), "%s: map+unmap <= %.0f ns/packet, flat",
	    strategy, bound);
	bench_report_target(rep, name, hi <= bound,
	    "%.1f ns (N=%lu) .. %.1f ns (N=%lu)", lo, nlo, hi, nhi);
}

static void
eval_targets(const struct bench_opts *o, struct bench_report *rep)
{
	double	      a, b;
	unsigned long n, nmax = 0;
	size_t	      i;
	char	      buf[96];

	/* The seed: per-segment / per-map at N >= 256, growing with N. */
	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		if (strcmp(r->scenario, "tcpbench") == 0 &&
		    strcmp(r->variant, "tx") == 0 && r->n > nmax)
			nmax = r->n;
	}
	for (n = 256; n <= nmax; n *= 4) {
		a = row_ns(rep, "tcpbench", "tx", "per-segment", n);
		b = row_ns(rep, "tcpbench", "tx", "per-map", n);
		if (isnan(a) || isnan(b))
			continue;
		snprintf(buf, sizeof(buf),
		    "seed: per-segment / per-map >= 3 at N = %lu", n);
		bench_report_target(rep, buf, a / b >= 3.0, "%.2fx", a / b);
	}
	for (n = 16; n <= nmax; n *= 2) {
		const struct bench_row *r =
		    bench_report_find(rep, "tcpbench", "tx", "per-segment", n);

		if (r == NULL || n < 256)
			continue;
		snprintf(buf, sizeof(buf),
		    "seed: per-segment Mbit/s in the tens at N = %lu", n);
		bench_report_target(rep, buf, r->mbit_s < 100.0,
		    "%.1f Mbit/s (no-IOMMU 700)", r->mbit_s);
	}
	map_target(rep, "at-create", 40.0);
	map_target(rep, "at-create-lazy", 40.0);
	map_target(rep, "magazine", 60.0);
	map_target(rep, "magazine-lazy", 60.0);
	a = row_ns(rep, "alloc", "lifo-1p", "magazine", 256);
	if (!isnan(a))
		bench_report_target(rep,
		    "magazine: alloc pair <= 15 ns from a warm magazine",
		    a <= 15.0, "%.1f ns (lifo, 1 page, N=256)", a);
	a = row_ns(rep, "alloc", "lifo-1p", "extent", 0);
	b = row_ns(rep, "alloc", "lifo-1p", "extent", 16384);
	if (!isnan(a))
		bench_report_target(rep,
		    "extent: alloc pair ~25 ns (N=0) .. ~60 us (N=16384)", -1,
		    "%.1f ns .. %.1f ns", a, b);
	a = row_ns(rep, "translate", "tlb-hit", "smmu", 1);
	if (!isnan(a))
		bench_report_target(rep, "translate: TLB hit <= 10 ns",
		    a <= 10.0, "%.1f ns", a);
	a = row_ns(rep, "translate", "tlb-miss", "smmu", 4);
	if (!isnan(a))
		bench_report_target(rep,
		    "translate: miss + 4-level walk <= 80 ns", a <= 80.0,
		    "%.1f ns", a);
	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		if (strcmp(r->scenario, "translate") != 0 ||
		    strncmp(r->variant, "dma-", 4) != 0 ||
		    strcmp(r->strategy, "smmu") != 0 || r->n < 4096)
			continue;
		snprintf(buf, sizeof(buf),
		    "translate: %s %lu B >= 50%% of memcpy", r->variant, r->n);
		bench_report_target(
		    rep, buf, r->ratio >= 0.5, "%.0f%%", r->ratio * 100);
	}
	for (i = 0; i < 2; i++) {
		static const char *const strat[2] = {
		    "magazine", "magazine-lazy"};
		const struct bench_row *r =
		    bench_report_find(rep, "scale", "own-domain", strat[i], 2);

		snprintf(buf, sizeof(buf),
		    "scale: %s, 2 threads, own domains >= 1.8x", strat[i]);
		if (r != NULL)
			bench_report_target(
			    rep, buf, r->ratio >= 1.8, "%.2fx", r->ratio);
	}
	(void)o;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"scenario", required_argument, NULL, 's'},
	    {"strategy", required_argument, NULL, 'S'},
	    {"ring", required_argument, NULL, 'N'},
	    {"sweep", no_argument, NULL, 1},
	    {"sweep-list", required_argument, NULL, 2},
	    {"runs", required_argument, NULL, 'r'},
	    {"run-ms", required_argument, NULL, 3},
	    {"threads", required_argument, NULL, 't'},
	    {"quick", no_argument, NULL, 4},
	    {"csv", no_argument, NULL, 5},
	    {"json", no_argument, NULL, 6},
	    {"plot", required_argument, NULL, 7},
	    {"tlbi", required_argument, NULL, 8},
	    {"flush-depth", required_argument, NULL, 9},
	    {"tbus", required_argument, NULL, 10},
	    {"map-alloc", required_argument, NULL, 11},
	    {"map-size", required_argument, NULL, 12},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench_opts   o;
	struct bench_report rep;
	bool		    runs_set = false, sweep_set = false, ms_set = false;
	long		    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned	    s;
	int		    ch, error = 0;
	char		   *end;

	memset(&o, 0, sizeof(o));
	memset(&rep, 0, sizeof(rep));
	rep.stack_ns = rep.noiommu_ns = NAN;
	o.scenarios = 1u << BENCH_SCN_TCPBENCH;
	o.strategies = (1u << BS_COUNT) - 1;
	o.runs = 7;
	o.run_ms = 20;
	o.ring = 256;
	o.flush_depth = 64;
	o.map_size = BENCH_DEFAULT_MAP_SIZE;
	o.tbus = BENCH_DEFAULT_TBUS;
	o.max_threads = ncpu > 0 ? (unsigned)ncpu : 1;
	o.format = BENCH_TABLE;
	while ((ch = getopt_long(argc, argv, "s:S:N:r:t:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			if (parse_list(optarg, scn_names, BENCH_SCN_COUNT,
				&o.scenarios) != 0)
				return 2;
			break;
		case 'S':
			if (parse_list(optarg, strategy_names, BS_COUNT,
				&o.strategies) != 0)
				return 2;
			o.strategies |= 1u << BS_NOIOMMU; /* the baseline */
			break;
		case 'N':
			o.ring = strtoul(optarg, &end, 10);
			if (*end != '\0' || o.ring < 1 || o.ring > 65536) {
				fprintf(stderr, "iommu-bench: bad -N\n");
				return 2;
			}
			break;
		case 1:
			o.sweep = true;
			break;
		case 2:
			if (parse_ulongs(optarg, o.sweep_n, BENCH_MAX_SWEEP,
				&o.nsweep) != 0) {
				fprintf(
				    stderr, "iommu-bench: bad --sweep-list\n");
				return 2;
			}
			sweep_set = true;
			break;
		case 'r':
			o.runs = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.runs < 1 ||
			    o.runs > BENCH_MAX_RUNS) {
				fprintf(stderr, "iommu-bench: bad --runs\n");
				return 2;
			}
			runs_set = true;
			break;
		case 3:
			o.run_ms = strtod(optarg, &end);
			if (*end != '\0' || !(o.run_ms > 0 && o.run_ms < 1e5)) {
				fprintf(stderr, "iommu-bench: bad --run-ms\n");
				return 2;
			}
			ms_set = true;
			break;
		case 't':
			o.max_threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.max_threads < 1 ||
			    o.max_threads > 256) {
				fprintf(stderr, "iommu-bench: bad --threads\n");
				return 2;
			}
			break;
		case 4:
			o.quick = true;
			break;
		case 5:
			o.format = BENCH_CSV;
			break;
		case 6:
			o.format = BENCH_JSON;
			break;
		case 7:
			o.plot = optarg;
			break;
		case 8:
			if (strcmp(optarg, "page") == 0)
				o.tlbi = IOMMU_TLBI_PER_PAGE;
			else if (strcmp(optarg, "asid") == 0)
				o.tlbi = IOMMU_TLBI_ASID;
			else if (strcmp(optarg, "range") == 0)
				o.tlbi = IOMMU_TLBI_RANGE;
			else {
				fprintf(stderr, "iommu-bench: bad --tlbi\n");
				return 2;
			}
			break;
		case 9:
			o.flush_depth = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.flush_depth < 1 ||
			    o.flush_depth > IOMMU_DOMAIN_FLUSH_DEPTH_MAX) {
				fprintf(
				    stderr, "iommu-bench: bad --flush-depth\n");
				return 2;
			}
			break;
		case 10:
			o.tbus = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o.tbus < 1 ||
			    o.tbus > BENCH_MAX_TBUS ||
			    (o.tbus & (o.tbus - 1)) != 0) {
				fprintf(stderr,
				    "iommu-bench: bad --tbus (a "
				    "power of two, 1..%u)\n",
				    BENCH_MAX_TBUS);
				return 2;
			}
			break;
		case 11:
			if (strcmp(optarg, "arena") == 0)
				o.map_malloc = false;
			else if (strcmp(optarg, "malloc") == 0)
				o.map_malloc = true;
			else {
				fprintf(
				    stderr, "iommu-bench: bad --map-alloc\n");
				return 2;
			}
			break;
		case 12:
			o.map_size = strtoull(optarg, &end, 10);
			if (*end != '\0' || o.map_size < BENCH_MIN_MAP_SIZE ||
			    o.map_size > BENCH_MAX_MAP_SIZE) {
				fprintf(stderr,
				    "iommu-bench: bad --map-size (%u..%u "
				    "bytes)\n",
				    BENCH_MIN_MAP_SIZE, BENCH_MAX_MAP_SIZE);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.quick) {
		if (!runs_set)
			o.runs = 3;
		if (!ms_set)
			o.run_ms = 1;
		if (o.ring > 64)
			o.ring = 64;
	}
	if (!sweep_set) {
		static const unsigned long full[] = {
		    16, 64, 256, 1024, 4096, 16384};
		static const unsigned long dflt[] = {16, 256, 1024};
		static const unsigned long quick[] = {16, 64};
		const unsigned long	  *v = o.quick ? quick
			  : o.sweep		       ? full
						       : dflt;

		o.nsweep = o.quick ? 2 : o.sweep ? 6 : 3;
		memcpy(o.sweep_n, v, o.nsweep * sizeof(*v));
	}
	bench_cycles_calibrate();
	bench_progress_start();
	for (s = 0; s < BENCH_SCN_COUNT && error == 0; s++) {
		if ((o.scenarios & (1u << s)) == 0)
			continue;
		switch (s) {
		case BENCH_SCN_TCPBENCH:
			error = bench_scn_tcpbench(&o, &rep);
			break;
		case BENCH_SCN_ALLOC:
			error = bench_scn_alloc(&o, &rep);
			break;
		case BENCH_SCN_TRANSLATE:
			error = bench_scn_translate(&o, &rep);
			break;
		case BENCH_SCN_SCALE:
			error = bench_scn_scale(&o, &rep);
			break;
		}
	}
	bench_progress_end();
	if (error != 0) {
		fprintf(stderr, "iommu-bench: %s scenario failed: %s\n",
		    scn_names[s - 1], strerror(error));
		bench_report_free(&rep);
		return 1;
	}
	eval_targets(&o, &rep);
	switch (o.format) {
	case BENCH_TABLE:
		bench_print_table(&o, &rep);
		break;
	case BENCH_CSV:
		bench_print_csv(&rep);
		break;
	case BENCH_JSON:
		bench_print_json(&o, &rep);
		break;
	}
	if (o.plot != NULL && bench_plot_svg(&rep, o.plot) != 0) {
		fprintf(stderr, "iommu-bench: cannot write %s\n", o.plot);
		error = EIO;
	}
	bench_report_free(&rep);
	return error != 0;
}
