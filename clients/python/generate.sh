#!/usr/bin/env bash
# Regenerates the Python gRPC stubs of dpq.v1 into dpq_client/_proto/ (idempotent).
# The health-check stubs come from the grpcio-health-checking package (a runtime dependency).
# Usage: clients/python/generate.sh   (uses clients/python/.venv, created if missing)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools_version="1.85.1"   # keep in step with grpcio>= in pyproject.toml

py="${PYTHON:-$here/.venv/bin/python}"
if [ ! -x "$py" ]; then
  python3 -m venv "$here/.venv"
  py="$here/.venv/bin/python"
fi
if ! "$py" -c "import grpc_tools, importlib.metadata as m, sys; sys.exit(m.version('grpcio-tools') != '$tools_version')" 2>/dev/null; then
  "$py" -m pip install -q "grpcio-tools==$tools_version"
fi

out="$here/dpq_client/_proto"
rm -rf "$out/dpq"
mkdir -p "$out"
"$py" -m grpc_tools.protoc -I "$repo/proto" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  "$repo"/proto/dpq/v1/*.proto

# Make the generated absolute imports (`from dpq.v1 import x_pb2`) package-relative.
for f in "$out"/dpq/v1/*.py "$out"/dpq/v1/*.pyi; do
  sed -i -E 's/^from dpq\.v1 import /from dpq_client._proto.dpq.v1 import /' "$f"
done
: > "$out/dpq/__init__.py"
: > "$out/dpq/v1/__init__.py"
[ -f "$out/__init__.py" ] || echo '"""Generated protobuf/gRPC stubs of dpq.v1 (see generate.sh)."""' > "$out/__init__.py"
echo "generated $(ls "$out"/dpq/v1/*.py | wc -l) files into $out (grpcio-tools $tools_version)"
