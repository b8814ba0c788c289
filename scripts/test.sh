#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test: the Swift packages'
# tests (engine, storage, server over loopback HTTP/2 from the Swift client and the CLI), then
# the Python and C clients against the freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh libpng-dev libjpeg-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev openssl gdb
swift build --build-tests
# A hung test must fail this run with its name and where it waits, not run into CI's wall clock:
# the whole suite takes 1 to 3 minutes on 2 cores, so 15 minutes means something waits forever.
# Then gdb records every thread's stack before the run is killed. Line-buffered, so the log
# still holds every "started" line when the run is killed.
log="$(mktemp)"; stacks="$(mktemp)"
watchdog=""
trap 'rm -f "$log" "$stacks"; [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null; true' EXIT
( sleep 900 < /dev/null > /dev/null 2>&1 && scripts/hung-test-stacks.sh > "$stacks" 2>&1 ) &
watchdog=$!
status=0
timeout --kill-after=30 1000 stdbuf -oL -eL swift test --skip-build 2>&1 | tee "$log" || status=$?
{ pkill -P "$watchdog"; kill "$watchdog"; } 2>/dev/null || true; watchdog=""
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "test.sh: swift test did not finish within 15 minutes; where its threads waited:" >&2
    cat "$stacks" >&2
    echo "test.sh: tests started but never finished:" >&2
    scripts/unfinished-tests.py "$log" >&2 || true
    echo "test.sh: the pool threads' stacks again:" >&2
    sed -n '/^== threads of .* cooperative pool/,$p' "$stacks" | tail -120 >&2
  fi
  exit "$status"
fi
export DPQ_SERVER_BIN="$(swift build --show-bin-path)/dpq"
echo "== Python client"
timeout --kill-after=30 900 clients/python/run-tests.sh
echo "== C client"
timeout --kill-after=30 900 make -C clients/c test
