// Element-wise activations and their derivatives, written against outputs where that is
// cheaper: relu'(x) = [y > 0], tanh'(x) = 1 - y^2.

public enum Activation {
    public static func relu(_ x: inout Matrix) {
        // Branch-free so that it vectorises; max keeps NaN (NaN >= 0 is false, so x stays).
        x.values.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Swift.max(p[i], 0) }
        }
    }

    public static func tanh(_ x: inout Matrix) {
        x.values.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = tanhf_(p[i]) }
        }
    }

    /// dL/dx from dL/dy for y = relu(x).
    public static func reluBackward(output y: Matrix, gradient dy: inout Matrix) {
        y.values.withUnsafeBufferPointer { py in
            dy.values.withUnsafeMutableBufferPointer { pd in
                for i in 0..<pd.count { pd[i] = py[i] > 0 ? pd[i] : 0 }  // branch-free, vectorises
            }
        }
    }

    /// dL/dx from dL/dy for y = tanh(x).
    public static func tanhBackward(output y: Matrix, gradient dy: inout Matrix) {
        y.values.withUnsafeBufferPointer { py in
            dy.values.withUnsafeMutableBufferPointer { pd in
                for i in pd.indices { pd[i] *= 1 - py[i] * py[i] }
            }
        }
    }

    /// Inverted dropout: keeps each unit with probability 1 - rate and scales kept units by
    /// 1 / (1 - rate), so inference needs no rescaling. Returns the mask (0 or the scale).
    public static func dropout(_ x: inout Matrix, rate: Float, random: inout SeededRandom) -> [Float] {
        let scale = 1 / (1 - rate)
        var mask = [Float](repeating: 0, count: x.values.count)
        for i in mask.indices where random.uniform() >= rate { mask[i] = scale }
        for i in x.values.indices { x.values[i] *= mask[i] }
        return mask
    }

    public static func applyMask(_ mask: [Float], to g: inout Matrix) {
        precondition(mask.count == g.values.count, "applyMask: \(mask.count) mask values for \(g.values.count)")
        mask.withUnsafeBufferPointer { m in
            g.values.withUnsafeMutableBufferPointer { p in
                for i in 0..<p.count { p[i] *= m[i] }
            }
        }
    }
}
