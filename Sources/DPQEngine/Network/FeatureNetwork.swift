// The network that maps a standardised input x (one NHWC item per row) to a feature f and
// class logits z:
//   a   = trunk(x)                       a list of layers (Layers/), built from a TrunkSpec
//   f   = tanh(a W_f + b_f)              the feature, in [-1, 1]^D
//   z   = a W_c + b_c   or   f W_c + b_c the classifier head
// The trunk is one implementation for every model: a spec string (ModelConfig.trunk), or the
// hidden-sizes MLP written as the layer list dense-h, relu[, dropout] per hidden size.
// Tensors are named "<layer name>.<tensor>": trunk layers are named trunk.<position> when built
// from a spec and trunk.<index among dense layers> for the hidden-sizes MLP, the names its model
// files always had; then feature.* and classifier.*. The optimiser walks the parameters by name;
// buffers (batch-norm running statistics) are saved but never optimised.

public struct FeatureNetwork: Sendable, Equatable {
    public var inputShape: TensorShape
    public var trunk: [any Layer]
    /// One name per trunk layer, the prefix of its tensors' names.
    public var trunkNames: [String]
    public var feature: DenseLayer
    public var classifier: DenseLayer
    public var classifierInput: ClassifierInput
    /// Dropout on the standardised input in training (no backward: the input has no parameters).
    public var inputDropout: Float

    public init(inputShape: TensorShape, trunk: [any Layer], trunkNames: [String], feature: DenseLayer,
                classifier: DenseLayer, classifierInput: ClassifierInput, inputDropout: Float = 0) {
        precondition(trunk.count == trunkNames.count, "FeatureNetwork: \(trunk.count) layers, \(trunkNames.count) names")
        self.inputShape = inputShape
        self.trunk = trunk
        self.trunkNames = trunkNames
        self.feature = feature
        self.classifier = classifier
        self.classifierInput = classifierInput
        self.inputDropout = inputDropout
    }

    /// The network of `config`, weights drawn from `random` (trunk in order, feature, classifier).
    /// Throws when the trunk spec does not parse or its shapes do not fit (config.problems() says the same).
    public init(validating config: ModelConfig, random: inout SeededRandom) throws {
        let input = config.inputShape ?? TensorShape(flat: config.inputDimension)
        var spec: TrunkSpec
        if let text = config.trunk {
            spec = try TrunkSpec(parsing: text)
        } else {
            spec = TrunkSpec.mlp(hiddenSizes: config.hiddenSizes, dropout: config.dropout)
            // NHWC rows already are the flattened image: the MLP reads them as they are.
            if !input.isFlat { spec.layers.insert(.flatten, at: 0) }
        }
        let layers = try spec.build(input: input, random: &random)
        var names: [String] = []
        var dense = 0
        for (i, layer) in layers.enumerated() {
            if config.trunk != nil { names.append("trunk.\(i)") }
            else if layer is DenseLayer { names.append("trunk.\(dense)"); dense += 1 }
            else { names.append("trunk.\(i).\(layer.token)") }  // no tensors: the name is never stored
        }
        let width = layers.last?.outputShape.count ?? input.count
        let feature = DenseLayer(inputs: width, outputs: config.featureDimension, gain: 1, random: &random)
        let headInputs = config.classifierInput == .trunk ? width : config.featureDimension
        let classifier = DenseLayer(inputs: headInputs, outputs: config.classCount, gain: 1, random: &random)
        self.init(inputShape: input, trunk: layers, trunkNames: names, feature: feature, classifier: classifier,
                  classifierInput: config.classifierInput, inputDropout: config.inputDropout)
    }

    /// As `init(validating:random:)` for a configuration known to be valid (trains on an invalid one).
    public init(config: ModelConfig, random: inout SeededRandom) {
        do { try self.init(validating: config, random: &random) }
        catch { preconditionFailure("FeatureNetwork: invalid configuration: \(error)") }
    }

    public var trunkOutputWidth: Int { trunk.last?.outputShape.count ?? inputShape.count }

    /// What backward needs from a forward pass: each layer's cache, and the outputs the losses read.
    public struct Activations: Sendable {
        public var input: Matrix
        public var caches: [any Sendable]
        public var trunkOutput: Matrix
        public var feature: Matrix
        public var logits: Matrix
    }

