// The loss terms, each averaged over the batch, with their gradients.
//   softmax cross-entropy:  -sum_j t_j log softmax(z)_j       dz = softmax(z) - t
//     with t = (1 - eps) onehot(y) + eps / C  (label smoothing eps; 0: the plain one-hot target)
//   sigmoid cross-entropy:  sum_c -[t log sig(z) + (1-t) log(1 - sig(z))]   dz = sig(z) - t
//     with t = (1 - eps) [c in labels] + eps / 2
//   distortion:  sum_m ||f - S_m||^2,  mu sum_m ||f - H_m||^2,  nu ||S_M - H_M||^2

public enum Losses {
    /// Mean cross-entropy of `logits` against `labels` (softmax for single-label, sigmoid for
    /// multi-label), and its gradient scaled by `weight`; targets smoothed by `smoothing`.
    public static func classification(logits z: Matrix, labels: Labels, rows: [Int], multiLabel: Bool,
                                      weight: Float, smoothing: Float = 0) -> (loss: Float, gradient: Matrix) {
        let b = z.rows, c = z.cols
        var grad = Matrix(rows: b, cols: c)
        var total: Double = 0
        let scale = weight / Float(max(b, 1))
        for i in 0..<b {
            let base = i * c
            let item = rows[i]
            if multiLabel {
                for j in 0..<c {
                    let t: Float = (labels.has(item, j) ? 1 - smoothing : 0) + smoothing / 2
                    let x = z.values[base + j]
                    // log(1 + e^-|x|) + max(x, 0) - x t, stable for large |x|.
                    total += Double(logf_(1 + expf_(-abs(x))) + max(x, 0) - x * t)
                    let sig = x >= 0 ? 1 / (1 + expf_(-x)) : expf_(x) / (1 + expf_(x))
                    grad.values[base + j] = (sig - t) * scale
                }
            } else {
                var mx = -Float.infinity
                for j in 0..<c { mx = max(mx, z.values[base + j]) }
                var sum: Float = 0
                for j in 0..<c { sum += expf_(z.values[base + j] - mx) }
                let target = labels.labels(of: item).first ?? 0
                let other = smoothing / Float(c), own = 1 - smoothing + other
                // -sum_j t_j (z_j - mx - log sum), with sum_j t_j = 1.
                var dot: Float = 0
                for j in 0..<c { dot += (j == target ? own : other) * z.values[base + j] }
                total += Double(logf_(sum) + mx - dot)
                for j in 0..<c {
                    let p = expf_(z.values[base + j] - mx) / sum
                    grad.values[base + j] = (p - (j == target ? own : other)) * scale
                }
            }
        }
        return (Float(total / Double(max(b, 1))), grad)
    }

    public struct Distortion: Sendable {
        public var soft: Float
        public var hard: Float
        public var match: Float
        /// dL/dS_m and dL/dH_m for every prefix m, and the direct dL/df, for the weighted sum.
        public var softPrefixGradient: [Matrix]
        public var hardPrefixGradient: [Matrix]
        public var featureGradient: Matrix
    }

    /// Distortion terms of a quantizer pass; gradients are of tau*(soft + mu*hard + nu*match).
    public static func distortion(features f: Matrix, pass: QuantizerPass, tau: Float, mu: Float, nu: Float) -> Distortion {
        let b = f.rows, n = f.values.count
        let inv = 1 / Float(max(b, 1))
        var soft: Double = 0, hard: Double = 0, match: Double = 0
        var dF = Matrix(rows: b, cols: f.cols)
        var dS: [Matrix] = []
        var dH: [Matrix] = []
        let mCount = pass.softPrefix.count
        for m in 0..<mCount {
            var gs = Matrix(rows: b, cols: f.cols)
            var gh = Matrix(rows: b, cols: f.cols)
            let sp = pass.softPrefix[m].values, hp = pass.hardPrefix[m].values
            for i in 0..<n {
                let es = sp[i] - f.values[i], eh = hp[i] - f.values[i]
                soft += Double(es * es)
                hard += Double(eh * eh)
                gs.values[i] = 2 * tau * inv * es
                gh.values[i] = 2 * tau * mu * inv * eh
                dF.values[i] -= gs.values[i] + gh.values[i]
            }
            if m == mCount - 1 {
                for i in 0..<n {
                    let e = sp[i] - hp[i]
                    match += Double(e * e)
                    let g = 2 * tau * nu * inv * e
                    gs.values[i] += g
                    gh.values[i] -= g
                }
            }
            dS.append(gs)
            dH.append(gh)
        }
        return Distortion(soft: Float(soft) * inv, hard: Float(hard) * inv, match: Float(match) * inv,
                          softPrefixGradient: dS, hardPrefixGradient: dH, featureGradient: dF)
    }
}
