// y = max(x, 0);  dx = dy [y > 0]. The cache is the output (the derivative reads it).

public struct ReLU: Layer, Equatable {
    public var shape: TensorShape

    public init(shape: TensorShape) { self.shape = shape }

    public var token: String { "relu" }
    public var inputShape: TensorShape { shape }
    public var outputShape: TensorShape { shape }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Matrix) {
        var y = x
        Activation.relu(&y)
        return (y, y)
    }

    public func backward(_ dy: Matrix, cache y: Matrix, needInputGradient: Bool) -> LayerGradient {
        guard needInputGradient else { return LayerGradient(input: nil) }
        var dx = dy
        Activation.reluBackward(output: y, gradient: &dx)
        return LayerGradient(input: dx)
    }
}
