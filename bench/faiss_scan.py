#!/usr/bin/env python3
"""faiss side of `dpq-bench scan`: exhaustive inner-product search, top k, over the same codes.

Reads codebooks.npy ((M*K) x D float32), codes.npy (N x M uint8) and queries.npy (Q x D float32)
written by `dpq-bench scan --data DIR`, and times, for every batch size and thread count:

- IndexResidualQuantizer(D, M, 8, METRIC_INNER_PRODUCT, ST_LUT_nonorm) holding DPQ's own
  codebooks and codes (the same additive model: score = sum_i <q, C_i[b_i]>);
- IndexPQ(D, M, 8, METRIC_INNER_PRODUCT) trained on random Gaussian data (PQ codes mean
  something else, so its centroids are its own; the N code bytes are the same random bytes,
  which is as good as any PQ code for timing an exhaustive scan).

Timing follows dpq-bench: a warm-up on up to 16 of the batch's queries, then at least
--repetitions runs, repeated until --min-seconds are timed (at most --max-repetitions); median.
Prints one JSON object. With dpq_top<k>.npy present the RQ index's top k is compared with
DPQ's (same codes, same queries: the ids must agree up to ties).
"""
import argparse, json, os, time
import numpy as np
import faiss

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--k", type=int, default=10)
p.add_argument("--batches", default="1,16,256")
p.add_argument("--threads", default="1,0", help="comma-separated; 0 means all cores")
p.add_argument("--repetitions", type=int, default=5)
p.add_argument("--min-seconds", type=float, default=1.0)
p.add_argument("--max-repetitions", type=int, default=200)
p.add_argument("--indexes", default="rq,pq")
a = p.parse_args()


def rss(field="VmRSS:"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


rss_start = rss()
cb = np.ascontiguousarray(np.load(os.path.join(a.data, "codebooks.npy")), dtype="float32")
codes = np.ascontiguousarray(np.load(os.path.join(a.data, "codes.npy")))
queries = np.ascontiguousarray(np.load(os.path.join(a.data, "queries.npy")), dtype="float32")
assert codes.dtype == np.uint8 and codes.ndim == 2
n, m = codes.shape
K = 256
d = cb.shape[1]
assert cb.shape[0] == m * K
cores = os.cpu_count()
threads = [cores if int(t) == 0 else int(t) for t in a.threads.split(",")]
batches = [int(b) for b in a.batches.split(",")]


def make_rq():
    index = faiss.IndexResidualQuantizer(d, m, 8, faiss.METRIC_INNER_PRODUCT,
                                         faiss.AdditiveQuantizer.ST_LUT_nonorm)
    assert index.code_size == m, index.code_size
    faiss.copy_array_to_vector(cb.ravel(), index.rq.codebooks)
    index.rq.is_trained = True
    index.is_trained = True
    index.add_sa_codes(codes)
    return index


def make_pq():
    index = faiss.IndexPQ(d, m, 8, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(1)
    index.train(rng.standard_normal((64 * K, d)).astype("float32"))
    assert index.code_size == m
    index.add_sa_codes(codes)
    return index


def time_index(index):
    cells = []
    for t in threads:
        faiss.omp_set_num_threads(t)
        for b in batches:
            q = queries[:b]
            index.search(queries[:min(b, 16)], a.k)  # warm-up, as dpq-bench does
            times = []
            while len(times) < a.max_repetitions and (len(times) < a.repetitions or sum(times) < a.min_seconds):
                t0 = time.perf_counter()
                index.search(q, a.k)
                times.append(time.perf_counter() - t0)
            reps = len(times)
            med = float(np.median(times))
            cells.append({"batch": b, "threads": t, "repetitions": reps, "seconds_median": med,
                          "seconds_min": float(min(times)), "seconds_per_query": med / b,
                          "ns_per_code": med / b / n * 1e9})
    return cells


result = {"engine": "faiss", "faiss_version": faiss.__version__, "N": n, "M": m, "K": K, "D": d,
          "k": a.k, "metric": "inner_product", "cores": cores, "indexes": {}}
rss_data = rss()
for name in a.indexes.split(","):
    before = rss()
    index = make_rq() if name == "rq" else make_pq()
    entry = {"rss_bytes_added_by_index": rss() - before,
             "code_bytes_per_item": index.code_size}
    if name == "rq":
        entry["search_type"] = "ST_LUT_nonorm"
        top_path = os.path.join(a.data, "dpq_top%d.npy" % a.k)
        if os.path.exists(top_path):
            dpq_top = np.load(top_path)
            faiss.omp_set_num_threads(cores)
            _, I = index.search(queries[:dpq_top.shape[0]], a.k)
            entry["top_k_agreement_with_dpq"] = float(np.mean([len(set(x) & set(y)) / a.k
                                                               for x, y in zip(I.tolist(), dpq_top.tolist())]))
    else:
        entry["note"] = "IndexPQ trained on random Gaussian data; the same N code bytes added with add_sa_codes"
    entry["cells"] = time_index(index)
    result["indexes"][name] = entry
    del index
result["memory"] = {"rss_bytes_start": rss_start, "rss_bytes_with_numpy_data": rss_data,
                    "peak_bytes": rss("VmHWM:")}
print(json.dumps(result, indent=1))
