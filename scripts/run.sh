#!/usr/bin/env bash
# The main job: the whole product over real loopback HTTP/2. Starts `dpq serve` with a data
# directory under the working folder, creates a collection, trains it on Fashion-MNIST
# (Debian's dataset-fashion-mnist, installed when missing; generated clustered data when it
# cannot be had) with a progress bar, upserts the database, runs searches, and prints mAP at
# 8, 16, 24 and 32 bits plus a few example results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || echo "warning: could not install every package; continuing" >&2
# A debug build is enough: the engine target is compiled with -O in every configuration,
# and a debug build of the gRPC stack takes minutes less than a release one.
swift build --product dpq
swift build --product dpq-bench
BIN=$(swift build --show-bin-path)
WORK=${DPQ_WORK:-./dpq-work}
DATA_DIR=${DPQ_DATA_DIR:-./dpq-data}
mkdir -p "$WORK"

FMNIST=/usr/share/datasets/fashion-mnist
if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
  "$BIN/dpq-bench" prepare --idx "$FMNIST" --out "$WORK/splits"
  DIM=784
else
  echo "Fashion-MNIST not available: using generated clustered data" >&2
  "$BIN/dpq-bench" prepare --out "$WORK/splits"
  DIM=64
fi
S="$WORK/splits"

"$BIN/dpq" serve --port 0 --data-dir "$DATA_DIR" > "$WORK/server.out" 2> "$WORK/server.log" &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
export DPQ_ADDRESS=$(sed -n 's/^listening on //p' "$WORK/server.out" | head -1)
[ -n "$DPQ_ADDRESS" ] || { echo "the server did not start; see $WORK/server.log" >&2; exit 1; }
echo "server at $DPQ_ADDRESS, data in $DATA_DIR"

"$BIN/dpq" health
"$BIN/dpq" collections delete fashion --allow-missing > /dev/null
"$BIN/dpq" collections create fashion --dimension "$DIM" --classes 10
"$BIN/dpq" train fashion --file "$S/train.fvecs" --labels "$S/train_labels.ivecs"
"$BIN/dpq" upsert fashion --file "$S/database.fvecs" --labels "$S/database_labels.ivecs" --batch-size 2048
"$BIN/dpq" collections info fashion
echo
echo "mAP over the whole database for 1,000 labelled queries, one model at every code length:"
"$BIN/dpq" eval fashion --file "$S/query.fvecs" --labels "$S/query_labels.ivecs" --precision-at 100
echo
for BITS in 8 32; do
  echo "example searches at $BITS bits (top 5: id, inner product, labels):"
  "$BIN/dpq" search fashion --file "$S/query.fvecs" --limit 3 --k 5 --bits "$BITS"
done
