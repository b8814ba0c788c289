#!/usr/bin/env python3
"""docs/img/map-bits-mlp-cnn.svg: mAP against code length on Fashion-MNIST for DPQ with the MLP trunk
(bench/results/quality-fashion-mnist.json), DPQ with the convolutional trunk and its two-step ablation
(bench/results/quality-cnn-dpq.json), and the same CNN trained as a classifier with its probabilities and its
features quantized by faiss PQ (bench/results/quality-cnn-pytorch-pq.json; bench/run-cnn-quality.sh writes both)."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svgplot import svg_plot

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
res = os.path.join(root, "bench", "results")
mlp = json.load(open(os.path.join(res, "quality-fashion-mnist.json")))
cnn = json.load(open(os.path.join(res, "quality-cnn-dpq.json")))
pq = json.load(open(os.path.join(res, "quality-cnn-pytorch-pq.json")))
series = [
    {"name": "DPQ, CNN trunk", "points": list(zip(cnn["bits"], cnn["map_dpq"]))},
    {"name": "DPQ, MLP trunk", "points": list(zip(mlp["bits"], mlp["map_dpq"]))},
    {"name": "CNN two-step", "points": list(zip(cnn["bits"], cnn["map_two_step"])), "dashed": True},
    {"name": "CNN probabilities + PQ", "points": [(c["bits"], c["map"]) for c in pq["probabilities"]["cells"]], "dashed": True},
    {"name": "CNN features + PQ", "points": [(c["bits"], c["map"]) for c in pq["features"]["cells"]], "dashed": True},
]
svg_plot(os.path.join(root, "docs", "img", "map-bits-mlp-cnn.svg"), "Fashion-MNIST: mAP against code length",
         "bits per item", "mAP (whole database)", series, xticks=[(b, str(b)) for b in cnn["bits"]])
print("wrote docs/img/map-bits-mlp-cnn.svg")