    /// Forward pass for inference: no dropout, batch norm with running statistics.
    public func forward(_ x: Matrix) -> Activations {
        var mode = LayerMode.inference
        return run(x, mode: &mode)
    }

    /// Forward pass for training: dropout masks (input, then each dropout layer) drawn from `random`,
    /// batch norm with the batch's statistics.
    public func forward(_ x: Matrix, training random: inout SeededRandom) -> Activations {
        var r = random
        var input = x
        if inputDropout > 0 { _ = Activation.dropout(&input, rate: inputDropout, random: &r) }
        var mode = LayerMode.training(random: r)
        defer { random = mode.random }
        return run(input, mode: &mode)
    }

    private func run(_ x: Matrix, mode: inout LayerMode) -> Activations {
        var caches: [any Sendable] = []
        caches.reserveCapacity(trunk.count)
        var a = x
        for layer in trunk {
            let (y, cache) = layer.forwardErased(a, mode: &mode)
            caches.append(cache)
            a = y
        }
        var f = feature.forward(a)
        Activation.tanh(&f)
        let logits = classifier.forward(classifierInput == .trunk ? a : f)
        return Activations(input: x, caches: caches, trunkOutput: a, feature: f, logits: logits)
    }

    /// Rows per chunk of `features`.
    public var chunkRows: Int {
        let widest = max(inputShape.count, trunk.map(\.outputShape.count).max() ?? 0)
        return max(1, min(4096, (1 << 22) / max(widest, 1)))
    }

    /// Features for inference (no caches kept past each layer), in chunks of items whose
    /// largest activation stays near 4M floats, so a convolutional trunk over many images
    /// does not hold every image's feature maps at once. 16 MB per map is also below glibc's
    /// largest mmap threshold (32 MB), so chunks reuse heap blocks instead of faulting in fresh
    /// pages: 16M-float chunks encoded the Fashion-MNIST CNN 13% slower on 1 thread.
    /// With `threads` > 1 the chunks run side by side, each on one thread: for callers that keep
    /// OpenBLAS at one thread (a server: see DPQServer), the same chunks and the same answer.
    public func features(_ x: Matrix, threads: Int = 1) -> Matrix {
        let chunk = chunkRows
        if x.rows <= chunk { return featuresOfChunk(x) }
        let parts = ParallelWork.map(count: (x.rows + chunk - 1) / chunk, threads: threads) { i in
            featuresOfChunk(x.rowRange((i * chunk)..<min(x.rows, (i + 1) * chunk)))
        }
        var values = [Float]()
        values.reserveCapacity(x.rows * feature.outputs)
        for part in parts { values.append(contentsOf: part.values) }
        return Matrix(rows: x.rows, cols: feature.outputs, values: values)
    }

    private func featuresOfChunk(_ x: Matrix) -> Matrix {
        var mode = LayerMode.inference
        var a = x
        for layer in trunk { a = layer.forwardErased(a, mode: &mode).0 }
        var f = feature.forward(a)
        Activation.tanh(&f)
        return f
    }

    public struct Gradient: Sendable {
        /// Per trunk layer, dL/dp for each of its parameters (in the order of its `tensors`).
        public var trunk: [[[Float]]]
        public var feature: DenseLayer.Gradient
        public var classifier: DenseLayer.Gradient
        /// Per trunk layer, the new values of its buffers after this (training) forward; empty if none.
        public var buffers: [[[Float]]]
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
        var grads = [[[Float]]](repeating: [], count: trunk.count)
        var buffers = [[[Float]]](repeating: [], count: trunk.count)
        if var da = dTrunkOut {
            if classifierInput == .trunk, let dHead {
                for i in da.values.indices { da.values[i] += dHead.values[i] }
            }
            for l in stride(from: trunk.count - 1, through: 0, by: -1) {
                // Nothing below the lowest layer with parameters needs dL/dx.
                let needInput = trunk[..<l].contains { !$0.tensors.isEmpty }
                let g = trunk[l].backwardErased(da, cache: act.caches[l], needInputGradient: needInput)
                grads[l] = g.parameters
                buffers[l] = trunk[l].updatedBuffersErased(act.caches[l])
                guard let dx = g.input else { break }
                da = dx
            }
        }
        for l in trunk.indices where buffers[l].isEmpty { buffers[l] = trunk[l].updatedBuffersErased(act.caches[l]) }
        return Gradient(trunk: grads, feature: gf, classifier: gc, buffers: buffers)
    }

