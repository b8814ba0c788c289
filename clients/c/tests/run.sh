#!/usr/bin/env bash
# End-to-end test of the DPQ C client (what `make test` runs).
#
# Starts the real server on an ephemeral port with a temporary data dir, creates and trains a small
# collection with the `dpq` CLI on generated clustered data (4 classes, 16 dims), upserts items, asks
# the Swift CLI for reference search results (`dpq search --json`), then runs the C test program,
# which compares its own results with them and checks health, Encode, errors and deadlines; then the
# streaming test (export/import, upsert stream, training upload and watch, concurrent calls).
#
# Environment:
#   DPQ_SERVER_BIN      server binary (default: <repo>/.build/debug/dpq)
#   DPQ_CLI_BIN         CLI binary (default: DPQ_SERVER_BIN; it is the same program)
#   DPQ_C_TEST_BIN      the C test program (default: clients/c/build/test_client)
#   DPQ_C_STREAMS_BIN   the streaming-RPC test (default: clients/c/build/test_streams), run after the client test
#   DPQ_C_MANY_BIN      1,000 concurrent calls on one connection (default: clients/c/build/test_many), run next
#   DPQ_C_MANY_CALLS    how many (default 1000)
#   DPQ_C_PIXELS_BIN    8-bit input (uint8_values) from the C client (default: clients/c/build/test_pixels)
#   DPQ_C_ADDRESSES_BIN several server addresses: spreading, failover, retries (default: clients/c/build/test_addresses)
#   DPQ_C_HOSTILE_BIN   the malformed-framing test (default: clients/c/build/test_hostile), run after the client test
#   DPQ_C_TEST_WRAPPER  command prefix for the test program, e.g. "valgrind --leak-check=full --error-exitcode=1"
#   DPQ_TEST_KEEP=1     keep the temporary directory (server log, data, expected files)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cdir="$(cd "$here/.." && pwd)"
repo="$(cd "$cdir/../.." && pwd)"
server_bin="${DPQ_SERVER_BIN:-$repo/.build/debug/dpq}"
cli_bin="${DPQ_CLI_BIN:-$server_bin}"
test_bin="${DPQ_C_TEST_BIN:-$cdir/build/test_client}"
streams_bin="${DPQ_C_STREAMS_BIN:-$cdir/build/test_streams}"
many_bin="${DPQ_C_MANY_BIN:-$cdir/build/test_many}"
pixels_bin="${DPQ_C_PIXELS_BIN:-$cdir/build/test_pixels}"
addresses_bin="${DPQ_C_ADDRESSES_BIN:-$cdir/build/test_addresses}"
hostile_bin="${DPQ_C_HOSTILE_BIN:-$cdir/build/test_hostile}"
wrapper="${DPQ_C_TEST_WRAPPER:-}"
collection=demo

for b in "$server_bin" "$cli_bin" "$test_bin" "$streams_bin" "$many_bin" "$pixels_bin" "$addresses_bin" "$hostile_bin"; do
  [ -x "$b" ] || { echo "run.sh: $b not found or not executable (build the server with swift build, the test with make)" >&2; exit 1; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dpq-c-test.XXXXXX")"
server_pid=""
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "run.sh: server did not stop on SIGTERM within 10 s; killing it" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/server.err" ]; then
    echo "--- server stderr (last 20 lines) ---" >&2
    tail -n 20 "$tmp/server.err" >&2 || true
  fi
  if [ "${DPQ_TEST_KEEP:-0}" = 1 ]; then echo "run.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Server on an ephemeral port.
mkdir -p "$tmp/data"
"$server_bin" serve --host 127.0.0.1 --port 0 --data-dir "$tmp/data" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*$/\1/p' "$tmp/server.out" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: server exited early" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: server did not report its port within 60 s" >&2; exit 1; }
addr="127.0.0.1:$port"
echo "server: pid $server_pid, $addr"

# 2. Data, collection, training, items (with the Swift CLI).
"$test_bin" gen "$tmp"
"$cli_bin" collections create "$collection" --dimension 16 --classes 4 --blocks 3 --codebook-size 16 \
  --feature-dimension 8 --hidden 32 --address "$addr" >"$tmp/create.out"
"$cli_bin" train "$collection" --epochs 3 --pretrain-epochs 2 --batch-size 64 --address "$addr" \
  <"$tmp/train.jsonl" >"$tmp/train.out" 2>"$tmp/train.err" || { cat "$tmp/train.out" "$tmp/train.err" >&2; exit 1; }
"$cli_bin" upsert "$collection" --address "$addr" <"$tmp/items.jsonl" >"$tmp/upsert.out" 2>"$tmp/upsert.err" \
  || { cat "$tmp/upsert.out" "$tmp/upsert.err" >&2; exit 1; }
cat "$tmp/create.out" "$tmp/train.out" "$tmp/upsert.out"

# 3. Reference results from the Swift client, for every query at two code lengths.
vector_args=()
while IFS= read -r line; do
  [ -n "$line" ] && vector_args+=("--vector=$line")
done <"$tmp/queries.txt"
expected_args=()
for bits in 8 12; do
  "$cli_bin" search "$collection" "${vector_args[@]}" --k 5 --bits "$bits" --json --address "$addr" \
    >"$tmp/expected_b$bits.json"
  expected_args+=(--expected "$bits=$tmp/expected_b$bits.json")
done

# 4. The C test program.
echo "running: ${wrapper:+$wrapper }$test_bin"
set +e
$wrapper "$test_bin" run --host 127.0.0.1 --port "$port" --collection "$collection" \
  --queries "$tmp/queries.txt" --k 5 "${expected_args[@]}"
rc=$?
set -e
[ "$rc" -eq 0 ] || exit "$rc"

# 5. Streaming RPCs (on copies of the collection) and concurrent calls.
echo "running: ${wrapper:+$wrapper }$streams_bin"
$wrapper "$streams_bin" --host 127.0.0.1 --port "$port" --collection "$collection" \
  --items "$tmp/items.jsonl" --queries "$tmp/queries.txt"

# 6. Many concurrent calls on one connection (issue 17): each ends OK or RESOURCE_EXHAUSTED, the server stays up.
echo "running: ${wrapper:+$wrapper }$many_bin"
$wrapper "$many_bin" --host 127.0.0.1 --port "$port" --collection "$collection" --queries "$tmp/queries.txt" \
  --calls "${DPQ_C_MANY_CALLS:-1000}"
kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: the server died during the concurrent calls" >&2; exit 1; }

# 7. 8-bit input: bytes mean the same values as floats.
echo "running: ${wrapper:+$wrapper }$pixels_bin"
$wrapper "$pixels_bin" --host 127.0.0.1 --port "$port" --collection "$collection"

# 7b. A client of several addresses: spreading, failover, retries of the calls that may be repeated.
echo "running: ${wrapper:+$wrapper }$addresses_bin"
$wrapper "$addresses_bin" --host 127.0.0.1 --port "$port" --collection "$collection"

# 8. Malformed gRPC framing over raw HTTP/2; the server must keep answering (and stay alive).
echo "running: ${wrapper:+$wrapper }$hostile_bin"
$wrapper "$hostile_bin" --host 127.0.0.1 --port "$port"
kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: the server died during the hostile test" >&2; exit 1; }
"$cli_bin" health --address "$addr" >/dev/null || { echo "run.sh: health check failed after the hostile test" >&2; exit 1; }
