// IVF search: rank the lists per query (CoarseQuantizer.probe), scan the best nprobe with the
// kernel of the lists' layout, keep the top k as CodeScanner does. Lookup tables are built
// exactly as CodeScanner builds them (256-query batches, cut at the same sgemm calls, when there
// are at least as many queries as workers, else one query at a time), so the float scores are
// identical too. Work split: chunks of whole queries per worker, each building its own tables
// and probes, when there are enough queries; otherwise one query's
// probed lists are cut into chunks of similar entry counts, one heap each, merged. The top k
// is a set of totally ordered keys, so the answer never depends on the split.

extension IVFIndex {
    /// The k best items for every query row, best first, ties broken by the smaller id.
    ///
    /// - m: prefix length, 1...blocks. nprobe: lists scanned, clamped to 1...nlist
    ///   (nlist scans everything and returns exactly CodeScanner's answer).
    /// - filter: only items it allows are returned (checked for candidates only).
    /// - rerank: fast-scan lists only (see FastScanner); `.exact` keeps the contract above.
    /// Preconditions (programmer errors): `queries.cols == codebooks.dimension` (unless there are
    /// no queries), `1 <= m <= blocks`, norms kept for `.squaredL2`, inner product for fast-scan lists.
    public func search(queries: Matrix, k: Int, blocks m: Int, metric: SearchMetric, nprobe: Int,
                       filter: ItemFilter? = nil, rerank: FastScanRerank = .exact,
                       threads: Int = Cores.available) -> [[SearchHit]] {
        let q = queries.rows
        if q == 0 { return [] }
        precondition(queries.cols == codebooks.dimension,
                     "IVFIndex.search: queries have \(queries.cols) columns, codebooks dimension \(codebooks.dimension)")
        precondition(m >= 1 && m <= blocks, "IVFIndex.search: blocks \(m) outside 1...\(blocks)")
        precondition(metric == .innerProduct || listNorms != nil, "IVFIndex.search: squaredL2 needs an index that keeps norms")
        if k <= 0 || count == 0 { return [[SearchHit]](repeating: [], count: q) }
        let probes = min(max(nprobe, 1), listCount)
        if case .fastScan = lists.layout {
            precondition(metric == .innerProduct, "IVFIndex.search: fast-scan lists serve inner product only")
            return fastScanSearch(queries: queries, k: k, blocks: m, nprobe: probes, filter: filter, rerank: rerank,
                                  threads: threads)
        }
        let capacity = min(k, count)
        let workers = max(1, threads)
        let queryNorms = metric == .squaredL2 ? queries.rowSquaredNorms() : [Float](repeating: 0, count: q)
        var results = [[SearchHit]]()
        results.reserveCapacity(q)
        if q >= workers {
            var start = 0
            while start < q {
                let rows = start..<min(q, start + CodeScanner.queryBatch)
                // Tables and probes per chunk, on the workers (they were a serial share of the batch).
                let chunks = queryChunks(rows, workers: workers, blocks: m)
                let batch = ParallelWork.map(count: chunks.count, threads: workers) { c in
                    let members = chunks[c]
                    let tables = LookupTables(queries: queries, rows: members, codebooks: self.codebooks, blocks: m)
                    let probed = self.coarse.probe(queries: queries, rows: members, tables: tables, metric: metric, nprobe: probes)
                    return probed.enumerated().map { i, lists in
                        var heap = TopK(capacity: capacity)
                        for list in lists {
                            self.scanList(list, tables: tables, query: i, blocks: m, metric: metric,
                                          queryNorm: queryNorms[members.lowerBound + i], filter: filter, into: &heap)
                        }
                        return CodeScanner.hits(heap.sorted(), metric: metric)
                    }
                }
                results.append(contentsOf: batch.joined())
                start = rows.upperBound
            }
        } else {
            for qi in 0..<q {
                let tables = LookupTables(queries: queries, rows: qi..<(qi + 1), codebooks: codebooks, blocks: m)
                let probed = coarse.probe(queries: queries, rows: qi..<(qi + 1), tables: tables, metric: metric, nprobe: probes)[0]
                let chunks = chunk(probed, workers: workers)
                let partial = ParallelWork.map(count: chunks.count, threads: workers) { c in
                    var heap = TopK(capacity: capacity)
                    for list in chunks[c] {
                        self.scanList(list, tables: tables, query: 0, blocks: m, metric: metric,
                                      queryNorm: queryNorms[qi], filter: filter, into: &heap)
                    }
                    return heap.heap
                }
                var merged = TopK(capacity: capacity)
                for keys in partial { for key in keys { merged.push(key) } }
                results.append(CodeScanner.hits(merged.sorted(), metric: metric))
            }
        }
        return results
    }

