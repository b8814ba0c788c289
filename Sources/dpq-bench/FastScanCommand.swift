// `dpq-bench fastscan`: the K = 16 fast scan (FastScanner) against the K = 256 plain scan
// (CodeScanner) at the same number of bits (M16 = bits/4 codebooks of 16 vs M256 = bits/8 of
// 256), exhaustive inner-product top k over N random codes. With --data the 4-bit codebooks,
// codes and queries are written as .npy files for bench/faiss_fastscan.py, which scans the
// very same codes with faiss's IndexAdditiveQuantizerFastScan; bench/run-all.sh runs both.

import ArgumentParser
import DPQEngine
import Foundation

struct FastScan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time FastScanner (K = 16) against CodeScanner (K = 256) at equal bits; JSON with ns per code.")

    @Option(help: "Database items N.") var count = 1_000_000
    @Option(help: "Code lengths in bits, comma-separated (multiples of 8).") var bits = "32,64"
    @Option(help: "Feature dimension D.") var dimension = 64
    @Option(help: "Results per query.") var k = 10
    @Option(help: "Candidates re-ranked by .top(R).") var rerank = 100
    @Option(help: "Query batch sizes, comma-separated.") var batches = "1,16,256"
    @Option(help: "Thread counts, comma-separated; 0 means all cores.") var threads = "1,0"
    @Option(help: "Timed repetitions per cell at least.") var repetitions = 5
    @Option(help: "Repeat short cells until about this many seconds are timed.") var minSeconds = 1.0
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Folder to write fs-codebooks-b<bits>.npy, fs-codes-b<bits>.npy, queries.npy and DPQ's top k for faiss.")
    var data: String?
    @Option(help: "Methods timed, comma-separated (fast_none, fast_top, fast_exact, plain_k16, plain_k256).")
    var methods = "fast_none,fast_top,fast_exact,plain_k16,plain_k256"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threadCounts = try Scan.list(threads).map { $0 == 0 ? cores : $0 }
        let batchSizes = try Scan.list(batches)
        let bitList = try Scan.list(bits)
        guard bitList.allSatisfy({ $0 >= 8 && $0 % 8 == 0 }) else { throw ValidationError("bits must be multiples of 8") }
        var rng = SeededRandom(seed: seed)
        let queries = Matrix(rows: 256, cols: dimension, values: (0..<(256 * dimension)).map { _ in rng.normal() })
        guard let maxBatch = batchSizes.max(), maxBatch <= 256 else { throw ValidationError("batches must be 1...256") }
        if let data {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try NumpyFile.write(queries, to: "\(data)/queries.npy")
        }
        let timing = Timing(repetitions: repetitions, minSeconds: minSeconds)
        var runs: [[String: Any]] = []
        for b in bitList {
            let m16 = b / 4, m256 = b / 8
            let cb16 = Codebooks(blocks: m16, size: 16, dimension: dimension,
                                 values: (0..<(m16 * 16 * dimension)).map { _ in rng.normal() })
            let cb256 = Codebooks(blocks: m256, size: 256, dimension: dimension,
                                  values: (0..<(m256 * 256 * dimension)).map { _ in rng.normal() })
            let codes16 = Scan.randomCodes(count: count, blocks: m16, size: 16, rng: &rng)
            let codes256 = Scan.randomCodes(count: count, blocks: m256, size: 256, rng: &rng)
            let fast = FastScanner(codes: FastScanCodes(codes: codes16), codebooks: cb16)
            let plain16 = CodeScanner(codes: codes16, norms: nil, codebooks: cb16)
            let plain256 = CodeScanner(codes: codes256, norms: nil, codebooks: cb256)
            if let data {
                try NumpyFile.write(Matrix(rows: m16 * 16, cols: dimension, values: cb16.values),
                                    to: "\(data)/fs-codebooks-b\(b).npy")
                try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [count, m16], data: codes16.bytes),
                                    to: "\(data)/fs-codes-b\(b).npy")
            }
            typealias Method = (name: String, search: (Matrix, Int) -> [[SearchHit]])
            let wanted = Set(methods.split(separator: ",").map { $0 == "fast_top" ? "fast_top\(rerank)" : String($0) })
            let all: [Method] = [
                ("fast_none", { fast.search(queries: $0, k: k, blocks: m16, rerank: .none, threads: $1) }),
                ("fast_top\(rerank)", { fast.search(queries: $0, k: k, blocks: m16, rerank: .top(rerank), threads: $1) }),
                ("fast_exact", { fast.search(queries: $0, k: k, blocks: m16, rerank: .exact, threads: $1) }),
                ("plain_k16", { plain16.search(queries: $0, k: k, blocks: m16, metric: .innerProduct, threads: $1) }),
                ("plain_k256", { plain256.search(queries: $0, k: k, blocks: m256, metric: .innerProduct, threads: $1) }),
            ]
            let methods = all.filter { wanted.contains($0.name) }
            var cells: [[String: Any]] = []
            for t in threadCounts {
                for batch in batchSizes {
                    let q = queries.rowRange(0..<batch)
                    for method in methods {
                        let r = timing.measure(warmUp: { _ = method.search(queries.rowRange(0..<min(batch, 16)), t) }) {
                            _ = method.search(q, t)
                        }
                        let perQuery = r.median / Double(batch)
                        cells.append(["method": method.name, "batch": batch, "threads": t, "repetitions": r.runs,
                                      "seconds_per_query": perQuery, "ns_per_code": perQuery / Double(count) * 1e9])
                        if !json {
                            print(String(format: "bits %d N %d %-12@ batch %3d threads %d: %.4f ms/query %.3f ns/code",
                                         b, count, method.name, batch, t, perQuery * 1e3, perQuery / Double(count) * 1e9))
                        }
                    }
                }
            }
            // Recall of the approximate modes against the exact top k on all 256 queries.
            let exact = fast.search(queries: queries, k: k, blocks: m16, rerank: .exact)
            func recall(_ got: [[SearchHit]]) -> Double {
                zip(got, exact).map { Double(Set($0.map(\.index)).intersection($1.map(\.index)).count) / Double(k) }
                    .reduce(0, +) / Double(exact.count)
            }
            let none = fast.search(queries: queries, k: k, blocks: m16, rerank: .none)
            let top = fast.search(queries: queries, k: k, blocks: m16, rerank: .top(rerank))
            if let data {
                for (name, hits) in [("exact", exact), ("none", none)] {
                    let ids = hits.flatMap { row in (0..<k).map { $0 < row.count ? Int64(row[$0].index) : -1 } }
                    try NumpyFile.write(NumpyArray(dtype: .int64, shape: [hits.count, k],
                                                   data: ids.map { $0.littleEndian }.withUnsafeBytes { [UInt8]($0) }),
                                        to: "\(data)/dpq-fs-\(name)-b\(b).npy")
                }
            }
            runs.append(["bits": b, "M16": m16, "M256": m256, "cells": cells,
                         "recall_at_k_vs_exact": ["fast_none": recall(none), "fast_top\(rerank)": recall(top)],
                         "bytes_per_item_k16": fast.codes.bytesPerItem, "bytes_per_item_k256": Double(codes256.bytesPerItem)])
        }
        let result: [String: Any] = ["engine": "dpq", "N": count, "D": dimension, "k": k, "cores": cores,
                                     "kernel": "\(FastScanKernel.current)", "rerank": rerank, "runs": runs]
        if json { try printJSON(result) }
    }
}
