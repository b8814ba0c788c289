// The fused nearest-centroid kernel (CoarseQuantizer.nearest) against a plain loop in double
// precision: every panel tail (nlist not a multiple of 16), item tails (n not a multiple of 4),
// tiny and typical dimensions. Integer data keeps every distance exact in float, so the answer,
// ties included (duplicate centroids: the smaller index wins), must match exactly.
import CFastScan
import DPQEngine
import Testing

@Suite struct NearestCentroidTests {
    static func bruteForce(_ x: Matrix, _ c: Matrix) -> [Int32] {
        (0..<x.rows).map { i in
            var best = 0, bestDistance = Double.infinity
            for j in 0..<c.rows {
                var s = 0.0
                for k in 0..<x.cols { let t = Double(x.values[i * x.cols + k]) - Double(c.values[j * c.cols + k]); s += t * t }
                if s < bestDistance { bestDistance = s; best = j }
            }
            return Int32(best)
        }
    }

    /// The probing kernel's inner products (dpq_panel_products, on the same packed panels): exact
    /// on integer data, for panel tails, item tails (n not a multiple of 8) and every row.
    @Test(arguments: [(1, 1, 1), (7, 3, 15), (9, 64, 16), (13, 32, 17), (101, 5, 100), (64, 64, 1024)])
    func panelProductsMatchAPlainLoop(n: Int, d: Int, nlist: Int) {
        var r = SeededRandom(seed: UInt64(n * 999 + d * 7 + nlist))
        let x = (0..<(n * d)).map { _ in Float(Int(r.next() % 21) - 10) }
        let c = (0..<(nlist * d)).map { _ in Float(Int(r.next() % 21) - 10) }
        let panelCount = dpq_nearest_panels(nlist)
        var panels = [Float](repeating: 0, count: panelCount * d * 16), norms = [Float](repeating: 0, count: panelCount * 16)
        dpq_nearest_pack(c, nlist, d, &panels, &norms)
        // One float past the end, which must stay untouched.
        var out = [Float](repeating: -1, count: n * nlist + 1)
        dpq_panel_products(x, n, d, panels, nlist, &out)
        for i in 0..<n {
            for j in 0..<nlist {
                var s: Float = 0
                for k in 0..<d { s += x[i * d + k] * c[j * d + k] }
                #expect(out[i * nlist + j] == s, "row \(i) list \(j)")
            }
        }
        #expect(out[n * nlist] == -1)
    }

    @Test(arguments: [(1, 1, 1), (7, 3, 15), (9, 32, 16), (33, 32, 17), (101, 5, 100), (64, 32, 1024)])
    func matchesAPlainLoop(n: Int, d: Int, nlist: Int) {
        var r = SeededRandom(seed: UInt64(n * 1000 + d * 10 + nlist))
        let x = Matrix(rows: n, cols: d, values: (0..<(n * d)).map { _ in Float(Int(r.next() % 21) - 10) })
        var centroids = (0..<(nlist * d)).map { _ in Float(Int(r.next() % 21) - 10) }
        // Duplicates of earlier centroids further on: ties, which the smaller index must win.
        for j in stride(from: nlist / 2, to: nlist, by: 3) where j >= 1 {
            let from = Int(r.next() % UInt64(j))
            for k in 0..<d { centroids[j * d + k] = centroids[from * d + k] }
        }
        let c = Matrix(rows: nlist, cols: d, values: centroids)
        let q = CoarseQuantizer(centroids: c)
        #expect(q.nearest(x) == Self.bruteForce(x, c))
        // Every item placed exactly on a centroid finds that centroid (or an earlier duplicate).
        let on = Matrix(rows: nlist, cols: d, values: centroids)
        let got = q.nearest(on)
        for j in 0..<nlist {
            let g = Int(got[j])
            #expect(g <= j && Array(c.row(g)) == Array(c.row(j)))
        }
    }

    @Test func noRowsGiveNoAnswers() {
        let q = CoarseQuantizer(centroids: Matrix(rows: 3, cols: 2, values: [0, 0, 1, 1, 2, 2]))
        #expect(q.nearest(Matrix(rows: 0, cols: 2, values: [])).isEmpty)
    }
}
