#!/usr/bin/env bash
# Search-scan benchmark: DPQ's CodeScanner against faiss IndexResidualQuantizer (ST_LUT_nonorm)
# and IndexPQ, exhaustive inner-product top 10 over the same random codes (K = 256), on this
# machine, for N in {1M, 10M} x M in {4, 8} x batches {1, 16, 256} x threads {1, all}.
# Writes bench/results/scan.json (list `comparisons`, ratio = faiss seconds / DPQ seconds,
# above 1 means DPQ is faster) and bench/results/scan.md. About 10-15 minutes on 2 cores.
#
# Environment overrides: SCAN_SIZES="1000000 10000000", SCAN_BLOCKS="4 8", SCAN_THREADS="1,0"
# (0 = all cores), SCAN_BATCHES="1,16,256", SCAN_MEMORY=1 (0 skips the 10M x M=8 memory run).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SCAN_SIZES:-"1000000 10000000"}
BLOCKS=${SCAN_BLOCKS:-"4 8"}
THREADS=${SCAN_THREADS:-"1,0"}
BATCHES=${SCAN_BATCHES:-"1,16,256"}

swift build -c release --product dpq-bench
BIN="$(swift build -c release --product dpq-bench --show-bin-path)/dpq-bench"
python3 -c "import faiss, numpy" 2>/dev/null || python3 -m pip install --quiet faiss-cpu numpy

out=bench/results
raw=$out/scan-raw
rm -rf "$raw"
mkdir -p "$raw"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for n in $SIZES; do
  for m in $BLOCKS; do
    # 10M x 256 queries takes 5-25 s per run on 2 cores: 3 timed runs there, 5 elsewhere.
    reps=5; [ "$n" -ge 10000000 ] && reps=3
    dir="$tmp/n$n-m$m"
    echo "== N=$n M=$m: dpq-bench scan" >&2
    "$BIN" scan --count "$n" --blocks "$m" --data "$dir" --batches "$BATCHES" --threads "$THREADS" \
      --repetitions "$reps" --min-seconds 1 --json > "$raw/dpq-n$n-m$m.json"
    echo "== N=$n M=$m: faiss" >&2
    python3 bench/faiss_scan.py --data "$dir" --batches "$BATCHES" --threads "$THREADS" \
      --repetitions "$reps" --min-seconds 1 > "$raw/faiss-n$n-m$m.json"
    rm -rf "$dir"
  done
done

if [ "${SCAN_MEMORY:-1}" = 1 ]; then
  echo "== memory: 10M items of M = 8 with squared-L2 prefix norms" >&2
  "$BIN" scan --count 10000000 --blocks 8 --norms --memory-only --json > "$raw/dpq-memory-n10000000-m8.json"
fi

python3 - "$raw" "$out" <<'EOF'
import glob, json, os, sys
raw, out = sys.argv[1], sys.argv[2]

def load(path):
    with open(path) as f:
        return json.load(f)

def short(n):
    return "%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else str(n)

comparisons, runs = [], []
for dpq_path in sorted(glob.glob(os.path.join(raw, "dpq-n*-m*.json"))):
    if "memory" in dpq_path:
        continue
    dpq = load(dpq_path)
    faiss = load(dpq_path.replace("/dpq-", "/faiss-"))
    runs.append({"dpq": dpq, "faiss": faiss})
    for name, label in (("rq", "faiss IndexResidualQuantizer ST_LUT_nonorm"), ("pq", "faiss IndexPQ")):
        fcells = {(c["batch"], c["threads"]): c for c in faiss["indexes"][name]["cells"]}
        for c in dpq["cells"]:
            f = fcells[(c["batch"], c["threads"])]
            comparisons.append({
                "name": "N=%s M=%d batch=%d threads=%d vs %s" % (short(dpq["N"]), dpq["M"], c["batch"], c["threads"], label),
                "index": name, "N": dpq["N"], "M": dpq["M"], "batch": c["batch"], "threads": c["threads"],
                "dpq_seconds": c["seconds_per_query"], "faiss_seconds": f["seconds_per_query"],
                "ratio": f["seconds_per_query"] / c["seconds_per_query"],
                "dpq_ns_per_code": c["ns_per_code"], "faiss_ns_per_code": f["ns_per_code"],
                "dpq_repetitions": c["repetitions"], "faiss_repetitions": f["repetitions"],
            })
comparisons.sort(key=lambda r: (r["N"], r["M"], r["threads"], r["batch"], r["index"]))

