// Retrieval quality of every code length from one model (DPQ/DVSQ protocol).
// For a query, rank the database by the metric on x_hat_m (best first, ties by index) and
// measure mAP@R, precision@k and recall@k against the exact float neighbours (Ranking.swift).
// Prefix scores nest:  s_m = s_{m-1} + T[m-1][b_{m-1}],  s_0 = 0,  and for squared L2
// d_m = (||q||^2 - 2 s_m) + ||x_hat_m||^2 -- so ONE pass over the codes with the query's
// lookup table yields the scores of every requested m, each exactly the value CodeScanner
// computes for that m. Queries are evaluated in parallel; per-query results are averaged in
// query order, so the report does not depend on the thread count.

import Foundation

/// Retrieval quality at one code length.
public struct CodeLengthReport: Sendable, Codable, Equatable {
    /// Prefix length m in blocks.
    public var blocks: Int
    /// Code bits: m * ceil(log2 K).
    public var bits: Int
    /// Mean over queries of AP@R.
    public var meanAveragePrecision: Double
    /// k -> mean precision@k.
    public var precisionAtK: [Int: Double]
    /// k -> mean recall@k against exact float neighbours; empty when none were given.
    public var recallAtK: [Int: Double]

    public init(blocks: Int, bits: Int, meanAveragePrecision: Double,
                precisionAtK: [Int: Double], recallAtK: [Int: Double]) {
        self.blocks = blocks
        self.bits = bits
        self.meanAveragePrecision = meanAveragePrecision
        self.precisionAtK = precisionAtK
        self.recallAtK = recallAtK
    }
}

public enum RetrievalEvaluator {
    /// Queries whose lookup tables (or float scores) are computed by one sgemm.
    static let queryBatch = 128

