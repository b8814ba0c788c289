#!/usr/bin/env python3
"""Names the Swift Testing tests a `swift test` log shows as started but never passed or failed."""
import re
import sys

started, finished = [], set()
with open(sys.argv[1], errors="replace") as log:
    for line in log:
        m = re.search(r"Test (\S+\(.*?\)) started\.", line)
        if m:
            started.append(m.group(1))
            continue
        m = re.search(r"Test (\S+\(.*?\))( with \d+ test cases?)? (passed|failed|skipped)", line)
        if m:
            finished.add(m.group(1))
unfinished = [name for name in started if name not in finished]
for name in unfinished:
    print("  " + name)
if not unfinished:
    print("  (none found in the log)")
