// The trunk as a short spec string, stored in the model file so that any client can rebuild it.
// Grammar (tokens separated by commas; spaces ignored; lower case):
//   spec    = layer { "," layer }
//   layer   = "conv" K [ "x" K2 ] "-" C { opt }   convolution, K x K2 kernel (K2 = K when absent),
//                                                  C output channels; stride 1, padding floor(K/2)
//                                                  unless given ("same" size for odd K at stride 1)
//           | "maxpool" K { opt }                  max over K x K windows; stride K, padding 0 unless given
//           | "avgpool" K { opt }                  mean over K x K windows (padding counts as zeros)
//           | "gap"                                global average pooling: H x W x C -> C
//           | "flatten"                            H x W x C -> H W C
//           | "bn"                                 batch normalisation per channel
//           | "relu"
//           | "dropout" [ "-" RATE ]               inverted dropout, RATE in [0, 1), 0.5 when absent
//           | "dense-" N                           affine layer to N outputs (needs a flat input)
//   opt     = "/s" STRIDE | "/p" PADDING
// Example: conv3x3-32,bn,relu,conv3x3-32,bn,relu,maxpool2,conv3x3-64,bn,relu,maxpool2,gap
// The trunk must end flat (gap, flatten or dense): the tanh feature layer is dense. Its tensors
// are named trunk.<position>.<name>: trunk.0.weight [kH, kW, C_in, C_out] for a convolution,
// trunk.1.weight/bias/running_mean/running_var [C] for batch norm, trunk.<i>.weight [in, out]
// for dense; y = x W + b everywhere, NHWC.

public enum LayerSpec: Sendable, Equatable {
    case conv(kernelHeight: Int, kernelWidth: Int, channels: Int, stride: Int, padding: Int?)
    case maxPool(kernel: Int, stride: Int?, padding: Int)
    case avgPool(kernel: Int, stride: Int?, padding: Int)
    case globalAvgPool
    case flatten
    case batchNorm
    case relu
    case dropout(rate: Float)
    case dense(outputs: Int)
}

public struct TrunkSpec: Sendable, Equatable, CustomStringConvertible {
    public var layers: [LayerSpec]

    public init(layers: [LayerSpec]) { self.layers = layers }

    /// Named trunks for command lines; a model stores the spec itself, never the name.
    /// cnn: two conv blocks and the 7 x 7 x 64 map flattened (about 4M multiply-adds per 28 x 28
    /// image), sized to train in minutes on two cores; vgg4: four 3x3 convolutions and global
    /// pooling (about 18M), the example.
    public static let presets: [String: String] = [
        "cnn": "conv3x3-32,bn,relu,maxpool2,conv3x3-64,bn,relu,maxpool2,flatten",
        "vgg4": "conv3x3-32,bn,relu,conv3x3-32,bn,relu,maxpool2,conv3x3-64,bn,relu,conv3x3-64,bn,relu,maxpool2,gap",
    ]

    public static let maxLayers = 64

    /// The hidden-sizes MLP as a layer list: dense-h, relu (and dropout when rate > 0) per size.
    public static func mlp(hiddenSizes: [Int], dropout: Float) -> TrunkSpec {
        TrunkSpec(layers: hiddenSizes.flatMap { h -> [LayerSpec] in
            [.dense(outputs: h), .relu] + (dropout > 0 ? [.dropout(rate: dropout)] : [])
        })
    }