    /// Reports for every requested code length, ascending in `blocks`.
    ///
    /// - R (`mapAt`): ranks counted by AP; nil = whole database; clamped to 1...N.
    /// - ks (`precisionAt`): k <= 0 are ignored; P@k divides by k even when k > N.
    /// - recall ks (`recallAt`): used only with `exactNeighbours` (per query, the ids of the
    ///   exact float top max(recall ks), best first); R@k divides by min(k, list length),
    ///   and a query with an empty list scores 0. Ids outside the database never match.
    /// - blocks: prefix lengths to report; nil = 1...M; values outside 1...M are ignored.
    /// - threads: workers (< 1 means 1); results do not depend on it.
    ///
    /// Preconditions (programmer errors): `queries.cols == codebooks.dimension`,
    /// `1 <= codes.blocks <= codebooks.blocks`, codes below `codebooks.size`,
    /// `queryLabels.count == queries.rows`, `databaseLabels.count == codes.count`,
    /// `exactNeighbours?.count == queries.rows`, `norms` present (and matching) for
    /// `.squaredL2`, fewer than 2^32 items.
    public static func evaluate(queries: Matrix, queryLabels: Labels,
                                codes: CodeMatrix, norms: PrefixNorms?, codebooks: Codebooks,
                                databaseLabels: Labels, metric: SearchMetric,
                                mapAt R: Int?, precisionAt ks: [Int], recallAt recallKs: [Int],
                                exactNeighbours: [[Int]]?, blocks requested: [Int]? = nil,
                                threads: Int = Cores.available) -> [CodeLengthReport] {
        let q = queries.rows, n = codes.count, bM = codes.blocks, kSize = codebooks.size
        precondition(q == 0 || queries.cols == codebooks.dimension,
                     "evaluate: queries have \(queries.cols) columns, codebooks dimension \(codebooks.dimension)")
        precondition(bM >= 1 && bM <= codebooks.blocks, "evaluate: codes have \(bM) blocks, codebooks \(codebooks.blocks)")
        precondition(queryLabels.count == q, "evaluate: \(queryLabels.count) query labels for \(q) queries")
        precondition(databaseLabels.count == n, "evaluate: \(databaseLabels.count) database labels for \(n) items")
        precondition(n < RankKey.maxItems, "evaluate: at most 2^32 - 1 items")
        if let exactNeighbours {
            precondition(exactNeighbours.count == q, "evaluate: \(exactNeighbours.count) exact lists for \(q) queries")
        }
        let l2 = metric == .squaredL2
        if l2 {
            precondition(norms != nil, "evaluate: squaredL2 needs PrefixNorms (PrefixNorms(codes:codebooks:))")
            precondition(norms!.count == n && norms!.blocks == bM, "evaluate: norms do not match codes")
        }
        CodeValidation.requireCodes(codes, below: kSize, caller: "evaluate")

        let ms = Array(Set((requested ?? Array(1...bM)).filter { $0 >= 1 && $0 <= bM })).sorted()
        if ms.isEmpty { return [] }
        let pks = positiveSorted(ks)
        let rks = exactNeighbours == nil ? [] : positiveSorted(recallKs)
        let mapDepth = clampedDepth(R, n)
        let depth = min(n, max(mapDepth, pks.last ?? 0, rks.last ?? 0))
        let slots = ms.count
        let perSlot = 1 + pks.count + rks.count
        let queryNorms = l2 ? queries.rowSquaredNorms() : [Float](repeating: 0, count: q)
        let normValues = norms?.values ?? [0]
        let maxRecall = rks.last ?? 0
        let bitsPerBlock = kSize <= 1 ? 0 : Int.bitWidth - (kSize - 1).leadingZeroBitCount
        if q == 0 || n == 0 {
            return ms.map { m in
                CodeLengthReport(blocks: m, bits: m * bitsPerBlock, meanAveragePrecision: 0,
                                 precisionAtK: Dictionary(uniqueKeysWithValues: pks.map { ($0, 0.0) }),
                                 recallAtK: Dictionary(uniqueKeysWithValues: rks.map { ($0, 0.0) }))
            }
        }

        var perQuery = [[Double]]()
        perQuery.reserveCapacity(q)
        for start in stride(from: 0, to: q, by: queryBatch) {
            let rows = start..<min(q, start + queryBatch)
            let tables = LookupTables(queries: queries, rows: rows, codebooks: codebooks, blocks: ms.last!)
            let batch = ParallelWork.map(count: rows.count, threads: threads, state: {
                EvaluationScratch(count: n, slots: slots)
            }) { scratch, i in
                let query = rows.lowerBound + i
                tables.values.withUnsafeBufferPointer { tv in
                    codes.bytes.withUnsafeBytes { cb in
                        normValues.withUnsafeBufferPointer { nb in
                            ms.withUnsafeBufferPointer { ends in
                                let table = tv.baseAddress! + i * tables.blocks * kSize
                                if codes.bytesPerCode == 1 {
                                    prefixKeys(OneByteCodes.self, codes: cb.baseAddress!, count: n, blocks: bM,
                                               table: table, size: kSize, ends: ends, l2: l2, norms: nb.baseAddress!,
                                               queryNorm: queryNorms[query], into: scratch.keys)
                                } else {
                                    prefixKeys(TwoByteCodes.self, codes: cb.baseAddress!, count: n, blocks: bM,
                                               table: table, size: kSize, ends: ends, l2: l2, norms: nb.baseAddress!,
                                               queryNorm: queryNorms[query], into: scratch.keys)
                                }
                            }
                        }
                    }
                }
                RankingMeasure.relevance(query: query, queryLabels: queryLabels,
                                         databaseLabels: databaseLabels, into: scratch.relevant)
                let list = exactNeighbours?[query].prefix(maxRecall) ?? []
                for (pos, id) in list.enumerated() where id >= 0 && id < n && scratch.exactRank[id] == .max {
                    scratch.exactRank[id] = Int32(pos)
                }
                var out = [Double]()
                out.reserveCapacity(slots * perSlot)
                for s in 0..<slots {
                    let keys = scratch.keys + s * n
                    scratch.workspace.rank(keys, count: n, depth: depth)
                    RankingMeasure.measure(ranked: keys, available: depth, relevant: scratch.relevant,
                                           positions: scratch.positions, mapDepth: mapDepth, precisionAt: pks,
                                           recallAt: rks, exactRank: scratch.exactRank, exactCount: list.count,
                                           into: &out)
                }
                for id in list where id >= 0 && id < n { scratch.exactRank[id] = .max }
                return out
            }
            perQuery.append(contentsOf: batch)
        }

        return ms.enumerated().map { s, m in
            let base = s * perSlot
            let mean = { (offset: Int) -> Double in
                q == 0 ? 0 : perQuery.reduce(0.0) { $0 + $1[base + offset] } / Double(q)
            }
            var precision = [Int: Double]()
            for (i, k) in pks.enumerated() { precision[k] = mean(1 + i) }
            var recall = [Int: Double]()
            for (i, k) in rks.enumerated() { recall[k] = mean(1 + pks.count + i) }
            return CodeLengthReport(blocks: m, bits: m * bitsPerBlock, meanAveragePrecision: mean(0),
                                    precisionAtK: precision, recallAtK: recall)
        }
    }

