#!/usr/bin/env bash
# The speed benchmark, one command: builds in release mode, installs faiss-cpu / torch / numpy
# from PyPI if missing, runs DPQ and its counterparts side by side on this machine, and writes
# bench/results/latest.json (list `comparisons`: name, dpq_seconds, faiss_seconds (or the
# PyTorch baseline's), ratio = baseline / DPQ, above 1 means DPQ is faster), bench/results/latest.md
# and the plots docs/img/scan-time.svg and docs/img/map-bits.svg.
#
#   1. search scan, K = 256      (bench/run-scan.sh: dpq-bench scan vs faiss RQ and PQ)
#   2. fast scan, K = 16         (dpq-bench fast-scan vs faiss IndexAdditiveQuantizerFastScan)
#   3. encoding                  (dpq-bench encode vs faiss ResidualQuantizer beam 1)
#   4. training                  (dpq-bench train-speed vs bench/pytorch_train_speed.py)
#   5. gRPC                      (dpq-grpc-bench: latency vs in process, 1/4/16 clients; a dpq serve
#                                 process's memory with 10M items of M = 8)
#   6. convolutional trunk       (bench/run-cnn-speed.sh: training and encoding vs PyTorch (+ faiss),
#                                 its table in bench/results/cnn-speed.md)
#
# Fashion-MNIST splits for item 4 come from $DPQ_BENCH_DATA (default ../shared/data/fashion-mnist
# beside the checkout), else from Debian's dataset-fashion-mnist via `dpq-bench prepare`.
# Skip parts with DPQ_BENCH_SKIP="scan fastscan encode train grpc cnn" (any subset); a skipped part
# keeps its previous raw results if present. About 20-25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP=" ${DPQ_BENCH_SKIP:-} "
skip() { [[ "$SKIP" == *" $1 "* ]]; }

swift build -c release --product dpq-bench
swift build -c release --product dpq-grpc-bench
BIN="$(swift build -c release --show-bin-path)"
python3 -c "import faiss, numpy" 2>/dev/null || python3 -m pip install --quiet faiss-cpu numpy
python3 -c "import torch" 2>/dev/null || python3 -m pip install --quiet torch

out=bench/results
raw=$out/raw
mkdir -p "$raw"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! skip scan; then
  echo "== 1. search scan (K = 256)" >&2
  bench/run-scan.sh > /dev/null
fi

if ! skip fastscan; then
  echo "== 2. fast scan (K = 16)" >&2
  for n in 1000000 10000000; do
    methods="fast_none,fast_top,fast_exact,plain_k16,plain_k256"
    reps=5
    [ "$n" -ge 10000000 ] && methods="fast_none,fast_top,fast_exact,plain_k256" && reps=3
    "$BIN/dpq-bench" fast-scan --count "$n" --bits 32,64 --methods "$methods" --repetitions "$reps" \
      --data "$tmp/fs-$n" --json > "$raw/fastscan-dpq-n$n.json"
    python3 bench/faiss_fastscan.py --data "$tmp/fs-$n" --bits 32,64 --repetitions "$reps" > "$raw/fastscan-faiss-n$n.json"
    rm -rf "$tmp/fs-$n"
  done
fi

if ! skip encode; then
  echo "== 3. encoding" >&2
  "$BIN/dpq-bench" encode --data "$tmp/enc" --json > "$raw/encode-dpq.json"
  python3 bench/faiss_encode.py --data "$tmp/enc" > "$raw/encode-faiss.json"
  rm -rf "$tmp/enc"
fi

if ! skip train; then
  echo "== 4. training" >&2
  data=${DPQ_BENCH_DATA:-../shared/data/fashion-mnist}
  if [ ! -f "$data/train_labels.ivecs" ]; then
    scripts/install-deps.sh dataset-fashion-mnist
    data="$tmp/fmnist"
    "$BIN/dpq-bench" prepare --idx /usr/share/datasets/fashion-mnist --out "$data" >&2
  fi
  # Three rounds, alternating the engines, each compared at its median (bench/aggregate.py): the
  # second core's speed drifts by 10-20% over minutes on these machines.
  rm -f "$raw"/train-dpq*.json "$raw"/train-pytorch*.json
  for round in 1 2 3; do
    "$BIN/dpq-bench" train-speed --data "$data" --json > "$raw/train-dpq-$round.json"
    python3 bench/pytorch_train_speed.py --data "$data" > "$raw/train-pytorch-$round.json"
  done
fi

if ! skip grpc; then
  echo "== 5. gRPC" >&2
  scripts/install-deps.sh libprotobuf-c-dev libnghttp2-dev
  make -C clients/c build/latency >&2
  "$BIN/dpq-grpc-bench" --items 1000000 --c-client clients/c/build/latency > "$raw/grpc.json"
  echo "== 5b. memory of a server process holding 10M items of M = 8" >&2
  "$BIN/dpq" serve --port 0 --data-dir "$tmp/mem" > "$tmp/serve.out" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.out" 2>/dev/null && break; sleep 0.2; done
  address=$(sed -n 's/.*listening on //p' "$tmp/serve.out" | head -1)
  "$BIN/dpq-grpc-bench" --address "$address" --server-pid "$pid" --items 10000000 --blocks 8 --latency-queries 500 \
    --concurrency 1 --seconds 2 > "$raw/server-memory-10M-M8.json"
  kill -TERM "$pid"; wait "$pid" || true
fi

if ! skip cnn; then
  echo "== 6. convolutional trunk vs PyTorch" >&2
  bench/run-cnn-speed.sh --data "${DPQ_BENCH_DATA:-../shared/data/fashion-mnist}" > "$out/cnn-speed.md"
fi

python3 bench/aggregate.py --results "$out" --docs docs
