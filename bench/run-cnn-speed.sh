#!/usr/bin/env bash
# The convolutional trunk against PyTorch on this machine (issue 12's speed goals), one command:
#   training  dpq-bench train-speed --trunk cnn  vs  bench/pytorch_train_speed.py --trunk cnn
#             (same network, losses, batch 256, Adam; one warm-up epoch, then timed epochs over the
#             5,000-image training split) on 1 thread and on all cores, three rounds alternating the
#             engines, each compared at its median (the second core's speed drifts over minutes);
#   encoding  dpq-bench encode --trunk cnn (trunk + feature + M greedy assignments)  vs
#             bench/pytorch_cnn_encode.py (PyTorch inference of the same trunk + faiss RQ beam 1 on
#             DPQ's codebooks), M = 4 and 8;
#   GFLOP/s of DPQ's sgemm work next to the sgemm peak measured in the same run.
# Writes bench/results/raw/cnn-*.json and prints a markdown table (ratio = PyTorch time / DPQ time,
# above 1 means DPQ is faster).
#   bench/run-cnn-speed.sh [--data DIR]   (Fashion-MNIST splits; default ../shared/data/fashion-mnist,
#                                          else Debian's dataset-fashion-mnist via dpq-bench prepare)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DPQ_BENCH_DATA:-../shared/data/fashion-mnist}
[ "${1:-}" = "--data" ] && data=$2
swift build -c release --product dpq-bench >&2
BIN="$(swift build -c release --show-bin-path)"
python3 -c "import faiss, numpy" 2>/dev/null || python3 -m pip install --quiet faiss-cpu numpy
python3 -c "import torch" 2>/dev/null || python3 -m pip install --quiet torch
raw=bench/results/raw
mkdir -p "$raw"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$data/train_labels.ivecs" ]; then
  scripts/install-deps.sh dataset-fashion-mnist
  data="$tmp/fmnist"
  "$BIN/dpq-bench" prepare --idx /usr/share/datasets/fashion-mnist --out "$data" >&2
fi
rm -f "$raw"/cnn-*.json
for round in 1 2 3; do
  echo "== round $round: training" >&2
  "$BIN/dpq-bench" train-speed --data "$data" --trunk cnn --epochs 2 --json > "$raw/cnn-train-dpq-$round.json"
  python3 bench/pytorch_train_speed.py --data "$data" --trunk cnn --epochs 2 2>/dev/null > "$raw/cnn-train-pytorch-$round.json"
done
echo "== encoding" >&2
"$BIN/dpq-bench" encode --trunk cnn --count 8192 --blocks 4,8 --data "$tmp/enc" --json > "$raw/cnn-encode-dpq.json"
python3 bench/pytorch_cnn_encode.py --data "$tmp/enc" --count 8192 --blocks 4,8 2>/dev/null > "$raw/cnn-encode-pytorch.json"

python3 - "$raw" <<'PY'
import glob, json, statistics, sys
raw = sys.argv[1]
def load(p):
    t = open(p).read()
    return json.loads(t[t.index("{"):])
dpq = [load(p) for p in sorted(glob.glob(f"{raw}/cnn-train-dpq-*.json"))]
pt = [load(p) for p in sorted(glob.glob(f"{raw}/cnn-train-pytorch-*.json"))]
print("| CNN training, epoch of 5,000 images | DPQ s | PyTorch s | ratio | DPQ sgemm GFLOP/s (peak) |")
print("|---|---|---|---|---|")
for i, cell in enumerate(dpq[0]["cells"]):
    d = statistics.median(r["cells"][i]["epoch_seconds"] for r in dpq)
    p = statistics.median(r["cells"][i]["epoch_seconds"] for r in pt)
    g = statistics.median(r["cells"][i]["gemm_gflops_per_second"] for r in dpq)
    peak = statistics.median(r["cells"][i]["sgemm_peak_gflops_per_second"] for r in dpq)
    print(f"| {cell['threads']} thread(s) | {d:.3f} | {p:.3f} | {p / d:.2f} | {g:.1f} ({peak:.1f}, {100 * g / peak:.0f}%) |")
e, f = load(f"{raw}/cnn-encode-dpq.json"), load(f"{raw}/cnn-encode-pytorch.json")
print()
print("| CNN encode (images/s) | DPQ (trunk + M assignments) | PyTorch trunk + faiss RQ | ratio |")
print("|---|---|---|---|")
for c in e["cells"]:
    if c["method"] != "dpq_encode_whole":
        continue
    o = next(x for x in f["cells"] if x["method"] == "pytorch_cnn_plus_faiss_rq" and x["M"] == c["M"] and x["threads"] == c["threads"])
    print(f"| M = {c['M']}, {c['threads']} thread(s) | {c['vectors_per_second']:.0f} | {o['vectors_per_second']:.0f} | {c['vectors_per_second'] / o['vectors_per_second']:.2f} |")
PY