memory = {}
mem_path = os.path.join(raw, "dpq-memory-n10000000-m8.json")
if os.path.exists(mem_path):
    memory["dpq_10M_M8"] = load(mem_path)["memory"]
for r in runs:
    if r["dpq"]["N"] == 10_000_000 and r["dpq"]["M"] == 8:
        memory["faiss_10M_M8"] = {k: {"rss_bytes_added_by_index": v["rss_bytes_added_by_index"],
                                      "code_bytes_per_item": v["code_bytes_per_item"]}
                                  for k, v in r["faiss"]["indexes"].items()}
        memory["faiss_10M_M8"]["process"] = r["faiss"]["memory"]

worst = min(comparisons, key=lambda r: r["ratio"]) if comparisons else None
result = {"description": "Exhaustive inner-product top-10 over random codes (K = 256, D = %d); seconds are per query; "
                         "ratio = faiss / DPQ (>= 1 means DPQ meets the goal)." % runs[0]["dpq"]["D"],
          "cores": runs[0]["dpq"]["cores"], "faiss_version": runs[0]["faiss"]["faiss_version"],
          "goal_met_in_every_cell": all(r["ratio"] >= 1 for r in comparisons),
          "worst_cell": worst["name"] if worst else None,
          "rq_top10_agreement": {"N=%s M=%d" % (short(r["dpq"]["N"]), r["dpq"]["M"]):
                                 r["faiss"]["indexes"]["rq"].get("top_k_agreement_with_dpq") for r in runs},
          "comparisons": comparisons, "memory": memory}
with open(os.path.join(out, "scan.json"), "w") as f:
    json.dump(result, f, indent=1)

lines = ["# Search scan: DPQ CodeScanner vs faiss (exhaustive inner product, top 10, K = 256)", "",
         "One run of `bench/run-scan.sh` on %d cores, faiss-cpu %s. Time per query (median), ns per scanned code, "
         "ratio = faiss / DPQ (>= 1: DPQ at least as fast)." % (result["cores"], result["faiss_version"]), "",
         "| N | M | threads | batch | DPQ ms/query | DPQ ns/code | RQ ms/query | RQ ns/code | RQ/DPQ | PQ ms/query | PQ ns/code | PQ/DPQ |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|"]
cells = {}
for r in comparisons:
    cells.setdefault((r["N"], r["M"], r["threads"], r["batch"]), {})[r["index"]] = r
for (n, m, t, b), e in sorted(cells.items()):
    rq, pq = e["rq"], e["pq"]
    lines.append("| %s | %d | %d | %d | %.3f | %.3f | %.3f | %.3f | %s | %.3f | %.3f | %s |" % (
        short(n), m, t, b, rq["dpq_seconds"] * 1e3, rq["dpq_ns_per_code"],
        rq["faiss_seconds"] * 1e3, rq["faiss_ns_per_code"], ("**%.2f**" if rq["ratio"] < 1 else "%.2f") % rq["ratio"],
        pq["faiss_seconds"] * 1e3, pq["faiss_ns_per_code"], ("**%.2f**" if pq["ratio"] < 1 else "%.2f") % pq["ratio"]))
lines += ["", "Bold ratios are cells where DPQ is slower. Goal met in every cell: %s." % result["goal_met_in_every_cell"],
          "RQ top-10 agreement with DPQ (same codes and queries): %s." % result["rq_top10_agreement"]]
if "dpq_10M_M8" in memory:
    d = memory["dpq_10M_M8"]
    lines += ["", "## Memory, 10M items of M = 8", "",
              "- DPQ process RSS: %.0f MiB at start, %.0f MiB with the codes (%.0f MiB of codes, %d B/item), "
              "%.0f MiB with the squared-L2 prefix norms as well (%d B/item)." % (
                  d["rss_bytes_start"] / 2**20, d["rss_bytes_with_codes"] / 2**20, d["code_bytes"] / 2**20,
                  d["code_bytes_per_item"], d.get("rss_bytes_with_codes_and_norms", 0) / 2**20,
                  d.get("norm_bytes_per_item", 0))]
if "faiss_10M_M8" in memory:
    f = memory["faiss_10M_M8"]
    lines.append("- faiss: RQ index adds %.0f MiB (%d B/item), PQ index adds %.0f MiB (%d B/item) to the process." % (
        f["rq"]["rss_bytes_added_by_index"] / 2**20, f["rq"]["code_bytes_per_item"],
        f["pq"]["rss_bytes_added_by_index"] / 2**20, f["pq"]["code_bytes_per_item"]))
with open(os.path.join(out, "scan.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
