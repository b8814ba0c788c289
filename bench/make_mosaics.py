#!/usr/bin/env python3
"""Multi-label benchmark images from Fashion-MNIST: 2 x 2 mosaics of four images, 56 x 56 x 1.

Reads a labelled split folder, the layout of ../shared/data/fashion-mnist or of what
`dpq-bench prepare --idx /usr/share/datasets/fashion-mnist --out DIR` writes:
{query,train,database}.bvecs (uint8 pixels) or .fvecs (float pixels; values in 0..1 are
taken as x/255) with {query,train,database}_labels.ivecs (one class per row), 28 x 28 images.

For each split S it writes, into --out:
  S.npy          (N, 56, 56, 1) uint8: tiles [a b; c d] = four 28 x 28 images of split S
  S_labels.npy   (N, classes) uint8 0/1 indicator rows: the union of the four images' classes
                 (the multi-label format `dpq --labels` reads)
  S_tiles.npy    (N, 4) int64: the source rows of tiles a, b, c, d in S (provenance)
  meta.json      counts, seed, classes, labels-per-mosaic histogram, source folder

Each mosaic first draws how many distinct classes it shows, k, uniformly from
--labels-per-mosaic (default 1,2,3), then k distinct classes uniformly, then four tiles: one
image of each chosen class and the other 4 - k tiles of chosen classes at random, in random
positions. (Four images drawn independently would show 3.4 of the 10 classes on average, and
nearly every pair of mosaics would share a class, leaving little to rank.) Images come from
per-class pools of the same split, each shuffled and reshuffled when used up, so every image
of a class is used about equally often and query, train and database mosaics never share a
source image when the source splits are disjoint. With numpy's PCG64 and --seed the output
is the same bytes on every run. Relevance in evaluation is "shares at least one class".

Usage (numpy only):
  python3 bench/make_mosaics.py --data ../shared/data/fashion-mnist --out mosaics
  dpq collections create mosaics --dimension 3136 --classes 10 --multi-label
  dpq train mosaics --file mosaics/train.npy --labels mosaics/train_labels.npy --scale 0.00392
  dpq upsert mosaics --file mosaics/database.npy --labels mosaics/database_labels.npy --scale 0.00392
  dpq eval mosaics --file mosaics/query.npy --labels mosaics/query_labels.npy --scale 0.00392
"""
import argparse
import json
import os

import numpy as np

SPLITS = ("query", "train", "database")
SIDE = 28


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size < 4:
        raise SystemExit(f"{path}: empty or truncated")
    d = int(raw[:4].view("<i4")[0])
    rec = 4 + d * np.dtype(dtype).itemsize
    if raw.size % rec:
        raise SystemExit(f"{path}: size {raw.size} is not a multiple of the record size {rec}")
    return raw.reshape(-1, rec)[:, 4:].copy().view(np.dtype(dtype).newbyteorder("<")).reshape(-1, d)


def read_images(folder, split):
    b, f = os.path.join(folder, split + ".bvecs"), os.path.join(folder, split + ".fvecs")
    if os.path.exists(b):
        x = read_vecs(b, np.uint8)
    elif os.path.exists(f):
        x = read_vecs(f, np.float32)
        if x.size and x.max() <= 1.0:
            x = x * 255.0
        x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    else:
        raise SystemExit(f"{folder}: neither {split}.bvecs nor {split}.fvecs")
    if x.shape[1] != SIDE * SIDE:
        raise SystemExit(f"{folder}/{split}: rows of {x.shape[1]} values, expected {SIDE * SIDE} (28 x 28 images)")
    return x.reshape(-1, SIDE, SIDE)


