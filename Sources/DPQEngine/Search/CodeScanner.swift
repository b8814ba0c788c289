// Exhaustive asymmetric-distance search over residual/additive codes. For query q, item
// codes b_0..b_{M-1} and a prefix length m <= M:
//     inner product:  s_m = <q, x_hat_m> = sum_{i<m} T[i][b_i]                (higher is better)
//     squared L2:     ||q - x_hat_m||^2 = (||q||^2 - 2 s_m) + ||x_hat_m||^2     (lower is better)
// with T the query's lookup table (LookupTable.swift) and ||x_hat_m||^2 from PrefixNorms.
// s_m is summed in block order starting from 0, exactly as RetrievalEvaluator accumulates
// it, so both rank items identically. The top k is exact: candidates are ordered by
// (score, index) packed into one integer key (TopK.swift), which makes the answer
// independent of how the database is split between threads.

import Foundation

/// One result of a search: a database item and its score (the inner product <q, x_hat>, or
/// the true squared distance ||q - x_hat||^2 including the ||q||^2 term).
public struct SearchHit: Sendable, Equatable {
    public var index: Int
    public var score: Float

    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }
}

/// Reads code i of an item's code bytes.
protocol CodeWidth {
    static var bytes: Int { get }
    static func load(_ item: UnsafeRawPointer, _ i: Int) -> Int
}

enum OneByteCodes: CodeWidth {
    static var bytes: Int { 1 }
    @inline(__always)
    static func load(_ item: UnsafeRawPointer, _ i: Int) -> Int {
        Int(item.load(fromByteOffset: i, as: UInt8.self))
    }
}

enum TwoByteCodes: CodeWidth {
    static var bytes: Int { 2 }
    @inline(__always)
    static func load(_ item: UnsafeRawPointer, _ i: Int) -> Int {
        Int(UInt16(littleEndian: item.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)))
    }
}

public struct CodeScanner: Sendable {
    public let codes: CodeMatrix
    public let norms: PrefixNorms?
    public let codebooks: Codebooks

    /// Items per chunk when one query's scan is split between threads: large enough that
    /// merging per-chunk heaps costs nothing next to the scan.
    static let minimumChunk = 16_384
    /// Queries whose lookup tables are built by one sgemm; bounds the tables' memory.
    static let queryBatch = 256

    /// Preconditions (programmer errors): `1 <= codes.blocks <= codebooks.blocks` (the first
    /// `codes.blocks` codebooks are used), every code is below `codebooks.size`, fewer than
    /// 2^32 items, and `norms`, when given, has the same item count and blocks as `codes`.
    public init(codes: CodeMatrix, norms: PrefixNorms?, codebooks: Codebooks) {
        CodeValidation.requireCodes(codes, below: codebooks.size, caller: "CodeScanner")
        self.init(validCodes: codes, norms: norms, codebooks: codebooks)
    }

    /// The same without checking every code (O(N)): for callers that already guarantee
    /// each code is below `codebooks.size`, such as an index that validated them on insertion.
    public init(validCodes codes: CodeMatrix, norms: PrefixNorms?, codebooks: Codebooks) {
        precondition(codes.blocks >= 1 && codes.blocks <= codebooks.blocks,
                     "CodeScanner: codes have \(codes.blocks) blocks, codebooks \(codebooks.blocks)")
        precondition(codes.count < RankKey.maxItems, "CodeScanner: at most 2^32 - 1 items")
        if let norms {
            precondition(norms.count == codes.count && norms.blocks == codes.blocks,
                         "CodeScanner: norms are \(norms.count)x\(norms.blocks), codes \(codes.count)x\(codes.blocks)")
        }
        self.codes = codes
        self.norms = norms
        self.codebooks = codebooks
    }

    /// Number of database items.
    public var count: Int { codes.count }
    /// Code length M in blocks; any prefix 1...M can be searched.
    public var blocks: Int { codes.blocks }