    /// Writes keys[s*n + item] for every requested prefix ends[s], in one pass over the codes.
    @inline(__always)
    private static func prefixKeys<W: CodeWidth>(_: W.Type, codes: UnsafeRawPointer, count n: Int, blocks bM: Int,
                                                 table: UnsafePointer<Float>, size k: Int, ends: UnsafeBufferPointer<Int>,
                                                 l2: Bool, norms: UnsafePointer<Float>, queryNorm qq: Float,
                                                 into keys: UnsafeMutablePointer<UInt64>) {
        let stride = bM &* W.bytes
        var p = codes
        for item in 0..<n {
            var s: Float = 0
            var i = 0
            var t = table
            var out = keys + item
            for end in ends {
                while i < end {
                    s += t[W.load(p, i)]
                    t += k
                    i &+= 1
                }
                let key: Float = l2 ? (qq - 2 * s) + norms[item &* bM &+ end &- 1] : -s
                out.pointee = RankKey.make(key, item)
                out += n
            }
            p += stride
        }
    }

    /// mAP@R of explicit rankings (database ids, best first), e.g. from float features.
    /// R = nil uses each whole ranking; ids outside the database count as not relevant.
    /// Precondition (programmer error): `rankings.count == queryLabels.count`.
    public static func meanAveragePrecision(rankings: [[Int]], queryLabels: Labels,
                                            databaseLabels: Labels, R: Int?) -> Double {
        precondition(rankings.count == queryLabels.count,
                     "meanAveragePrecision: \(rankings.count) rankings for \(queryLabels.count) queries")
        if rankings.isEmpty { return 0 }
        var total = 0.0
        for (query, ranking) in rankings.enumerated() {
            let depth = min(ranking.count, max(R ?? ranking.count, 0))
            var hits = 0
            var sum = 0.0
            for j in 0..<depth {
                let id = ranking[j]
                guard id >= 0 && id < databaseLabels.count,
                      queryLabels.shares(query, with: databaseLabels, id) else { continue }
                hits += 1
                sum += Double(hits) / Double(j + 1)
            }
            total += hits > 0 ? sum / Double(hits) : 0
        }
        return total / Double(rankings.count)
    }