    // MARK: named tensors

    /// Every tensor of the network, with its full name: parameters and buffers of the trunk in
    /// layer order, then feature.weight/bias and classifier.weight/bias.
    public var namedTensors: [(name: String, tensor: LayerTensor)] {
        var out: [(String, LayerTensor)] = []
        for (l, layer) in trunk.enumerated() { for t in layer.tensors { out.append(("\(trunkNames[l]).\(t.name)", t)) } }
        for t in feature.tensors { out.append(("feature.\(t.name)", t)) }
        for t in classifier.tensors { out.append(("classifier.\(t.name)", t)) }
        return out
    }

    /// Visits every tensor (parameters and buffers) by full name, in the order of `namedTensors`.
    public mutating func visitTensors(_ body: (String, LayerTensor, inout [Float]) -> Void) {
        for l in trunk.indices {
            let tensors = trunk[l].tensors
            for (i, t) in tensors.enumerated() { trunk[l].withTensor(i) { body("\(trunkNames[l]).\(t.name)", t, &$0) } }
        }
        for (i, t) in feature.tensors.enumerated() { feature.withTensor(i) { body("feature.\(t.name)", t, &$0) } }
        for (i, t) in classifier.tensors.enumerated() { classifier.withTensor(i) { body("classifier.\(t.name)", t, &$0) } }
    }

    /// The learned parameters by full name, in a fixed order (trunk, feature, classifier): what the
    /// optimiser walks. `Gradient.arrays` lists their gradients in the same order.
    public mutating func visitNamedParameters(_ body: (String, inout [Float]) -> Void) {
        visitTensors { name, t, v in if !t.isBuffer { body(name, &v) } }
    }

    public var parameterNames: [String] { namedTensors.filter { !$0.tensor.isBuffer }.map(\.name) }

    /// The parameters by position in that order (slot i is parameterNames[i]).
    public mutating func visitParameters(_ body: (Int, inout [Float]) -> Void) {
        var slot = 0
        visitNamedParameters { _, v in body(slot, &v); slot += 1 }
    }

    public var parameterSlotCount: Int { parameterNames.count }

    /// Stores the buffers a training step computed (Gradient.buffers).
    public mutating func storeBuffers(_ buffers: [[[Float]]]) {
        for l in trunk.indices where l < buffers.count && !buffers[l].isEmpty {
            let tensors = trunk[l].tensors
            var b = 0
            for (i, t) in tensors.enumerated() where t.isBuffer {
                let value = buffers[l][b]
                trunk[l].withTensor(i) { $0 = value }
                b += 1
            }
        }
    }

    /// Multiply-adds of one item's inference (for cost estimates).
    public var multiplyAdds: Int { trunk.reduce(0) { $0 + $1.multiplyAdds } + feature.multiplyAdds }

    public static func == (a: FeatureNetwork, b: FeatureNetwork) -> Bool {
        guard a.inputShape == b.inputShape, a.trunkNames == b.trunkNames, a.trunk.map(\.token) == b.trunk.map(\.token),
              a.trunk.map(\.inputShape) == b.trunk.map(\.inputShape), a.feature == b.feature, a.classifier == b.classifier,
              a.classifierInput == b.classifierInput, a.inputDropout == b.inputDropout else { return false }
        return zip(a.trunk, b.trunk).allSatisfy { $0.tensorValues == $1.tensorValues }
    }
}

extension FeatureNetwork.Gradient {
    /// The gradient arrays in the order of `FeatureNetwork.visitNamedParameters`.
    public var arrays: [[Float]] {
        var out: [[Float]] = trunk.flatMap { $0 }
        out.append(feature.weight.values); out.append(feature.bias)
        out.append(classifier.weight.values); out.append(classifier.bias)
        return out
    }
}