    /// The k best items for every query row, best first, ties broken by the smaller index.
    ///
    /// - k: results per query; k <= 0 gives empty lists, k above the item count (or the
    ///   number passing `filter`) returns all of them.
    /// - m: prefix length used, 1...blocks.
    /// - filter: when given, only items with filter(index) == true are returned. It may be
    ///   called from several threads, and only for items whose score could enter the top k,
    ///   so it must be a pure function of the index.
    /// - threads: workers (< 1 means 1). Results are identical for every thread count.
    ///   Items whose score is NaN are never returned.
    ///
    /// Preconditions (programmer errors): `queries.cols == codebooks.dimension` (unless there
    /// are no queries), `1 <= m <= blocks`, and `norms` present for `.squaredL2`.
    public func search(queries: Matrix, k: Int, blocks m: Int, metric: SearchMetric,
                       filter: (@Sendable (Int) -> Bool)? = nil,
                       threads: Int = Cores.available) -> [[SearchHit]] {
        let q = queries.rows
        if q == 0 { return [] }
        precondition(queries.cols == codebooks.dimension,
                     "CodeScanner.search: queries have \(queries.cols) columns, codebooks dimension \(codebooks.dimension)")
        precondition(m >= 1 && m <= codes.blocks, "CodeScanner.search: blocks \(m) outside 1...\(codes.blocks)")
        precondition(metric == .innerProduct || norms != nil,
                     "CodeScanner.search: squaredL2 needs PrefixNorms (pass norms: PrefixNorms(codes:codebooks:))")
        let n = codes.count
        if k <= 0 || n == 0 { return [[SearchHit]](repeating: [], count: q) }
        let capacity = min(k, n)
        let workers = max(1, threads)
        let queryNorms = metric == .squaredL2 ? queries.rowSquaredNorms() : [Float](repeating: 0, count: q)

        var results = [[SearchHit]]()
        results.reserveCapacity(q)
        if q >= workers {
            // Enough queries to keep every worker busy with whole scans.
            var start = 0
            while start < q {
                let rows = start..<min(q, start + Self.queryBatch)
                let tables = LookupTables(queries: queries, rows: rows, codebooks: codebooks, blocks: m)
                let batch = ParallelWork.map(count: rows.count, threads: workers) { i in
                    var heap = TopK(capacity: capacity)
                    self.scan(tables: tables, query: i, range: 0..<n, queryNorm: queryNorms[rows.lowerBound + i],
                              blocks: m, metric: metric, filter: filter, into: &heap)
                    return Self.hits(heap.sorted(), metric: metric)
                }
                results.append(contentsOf: batch)
                start = rows.upperBound
            }
        } else {
            // Few queries: split each scan into database chunks, one heap per chunk, merged.
            let chunkCount = max(1, min(workers * 4, n / Self.minimumChunk))
            let chunkSize = (n + chunkCount - 1) / chunkCount
            for qi in 0..<q {
                let tables = LookupTables(queries: queries, rows: qi..<(qi + 1), codebooks: codebooks, blocks: m)
                let partial = ParallelWork.map(count: chunkCount, threads: workers) { c in
                    var heap = TopK(capacity: capacity)
                    let range = (c * chunkSize)..<min(n, (c + 1) * chunkSize)
                    self.scan(tables: tables, query: 0, range: range, queryNorm: queryNorms[qi],
                              blocks: m, metric: metric, filter: filter, into: &heap)
                    return heap.heap
                }
                var merged = TopK(capacity: capacity)
                for keys in partial { for key in keys { merged.push(key) } }
                results.append(Self.hits(merged.sorted(), metric: metric))
            }
        }
        return results
    }

    static func hits(_ keys: [UInt64], metric: SearchMetric) -> [SearchHit] {
        keys.map { key in
            let s = RankKey.score(key)
            // Inner-product keys hold -score; 0 - x keeps a zero score positive.
            return SearchHit(index: RankKey.index(key), score: metric == .innerProduct ? 0 - s : s)
        }
    }

