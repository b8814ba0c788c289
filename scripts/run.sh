#!/usr/bin/env bash
# The main job: train one DPQ model on Fashion-MNIST (Debian's dataset-fashion-mnist,
# installed when missing; generated clustered data where it cannot be had) and print mAP at
# 8, 16, 24 and 32 bits against the two-step ablation and four fixed-length models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || echo "warning: could not install every package; continuing" >&2
swift build -c release --product dpq-bench
FMNIST=/usr/share/datasets/fashion-mnist
if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  exec .build/release/dpq-bench quality --idx "$FMNIST" --seeds "${SEEDS:-1}" --examples 3 "$@"
else
  echo "Fashion-MNIST not available: using generated clustered data" >&2
  exec .build/release/dpq-bench quality --synthetic --seeds "${SEEDS:-1}" --examples 3 "$@"
fi
