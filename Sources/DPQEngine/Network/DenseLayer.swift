// An affine layer Y = X W + b with X: B x in, W: in x out, b: out.
// Backward, given dL/dY: dW = X^T dY, db = column sums of dY, dX = dY W^T.

public struct DenseLayer: Sendable, Equatable {
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
        var y = Matrix(rows: x.rows, cols: outputs)
        // Broadcasting the bias first lets one gemm with beta = 1 do the rest.
        y.values.withUnsafeMutableBufferPointer { p in
            for r in 0..<x.rows {
                let base = r * outputs
                for c in 0..<outputs { p[base + c] = bias[c] }
            }
        }
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
        var db = [Float](repeating: 0, count: outputs)
        for r in 0..<dy.rows {
            let base = r * outputs
            for c in 0..<outputs { db[c] += dy.values[base + c] }
        }
        let dx = needInput ? BLAS.product(dy, weight, transposeB: true) : nil
        return (Gradient(weight: dw, bias: db), dx)
    }
}
