// The differentiable pass through the quantization blocks used in training.
// For each block m, from the hard residual r_m (r_1 = f, r_{m+1} = r_m - h_m):
//   Euclidean: p_m = softmax_k(-gamma * ||r_m - c_mk||^2)     Cosine: p_m = softmax_k(gamma * cos(r_m, c_mk))
//   s_m = p_m C_m (soft),  h_m = C_m[argmax_k p_m] (hard)
// Prefix reconstructions S_m = sum_{i<=m} s_i and H_m = sum_{i<=m} h_i feed the losses.
// Backward takes dL/dS_m and dL/dH_m for every prefix and returns dL/df and dL/dC:
// the hard index is piecewise constant, so h_m passes its gradient to the chosen codeword
// only, while r_m = f - sum_{i<m} h_i passes gradient to f and to the earlier codewords.

public struct QuantizerPass: Sendable {
    public let assignment: Assignment
    public let gamma: Float
    public var residuals: [Matrix] = []
    public var probabilities: [Matrix] = []
    public var indices: [[Int32]] = []
    public var softPrefix: [Matrix] = []
    public var hardPrefix: [Matrix] = []
    // Cosine only: similarities and norms.
    var similarities: [Matrix] = []
    var residualNorms: [[Float]] = []
    var codewordNorms: [[Float]] = []

    public init(features f: Matrix, codebooks: Codebooks, gamma: Float, assignment: Assignment) {
        self.assignment = assignment
        self.gamma = gamma
        let b = f.rows, k = codebooks.size
        var r = f
        var soft = Matrix(rows: b, cols: f.cols)
        var hard = Matrix(rows: b, cols: f.cols)
        for m in 0..<codebooks.blocks {
            let c = codebooks.block(m)
            let dots = BLAS.product(r, c, transposeB: true)
            var logits = Matrix(rows: b, cols: k)
            switch assignment {
            case .euclidean:
                let cn = c.rowSquaredNorms()
                // -gamma * (||r||^2 - 2<r,c> + ||c||^2); ||r||^2 cancels in the softmax.
                for i in 0..<b { for j in 0..<k { logits.values[i * k + j] = -gamma * (cn[j] - 2 * dots.values[i * k + j]) } }
            case .cosine:
                let rn = r.rowSquaredNorms().map { max($0.squareRoot(), 1e-8) }
                let cn = c.rowSquaredNorms().map { max($0.squareRoot(), 1e-8) }
                var sim = Matrix(rows: b, cols: k)
                for i in 0..<b { for j in 0..<k {
                    let s = dots.values[i * k + j] / (rn[i] * cn[j])
                    sim.values[i * k + j] = s
                    logits.values[i * k + j] = gamma * s
                } }
                similarities.append(sim)
                residualNorms.append(rn)
                codewordNorms.append(cn)
            }
            var idx = [Int32](repeating: 0, count: b)
            Self.softmaxRows(&logits, argmax: &idx)
            let s = BLAS.product(logits, c)
            residuals.append(r)
            probabilities.append(logits)
            indices.append(idx)
            for i in soft.values.indices { soft.values[i] += s.values[i] }
            ProgressiveQuantizer.subtract(codebook: c, indices: idx, from: &r)
            for i in 0..<b {
                let src = Int(idx[i]) * f.cols
                for j in 0..<f.cols { hard.values[i * f.cols + j] += c.values[src + j] }
            }
            softPrefix.append(soft)
            hardPrefix.append(hard)
        }
    }

    /// In-place row softmax; also reports each row's argmax (the hard assignment).
    /// Rows are independent, so large batches are split between BLAS's threads (the exps
    /// dominate the assignment step); every row's arithmetic is the same whatever the split.
    static func softmaxRows(_ x: inout Matrix, argmax: inout [Int32]) {
        let k = x.cols, rows = x.rows
        x.values.withUnsafeMutableBufferPointer { values in
            argmax.withUnsafeMutableBufferPointer { am in
                let (pb, ab) = (SharedMutablePointer(base: values.baseAddress!), SharedMutablePointer(base: am.baseAddress!))
                let chunk = 32
                let chunks = (rows + chunk - 1) / chunk
                ParallelWork.forEach(count: chunks, threads: rows * k >= 16_384 ? BLAS.threads : 1) { c in
                    let p = pb.base
                    for i in (c * chunk)..<min(rows, (c + 1) * chunk) {
                        let base = i * k
                        var mx = -Float.infinity, arg = 0
                        for j in 0..<k where p[base + j] > mx { mx = p[base + j]; arg = j }
                        ab.base[i] = Int32(arg)
                        var sum: Float = 0
                        for j in 0..<k { let e = expf_(p[base + j] - mx); p[base + j] = e; sum += e }
                        let inv = 1 / sum
                        for j in 0..<k { p[base + j] *= inv }
                    }
                }
            }
        }
    }

