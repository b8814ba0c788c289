#!/usr/bin/env python3
"""faiss side of `dpq-bench encode`: ResidualQuantizer encoding with beam size 1.

Reads features.npy (N x D float32) and codebooks-m<M>.npy ((M*K) x D) written by
`dpq-bench encode --data DIR`, sets them as a trained faiss ResidualQuantizer(D, M, 8) with
max_beam_size = 1 (greedy, as DPQ encodes) and times compute_codes on all N features for each
thread count (median of repetitions). Reports vectors per second and the share of codes equal to
DPQ's (dpq-codes-m<M>.npy). Prints JSON.
"""
import argparse, json, os, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--blocks", default="4,8")
p.add_argument("--threads", default="1,0")
p.add_argument("--repetitions", type=int, default=3)
p.add_argument("--raw-dimension", type=int, default=784,
               help="also time faiss RQ on random vectors of this dimension (quantizing raw inputs, as a user "
                    "without DPQ's network would); 0 skips")
a = p.parse_args()

cores = os.cpu_count()
x = np.ascontiguousarray(np.load(os.path.join(a.data, "features.npy")), dtype="float32")
n, d = x.shape
cells = []
def time_rq(rq, x, m, label, dpq_path=None):
    agreement = None
    for t in [cores if int(v) == 0 else int(v) for v in a.threads.split(",")]:
        faiss.omp_set_num_threads(t)
        rq.compute_codes(x[:1024])
        times = []
        for _ in range(a.repetitions):
            t0 = time.perf_counter()
            codes = rq.compute_codes(x)
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        if agreement is None and dpq_path and os.path.exists(dpq_path):
            agreement = float(np.mean(np.load(dpq_path) == codes))
        cells.append({"method": label, "M": m, "D": x.shape[1], "threads": t, "seconds": med,
                      "vectors_per_second": x.shape[0] / med, "repetitions": a.repetitions,
                      "code_agreement_with_dpq": agreement})


for m in [int(v) for v in a.blocks.split(",")]:
    cb = np.ascontiguousarray(np.load(os.path.join(a.data, "codebooks-m%d.npy" % m)), dtype="float32")
    rq = faiss.ResidualQuantizer(d, m, 8)
    rq.max_beam_size = 1
    faiss.copy_array_to_vector(cb.ravel(), rq.codebooks)
    rq.is_trained = True
    rq.compute_codebook_tables()
    time_rq(rq, x, m, "faiss_rq_beam1", os.path.join(a.data, "dpq-codes-m%d.npy" % m))
    if a.raw_dimension:
        rng = np.random.default_rng(m)
        raw = rng.standard_normal((n, a.raw_dimension)).astype("float32")
        rq_raw = faiss.ResidualQuantizer(a.raw_dimension, m, 8)
        rq_raw.max_beam_size = 1
        faiss.copy_array_to_vector(rng.standard_normal(m * 256 * a.raw_dimension).astype("float32"), rq_raw.codebooks)
        rq_raw.is_trained = True
        rq_raw.compute_codebook_tables()
        time_rq(rq_raw, raw, m, "faiss_rq_beam1_raw_input")
        del raw
print(json.dumps({"engine": "faiss", "faiss_version": faiss.__version__, "N": n, "D": d, "cores": cores,
                  "cells": cells}, indent=1))
