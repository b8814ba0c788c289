import Testing
import DPQEngine

// Every layer's hand-written backward against central finite differences of the forward.
@Suite struct NetworkGradientTests {
    /// L = sum(Y * G) for a fixed G, so dL/dY = G.
    func probe(_ y: Matrix, _ g: Matrix) -> Float {
        var s: Double = 0
        for i in y.values.indices { s += Double(y.values[i] * g.values[i]) }
        return Float(s)
    }

    @Test func denseLayer() {
        var r = SeededRandom(seed: 1)
        let layer = DenseLayer(inputs: 5, outputs: 4, gain: 1, random: &r)
        let x = TestData.matrix(rows: 3, cols: 5, seed: 2)
        let g = TestData.matrix(rows: 3, cols: 4, seed: 3)
        let (grad, dx) = layer.backward(input: x, outputGradient: g, needInput: true)
        let nw = TestData.numericGradient(layer.weight.values, indices: Array(0..<20), eps: 1e-2) { w in
            probe(DenseLayer(weight: Matrix(rows: 5, cols: 4, values: w), bias: layer.bias).forward(x), g)
        }
        #expect(TestData.relativeError(grad.weight.values, nw) < 1e-2)
        let nb = TestData.numericGradient(layer.bias, indices: Array(0..<4)) { b in
            probe(DenseLayer(weight: layer.weight, bias: b).forward(x), g)
        }
        #expect(TestData.relativeError(grad.bias, nb) < 1e-2)
        let nx = TestData.numericGradient(x.values, indices: Array(0..<15)) { v in
            probe(layer.forward(Matrix(rows: 3, cols: 5, values: v)), g)
        }
        #expect(TestData.relativeError(dx!.values, nx) < 1e-2)
    }

    @Test func activations() {
        let x = TestData.matrix(rows: 4, cols: 5, seed: 4)
        let g = TestData.matrix(rows: 4, cols: 5, seed: 5)
        for kind in ["tanh", "relu"] {
            func f(_ v: [Float]) -> Matrix {
                var m = Matrix(rows: 4, cols: 5, values: v)
                if kind == "tanh" { Activation.tanh(&m) } else { Activation.relu(&m) }
                return m
            }
            var dy = g
            if kind == "tanh" { Activation.tanhBackward(output: f(x.values), gradient: &dy) }
            else { Activation.reluBackward(output: f(x.values), gradient: &dy) }
            let n = TestData.numericGradient(x.values, indices: Array(0..<20), eps: 1e-3) { probe(f($0), g) }
            #expect(TestData.relativeError(dy.values, n) < 2e-2, "\(kind)")
        }
    }

    @Test(arguments: [ClassifierInput.trunk, .feature])
    func wholeNetwork(head: ClassifierInput) {
        let config = ModelConfig(inputDimension: 6, hiddenSizes: [7, 5], featureDimension: 4, dropout: 0,
                                 classifierInput: head, classCount: 3)
        var r = SeededRandom(seed: 9)
        let net = FeatureNetwork(config: config, random: &r)
        let x = TestData.matrix(rows: 5, cols: 6, seed: 10)
        let gz = TestData.matrix(rows: 5, cols: 3, seed: 11)
        let gf = TestData.matrix(rows: 5, cols: 4, seed: 12)
        func loss(_ n: FeatureNetwork) -> Float {
            let a = n.forward(x)
            return probe(a.logits, gz) + probe(a.feature, gf)
        }
        let grads = net.backward(net.forward(x), logitsGradient: gz, featureGradient: gf).arrays
        var checked = 0
        for slot in 0..<net.parameterSlotCount {
            var params: [Float] = []
            var copy = net
            copy.visitParameters { s, p in if s == slot { params = p } }
            let idx = TestData.sampleIndices(params.count, min(params.count, 12), seed: UInt64(slot))
            let numeric = TestData.numericGradient(params, indices: idx, eps: 1e-2) { v in
                var n = net
                n.visitParameters { s, p in if s == slot { p = v } }
                return loss(n)
            }
            let analytic = idx.map { grads[slot][$0] }
            #expect(TestData.relativeError(analytic, numeric) < 3e-2, "slot \(slot)")
            checked += idx.count
        }
        #expect(checked > 50)
    }

    /// A convolutional network in training mode (batch statistics, a fixed dropout mask) through
    /// every named parameter, with either head. ReLU and max pooling are left out here: after
    /// batch norm, hundreds of pre-activations sit near their kinks and some finite difference
    /// would straddle one; each is checked on its own in LayerGradientTests, where inputs keep clear.
    @Test(arguments: [ClassifierInput.trunk, .feature])
    func imageNetwork(head: ClassifierInput) {
        var config = ModelConfig(inputDimension: 50, featureDimension: 4, inputDropout: 0.1, classifierInput: head, classCount: 3)
        config.inputShape = TensorShape(height: 5, width: 5, channels: 2)
        config.trunk = "conv3x3-3,bn,avgpool2/s1,conv2x2-4/s2/p0,bn,dropout-0.3,gap,dense-5"
        var r = SeededRandom(seed: 9)
        let net = FeatureNetwork(config: config, random: &r)
        let x = TestData.matrix(rows: 4, cols: 50, seed: 10)
        let gz = TestData.matrix(rows: 4, cols: 3, seed: 11)
        let gf = TestData.matrix(rows: 4, cols: 4, seed: 12)
        func forward(_ n: FeatureNetwork) -> FeatureNetwork.Activations {
            var fixed = SeededRandom(seed: 13)
            return n.forward(x, training: &fixed)
        }
        func loss(_ n: FeatureNetwork) -> Float {
            let a = forward(n)
            return probe(a.logits, gz) + probe(a.feature, gf)
        }
        let grads = net.backward(forward(net), logitsGradient: gz, featureGradient: gf).arrays
        #expect(grads.count == net.parameterSlotCount)
        var checked = 0
        for slot in 0..<net.parameterSlotCount {
            var params: [Float] = []
            var copy = net
            copy.visitParameters { s, p in if s == slot { params = p } }
            let idx = TestData.sampleIndices(params.count, min(params.count, 12), seed: UInt64(slot))
            let numeric = TestData.numericGradient(params, indices: idx, eps: 5e-3) { v in
                var n = net
                n.visitParameters { s, p in if s == slot { p = v } }
                return loss(n)
            }
            let analytic = idx.map { grads[slot][$0] }
            #expect(TestData.relativeError(analytic, numeric, floor: 3e-2) < 5e-2, "\(net.parameterNames[slot])")
            checked += idx.count
        }
        #expect(checked > 80)
    }
}
