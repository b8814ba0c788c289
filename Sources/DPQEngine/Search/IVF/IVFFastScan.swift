// IVF search over K = 16 lists in the packed fast-scan layout: the query's float tables become
// byte tables once (QuantizedLookupTables: one scale for all tables, so byte sums of different
// lists compare), each probed list is scanned by CFastScan's kernels with its ids
// (dpq_fs_scan_ids reports entries as their item ids, so one scan state collects every list),
// and the candidates are re-ranked from the float tables as FastScanner does. With `.exact`
// every item within m + 2 byte units of the k-th best byte sum is re-ranked, so with
// nprobe = nlist the answer is CodeScanner's. A filter is applied inside the kernel as a bitmap
// over ids (a predicate fills one with the ids of the lists scanned, as they are reached, and
// clears them after each list: the bitmap is reused, ZeroedBitmaps).
// Batches are scanned list by list rather than query by query: each worker takes a chunk of
// queries, and a list that several of them probe is read once per 4 of them (the kernels score
// 4 queries per pass over a block). The top k is a set of totally ordered keys, and a state's
// reporting threshold only falls as it fills, so every item within the final margin is reported
// whatever the order: the order of the scan never changes the answer.

import CFastScan

extension IVFIndex {
    func fastScanSearch(queries: Matrix, k: Int, blocks m: Int, nprobe: Int, filter: ItemFilter?,
                        rerank: FastScanRerank, threads: Int) -> [[SearchHit]] {
        if case .top(let r) = rerank { precondition(r >= 1, "IVFIndex.search: .top(R) needs R >= 1") }
        let q = queries.rows
        let n = count
        let kq: Int, margin: Int
        switch rerank {
        case .none: (kq, margin) = (min(k, n), 0)
        case .top(let r): (kq, margin) = (min(max(k, r), n), 0)
        case .exact: (kq, margin) = (min(k, n), m + 2)
        }
        // A bitmap is read as it is (padded to cover every stored id); a predicate fills a bitmap
        // with the ids of the lists actually scanned, as each is reached (O(probed entries), not O(ids)).
        let bitmap: [UInt64]?, predicate: (@Sendable (Int) -> Bool)?
        switch filter {
        case nil: (bitmap, predicate) = (nil, nil)
        case .bitmap(let words):
            (bitmap, predicate) = (words.count * 64 >= locationCount ? words
                : words + [UInt64](repeating: 0, count: (locationCount + 63) / 64 - words.count), nil)
        case .predicate(let f): (bitmap, predicate) = (nil, f)
        }
        let workers = max(1, threads)
        var results = [[SearchHit]]()
        results.reserveCapacity(q)
        if q >= workers {
            var start = 0
            while start < q {
                let rows = start..<min(q, start + CodeScanner.queryBatch)
                let chunks = queryChunks(rows, workers: workers, blocks: m)
                let batch = ParallelWork.map(count: chunks.count, threads: workers) { c in
                    let members = chunks[c]
                    let tables = LookupTables(queries: queries, rows: members, codebooks: self.codebooks, blocks: m)
                    let bytes = QuantizedLookupTables(tables)
                    let probed = self.coarse.probe(queries: queries, rows: members, tables: tables, metric: .innerProduct,
                                                   nprobe: nprobe)
                    return self.fastScan(probed, bytes: bytes, capacity: kq, margin: margin, bitmap: bitmap, predicate: predicate).enumerated().map {
                        self.finish([$1], tables: tables, bytes: bytes, query: $0, k: k, kq: kq, m: m, rerank: rerank)
                    }
                }
                results.append(contentsOf: batch.joined())
                start = rows.upperBound
            }
        } else {
            for qi in 0..<q {
                let tables = LookupTables(queries: queries, rows: qi..<(qi + 1), codebooks: codebooks, blocks: m)
                let bytes = QuantizedLookupTables(tables)
                let probed = coarse.probe(queries: queries, rows: qi..<(qi + 1), tables: tables, metric: .innerProduct,
                                          nprobe: nprobe)[0]
                let chunks = chunk(probed, workers: workers)
                let parts = ParallelWork.map(count: chunks.count, threads: workers) { c in
                    self.fastScan([chunks[c]], bytes: bytes, capacity: kq, margin: margin, bitmap: bitmap, predicate: predicate)[0]
                }
                results.append(finish(parts, tables: tables, bytes: bytes, query: 0, k: k, kq: kq, m: m, rerank: rerank))
            }
        }
        return results
    }

    /// Ids the direct map covers (the largest id ever added, plus one).
    var locationCount: Int { directMap.count }

