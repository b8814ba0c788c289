#!/usr/bin/env python3
"""kill -9 under writes on a large collection (issue 13's documented run): starts `dpq serve` on a data
directory holding a collection (the one `dpq-bench generate` writes; use a copy, the run adds items to it),
streams codes into it from the Python client in batches, kills the server with SIGKILL after --seconds of
loading while batches are in flight, starts it again and checks that every acknowledged item is there and
that probing every list gives the exhaustive answer. Prints one JSON object: items acknowledged, items stored
after the restart, missing items (must be 0), seconds to listening for both starts, the restarted server's
resident memory, and the list check.

    cp -a DATA/data-100000000 /tmp/kill-copy
    clients/python/.venv/bin/python bench/large_kill.py --dpq .build-release/release/dpq \
        --data-dir /tmp/kill-copy --collection large --seconds 30 --batch 10000
"""
import argparse
import json
import os
import signal
import subprocess
import threading
import time

import numpy as np

from dpq_client import Client, DPQError


def start(dpq, data_dir, log):
    t0 = time.time()
    p = subprocess.Popen([dpq, "serve", "--port", "0", "--data-dir", data_dir, "--log-level", "warning"],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        raise SystemExit(f"dpq serve did not start: {line!r} (see {log.name})")
    return p, line.split("listening on ", 1)[1].strip(), time.time() - t0


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dpq", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--collection", default="large")
    ap.add_argument("--seconds", type=float, default=30, help="loading before the kill")
    ap.add_argument("--batch", type=int, default=10000)
    ap.add_argument("--first-id", type=int, default=10**12, help="ids of the loaded items start here")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    log = open(os.path.join(os.path.dirname(os.path.abspath(args.data_dir)), "large-kill.log"), "a")
    out = {"batch": args.batch, "seconds": args.seconds}

    p, address, out["start_seconds"] = start(args.dpq, args.data_dir, log)
    client = Client(address, timeout=600)
    info = client.get_collection(args.collection)
    out["items_before"] = before = int(info.item_count)
    sha = info.raw.model.sha256
    m, classes = int(info.blocks), max(1, int(info.num_classes))
    rng = np.random.default_rng(args.seed)
    acked = []  # (first id, count) of every acknowledged batch
    failure = []

    def load():
        next_id = args.first_id
        while True:
            ids = list(range(next_id, next_id + args.batch))
            codes = rng.integers(0, 256, size=(args.batch, m), dtype=np.uint8)
            labels = [[int(c)] for c in rng.integers(0, classes, size=args.batch)]
            try:
                client.upsert_codes(args.collection, ids, codes, sha, labels)
            except DPQError as e:
                failure.append(str(e.code))
                return
            acked.append((next_id, args.batch))
            next_id += args.batch

    loader = threading.Thread(target=load)
    t0 = time.time()
    loader.start()
    time.sleep(args.seconds)
    os.kill(p.pid, signal.SIGKILL)
    loader.join()
    p.wait()
    loaded_seconds = time.time() - t0
    n_acked = sum(c for _, c in acked)
    out.update({"acknowledged": n_acked, "load_items_per_second": n_acked / loaded_seconds,
                "in_flight_error": failure[0] if failure else None})
    client.close()

    p, address, out["restart_seconds"] = start(args.dpq, args.data_dir, log)
    out["restart_memory"] = memory(p.pid)
    client = Client(address, timeout=600)
    info = client.get_collection(args.collection)
    out["items_after"] = int(info.item_count)
    missing = 0
    for first, count in acked:
        missing += len(client.get_items(args.collection, list(range(first, first + count))).missing_ids)
    out["missing"] = missing
    nlist = int(info.index_lists)
    queries = rng.standard_normal((3, int(info.input_dimension))).astype(np.float32)
    same = True
    for q in queries:
        exhaustive = client.search(args.collection, q[None, :], k=10, omit_labels=True)[0]
        probed = client.search(args.collection, q[None, :], k=10, nprobe=nlist, omit_labels=True)[0]
        same &= [h.id for h in exhaustive] == [h.id for h in probed]
    out.update({"index_lists": nlist, "all_lists_equal_exhaustive": bool(same)})
    client.close()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=600)
    print(json.dumps(out, indent=1))
    if missing or not same or out["items_after"] < before + n_acked:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
