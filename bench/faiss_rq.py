#!/usr/bin/env python3
"""faiss ResidualQuantizer (beam size 1) on the same standardised data as dpq-bench.

Reads train.npy and database.npy (float32, already standardised by DPQ's standardiser), trains
faiss.ResidualQuantizer(d, M, nbits) with max_beam_size = 1 on train, and prints one JSON object
with the mean squared reconstruction error per item (sum over dimensions) on train and database.
"""
import argparse, json, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--train", required=True)
p.add_argument("--database", required=True)
p.add_argument("--M", type=int, default=4)
p.add_argument("--nbits", type=int, default=8)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads:
    faiss.omp_set_num_threads(a.threads)
xt = np.ascontiguousarray(np.load(a.train), dtype="float32")
xb = np.ascontiguousarray(np.load(a.database), dtype="float32")
rq = faiss.ResidualQuantizer(xt.shape[1], a.M, a.nbits)
rq.max_beam_size = 1
t0 = time.time()
rq.train(xt)
train_s = time.time() - t0

def mse(x):
    codes = rq.compute_codes(x)
    rec = rq.decode(codes)
    return float(((x - rec) ** 2).sum(axis=1).mean())

print(json.dumps({"faiss_version": faiss.__version__, "M": a.M, "nbits": a.nbits, "beam": 1,
                  "train_seconds": train_s, "mse_train": mse(xt), "mse_database": mse(xb)}))