    private func scan(tables: LookupTables, query: Int, range: Range<Int>, queryNorm: Float,
                      blocks m: Int, metric: SearchMetric, filter: (@Sendable (Int) -> Bool)?,
                      into heap: inout TopK) {
        if range.isEmpty { return }
        let width = m * tables.size
        tables.values.withUnsafeBufferPointer { tv in
            codes.bytes.withUnsafeBytes { cb in
                let table = tv.baseAddress! + query * width
                let norms = self.norms?.values ?? [0]
                norms.withUnsafeBufferPointer { nb in
                    if codes.bytesPerCode == 1 {
                        Self.scan(OneByteCodes.self, codes: cb.baseAddress!, blocks: codes.blocks, range: range,
                                  table: table, size: tables.size, m: m, l2: metric == .squaredL2,
                                  norms: nb.baseAddress!, queryNorm: queryNorm, filter: filter, into: &heap)
                    } else {
                        Self.scan(TwoByteCodes.self, codes: cb.baseAddress!, blocks: codes.blocks, range: range,
                                  table: table, size: tables.size, m: m, l2: metric == .squaredL2,
                                  norms: nb.baseAddress!, queryNorm: queryNorm, filter: filter, into: &heap)
                    }
                }
            }
        }
    }

    /// The hot loop. Specialised for the code width, and unrolled for m <= 4 because a
    /// variable-trip inner loop over 1-4 table reads costs more than the reads themselves.
    @inline(__always)
    private static func scan<W: CodeWidth>(_: W.Type, codes: UnsafeRawPointer, blocks bM: Int, range: Range<Int>,
                                           table: UnsafePointer<Float>, size k: Int, m: Int, l2: Bool,
                                           norms: UnsafePointer<Float>, queryNorm qq: Float,
                                           filter: (@Sendable (Int) -> Bool)?, into heap: inout TopK) {
        let stride = bM &* W.bytes
        var threshold = heap.threshold
        var p = codes + range.lowerBound &* stride
        let normBase = norms + (m - 1)

        @inline(__always) func offer(_ item: Int, _ s: Float) {
            let key: Float = l2 ? (qq - 2 * s) + normBase[item &* bM] : -s
            guard key <= threshold else { return }
            if let filter, !filter(item) { return }
            heap.push(RankKey.make(key, item))
            threshold = heap.threshold
        }

        let t0 = table
        // One-byte codes, m = 8: one 64-bit load per item instead of one load per block. The
        // loop is bound by loads (m code bytes + m table reads per item), so this is 1.6x
        // faster at M = 8 (measured; the same trick gains nothing at m = 4). The sum order is
        // unchanged (block 0 first), and the 8 bytes read are within the item (m <= M).
        if W.bytes == 1 && m == 8 {
            let t1 = table + k, t2 = table + 2 * k, t3 = table + 3 * k
            let t4 = table + 4 * k, t5 = table + 5 * k, t6 = table + 6 * k, t7 = table + 7 * k
            for item in range {
                let c = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                @inline(__always) func b(_ shift: UInt64) -> Int { Int(truncatingIfNeeded: (c &>> shift) & 0xff) }
                var s = t0[b(0)] + t1[b(8)]
                s += t2[b(16)]
                s += t3[b(24)]
                s += t4[b(32)]
                s += t5[b(40)]
                s += t6[b(48)]
                s += t7[b(56)]
                offer(item, s)
                p += stride
            }
            return
        }
        switch m {
        case 1:
            for item in range {
                offer(item, t0[W.load(p, 0)])
                p += stride
            }
        case 2:
            let t1 = table + k
            for item in range {
                offer(item, t0[W.load(p, 0)] + t1[W.load(p, 1)])
                p += stride
            }
        case 3:
            let t1 = table + k, t2 = table + 2 * k
            for item in range {
                offer(item, t0[W.load(p, 0)] + t1[W.load(p, 1)] + t2[W.load(p, 2)])
                p += stride
            }
        case 4:
            let t1 = table + k, t2 = table + 2 * k, t3 = table + 3 * k
            for item in range {
                offer(item, t0[W.load(p, 0)] + t1[W.load(p, 1)] + t2[W.load(p, 2)] + t3[W.load(p, 3)])
                p += stride
            }
        default:
            for item in range {
                var s: Float = 0
                var t = table
                for i in 0..<m {
                    s += t[W.load(p, i)]
                    t += k
                }
                offer(item, s)
                p += stride
            }
        }
    }
}
