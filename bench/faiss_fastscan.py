#!/usr/bin/env python3
"""faiss side of `dpq-bench fast-scan`: IndexAdditiveQuantizerFastScan on DPQ's own 4-bit codes.

Reads fs-codebooks-b<bits>.npy ((M*16) x D float32), fs-codes-b<bits>.npy (N x M uint8, values < 16)
and queries.npy written by `dpq-bench fast-scan --data DIR`; builds an IndexResidualQuantizer
(D, M, 4 bits, inner product, ST_LUT_nonorm) holding those codebooks and codes, converts it to
IndexAdditiveQuantizerFastScan (bbs 32: faiss's packed layout and SIMD kernels) and times exhaustive
top-k search for every batch size and thread count, like dpq-bench (warm-up, median). Prints JSON,
with the top-k agreement against DPQ's exact and byte-sum (no re-rank) answers.
"""
import argparse, json, os, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--bits", default="32,64")
p.add_argument("--k", type=int, default=10)
p.add_argument("--batches", default="1,16,256")
p.add_argument("--threads", default="1,0")
p.add_argument("--repetitions", type=int, default=5)
p.add_argument("--min-seconds", type=float, default=1.0)
p.add_argument("--max-repetitions", type=int, default=200)
a = p.parse_args()

cores = os.cpu_count()
threads = [cores if int(t) == 0 else int(t) for t in a.threads.split(",")]
batches = [int(b) for b in a.batches.split(",")]
queries = np.ascontiguousarray(np.load(os.path.join(a.data, "queries.npy")), dtype="float32")


def timed(fn):
    fn(True)
    times, total = [], 0.0
    while len(times) < a.max_repetitions and (len(times) < a.repetitions or total < a.min_seconds):
        t0 = time.perf_counter()
        fn(False)
        times.append(time.perf_counter() - t0)
        total += times[-1]
    return float(np.median(times)), len(times)


result = {"engine": "faiss", "faiss_version": faiss.__version__, "k": a.k, "cores": cores, "runs": []}
for bits in [int(b) for b in a.bits.split(",")]:
    cb = np.ascontiguousarray(np.load(os.path.join(a.data, "fs-codebooks-b%d.npy" % bits)), dtype="float32")
    codes = np.load(os.path.join(a.data, "fs-codes-b%d.npy" % bits))
    n, m = codes.shape
    d = cb.shape[1]
    # faiss packs 4-bit codes two per byte, code 2j in the low nibble of byte j.
    padded = np.zeros((n, m + (m % 2)), dtype=np.uint8)
    padded[:, :m] = codes
    packed = np.ascontiguousarray(padded[:, 0::2] | (padded[:, 1::2] << 4))
    rq = faiss.IndexResidualQuantizer(d, m, 4, faiss.METRIC_INNER_PRODUCT, faiss.AdditiveQuantizer.ST_LUT_nonorm)
    assert rq.code_size == packed.shape[1], (rq.code_size, packed.shape)
    faiss.copy_array_to_vector(cb.ravel(), rq.rq.codebooks)
    rq.rq.is_trained = True
    rq.is_trained = True
    rq.add_sa_codes(packed)
    index = faiss.IndexAdditiveQuantizerFastScan(rq, 32)
    # The fast-scan index keeps a pointer to rq's quantizer: rq must outlive it.
    cells = []
    for t in threads:
        faiss.omp_set_num_threads(t)
        for b in batches:
            q = queries[:b]
            med, reps = timed(lambda warm: index.search(queries[:min(b, 16)] if warm else q, a.k))
            cells.append({"method": "faiss_fastscan", "batch": b, "threads": t, "repetitions": reps,
                          "seconds_per_query": med / b, "ns_per_code": med / b / n * 1e9})
    faiss.omp_set_num_threads(cores)
    _, I = index.search(queries, a.k)
    run = {"bits": bits, "M16": m, "N": n, "cells": cells}
    for name in ("exact", "none"):
        path = os.path.join(a.data, "dpq-fs-%s-b%d.npy" % (name, bits))
        if os.path.exists(path):
            dpq = np.load(path)
            run["top_k_agreement_with_dpq_" + name] = float(np.mean(
                [len(set(x) & set(y)) / a.k for x, y in zip(I.tolist(), dpq.tolist())]))
    result["runs"].append(run)
    del index, rq
print(json.dumps(result, indent=1))
