// Least-squares refinement of residual codebooks with the codes held fixed, one block at a
// time: C_m[k] = mean over items with b_m = k of (x - sum_{i != m} h_i). Each update can only
// lower the total error for the current codes; re-encoding greedily afterwards usually lowers
// it further. The best codebooks seen (by total error of the greedy codes) are kept, so the
// result is never worse than the starting point.

public enum CodebookRefinement {
    public static func refine(_ data: Matrix, codebooks start: Codebooks, rounds: Int) -> Codebooks {
        var books = start
        var best = start
        var bestError = totalError(data, books)
        let d = data.cols, k = books.size
        for _ in 0..<rounds {
            let q = ProgressiveQuantizer(codebooks: books, assignment: .euclidean)
            let idx = q.assign(data)   // [block][row]
            var recon = q.decode(codesFrom(idx, count: data.rows, size: k), blocks: books.blocks)
            for m in 0..<books.blocks {
                var sums = [Double](repeating: 0, count: k * d)
                var counts = [Int](repeating: 0, count: k)
                let off = books.offset(block: m, codeword: 0)
                for i in 0..<data.rows {
                    let c = Int(idx[m][i])
                    counts[c] += 1
                    for t in 0..<d {
                        // Target for block m: x minus every other block's codeword.
                        let target = data.values[i * d + t] - recon.values[i * d + t] + books.values[off + c * d + t]
                        sums[c * d + t] += Double(target)
                    }
                }
                for c in 0..<k where counts[c] > 0 {
                    for t in 0..<d { books.values[off + c * d + t] = Float(sums[c * d + t] / Double(counts[c])) }
                }
                // Keep the reconstruction in step with block m's new codewords.
                recon = ProgressiveQuantizer(codebooks: books, assignment: .euclidean)
                    .decode(codesFrom(idx, count: data.rows, size: k), blocks: books.blocks)
            }
            let e = totalError(data, books)
            if e < bestError { bestError = e; best = books } else { break }
        }
        return best
    }

    /// Sum over items of ||x - x_hat_M||^2 for greedy codes.
    static func totalError(_ data: Matrix, _ books: Codebooks) -> Double {
        let q = ProgressiveQuantizer(codebooks: books, assignment: .euclidean)
        let rec = q.decode(q.encode(data), blocks: books.blocks)
        var s = 0.0
        for i in rec.values.indices { let e = Double(data.values[i] - rec.values[i]); s += e * e }
        return s
    }

    static func codesFrom(_ idx: [[Int32]], count: Int, size: Int) -> CodeMatrix {
        var codes = CodeMatrix(count: count, blocks: idx.count, codebookSize: size)
        for (m, column) in idx.enumerated() { for (i, c) in column.enumerated() { codes.setCode(item: i, block: m, Int(c)) } }
        return codes
    }
}
