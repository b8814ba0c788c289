// Batch normalisation per channel (the last NHWC axis), over the batch and every position:
//   training:   mu_c, var_c = mean and (biased) variance of x[., c] over R = B H W values
//               xhat = (x - mu) / sqrt(var + eps);  y = gamma xhat + beta
//   inference:  the same with the running mean and variance in place of mu and var
//   backward (training): dgamma = sum dy xhat;  dbeta = sum dy;
//               dx = gamma / (R sqrt(var + eps)) (R dy - dbeta - xhat dgamma)
//   backward (inference): dx = gamma dy / sqrt(var_running + eps)   (a fixed affine map)
// Running statistics are buffers: after a training forward, updatedBuffers gives
//   running = (1 - momentum) running + momentum batch  (variance unbiased, R / (R - 1)),
// as PyTorch, so a PyTorch BatchNorm2d loaded with our tensors computes the same inference.

public struct BatchNorm: Layer, Equatable {
    public var shape: TensorShape
    public var gamma: [Float]
    public var beta: [Float]
    public var runningMean: [Float]
    public var runningVariance: [Float]
    public static let epsilon: Float = 1e-5
    public static let momentum: Float = 0.1

    public init(shape: TensorShape) {
        let c = shape.channels
        self.shape = shape
        gamma = [Float](repeating: 1, count: c)
        beta = [Float](repeating: 0, count: c)
        runningMean = [Float](repeating: 0, count: c)
        runningVariance = [Float](repeating: 1, count: c)
    }

    public var token: String { "bn" }
    public var inputShape: TensorShape { shape }
    public var outputShape: TensorShape { shape }
    public var tensors: [LayerTensor] {
        let c = shape.channels
        return [LayerTensor("weight", [c]), LayerTensor("bias", [c]),
                LayerTensor("running_mean", [c], buffer: true), LayerTensor("running_var", [c], buffer: true)]
    }
    public mutating func withTensor(_ index: Int, _ body: (inout [Float]) -> Void) {
        switch index {
        case 0: body(&gamma)
        case 1: body(&beta)
        case 2: body(&runningMean)
        default: body(&runningVariance)
        }
    }
    public var multiplyAdds: Int { shape.count }

    public struct Cache: Sendable {
        /// The layer's input (shared with the caller, not copied); backward recomputes
        /// xhat = (x - mean) inv from it instead of keeping a normalised copy.
        var input: Matrix
        var mean: [Float]
        var inverseStd: [Float]
        /// The batch's statistics in training mode; nil in inference.
        var batchMean: [Float]?
        var batchVariance: [Float]?
        var count: Int
    }