    /// mAP@R and precision@k of exact float features (the network's ceiling before
    /// quantisation): database rows ranked by <q, x> or ||q - x||^2, ties by index.
    /// Arguments as in `evaluate`. Preconditions (programmer errors): `queries.cols ==
    /// database.cols`, label counts match the row counts, fewer than 2^32 database rows.
    public static func evaluateFloat(queries: Matrix, queryLabels: Labels, database: Matrix,
                                     databaseLabels: Labels, metric: SearchMetric,
                                     mapAt R: Int?, precisionAt ks: [Int],
                                     threads: Int = Cores.available)
        -> (map: Double, precisionAtK: [Int: Double]) {
        let q = queries.rows, n = database.rows, d = queries.cols
        precondition(q == 0 || n == 0 || queries.cols == database.cols,
                     "evaluateFloat: queries have \(queries.cols) columns, database \(database.cols)")
        precondition(queryLabels.count == q, "evaluateFloat: \(queryLabels.count) query labels for \(q) queries")
        precondition(databaseLabels.count == n, "evaluateFloat: \(databaseLabels.count) database labels for \(n) rows")
        precondition(n < RankKey.maxItems, "evaluateFloat: at most 2^32 - 1 database rows")
        let pks = positiveSorted(ks)
        let mapDepth = clampedDepth(R, n)
        let depth = min(n, max(mapDepth, pks.last ?? 0))
        let l2 = metric == .squaredL2
        let queryNorms = l2 ? queries.rowSquaredNorms() : []
        let rowNorms = l2 ? database.rowSquaredNorms() : []
        if q == 0 || n == 0 { return (0, Dictionary(uniqueKeysWithValues: pks.map { ($0, 0.0) })) }

        var perQuery = [[Double]]()
        perQuery.reserveCapacity(q)
        var products = [Float](repeating: 0, count: min(q, queryBatch) * n)
        for start in stride(from: 0, to: q, by: queryBatch) {
            let rows = start..<min(q, start + queryBatch)
            queries.values.withUnsafeBufferPointer { qv in
                database.values.withUnsafeBufferPointer { dv in
                    products.withUnsafeMutableBufferPointer { out in
                        guard let qb = qv.baseAddress, let db = dv.baseAddress, let ob = out.baseAddress else { return }
                        InnerProducts.compute(qb + start * d, rows: rows.count, db, rows: n, dimension: d, into: ob)
                    }
                }
            }
            let block = products
            let batch = ParallelWork.map(count: rows.count, threads: threads, state: {
                EvaluationScratch(count: n, slots: 1)
            }) { scratch, i in
                let query = rows.lowerBound + i
                block.withUnsafeBufferPointer { g in
                    let row = g.baseAddress! + i * n
                    for j in 0..<n {
                        let key = l2 ? (queryNorms[query] - 2 * row[j]) + rowNorms[j] : -row[j]
                        scratch.keys[j] = RankKey.make(key, j)
                    }
                }
                scratch.workspace.rank(scratch.keys, count: n, depth: depth)
                RankingMeasure.relevance(query: query, queryLabels: queryLabels,
                                         databaseLabels: databaseLabels, into: scratch.relevant)
                var out = [Double]()
                RankingMeasure.measure(ranked: scratch.keys, available: depth, relevant: scratch.relevant,
                                       positions: scratch.positions, mapDepth: mapDepth, precisionAt: pks,
                                       recallAt: [], exactRank: scratch.exactRank, exactCount: 0, into: &out)
                return out
            }
            perQuery.append(contentsOf: batch)
        }
        let mean = { (offset: Int) -> Double in
            q == 0 ? 0 : perQuery.reduce(0.0) { $0 + $1[offset] } / Double(q)
        }
        var precision = [Int: Double]()
        for (i, k) in pks.enumerated() { precision[k] = mean(1 + i) }
        return (mean(0), precision)
    }

    /// One worker's buffers, reused for all its queries. A class so that the hot loops get
    /// plain pointers for the worker's lifetime instead of nested buffer-pointer closures.
    final class EvaluationScratch {
        /// slots * n packed keys, one row of n per requested prefix length.
        let keys: UnsafeMutablePointer<UInt64>
        /// relevant[j] = 1 when item j is relevant to the current query.
        let relevant: UnsafeMutablePointer<UInt8>
        /// Position of an item in the current query's exact list, Int32.max elsewhere.
        let exactRank: UnsafeMutablePointer<Int32>
        /// Ranks of the relevant items of one ranking (RankingMeasure.measure).
        let positions: UnsafeMutablePointer<Int32>
        var workspace: RankingWorkspace
        private let keyCount: Int, count: Int

        init(count n: Int, slots: Int) {
            count = n
            keyCount = max(1, slots * n)
            keys = .allocate(capacity: keyCount)
            keys.initialize(repeating: 0, count: keyCount)
            relevant = .allocate(capacity: n + 1)
            relevant.initialize(repeating: 0, count: n + 1)
            exactRank = .allocate(capacity: n + 1)
            exactRank.initialize(repeating: .max, count: n + 1)
            positions = .allocate(capacity: n + 1)
            positions.initialize(repeating: 0, count: n + 1)
            workspace = RankingWorkspace(capacity: n)
        }

        deinit {
            keys.deallocate()
            relevant.deallocate()
            exactRank.deallocate()
            positions.deallocate()
        }
    }

    private static func positiveSorted(_ ks: [Int]) -> [Int] { Array(Set(ks.filter { $0 > 0 })).sorted() }

    private static func clampedDepth(_ r: Int?, _ n: Int) -> Int { min(max(r ?? n, 1), max(n, 1)) }
}
