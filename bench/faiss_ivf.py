#!/usr/bin/env python3
"""faiss side of `dpq-bench ivf`: IVF indexes on the same codes and on the same data.

Reads from --data (written by `dpq-bench ivf --data DIR`): xb.npy (N x D float32), queries.npy,
codebooks.npy ((M*256) x D), codes.npy (N x M uint8) and gt.npy (DPQ's exhaustive top k).

- ivf_rq_same_codes: IndexIVFResidualQuantizer(IndexFlatIP holding C_0, D, nlist = 256, M - 1, 8,
  inner product, ST_LUT_nonorm), its RQ holding C_1..C_{M-1}, the N codes added with add_sa_codes
  (faiss's IVF code is the list number followed by the residual code: exactly DPQ's M bytes).
  The same partition and the same scores as DPQ's first-block IVF: recall is against gt.
- ivf_pq_fastscan: IndexIVFPQFastScan(IndexFlatIP, D, nlist, 2M x 4 bits, inner product), trained on
  the first --train rows of xb and filled with xb (the same bits per item as DPQ's M bytes, its own
  quantizer). Recall against its own exhaustive answer (nprobe = nlist) and, for reference, gt.

Times the whole query batch at every nprobe (median of repetitions, as dpq-bench), on --threads.
"""
import argparse, json, os, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--k", type=int, default=10)
p.add_argument("--threads", type=int, default=0, help="0 means all cores")
p.add_argument("--nprobes", default="1,2,4,8,16,32,64,128,256")
p.add_argument("--pq-nlists", default="1024")
p.add_argument("--train", type=int, default=65536)
p.add_argument("--repetitions", type=int, default=3)
p.add_argument("--min-seconds", type=float, default=1.0)
p.add_argument("--indexes", default="rq,pqfs")
a = p.parse_args()

cores = os.cpu_count()
threads = cores if a.threads == 0 else a.threads
faiss.omp_set_num_threads(threads)
d_ = lambda name: os.path.join(a.data, name)
queries = np.ascontiguousarray(np.load(d_("queries.npy")), dtype="float32")
gt = np.load(d_("gt.npy"))
codes = np.ascontiguousarray(np.load(d_("codes.npy")))
cb = np.ascontiguousarray(np.load(d_("codebooks.npy")), dtype="float32")
n, m = codes.shape
d = cb.shape[1]
K = 256
nq = queries.shape[0]


def recall(I, ref):
    return float(np.mean([len(set(x) & set(y)) / a.k for x, y in zip(I.tolist(), ref.tolist())]))


def timed(index):
    index.search(queries[:16], a.k)
    times = []
    while len(times) < a.repetitions or sum(times) < a.min_seconds:
        t0 = time.perf_counter()
        index.search(queries, a.k)
        times.append(time.perf_counter() - t0)
        if len(times) >= 200:
            break
    return float(np.median(times)) / nq, len(times)


def sweep(index, nlist, ref_own=None):
    points = []
    probes = sorted(set([min(int(x), nlist) for x in a.nprobes.split(",")] + [nlist]))
    for nprobe in probes:
        index.nprobe = nprobe
        _, I = index.search(queries, a.k)
        spq, reps = timed(index)
        pt = {"nprobe": nprobe, "seconds_per_query": spq, "repetitions": reps, "recall_at_k_vs_dpq_exhaustive": recall(I, gt)}
        if ref_own is not None:
            pt["recall_at_k"] = recall(I, ref_own)
        else:
            pt["recall_at_k"] = pt["recall_at_k_vs_dpq_exhaustive"]
        points.append(pt)
        print("%s nprobe %d: recall %.3f, %.3f ms/query" % (type(index).__name__, nprobe, pt["recall_at_k"], spq * 1e3),
              file=__import__("sys").stderr)
    return points


result = {"engine": "faiss", "faiss_version": faiss.__version__, "N": n, "M": m, "D": d, "k": a.k, "queries": nq,
          "threads": threads, "cores": cores, "metric": "inner_product", "indexes": []}

if "rq" in a.indexes.split(","):
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(cb[:K])
    index = faiss.IndexIVFResidualQuantizer(quantizer, d, K, m - 1, 8, faiss.METRIC_INNER_PRODUCT,
                                            faiss.AdditiveQuantizer.ST_LUT_nonorm)
    faiss.copy_array_to_vector(cb[K:].ravel(), index.rq.codebooks)
    index.rq.is_trained = True
    index.is_trained = True
    assert index.code_size == m - 1 and index.coarse_code_size() == 1
    index.add_sa_codes(codes)
    build = time.perf_counter() - t0
    result["indexes"].append({"name": "ivf_rq_same_codes", "nlist": K, "build_seconds": build,
                              "points": sweep(index, K)})
    del index, quantizer

if "pqfs" in a.indexes.split(","):
    xb = np.load(d_("xb.npy"), mmap_mode="r")
    for nlist in [int(x) for x in a.pq_nlists.split(",") if x]:
        t0 = time.perf_counter()
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFPQFastScan(quantizer, d, nlist, 2 * m, 4, faiss.METRIC_INNER_PRODUCT)
        index.train(np.ascontiguousarray(xb[:a.train], dtype="float32"))
        train = time.perf_counter() - t0
        step = 1 << 20
        for s in range(0, n, step):
            index.add(np.ascontiguousarray(xb[s:s + step], dtype="float32"))
        build = time.perf_counter() - t0
        index.nprobe = nlist
        _, own = index.search(queries, a.k)
        result["indexes"].append({"name": "ivf_pq_fastscan", "nlist": nlist, "pq": "%dx4" % (2 * m),
                                  "train_seconds": train, "build_seconds": build,
                                  "recall_reference": "its own exhaustive answer (nprobe = nlist)",
                                  "points": sweep(index, nlist, own)})
        del index, quantizer

print(json.dumps(result, indent=1))
