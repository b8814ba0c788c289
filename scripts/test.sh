#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test: the Swift packages'
# tests (engine, storage, server over loopback HTTP/2 from the Swift client and the CLI), then
# the Python and C clients against the freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh libpng-dev libjpeg-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev openssl
swift build --build-tests
# A hung test must fail this run with its name, not run into CI's wall clock: the whole suite
# takes about 3 minutes on 2 cores, so 30 minutes means something waits forever. Line-buffered,
# so the log still holds every "started" line when the run is killed.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
timeout --kill-after=30 1800 stdbuf -oL -eL swift test --skip-build 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "test.sh: swift test did not finish within 30 minutes; tests started but never finished:" >&2
    scripts/unfinished-tests.py "$log" >&2 || true
  fi
  exit "$status"
fi
export DPQ_SERVER_BIN="$(swift build --show-bin-path)/dpq"
echo "== Python client"
timeout --kill-after=30 900 clients/python/run-tests.sh
echo "== C client"
timeout --kill-after=30 900 make -C clients/c test
