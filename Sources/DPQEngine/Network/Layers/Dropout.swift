// Inverted dropout: in training, y = x m with m = 1 / (1 - rate) kept (probability 1 - rate)
// or 0, drawn from the mode's random stream one value at a time in row-major order (the order
// the MLP always used, so a seed gives the same masks as before); in inference y = x.
// dx = dy m. The cache is the mask (nil in inference: backward passes dy through).

public struct Dropout: Layer, Equatable {
    public var shape: TensorShape
    public var rate: Float

    public init(shape: TensorShape, rate: Float) {
        self.shape = shape
        self.rate = rate
    }

    public var token: String { "dropout-\(rate)" }
    public var inputShape: TensorShape { shape }
    public var outputShape: TensorShape { shape }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: [Float]?) {
        guard mode.isTraining, rate > 0 else { return (x, nil) }
        var y = x
        let mask = Activation.dropout(&y, rate: rate, random: &mode.random)
        return (y, mask)
    }

    public func backward(_ dy: Matrix, cache mask: [Float]?, needInputGradient: Bool) -> LayerGradient {
        guard needInputGradient else { return LayerGradient(input: nil) }
        var dx = dy
        if let mask { Activation.applyMask(mask, to: &dx) }
        return LayerGradient(input: dx)
    }
}
