#!/usr/bin/env bash
# Installs what building and testing DPQ needs on a fresh Debian bookworm machine, only when
# something is missing: OpenBLAS for the engine, libpng and libjpeg-turbo for the CLI's image
# input (ImageFiles), PostgreSQL 15 for the tests of the PostgreSQL store (they run its initdb and
# postgres binaries in a temporary folder; the package's own cluster is not used), numpy for the
# tests that cross-check file formats with Python, Fashion-MNIST for the main job.
set -euo pipefail
need=()
for pkg in libopenblas-dev libpng-dev libjpeg-dev postgresql-15 dataset-fashion-mnist "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
