#!/usr/bin/env python3
"""Table (markdown, stdout) and plot (docs/img/ivf-recall-time.svg) of bench/run-ivf.sh's raw results:
recall@10 against the exhaustive answer and ms per query for every nprobe, DPQ and faiss side by side."""
import argparse, glob, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--raw", default="bench/results/raw")
p.add_argument("--svg", default="docs/img/ivf-recall-time.svg")
a = p.parse_args()


def load(path):
    with open(path) as f:
        return json.load(f)


def short(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else str(n)


series = []
for path in sorted(glob.glob(os.path.join(a.raw, "ivf-dpq-n*.json"))):
    dpq = load(path)
    fz_path = path.replace("ivf-dpq", "ivf-faiss")
    fz = load(fz_path) if os.path.exists(fz_path) else {"indexes": []}
    n = short(dpq["N"])
    ex = dpq["exhaustive"]["seconds_per_query"]
    print("### N = %s, D = %d, M = %d (K = 256), %d queries, %d threads\n" % (n, dpq["D"], dpq["M"], dpq["queries"], dpq["threads"]))
    print("Exhaustive scan (CodeScanner): %.3f ms/query.\n" % (ex * 1e3))
    rows = {}
    for v in dpq["variants"]:
        if v.get("K", 256) == 16:
            name = "DPQ K=16 fast scan, k-means %d" % v["nlist"]
            for rr in ("exact", "top100", "none"):
                pts = [q for q in v["points"] if q["rerank"] == rr]
                if pts:
                    rows[name + " (" + rr + ")"] = pts
            continue
        name = "DPQ first block (%d)" % v["nlist"] if v["coarse"] == "first_block" else "DPQ k-means %d" % v["nlist"]
        rows[name] = v["points"]
    for f in fz["indexes"]:
        name = {"ivf_rq_same_codes": "faiss IVFResidualQuantizer, same codes (%d)",
                "ivf_pq_fastscan": "faiss IVFPQFastScan %d"}[f["name"]] % f["nlist"]
        rows[name] = f["points"]
    probes = sorted({q["nprobe"] for pts in rows.values() for q in pts})
    print("| nprobe | " + " | ".join(rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for pr in probes:
        cells = []
        for pts in rows.values():
            q = next((q for q in pts if q["nprobe"] == pr), None)
            cells.append("%.3f / %.3f" % (q["recall_at_k"], q["seconds_per_query"] * 1e3) if q else "")
        print("| %d | %s |" % (pr, " | ".join(cells)))
    print("\n(cells: recall@10 of the index's exhaustive answer / ms per query)\n")
    for name, pts in rows.items():
        best = [q for q in pts if q["recall_at_k"] >= 0.95]
        if best:
            q = min(best, key=lambda q: q["seconds_per_query"])
            print("- %s: recall >= 0.95 at %.3f ms/query (nprobe %d, recall %.3f)" % (name, q["seconds_per_query"] * 1e3, q["nprobe"], q["recall_at_k"]))
        series.append({"name": "%s %s" % (n, name), "points": sorted((q["recall_at_k"], q["seconds_per_query"] * 1e3) for q in pts),
                       "dashed": name.startswith("faiss")})
    # Fast scan against faiss IVFPQFastScan at equal recall: for every faiss cell, DPQ's fastest
    # cell reaching at least its recall (each against its own exhaustive answer).
    pq = [f for f in fz["indexes"] if f["name"] == "ivf_pq_fastscan"]
    fs = {k: v for k, v in rows.items() if k.startswith("DPQ K=16") and k.endswith(("(none)", "(exact)"))}
    if pq and fs:
        names = sorted(fs, key=lambda k: not k.endswith("(none)"))
        print("\nAt equal recall against %s (each against its own exhaustive answer; ratio = faiss time / DPQ time, "
              "above 1 = DPQ faster):\n" % ("faiss IVFPQFastScan %d" % pq[0]["nlist"]))
        print("| faiss nprobe | faiss recall / ms | " + " | ".join("%s: nprobe, recall / ms, ratio" % k for k in names) + " |")
        print("|---" * (len(names) + 2) + "|")
        for f in pq[0]["points"]:
            cells = []
            for k in names:
                ok = [q for q in fs[k] if q["recall_at_k"] >= f["recall_at_k"] - 1e-9]
                if not ok:
                    cells.append("not reached")
                    continue
                q = min(ok, key=lambda q: q["seconds_per_query"])
                cells.append("%d, %.4f / %.3f, **%.2fx**" % (q["nprobe"], q["recall_at_k"], q["seconds_per_query"] * 1e3,
                                                             f["seconds_per_query"] / q["seconds_per_query"]))
            print("| %d | %.4f / %.3f | %s |" % (f["nprobe"], f["recall_at_k"], f["seconds_per_query"] * 1e3, " | ".join(cells)))
    print()

if series:
    from svgplot import svg_plot
    svg_plot(a.svg, "IVF top-10: time per query against recall of the exhaustive answer", "recall@10",
             "ms per query (log)", series, ylog=True,
             xticks=[(x / 10, "%.1f" % (x / 10)) for x in range(0, 11)])
