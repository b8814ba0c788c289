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
        var normalised: Matrix
        var inverseStd: [Float]
        /// The batch's statistics in training mode; nil in inference.
        var batchMean: [Float]?
        var batchVariance: [Float]?
        var count: Int
    }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Cache) {
        let c = shape.channels, rows = x.values.count / c
        var mean = runningMean, variance = runningVariance
        if mode.isTraining {
            // Two passes in Double: the variance of values far from zero loses nothing.
            var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
            x.values.withUnsafeBufferPointer { p in
                for r in 0..<rows { for ch in 0..<c { sum[ch] += Double(p[r * c + ch]) } }
                for ch in 0..<c { sum[ch] /= Double(max(rows, 1)) }
                for r in 0..<rows { for ch in 0..<c { let d = Double(p[r * c + ch]) - sum[ch]; sq[ch] += d * d } }
            }
            mean = sum.map { Float($0) }
            variance = sq.map { Float($0 / Double(max(rows, 1))) }
        }
        let inv = variance.map { 1 / ($0 + Self.epsilon).squareRoot() }
        var xhat = x
        var y = x
        xhat.values.withUnsafeMutableBufferPointer { h in
            y.values.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    let base = r * c
                    for ch in 0..<c {
                        let v = (h[base + ch] - mean[ch]) * inv[ch]
                        h[base + ch] = v
                        out[base + ch] = gamma[ch] * v + beta[ch]
                    }
                }
            }
        }
        let cache = Cache(normalised: xhat, inverseStd: inv, batchMean: mode.isTraining ? mean : nil,
                          batchVariance: mode.isTraining ? variance : nil, count: rows)
        return (y, cache)
    }

    public func backward(_ dy: Matrix, cache: Cache, needInputGradient: Bool) -> LayerGradient {
        let c = shape.channels, rows = cache.count
        var dBeta = [Double](repeating: 0, count: c), dGamma = [Double](repeating: 0, count: c)
        dy.values.withUnsafeBufferPointer { d in
            cache.normalised.values.withUnsafeBufferPointer { h in
                for r in 0..<rows {
                    for ch in 0..<c { dBeta[ch] += Double(d[r * c + ch]); dGamma[ch] += Double(d[r * c + ch] * h[r * c + ch]) }
                }
            }
        }
        let db = dBeta.map { Float($0) }, dg = dGamma.map { Float($0) }
        var dx: Matrix?
        if needInputGradient {
            var out = dy
            let training = cache.batchMean != nil
            let n = Float(rows)
            let scale = (0..<c).map { gamma[$0] * cache.inverseStd[$0] / (training ? n : 1) }
            out.values.withUnsafeMutableBufferPointer { o in
                cache.normalised.values.withUnsafeBufferPointer { h in
                    for r in 0..<rows {
                        let base = r * c
                        for ch in 0..<c {
                            o[base + ch] = training ? scale[ch] * (n * o[base + ch] - db[ch] - h[base + ch] * dg[ch])
                                                    : scale[ch] * o[base + ch]
                        }
                    }
                }
            }
            dx = out
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
