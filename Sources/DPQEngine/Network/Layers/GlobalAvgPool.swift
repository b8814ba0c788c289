// Global average pooling: H x W x C -> 1 x 1 x C,  y[c] = (1 / HW) sum_p x[p, c];
// dx[p, c] = dy[c] / HW for every position p. No cache: backward needs only the shape.

public struct GlobalAvgPool: Layer, Equatable {
    public var shape: TensorShape

    public init(shape: TensorShape) { self.shape = shape }

    public var token: String { "gap" }
    public var inputShape: TensorShape { shape }
    public var outputShape: TensorShape { TensorShape(flat: shape.channels) }
    public var multiplyAdds: Int { shape.count }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: NoCache) {
        let c = shape.channels, positions = shape.height * shape.width, batch = x.rows
        var y = Matrix(rows: batch, cols: c)
        let scale = 1 / Float(positions)
        x.values.withUnsafeBufferPointer { p in
            y.values.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch {
                    let o = out.baseAddress! + n * c
                    let image = p.baseAddress! + n * shape.count
                    for q in 0..<positions { for ch in 0..<c { o[ch] += image[q * c + ch] } }
                    for ch in 0..<c { o[ch] *= scale }
                }
            }
        }
        return (y, NoCache())
    }

    public func backward(_ dy: Matrix, cache: NoCache, needInputGradient: Bool) -> LayerGradient {
        guard needInputGradient else { return LayerGradient(input: nil) }
        let c = shape.channels, positions = shape.height * shape.width, batch = dy.rows
        let scale = 1 / Float(positions)
        var dx = Matrix(rows: batch, cols: shape.count)
        dy.values.withUnsafeBufferPointer { d in
            dx.values.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch {
                    let g = d.baseAddress! + n * c
                    let image = out.baseAddress! + n * shape.count
                    for q in 0..<positions { for ch in 0..<c { image[q * c + ch] = g[ch] * scale } }
                }
            }
        }
        return LayerGradient(input: dx)
    }
}