    /// Scans the lists `probed[j]` for query j of `bytes`, one state per query, list by list: a
    /// list probed by several of the queries is read once per 4 of them (the kernels score up to
    /// 4 queries per pass over a block), and stays in cache between those passes.
    private func fastScan(_ probed: [[Int]], bytes: QuantizedLookupTables, capacity: Int, margin: Int,
                          bitmap: [UInt64]?, predicate: (@Sendable (Int) -> Bool)?) -> [FastScanner.Found] {
        let empty = FastScanner.Found(heap: [], candidates: [])
        guard case .fastScan(let stored) = lists.layout else { return probed.map { _ in empty } }
        // The (list, query) pairs by list: a counting sort.
        var first = [Int](repeating: 0, count: listCount + 1)
        for (j, lists) in probed.enumerated() where bytes.finite[j] { for list in lists { first[list + 1] += 1 } }
        for list in 0..<listCount { first[list + 1] += first[list] }
        var members = [Int](repeating: 0, count: first[listCount])
        var next = first
        for (j, lists) in probed.enumerated() where bytes.finite[j] {
            for list in lists {
                members[next[list]] = j
                next[list] += 1
            }
        }
        let states = probed.indices.map { bytes.finite[$0] ? dpq_fs_state_new(Int32(capacity), Int32(margin)) : nil }
        defer { states.forEach { dpq_fs_state_free($0) } }
        precondition(zip(probed.indices, states).allSatisfy { !bytes.finite[$0] || $1 != nil }, "IVFIndex: out of memory")
        let width = bytes.groups * 64
        var luts = [UInt8](repeating: 0, count: 4 * width)
        var group = [OpaquePointer?](repeating: nil, count: 4)
        // Marked per list and cleared after it, so that the bitmap goes back to the pool all zero.
        var filled = predicate == nil ? [] : ZeroedBitmaps.take(words: (locationCount + 63) / 64)
        defer { if predicate != nil { ZeroedBitmaps.giveBack(filled) } }
        let given = bitmap ?? []
        bytes.bytes.withUnsafeBufferPointer { all in
            luts.withUnsafeMutableBufferPointer { l in
                group.withUnsafeMutableBufferPointer { g in
                    given.withUnsafeBufferPointer { b in filled.withUnsafeMutableBufferPointer { a in
                        let allowed: UnsafePointer<UInt64>? = predicate != nil ? UnsafePointer(a.baseAddress)
                            : bitmap != nil ? b.baseAddress : nil
                        for list in 0..<listCount where first[list] < first[list + 1] {
                            lists.withList(list) { ids, codes in
                                let entries = ids.count
                                if entries == 0 { return }
                                if let predicate {
                                    for id in ids where predicate(Int(id)) { a[Int(id) >> 6] |= 1 << UInt64(id & 63) }
                                }
                                var j = first[list]
                                while j < first[list + 1] {
                                    let nq = min(4, first[list + 1] - j)
                                    for t in 0..<nq {
                                        let query = members[j + t]
                                        (l.baseAddress! + t * width).update(from: all.baseAddress! + query * width, count: width)
                                        g[t] = states[query]
                                    }
                                    dpq_fs_scan_ids(codes.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(stored), entries,
                                                    0, (entries + 31) / 32, l.baseAddress, Int32(bytes.groups), Int32(nq),
                                                    g.baseAddress, ids.baseAddress, allowed)
                                    j += nq
                                }
                                if predicate != nil { for id in ids { a[Int(id) >> 6] = 0 } }
                            }
                        }
                    } }
                }
            }
        }
        return states.map { state in
            guard let state else { return empty }
            var count = 0
            let h = dpq_fs_state_heap(state, &count)
            var found = FastScanner.Found(heap: Array(UnsafeBufferPointer(start: h, count: count)), candidates: [])
            if margin > 0 {
                let c = dpq_fs_state_candidates(state, &count)
                found.candidates = Array(UnsafeBufferPointer(start: c, count: count))
            }
            return found
        }
    }

    /// Merges one query's scan states and re-ranks (FastScanner.finish, reading codes from the lists).
    private func finish(_ parts: [FastScanner.Found], tables: LookupTables, bytes: QuantizedLookupTables, query qi: Int,
                        k: Int, kq: Int, m: Int, rerank: FastScanRerank) -> [SearchHit] {
        let items: [Int]
        switch FastScanner.shortlist(parts, bytes: bytes, query: qi, k: k, kq: kq, m: m, rerank: rerank) {
        case .hits(let hits): return hits
        case .rescore(let list): items = list
        }
        var heap = TopK(capacity: k)
        tables.values.withUnsafeBufferPointer { tv in
            let t = tv.baseAddress! + qi * m * 16
            for item in items {
                guard let (list, slot) = location(of: item) else { continue }
                // Summed in block order from block 0, from the nibbles in place.
                let s: Float = lists.withList(list) { _, codes in
                    var s: Float = 0
                    for i in 0..<m { s += t[i * 16 + Int(PackedNibbles.get(codes, blocks: blocks, entry: slot, block: i))] }
                    return s
                }
                if !s.isNaN { heap.push(RankKey.make(-s, item)) }
            }
        }
        return CodeScanner.hits(heap.sorted(), metric: .innerProduct)
    }
}
