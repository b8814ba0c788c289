// H x W x C -> 1 x 1 x (H W C). NHWC rows are already flat in memory, so forward and backward
// pass the values through unchanged; only the shape that later layers see changes.

public struct Flatten: Layer, Equatable {
    public var shape: TensorShape

    public init(shape: TensorShape) { self.shape = shape }

    public var token: String { "flatten" }
    public var inputShape: TensorShape { shape }
    public var outputShape: TensorShape { TensorShape(flat: shape.count) }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: NoCache) { (x, NoCache()) }

    public func backward(_ dy: Matrix, cache: NoCache, needInputGradient: Bool) -> LayerGradient {
        LayerGradient(input: needInputGradient ? dy : nil)
    }
}
