/*
 * iommu-bench - a self-contained SVG plot of tcpbench ns/packet against
 * the ring depth N, one line per strategy.
 *
 * Both axes are logarithmic (N doubles or quadruples along the sweep; the
 * costs span five decades).  The file has no scripts, fonts or external
 * references: plain <line>, <polyline>, <circle> and <text> elements.
 * Rows used: scenario "tcpbench", variant "tx".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define W      760
#define H      480
#define LEFT   80
#define RIGHT  170
#define TOP    40
#define BOTTOM 60
#define PLOT_W (W - LEFT - RIGHT)
#define PLOT_H (H - TOP - BOTTOM)

/* One per strategy, in enum bench_strategy order. */
static const char *const colors[] = {
    "#000000",
    "#7f7f7f",
    "#d62728",
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
};
_Static_assert(sizeof(colors) / sizeof(colors[0]) == BS_COUNT,
    "a plot colour for every strategy");

static int
plot_row(const struct bench_row *r)
{
	return strcmp(r->scenario, "tcpbench") == 0 &&
	    strcmp(r->variant, "tx") == 0 && !isnan(r->ns) && r->ns > 0;
}

int
bench_plot_svg(const struct bench_report *rep, const char *path)
{
	double xmin = 1e30, xmax = 0, ymin = 1e30, ymax = 0, lx0, lx1, ly0, ly1;
	FILE  *fp;
	size_t i;
	int    s, npts = 0, e;

	for (i = 0; i < rep->nrows; i++) {
		const struct bench_row *r = &rep->rows[i];

		if (!plot_row(r))
			continue;
		npts++;
		xmin = fmin(xmin, (double)r->n);
		xmax = fmax(xmax, (double)r->n);
		ymin = fmin(ymin, r->ns);
		ymax = fmax(ymax, r->ns);
	}
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	if (npts == 0) {
		xmin = 16;
		xmax = 16384;
		ymin = 10;
		ymax = 1e6;
	}
	lx0 = floor(log2(xmin));
	lx1 = ceil(log2(xmax));
	if (lx1 <= lx0)
		lx1 = lx0 + 1;
	ly0 = floor(log10(ymin));
	ly1 = ceil(log10(ymax));
	if (ly1 <= ly0)
		ly1 = ly0 + 1;
#define XPOS(n) (LEFT + (log2(n) - lx0) / (lx1 - lx0) * PLOT_W)
#define YPOS(v) (TOP + PLOT_H - (log10(v) - ly0) / (ly1 - ly0) * PLOT_H)
	fprintf(fp,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
	    "font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%d\" y=\"24\" font-size=\"15\">tcpbench TX: ns per "
	    "3-segment packet vs ring depth N (log-log)</text>\n",
	    W, H, W, H, LEFT);
	for (e = (int)ly0; e <= (int)ly1; e++) {
		double y = YPOS(pow(10, e));

		fprintf(fp,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke=\"#dddddd\"/>\n<text x=\"%d\" y=\"%.1f\" "
		    "text-anchor=\"end\">1e%d</text>\n",
		    LEFT, y, LEFT + PLOT_W, y, LEFT - 6, y + 4, e);
	}
	for (e = (int)lx0; e <= (int)lx1; e++) {
		double x = XPOS(pow(2, e));

		fprintf(fp,
		    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		    "stroke=\"#eeeeee\"/>\n<text x=\"%.1f\" y=\"%d\" "
		    "text-anchor=\"middle\">%.0f</text>\n",
		    x, TOP, x, TOP + PLOT_H, x, TOP + PLOT_H + 16, pow(2, e));
	}
	fprintf(fp,
	    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	    "stroke=\"black\"/>\n"
	    "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">ring depth N "
	    "(dmamaps outstanding)</text>\n"
	    "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
	    "transform=\"rotate(-90 18 %d)\">ns per packet</text>\n",
	    LEFT, TOP, PLOT_W, PLOT_H, LEFT + PLOT_W / 2, H - 18,
	    TOP + PLOT_H / 2, TOP + PLOT_H / 2);
	for (s = 0; s < BS_COUNT; s++) {
		const char *name = bench_strategy_name((enum bench_strategy)s);
		int	    n = 0;

		for (i = 0; i < rep->nrows; i++)
			if (plot_row(&rep->rows[i]) &&
			    strcmp(rep->rows[i].strategy, name) == 0)
				n++;
		if (n == 0)
			continue;
		fprintf(fp,
		    "<polyline fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\" points=\"",
		    colors[s]);
		for (i = 0; i < rep->nrows; i++) {
			const struct bench_row *r = &rep->rows[i];

			if (plot_row(r) && strcmp(r->strategy, name) == 0)
				fprintf(fp, "%.1f,%.1f ", XPOS((double)r->n),
				    YPOS(r->ns));
		}
		fprintf(fp, "\"/>\n");
		for (i = 0; i < rep->nrows; i++) {
			const struct bench_row *r = &rep->rows[i];

			if (plot_row(r) && strcmp(r->strategy, name) == 0)
				fprintf(fp,
				    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
				    "fill=\"%s\"><title>%s N=%lu: %.1f "
				    "ns</title></circle>\n",
				    XPOS((double)r->n), YPOS(r->ns), colors[s],
				    name, r->n, r->ns);
		}
		fprintf(fp,
		    "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		    "stroke=\"%s\" stroke-width=\"3\"/>\n<text x=\"%d\" "
		    "y=\"%d\">%s</text>\n",
		    LEFT + PLOT_W + 12, TOP + 14 + s * 20, LEFT + PLOT_W + 36,
		    TOP + 14 + s * 20, colors[s], LEFT + PLOT_W + 42,
		    TOP + 18 + s * 20, name);
	}
	fprintf(fp, "</svg>\n");
#undef XPOS
#undef YPOS
	return fclose(fp) == 0 ? 0 : -1;
}
