// `dpq-bench scan`: the speed of CodeScanner's exhaustive asymmetric-distance search (inner
// product, top k) over N random M-byte codes (K = 256), for several query batch sizes and
// thread counts. With --data the codebooks, codes and queries are shared with
// bench/faiss_scan.py through .npy files (written here when absent), so both engines scan
// exactly the same codes with the same queries; bench/run-scan.sh runs both and prints ratios.
// Also reports the resident memory of the process before and after the codes (and, with
// --norms, the squared-L2 prefix norms) exist.

import ArgumentParser
import BenchSupport
import DPQEngine
import Foundation

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time CodeScanner.search (inner product, top k) over N random codes; JSON with ns per code.")

    @Option(help: "Database items N.") var count = 1_000_000
    @Option(help: "Blocks M (one byte each, K = 256).") var blocks = 8
    @Option(help: "Feature dimension D.") var dimension = 64
    @Option(help: "Results per query.") var k = 10
    @Option(help: "Query batch sizes, comma-separated.") var batches = "1,16,256"
    @Option(help: "Thread counts, comma-separated; 0 means all cores.") var threads = "1,0"
    @Option(help: "Timed repetitions per cell at least (median reported), after a warm-up on up to 16 queries.") var repetitions = 5
    @Option(help: "Repeat short cells until about this many seconds are timed (at most --max-repetitions).")
    var minSeconds = 1.0
    @Option(help: "Upper bound on repetitions per cell.") var maxRepetitions = 200
    @Option(help: "Seed for codebooks, codes and queries.") var seed: UInt64 = 1
    @Option(help: "Folder with codebooks.npy, codes.npy, queries.npy: read when present, else generated and written there.")
    var data: String?
    @Flag(help: "Also build the squared-L2 prefix norms and report the memory they add.") var norms = false
    @Flag(help: "Only generate/load the data and report memory; no timing.") var memoryOnly = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let rssStart = ProcessMemory.residentBytes()
        let (codebooks, codes, queries) = try loadOrGenerate()
        let rssCodes = ProcessMemory.residentBytes()
        var prefixNorms: PrefixNorms?
        var rssNorms: Int?
        var normSeconds: Double?
        if norms {
            let started = DispatchTime.now().uptimeNanoseconds
            prefixNorms = PrefixNorms(codes: codes, codebooks: codebooks)
            normSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            rssNorms = ProcessMemory.residentBytes()
        }
        let scanner = CodeScanner(codes: codes, norms: prefixNorms, codebooks: codebooks)
        let all = ProcessInfo.processInfo.activeProcessorCount
        let threadCounts = try Self.list(threads).map { $0 == 0 ? all : $0 }
        let batchSizes = try Self.list(batches)
        guard let maxBatch = batchSizes.max(), maxBatch <= queries.rows, batchSizes.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("batches must be 1...\(queries.rows)")
        }

        var cells: [[String: Any]] = []
        if !memoryOnly {
            for t in threadCounts {
                for b in batchSizes {
                    let q = queries.rowRange(0..<b)
                    // Warm-up on at most 16 of the batch's queries (pages in the codes, starts the
                    // workers) so that a 10M x 256 cell does not pay for a whole extra batch.
                    _ = scanner.search(queries: queries.rowRange(0..<min(b, 16)), k: k, blocks: codes.blocks,
                                       metric: .innerProduct, threads: t)
                    var times: [Double] = []
                    var total = 0.0
                    while times.count < maxRepetitions && (times.count < repetitions || total < minSeconds) {
                        let started = Date()
                        _ = scanner.search(queries: q, k: k, blocks: codes.blocks, metric: .innerProduct, threads: t)
                        times.append(Date().timeIntervalSince(started))
                        total += times.last!
                    }
                    let reps = times.count
                    times.sort()
                    let median = times.count % 2 == 1 ? times[times.count / 2]
                        : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
                    cells.append(["batch": b, "threads": t, "repetitions": reps, "seconds_median": median,
                                  "seconds_min": times[0], "seconds_per_query": median / Double(b),
                                  "ns_per_code": median / Double(b) / Double(codes.count) * 1e9])
                    if !json {
                        print(String(format: "N %d M %d batch %3d threads %d: %.3f ms/query, %.3f ns/code (%d reps)",
                                     codes.count, codes.blocks, b, t, median / Double(b) * 1e3,
                                     median / Double(b) / Double(codes.count) * 1e9, reps))
                    }
                }
            }
            // Top k of the first queries, for bench/faiss_scan.py to check it found the same items.
            if let data {
                let probe = queries.rowRange(0..<min(16, queries.rows))
                let hits = scanner.search(queries: probe, k: k, blocks: codes.blocks, metric: .innerProduct)
                let ids = hits.flatMap { row in (0..<k).map { $0 < row.count ? Int64(row[$0].index) : -1 } }
                let bytes = ids.map { $0.littleEndian }.withUnsafeBytes { [UInt8]($0) }
                try NumpyFile.write(NumpyArray(dtype: .int64, shape: [probe.rows, k], data: bytes),
                                    to: URL(fileURLWithPath: data).appendingPathComponent("dpq_top\(k).npy").path)
            }
        }

        var memory: [String: Any] = ["rss_bytes_start": rssStart, "rss_bytes_with_codes": rssCodes,
                                     "code_bytes": codes.bytes.count,
                                     "code_bytes_per_item": codes.bytesPerItem]
        if let rssNorms, let prefixNorms {
            memory["rss_bytes_with_codes_and_norms"] = rssNorms
            memory["norm_bytes"] = prefixNorms.values.count * MemoryLayout<Float>.size
            memory["norm_bytes_per_item"] = prefixNorms.blocks * MemoryLayout<Float>.size
            memory["norm_build_seconds"] = normSeconds
        }
        let result: [String: Any] = [
            "engine": "dpq", "N": codes.count, "M": codes.blocks, "K": codebooks.size, "D": codebooks.dimension,
            "k": k, "metric": "inner_product", "cores": all, "cells": cells, "memory": memory,
            "memory_peak_bytes": ProcessMemory.peakBytes(),
        ]
        withExtendedLifetime(scanner) {}
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]),
                         as: UTF8.self))
        } else {
            print("RSS: start \(rssStart / 1_048_576) MiB, with codes \(rssCodes / 1_048_576) MiB"
                  + (rssNorms.map { ", with prefix norms \($0 / 1_048_576) MiB" } ?? "")
                  + (normSeconds.map { String(format: " (norms built in %.2f s)", $0) } ?? ""))
        }
    }

    /// N x M random codes below `size` (a power of two up to 256), eight per generator word.
    static func randomCodes(count: Int, blocks: Int, size: Int, rng: inout SeededRandom) -> CodeMatrix {
        let total = count * blocks
        let mask = UInt64(size - 1)
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var i = 0
            while i < total {
                var word = rng.next()
                for _ in 0..<min(8, total - i) {
                    buffer[i] = UInt8(truncatingIfNeeded: word & mask)
                    word >>= 8
                    i += 1
                }
            }
            initialized = total
        }
        return CodeMatrix(count: count, blocks: blocks, bytesPerCode: 1, bytes: bytes)
    }

    static func list(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("not a number: \($0)") }
            return v
        }
    }

    /// Codebooks ((M*K) x D float32), codes (N x M uint8) and 256 queries (256 x D float32).
    private func loadOrGenerate() throws -> (Codebooks, CodeMatrix, Matrix) {
        let kSize = 256
        if let data {
            let dir = URL(fileURLWithPath: data)
            let paths = ["codebooks", "codes", "queries"].map { dir.appendingPathComponent("\($0).npy").path }
            if paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                let cb = try NumpyFile.readMatrix(paths[0])
                let codeArray = try NumpyFile.read(paths[1])
                guard codeArray.dtype == .uint8, codeArray.shape.count == 2 else {
                    throw ValidationError("codes.npy must be a 2-D uint8 array")
                }
                let m = codeArray.shape[1]
                guard cb.rows == m * kSize else { throw ValidationError("codebooks.npy has \(cb.rows) rows, expected \(m * kSize)") }
                let codebooks = Codebooks(blocks: m, size: kSize, dimension: cb.cols, values: cb.values)
                let codes = CodeMatrix(count: codeArray.shape[0], blocks: m, bytesPerCode: 1, bytes: codeArray.data)
                return (codebooks, codes, try NumpyFile.readMatrix(paths[2]))
            }
        }
        var rng = SeededRandom(seed: seed)
        let codebooks = Codebooks(blocks: blocks, size: kSize, dimension: dimension,
                                  values: (0..<(blocks * kSize * dimension)).map { _ in rng.normal() })
        let codes = Self.randomCodes(count: count, blocks: blocks, size: kSize, rng: &rng)
        let queries = Matrix(rows: 256, cols: dimension, values: (0..<(256 * dimension)).map { _ in rng.normal() })
        if let data {
            let dir = URL(fileURLWithPath: data)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try NumpyFile.write(Matrix(rows: blocks * kSize, cols: dimension, values: codebooks.values),
                                to: dir.appendingPathComponent("codebooks.npy").path)
            try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [count, blocks], data: codes.bytes),
                                to: dir.appendingPathComponent("codes.npy").path)
            try NumpyFile.write(queries, to: dir.appendingPathComponent("queries.npy").path)
        }
        return (codebooks, codes, queries)
    }
}
