#!/usr/bin/env bash
# IVF benchmark (issue 13): dpq-bench ivf and bench/faiss_ivf.py on the same generated data and
# codes, same thread count; raw JSON in bench/results/raw/ivf-{dpq,faiss}-n<N>.json.
#   bench/run-ivf.sh [N ...]        (default 1000000)
# Environment: IVF_NLISTS (k-means coarse sizes, default 1024), IVF_NPROBES, IVF_THREADS (0 = all).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dpq-bench >&2
BIN="$(swift build -c release --show-bin-path)"
python3 -c "import faiss, numpy" 2>/dev/null || python3 -m pip install --quiet faiss-cpu numpy
raw=bench/results/raw
mkdir -p "$raw"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nlists=${IVF_NLISTS:-1024}
nprobes=${IVF_NPROBES:-1,2,4,8,16,32,64,128,256}
threads=${IVF_THREADS:-0}
for n in "${@:-1000000}"; do
  echo "== IVF, N = $n" >&2
  "$BIN/dpq-bench" ivf --count "$n" --nlists "$nlists" --nprobes "$nprobes" --threads "$threads" --fast-scan \
    --data "$tmp/ivf-$n" > "$raw/ivf-dpq-n$n.json"
  python3 bench/faiss_ivf.py --data "$tmp/ivf-$n" --pq-nlists "$nlists" --nprobes "$nprobes" --threads "$threads" \
    > "$raw/ivf-faiss-n$n.json"
  rm -rf "$tmp/ivf-$n"
done