def draw(rng, labels, count, ks, classes):
    """count x 4 source rows of mosaics showing k in ks distinct classes each."""
    pools = [np.flatnonzero(labels == c) for c in range(classes)]
    present = [c for c in range(classes) if len(pools[c])]
    if max(ks) > len(present):
        raise SystemExit(f"{max(ks)} classes per mosaic asked, the split has {len(present)}")
    order = {c: rng.permutation(pools[c]) for c in present}
    used = {c: 0 for c in present}

    def take(c):
        if used[c] == len(order[c]):
            order[c], used[c] = rng.permutation(pools[c]), 0
        used[c] += 1
        return order[c][used[c] - 1]

    tiles = np.empty((count, 4), dtype=np.int64)
    for n in range(count):
        k = int(rng.choice(ks))
        chosen = rng.choice(present, size=k, replace=False)
        per_tile = np.concatenate([chosen, rng.choice(chosen, size=4 - k)])
        rng.shuffle(per_tile)
        tiles[n] = [take(int(c)) for c in per_tile]
    return tiles


def mosaics(images, tiles):
    n = len(tiles)
    out = np.empty((n, 2 * SIDE, 2 * SIDE, 1), dtype=np.uint8)
    for t, (y, x) in enumerate([(0, 0), (0, SIDE), (SIDE, 0), (SIDE, SIDE)]):
        out[:, y:y + SIDE, x:x + SIDE, 0] = images[tiles[:, t]]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="split folder ({query,train,database}.bvecs|fvecs + _labels.ivecs)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--query", type=int, default=1000, help="query mosaics")
    p.add_argument("--train", type=int, default=5000, help="training mosaics")
    p.add_argument("--database", type=int, default=16000, help="database mosaics")
    p.add_argument("--labels-per-mosaic", default="1,2,3", help="distinct classes per mosaic, drawn uniformly from this list (1..4)")
    args = p.parse_args()
    ks = sorted({int(k) for k in args.labels_per_mosaic.split(",")})
    if not ks or ks[0] < 1 or ks[-1] > 4:
        raise SystemExit("--labels-per-mosaic: numbers from 1 to 4")

    counts = {"query": args.query, "train": args.train, "database": args.database}
    images = {s: read_images(args.data, s) for s in SPLITS}
    labels = {s: read_vecs(os.path.join(args.data, s + "_labels.ivecs"), np.int32)[:, 0] for s in SPLITS}
    for s in SPLITS:
        if len(labels[s]) != len(images[s]):
            raise SystemExit(f"{args.data}/{s}: {len(images[s])} images but {len(labels[s])} labels")
    classes = int(max(l.max() for l in labels.values())) + 1

    os.makedirs(args.out, exist_ok=True)
    # One generator per split, seeded from (seed, split index): a split's mosaics do not
    # depend on the other splits' counts.
    meta = {"source": os.path.abspath(args.data), "seed": args.seed, "classes": classes,
            "labels_per_mosaic": ks, "shape": [2 * SIDE, 2 * SIDE, 1], "dtype": "uint8", "splits": {}}
    for i, s in enumerate(SPLITS):
        rng = np.random.Generator(np.random.PCG64([args.seed, i]))
        tiles = draw(rng, labels[s], counts[s], ks, classes)
        x = mosaics(images[s], tiles)
        y = np.zeros((len(tiles), classes), dtype=np.uint8)
        for t in range(4):
            y[np.arange(len(tiles)), labels[s][tiles[:, t]]] = 1
        np.save(os.path.join(args.out, s + ".npy"), x)
        np.save(os.path.join(args.out, s + "_labels.npy"), y)
        np.save(os.path.join(args.out, s + "_tiles.npy"), tiles)
        per = np.bincount(y.sum(axis=1), minlength=5)[1:5]
        meta["splits"][s] = {"mosaics": len(tiles), "source_images": len(images[s]),
                             "source_images_used": int(len(np.unique(tiles))),
                             "labels_per_mosaic": {str(k + 1): int(c) for k, c in enumerate(per)}}
        print(f"{s}: {len(tiles)} mosaics of 56 x 56 x 1 from {len(images[s])} images; "
              f"labels per mosaic 1..4: {per.tolist()}")
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
