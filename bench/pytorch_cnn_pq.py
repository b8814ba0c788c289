#!/usr/bin/env python3
"""The "classifier, then product quantization" baseline of issue 12: a CNN of DPQ's own architecture trained as a
plain classifier in PyTorch, its outputs quantized by faiss PQ, ranked like DPQ's evaluator ranks.

Network: DPQ's preset trunk `cnn` (conv3x3-32, bn, relu, maxpool2, conv3x3-64, bn, relu, maxpool2, flatten), the
3136 -> D tanh feature layer and a D -> C linear classifier: the network `dpq-bench quality --trunk cnn` trains,
without its quantization blocks. Training: cross-entropy only, Adam 1e-3 with a cosine schedule, batch 256, on the
training split only (pixels / 255, standardised with the training split's mean and deviation, as DPQ does), for
--epochs (default 80, DPQ's classification epochs in the chosen recipe).

Then, for 8 / 16 / 24 / 32 bits (M = 1..4 sub-quantizers of 8 bits), faiss IndexPQ is trained on the training
split's outputs and encodes the database; every query (its float output) ranks the whole database by asymmetric
squared L2 to the decoded codes; mAP over the whole ranking, relevant = same label. Two outputs are quantized:
- "probabilities": the softmax of the classifier (C = 10 numbers, zero-padded to a multiple of M; padding
  changes no distance), the usual "CNN + PQ" baseline of the deep-quantization papers;
- "features": the D tanh features (the two-step ablation's input, with PQ instead of residual k-means).
Also the float (unquantized) mAP of each. Prints JSON.

    python3 bench/pytorch_cnn_pq.py --data DIR [--epochs 80] [--seed 1] [--threads 1]
DIR holds the TEXMEX splits `dpq-bench prepare` writes (train/query/database .bvecs and _labels.ivecs).
"""
import argparse, json, os, time
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--epochs", type=int, default=80)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--dimension", type=int, default=128, help="feature dimension D")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--bits", default="8,16,24,32")
a = p.parse_args()
os.environ["OMP_NUM_THREADS"] = str(a.threads)

import faiss  # noqa: E402  (after OMP_NUM_THREADS)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(a.threads)
faiss.omp_set_num_threads(a.threads)
torch.manual_seed(a.seed)
np.random.seed(a.seed)


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.uint8)
    d = int(raw[:4].view("<i4")[0])
    rec = 4 + d * np.dtype(dtype).itemsize
    return raw.reshape(-1, rec)[:, 4:].copy().view(np.dtype(dtype).newbyteorder("<")).reshape(-1, d)


def split(name):
    x = read_vecs(os.path.join(a.data, name + ".bvecs"), np.uint8).astype(np.float32) / 255.0
    y = read_vecs(os.path.join(a.data, name + "_labels.ivecs"), np.int32).reshape(-1).astype(np.int64)
    return x, y


(xt, yt), (xq, yq), (xb, yb) = split("train"), split("query"), split("database")
side = int(round(xt.shape[1] ** 0.5))
assert side * side == xt.shape[1], "expects square one-channel images"
mean, std = float(xt.mean()), float(xt.std())


def images(x):
    return torch.from_numpy((x - mean) / std).reshape(-1, 1, side, side)


classes = int(yt.max()) + 1
flat = 64 * (side // 4) * (side // 4)
trunk = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
feature = nn.Linear(flat, a.dimension)
classifier = nn.Linear(a.dimension, classes)
params = list(trunk.parameters()) + list(feature.parameters()) + list(classifier.parameters())
opt = torch.optim.Adam(params, lr=a.lr)
steps_per_epoch = (len(xt) + a.batch - 1) // a.batch
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs * steps_per_epoch)

train_images, train_labels = images(xt), torch.from_numpy(yt)
t0 = time.perf_counter()
for epoch in range(a.epochs):
    trunk.train()
    order = torch.randperm(len(xt))
    total = 0.0
    for i in range(0, len(xt), a.batch):
        idx = order[i:i + a.batch]
        logits = classifier(torch.tanh(feature(trunk(train_images[idx]))))
        loss = F.cross_entropy(logits, train_labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        total += loss.item() * len(idx)
train_seconds = time.perf_counter() - t0
final_loss = total / len(xt)


def outputs(x):
    trunk.eval()
    feats, probs = [], []
    with torch.inference_mode():
        for i in range(0, len(x), 1024):
            f = torch.tanh(feature(trunk(images(x[i:i + 1024]))))
            feats.append(f)
            probs.append(F.softmax(classifier(f), dim=1))
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()


(ft, pt), (fq, pq), (fb, pb) = outputs(xt), outputs(xq), outputs(xb)
accuracy = float((pq.argmax(1) == yq).mean())


def mean_ap(q, db, batch=100):
    """mAP over the whole database ranked by -||q - x||^2 (ties in database order), relevant = same label."""
    q = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))
    db = torch.from_numpy(np.ascontiguousarray(db, dtype=np.float32))
    qy, dby = torch.from_numpy(yq), torch.from_numpy(yb)
    norms = (db * db).sum(1)
    ranks = torch.arange(1, db.shape[0] + 1, dtype=torch.float64)
    aps = []
    for i in range(0, q.shape[0], batch):
        s = 2 * (q[i:i + batch] @ db.T) - norms[None, :]
        order = torch.argsort(s, dim=1, descending=True, stable=True)
        rel = (dby[order] == qy[i:i + batch, None]).double()
        ap = (rel * rel.cumsum(1) / ranks).sum(1) / rel.sum(1).clamp(min=1)
        aps.append(ap)
    return float(torch.cat(aps).mean())


def pq_cells(train, query, database):
    cells = []
    for bits in [int(b) for b in a.bits.split(",")]:
        m = bits // 8
        pad = (-train.shape[1]) % m
        tr, qu, db = (np.ascontiguousarray(np.pad(x, ((0, 0), (0, pad))), dtype=np.float32) for x in (train, query, database))
        t = time.perf_counter()
        index = faiss.IndexPQ(tr.shape[1], m, 8)
        index.train(tr)
        decoded = index.sa_decode(index.sa_encode(db))
        seconds = time.perf_counter() - t
        cells.append({"bits": bits, "map": mean_ap(qu, decoded), "pq_seconds": seconds})
    return cells


print(json.dumps({
    "engine": "pytorch+faiss", "torch_version": torch.__version__, "faiss_version": faiss.__version__,
    "method": "CNN classifier (DPQ's cnn trunk + tanh feature + linear, cross-entropy only), outputs quantized by faiss IndexPQ",
    "seed": a.seed, "epochs": a.epochs, "threads": a.threads, "feature_dimension": a.dimension,
    "train": len(xt), "queries": len(xq), "database": len(xb), "train_seconds": train_seconds,
    "final_train_loss": final_loss, "query_accuracy": accuracy,
    "probabilities": {"map_float": mean_ap(pq, pb), "cells": pq_cells(pt, pq, pb)},
    "features": {"map_float": mean_ap(fq, fb), "cells": pq_cells(ft, fq, fb)},
}, indent=1))
