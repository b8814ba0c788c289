#!/usr/bin/env python3
"""Index Fashion-MNIST with DPQ and search it.

Loads the IDX files of Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist,
gzip + numpy only; `apt-get install dataset-fashion-mnist`), creates a supervised collection, uploads
training rows, trains while printing progress, indexes the test set, prints a few neighbours with class
names, and reports mAP from Evaluate at every code length.

    python examples/index_fashion_mnist.py --address 127.0.0.1:50051
    python examples/index_fashion_mnist.py --start-server .build/debug/dpq   # a throwaway server
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dpq_client import Client, TrainingProgress

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped): magic (0, 0, type 0x08 = uint8, ndim), big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"

    def find(kind: str) -> Path:
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                     f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
            if (data_dir / name).exists():
                return data_dir / name
        raise FileNotFoundError(f"no {prefix} {kind} in {data_dir} (apt-get install dataset-fashion-mnist?)")

    images = read_idx(find("images")).reshape(-1, 28 * 28).astype(np.float32) / 255.0
    labels = read_idx(find("labels")).astype(np.uint32)
    return images, labels


def start_server(binary: str) -> tuple[subprocess.Popen, str, str]:
    data_dir = tempfile.mkdtemp(prefix="dpq-fmnist-")
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"listening on (\S+:\d+)", line)
        if m:
            return proc, m.group(1), data_dir
    raise RuntimeError(f"{binary} exited with {proc.wait()} before listening")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default="127.0.0.1:50051", help="DPQ server address")
    ap.add_argument("--start-server", metavar="BIN", help="start this dpq binary on a free port instead")
    ap.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--collection", default="fashion-mnist")
    ap.add_argument("--train-rows", type=int, default=20000, help="training rows (of the 60000)")
    ap.add_argument("--index-rows", type=int, default=10000, help="indexed rows (of the 10000 test images)")
    ap.add_argument("--queries", type=int, default=1000, help="evaluation queries (train images not trained on)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--pretrain-epochs", type=int, default=2)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--codebook-size", type=int, default=256)
    args = ap.parse_args()

    t0 = time.time()
    x_train, y_train = load_split(args.data_dir, "train")
    x_test, y_test = load_split(args.data_dir, "test")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x_train))
    train_idx = order[: args.train_rows]
    query_idx = order[args.train_rows: args.train_rows + args.queries]
    x_db, y_db = x_test[: args.index_rows], y_test[: args.index_rows]
    print(f"loaded Fashion-MNIST: {len(x_train)} train / {len(x_test)} test images of {x_train.shape[1]} pixels "
          f"({time.time() - t0:.1f}s)")

    proc = None
    address = args.address
    if args.start_server:
        proc, address, _ = start_server(args.start_server)
        print(f"started {args.start_server} on {address}")
    try:
        with Client(address, timeout=600) as dpq:
            print(f"server {dpq.server_info().version}, health {dpq.health()}")
            dpq.delete_collection(args.collection, allow_missing=True)
            dpq.create_collection(args.collection, dim=784, num_classes=10, blocks=args.blocks,
                                  codebook_size=args.codebook_size, feature_dimension=64, hidden_sizes=[256],
                                  metric="squared_l2")

            last_line = [0.0]

            def show(p: TrainingProgress) -> None:
                if p.done or time.time() - last_line[0] > 2:
                    last_line[0] = time.time()
                    print(f"  [{p.percent:5.1f}%] {p.state:9s} {p.phase:14s} epoch {p.epoch}/{p.epochs} "
                          f"step {p.step}/{p.total_steps} loss {p.losses['total']:.4f} "
                          f"{p.samples_per_second:,.0f} rows/s eta {p.eta_seconds:.0f}s")

            t = time.time()
            print(f"training on {len(train_idx)} rows ...")
            final = dpq.train(args.collection, x_train[train_idx], y_train[train_idx], on_progress=show,
                              epochs=args.epochs, pretrain_epochs=args.pretrain_epochs, batch_size=128,
                              learning_rate=0.003, seed=1)
            print(f"trained in {time.time() - t:.1f}s: {final.state}")

            t = time.time()
            r = dpq.upsert_stream(args.collection, ids=range(len(x_db)), vectors=x_db, labels=y_db, batch_size=2000)
            info = dpq.get_collection(args.collection)
            assert info.model is not None
            print(f"indexed {r.item_count} items in {time.time() - t:.1f}s; codes of {info.model.max_bits} bits "
                  f"({info.model.blocks} x {info.model.bits_per_block}), lengths {info.model.supported_bits}")

            q = x_train[query_idx[:5]]
            for bits in (info.model.bits_per_block, info.model.max_bits):
                print(f"\nnearest neighbours at {bits} bits:")
                for i, hits in enumerate(dpq.search(args.collection, q, k=5, bits=bits)):
                    names = ", ".join(CLASSES[h.labels[0]] for h in hits)
                    print(f"  query {i} ({CLASSES[y_train[query_idx[i]]]}): {names}")

            t = time.time()
            ev = dpq.evaluate(args.collection, x_train[query_idx], y_train[query_idx], map_r=1000,
                              precision_at=(10, 100))
            print(f"\nEvaluate ({len(query_idx)} queries, mAP@1000, {time.time() - t:.1f}s):")
            for bits, m in ev.items():
                print(f"  {bits:3d} bits: mAP {m['map']:.4f}  P@10 {m['precision'][10]:.4f}  "
                      f"P@100 {m['precision'][100]:.4f}")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"\ndone in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
