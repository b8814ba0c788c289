#!/usr/bin/env bash
# Prints where a hung `swift test` process waits: every thread's stack (gdb, demangled), then
# the threads of Swift's cooperative pool on their own at the end, where a CI log's tail shows
# them. A test that blocks a pool thread (a sleep, a socket read, a wait for a child process)
# takes one of the two threads a 2-core machine has; two of them stop every async test.
set -uo pipefail
demangle() { if command -v swift-demangle > /dev/null; then swift-demangle --simplified; else swift demangle --simplified 2>/dev/null || cat; fi; }
for pid in $(pgrep -f 'dpqPackageTests.xctest'); do
  out="$(mktemp)"
  timeout 300 gdb -p "$pid" -batch -ex "set pagination off" -ex "thread apply all bt 40" > "$out" 2>&1
  demangle < "$out" > "$out.d" || cp "$out" "$out.d"
  echo "== all threads of $pid"
  grep -v '^\[New LWP\|^\[Thread debugging' "$out.d"
  echo "== threads of $pid that are running Swift concurrency jobs (the cooperative pool)"
  python3 - "$out.d" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
blocks = re.split(r"\n(?=Thread \d+ )", text)
pool = [b for b in blocks if "swift_job_run" in b or "runJobInEstablishedExecutorContext" in b]
for b in pool:
    lines = b.splitlines()
    print("\n".join(l[:220] for l in lines[:18]))
    print()
print(f"{len(pool)} pool thread(s) busy")
PY
  rm -f "$out" "$out.d"
done