    /// dL/df and dL/dC from the gradients with respect to every soft and hard prefix.
    public func backward(softPrefixGradient dS: [Matrix], hardPrefixGradient dH: [Matrix],
                         codebooks: Codebooks) -> (feature: Matrix, codebooks: [Float]) {
        let mCount = codebooks.blocks, k = codebooks.size, d = codebooks.dimension
        let b = residuals.first?.rows ?? 0
        var dC = [Float](repeating: 0, count: codebooks.values.count)
        // Suffix sums: dL/ds_i = sum_{m>=i} dL/dS_m, and likewise for h_i.
        var dSoft = Matrix(rows: b, cols: d)
        var dHard = Matrix(rows: b, cols: d)
        var dResidualSum = Matrix(rows: b, cols: d)   // sum of dL/dr_j over the later blocks j
        for m in stride(from: mCount - 1, through: 0, by: -1) {
            for i in dSoft.values.indices { dSoft.values[i] += dS[m].values[i]; dHard.values[i] += dH[m].values[i] }
            let c = codebooks.block(m)
            let p = probabilities[m]
            let r = residuals[m]
            let cOffset = codebooks.offset(block: m, codeword: 0)
            // s_m = p C: dC += p^T ds, dp = ds C^T.
            var dCm = BLAS.product(p, transposeA: true, dSoft)
            let dp = BLAS.product(dSoft, c, transposeB: true)
            // Softmax backward to the logits.
            var dz = Matrix(rows: b, cols: k)
            for i in 0..<b {
                var dot: Float = 0
                for j in 0..<k { dot += p.values[i * k + j] * dp.values[i * k + j] }
                for j in 0..<k { dz.values[i * k + j] = p.values[i * k + j] * (dp.values[i * k + j] - dot) }
            }
            var dr: Matrix
            switch assignment {
            case .euclidean:
                // logit = -gamma (||r||^2 - 2<r,c> + ||c||^2)
                //   dr = -2 gamma (rowsum(dz) r - dz C) ;  dc = -2 gamma (colsum(dz) c - dz^T r)
                dr = BLAS.product(dz, c, alpha: 2 * gamma)
                BLAS.gemm(dz, transposeA: true, r, into: &dCm, alpha: 2 * gamma, beta: 1)
                var colSum = [Float](repeating: 0, count: k)
                for i in 0..<b {
                    var rowSum: Float = 0
                    for j in 0..<k { rowSum += dz.values[i * k + j]; colSum[j] += dz.values[i * k + j] }
                    for t in 0..<d { dr.values[i * d + t] -= 2 * gamma * rowSum * r.values[i * d + t] }
                }
                for j in 0..<k { for t in 0..<d { dCm.values[j * d + t] -= 2 * gamma * colSum[j] * c.values[j * d + t] } }
            case .cosine:
                // logit = gamma cos(r, c);  dcos/dr = c/(|r||c|) - cos r/|r|^2 ; symmetric for c.
                let sim = similarities[m], rn = residualNorms[m], cn = codewordNorms[m]
                var a = Matrix(rows: b, cols: k)
                var rowTerm = [Float](repeating: 0, count: b)
                var colTerm = [Float](repeating: 0, count: k)
                for i in 0..<b { for j in 0..<k {
                    let g = gamma * dz.values[i * k + j]
                    a.values[i * k + j] = g / (rn[i] * cn[j])
                    rowTerm[i] += g * sim.values[i * k + j]
                    colTerm[j] += g * sim.values[i * k + j]
                } }
                dr = BLAS.product(a, c)
                BLAS.gemm(a, transposeA: true, r, into: &dCm, beta: 1)
                for i in 0..<b { for t in 0..<d { dr.values[i * d + t] -= rowTerm[i] / (rn[i] * rn[i]) * r.values[i * d + t] } }
                for j in 0..<k { for t in 0..<d { dCm.values[j * d + t] -= colTerm[j] / (cn[j] * cn[j]) * c.values[j * d + t] } }
            }
            // h_m = C[b_m], and r_j for j > m subtracts h_m: its total gradient.
            for i in 0..<b {
                let row = Int(indices[m][i]) * d
                for t in 0..<d { dCm.values[row + t] += dHard.values[i * d + t] - dResidualSum.values[i * d + t] }
            }
            for i in 0..<(k * d) { dC[cOffset + i] += dCm.values[i] }
            for i in dResidualSum.values.indices { dResidualSum.values[i] += dr.values[i] }
        }
        // Every residual is f minus earlier codewords, so f collects all residual gradients.
        return (dResidualSum, dC)
    }
}
