#!/usr/bin/env python3
"""Search latency on an existing collection (the one `dpq-bench generate` writes), from the Python
client over one channel: single-query searches, exhaustive and with each nprobe, plus recall@k of
each nprobe against the same server's exhaustive answer for the same queries. Prints one JSON object.

    clients/python/.venv/bin/python bench/large_search.py --address HOST:PORT --collection large \
        --dimension 32 --nprobes 8,32,128 --queries 200
"""
import argparse
import json
import statistics
import time

import numpy as np

from dpq_client import Client


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round((len(s) - 1) * p)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--collection", default="large")
    ap.add_argument("--dimension", type=int, default=32)
    ap.add_argument("--nprobes", default="8,32,128", help="comma-separated; empty for the exhaustive search only")
    ap.add_argument("--queries", type=int, default=200, help="timed single-query searches per setting")
    ap.add_argument("--exhaustive-queries", type=int, default=50,
                    help="exhaustive searches (timed, and the reference for recall); slow on large collections")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    queries = rng.standard_normal((max(args.queries, args.exhaustive_queries), args.dimension)).astype(np.float32)
    client = Client(args.address, timeout=600)
    info = client.get_collection(args.collection)
    out = {"items": int(info.item_count), "index_lists": int(info.index_lists), "k": args.k, "runs": []}

    def timed(nprobe, rows):
        times, answers = [], []
        for q in rows:
            t0 = time.perf_counter()
            hits = client.search(args.collection, q[None, :], k=args.k, nprobe=nprobe, omit_labels=True)
            times.append(time.perf_counter() - t0)
            answers.append({h.id for h in hits[0]})
        return times, answers

    timed(0, queries[:2])  # warm-up: first use of the connection and of the scan code
    times, exact = timed(0, queries[:args.exhaustive_queries])
    out["runs"].append({"nprobe": 0, "queries": len(times), "p50_ms": percentile(times, 0.5) * 1e3,
                        "p99_ms": percentile(times, 0.99) * 1e3, "mean_ms": statistics.mean(times) * 1e3, "recall_at_k": 1.0})
    for nprobe in [int(s) for s in args.nprobes.split(",") if s]:
        timed(nprobe, queries[:5])
        times, answers = timed(nprobe, queries[:args.queries])
        found = sum(len(a & e) for a, e in zip(answers, exact))
        out["runs"].append({"nprobe": nprobe, "queries": len(times), "p50_ms": percentile(times, 0.5) * 1e3,
                            "p99_ms": percentile(times, 0.99) * 1e3, "mean_ms": statistics.mean(times) * 1e3,
                            "recall_at_k": found / max(1, sum(len(e) for e in exact))})
    client.close()
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
