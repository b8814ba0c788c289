// Exhaustive inner-product search over 4-bit codes (K = 16) with the fast-scan kernels:
// byte tables (QuantizedLookupTables.swift) looked up 16-64 at a time in registers and
// summed in 16 bits (CFastScan). The byte sums rank items approximately; re-ranking
// recomputes <q, x_hat> = sum_{i<m} T[i][b_i] from the float tables for a few candidates:
//   .none     the top k by byte sum (scores approximate: B - d / a);
//   .top(R)   the top R by byte sum, re-ranked exactly: the usual speed/recall knob;
//   .exact    every item whose byte sum is within m + 2 of the k-th best, re-ranked: the
//             byte sum is within m/2 of the scaled true distance, so the answer is exactly
//             CodeScanner's (same scores, same tie-breaking by index).
// Exact scores are summed in block order from block 0, like CodeScanner and the evaluator.

import CFastScan
import Foundation

public enum FastScanRerank: Sendable, Equatable {
    case none
    case top(Int)
    case exact
}

public struct FastScanner: Sendable {
    public let codes: FastScanCodes
    public let codebooks: Codebooks

    /// Blocks of 32 items scanned for a group of queries before moving on, sized so that
    /// they stay in L2 while each query of the group reads them.
    static let cacheBytes = 256 * 1024
    /// Queries sharing one pass over the codes in batch mode.
    static let queryGroup = 16
    /// Items per chunk when one query is split between threads.
    static let minimumChunk = 65_536

    /// Preconditions (programmer errors): codebooks of K = 16 codewords, and
    /// `1 <= codes.blocks <= codebooks.blocks`.
    public init(codes: FastScanCodes, codebooks: Codebooks) {
        precondition(codebooks.size == 16, "FastScanner: codebooks must have 16 codewords, not \(codebooks.size)")
        precondition(codes.blocks >= 1 && codes.blocks <= codebooks.blocks,
                     "FastScanner: codes have \(codes.blocks) blocks, codebooks \(codebooks.blocks)")
        self.codes = codes
        self.codebooks = codebooks
    }

    public var count: Int { codes.count }
    public var blocks: Int { codes.blocks }

    /// The k best items (largest inner product) for every query row, best first.
    ///
    /// - m: prefix length used, 1...blocks; the scan reads ceil(m/4) of the code's groups.
    /// - threads: workers (< 1 means 1); results are identical for every thread count.
    /// Queries with a non-finite table entry get no results. k <= 0 gives empty lists.
    ///
    /// Preconditions (programmer errors): `queries.cols == codebooks.dimension` (unless there
    /// are no queries), `1 <= m <= blocks`, and R >= 1 for `.top(R)`.
    public func search(queries: Matrix, k: Int, blocks m: Int, rerank: FastScanRerank = .exact,
                       threads: Int = Cores.available) -> [[SearchHit]] {
        let q = queries.rows
        if q == 0 { return [] }
        precondition(queries.cols == codebooks.dimension,
                     "FastScanner.search: queries have \(queries.cols) columns, codebooks dimension \(codebooks.dimension)")
        precondition(m >= 1 && m <= codes.blocks, "FastScanner.search: blocks \(m) outside 1...\(codes.blocks)")
        if case .top(let r) = rerank { precondition(r >= 1, "FastScanner.search: .top(R) needs R >= 1") }
        let n = codes.count
        if k <= 0 || n == 0 { return [[SearchHit]](repeating: [], count: q) }
        let kq: Int, margin: Int
        switch rerank {
        case .none: (kq, margin) = (min(k, n), 0)
        case .top(let r): (kq, margin) = (min(max(k, r), n), 0)
        case .exact: (kq, margin) = (min(k, n), m + 2)
        }
        let workers = max(1, threads)
        var results = [[SearchHit]]()
        results.reserveCapacity(q)
        // Tables are built as CodeScanner builds them (256-row batches, or one query at a
        // time when there are fewer queries than workers), so the float scores are identical.
        if q >= workers {
            var start = 0
            while start < q {
                let rows = start..<min(q, start + CodeScanner.queryBatch)
                let tables = LookupTables(queries: queries, rows: rows, codebooks: codebooks, blocks: m)
                let bytes = QuantizedLookupTables(tables)
                // Groups of up to queryGroup queries, but at least one group per worker.
                let size = max(1, min(Self.queryGroup, (rows.count + workers - 1) / workers))
                let groups = (rows.count + size - 1) / size
                let found = ParallelWork.map(count: groups, threads: workers) { g in
                    let members = (g * size)..<min(rows.count, (g + 1) * size)
                    return self.scan(bytes, queries: members, blockRange: 0..<codes.itemBlocks, capacity: kq, margin: margin)
                        .enumerated().map { self.finish([$1], tables: tables, bytes: bytes, query: members.lowerBound + $0,
                                                        k: k, kq: kq, m: m, rerank: rerank) }
                }
                results.append(contentsOf: found.joined())
                start = rows.upperBound
            }
        } else {
            let itemBlocks = codes.itemBlocks
            let chunkCount = max(1, min(workers * 4, n / Self.minimumChunk))
            let per = (itemBlocks + chunkCount - 1) / chunkCount
            for qi in 0..<q {
                let tables = LookupTables(queries: queries, rows: qi..<(qi + 1), codebooks: codebooks, blocks: m)
                let bytes = QuantizedLookupTables(tables)
                let parts = ParallelWork.map(count: chunkCount, threads: workers) { c in
                    self.scan(bytes, queries: 0..<1, blockRange: (c * per)..<min(itemBlocks, (c + 1) * per),
                              capacity: kq, margin: margin)[0]
                }
                results.append(finish(parts, tables: tables, bytes: bytes, query: 0, k: k, kq: kq, m: m, rerank: rerank))
            }
        }
        return results
    }

