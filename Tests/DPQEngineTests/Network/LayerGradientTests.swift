import Testing
import DPQEngine

// One finite-difference check for every kind of trunk layer: each layer is built from a spec
// token on a small random input shape; its hand-written backward (dL/dx and dL/dp for every
// parameter) is compared with central differences of L = sum(y * G) for a fixed random G.
// Inputs are distinct values spaced 0.1 apart and at least 0.05 from zero, so that no
// perturbation of eps = 0.01 moves a max-pooling winner or crosses ReLU's kink.
@Suite struct LayerGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var token: String
        var input: TensorShape
        var training = false
        var testDescription: String { "\(token) on \(input)\(training ? " (training)" : "")" }
    }

    static func s(_ h: Int, _ w: Int, _ c: Int) -> TensorShape { TensorShape(height: h, width: w, channels: c) }

    static let cases: [Case] = [
        Case(token: "conv3x3-3", input: s(5, 5, 2)),                 // stride 1, "same" padding
        Case(token: "conv3x3-3/s2/p0", input: s(6, 5, 2)),           // stride 2, no padding, odd width
        Case(token: "conv2x3-2/p1", input: s(4, 5, 3)),              // rectangular kernel
        Case(token: "conv5x5-2/s2/p2", input: s(7, 7, 1)),
        Case(token: "conv3x3-2/s3/p2", input: s(5, 4, 2)),           // windows partly in the padding
        Case(token: "conv1x1-4", input: s(3, 3, 3)),                 // pointwise: no im2col
        Case(token: "conv1x1-2/s2/p0", input: s(4, 4, 2)),
        Case(token: "bn", input: s(3, 3, 4), training: true),
        Case(token: "bn", input: s(3, 3, 4)),
        Case(token: "bn", input: TensorShape(flat: 6), training: true),
        Case(token: "relu", input: s(3, 3, 2)),
        Case(token: "maxpool2", input: s(4, 4, 3)),
        Case(token: "maxpool3/s2/p1", input: s(5, 5, 2)),
        Case(token: "maxpool2/s1", input: s(3, 4, 2)),
        Case(token: "maxpool2", input: s(5, 5, 1)),                  // the last row and column dropped
        Case(token: "avgpool2", input: s(4, 4, 2)),
        Case(token: "avgpool3/s2/p1", input: s(5, 5, 2)),
        Case(token: "gap", input: s(3, 4, 3)),
        Case(token: "flatten", input: s(2, 3, 2)),
        Case(token: "dropout-0.4", input: s(3, 3, 2), training: true),
        Case(token: "dropout-0.4", input: s(3, 3, 2)),
        Case(token: "dense-4", input: TensorShape(flat: 5)),
    ]

    @Test(arguments: cases)
    func layerGradient(_ c: Case) throws {
        var random = SeededRandom(seed: 3)
        let layer = try TrunkSpec(parsing: c.token).build(input: c.input, endsFlat: false, random: &random)[0]
        check(layer, c, seed: 17)
    }

    /// Opens the existential so that the layer's own Cache type is used.
    func check<L: Layer>(_ built: L, _ c: Case, seed: UInt64) {
        var r = SeededRandom(seed: seed)
        var layer = built
        // Parameters and buffers away from their initial values (BN starts at gamma 1, beta 0).
        for (i, t) in layer.tensors.enumerated() {
            layer.withTensor(i) { v in
                v = v.map { _ in t.name == "running_var" ? 0.5 + r.uniform() : (t.name == "weight" && t.shape.count == 1 ? 1 : 0) + 0.5 * r.normal() }
            }
        }
        let batch = 3
        let n = batch * c.input.count
        let order = r.permutation(n)
        let x = Matrix(rows: batch, cols: c.input.count, values: order.map { (Float($0) - Float(n / 2) + 0.5) * 0.1 })
        let dy = TestData.matrix(rows: batch, cols: layer.outputShape.count, seed: seed + 1)
        func mode() -> LayerMode { c.training ? .training(random: SeededRandom(seed: 99)) : .inference }
        func loss(_ l: L, _ input: Matrix) -> Double {
            var m = mode()
            let y = l.forward(input, mode: &m).output
            return zip(y.values, dy.values).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        var m = mode()
        let (y, cache) = layer.forward(x, mode: &m)
        #expect(y.rows == batch && y.cols == layer.outputShape.count)
        let grad = layer.backward(dy, cache: cache, needInputGradient: true)
        let eps: Float = 0.01
        func numeric(_ count: Int, _ indices: [Int], _ perturbed: (Int, Float) -> Double) -> [Float] {
            indices.map { i in Float((perturbed(i, eps) - perturbed(i, -eps)) / (2 * Double(eps))) }
        }
        let xi = TestData.sampleIndices(n, min(n, 60), seed: seed + 2)
        let nx = numeric(n, xi) { i, e in var v = x; v.values[i] += e; return loss(layer, v) }
        let dx = try! #require(grad.input)
        #expect(TestData.relativeError(xi.map { dx.values[$0] }, nx) < 2e-2, "dL/dx of \(c.testDescription)")

        let parameters = layer.tensors.enumerated().filter { !$0.element.isBuffer }
        #expect(grad.parameters.count == parameters.count)
        for ((slot, (i, t)), g) in zip(parameters.enumerated(), grad.parameters) {
            let values = layer.tensorValues[i]
            #expect(g.count == values.count, "\(t.name)")
            let idx = TestData.sampleIndices(values.count, min(values.count, 30), seed: seed + 10 + UInt64(slot))
            let np = numeric(values.count, idx) { j, e in
                var l = layer
                l.withTensor(i) { $0[j] += e }
                return loss(l, x)
            }
            #expect(TestData.relativeError(idx.map { g[$0] }, np) < 2e-2, "dL/d\(t.name) of \(c.testDescription)")
        }
        // Without dL/dx the parameter gradients are the same, and no dL/dx is made.
        let alone = layer.backward(dy, cache: cache, needInputGradient: false)
        #expect(alone.input == nil)
        #expect(alone.parameters == grad.parameters)
    }

    /// Batch norm's buffers: the running statistics move 10% toward the batch's (variance
    /// unbiased), and inference normalises with them.
    @Test func batchNormRunningStatistics() throws {
        var random = SeededRandom(seed: 1)
        let shape = TensorShape(height: 2, width: 2, channels: 2)
        var bn = try #require(try TrunkSpec(parsing: "bn").build(input: shape, endsFlat: false, random: &random)[0] as? BatchNorm)
        let x = TestData.matrix(rows: 3, cols: 8, seed: 2, scale: 2)
        var mode = LayerMode.training(random: random)
        let cache = bn.forward(x, mode: &mode).cache
        let updated = bn.updatedBuffers(cache)
        for ch in 0..<2 {
            let v = (0..<12).map { x.values[$0 * 2 + ch] }
            let mean = v.reduce(0, +) / 12
            let unbiased = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 11
            #expect(abs(updated[0][ch] - 0.1 * mean) < 1e-5)
            #expect(abs(updated[1][ch] - (0.9 + 0.1 * unbiased)) < 1e-4)
        }
        bn.runningMean = [0.5, -1]; bn.runningVariance = [4, 0.25]; bn.gamma = [2, 3]; bn.beta = [0.1, 0.2]
        var inference = LayerMode.inference
        let (y, c2) = bn.forward(x, mode: &inference)
        for i in 0..<24 {
            let ch = i % 2
            let expected = bn.gamma[ch] * (x.values[i] - bn.runningMean[ch]) / (bn.runningVariance[ch] + 1e-5).squareRoot() + bn.beta[ch]
            #expect(abs(y.values[i] - expected) < 1e-5)
        }
        #expect(bn.updatedBuffers(c2).isEmpty)
    }
}
