#!/usr/bin/env bash
# h2load (nghttp2-client) against a release `dpq serve`: Search with pre-encoded gRPC frames over
# connections x streams per connection. Installs h2load when missing, builds the release server
# (in .build-release unless DPQ_BIN names a dpq binary), then runs bench/h2load_sweep.py, which
# writes bench/results/h2load.json and docs/img/h2load.svg and prints the markdown table of
# docs/operations.md ("h2load: many streams per connection").
#
#   bench/h2load-sweep.sh                              # -c 1,8,64 x -m 1,10,100,1000, raised server limits
#   bench/h2load-sweep.sh --server-limits default --out /tmp/h2load-default.json --svg ''
#
# Arguments are passed to h2load_sweep.py (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v h2load >/dev/null || scripts/install-deps.sh nghttp2-client
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
if [ -z "${DPQ_BIN:-}" ]; then
  SCRATCH=${DPQ_SCRATCH:-.build-release}
  swift build -c release --scratch-path "$SCRATCH" --product dpq
  DPQ_BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/dpq"
fi
exec python3 bench/h2load_sweep.py --dpq "$DPQ_BIN" "$@"
