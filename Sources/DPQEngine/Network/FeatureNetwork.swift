// The network that maps a standardised input x to a feature f and class logits z:
//   a_0 = x,  a_l = dropout(relu(a_{l-1} W_l + b_l))         (the trunk)
//   f   = tanh(a_L W_f + b_f)                                 (the feature, in [-1, 1]^D)
//   z   = a_L W_c + b_c   or   f W_c + b_c                    (the classifier head)
// Backward is written by hand; `Gradient` mirrors the parameters one to one.

public struct FeatureNetwork: Sendable, Equatable {
    public var trunk: [DenseLayer]
    public var feature: DenseLayer
    public var classifier: DenseLayer
    public var classifierInput: ClassifierInput
    public var dropout: Float
    public var inputDropout: Float

    public init(trunk: [DenseLayer], feature: DenseLayer, classifier: DenseLayer,
                classifierInput: ClassifierInput, dropout: Float, inputDropout: Float = 0) {
        self.trunk = trunk
        self.feature = feature
        self.classifier = classifier
        self.classifierInput = classifierInput
        self.dropout = dropout
        self.inputDropout = inputDropout
    }

    public init(config: ModelConfig, random: inout SeededRandom) {
        var layers: [DenseLayer] = []
        var width = config.inputDimension
        for h in config.hiddenSizes {
            layers.append(DenseLayer(inputs: width, outputs: h, gain: Float(2).squareRoot(), random: &random))
            width = h
        }
        let feature = DenseLayer(inputs: width, outputs: config.featureDimension, gain: 1, random: &random)
        let headInputs = config.classifierInput == .trunk ? width : config.featureDimension
        let classifier = DenseLayer(inputs: headInputs, outputs: config.classCount, gain: 1, random: &random)
        self.init(trunk: layers, feature: feature, classifier: classifier,
                  classifierInput: config.classifierInput, dropout: config.dropout, inputDropout: config.inputDropout)
    }

    /// What backward needs from a forward pass.
    public struct Activations: Sendable {
        public var input: Matrix
        /// Output of each trunk layer after ReLU and dropout.
        public var trunk: [Matrix]
        public var masks: [[Float]]
        public var feature: Matrix
        public var logits: Matrix
        public var trunkOutput: Matrix { trunk.last ?? input }
    }

    /// Forward pass for inference: no dropout.
    public func forward(_ x: Matrix) -> Activations { run(x) { _ in nil } }

    /// Forward pass for training: dropout masks (input and hidden) drawn from `random`.
    /// The input mask needs no backward: the input has no parameters.
    public func forward(_ x: Matrix, training random: inout SeededRandom) -> Activations {
        var r = random
        defer { random = r }
        var input = x
        if inputDropout > 0 { _ = Activation.dropout(&input, rate: inputDropout, random: &r) }
        let rate = dropout
        return run(input) { a in rate > 0 ? Activation.dropout(&a, rate: rate, random: &r) : nil }
    }

    private func run(_ x: Matrix, dropout drop: (inout Matrix) -> [Float]?) -> Activations {
        var outs: [Matrix] = []
        var masks: [[Float]] = []
        let (a, f) = trunkAndFeature(x) { a in
            if let mask = drop(&a) { masks.append(mask) }
            outs.append(a)
        }
        let logits = classifier.forward(classifierInput == .trunk ? a : f)
        return Activations(input: x, trunk: outs, masks: masks, feature: f, logits: logits)
    }

    /// The trunk (each layer's ReLU output handed to `after`) and the tanh feature layer.
    private func trunkAndFeature(_ x: Matrix, after: (inout Matrix) -> Void) -> (trunkOutput: Matrix, feature: Matrix) {
        var a = x
        for layer in trunk {
            a = layer.forward(a)
            Activation.relu(&a)
            after(&a)
        }
        var f = feature.forward(a)
        Activation.tanh(&f)
        return (a, f)
    }

    /// Features for inference (no dropout, no classifier, no activations kept).
    public func features(_ x: Matrix) -> Matrix { trunkAndFeature(x) { _ in }.feature }

    public struct Gradient: Sendable {
        public var trunk: [DenseLayer.Gradient]
        public var feature: DenseLayer.Gradient
        public var classifier: DenseLayer.Gradient
    }

    /// Gradients of the parameters given dL/dz (logits) and dL/df (feature) from the losses
    /// (dL/df excludes the head's contribution, which is added here when the head is on f).
    public func backward(_ act: Activations, logitsGradient dz: Matrix, featureGradient dfIn: Matrix) -> Gradient {
        let headInput = classifierInput == .trunk ? act.trunkOutput : act.feature
        let (gc, dHead) = classifier.backward(input: headInput, outputGradient: dz, needInput: true)
        var df = dfIn
        if classifierInput == .feature, let dHead {
            for i in df.values.indices { df.values[i] += dHead.values[i] }
        }
        Activation.tanhBackward(output: act.feature, gradient: &df)
        let (gf, dTrunkOut) = feature.backward(input: act.trunkOutput, outputGradient: df, needInput: !trunk.isEmpty)
        var grads = [DenseLayer.Gradient?](repeating: nil, count: trunk.count)
        if var da = dTrunkOut {
            if classifierInput == .trunk, let dHead {
                for i in da.values.indices { da.values[i] += dHead.values[i] }
            }
            for l in stride(from: trunk.count - 1, through: 0, by: -1) {
                if !act.masks.isEmpty { Activation.applyMask(act.masks[l], to: &da) }
                Activation.reluBackward(output: act.trunk[l], gradient: &da)
                let input = l == 0 ? act.input : act.trunk[l - 1]
                let (g, dPrev) = trunk[l].backward(input: input, outputGradient: da, needInput: l > 0)
                grads[l] = g
                if let dPrev { da = dPrev }
            }
        }
        return Gradient(trunk: grads.map { $0! }, feature: gf, classifier: gc)
    }

    /// Parameters in a fixed order (trunk weights and biases, feature, classifier), for optimisers.
    public mutating func visitParameters(_ body: (Int, inout [Float]) -> Void) {
        var slot = 0
        for l in trunk.indices {
            body(slot, &trunk[l].weight.values); slot += 1
            body(slot, &trunk[l].bias); slot += 1
        }
        body(slot, &feature.weight.values); slot += 1
        body(slot, &feature.bias); slot += 1
        body(slot, &classifier.weight.values); slot += 1
        body(slot, &classifier.bias)
    }

    public var parameterSlotCount: Int { 2 * trunk.count + 4 }
}

extension FeatureNetwork.Gradient {
    /// The gradient arrays in the order of `FeatureNetwork.visitParameters`.
    public var arrays: [[Float]] {
        var out: [[Float]] = []
        for g in trunk { out.append(g.weight.values); out.append(g.bias) }
        out.append(feature.weight.values); out.append(feature.bias)
        out.append(classifier.weight.values); out.append(classifier.bias)
        return out
    }
}