    /// One worker's keys (d << 32 | item) for one query: its heap and, with a margin, its candidates.
    struct Found: Sendable {
        var heap: [UInt64]
        var candidates: [UInt64]
    }

    /// Scans `blockRange` for the queries `queries` (rows of `bytes`), cache block by cache block.
    private func scan(_ bytes: QuantizedLookupTables, queries: Range<Int>, blockRange: Range<Int>,
                      capacity: Int, margin: Int) -> [Found] {
        let live = queries.filter { bytes.finite[$0] }
        var states = live.map { _ in dpq_fs_state_new(Int32(capacity), Int32(margin)) }
        precondition(states.allSatisfy { $0 != nil }, "FastScanner: out of memory")
        defer { states.forEach { dpq_fs_state_free($0) } }
        let width = bytes.groups * 64
        var luts = [UInt8](repeating: 0, count: live.count * width)
        for (j, qi) in live.enumerated() {
            luts.replaceSubrange((j * width)..<((j + 1) * width), with: bytes.bytes[(qi * width)..<((qi + 1) * width)])
        }
        let step = max(1, Self.cacheBytes / (codes.groups * 64))
        if !live.isEmpty && !blockRange.isEmpty {
            codes.packed.withUnsafeBufferPointer { packed in
                luts.withUnsafeBufferPointer { l in
                    states.withUnsafeMutableBufferPointer { s in
                        var b = blockRange.lowerBound
                        while b < blockRange.upperBound {
                            let nb = min(step, blockRange.upperBound - b)
                            dpq_fs_scan(packed.baseAddress, Int32(codes.blocks), codes.count, b, nb, l.baseAddress,
                                        Int32(bytes.groups), Int32(live.count), s.baseAddress)
                            b += nb
                        }
                    }
                }
            }
        }
        var out = [Found](repeating: Found(heap: [], candidates: []), count: queries.count)
        for (j, qi) in live.enumerated() {
            var count = 0
            let h = dpq_fs_state_heap(states[j], &count)
            out[qi - queries.lowerBound].heap = Array(UnsafeBufferPointer(start: h, count: count))
            if margin > 0 {
                let c = dpq_fs_state_candidates(states[j], &count)
                out[qi - queries.lowerBound].candidates = Array(UnsafeBufferPointer(start: c, count: count))
            }
        }
        return out
    }

    /// What merging the workers' keys for one query leaves: the answer itself (no re-ranking, or
    /// nothing to rank), or the items whose exact scores decide it. Shared with IVFFastScan.
    enum Shortlist {
        case hits([SearchHit])
        case rescore([Int])
    }

    static func shortlist(_ parts: [Found], bytes: QuantizedLookupTables, query qi: Int,
                          k: Int, kq: Int, m: Int, rerank: FastScanRerank) -> Shortlist {
        guard bytes.finite[qi] else { return .hits([]) }
        let best = Array(parts.flatMap(\.heap).sorted().prefix(kq))
        switch rerank {
        case .none:
            let a = bytes.scale[qi], b = bytes.bias[qi]
            return .hits(best.prefix(k).map { SearchHit(index: Int($0 & 0xFFFF_FFFF), score: b - Float($0 >> 32) / a) })
        case .top:
            return .rescore(best.map { Int($0 & 0xFFFF_FFFF) })
        case .exact:
            guard let last = best.last else { return .hits([]) }
            let limit = (last >> 32) + UInt64(m + 2)
            return .rescore(parts.flatMap(\.candidates).filter { $0 >> 32 <= limit }.map { Int($0 & 0xFFFF_FFFF) })
        }
    }

    /// Merges the workers' keys for one query and re-ranks them.
    private func finish(_ parts: [Found], tables: LookupTables, bytes: QuantizedLookupTables, query qi: Int,
                        k: Int, kq: Int, m: Int, rerank: FastScanRerank) -> [SearchHit] {
        let items: [Int]
        switch Self.shortlist(parts, bytes: bytes, query: qi, k: k, kq: kq, m: m, rerank: rerank) {
        case .hits(let hits): return hits
        case .rescore(let list): items = list
        }
        var heap = TopK(capacity: k)
        tables.values.withUnsafeBufferPointer { tv in
            let t = tv.baseAddress! + qi * m * 16
            codes.packed.withUnsafeBufferPointer { p in
                for item in items {
                    // Summed in block order, from the nibbles in place.
                    var s: Float = 0
                    for i in 0..<m {
                        let (o, shift) = codes.offset(item, i)
                        s += t[i * 16 + Int((p[o] >> shift) & 0x0F)]
                    }
                    if !s.isNaN { heap.push(RankKey.make(-s, item)) }
                }
            }
        }
        return CodeScanner.hits(heap.sorted(), metric: .innerProduct)
    }
}
