#!/usr/bin/env bash
# CI entry point of the Python client: a fresh-ish venv in clients/python/.venv, the package with its
# test extra (pytest, pytest-asyncio, mypy and the grpc/protobuf type stubs, all from PyPI), then
#   1. mypy --strict on dpq_client (configuration in pyproject.toml [tool.mypy]),
#   2. pytest against the real server binary (DPQ_SERVER_BIN, default <repo>/.build/debug/dpq).
# Both always run; the exit code is non-zero if either failed. "No tests collected" (pytest exit 5)
# fails. Extra arguments go to pytest; DPQ_SKIP_MYPY=1 skips step 1 (local iteration only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q "$here[test]"
set +e
mypy_rc=0
if [ "${DPQ_SKIP_MYPY:-0}" != "1" ]; then
  echo "run-tests.sh: mypy (strict) on dpq_client" >&2
  .venv/bin/mypy --cache-dir=/dev/null
  mypy_rc=$?
fi
# .venv/bin/pytest (not python -m pytest) so the installed package is tested, not the source tree.
.venv/bin/pytest -p no:cacheprovider "$@" tests
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "run-tests.sh: pytest collected no tests — treating as failure" >&2
  rc=1
fi
if [ "$mypy_rc" -ne 0 ]; then
  echo "run-tests.sh: mypy failed (exit $mypy_rc)" >&2
  [ "$rc" -ne 0 ] || rc=$mypy_rc
fi
exit "$rc"
