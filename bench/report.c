/*
 * iommu-bench - the report: rows and targets, printed as a table, CSV or
 * JSON.
 *
 * The table groups rows by scenario and variant and prints only the
 * columns that have a value in that group; CSV and JSON always carry every
 * column (empty / null where a figure does not apply) so that scripts can
 * rely on the schema: scenario, variant, strategy, n, unit, ns, ns_p25,
 * ns_p75, cycles, overhead_ns, alloc_ns, pt_ns, inval_ns, iommu_ns, mbit_s,
 * mbyte_s, ratio.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "cycles.h"

void
bench_report_add(struct bench_report *rep, const struct bench_row *r)
{
	if (rep->nrows == rep->cap) {
		size_t		  cap = rep->cap ? rep->cap * 2 : 64;
		struct bench_row *n = realloc(rep->rows, cap * sizeof(*n));

		if (n == NULL) {
			fprintf(stderr, "iommu-bench: out of memory\n");
			exit(2);
		}
		rep->rows = n;
		rep->cap = cap;
	}
	rep->rows[rep->nrows++] = *r;
}

void
bench_report_target(
    struct bench_report *rep, const char *name, int met, const char *fmt, ...)
{
	struct bench_target *t;
	va_list		     ap;

	if (rep->ntargets == rep->tcap) {
		size_t		     cap = rep->tcap ? rep->tcap * 2 : 16;
		struct bench_target *n =
		    realloc(rep->targets, cap * sizeof(*n));

		if (n == NULL) {
			fprintf(stderr, "iommu-bench: out of memory\n");
			exit(2);
		}
		rep->targets = n;
		rep->tcap = cap;
	}
	t = &rep->targets[rep->ntargets++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(t->measured, sizeof(t->measured), fmt, ap);
	va_end(ap);
	t->met = met;
}

const struct bench_row *
bench_report_find(const struct bench_report *rep, const char *scenario,
    const char *variant, const char *strategy, unsigned long n)
{
	size_t i;

	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		if (strcmp(r->scenario, scenario) == 0 &&
		    strcmp(r->variant, variant) == 0 &&
		    strcmp(r->strategy, strategy) == 0 && r->n == n)
			return r;
	}
	return NULL;
}

void
bench_report_free(struct bench_report *rep)
{
	free(rep->rows);
	free(rep->targets);
	memset(rep, 0, sizeof(*rep));
}

struct column {
	const char *name;
	int	    width;
	int	    prec;
	double (*get)(const struct bench_row *);
};

#define GETTER(f)                                                              \
	static double get_##f(const struct bench_row *r)                       \
	{                                                                      \
		return r->f;                                                   \
	}
GETTER(ns)
GETTER(ns_lo)
GETTER(ns_hi)
GETTER(cycles)
GETTER(overhead)
GETTER(alloc_ns)
GETTER(pt_ns)
GETTER(inval_ns)
GETTER(iommu_ns)
GETTER(map_ns)
GETTER(mbit_s)
GETTER(mbyte_s)
GETTER(ratio)

static const struct column columns[] = {
    {"ns", 11, 1, get_ns},
    {"ns_p25", 11, 1, get_ns_lo},
    {"ns_p75", 11, 1, get_ns_hi},
    {"cycles", 11, 0, get_cycles},
    {"overhead_ns", 12, 1, get_overhead},
    {"alloc_ns", 10, 1, get_alloc_ns},
    {"pt_ns", 9, 1, get_pt_ns},
    {"inval_ns", 10, 1, get_inval_ns},
    {"iommu_ns", 10, 1, get_iommu_ns},
    {"map_ns", 9, 1, get_map_ns},
    {"mbit_s", 9, 1, get_mbit_s},
    {"mbyte_s", 10, 1, get_mbyte_s},
    {"ratio", 8, 2, get_ratio},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static void
print_machine(FILE *fp)
{
	struct utsname u;
	long	       ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	fprintf(fp,
	    "machine: %s %s %s, %ld CPUs; counter %s at %.3f ticks/ns\n",
	    u.sysname, u.release, u.machine, ncpu, BENCH_COUNTER_NAME,
	    bench_cycles_per_ns());
}

static const char *
tlbi_name(int tlbi)
{
	return tlbi == 0 ? "TLBI by VA per page"
	    : tlbi == 1	 ? "TLBI by ASID"
			 : "range TLBI";
}

static const char *
scenario_note(const char *scn)
{
	if (strcmp(scn, "tcpbench") == 0)
		return "ns per packet (3-segment mbuf: load, device read "
		       "through the SMMU, unload on slot reuse)";
	if (strcmp(scn, "alloc") == 0)
		return "ns per alloc+free pair with n already outstanding";
	if (strcmp(scn, "translate") == 0)
		return "ns per translation or per transfer; mbyte_s = MB/s; "
		       "ratio = SMMU / memcpy bandwidth";
	if (strcmp(scn, "scale") == 0)
		return "n threads; ns per packet per thread; mbyte_s = "
		       "aggregate kpackets/s; ratio = vs 1 thread";
	return "";
}

void
bench_print_table(const struct bench_opts *o, const struct bench_report *rep)
{
	size_t i, j, k, start;
	int    used[NCOLUMNS];

	printf("iommu-bench - libiommu IOVA strategies through the SMMUv3 "
	       "model\n");
	print_machine(stdout);
	if (!isnan(rep->stack_ns))
		printf("equivalent tcpbench Mbit/s = 12000 bits / (S + t) with "
		       "t = ns/packet and S = 12000/700e6 s - t(no-iommu) = "
		       "%.0f ns\n",
		    rep->stack_ns);
	if (rep->magazine_path != NULL)
		printf("magazine strategy: %s\n", rep->magazine_path);
	printf("driver TLBI policy: %s; model: %u TBUs; maps of %llu bytes "
	       "from %s\n",
	    tlbi_name(o->tlbi), o->tbus, (unsigned long long)o->map_size,
	    o->map_malloc ? "malloc" : "an arena per stream");
	for (i = 0; i < rep->nrows; i = j) {
		const struct bench_row *g = &rep->rows[i];

		start = i;
		for (j = i; j < rep->nrows &&
		     strcmp(rep->rows[j].scenario, g->scenario) == 0 &&
		     strcmp(rep->rows[j].variant, g->variant) == 0;
		     j++)
			;
		for (k = 0; k < NCOLUMNS; k++) {
			size_t m;

			used[k] = 0;
			for (m = start; m < j; m++)
				if (!isnan(columns[k].get(&rep->rows[m])))
					used[k] = 1;
		}
		printf("\n== %s / %s: %s\n", g->scenario, g->variant,
		    scenario_note(g->scenario));
		printf("%-15s %8s", "strategy", "n");
		for (k = 0; k < NCOLUMNS; k++)
			if (used[k])
				printf(
				    " %*s", columns[k].width, columns[k].name);
		printf("\n");
		for (; i < j; i++) {
			const struct bench_row *r = &rep->rows[i];

			printf("%-15s %8lu", r->strategy, r->n);
			for (k = 0; k < NCOLUMNS; k++) {
				double v;

				if (!used[k])
					continue;
				v = columns[k].get(r);
				if (isnan(v))
					printf(" %*s", columns[k].width, "-");
				else
					printf(" %*.*f", columns[k].width,
					    columns[k].prec, v);
			}
			printf("\n");
		}
	}
	if (rep->ntargets > 0) {
		printf("\n== targets (ratios and medians inside this run)\n");
		for (i = 0; i < rep->ntargets; i++) {
			const struct bench_target *t = &rep->targets[i];

			printf("%-8s %-58s %s\n",
			    t->met > 0	      ? "MET"
				: t->met == 0 ? "NOT MET"
					      : "n/a",
			    t->name, t->measured);
		}
	}
}

static void
csv_num(double v, int prec)
{
	if (isnan(v))
		printf(",");
	else
		printf(",%.*f", prec, v);
}

void
bench_print_csv(const struct bench_report *rep)
{
	size_t i, k;

	printf("scenario,variant,strategy,n,unit");
	for (k = 0; k < NCOLUMNS; k++)
		printf(",%s", columns[k].name);
	printf("\n");
	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		printf("%s,%s,%s,%lu,%s", r->scenario, r->variant, r->strategy,
		    r->n, r->unit ? r->unit : "");
		for (k = 0; k < NCOLUMNS; k++)
			csv_num(columns[k].get(r), columns[k].prec + 2);
		printf("\n");
	}
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
json_num(double v)
{
	if (isnan(v) || isinf(v))
		printf("null");
	else
		printf("%.4f", v);
}

void
bench_print_json(const struct bench_opts *o, const struct bench_report *rep)
{
	struct utsname u;
	size_t	       i, k;

	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	printf("{\n  \"machine\": {\"sysname\": ");
	json_str(u.sysname);
	printf(", \"release\": ");
	json_str(u.release);
	printf(", \"arch\": ");
	json_str(u.machine);
	printf(", \"cpus\": %ld},\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("  \"counter\": {\"name\": \"%s\", \"ticks_per_ns\": ",
	    BENCH_COUNTER_NAME);
	json_num(bench_cycles_per_ns());
	printf("},\n  \"tlbi\": ");
	json_str(tlbi_name(o->tlbi));
	printf(",\n  \"tbus\": %u", o->tbus);
	printf(
	    ",\n  \"map_alloc\": \"%s\"", o->map_malloc ? "malloc" : "arena");
	printf(",\n  \"map_size\": %llu", (unsigned long long)o->map_size);
	printf(",\n  \"runs\": %u,\n  \"quick\": %s,\n", o->runs,
	    o->quick ? "true" : "false");
	printf("  \"mbit_formula\": \"mbit_s = 12000 / (stack_ns + ns) * "
	       "1000; stack_ns = 12000 / 700e6 * 1e9 - ns(noiommu)\",\n");
	printf("  \"stack_ns\": ");
	json_num(rep->stack_ns);
	printf(",\n  \"magazine_path\": ");
	if (rep->magazine_path != NULL)
		json_str(rep->magazine_path);
	else
		printf("null");
	printf(",\n  \"rows\": [");
	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		printf("%s\n    {\"scenario\": ", i ? "," : "");
		json_str(r->scenario);
		printf(", \"variant\": ");
		json_str(r->variant);
		printf(", \"strategy\": ");
		json_str(r->strategy);
		printf(", \"n\": %lu, \"unit\": ", r->n);
		json_str(r->unit ? r->unit : "");
		for (k = 0; k < NCOLUMNS; k++) {
			printf(", \"%s\": ", columns[k].name);
			json_num(columns[k].get(r));
		}
		printf("}");
	}
	printf("\n  ],\n  \"targets\": [");
	for (i = 0; i < rep->ntargets; i++) {
		const struct bench_target *t = &rep->targets[i];

		printf("%s\n    {\"name\": ", i ? "," : "");
		json_str(t->name);
		printf(", \"measured\": ");
		json_str(t->measured);
		printf(", \"met\": %s}",
		    t->met > 0	      ? "true"
			: t->met == 0 ? "false"
				      : "null");
	}
	printf("\n  ]\n}\n");
}
