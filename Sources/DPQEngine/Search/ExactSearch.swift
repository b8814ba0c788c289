// Brute-force k-nearest-neighbour search on float vectors, the reference that code search is
// measured against (recall@k) and tested with:
//     inner product:  score(q, x) = <q, x>                               (higher is better)
//     squared L2:     score(q, x) = (||q||^2 - 2 <q, x>) + ||x||^2       (lower is better)
// <q, x> for a block of queries against a block of database rows is one sgemm; the same
// (score, index) keys as CodeScanner select the top k, so ties resolve to smaller indices.

import Foundation

extension CodeScanner {
    /// Database rows scored per sgemm.
    static let exactDatabaseBlock = 4096

    /// Exact top k of `database` rows for every row of `queries`, best first, ties broken by
    /// the smaller index; scores as in `search`. k <= 0 gives empty lists; k above the row
    /// count returns every row. `threads` (< 1 means 1) splits the selection work; sgemm uses
    /// OpenBLAS's own thread setting.
    ///
    /// Preconditions (programmer errors): `queries.cols == database.cols` when both have
    /// rows, and fewer than 2^32 database rows.
    public static func exactSearch(queries: Matrix, database: Matrix, k: Int, metric: SearchMetric,
                                   threads: Int = Cores.available) -> [[SearchHit]] {
        let q = queries.rows, n = database.rows
        if q == 0 { return [] }
        if k <= 0 || n == 0 { return [[SearchHit]](repeating: [], count: q) }
        precondition(queries.cols == database.cols,
                     "exactSearch: queries have \(queries.cols) columns, database \(database.cols)")
        precondition(n < RankKey.maxItems, "exactSearch: at most 2^32 - 1 database rows")
        let d = queries.cols
        let capacity = min(k, n)
        let l2 = metric == .squaredL2
        let queryNorms = l2 ? queries.rowSquaredNorms() : []
        let rowNorms = l2 ? database.rowSquaredNorms() : []

        let heaps = UnsafeMutablePointer<TopK>.allocate(capacity: q)
        heaps.initialize(repeating: TopK(capacity: capacity), count: q)
        defer {
            heaps.deinitialize(count: q)
            heaps.deallocate()
        }
        let sharedHeaps = SharedMutablePointer(base: heaps)
        let queryBlock = 256, rowBlock = exactDatabaseBlock
        var products = [Float](repeating: 0, count: queryBlock * rowBlock)
        for qStart in stride(from: 0, to: q, by: queryBlock) {
            let qRows = qStart..<min(q, qStart + queryBlock)
            for rStart in stride(from: 0, to: n, by: rowBlock) {
                let rRows = rStart..<min(n, rStart + rowBlock)
                queries.values.withUnsafeBufferPointer { qv in
                    database.values.withUnsafeBufferPointer { dv in
                        products.withUnsafeMutableBufferPointer { out in
                            InnerProducts.compute(qv.baseAddress! + qStart * d, rows: qRows.count,
                                                  dv.baseAddress! + rStart * d, rows: rRows.count,
                                                  dimension: d, into: out.baseAddress!)
                        }
                    }
                }
                let block = products
                ParallelWork.forEach(count: qRows.count, threads: threads) { i in
                    let query = qStart + i
                    let heap = sharedHeaps.base + query
                    block.withUnsafeBufferPointer { g in
                        let row = g.baseAddress! + i * rRows.count
                        for j in 0..<rRows.count {
                            let item = rStart + j
                            let key = l2 ? (queryNorms[query] - 2 * row[j]) + rowNorms[item] : -row[j]
                            heap.pointee.push(RankKey.make(key, item))
                        }
                    }
                }
            }
        }
        return (0..<q).map { hits(heaps[$0].sorted(), metric: metric) }
    }
}
