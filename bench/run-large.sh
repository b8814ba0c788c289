#!/bin/bash
# What a large collection costs one `dpq serve` node (issue 13), at each size in --items:
#   load       `dpq-bench generate` writes N synthetic items (M = 8 codes, number ids, one label)
#              through the storage layer: items/s and bytes on disk;
#   start      seconds from `dpq serve` starting to listening (the first start trains the k-means
#              lists; a restart reuses their centroids), and the process's resident memory then
#              (VmRSS, bytes per item) and at its peak (VmHWM);
#   search     single-query latency from the Python client, exhaustive and per nprobe, with
#              recall@10 against the exhaustive answer (bench/large_search.py);
#   restart    the same server stopped with kill -9 and started again: seconds to listening.
# Prints one JSON object per size on stdout.
#
#   bench/run-large.sh [--items 1000000,10000000] [--nlist 0] [--nprobes 8,32,128] [--keep DIR [--reuse]]
#
# --reuse: with --keep, a size whose data directory exists is not generated again (its first start
# is then a restart: the k-means lists and the list cache of an earlier run are there).
# Release binaries from $DPQ_SCRATCH (default .build-release; built when missing). Needs about
# 80 bytes of disk per item in the temporary folder (or --keep DIR, which is also left in place).
set -euo pipefail
cd "$(dirname "$0")/.."
items=1000000,10000000
nlist=0
nprobes=8,32,128
keep=""
reuse=""
while [ $# -gt 0 ]; do
  case "$1" in
    --items) items=$2; shift 2 ;;
    --nlist) nlist=$2; shift 2 ;;
    --nprobes) nprobes=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    *) echo "run-large.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
scratch=${DPQ_SCRATCH:-.build-release}
BIN=$scratch/release
if [ ! -x "$BIN/dpq" ] || [ ! -x "$BIN/dpq-bench" ]; then
  swift build -c release --scratch-path "$scratch" --product dpq >&2
  swift build -c release --scratch-path "$scratch" --product dpq-bench >&2
fi
# The Python client in its own venv (as clients/python/run-tests.sh makes it), with numpy.
py=clients/python/.venv/bin/python
if ! [ -x "$py" ] || ! "$py" -c "import dpq_client, numpy" 2>/dev/null; then
  python3 -m venv clients/python/.venv
  "$py" -m pip install -q ./clients/python numpy >&2
fi
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; [ -z "$keep" ] && rm -rf "$work"; }
trap cleanup EXIT

# Starts the server on $1, sets pid, address and ready (seconds to listening).
start() {
  : > "$work/serve.out"
  local t0; t0=$(date +%s.%N)
  "$BIN/dpq" serve --port 0 --data-dir "$1" > "$work/serve.out" 2> "$work/serve.err" &
  pid=$!
  until grep -q "listening on" "$work/serve.out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  ready=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
  address=$(sed -n 's/.*listening on //p' "$work/serve.out" | head -1)
}
memory() { awk -v k="$1:" '$1 == k { printf "%.0f\n", $2 * 1024 }' "/proc/$pid/status"; }

for n in ${items//,/ }; do
  dir="$work/data-$n"
  if [ -n "$reuse" ] && [ -f "$dir/generate.json" ]; then
    gen=$(cat "$dir/generate.json")
  else
    rm -rf "$dir"
    echo "== $n items: generating" >&2
    gen=$("$BIN/dpq-bench" generate --data-dir "$dir" --items "$n" --blocks 8 --nlist "$nlist" --json)
    echo "$gen" > "$dir/generate.json"
  fi
  echo "== $n items: first start" >&2
  start "$dir"
  first=$ready
  rss=$(memory VmRSS); hwm=$(memory VmHWM)
  echo "== $n items: searches" >&2
  search=$("$py" bench/large_search.py --address "$address" --collection large \
    --nprobes "$nprobes" --exhaustive-queries $(( n >= 50000000 ? 20 : 50 )))
  echo "== $n items: kill -9 and restart" >&2
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  start "$dir"
  restart=$ready
  rss2=$(memory VmRSS); hwm2=$(memory VmHWM)
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  pid=""
  python3 - "$n" "$first" "$restart" "$rss" "$hwm" "$rss2" "$hwm2" <<EOF
import json, sys
n, first, restart, rss, hwm, rss2, hwm2 = sys.argv[1:]
n = int(n)
print(json.dumps({"items": n, "generate": json.loads('''$gen'''), "first_start_seconds": float(first),
                  "restart_seconds": float(restart), "rss_bytes": int(rss), "peak_rss_bytes": int(hwm),
                  "rss_bytes_per_item": int(rss) / n, "restart_rss_bytes": int(rss2), "restart_peak_rss_bytes": int(hwm2),
                  "search": json.loads('''$search''')}, sort_keys=True))
EOF
  [ -z "$keep" ] && rm -rf "$dir"
done
