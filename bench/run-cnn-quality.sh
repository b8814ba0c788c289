#!/usr/bin/env bash
# Issue 12's quality table in one run: DPQ with the convolutional trunk (the recipe chosen on a validation
# split: `cnn`, no augmentation, 80 classification + 120 joint epochs, 64 feature dimensions) and its two-step ablation, next to
# the same network trained as a plain classifier in PyTorch with its softmax probabilities (and its tanh
# features) quantized by faiss PQ (bench/pytorch_cnn_pq.py), same splits, same seed, one thread each, the two
# engines run side by side on two cores. Writes bench/results/quality-cnn-dpq.json and
# bench/results/quality-cnn-pytorch-pq.json and prints a markdown table.
#   bench/run-cnn-quality.sh [--data DIR]      (seed 1 on both sides)
#     DIR: Fashion-MNIST splits (default ../shared/data/fashion-mnist, else Debian's dataset-fashion-mnist
#     through dpq-bench prepare). About 30 minutes on this machine's 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DPQ_BENCH_DATA:-../shared/data/fashion-mnist}
[ "${1:-}" = "--data" ] && data=$2
scratch=${DPQ_SCRATCH:-.build}   # another build folder, e.g. one that already holds a release build
swift build -c release --scratch-path "$scratch" --product dpq-bench >&2
BIN="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
python3 -c "import faiss, numpy" 2>/dev/null || python3 -m pip install --quiet faiss-cpu numpy
python3 -c "import torch" 2>/dev/null || python3 -m pip install --quiet torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$data/train_labels.ivecs" ]; then
  scripts/install-deps.sh dataset-fashion-mnist
  data="$tmp/fmnist"
  "$BIN/dpq-bench" prepare --idx /usr/share/datasets/fashion-mnist --out "$data" >&2
fi
out=bench/results
echo "== DPQ (cnn, 80 + 120 epochs, D = 64) and PyTorch classifier + faiss PQ, seed 1, side by side" >&2
"$BIN/dpq-bench" quality --data "$data" --trunk cnn --input-shape 28x28x1 --pretrain-epochs 80 --epochs 120 \
  --feature-dimension 64 --seeds 1 --no-fixed-length --threads 1 --json > "$tmp/dpq.json" &
dpq=$!
python3 bench/pytorch_cnn_pq.py --data "$data" --epochs 80 --dimension 64 --seed 1 --threads 1 2>/dev/null > "$tmp/pytorch.json"
wait $dpq
cp "$tmp/dpq.json" "$out/quality-cnn-dpq.json"
cp "$tmp/pytorch.json" "$out/quality-cnn-pytorch-pq.json"
python3 - "$out/quality-cnn-dpq.json" "$out/quality-cnn-pytorch-pq.json" <<'EOF'
import json, sys
d, p = (json.load(open(f)) for f in sys.argv[1:3])
prob = {c["bits"]: c["map"] for c in p["probabilities"]["cells"]}
feat = {c["bits"]: c["map"] for c in p["features"]["cells"]}
print("| bits | DPQ (cnn) | DPQ two-step | CNN classifier probabilities + faiss PQ | CNN classifier features + faiss PQ | DPQ - probabilities PQ |")
print("|---|---|---|---|---|---|")
for i, b in enumerate(d["bits"]):
    print("| %d | **%.4f** | %.4f | %.4f | %.4f | %+.1f |" % (b, d["map_dpq"][i], d["map_two_step"][i], prob[b], feat[b],
                                                       100 * (d["map_dpq"][i] - prob[b])))
print("| float | %.4f | %.4f | %.4f | %.4f | |" % (d["map_float"], d["map_float_two_step"], p["probabilities"]["map_float"],
                                             p["features"]["map_float"]))
print()
print("Classifier: query accuracy %.4f, final training loss %.4f, %.0f s training on %d thread(s); DPQ %.0f s (progressive)."
      % (p["query_accuracy"], p["final_train_loss"], p["train_seconds"], p["threads"], d["train_seconds_progressive"]))
EOF