    /// A batch's query rows cut for the workers, about two chunks each, at multiples of the
    /// tables' rows per sgemm call (so each chunk's tables equal the whole batch's).
    func queryChunks(_ rows: Range<Int>, workers: Int, blocks m: Int) -> [Range<Int>] {
        let unit = LookupTables.rowsPerCall(codebooks: codebooks, blocks: m)
        let target = (rows.count + 2 * workers - 1) / (2 * workers)
        let size = max(1, (target + unit - 1) / unit) * unit
        return stride(from: rows.lowerBound, to: rows.upperBound, by: size).map { $0..<min(rows.upperBound, $0 + size) }
    }

    /// Probed lists cut into up to 4 chunks per worker of similar entry counts (in probe order),
    /// no chunk below CodeScanner's minimum unless that is all there is.
    func chunk(_ probed: [Int], workers: Int) -> [[Int]] {
        let total = probed.reduce(0) { $0 + lists.size($1) }
        let target = max(CodeScanner.minimumChunk, (total + workers * 4 - 1) / max(1, workers * 4))
        var chunks: [[Int]] = [[]]
        var filled = 0
        for list in probed {
            if filled >= target {
                chunks.append([])
                filled = 0
            }
            chunks[chunks.count - 1].append(list)
            filled += lists.size(list)
        }
        return chunks
    }

    /// One list of the .rows layout for query `query` of `tables`.
    private func scanList(_ list: Int, tables: LookupTables, query: Int, blocks m: Int, metric: SearchMetric,
                          queryNorm: Float, filter: ItemFilter?, into heap: inout TopK) {
        guard case .rows(let stride) = lists.layout else { return }
        let skip = skipsFirstBlock
        let width = m * tables.size
        let zeroNorm: [Float] = [0]
        lists.withList(list) { ids, codes in
            let n = ids.count
            if n == 0 { return }
            tables.values.withUnsafeBufferPointer { tv in
                let table = tv.baseAddress! + query * width
                let base: Float = skip ? table[list] : -0.0
                let first = skip ? table + tables.size : table
                let reads = skip ? m - 1 : m
                (metric == .squaredL2 ? listNorms![list] : zeroNorm).withUnsafeBufferPointer { nb in
                    // An empty code buffer (M = 1 under the first-block partition) has no base address.
                    let bytes = codes.baseAddress ?? UnsafeRawPointer(table)
                    if bytesPerCode == 1 {
                        IVFScanKernel.scan(OneByteCodes.self, codes: bytes, codeBytes: codes.count, stride: stride,
                                           ids: ids.baseAddress!, count: n, table: first, size: tables.size, reads: reads,
                                           base: base, l2: metric == .squaredL2, norms: nb.baseAddress! + (m - 1),
                                           normStride: blocks, queryNorm: queryNorm, filter: filter, into: &heap)
                    } else {
                        IVFScanKernel.scan(TwoByteCodes.self, codes: bytes, codeBytes: codes.count, stride: stride,
                                           ids: ids.baseAddress!, count: n, table: first, size: tables.size, reads: reads,
                                           base: base, l2: metric == .squaredL2, norms: nb.baseAddress! + (m - 1),
                                           normStride: blocks, queryNorm: queryNorm, filter: filter, into: &heap)
                    }
                }
            }
        }
    }
}
