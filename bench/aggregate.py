#!/usr/bin/env python3
"""Gathers the raw results of bench/run-all.sh into bench/results/latest.json and latest.md, and
draws docs/img/scan-time.svg (time per query against database size, every method) and
docs/img/map-bits.svg (mAP against bits from the quality benchmark). Plain SVG, no plotting library.

Every comparison: name, dpq_seconds, baseline ("faiss ..." or "pytorch ..."), baseline_seconds,
faiss_seconds (= baseline_seconds when the baseline is faiss, else null) and
ratio = baseline_seconds / dpq_seconds (above 1: DPQ is faster).
"""
import argparse, glob, json, math, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svgplot import svg_plot

p = argparse.ArgumentParser()
p.add_argument("--results", default="bench/results")
p.add_argument("--docs", default="docs")
a = p.parse_args()
raw = os.path.join(a.results, "raw")


def load(path):
    with open(path) as f:
        return json.load(f)


def short(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else str(n)


comparisons, sections = [], {}


def compare(name, group, dpq_s, baseline, base_s, **extra):
    row = {"name": name, "group": group, "dpq_seconds": dpq_s, "baseline": baseline, "baseline_seconds": base_s,
           "faiss_seconds": base_s if baseline.startswith("faiss") else None, "ratio": base_s / dpq_s}
    row.update(extra)
    comparisons.append(row)


# 1. scan (bench/run-scan.sh's own summary)
scan_path = os.path.join(a.results, "scan.json")
if os.path.exists(scan_path):
    scan = load(scan_path)
    for c in scan["comparisons"]:
        base = "faiss IndexResidualQuantizer" if c["index"] == "rq" else "faiss IndexPQ"
        compare(c["name"], "scan_k256", c["dpq_seconds"], base, c["faiss_seconds"],
                N=c["N"], M=c["M"], batch=c["batch"], threads=c["threads"], unit="seconds per query",
                dpq_ns_per_code=c["dpq_ns_per_code"], faiss_ns_per_code=c["faiss_ns_per_code"])
    sections["scan"] = {"memory": scan.get("memory"), "faiss_version": scan.get("faiss_version")}

# 2. fast scan
fast = []
for dpq_path in sorted(glob.glob(os.path.join(raw, "fastscan-dpq-n*.json"))):
    dpq = load(dpq_path)
    fz = load(dpq_path.replace("fastscan-dpq", "fastscan-faiss"))
    fz_runs = {r["bits"]: r for r in fz["runs"]}
    for run in dpq["runs"]:
        b = run["bits"]
        fcells = {(c["batch"], c["threads"]): c for c in fz_runs[b]["cells"]}
        cells = {}
        for c in run["cells"]:
            cells.setdefault((c["batch"], c["threads"]), {})[c["method"]] = c
        for (batch, t), m in sorted(cells.items()):
            f = fcells[(batch, t)]
            label = "N=%s %d bits batch=%d threads=%d" % (short(dpq["N"]), b, batch, t)
            for method in ("fast_none", "fast_exact"):
                if method in m:
                    compare("fast scan K=16 (%s) %s vs faiss IndexAdditiveQuantizerFastScan" % (method[5:], label),
                            "fastscan_k16", m[method]["seconds_per_query"], "faiss IndexAdditiveQuantizerFastScan",
                            f["seconds_per_query"], N=dpq["N"], bits=b, batch=batch, threads=t, rerank=method[5:],
                            unit="seconds per query", dpq_ns_per_code=m[method]["ns_per_code"],
                            faiss_ns_per_code=f["ns_per_code"])
            fast.append({"N": dpq["N"], "bits": b, "batch": batch, "threads": t,
                         **{k: v["seconds_per_query"] for k, v in m.items()}, "faiss_fastscan": f["seconds_per_query"],
                         "speedup_fast_none_vs_k256": m["plain_k256"]["seconds_per_query"] / m["fast_none"]["seconds_per_query"],
                         "speedup_fast_exact_vs_k256": m["plain_k256"]["seconds_per_query"] / m["fast_exact"]["seconds_per_query"]})
        sections.setdefault("fastscan_recall", {})["N=%s %d bits" % (short(dpq["N"]), b)] = {
            **run["recall_at_k_vs_exact"],
            "faiss_fastscan_vs_dpq_exact": fz_runs[b].get("top_k_agreement_with_dpq_exact")}
    sections["fastscan_kernel"] = dpq["kernel"]
sections["fastscan"] = fast

# 3. encode
enc = os.path.join(raw, "encode-dpq.json")
if os.path.exists(enc):
    dpq, fz = load(enc), load(os.path.join(raw, "encode-faiss.json"))
    f = {(c["method"], c["M"], c["threads"]): c for c in fz["cells"]}
    rows = []
    for c in dpq["cells"]:
        same = f[("faiss_rq_beam1", c["M"], c["threads"])]
        rawin = f.get(("faiss_rq_beam1_raw_input", c["M"], c["threads"]))
        per = lambda v: 1 / v["vectors_per_second"]
        what = {"dpq_encode_whole": "network + assignments", "dpq_encode_quantizer": "assignments only",
                "dpq_encode_openblas_threads": "network + assignments, one call with OpenBLAS's threads"}[c["method"]]
        compare("encode (%s) D=%d M=%d K=256 threads=%d vs faiss ResidualQuantizer beam 1 on D=%d features" % (
                what, dpq["D"], c["M"], c["threads"], dpq["D"]), "encode", per(c), "faiss ResidualQuantizer beam 1", per(same),
                M=c["M"], threads=c["threads"], unit="seconds per vector", dpq_vectors_per_second=c["vectors_per_second"],
                faiss_vectors_per_second=same["vectors_per_second"], code_agreement=same.get("code_agreement_with_dpq"))
        if rawin and c["method"] == "dpq_encode_whole":
            compare("encode (network + assignments) M=%d threads=%d vs faiss ResidualQuantizer beam 1 on the raw %d-d input" % (
                    c["M"], c["threads"], rawin["D"]), "encode", per(c), "faiss ResidualQuantizer beam 1 (raw input)", per(rawin),
                    M=c["M"], threads=c["threads"], unit="seconds per vector",
                    dpq_vectors_per_second=c["vectors_per_second"], faiss_vectors_per_second=rawin["vectors_per_second"])

# 4. training: rounds alternate DPQ and PyTorch (train-dpq-<r>.json, train-pytorch-<r>.json) because
# the second core's speed drifts on these shared machines; each engine's median round is compared.
import glob
def rounds(prefix):
    files = sorted(glob.glob(os.path.join(raw, prefix + "-*.json")))
    return [load(f) for f in files] or ([load(os.path.join(raw, prefix + ".json"))] if os.path.exists(os.path.join(raw, prefix + ".json")) else [])

def median_cells(runs):
    """For each thread count, the cell of the median round by epoch time, plus every round's time."""
    by = {}
    for run in runs:
        for c in run["cells"]:
            by.setdefault(c["threads"], []).append(c)
    out = {}
    for t, cells in by.items():
        cells = sorted(cells, key=lambda c: c["epoch_seconds"])
        out[t] = (cells[(len(cells) - 1) // 2], [c["epoch_seconds"] for c in cells])
    return out

dpq_runs, pt_runs = rounds("train-dpq"), rounds("train-pytorch")
if dpq_runs and pt_runs:
    dpq, pt = dpq_runs[0], pt_runs[0]
    dpqc, ptc = median_cells(dpq_runs), median_cells(pt_runs)
    train_rows = []
    for threads in sorted(dpqc):
        c, c_all = dpqc[threads]
        t, t_all = ptc[threads]
        compare("training epoch (joint phase, batch %d, %d rows) threads=%d vs PyTorch %s" % (
                dpq["batch"], dpq["train_rows"], threads, pt["torch_version"]), "training", c["epoch_seconds"],
                "pytorch " + pt["torch_version"], t["epoch_seconds"], threads=threads, unit="seconds per epoch",
                gemm_gflops_per_second=c["gemm_gflops_per_second"], sgemm_peak_gflops_per_second=c["sgemm_peak_gflops_per_second"],
                share_of_peak=c["share_of_peak"], dpq_mean_loss=c["epochs"][-1]["mean_loss"],
                pytorch_mean_loss=t["epochs"][-1]["mean_loss"], rounds=len(c_all),
                dpq_epoch_seconds_rounds=c_all, pytorch_epoch_seconds_rounds=t_all)
        train_rows.append({"threads": threads, "dpq_share": c["epochs"][-1]["share"], "pytorch_share": t["epochs"][-1]["share"],
                           "dpq_losses": [e["mean_loss"] for e in c["epochs"]], "pytorch_losses": [e["mean_loss"] for e in t["epochs"]],
                           "dpq_rounds": c_all, "pytorch_rounds": t_all, "share_of_peak": c["share_of_peak"]})
    sections["training"] = train_rows

# 5. gRPC
g = os.path.join(raw, "grpc.json")
if os.path.exists(g):
    sections["grpc"] = load(g)

sm = os.path.join(raw, "server-memory-10M-M8.json")
if os.path.exists(sm):
    r = load(sm)
    mem = r.get("server_memory_bytes", {})
    rss = mem.get("VmRSS", mem.get("VmRSS:"))
    sections["server_memory"] = {"items": r["items"], "M": r["M"], "rss_bytes": rss,
                                 "peak_bytes": mem.get("VmHWM", mem.get("VmHWM:")),
                                 "rss_bytes_per_item": rss / r["items"] if rss else None,
                                 "search_p50_ms": r["grpc_p50_ms"], "in_process_p50_ms": r["in_process_p50_ms"]}

quality = None
qpath = os.path.join(a.results, "quality-fashion-mnist.json")
if os.path.exists(qpath):
    quality = load(qpath)

latest = {"description": "bench/run-all.sh on this machine; ratio = baseline seconds / DPQ seconds (above 1: DPQ faster)",
          "comparisons": comparisons, **sections}
with open(os.path.join(a.results, "latest.json"), "w") as f:
    json.dump(latest, f, indent=1)

# ---------------------------------------------------------------- markdown
L = ["# Benchmarks: latest run of `bench/run-all.sh`", ""]
by_group = {}
for c in comparisons:
    by_group.setdefault(c["group"], []).append(c)
titles = {"scan_k256": "Search scan, K = 256 (seconds per query)", "fastscan_k16": "Fast scan, K = 16 (seconds per query)",
          "encode": "Encoding (seconds per vector)", "training": "Training (seconds per epoch)"}
for group, rows in by_group.items():
    L += ["## " + titles.get(group, group), "", "| comparison | DPQ | baseline | ratio |", "|---|---|---|---|"]
    for r in rows:
        L.append("| %s | %.4g | %.4g | %s |" % (r["name"], r["dpq_seconds"], r["baseline_seconds"],
                                              ("**%.2f**" if r["ratio"] < 1 else "%.2f") % r["ratio"]))
    L.append("")
if fast:
    L += ["## Fast scan against the K = 256 scan at the same bits (ms per query)", "",
          "| N | bits | threads | batch | fast, no re-rank | fast, top-100 re-rank | fast, exact | K=256 scan | faiss RQ fast scan | K=256 / fast (none) | K=256 / fast (exact) |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in fast:
        L.append("| %s | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f |" % (
            short(r["N"]), r["bits"], r["threads"], r["batch"], r["fast_none"] * 1e3,
            r.get("fast_top100", float("nan")) * 1e3, r["fast_exact"] * 1e3, r["plain_k256"] * 1e3,
            r["faiss_fastscan"] * 1e3, r["speedup_fast_none_vs_k256"], r["speedup_fast_exact_vs_k256"]))
    L.append("")
if "training" in sections:
    L += ["## Where training time goes (share of an epoch)", ""]
    for r in sections["training"]:
        L.append("- threads %d, epoch seconds per round (sorted), DPQ: %s (median %.1f%% of sgemm peak); PyTorch: %s" % (
                 r["threads"], ", ".join("%.3f" % x for x in r["dpq_rounds"]), 100 * r["share_of_peak"],
                 ", ".join("%.3f" % x for x in r["pytorch_rounds"])))
    L.append("")
    for r in sections["training"]:
        L.append("- threads %d, DPQ: %s; PyTorch: %s" % (r["threads"],
                 ", ".join("%s %.1f%%" % (k, 100 * v) for k, v in sorted(r["dpq_share"].items())),
                 ", ".join("%s %.1f%%" % (k, 100 * v) for k, v in sorted(r["pytorch_share"].items()))))
    L.append("")
if "grpc" in sections:
    gr = sections["grpc"]
    L += ["## Search over gRPC (%d items, M = %d, k = %d, loopback)" % (gr["items"], gr["M"], gr["k"]), "",
          "- single queries, one client: p50 %.3f ms, p99 %.3f ms; in process (features + scan): p50 %.3f ms; added p50 %.3f ms; "
          "a health check (no work) p50 %.3f ms" % (gr["grpc_p50_ms"], gr["grpc_p99_ms"], gr["in_process_p50_ms"],
                                                   gr["added_p50_ms"], gr["health_check_p50_ms"]), ""]
    if "c_client" in gr:
        c = gr["c_client"]
        L += ["- from the C client (blocking nghttp2, the thinnest client): search p50 %.3f ms, p99 %.3f ms, added p50 "
              "%.3f ms; health check p50 %.3f ms" % (c["search_p50_ms"], c["search_p99_ms"], gr["c_client_added_p50_ms"],
                                                     c["health_p50_ms"]), ""]
    L += ["| clients (Swift, one connection each) | searches/s | p50 ms | p99 ms |", "|---|---|---|---|"]
    for t in gr["throughput"]:
        L.append("| %d | %.0f | %.3f | %.3f |" % (t["clients"], t["searches_per_second"], t["p50_ms"], t["p99_ms"]))
    L.append("")
with open(os.path.join(a.results, "latest.md"), "w") as f:
    f.write("\n".join(L) + "\n")

# ---------------------------------------------------------------- SVG


series = {}
for c in comparisons:
    if c["group"] == "scan_k256" and c["batch"] == 1 and c["threads"] == 1 and c["M"] == 8:
        series.setdefault("DPQ scan, K=256, 64 bits", {})[c["N"]] = c["dpq_seconds"]
        series.setdefault("faiss %s, 64 bits" % ("RQ" if "Residual" in c["baseline"] else "PQ"), {})[c["N"]] = c["baseline_seconds"]
for r in fast:
    if r["batch"] == 1 and r["threads"] == 1 and r["bits"] == 64:
        series.setdefault("DPQ fast scan, K=16, exact", {})[r["N"]] = r["fast_exact"]
        series.setdefault("DPQ fast scan, K=16, no re-rank", {})[r["N"]] = r["fast_none"]
        series.setdefault("faiss RQ fast scan, K=16", {})[r["N"]] = r["faiss_fastscan"]
if series:
    svg_plot(os.path.join(a.docs, "img", "scan-time.svg"), "Exhaustive top-10 search, 64-bit codes, 1 query, 1 thread",
             "database items (log)", "ms per query (log)",
             [{"name": k, "points": [(n, s * 1e3) for n, s in sorted(v.items())], "dashed": k.startswith("faiss")}
              for k, v in series.items()], xlog=True, ylog=True,
             xticks=[(n, short(n)) for n in sorted({n for v in series.values() for n in v})])
if quality:
    bits = quality["bits"]
    svg_plot(os.path.join(a.docs, "img", "map-bits.svg"), "Fashion-MNIST mAP (mean of %d seeds)" % len(quality["seeds"]),
             "bits per item", "mAP", [
                 {"name": "DPQ (one model, every length)", "points": list(zip(bits, quality["map_dpq"]))},
                 {"name": "separate model per length", "points": list(zip(bits, quality["map_separate"]))},
                 {"name": "two-step (features, then RQ)", "points": list(zip(bits, quality["map_two_step"]))},
                 {"name": "float features (ceiling)", "points": [(bits[0], quality["map_float"]), (bits[-1], quality["map_float"])],
                  "dashed": True}], yfmt="%.3f")
print("\n".join(L))
