/*
 * iommu-bench - shared declarations: options, result rows, measurement.
 *
 * Every scenario turns its measurements into rows (one per scenario,
 * variant, strategy and N) appended to a report; the report is printed at
 * the end as a table, CSV or JSON and, on request, plotted as SVG.  A
 * figure that does not apply to a row is NaN (an empty cell, JSON null).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bench_format { BENCH_TABLE, BENCH_CSV, BENCH_JSON };

/* The strategies of the tcpbench scenario, in output order. */
enum bench_strategy {
	BS_NOIOMMU,
	BS_IDENTITY,
	BS_PERSEG,
	BS_PERMAP,
	BS_ATCREATE,
	BS_MAGAZINE,
	BS_ATCREATE_LAZY, /* at-create, deferred invalidation */
	BS_MAGAZINE_LAZY, /* magazine, deferred invalidation */
	BS_COUNT
};
const char *bench_strategy_name(enum bench_strategy);

#define BENCH_MAX_SWEEP	       16
/*
 * The model's TBUs: as an SoC gives masters TBUs of their own, so that the
 * scale scenario's streams (consecutive SIDs) do not share TLB sets.  Each
 * gets a TLB of the default size (testbed.c); 64 is the model's limit.
 */
#define BENCH_DEFAULT_TBUS     8
#define BENCH_MAX_TBUS	       64
/*
 * The ring's dmamap_create size: a packet's 1500 bytes and a 2 KiB
 * receive buffer fit the smallest; the largest is a TSO map's (ix(4)).
 */
#define BENCH_DEFAULT_MAP_SIZE 16384u
#define BENCH_MIN_MAP_SIZE     2048u
#define BENCH_MAX_MAP_SIZE     262144u

struct bench_opts {
	bool		  quick;
	bool		  sweep;
	unsigned	  scenarios;  /* 1 << BENCH_SCN_* */
	unsigned	  strategies; /* 1 << BS_* */
	unsigned	  runs;	      /* measured repetitions */
	double		  run_ms;     /* target length of one repetition */
	unsigned long	  ring;	      /* tcpbench N */
	unsigned long	  sweep_n[BENCH_MAX_SWEEP];
	unsigned	  nsweep;
	unsigned	  max_threads;
	int		  tlbi;	       /* enum iommu_tlbi_policy */
	unsigned	  flush_depth; /* the -lazy strategies' */
	unsigned	  tbus;	       /* the model's cfg_tlb_tbus */
	bool		  map_malloc;  /* maps from malloc, not an arena */
	uint64_t	  map_size;    /* the ring's dmamap_create size */
	enum bench_format format;
	const char	 *plot;
	bool		  verbose;
};

enum {
	BENCH_SCN_TCPBENCH,
	BENCH_SCN_ALLOC,
	BENCH_SCN_TRANSLATE,
	BENCH_SCN_SCALE,
	BENCH_SCN_COUNT
};

struct bench_row {
	char	      scenario[16];
	char	      variant[24];
	char	      strategy[16];
	unsigned long n;	/* ring depth / outstanding / bytes / threads */
	const char   *unit;	/* what one operation is */
	double	      ns;	/* median ns per operation */
	double	      ns_lo;	/* 25th percentile */
	double	      ns_hi;	/* 75th percentile */
	double	      cycles;	/* median counter ticks per operation */
	double	      overhead; /* ns over the no-IOMMU baseline */
	double	      alloc_ns; /* breakdown: IOVA allocation */
	double	      pt_ns;	/* page-table updates */
	double	      inval_ns; /* invalidation commands + CMD_SYNC */
	double	      iommu_ns; /* alloc + pt + inval (the replay) */
	double	      map_ns;	/* bus_dma load + unload over no-IOMMU's */
	double	      mbit_s;	/* equivalent tcpbench Mbit/s */
	double	      mbyte_s;	/* bytes/s / 1e6 (DMA) or kpps (scale) */
	double	      ratio;	/* scenario-specific, see the docs */
};

void bench_row_init(struct bench_row *, const char *scenario,
    const char *variant, const char *strategy, unsigned long n,
    const char *unit);

struct bench_target {
	char name[96];
	char measured[96];
	int  met; /* 1 met, 0 not met, -1 not measured */
};

struct bench_report {
	struct bench_row    *rows;
	size_t		     nrows, cap;
	struct bench_target *targets;
	size_t		     ntargets, tcap;
	double		     stack_ns; /* tcpbench stack cost, NaN if none */
	const char	    *magazine_path; /* how "magazine" was run */
	double		     noiommu_ns;
};

void bench_report_add(struct bench_report *, const struct bench_row *);
void bench_report_target(struct bench_report *, const char *name, int met,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const struct bench_row *bench_report_find(const struct bench_report *,
    const char *scenario, const char *variant, const char *strategy,
    unsigned long n);
void			bench_report_free(struct bench_report *);

/* Measurement: fn performs iters operations on arg. */
typedef void bench_fn(void *arg, uint64_t iters);
struct bench_result {
	double	 ns, ns_lo, ns_hi, cycles;
	uint64_t iters;
};
/*
 * Warms up, sizes the repetition to opts->run_ms (iters a multiple of
 * min_iters, at most max_iters), then times opts->runs repetitions.
 */
/* Repetitions a measurement makes: opts->runs within 1..BENCH_MAX_RUNS. */
#define BENCH_MAX_RUNS 64
unsigned bench_runs(const struct bench_opts *);
void	 bench_measure(const struct bench_opts *, bench_fn *, void *arg,
	uint64_t min_iters, uint64_t max_iters, struct bench_result *);
/*
 * The cost of fn(a) over fn(b) per iteration: repetitions of a and b
 * alternate, each after warm_iters untimed iterations of its own, and the
 * median of their differences is reported.
 */
void bench_measure_paired(const struct bench_opts *, bench_fn *, void *a,
    void *b, uint64_t warm_iters, uint64_t max_iters, struct bench_result *);
void bench_result_to_row(const struct bench_result *, struct bench_row *);

/* Sorts v[0..n) and returns the q-quantile (0..1), linear interpolation. */
double bench_quantile(double *v, size_t n, double q);

/* Progress on stderr once a run has lasted a few seconds. */
void bench_progress_start(void);
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_progress_end(void);

/* Scenarios. */
int bench_scn_alloc(const struct bench_opts *, struct bench_report *);
int bench_scn_translate(const struct bench_opts *, struct bench_report *);
int bench_scn_tcpbench(const struct bench_opts *, struct bench_report *);
int bench_scn_scale(const struct bench_opts *, struct bench_report *);

/* Output. */
void bench_print_table(const struct bench_opts *, const struct bench_report *);
void bench_print_csv(const struct bench_report *);
void bench_print_json(const struct bench_opts *, const struct bench_report *);
int  bench_plot_svg(const struct bench_report *, const char *path);

/* The tcpbench equivalence (docs/benchmarks.md). */
#define BENCH_PKT_BITS	     (1500.0 * 8.0)
#define BENCH_BASELINE_MBITS 700.0
double bench_equiv_mbit_s(double stack_ns, double pkt_ns);

#endif /* BENCH_H */
