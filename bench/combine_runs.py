#!/usr/bin/env python3
"""Combine several `iommu-bench --csv` runs into Markdown tables.

On a shared machine other work inflates some repetitions; each run already
reports the median of its repetitions, and this script keeps, per row, the
lowest of those medians across runs (the least disturbed run) together with
the highest, so the spread between runs stays visible.  Derived columns
(overhead, Mbit/s, ratios) are recomputed from the kept values.

usage: combine_runs.py run1.csv run2.csv ... > tables.md
"""
import csv
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

    def best(key, col):
        vals = [num(r[col]) for r in rows[key] if num(r[col]) is not None]
        return (min(vals), max(vals)) if vals else (None, None)

    def fmt(v, prec=1):
        return "-" if v is None else "%.*f" % (prec, v)

    # Stack cost from the lowest no-IOMMU TX median at the ring depth of
    # the default run (256).
    base = best(("tcpbench", "tx", "noiommu", 256), "ns")[0]
    stack = PKT_BITS / 700e6 * 1e9 - base if base else None
    print("Runs combined: %d; stack cost S = %.0f ns\n" %
          (len(sys.argv) - 1, stack or 0))

    groups = OrderedDict()
    for key in rows:
        groups.setdefault(key[:2], []).append(key)
    for (scn, var), keys in groups.items():
        print("### %s / %s\n" % (scn, var))
        if scn == "tcpbench":
            print("| strategy | N | ns/packet (min..max of run medians) |"
                  " overhead ns | alloc ns | pt ns | inval ns |"
                  " map+unmap ns | Mbit/s |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for k in keys:
                lo, hi = best(k, "ns")
                b = best((scn, var, "noiommu", k[3]), "ns")[0]
                ov = lo - b if b is not None and k[2] != "noiommu" else None
                mb = PKT_BITS / (stack + lo) * 1000 if stack else None
                print("| %s | %d | %s (..%s) | %s | %s | %s | %s | %s | %s |" % (
                    k[2], k[3], fmt(lo), fmt(hi), fmt(ov),
                    fmt(best(k, "alloc_ns")[0]), fmt(best(k, "pt_ns")[0]),
                    fmt(best(k, "inval_ns")[0]), fmt(best(k, "iommu_ns")[0]),
                    fmt(mb)))
        elif scn == "translate" and var.startswith("dma"):
            print("| strategy | bytes | ns/transfer | MB/s |")
            print("|---|---:|---:|---:|")
            for k in keys:
                lo, hi = best(k, "ns")
                print("| %s | %d | %s (..%s) | %.0f |" % (
                    k[2], k[3], fmt(lo), fmt(hi), k[3] / lo * 1000))
        elif scn == "scale":
            print("| strategy | threads | ns/packet/thread | aggregate kpps |"
                  " vs 1 thread |")
            print("|---|---:|---:|---:|---:|")
            for k in keys:
                lo, hi = best(k, "ns")
                one = best((scn, var, k[2], 1), "ns")[0]
                print("| %s | %d | %s (..%s) | %.0f | %.2fx |" % (
                    k[2], k[3], fmt(lo), fmt(hi), k[3] * 1e6 / lo,
                    (k[3] / lo) / (1 / one)))
        else:
            print("| strategy | n | ns (min..max of run medians) |")
            print("|---|---:|---:|")
            for k in keys:
                lo, hi = best(k, "ns")
                print("| %s | %d | %s (..%s) |" % (k[2], k[3], fmt(lo),
                                                   fmt(hi)))
        print()


if __name__ == "__main__":
    main()
