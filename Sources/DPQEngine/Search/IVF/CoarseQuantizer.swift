// The coarse partition of an IVF index: which of nlist lists an item lives in, and which
// lists a query probes first.
//   .firstBlock   list = the item's first code b_0, nlist = K. It costs nothing: the residual
//                 structure already made C_0 a k-means coarse quantizer, every item of list j
//                 shares T[0][j] = <q, C_0[j]>, and the lists rank by that table row
//                 (inner product) or by ||C_0[j]||^2 - 2 T[0][j] (squared L2, up to ||q||^2).
//   .centroids    list = argmin_j ||x_hat_M - c_j||^2 over separate k-means centroids (trained
//                 on reconstructions, so any number of lists); lists rank by <q, c_j> or
//                 ||c_j||^2 - 2 <q, c_j>, the products from the same packed panels as the
//                 assignment (below), on the calling thread.
// Probing order is best first, ties by list number, so a search is deterministic.
// Assignment to centroids runs the fused kernel of CFastScan/include/nearest.h (products and
// argmin in registers): at D = 32 and thousands of lists a GEMM into an N x nlist matrix was
// bound by writing and re-reading that matrix (10M items onto 4,096 lists: 180 s on 2 cores).

import CFastScan

public struct CoarseQuantizer: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case firstBlock = "first_block", centroids }

    public let kind: Kind
    /// nlist x D: C_0 for .firstBlock, the k-means centroids otherwise.
    public let centroids: Matrix
    /// ||c_j||^2, for squared-L2 probing.
    let squaredNorms: [Float]
    /// The centroids in the assignment kernel's panels of 16, and their norms padded with +inf.
    let panels: [Float]
    let panelNorms: [Float]

    /// The first block's codewords as the coarse quantizer (nlist = K).
    public static func firstBlock(_ codebooks: Codebooks) -> CoarseQuantizer {
        CoarseQuantizer(kind: .firstBlock, centroids: codebooks.block(0))
    }

    /// Separate centroids (nlist x D), e.g. from `trainCentroids`.
    public init(centroids: Matrix) {
        self.init(kind: .centroids, centroids: centroids)
    }

    private init(kind: Kind, centroids: Matrix) {
        precondition(centroids.rows >= 1, "CoarseQuantizer: no centroids")
        precondition(centroids.rows < Int(UInt32.max), "CoarseQuantizer: too many lists")
        self.kind = kind
        self.centroids = centroids
        self.squaredNorms = centroids.rowSquaredNorms()
        let count = dpq_nearest_panels(centroids.rows)
        var panels = [Float](repeating: 0, count: count * centroids.cols * 16)
        var panelNorms = [Float](repeating: 0, count: count * 16)
        centroids.values.withUnsafeBufferPointer { c in
            panels.withUnsafeMutableBufferPointer { p in
                panelNorms.withUnsafeMutableBufferPointer { n in
                    dpq_nearest_pack(c.baseAddress!, centroids.rows, centroids.cols, p.baseAddress!, n.baseAddress!)
                }
            }
        }
        self.panels = panels
        self.panelNorms = panelNorms
    }

    /// The nearest centroid (squared L2, ties to the smaller index) of every row of `x`.
    /// Precondition (programmer error): x.cols == centroids.cols.
    public func nearest(_ x: Matrix) -> [Int32] {
        precondition(x.cols == centroids.cols, "CoarseQuantizer.nearest: rows of \(x.cols) values, centroids of \(centroids.cols)")
        var out = [Int32](repeating: 0, count: x.rows)
        if x.rows == 0 { return out }
        x.values.withUnsafeBufferPointer { xp in
            panels.withUnsafeBufferPointer { pp in
                panelNorms.withUnsafeBufferPointer { np in
                    out.withUnsafeMutableBufferPointer { o in
                        dpq_nearest(xp.baseAddress!, x.rows, x.cols, pp.baseAddress!, np.baseAddress!, listCount, o.baseAddress!)
                    }
                }
            }
        }
        return out
    }

    /// nlist.
    public var listCount: Int { centroids.rows }

    /// k-means centroids of the full-length reconstructions of `sample` (as many lists as
    /// asked; fewer sample rows than lists repeat rows, see KMeans.fit).
    public static func trainCentroids(sample: CodeMatrix, codebooks: Codebooks, lists: Int,
                                      iterations: Int = 10, seed: UInt64 = 1) -> CoarseQuantizer {
        let decoded = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean)
            .decode(sample, blocks: sample.blocks)
        var random = SeededRandom(seed: seed)
        return CoarseQuantizer(centroids: KMeans.fit(decoded, k: lists, iterations: iterations, random: &random))
    }

    /// The list of every item of `codes`.
    /// Precondition (programmer error): `codes.blocks <= codebooks.blocks`, codes below K.
    public func assign(_ codes: CodeMatrix, codebooks: Codebooks, threads: Int) -> [Int] {
        switch kind {
        case .firstBlock:
            return (0..<codes.count).map { codes.code(item: $0, block: 0) }
        case .centroids:
            let chunk = ProgressiveQuantizer.chunkRows
            let chunks = (codes.count + chunk - 1) / chunk
            let quantizer = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean)
            let parts = ParallelWork.map(count: chunks, threads: threads) { i in
                let rows = (i * chunk)..<min(codes.count, (i + 1) * chunk)
                return nearest(quantizer.decode(codes.rowRange(rows), blocks: codes.blocks)).map { Int($0) }
            }
            return parts.flatMap { $0 }
        }
    }

    /// For each query of `rows`, the `nprobe` lists to scan, best first. `tables` are those
    /// rows' lookup tables (block 0 gives the .firstBlock scores without another product).
    /// Runs on the calling thread (searches call it from their workers, a chunk of queries each).
    func probe(queries: Matrix, rows: Range<Int>, tables: LookupTables, metric: SearchMetric,
               nprobe: Int) -> [[Int]] {
        let nlist = listCount
        var scores = [Float](repeating: 0, count: rows.count * nlist)
        switch kind {
        case .firstBlock:
            for i in 0..<rows.count {
                let t = (i * tables.blocks) * tables.size
                for j in 0..<nlist { scores[i * nlist + j] = tables.values[t + j] }
            }
        case .centroids:
            // The assignment kernel's panels (an sgemm per call of a few queries would re-pack all
            // nlist centroids each time: at 4,096 lists that was most of a probe of few lists).
            queries.values.withUnsafeBufferPointer { q in
                panels.withUnsafeBufferPointer { p in
                    scores.withUnsafeMutableBufferPointer { out in
                        dpq_panel_products(q.baseAddress! + rows.lowerBound * queries.cols, rows.count, queries.cols,
                                           p.baseAddress!, nlist, out.baseAddress!)
                    }
                }
            }
        }
        // Lower-is-better scores in place, then the nprobe best of each row; most lists are
        // rejected by one float compare against the current worst kept.
        if metric == .squaredL2 {
            for i in 0..<rows.count { for j in 0..<nlist { scores[i * nlist + j] = squaredNorms[j] - 2 * scores[i * nlist + j] } }
        } else {
            for i in 0..<scores.count { scores[i] = -scores[i] }
        }
        return scores.withUnsafeBufferPointer { s in
            (0..<rows.count).map { i in
                let row = s.baseAddress! + i * nlist
                var heap = TopK(capacity: nprobe)
                var worst = Float.infinity
                for j in 0..<nlist where !(row[j] > worst) {
                    heap.push(RankKey.make(row[j], j))
                    if heap.isFull { worst = heap.threshold }
                }
                return heap.sorted().map { RankKey.index($0) }
            }
        }
    }
}
