// The contract every trunk layer keeps.
//   A batch is a Matrix of B rows; row b is item b's tensor flattened in NHWC order (height,
//   width, channels; channels fastest). A vector of D values is the 1 x 1 x D case, so dense
//   and convolutional layers share one layout from the input to every GEMM: no transposes.
//   forward(x, mode)             -> (y, cache)   the cache holds what this layer's backward needs
//   backward(dL/dy, cache)       -> (dL/dx, dL/dparameters in the order of `tensors`)
//   updatedBuffers(cache)        -> new buffer values after a training forward (batch norm)
// The mode (training or inference, and the random stream dropout draws from) is an argument;
// forward never changes the layer. Buffers (batch norm's running statistics) change only when
// the trainer stores what `updatedBuffers` returns, after the step.
// Each layer knows its input and output shapes from when it was built, so a trunk whose
// shapes do not fit fails when the model is built, not halfway through an epoch.

/// Height x width x channels of one item; a flat vector of D values is 1 x 1 x D.
public struct TensorShape: Sendable, Hashable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    public init(flat count: Int) { self.init(height: 1, width: 1, channels: count) }

    /// Values per item.
    public var count: Int { height * width * channels }
    public var isFlat: Bool { height == 1 && width == 1 }

    /// "28x28x1", or "784" for a flat vector.
    public var description: String { isFlat ? "\(channels)" : "\(height)x\(width)x\(channels)" }

    /// "HxWxC" always, for messages about windows and images.
    public var spatialDescription: String { "\(height)x\(width)x\(channels)" }

    /// Parses "HxWxC" (each at least 1).
    public init?(parsing s: String) {
        let parts = s.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let h = parts[0], let w = parts[1], let c = parts[2], h >= 1, w >= 1, c >= 1 else { return nil }
        self.init(height: h, width: w, channels: c)
    }
}

/// Stored as [H, W, C] in JSON (the model file's config), which reads naturally in numpy.
extension TensorShape: Codable {
    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        let h = try c.decode(Int.self), w = try c.decode(Int.self), ch = try c.decode(Int.self)
        guard c.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "input_shape has more than 3 values")
        }
        self.init(height: h, width: w, channels: ch)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(height); try c.encode(width); try c.encode(channels)
    }
}

/// Training or inference, passed to every forward. Dropout draws its masks from `random`
/// in training mode and does nothing in inference; batch norm uses batch statistics in
/// training and running statistics in inference.
public struct LayerMode: Sendable {
    public var isTraining: Bool
    public var random: SeededRandom

    public static var inference: LayerMode { LayerMode(isTraining: false, random: SeededRandom(seed: 0)) }
    public static func training(random: SeededRandom) -> LayerMode { LayerMode(isTraining: true, random: random) }
}

/// A named tensor of a layer: a learned parameter, or a buffer (saved, never optimised).
public struct LayerTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var isBuffer: Bool

    public init(_ name: String, _ shape: [Int], buffer: Bool = false) {
        self.name = name
        self.shape = shape
        self.isBuffer = buffer
    }
}

/// What a backward pass returns: dL/dx (nil when not asked for) and dL/dp for every
/// parameter, in the order of `tensors` (buffers have no gradient).
public struct LayerGradient: Sendable {
    public var input: Matrix?
    public var parameters: [[Float]]

    public init(input: Matrix?, parameters: [[Float]] = []) {
        self.input = input
        self.parameters = parameters
    }
}

/// A cache for layers whose backward needs nothing beyond dL/dy.
public struct NoCache: Sendable {}

public protocol Layer: Sendable {
    associatedtype Cache: Sendable

    /// The layer as a token of the trunk spec grammar (TrunkSpec), e.g. "conv3x3-32/s1/p1".
    var token: String { get }
    var inputShape: TensorShape { get }
    var outputShape: TensorShape { get }
    /// Parameters first, then buffers, with local names ("weight", "running_mean").
    var tensors: [LayerTensor] { get }
    /// Read or update tensor `index` of `tensors` in place.
    mutating func withTensor(_ index: Int, _ body: (inout [Float]) -> Void)
    func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Cache)
    func backward(_ dy: Matrix, cache: Cache, needInputGradient: Bool) -> LayerGradient
    /// New values of the buffers after a forward whose cache this is (empty when unchanged).
    func updatedBuffers(_ cache: Cache) -> [[Float]]
    /// Multiply-adds of one item's forward pass (for cost estimates).
    var multiplyAdds: Int { get }
}

extension Layer {
    public var tensors: [LayerTensor] { [] }
    public mutating func withTensor(_ index: Int, _ body: (inout [Float]) -> Void) {
        preconditionFailure("\(token) has no tensor \(index)")
    }
    public func updatedBuffers(_ cache: Cache) -> [[Float]] { [] }
    public var multiplyAdds: Int { 0 }

    /// The values of every tensor, in the order of `tensors`.
    public var tensorValues: [[Float]] {
        var copy = self
        var out: [[Float]] = []
        for i in tensors.indices { copy.withTensor(i) { out.append($0) } }
        return out
    }

    // The type-erased entry points through which a heterogeneous trunk ([any Layer]) is run:
    // the cache travels as `any Sendable` and only this layer's backward opens it.
    func forwardErased(_ x: Matrix, mode: inout LayerMode) -> (Matrix, any Sendable) {
        precondition(x.cols == inputShape.count, "\(token): input has \(x.cols) values per item, expected \(inputShape) = \(inputShape.count)")
        let (y, cache) = forward(x, mode: &mode)
        return (y, cache)
    }

    func backwardErased(_ dy: Matrix, cache: any Sendable, needInputGradient: Bool) -> LayerGradient {
        backward(dy, cache: cache as! Cache, needInputGradient: needInputGradient)
    }

    func updatedBuffersErased(_ cache: any Sendable) -> [[Float]] { updatedBuffers(cache as! Cache) }
}
