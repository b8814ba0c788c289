#!/usr/bin/env python3
"""PyTorch side of `dpq-bench train-speed`: the same joint-phase training, timed.

Model and losses as DPQ's engine (and bench/pytorch_dpq.py): standardised 784-d input with input
dropout 0.2, 784 -> 1024 -> 512 (ReLU) -> 128 (tanh) feature, softmax classifier on the feature,
residual quantizer M = 4, K = 256 with soft (softmax(-gamma ||r - c||^2) C) and hard assignments from
the hard residual, loss = CE + tau (sum_m ||f - S_m||^2 + mu sum_m ||f - H_m||^2 + nu ||S_M - H_M||^2),
tau 0.005, mu 1, nu 0.1, gamma 5, Adam lr 1e-3, batch 256, codebooks from random features x 0.5.
One warm-up epoch, then --epochs timed epochs over the training split, for each thread count;
per-stage shares (forward incl. quantizer, backward, optimizer). Prints JSON.
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "fashion-mnist"))
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--threads", default="1,0")
p.add_argument("--batch", type=int, default=256)
p.add_argument("--trunk", choices=["mlp", "cnn"], default="mlp",
               help="cnn: dpq-bench's preset conv3x3-32,bn,relu,maxpool2,conv3x3-64,bn,relu,maxpool2,flatten "
                    "on 28 x 28 x 1 images, no pixel dropout (as `dpq-bench train-speed --trunk cnn`)")
a = p.parse_args()


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.uint8)
    d = int(raw[:4].view("<i4")[0])
    rec = 4 + d * np.dtype(dtype).itemsize
    return raw.reshape(-1, rec)[:, 4:].copy().view(np.dtype(dtype).newbyteorder("<")).reshape(-1, d)


# dpq-bench prepare writes scaled .fvecs; the shared splits are raw .bvecs (x / 255).
if os.path.exists(os.path.join(a.data, "train.fvecs")):
    x = read_vecs(os.path.join(a.data, "train.fvecs"), np.float32)
else:
    x = read_vecs(os.path.join(a.data, "train.bvecs"), np.uint8).astype(np.float32) / 255.0
y = torch.from_numpy(read_vecs(os.path.join(a.data, "train_labels.ivecs"), np.int32).reshape(-1).astype(np.int64))
mean, std = x.mean(0), x.std(0)
std = np.maximum(std, 0.1 * std.mean())
X = torch.from_numpy((x - mean) / std)
n = X.shape[0]
M, K, D, C = 4, 256, 128, int(y.max()) + 1
tau, mu, nu, gamma = 0.005, 1.0, 0.1, 5.0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        if a.trunk == "cnn":
            # DPQ's preset "cnn" (padding floor(3/2) = 1, pools of stride 2); NCHW here, NHWC in DPQ.
            self.trunk = nn.Sequential(
                nn.Unflatten(1, (1, 28, 28)),
                nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten())
            width = 7 * 7 * 64
        else:
            self.trunk = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 512), nn.ReLU())
            width = 512
        self.feat = nn.Linear(width, D)
        self.cls = nn.Linear(D, C)

    def forward(self, x):
        f = torch.tanh(self.feat(self.trunk(x)))
        return f, self.cls(f)


def quantize(f, cb):
    r = f; H = 0; S = 0; Hs = []; Ss = []
    for m in range(M):
        c = cb[m]
        d = (r * r).sum(1, keepdim=True) - 2 * r @ c.T + (c * c).sum(1)[None]
        h = c[d.detach().argmin(1)]
        s = F.softmax(-gamma * d, dim=1) @ c
        r = r - h
        H = H + h; S = S + s
        Hs.append(H); Ss.append(S)
    return Hs, Ss


cells = []
cores = os.cpu_count()
for t in [cores if int(v) == 0 else int(v) for v in a.threads.split(",")]:
    torch.set_num_threads(t)
    torch.manual_seed(5)
    gen = torch.Generator().manual_seed(6)
    net = Net()
    with torch.no_grad():
        f0, _ = net(X[:M * K])
    cb = nn.Parameter((f0 * 0.5).reshape(M, K, D).clone())
    opt = torch.optim.Adam(list(net.parameters()) + [cb], lr=1e-3)
    epochs = []
    for ep in range(a.epochs + 1):
        fwd = bwd = step = 0.0
        total_loss = 0.0
        steps = 0
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            s0 = time.perf_counter()
            xb = X[idx]
            if a.trunk == "mlp":
                xb = xb * (torch.rand(xb.shape, generator=gen) >= 0.2).float() / 0.8
            f, logits = net(xb)
            loss = F.cross_entropy(logits, y[idx])
            Hs, Ss = quantize(f, cb)
            lq = 0
            for m in range(M):
                lq = lq + ((f - Ss[m]) ** 2).sum(1).mean() + mu * ((f - Hs[m]) ** 2).sum(1).mean()
            lq = lq + nu * ((Ss[-1] - Hs[-1]) ** 2).sum(1).mean()
            loss = loss + tau * lq
            s1 = time.perf_counter()
            opt.zero_grad()
            loss.backward()
            s2 = time.perf_counter()
            opt.step()
            s3 = time.perf_counter()
            fwd += s1 - s0; bwd += s2 - s1; step += s3 - s2
            total_loss += float(loss)
            steps += 1
        sec = time.perf_counter() - t0
        if ep == 0:
            continue
        epochs.append({"epoch": ep, "seconds": sec, "samples_per_second": n / sec, "mean_loss": total_loss / steps,
                       "share": {"forward_and_losses": fwd / sec, "backward": bwd / sec, "optimizer": step / sec,
                                 "other": max(0.0, sec - fwd - bwd - step) / sec}})
    mean_sec = float(np.mean([e["seconds"] for e in epochs]))
    cells.append({"threads": t, "epoch_seconds": mean_sec, "samples_per_second": n / mean_sec, "epochs": epochs})
print(json.dumps({"engine": "pytorch", "torch_version": torch.__version__, "trunk": a.trunk, "train_rows": n, "batch": a.batch,
                  "cores": cores, "cells": cells}, indent=1))
