#!/usr/bin/env python3
"""faiss PQ on the pixels of a multi-label split folder (bench/make_mosaics.py's output): the baseline
of `dpq-bench quality --data DIR` on such data. For each code length (8, 16, 24, 32 bits = M of 8-bit
sub-quantizers), trains faiss IndexPQ on the training split's pixels, encodes the database, ranks the
whole database for every query by asymmetric squared-L2 distance, and reports mAP over the whole
ranking with relevance = "shares at least one label" (as DPQ's evaluator). Prints JSON.
"""
import argparse, json, os, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--bits", default="8,16,24,32")
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads:
    faiss.omp_set_num_threads(a.threads)


def load(split):
    x = np.load(os.path.join(a.data, f"{split}.npy"))
    y = np.load(os.path.join(a.data, f"{split}_labels.npy")).astype(bool)
    return np.ascontiguousarray(x.reshape(len(x), -1), dtype="float32"), y


xt, _ = load("train")
xq, yq = load("query")
xb, yb = load("database")
relevant = (yq.astype(np.float32) @ yb.T.astype(np.float32)) > 0   # queries x database


def mean_ap(order):
    aps = []
    for i in range(order.shape[0]):
        rel = relevant[i, order[i]]
        hits = np.cumsum(rel)
        n = hits[-1]
        if n == 0:
            continue
        ranks = np.arange(1, len(rel) + 1)
        aps.append(float(np.sum((hits / ranks)[rel]) / n))
    return float(np.mean(aps))


cells = []
for bits in [int(b) for b in a.bits.split(",")]:
    m = bits // 8
    # PQ needs d divisible by M: zero columns pad it (they change no distance).
    pad = (-xt.shape[1]) % m
    padded = [np.ascontiguousarray(np.pad(x, ((0, 0), (0, pad)))) if pad else x for x in (xt, xq, xb)]
    t0 = time.perf_counter()
    index = faiss.IndexPQ(padded[0].shape[1], m, 8)
    index.train(padded[0])
    index.add(padded[2])
    train_s = time.perf_counter() - t0
    _, order = index.search(padded[1], xb.shape[0])
    cells.append({"bits": bits, "map": mean_ap(order), "train_seconds": train_s})
exact = faiss.IndexFlatL2(xb.shape[1])
exact.add(xb)
_, order = exact.search(xq, xb.shape[0])
print(json.dumps({"engine": "faiss", "faiss_version": faiss.__version__, "method": "IndexPQ on pixels (squared L2)",
                  "queries": len(xq), "database": len(xb), "train": len(xt), "cells": cells,
                  "map_exact_pixels_l2": mean_ap(order)}, indent=1))
