#!/usr/bin/env bash
# Issue 14's load run: the same dpq-load mix against one `dpq serve` on SQLite, then against 1, 2 and 3
# `dpq serve` nodes sharing one PostgreSQL store (dpq-load spreads its connections over the nodes with
# --address a,b,c, round robin). PostgreSQL 15 runs from a throwaway initdb in a temporary folder with its
# default durability (fsync on), on a free port; as root its binaries run as the `postgres` user.
# Writes bench/results/raw/nodes-load-*.json and prints a markdown table.
#   bench/run-nodes-load.sh [--seconds S] [--items N] [--clients C] [--search-fraction F] [--label L]
#   (F: share of searches in the mix, default 0.8, the rest 16-item upserts; L names the result files)
# Env: DPQ_SCRATCH (build folder, default .build). About 3 minutes plus the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=15 items=20000 clients=16 fraction=0.8 label=mixed
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --items) items=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --search-fraction) fraction=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--items N] [--clients C] [--search-fraction F] [--label L]" >&2; exit 2 ;;
  esac
done
scratch=${DPQ_SCRATCH:-.build}
for p in dpq dpq-load; do swift build -c release --scratch-path "$scratch" --product "$p" >&2; done
BIN="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/postgres" ] || { scripts/install-deps.sh postgresql-15; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

tmp=$(mktemp -d /tmp/dpq-nodes-XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -d "$tmp/pg" ] && as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/pg" && [ "$(id -u)" = 0 ] && chown postgres "$tmp" "$tmp/pg"
as_pg "$pgbin/initdb" -D "$tmp/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
pgport=$(free_port)
as_pg "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-p $pgport -k $tmp -h 127.0.0.1 -c max_connections=200" start >/dev/null

raw=bench/results/raw
mkdir -p "$raw"
serve() {  # serve NAME STORE-ARGS...: starts a node (not in a subshell: its pid must reach pids), sets $addr
  local name=$1; shift
  local port; port=$(free_port)
  "$BIN/dpq" serve --port "$port" "$@" > "$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    "$BIN/dpq" health --address "127.0.0.1:$port" >/dev/null 2>&1 && { addr="127.0.0.1:$port"; return; }
    sleep 0.1
  done
  echo "node $name did not start: $(tail -5 "$tmp/$name.log")" >&2; exit 1
}
run() {  # run LABEL ADDRESSES: one dpq-load round
  echo "== $1" >&2
  "$BIN/dpq-load" --address "$2" --clients "$clients" --connections "$clients" --items "$items" \
    --seconds "$seconds" --rounds 1 --train-epochs 0 --search-fraction "$fraction" > "$raw/nodes-load-$label-$1.json"
}
stop_nodes() {  # SIGTERM, then SIGKILL for any node still there after 40 s (the drain is 30 s)
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 400); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  pids=()
}

run_store() {  # run_store N: N nodes on a fresh database of their own
  as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -qc "CREATE DATABASE dpq$1" postgres
  local addrs=()
  for i in $(seq 1 "$1"); do serve "pg$i" --store "postgres://postgres@127.0.0.1:$pgport/dpq$1"; addrs+=("$addr"); done
  run "postgres-$1" "$(IFS=,; echo "${addrs[*]}")"
  stop_nodes
}

serve sqlite --data-dir "$tmp/sqlite"
run sqlite-1 "$addr"
stop_nodes
for n in 1 2 3; do run_store "$n"; done

python3 - "$raw" "$label" <<'EOF'
import json, os, sys
raw, label_set = sys.argv[1], sys.argv[2]
print("| store, nodes | RPCs/s | search /s | search p50 / p99 ms | upsert /s | upsert p50 / p99 ms | errors |")
print("|---|---|---|---|---|---|---|")
for label in ["sqlite-1", "postgres-1", "postgres-2", "postgres-3"]:
    d = json.load(open(os.path.join(raw, f"nodes-load-{label_set}-{label}.json")))
    r = d["rounds"][0]
    none = {"per_second": 0, "p50_ms": 0, "p99_ms": 0}
    s, u = r["kinds"].get("search", none), r["kinds"].get("upsert", none)
    print("| %s | %.0f | %.0f | %.2f / %.2f | %.0f | %.2f / %.2f | %d |" % (
        label.replace("-", ", "), r["rpc_per_second"], s["per_second"], s["p50_ms"], s["p99_ms"],
        u["per_second"], u["p50_ms"], u["p99_ms"], r["errors"]))
EOF
