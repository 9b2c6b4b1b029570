#!/usr/bin/env python3
"""Smoke test of iommu-bench (ctest iommu.bench.quick).

Runs `iommu-bench --quick` over every scenario in each output format and
checks that the output is well-formed: the table has its sections and a
targets block, the CSV has one consistent header and numeric cells, the
JSON parses and carries the documented keys, and the SVG plot is valid XML
with one polyline per strategy, each in a colour of its own.  Timing is never judged here.

usage: check_output.py PATH/TO/iommu-bench PLOT.svg
"""
import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

COLUMNS = ["scenario", "variant", "strategy", "n", "unit", "ns", "ns_p25",
           "ns_p75", "cycles", "overhead_ns", "alloc_ns", "pt_ns",
           "inval_ns", "iommu_ns", "map_ns", "mbit_s", "mbyte_s", "ratio"]
STRATEGIES = ["noiommu", "identity", "per-segment", "per-map", "at-create",
              "magazine", "at-create-lazy", "magazine-lazy"]


def run(bench, *args):
    p = subprocess.run([bench, "--quick", *args], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("iommu-bench %s failed (%d):\n%s" %
                 (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def fail(msg):
    sys.exit("check_output: " + msg)


def main():
    bench, plot = sys.argv[1], sys.argv[2]

    table = run(bench, "--scenario", "all", "--plot", plot)
    for needle in ["== tcpbench / tx", "== tcpbench / rx", "== alloc / lifo-1p",
                   "== alloc / fifo-3p", "== translate / tlb-hit",
                   "== translate / dma-read", "== scale / own-domain",
                   "== scale / shared-domain", "== scale / own-smmu", "== targets",
                   "equivalent tcpbench Mbit/s"]:
        if needle not in table:
            fail("table lacks %r:\n%s" % (needle, table))
    for s in STRATEGIES:
        if "\n%-12s" % s not in table:
            fail("table lacks strategy %s" % s)

    rows = list(csv.reader(io.StringIO(run(bench, "--csv", "-s", "all"))))
    if rows[0] != COLUMNS:
        fail("CSV header %r" % rows[0])
    for r in rows[1:]:
        if len(r) != len(COLUMNS):
            fail("CSV row %r" % r)
        for cell in r[5:]:
            if cell != "":
                float(cell)
        if r[0] == "tcpbench" and (r[5] == "" or float(r[5]) <= 0):
            fail("CSV tcpbench row without ns: %r" % r)
    if not any(r[0] == "tcpbench" and r[2] == "noiommu" and
               abs(float(r[15]) - 700.0) < 1.0 for r in rows[1:]
               if r[15] != ""):
        fail("no-IOMMU row is not 700 Mbit/s at -N")

    doc = json.loads(run(bench, "--json", "-s", "tcpbench,alloc"))
    for key in ["machine", "counter", "map_alloc", "map_size", "mbit_formula",
                "stack_ns", "rows", "targets"]:
        if key not in doc:
            fail("JSON lacks %s" % key)
    if doc["map_alloc"] != "arena":
        fail("maps come from %r by default, not an arena" % doc["map_alloc"])
    if doc["map_size"] != 16384:
        fail("maps are %r bytes by default, not 16384" % doc["map_size"])
    heap = json.loads(run(bench, "--json", "-S", "noiommu,at-create",
                          "--map-alloc", "malloc"))
    if heap["map_alloc"] != "malloc" or not any(
            r["strategy"] == "at-create" for r in heap["rows"]):
        fail("--map-alloc malloc: %r, %d rows" %
             (heap["map_alloc"], len(heap["rows"])))
    small = json.loads(run(bench, "--json", "-S", "noiommu,at-create-lazy",
                           "--map-size", "2048"))
    if small["map_size"] != 2048 or not any(
            r["strategy"] == "at-create-lazy" and r["map_ns"] is not None
            for r in small["rows"]):
        fail("--map-size 2048: %r, %d rows" %
             (small["map_size"], len(small["rows"])))
    if not doc["rows"] or set(doc["rows"][0]) != set(COLUMNS):
        fail("JSON row keys %r" % (doc["rows"][:1],))
    for t in doc["targets"]:
        if t["met"] not in (True, False, None):
            fail("JSON target %r" % t)

    svg = ET.parse(plot).getroot()
    if not svg.tag.endswith("svg"):
        fail("plot root is %s" % svg.tag)
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    if len(lines) != len(STRATEGIES):
        fail("plot has %d lines, want %d" % (len(lines), len(STRATEGIES)))
    colours = [line.get("stroke") for line in lines]
    for c in colours:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", c or ""):
            fail("plot line colour %r" % c)
    if len(set(colours)) != len(colours):
        fail("plot lines share a colour: %s" % colours)
    print("iommu-bench output well-formed: %d CSV rows, %d JSON rows, "
          "%d plot lines" % (len(rows) - 1, len(doc["rows"]), len(lines)))


if __name__ == "__main__":
    main()
