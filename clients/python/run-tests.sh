#!/usr/bin/env bash
# CI entry point of the Python client: a fresh-ish venv in clients/python/.venv, the package with its
# test extra, then pytest against the real server binary (DPQ_SERVER_BIN, default
# <repo>/.build/debug/dpq). Exits with pytest's code; "no tests collected" (pytest exit 5) fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q "$here[test]"
# .venv/bin/pytest (not python -m pytest) so the installed package is tested, not the source tree.
set +e
.venv/bin/pytest -p no:cacheprovider "$@" tests
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests — treating as failure" >&2
  exit 1
fi
exit "$rc"