    /// Rows summed in Float before each addition to the Double totals: exact enough (64 terms),
    /// and the per-channel inner loop vectorises.
    static let block = 64

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Cache) {
        let c = shape.channels, rows = x.values.count / c
        var mean = runningMean, variance = runningVariance
        if mode.isTraining {
            // Sums of x, then of (x - mean)^2: two passes, so the variance of values far from
            // zero loses nothing; Float partials per block of rows, Double totals.
            var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
            var part = [Float](repeating: 0, count: c)
            x.values.withUnsafeBufferPointer { xp in
                part.withUnsafeMutableBufferPointer { pp in
                    let p = xp.baseAddress!, acc = pp.baseAddress!
                    sum.withUnsafeMutableBufferPointer { total in
                        Self.blockSums(p, rows: rows, channels: c, partial: acc, total: total.baseAddress!) { v, _ in v }
                    }
                    let m = sum.map { Float($0 / Double(max(rows, 1))) }
                    m.withUnsafeBufferPointer { mp in
                        let mu = mp.baseAddress!
                        sq.withUnsafeMutableBufferPointer { total in
                            Self.blockSums(p, rows: rows, channels: c, partial: acc, total: total.baseAddress!) { v, ch in
                                let d = v - mu[ch]
                                return d * d
                            }
                        }
                    }
                    mean = m
                }
            }
            variance = sq.map { Float($0 / Double(max(rows, 1))) }
        }
        let inv = variance.map { 1 / ($0 + Self.epsilon).squareRoot() }
        // y = a x + b per channel, a = gamma inv, b = beta - mean a.
        let a = (0..<c).map { gamma[$0] * inv[$0] }
        let b = (0..<c).map { beta[$0] - mean[$0] * a[$0] }
        let y = x.values.withUnsafeBufferPointer { xp in
            Matrix(rows: x.rows, cols: x.cols) { yp in
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        let (src, out, sa, sb) = (xp.baseAddress!, yp.baseAddress!, ap.baseAddress!, bp.baseAddress!)
                        for r in 0..<rows {
                            let base = r * c
                            var ch = 0
                            while ch + 8 <= c {
                                (out + base + ch).store8(SIMD8.load(sa + ch) * SIMD8.load(src + base + ch) + SIMD8.load(sb + ch))
                                ch += 8
                            }
                            while ch < c { out[base + ch] = sa[ch] * src[base + ch] + sb[ch]; ch += 1 }
                        }
                    }
                }
            }
        }
        let cache = Cache(input: x, mean: mean, inverseStd: inv, batchMean: mode.isTraining ? mean : nil,
                          batchVariance: mode.isTraining ? variance : nil, count: rows)
        return (y, cache)
    }

    /// total[ch] += sum over rows of f(x[r, ch], ch), summed in Float within blocks of rows.
    @inline(__always)
    static func blockSums(_ x: UnsafePointer<Float>, rows: Int, channels c: Int, partial: UnsafeMutablePointer<Float>,
                          total: UnsafeMutablePointer<Double>, _ f: (Float, Int) -> Float) {
        var r = 0
        while r < rows {
            let end = min(rows, r + block)
            partial.update(repeating: 0, count: c)
            for row in r..<end {
                let p = x + row * c
                var ch = 0
                while ch + 8 <= c {
                    var v = SIMD8<Float>()
                    for j in 0..<8 { v[j] = f(p[ch + j], ch + j) }
                    (partial + ch).store8(SIMD8.load(partial + ch) + v)
                    ch += 8
                }
                while ch < c { partial[ch] += f(p[ch], ch); ch += 1 }
            }
            for ch in 0..<c { total[ch] += Double(partial[ch]) }
            r = end
        }
    }

    public func backward(_ dy: Matrix, cache: Cache, needInputGradient: Bool) -> LayerGradient {
        let c = shape.channels, rows = cache.count
        var dBeta = [Double](repeating: 0, count: c), dGamma = [Double](repeating: 0, count: c)
        var partBeta = [Float](repeating: 0, count: c), partGamma = [Float](repeating: 0, count: c)
        dy.values.withUnsafeBufferPointer { dp in
            cache.input.values.withUnsafeBufferPointer { xp in
                cache.mean.withUnsafeBufferPointer { mp in
                    cache.inverseStd.withUnsafeBufferPointer { ip in
                        partBeta.withUnsafeMutableBufferPointer { pbp in
                            partGamma.withUnsafeMutableBufferPointer { pgp in
                                let (d, x, mu, inv, pb, pg) = (dp.baseAddress!, xp.baseAddress!, mp.baseAddress!, ip.baseAddress!,
                                                               pbp.baseAddress!, pgp.baseAddress!)
                                var r = 0
                                while r < rows {
                                    let end = min(rows, r + Self.block)
                                    pb.update(repeating: 0, count: c)
                                    pg.update(repeating: 0, count: c)
                                    for row in r..<end {
                                        let base = row * c
                                        // Eight channels at a time by hand: the compiler cannot
                                        // vectorise through pointers that might alias.
                                        var ch = 0
                                        while ch + 8 <= c {
                                            let g = SIMD8.load(d + base + ch)
                                            (pb + ch).store8(SIMD8.load(pb + ch) + g)
                                            (pg + ch).store8(SIMD8.load(pg + ch)
                                                + g * (SIMD8.load(x + base + ch) - SIMD8.load(mu + ch)) * SIMD8.load(inv + ch))
                                            ch += 8
                                        }
                                        while ch < c {
                                            let g = d[base + ch]
                                            pb[ch] += g
                                            pg[ch] += g * (x[base + ch] - mu[ch]) * inv[ch]
                                            ch += 1
                                        }
                                    }
                                    for ch in 0..<c { dBeta[ch] += Double(pb[ch]); dGamma[ch] += Double(pg[ch]) }
                                    r = end
                                }
                            }
                        }
                    }
                }
            }
        }
        let db = dBeta.map { Float($0) }, dg = dGamma.map { Float($0) }
        var dx: Matrix?
        if needInputGradient {
            let training = cache.batchMean != nil
            let n = Float(rows)
            // training: dx = s (n dy - db - xhat dg), s = gamma inv / n;  inference: dx = gamma inv dy.
            let scale = (0..<c).map { gamma[$0] * cache.inverseStd[$0] / (training ? n : 1) }
            let times = training ? n : 1
            let offset = (0..<c).map { training ? -scale[$0] * db[$0] : 0 }
            let slope = (0..<c).map { training ? -scale[$0] * dg[$0] * cache.inverseStd[$0] : 0 }
            dx = Matrix(rows: dy.rows, cols: dy.cols) { op in
                dy.values.withUnsafeBufferPointer { dp in
                    cache.input.values.withUnsafeBufferPointer { xp in
                        cache.mean.withUnsafeBufferPointer { mp in
                            scale.withUnsafeBufferPointer { sp in
                                offset.withUnsafeBufferPointer { fp in
                                    slope.withUnsafeBufferPointer { lp in
                                        let (o, d, x, mu, s, f, l) = (op.baseAddress!, dp.baseAddress!, xp.baseAddress!, mp.baseAddress!,
                                                                      sp.baseAddress!, fp.baseAddress!, lp.baseAddress!)
                                        let t8 = SIMD8<Float>(repeating: times)
                                        for r in 0..<rows {
                                            let base = r * c
                                            var ch = 0
                                            while ch + 8 <= c {
                                                (o + base + ch).store8(SIMD8.load(s + ch) * t8 * SIMD8.load(d + base + ch) + SIMD8.load(f + ch)
                                                    + SIMD8.load(l + ch) * (SIMD8.load(x + base + ch) - SIMD8.load(mu + ch)))
                                                ch += 8
                                            }
                                            while ch < c {
                                                o[base + ch] = s[ch] * times * d[base + ch] + f[ch] + l[ch] * (x[base + ch] - mu[ch])
                                                ch += 1
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return LayerGradient(input: dx, parameters: [dg, db])
    }

    public func updatedBuffers(_ cache: Cache) -> [[Float]] {
        guard let mean = cache.batchMean, let variance = cache.batchVariance else { return [] }
        let m = Self.momentum
        let unbias = cache.count > 1 ? Float(cache.count) / Float(cache.count - 1) : 1
        return [zip(runningMean, mean).map { (1 - m) * $0 + m * $1 },
                zip(runningVariance, variance).map { (1 - m) * $0 + m * $1 * unbias }]
    }
}

extension SIMD8 where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func store8(_ v: SIMD8<Float>) { UnsafeMutableRawPointer(self).storeBytes(of: v, as: SIMD8<Float>.self) }
}
