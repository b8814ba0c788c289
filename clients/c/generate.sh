#!/usr/bin/env bash
# Regenerates the committed protobuf-c code under gen/ from the API contract (proto/dpq/v1) and the
# standard gRPC health protocol (Debian grpc-proto: /usr/share/grpc-proto/grpc/health/v1/health.proto).
# Needs: protobuf-c-compiler (protoc-c 1.4.1) and grpc-proto (apt-get install -y protobuf-c-compiler grpc-proto).
# Run from anywhere: ./clients/c/generate.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
proto_dir="$repo/proto"
grpc_proto_dir="${GRPC_PROTO_DIR:-/usr/share/grpc-proto}"
out="$here/gen"

command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install -y protobuf-c-compiler" >&2; exit 1; }
[ -f "$grpc_proto_dir/grpc/health/v1/health.proto" ] || { echo "health.proto not found in $grpc_proto_dir: apt-get install -y grpc-proto" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
(cd "$proto_dir" && protoc-c --proto_path=. --c_out="$out" dpq/v1/*.proto)
(cd "$grpc_proto_dir" && protoc-c --proto_path=. --c_out="$out" grpc/health/v1/health.proto)
echo "generated:"
(cd "$out" && find . -type f | sort)
