// Lloyd's k-means: assign each point to its nearest centroid (argmin ||x - c||^2, computed as
// ||c||^2 - 2<x, c> through one sgemm per chunk), then move each centroid to its points' mean.
// Empty clusters take half of the largest cluster (faiss's split), so K centroids stay in use.
// Residual k-means runs it on r_1 = x, then on r_2 = r_1 - c(r_1), and so on: one codebook a block.

public enum KMeans {
    /// K centroids of the rows of `data` after `iterations` Lloyd steps from a random sample.
    public static func fit(_ data: Matrix, k: Int, iterations: Int, random: inout SeededRandom) -> Matrix {
        let n = data.rows, d = data.cols
        precondition(n > 0, "KMeans: no data")
        // Initial centroids: distinct random rows; with fewer rows than K, repeat rows with a small jitter.
        let perm = random.permutation(n)
        var centroids = Matrix(rows: k, cols: d)
        for j in 0..<k {
            let src = perm[j % n] * d
            for t in 0..<d {
                let jitter: Float = j < n ? 0 : 1e-4 * random.normal()
                centroids.values[j * d + t] = data.values[src + t] + jitter
            }
        }
        if n <= k || iterations == 0 { return centroids }
        for _ in 0..<iterations {
            let assignment = ProgressiveQuantizer.nearestChunked(data, codebook: centroids, assignment: .euclidean)
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                let c = Int(assignment[i])
                counts[c] += 1
                let src = i * d, dst = c * d
                for t in 0..<d { sums[dst + t] += Double(data.values[src + t]) }
            }
            for j in 0..<k where counts[j] > 0 {
                for t in 0..<d { centroids.values[j * d + t] = Float(sums[j * d + t] / Double(counts[j])) }
            }
            for j in 0..<k where counts[j] == 0 {
                // Split the largest cluster: both halves start from its centroid, nudged apart.
                let big = counts.indices.max { counts[$0] < counts[$1] }!
                for t in 0..<d {
                    let v = centroids.values[big * d + t]
                    let eps = Float(1e-3) * (random.uniform() - 0.5) * max(abs(v), 1e-3)
                    centroids.values[j * d + t] = v + eps
                    centroids.values[big * d + t] = v - eps
                }
                counts[j] = counts[big] / 2
                counts[big] -= counts[j]
            }
        }
        return centroids
    }

    /// M codebooks by residual k-means on `data` (one block at a time on what is left).
    public static func residual(_ data: Matrix, blocks: Int, k: Int, iterations: Int, random: inout SeededRandom) -> Codebooks {
        var books = Codebooks(blocks: blocks, size: k, dimension: data.cols)
        var r = data
        for m in 0..<blocks {
            let c = fit(r, k: k, iterations: iterations, random: &random)
            books.setBlock(m, c)
            let idx = ProgressiveQuantizer.nearestChunked(r, codebook: c, assignment: .euclidean)
            ProgressiveQuantizer.subtract(codebook: c, indices: idx, from: &r)
        }
        return books
    }
}

extension ProgressiveQuantizer {
    /// `nearest` over row chunks, so large inputs never materialise an N x K matrix.
    static func nearestChunked(_ x: Matrix, codebook c: Matrix, assignment: Assignment) -> [Int32] {
        if x.rows <= chunkRows { return nearest(x, codebook: c, assignment: assignment) }
        var out: [Int32] = []
        out.reserveCapacity(x.rows)
        var start = 0
        while start < x.rows {
            let end = min(start + chunkRows, x.rows)
            out.append(contentsOf: nearest(x.rowRange(start..<end), codebook: c, assignment: assignment))
            start = end
        }
        return out
    }
}
