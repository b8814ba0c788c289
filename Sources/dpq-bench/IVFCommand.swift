// `dpq-bench ivf`: sub-linear search with IVFIndex against the exhaustive CodeScanner.
// Generates N clustered vectors (D dimensions, `--clusters` Gaussian centres, fixed seed), trains
// M residual codebooks of K = 256 on a sample (residual k-means, as the engine trains without
// labels), encodes every vector, and times for a batch of queries (drawn like the data):
//   - the exhaustive scan (CodeScanner, all M blocks, inner product, top k): the reference answer;
//   - IVF with the first-block partition (nlist = 256) and with k-means coarse quantizers
//     (`--nlists`), for every nprobe of `--nprobes` (clamped to nlist, nlist always included):
//     recall@k of the exhaustive answer and time per query.
// With --data the vectors, codebooks, codes, queries and the exhaustive answer are written as
// .npy files for bench/faiss_ivf.py (faiss IVF indexes on the same codes and the same data).

import ArgumentParser
import BenchSupport
import DPQEngine
import Foundation

struct IVF: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "IVF search (recall@k vs the exhaustive answer, ms/query per nprobe) against the exhaustive scan; JSON.")

    @Option(help: "Database items N.") var count = 1_000_000
    @Option(help: "Feature dimension D.") var dimension = 64
    @Option(help: "Blocks M of K = 256.") var blocks = 8
    @Option(help: "Gaussian clusters in the generated data.") var clusters = 1000
    @Option(help: "Noise of a point around its cluster centre (centres are N(0, 1) per coordinate).") var spread: Float = 0.6
    @Option(help: "Queries in the timed batch.") var queries = 256
    @Option(help: "Results per query.") var k = 10
    @Option(help: "Threads; 0 means all cores.") var threads = 0
    @Option(help: "k-means coarse quantizer sizes, comma-separated (empty: none).") var nlists = "1024"
    @Option(help: "nprobe values, comma-separated.") var nprobes = "1,2,4,8,16,32,64,128,256"
    @Option(help: "Training sample for the codebooks and the coarse k-means.") var train = 65_536
    @Option(help: "k-means iterations.") var iterations = 10
    @Option(help: "Timed repetitions per cell at least.") var repetitions = 3
    @Option(help: "Repeat short cells until about this many seconds are timed.") var minSeconds = 1.0
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Flag(help: "Also K = 16: 2M codebooks of 16 (the same bits), IVF over packed lists scanned with the fast-scan kernels.")
    var fastScan = false
    @Flag(help: "Only the K = 16 fast-scan IVF (with --fast-scan): skip the K = 256 exhaustive scan and IVFs.")
    var onlyFastScan = false
    @Option(help: "Folder for xb.npy, queries.npy, codebooks.npy, codes.npy, gt.npy (for bench/faiss_ivf.py).")
    var data: String?

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let t = threads == 0 ? cores : threads
        var clock = Stopwatch()
        var rng = SeededRandom(seed: seed)
        let (base, query) = Self.clustered(count: count, queries: queries, dimension: dimension, clusters: clusters,
                                           spread: spread, rng: &rng)
        let generateSeconds = clock.lap()
        let sample = base.rowRange(0..<min(train, count))
        let codebooks = KMeans.residual(sample, blocks: blocks, k: 256, iterations: iterations, random: &rng)
        let trainSeconds = clock.lap()
        let codes = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean).encode(base)
        let encodeSeconds = clock.lap()
        log("generated \(count) x \(dimension) in \(f(generateSeconds)) s, trained in \(f(trainSeconds)) s, encoded in \(f(encodeSeconds)) s")

        let timing = Timing(repetitions: repetitions, minSeconds: minSeconds)
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let exact = scanner.search(queries: query, k: k, blocks: blocks, metric: .innerProduct, threads: t)
        if onlyFastScan {
            guard fastScan else { throw ValidationError("--only-fast-scan needs --fast-scan") }
            if let data { try write(data, base: base, query: query, codebooks: codebooks, codes: codes, exact: exact) }
            let variants = try fastScanVariants(base: base, query: query, threads: t, timing: timing, rng: &rng)
            try printJSON(["engine": "dpq", "N": count, "D": dimension, "M": blocks, "k": k, "queries": queries,
                           "threads": t, "cores": cores, "variants": variants, "memory_peak_bytes": ProcessMemory.peakBytes()])
            return
        }
        let exhaustive = timing.measure(warmUp: {}) {
            _ = scanner.search(queries: query, k: k, blocks: blocks, metric: .innerProduct, threads: t)
        }
        let exhaustivePerQuery = exhaustive.median / Double(queries)
        log("exhaustive: \(f(exhaustivePerQuery * 1e3)) ms/query")
        if let data { try write(data, base: base, query: query, codebooks: codebooks, codes: codes, exact: exact) }

        var coarse: [(String, CoarseQuantizer, Double)] = [("first_block", .firstBlock(codebooks), 0)]
        for nlist in try Scan.list(nlists) where nlist > 0 {
            clock.reset()
            let sampleCodes = codes.items(0..<min(train, count))
            let c = CoarseQuantizer.trainCentroids(sample: sampleCodes, codebooks: codebooks, lists: nlist,
                                                   iterations: iterations, seed: seed)
            coarse.append(("kmeans", c, clock.lap()))
        }
        let probeList = try Scan.list(nprobes)
        var variants: [[String: Any]] = []
        for (name, quantizer, trainCoarse) in coarse {
            clock.reset()
            let index = IVFIndex(codes: codes, codebooks: codebooks, coarse: quantizer, threads: t)
            let buildSeconds = clock.lap()
            let sizes = (0..<index.listCount).map { index.lists.size($0) }
            let nlist = index.listCount
            var points: [[String: Any]] = []
            for nprobe in Array(Set(probeList.map { min($0, nlist) } + [nlist])).sorted() {
                let got = index.search(queries: query, k: k, blocks: blocks, metric: .innerProduct, nprobe: nprobe, threads: t)
                let r = timing.measure(warmUp: {}) {
                    _ = index.search(queries: query, k: k, blocks: blocks, metric: .innerProduct, nprobe: nprobe, threads: t)
                }
                let perQuery = r.median / Double(queries)
                let recall = Self.recall(got, exact, k: k)
                points.append(["nprobe": nprobe, "recall_at_k": recall, "seconds_per_query": perQuery,
                               "speedup_vs_exhaustive": exhaustivePerQuery / perQuery, "repetitions": r.runs,
                               "identical_to_exhaustive": got == exact])
                log("\(name) nlist \(nlist) nprobe \(nprobe): recall@\(k) \(f(recall)), \(f(perQuery * 1e3)) ms/query, \(f(exhaustivePerQuery / perQuery))x")
            }
            variants.append(["coarse": name, "nlist": nlist, "coarse_train_seconds": trainCoarse, "build_seconds": buildSeconds,
                             "largest_list": sizes.max() ?? 0, "empty_lists": sizes.filter { $0 == 0 }.count,
                             "points": points])
        }
        if fastScan { variants += try fastScanVariants(base: base, query: query, threads: t, timing: timing, rng: &rng) }
        let result: [String: Any] = [
            "engine": "dpq", "N": count, "D": dimension, "M": blocks, "K": 256, "k": k, "queries": queries,
            "threads": t, "cores": cores, "metric": "inner_product", "clusters": clusters, "spread": Double(spread),
            "seconds": ["generate": generateSeconds, "train_codebooks": trainSeconds, "encode": encodeSeconds],
            "exhaustive": ["seconds_per_query": exhaustivePerQuery, "repetitions": exhaustive.runs],
            "variants": variants, "memory_peak_bytes": ProcessMemory.peakBytes(),
        ]
        try printJSON(result)
    }

    /// K = 16 with 2M codebooks: the exhaustive fast scan (exact re-rank, = CodeScanner) as the
    /// reference, and IVF over packed lists with the k-means coarse quantizers.
    private func fastScanVariants(base: Matrix, query: Matrix, threads t: Int, timing: Timing,
                                  rng: inout SeededRandom) throws -> [[String: Any]] {
        var clock = Stopwatch()
        let m16 = 2 * blocks
        let codebooks = KMeans.residual(base.rowRange(0..<min(train, count)), blocks: m16, k: 16, iterations: iterations, random: &rng)
        let codes = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean).encode(base)
        log("K = 16: trained and encoded in \(f(clock.lap())) s")
        let scanner = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let exact = scanner.search(queries: query, k: k, blocks: m16, rerank: .exact, threads: t)
        let exhaustive = timing.measure(warmUp: {}) { _ = scanner.search(queries: query, k: k, blocks: m16, rerank: .exact, threads: t) }
        let exhaustivePerQuery = exhaustive.median / Double(queries)
        log("K = 16 exhaustive fast scan: \(f(exhaustivePerQuery * 1e3)) ms/query")
        // `.none` ranks by the byte sums, as faiss's fast-scan indexes do: its recall is against the
        // exhaustive byte-sum answer (faiss's is against its own nprobe = nlist answer).
        let bytesAnswer = scanner.search(queries: query, k: k, blocks: m16, rerank: .none, threads: t)
        var variants: [[String: Any]] = []
        for nlist in try Scan.list(nlists) where nlist > 0 {
            clock.reset()
            let coarse = CoarseQuantizer.trainCentroids(sample: codes.items(0..<min(train, count)), codebooks: codebooks,
                                                       lists: nlist, iterations: iterations, seed: seed)
            let index = IVFIndex(codes: codes, codebooks: codebooks, coarse: coarse, fastScan: true, threads: t)
            let buildSeconds = clock.lap()
            var points: [[String: Any]] = []
            for nprobe in Array(Set(try Scan.list(nprobes).map { min($0, nlist) } + [nlist])).sorted() {
                for (name, rerank) in [("exact", FastScanRerank.exact), ("top100", .top(100)), ("none", .none)] {
                    let got = index.search(queries: query, k: k, blocks: m16, metric: .innerProduct, nprobe: nprobe, rerank: rerank, threads: t)
                    let r = timing.measure(warmUp: {}) {
                        _ = index.search(queries: query, k: k, blocks: m16, metric: .innerProduct, nprobe: nprobe, rerank: rerank, threads: t)
                    }
                    let perQuery = r.median / Double(queries)
                    let reference = rerank == .none ? bytesAnswer : exact
                    let recall = Self.recall(got, reference, k: k)
                    points.append(["nprobe": nprobe, "rerank": name, "recall_at_k": recall, "seconds_per_query": perQuery,
                                   "speedup_vs_exhaustive": exhaustivePerQuery / perQuery, "repetitions": r.runs,
                                   "identical_to_exhaustive": got == reference])
                    log("K=16 \(name) nlist \(nlist) nprobe \(nprobe): recall@\(k) \(f(recall)), \(f(perQuery * 1e3)) ms/query, \(f(exhaustivePerQuery / perQuery))x")
                }
            }
            variants.append(["coarse": "kmeans", "K": 16, "M": m16, "nlist": nlist, "build_seconds": buildSeconds,
                             "exhaustive_seconds_per_query": exhaustivePerQuery, "points": points])
        }
        return variants
    }

    /// Mean over queries of |IVF top k ∩ exhaustive top k| / k.
    static func recall(_ got: [[SearchHit]], _ exact: [[SearchHit]], k: Int) -> Double {
        zip(got, exact).map { Double(Set($0.map(\.index)).intersection($1.map(\.index)).count) / Double(k) }
            .reduce(0, +) / Double(max(exact.count, 1))
    }

    /// N points and Q queries around `clusters` centres c ~ N(0, I): c + spread * N(0, I).
    static func clustered(count: Int, queries: Int, dimension d: Int, clusters: Int, spread: Float,
                          rng: inout SeededRandom) -> (Matrix, Matrix) {
        let centres = (0..<(clusters * d)).map { _ in rng.normal() }
        func points(_ n: Int, _ rng: inout SeededRandom) -> Matrix {
            var values = [Float](repeating: 0, count: n * d)
            for i in 0..<n {
                let c = Int(rng.next() % UInt64(clusters)) * d
                for j in 0..<d { values[i * d + j] = centres[c + j] + spread * rng.normal() }
            }
            return Matrix(rows: n, cols: d, values: values)
        }
        let base = points(count, &rng)
        return (base, points(queries, &rng))
    }

    private func write(_ dir: String, base: Matrix, query: Matrix, codebooks: Codebooks, codes: CodeMatrix,
                       exact: [[SearchHit]]) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try NumpyFile.write(base, to: "\(dir)/xb.npy")
        try NumpyFile.write(query, to: "\(dir)/queries.npy")
        try NumpyFile.write(Matrix(rows: codebooks.blocks * codebooks.size, cols: codebooks.dimension, values: codebooks.values),
                            to: "\(dir)/codebooks.npy")
        try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [codes.count, codes.blocks], data: codes.bytes),
                            to: "\(dir)/codes.npy")
        let ids = exact.flatMap { row in (0..<k).map { $0 < row.count ? Int64(row[$0].index) : -1 } }
        try NumpyFile.write(NumpyArray(dtype: .int64, shape: [exact.count, k], data: ids.map { $0.littleEndian }.withUnsafeBytes { [UInt8]($0) }),
                            to: "\(dir)/gt.npy")
    }

    private func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
    private func f(_ x: Double) -> String { String(format: "%.3f", x) }
}

/// Seconds since the last lap (or reset).
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    mutating func reset() { last = DispatchTime.now().uptimeNanoseconds }
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
