#!/usr/bin/env python3
"""PyTorch + faiss side of `dpq-bench encode --trunk cnn`: images per second through the same
convolutional trunk (DPQ's preset "cnn": conv3x3-32, bn, relu, maxpool2, conv3x3-64, bn, relu,
maxpool2, flatten, then the 3136 -> D tanh feature layer) in PyTorch inference (eval mode, no
autograd), followed by faiss ResidualQuantizer (beam 1, greedy as DPQ encodes) on the features with
DPQ's codebooks (codebooks-m<M>.npy written by `dpq-bench encode --trunk cnn --data DIR`), for each
thread count (torch and faiss both set to it), median of repetitions. Weights and images are random:
the arithmetic, not the values, sets the speed. Prints JSON.
"""
import argparse, json, os, time
import numpy as np
import faiss
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="folder with codebooks-m<M>.npy from dpq-bench encode --trunk cnn --data")
p.add_argument("--count", type=int, default=8192)
p.add_argument("--blocks", default="4,8")
p.add_argument("--threads", default="1,0")
p.add_argument("--repetitions", type=int, default=3)
p.add_argument("--dimension", type=int, default=128)
p.add_argument("--batch", type=int, default=1024, help="images per forward call")
a = p.parse_args()

cores = os.cpu_count()
torch.manual_seed(3)
net = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(7 * 7 * 64, a.dimension), nn.Tanh()).eval()
x = torch.randn(a.count, 1, 28, 28)


def features():
    with torch.inference_mode():
        return torch.cat([net(x[i:i + a.batch]) for i in range(0, a.count, a.batch)]).numpy()


cells = []
for m in [int(v) for v in a.blocks.split(",")]:
    cb = np.ascontiguousarray(np.load(os.path.join(a.data, "codebooks-m%d.npy" % m)), dtype="float32")
    rq = faiss.ResidualQuantizer(a.dimension, m, 8)
    rq.max_beam_size = 1
    faiss.copy_array_to_vector(cb.ravel(), rq.codebooks)
    rq.is_trained = True
    rq.compute_codebook_tables()
    for t in [cores if int(v) == 0 else int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(t)
        faiss.omp_set_num_threads(t)
        rq.compute_codes(np.ascontiguousarray(features()[:1024]))  # warm-up
        whole, trunk_only = [], []
        for _ in range(a.repetitions):
            t0 = time.perf_counter()
            f = np.ascontiguousarray(features())
            t1 = time.perf_counter()
            rq.compute_codes(f)
            t2 = time.perf_counter()
            whole.append(t2 - t0)
            trunk_only.append(t1 - t0)
        for name, times in (("pytorch_cnn_plus_faiss_rq", whole), ("pytorch_cnn_features_only", trunk_only)):
            med = float(np.median(times))
            cells.append({"method": name, "M": m, "threads": t, "seconds": med, "vectors_per_second": a.count / med,
                          "repetitions": a.repetitions})
print(json.dumps({"engine": "pytorch+faiss", "torch_version": torch.__version__, "faiss_version": faiss.__version__,
                  "N": a.count, "D": a.dimension, "cores": cores, "cells": cells}, indent=1))
