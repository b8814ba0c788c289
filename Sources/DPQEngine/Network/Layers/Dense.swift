// An affine layer Y = X W + b with X: B x in, W: in x out, b: out.
// Backward, given dL/dY: dW = X^T dY, db = column sums of dY, dX = dY W^T.
// In a trunk its input must be flat (1 x 1 x in): put flatten or gap after spatial layers.
// The cache is the input (dW needs it). The feature and classifier heads are dense layers too.

public struct DenseLayer: Layer, Equatable {
    public var weight: Matrix
    public var bias: [Float]

    public init(weight: Matrix, bias: [Float]) {
        precondition(bias.count == weight.cols, "DenseLayer: bias has \(bias.count) values for \(weight.cols) outputs")
        self.weight = weight
        self.bias = bias
    }

    /// Weights from N(0, scale^2 / in): scale sqrt(2) suits ReLU (He), 1 suits tanh and linear heads.
    public init(inputs: Int, outputs: Int, gain: Float, random: inout SeededRandom) {
        let std = gain / Float(inputs).squareRoot()
        let w = (0..<(inputs * outputs)).map { _ in random.normal() * std }
        self.init(weight: Matrix(rows: inputs, cols: outputs, values: w), bias: [Float](repeating: 0, count: outputs))
    }

    public var inputs: Int { weight.rows }
    public var outputs: Int { weight.cols }

    public func forward(_ x: Matrix) -> Matrix {
        let rows = x.rows, n = outputs
        // The bias broadcast into uninitialised storage, then one gemm with beta = 1 adds x W:
        // no zeroing pass, and OpenBLAS skips its own beta pass.
        let values = [Float](unsafeUninitializedCapacity: rows * n) { out, count in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { (out.baseAddress! + r * n).initialize(from: b.baseAddress!, count: n) }
            }
            count = rows * n
        }
        var y = Matrix(rows: rows, cols: n, values: values)
        BLAS.gemm(x, weight, into: &y, beta: 1)
        return y
    }

    public struct Gradient: Sendable {
        public var weight: Matrix
        public var bias: [Float]
    }

    /// Returns the parameter gradient and, when `needInput`, dL/dX.
    public func backward(input x: Matrix, outputGradient dy: Matrix, needInput: Bool) -> (Gradient, Matrix?) {
        let dw = BLAS.product(x, transposeA: true, dy)
        let n = outputs
        var db = [Float](repeating: 0, count: n)
        db.withUnsafeMutableBufferPointer { b in
            dy.values.withUnsafeBufferPointer { g in
                for r in 0..<dy.rows {
                    let row = g.baseAddress! + r * n
                    for c in 0..<n { b[c] += row[c] }
                }
            }
        }
        let dx = needInput ? BLAS.product(dy, weight, transposeB: true) : nil
        return (Gradient(weight: dw, bias: db), dx)
    }

    // Layer conformance: the trunk runs it through these.
    public var token: String { "dense-\(outputs)" }
    public var inputShape: TensorShape { TensorShape(flat: inputs) }
    public var outputShape: TensorShape { TensorShape(flat: outputs) }
    public var tensors: [LayerTensor] { [LayerTensor("weight", [inputs, outputs]), LayerTensor("bias", [outputs])] }
    public mutating func withTensor(_ index: Int, _ body: (inout [Float]) -> Void) {
        if index == 0 { body(&weight.values) } else { body(&bias) }
    }
    public var multiplyAdds: Int { inputs * outputs }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Matrix) { (forward(x), x) }

    public func backward(_ dy: Matrix, cache x: Matrix, needInputGradient: Bool) -> LayerGradient {
        let (g, dx) = backward(input: x, outputGradient: dy, needInput: needInputGradient)
        return LayerGradient(input: dx, parameters: [g.weight.values, g.bias])
    }
}
