// Progressive (residual) quantization with M codebooks:
//   r_1 = f,  b_m = argmin_k ||r_m - c_mk||^2  (or argmax cosine),  h_m = c_{m,b_m},  r_{m+1} = r_m - h_m
// An item's code is (b_1, ..., b_M); its first m codes reconstruct x_hat_m = sum_{i<=m} h_i.
// Encoding is greedy (beam 1), which is what keeps every prefix a valid shorter code.

public struct ProgressiveQuantizer: Sendable, Equatable {
    public var codebooks: Codebooks
    public var assignment: Assignment

    public init(codebooks: Codebooks, assignment: Assignment) {
        self.codebooks = codebooks
        self.assignment = assignment
    }

    public var blocks: Int { codebooks.blocks }
    public var size: Int { codebooks.size }
    public var dimension: Int { codebooks.dimension }

    /// Rows per chunk, so that the N x K distance matrix never gets large.
    static let chunkRows = 4096

    /// Codes of every row of `features`, in chunks of `chunkRows`; with `threads` > 1 the chunks
    /// run side by side (the same chunks, so the same codes).
    public func encode(_ features: Matrix, threads: Int = 1) -> CodeMatrix {
        precondition(features.cols == dimension, "encode: features have \(features.cols) columns, expected \(dimension)")
        var codes = CodeMatrix(count: features.rows, blocks: blocks, codebookSize: size)
        guard features.rows > 0 else { return codes }
        let chunks = (features.rows + Self.chunkRows - 1) / Self.chunkRows
        let (width, wide) = (codes.bytesPerItem, codes.bytesPerCode == 2)
        codes.bytes.withUnsafeMutableBufferPointer { out in
            let shared = SharedMutablePointer(base: out.baseAddress!)
            ParallelWork.forEach(count: chunks, threads: threads) { i in
                let start = i * Self.chunkRows
                let idx = assign(features.rowRange(start..<min(features.rows, start + Self.chunkRows)))
                // Each chunk writes only its own rows' bytes.
                for (b, column) in idx.enumerated() {
                    for (r, k) in column.enumerated() {
                        CodeMatrix.setCode(in: shared.base + (start + r) * width, block: b, wide: wide, Int(k))
                    }
                }
            }
        }
        return codes
    }

    /// Greedy hard assignment of a batch: for each block, the index per row.
    public func assign(_ batch: Matrix) -> [[Int32]] {
        var residual = batch
        var out: [[Int32]] = []
        for m in 0..<blocks {
            let c = codebooks.block(m)
            let idx = Self.nearest(residual, codebook: c, assignment: assignment)
            Self.subtract(codebook: c, indices: idx, from: &residual)
            out.append(idx)
        }
        return out
    }

    /// Reconstructions from the first m codes of each item.
    public func decode(_ codes: CodeMatrix, blocks m: Int) -> Matrix {
        precondition(m >= 1 && m <= min(blocks, codes.blocks), "decode: blocks \(m) outside 1...\(min(blocks, codes.blocks))")
        let d = dimension, k = size, width = codes.bytesPerItem, wide = codes.bytesPerCode == 2
        var out = Matrix(rows: codes.count, cols: d)
        guard codes.count > 0 else { return out }
        // Pointers throughout: this runs for every item of every list assignment (decode, then
        // the nearest centroid), and per-code bounds-checked reads were most of its time.
        // The same sums in the same order as a reconstruction read code by code.
        codebooks.values.withUnsafeBufferPointer { cb in
            codes.bytes.withUnsafeBufferPointer { cp in
                out.values.withUnsafeMutableBufferPointer { o in
                    for i in 0..<codes.count {
                        let row = o.baseAddress! + i * d
                        let code = cp.baseAddress! + i * width
                        for b in 0..<m {
                            let c = CodeMatrix.code(in: code, block: b, wide: wide)
                            precondition(c < k, "decode: code \(c) of item \(i) block \(b) is not below K = \(k)")
                            let src = cb.baseAddress! + (b * k + c) * d
                            for j in 0..<d { row[j] += src[j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Mean squared reconstruction error sum_j (x_j - x_hat_j)^2 per item, for every prefix length 1...M.
    public func reconstructionErrors(_ features: Matrix) -> [Double] {
        let codes = encode(features)
        return (1...blocks).map { m in
            let rec = decode(codes, blocks: m)
            var s = 0.0
            for i in rec.values.indices { let e = Double(features.values[i] - rec.values[i]); s += e * e }
            return s / Double(max(features.rows, 1))
        }
    }

    /// Index of the best codeword for each row of `x`.
    static func nearest(_ x: Matrix, codebook c: Matrix, assignment: Assignment) -> [Int32] {
        let dots = BLAS.product(x, c, transposeB: true)  // B x K
        let norms = c.rowSquaredNorms()
        let k = c.rows
        var out = [Int32](repeating: 0, count: x.rows)
        dots.values.withUnsafeBufferPointer { p in
            for r in 0..<x.rows {
                let base = r * k
                var best = 0
                var bestScore = -Float.infinity
                for j in 0..<k {
                    // Maximise 2<x,c> - ||c||^2 (Euclidean) or <x,c>/||c|| (cosine).
                    let s = assignment == .euclidean ? 2 * p[base + j] - norms[j] : p[base + j] / max(norms[j].squareRoot(), 1e-12)
                    if s > bestScore { bestScore = s; best = j }
                }
                out[r] = Int32(best)
            }
        }
        return out
    }

    static func subtract(codebook c: Matrix, indices: [Int32], from x: inout Matrix) {
        let d = c.cols
        x.values.withUnsafeMutableBufferPointer { p in
            c.values.withUnsafeBufferPointer { cp in
                for (r, k) in indices.enumerated() {
                    let base = r * d, src = Int(k) * d
                    for j in 0..<d { p[base + j] -= cp[src + j] }
                }
            }
        }
    }
}