    public init(parsing text: String) throws {
        let tokens = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0.filter { $0 != " " && $0 != "\t" }) }
        guard !(tokens.count == 1 && tokens[0].isEmpty) else { throw EngineError.invalidArgument("trunk: the spec is empty") }
        guard tokens.count <= Self.maxLayers else {
            throw EngineError.invalidArgument("trunk: \(tokens.count) layers, at most \(Self.maxLayers)")
        }
        layers = try tokens.enumerated().map { i, t in try Self.parse(token: t, index: i) }
    }

    static func parse(token t: String, index i: Int) throws -> LayerSpec {
        func bad(_ why: String) -> EngineError { .invalidArgument("trunk: layer \(i) '\(t)': \(why)") }
        func number(_ s: Substring, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(s), range.contains(v) else { throw bad("\(what) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(s)'") }
            return v
        }
        /// "K" or "KxK2" followed by "/s.." "/p.." options.
        func options(_ parts: [Substring]) throws -> (stride: Int?, padding: Int?) {
            var stride: Int?, padding: Int?
            for o in parts {
                if o.hasPrefix("s"), stride == nil { stride = try number(o.dropFirst(), "stride", 1...16) }
                else if o.hasPrefix("p"), padding == nil { padding = try number(o.dropFirst(), "padding", 0...16) }
                else { throw bad("unknown option '/\(o)'; options are /s<stride> and /p<padding>, each once") }
            }
            return (stride, padding)
        }
        switch t {
        case "bn": return .batchNorm
        case "relu": return .relu
        case "gap": return .globalAvgPool
        case "flatten": return .flatten
        case "dropout": return .dropout(rate: 0.5)
        default: break
        }
        if t.hasPrefix("dropout-") {
            guard let r = Float(t.dropFirst(8)), r >= 0, r < 1 else { throw bad("the rate must be a number in [0, 1)") }
            return .dropout(rate: r)
        }
        if t.hasPrefix("dense-") { return .dense(outputs: try number(t.dropFirst(6), "the output count", 1...65536)) }
        if t.hasPrefix("conv") {
            let parts = t.dropFirst(4).split(separator: "/", omittingEmptySubsequences: false)
            let head = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard head.count == 2 else { throw bad("expected conv<K>[x<K>]-<channels>, e.g. conv3x3-32") }
            let sizes = head[0].split(separator: "x", omittingEmptySubsequences: false)
            guard sizes.count == 1 || sizes.count == 2 else { throw bad("expected conv<K>[x<K>]-<channels>, e.g. conv3x3-32") }
            let kh = try number(sizes[0], "the kernel size", 1...15)
            let kw = sizes.count == 2 ? try number(sizes[1], "the kernel size", 1...15) : kh
            let c = try number(head[1], "the channel count", 1...4096)
            let (s, p) = try options(Array(parts.dropFirst()))
            if let p, p >= max(kh, kw) { throw bad("padding \(p) must be smaller than the kernel") }
            return .conv(kernelHeight: kh, kernelWidth: kw, channels: c, stride: s ?? 1, padding: p)
        }
        for (prefix, isMax) in [("maxpool", true), ("avgpool", false)] where t.hasPrefix(prefix) {
            let parts = t.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            let k = try number(parts[0], "the window size", 1...15)
            let (s, p) = try options(Array(parts.dropFirst()))
            // PyTorch's rule: no window may lie wholly in the padding.
            if let p, p > k / 2 { throw bad("padding \(p) must be at most half the window (\(k / 2))") }
            return isMax ? .maxPool(kernel: k, stride: s, padding: p ?? 0) : .avgPool(kernel: k, stride: s, padding: p ?? 0)
        }
        throw bad("unknown layer; expected conv<K>[x<K>]-<C>, maxpool<K>, avgpool<K>, gap, flatten, bn, relu, dropout[-<rate>] or dense-<N>")
    }

    /// The canonical spec (every default spelled out), which parses back to the same layers.
    public var description: String {
        layers.map { l -> String in
            switch l {
            case let .conv(kh, kw, c, s, p): return "conv\(kh)x\(kw)-\(c)/s\(s)/p\(p ?? kh / 2)"
            case let .maxPool(k, s, p): return "maxpool\(k)/s\(s ?? k)/p\(p)"
            case let .avgPool(k, s, p): return "avgpool\(k)/s\(s ?? k)/p\(p)"
            case .globalAvgPool: return "gap"
            case .flatten: return "flatten"
            case .batchNorm: return "bn"
            case .relu: return "relu"
            case let .dropout(r): return "dropout-\(r)"
            case let .dense(n): return "dense-\(n)"
            }
        }.joined(separator: ",")
    }

    /// Values one item may hold in any layer's output (64 MB of floats).
    public static let maxActivation = 1 << 24

    /// Every layer's output shape for items of shape `input`, without building any weights.
    /// Throws, naming the layer, when a shape does not fit; the last output must be flat.
    /// `endsFlat: false` lets a trunk end on an image (for a layer on its own, in tests).
    public func shapes(input: TensorShape, endsFlat: Bool = true) throws -> [TensorShape] {
        var shape = input
        var out: [TensorShape] = []
        for (i, spec) in layers.enumerated() {
            func bad(_ why: String) -> EngineError { .invalidArgument("trunk: layer \(i) '\(Self(layers: [spec]).description)': \(why)") }
            switch spec {
            case let .conv(kh, kw, c, s, p):
                let g = ConvGeometry(input: shape, kernelHeight: kh, kernelWidth: kw, stride: s, padding: p ?? kh / 2)
                guard g.fits else { throw bad("a \(kh)x\(kw) window with padding \(g.padding) does not fit the \(shape.spatialDescription) input") }
                shape = TensorShape(height: g.outputHeight, width: g.outputWidth, channels: c)
            case let .maxPool(k, s, p), let .avgPool(k, s, p):
                let g = ConvGeometry(input: shape, kernelHeight: k, kernelWidth: k, stride: s ?? k, padding: p)
                guard g.fits else { throw bad("a \(k)x\(k) window with padding \(p) does not fit the \(shape.spatialDescription) input") }
                shape = TensorShape(height: g.outputHeight, width: g.outputWidth, channels: shape.channels)
            case .globalAvgPool: shape = TensorShape(flat: shape.channels)
            case .flatten: shape = TensorShape(flat: shape.count)
            case .batchNorm, .relu, .dropout: break
            case let .dense(n):
                guard shape.isFlat else { throw bad("needs a flat input, got \(shape); put flatten or gap before it") }
                shape = TensorShape(flat: n)
            }
            guard shape.count <= Self.maxActivation else {
                throw bad("its output \(shape) has \(shape.count) values per item, more than \(Self.maxActivation)")
            }
            out.append(shape)
        }
        guard shape.isFlat || !endsFlat else {
            throw EngineError.invalidArgument("trunk: it ends with a \(shape) output; end it with gap, flatten or dense so that the feature layer gets a vector")
        }
        return out
    }

    /// The layers for items of shape `input`, weights drawn from `random` in layer order
    /// (He initialisation for convolutions and dense layers). Throws as `shapes(input:)`.
    public func build(input: TensorShape, endsFlat: Bool = true, random: inout SeededRandom) throws -> [any Layer] {
        _ = try shapes(input: input, endsFlat: endsFlat)
        var shape = input
        var out: [any Layer] = []
        for spec in layers {
            let layer: any Layer
            switch spec {
            case let .conv(kh, kw, c, s, p):
                let g = ConvGeometry(input: shape, kernelHeight: kh, kernelWidth: kw, stride: s, padding: p ?? kh / 2)
                layer = Conv2D(geometry: g, outputChannels: c, random: &random)
            case let .maxPool(k, s, p):
                layer = MaxPool2D(geometry: ConvGeometry(input: shape, kernelHeight: k, kernelWidth: k, stride: s ?? k, padding: p))
            case let .avgPool(k, s, p):
                layer = AvgPool2D(geometry: ConvGeometry(input: shape, kernelHeight: k, kernelWidth: k, stride: s ?? k, padding: p))
            case .globalAvgPool: layer = GlobalAvgPool(shape: shape)
            case .flatten: layer = Flatten(shape: shape)
            case .batchNorm: layer = BatchNorm(shape: shape)
            case .relu: layer = ReLU(shape: shape)
            case let .dropout(r): layer = Dropout(shape: shape, rate: r)
            case let .dense(n): layer = DenseLayer(inputs: shape.channels, outputs: n, gain: Float(2).squareRoot(), random: &random)
            }
            shape = layer.outputShape
            out.append(layer)
        }
        return out
    }
}
