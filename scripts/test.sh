#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test: the Swift packages'
# tests (engine, storage, server over loopback HTTP/2 from the Swift client and the CLI), then
# the Python and C clients against the freshly built server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev openssl
swift build --build-tests
swift test --skip-build
export DPQ_SERVER_BIN="$(swift build --show-bin-path)/dpq"
echo "== Python client"
clients/python/run-tests.sh
echo "== C client"
make -C clients/c test
