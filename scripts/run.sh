#!/usr/bin/env bash
# The main job: the whole product over real loopback HTTP/2. Starts `dpq serve` with a data
# directory under the working folder, creates a collection, trains it on Fashion-MNIST
# (Debian's dataset-fashion-mnist, installed when missing; generated clustered data when it
# cannot be had) with a progress bar, upserts the database, runs searches, and prints mAP at
# 8, 16, 24 and 32 bits plus a few example results.
set -euo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS
# One progress line per step, with the time since the start, so a cold run is never silent.
step() { printf '\n[%s/8, %ds] %s\n' "$1" "$((SECONDS - START))" "$2"; }
step 1 "installing missing packages, building dpq and dpq-bench (a cold debug build: about 6 minutes on 2 cores)"
scripts/install-deps.sh || echo "warning: could not install every package; continuing" >&2
# A debug build is enough: the engine target is compiled with -O in every configuration,
# and a debug build of the gRPC stack takes minutes less than a release one.
swift build --product dpq
swift build --product dpq-bench
BIN=$(swift build --show-bin-path)
WORK=${DPQ_WORK:-./dpq-work}
DATA_DIR=${DPQ_DATA_DIR:-./dpq-data}
mkdir -p "$WORK"

step 2 "preparing the data"
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

step 3 "starting dpq serve"
"$BIN/dpq" serve --port 0 --data-dir "$DATA_DIR" > "$WORK/server.out" 2> "$WORK/server.log" &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
export DPQ_ADDRESS=$(sed -n 's/^listening on //p' "$WORK/server.out" | head -1)
[ -n "$DPQ_ADDRESS" ] || { echo "the server did not start; see $WORK/server.log" >&2; exit 1; }
echo "server at $DPQ_ADDRESS, data in $DATA_DIR"

"$BIN/dpq" health
"$BIN/dpq" collections delete fashion --allow-missing > /dev/null
step 4 "creating the collection"
"$BIN/dpq" collections create fashion --dimension "$DIM" --classes 10
step 5 "training one model (M = 4 blocks of K = 256: 8 to 32-bit codes) on the labelled training split (Fashion-MNIST: 5,000 images)"
"$BIN/dpq" train fashion --file "$S/train.fvecs" --labels "$S/train_labels.ivecs"
step 6 "indexing the database split (Fashion-MNIST: 64,000 images, encoded by the server)"
"$BIN/dpq" upsert fashion --file "$S/database.fvecs" --labels "$S/database_labels.ivecs" --batch-size 2048
"$BIN/dpq" collections info fashion
step 7 "evaluating"
echo "Each row is one code length of the same model (bits = 8 per quantization block used); mAP@R is the mean"
echo "average precision of 1,000 held-out query images ranked against the whole database (relevant = same class),"
echo "P@100 the fraction of the top 100 results in the query's class."
"$BIN/dpq" eval fashion --file "$S/query.fvecs" --labels "$S/query_labels.ivecs" --precision-at 100
echo
step 8 "example searches"
for BITS in 8 32; do
  echo "example searches at $BITS bits (top 5: id, inner product, labels):"
  "$BIN/dpq" search fashion --file "$S/query.fvecs" --limit 3 --k 5 --bits "$BITS"
done
echo
echo "done in $((SECONDS - START)) s"
