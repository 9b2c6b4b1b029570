#!/usr/bin/env python3
"""Combine several `iommu-bench --csv` runs into Markdown tables.

Each run already reports the median of its repetitions; this script gives,
per row and column, the median of those run medians, with the lowest and
highest run medians of ns so that the spread between runs stays visible
(on a shared machine other work inflates whole runs).  Overhead and Mbit/s
are recomputed from the medians; scale ratios are the median of each run's
own ratio (a ratio is only meaningful inside one run).

usage: combine_runs.py run1.csv run2.csv ... > tables.md
"""
import csv
import statistics
import sys
from collections import OrderedDict

PKT_BITS = 12000.0


def num(s):
    return float(s) if s not in ("", None) else None


def main():
    rows = OrderedDict()
    for path in sys.argv[1:]:
        with open(path) as f:
            for r in csv.DictReader(f):
                key = (r["scenario"], r["variant"], r["strategy"], int(r["n"]))
                rows.setdefault(key, []).append(r)

    def vals(key, col):
        return [num(r[col]) for r in rows.get(key, []) if num(r[col]) is not None]

    def med(key, col):
        v = vals(key, col)
        return statistics.median(v) if v else None

    def spread(key, col):
        v = vals(key, col)
        return (min(v), max(v)) if v else (None, None)

    def fmt(v, prec=1):
        return "-" if v is None else "%.*f" % (prec, v)

    # Stack cost from the no-IOMMU TX median at the default ring depth.
    base = med(("tcpbench", "tx", "noiommu", 256), "ns")
    stack = PKT_BITS / 700e6 * 1e9 - base if base else None
    print("Runs combined: %d; stack cost S = %.0f ns\n" %
          (len(sys.argv) - 1, stack or 0))

    groups = OrderedDict()
    for key in rows:
        groups.setdefault(key[:2], []).append(key)
    for (scn, var), keys in groups.items():
        print("### %s / %s\n" % (scn, var))
        if scn == "tcpbench":
            print("| strategy | N | ns/packet (runs: min..max) |"
                  " overhead ns | map+unmap ns | replay alloc / pt / inval |"
                  " Mbit/s |")
            print("|---|---:|---:|---:|---:|---|---:|")
            for k in keys:
                m = med(k, "ns")
                lo, hi = spread(k, "ns")
                b = med((scn, var, "noiommu", k[3]), "ns")
                ov = m - b if b is not None and k[2] != "noiommu" else None
                mb = PKT_BITS / (stack + m) * 1000 if stack else None
                br = "-" if med(k, "alloc_ns") is None else "%s / %s / %s" % (
                    fmt(med(k, "alloc_ns"), 0), fmt(med(k, "pt_ns"), 0),
                    fmt(med(k, "inval_ns"), 0))
                print("| %s | %d | %s (%s..%s) | %s | %s | %s | %s |" % (
                    k[2], k[3], fmt(m), fmt(lo), fmt(hi), fmt(ov),
                    fmt(med(k, "map_ns")), br, fmt(mb)))
        elif scn == "translate" and var.startswith("dma"):
            print("| strategy | bytes | ns/transfer | MB/s |")
            print("|---|---:|---:|---:|")
            for k in keys:
                m = med(k, "ns")
                lo, hi = spread(k, "ns")
                print("| %s | %d | %s (%s..%s) | %.0f |" % (
                    k[2], k[3], fmt(m), fmt(lo), fmt(hi), k[3] / m * 1000))
        elif scn == "scale":
            print("| strategy | threads | ns/packet/thread | aggregate kpps |"
                  " vs 1 thread (runs: min..max) |")
            print("|---|---:|---:|---:|---:|")
            for k in keys:
                m = med(k, "ns")
                rlo, rhi = spread(k, "ratio")
                print("| %s | %d | %s | %.0f | %.2fx (%.2f..%.2f) |" % (
                    k[2], k[3], fmt(m), k[3] * 1e6 / m, med(k, "ratio"),
                    rlo, rhi))
        else:
            print("| strategy | n | ns (runs: min..max) |")
            print("|---|---:|---:|")
            for k in keys:
                lo, hi = spread(k, "ns")
                print("| %s | %d | %s (%s..%s) |" % (k[2], k[3],
                                                   fmt(med(k, "ns")), fmt(lo),
                                                   fmt(hi)))
        print()


if __name__ == "__main__":
    main()
