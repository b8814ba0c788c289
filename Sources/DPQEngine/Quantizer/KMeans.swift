// Lloyd's k-means: assign each point to its nearest centroid (argmin ||x - c||^2, computed as
// ||c||^2 - 2<x, c> through one sgemm per chunk, or for `fit`, which trains IVF coarse
// quantizers of thousands of centroids, by the fused kernel of CoarseQuantizer.nearest), then
// move each centroid to its points' mean.
// Empty clusters take half of the largest cluster (faiss's split), so K centroids stay in use.
// Residual k-means runs it on r_1 = x, then on r_2 = r_1 - c(r_1), and so on: one codebook a block.

public enum KMeans {
    /// K centroids of the rows of `data` after `iterations` Lloyd steps from a random sample.
    public static func fit(_ data: Matrix, k: Int, iterations: Int, random: inout SeededRandom) -> Matrix {
        let n = data.rows, d = data.cols
        precondition(n > 0, "KMeans: no data")
        var centroids = Matrix(rows: k, cols: d)
        if n <= k {
            // Fewer rows than K: every row, then repeats with a small jitter.
            let perm = random.permutation(n)
            for j in 0..<k {
                let src = perm[j % n] * d
                for t in 0..<d {
                    let jitter: Float = j < n ? 0 : 1e-4 * random.normal()
                    centroids.values[j * d + t] = data.values[src + t] + jitter
                }
            }
            return centroids
        }
        let perm = random.permutation(n)
        for j in 0..<k { for t in 0..<d { centroids.values[j * d + t] = data.values[perm[j] * d + t] } }
        return lloyd(data, centroids: centroids, iterations: iterations, random: &random, fused: true)
    }

    /// Lloyd iterations from the given centroids.
    static func lloyd(_ data: Matrix, centroids start: Matrix, iterations: Int, random: inout SeededRandom,
                      assignOn view: Matrix? = nil, fused: Bool = false) -> Matrix {
        let n = data.rows, d = data.cols, k = start.rows
        var centroids = start
        if iterations == 0 { return centroids }
        for _ in 0..<iterations {
            // Assign on `view` (leading dimensions of the data) when given, update in full.
            let assignment: [Int32]
            if let view {
                let c = Matrix(rows: k, cols: view.cols, values: (0..<k).flatMap { j in centroids.values[(j * d)..<(j * d + view.cols)] })
                assignment = ProgressiveQuantizer.nearestChunked(view, codebook: c, assignment: .euclidean)
            } else if fused {
                let quantizer = CoarseQuantizer(centroids: centroids)
                let chunk = ProgressiveQuantizer.chunkRows
                assignment = ParallelWork.map(count: (n + chunk - 1) / chunk, threads: Cores.available) { i in
                    quantizer.nearest(data.rows(Array((i * chunk)..<min(n, (i + 1) * chunk))))
                }.flatMap { $0 }
            } else {
                assignment = ProgressiveQuantizer.nearestChunked(data, codebook: centroids, assignment: .euclidean)
            }
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

    /// k-means in the data's principal axes with the dimension growing in steps
    /// (d_i = d^((i+1)/10), as faiss's ProgressiveDimClustering): the first steps place the
    /// centroids along the directions of largest variance, where they matter most, and each
    /// step starts from the last one's centroids. The result is mapped back to the input space.
    public static func fitProgressive(_ data: Matrix, k: Int, iterations: Int, random: inout SeededRandom, steps: Int = 10) -> Matrix {
        let pca = PCA(fitting: data)
        let z = pca.project(data)
        let n = z.rows, d = z.cols
        var centroids = Matrix(rows: k, cols: d)
        let perm = random.permutation(n)
        for j in 0..<k { for t in 0..<d { centroids.values[j * d + t] = z.values[perm[j] * d + t] } }
        var previous = 0
        for step in 0..<steps {
            let di = step == steps - 1 ? d : min(d, max(1, Int(Foundation_pow(Double(d), Double(step + 1) / Double(steps)))))
            if di == previous { continue }
            previous = di
            let view = di == d ? nil : Matrix(rows: n, cols: di, values: (0..<n).flatMap { i in z.values[(i * d)..<(i * d + di)] })
            centroids = lloyd(z, centroids: centroids, iterations: max(iterations / 2, 1), random: &random, assignOn: view)
        }
        return pca.unproject(centroids)
    }

    /// k-means++ seeding: each next centroid is a row drawn with probability proportional to its
    /// squared distance to the nearest centroid so far. It starts Lloyd from a spread-out set,
    /// which matters in high dimension where random rows leave clusters unserved.
    static func plusPlus(_ data: Matrix, k: Int, random: inout SeededRandom) -> Matrix {
        let n = data.rows, d = data.cols
        var centroids = Matrix(rows: k, cols: d)
        var nearest = [Float](repeating: .infinity, count: n)
        var pick = Int(random.next() % UInt64(n))
        data.values.withUnsafeBufferPointer { x in
            for j in 0..<k {
                for t in 0..<d { centroids.values[j * d + t] = x[pick * d + t] }
                var total: Double = 0
                let c = pick * d
                for i in 0..<n {
                    var dist: Float = 0
                    let base = i * d
                    for t in 0..<d { let e = x[base + t] - x[c + t]; dist += e * e }
                    if dist < nearest[i] { nearest[i] = dist }
                    total += Double(nearest[i])
                }
                guard total > 0 else {
                    pick = Int(random.next() % UInt64(n))
                    continue
                }
                var target = Double(random.uniform()) * total
                pick = n - 1
                for i in 0..<n {
                    target -= Double(nearest[i])
                    if target <= 0 { pick = i; break }
                }
            }
        }
        return centroids
    }

    /// M codebooks by residual k-means on `data` (one block at a time on what is left).
    /// `progressiveDimensions` uses `fitProgressive` for each block (better in high dimension).
    public static func residual(_ data: Matrix, blocks: Int, k: Int, iterations: Int, random: inout SeededRandom,
                                progressiveDimensions: Bool = false) -> Codebooks {
        var books = Codebooks(blocks: blocks, size: k, dimension: data.cols)
        var r = data
        for m in 0..<blocks {
            let c = progressiveDimensions && r.rows > k
                ? fitProgressive(r, k: k, iterations: iterations, random: &random)
                : fit(r, k: k, iterations: iterations, random: &random)
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
