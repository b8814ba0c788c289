// Average pooling over k x k windows with a stride and padding, per channel:
//   y[p, c] = (1 / k^2) sum over the window's inputs inside the image (padding counts as zeros,
//   as PyTorch's count_include_pad), so dx[q, c] = sum over windows covering q of dy[p, c] / k^2.
// A linear map: no cache. Loops: Kernels/Pooling.swift.

public struct AvgPool2D: Layer, Equatable {
    public var geometry: ConvGeometry

    public init(geometry: ConvGeometry) { self.geometry = geometry }

    public var token: String { "avgpool\(geometry.kernelHeight)/s\(geometry.stride)/p\(geometry.padding)" }
    public var inputShape: TensorShape {
        TensorShape(height: geometry.inputHeight, width: geometry.inputWidth, channels: geometry.channels)
    }
    public var outputShape: TensorShape {
        TensorShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.channels)
    }
    public var multiplyAdds: Int { outputShape.count * geometry.kernelHeight * geometry.kernelWidth }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: NoCache) {
        let batch = x.rows
        var y = Matrix(rows: batch, cols: outputShape.count)
        x.values.withUnsafeBufferPointer { p in
            y.values.withUnsafeMutableBufferPointer { q in
                PoolKernels.averageForward(p.baseAddress!, images: batch, geometry, into: q.baseAddress!)
            }
        }
        return (y, NoCache())
    }

    public func backward(_ dy: Matrix, cache: NoCache, needInputGradient: Bool) -> LayerGradient {
        guard needInputGradient else { return LayerGradient(input: nil) }
        let batch = dy.rows
        var dx = Matrix(rows: batch, cols: geometry.inputCount)
        dy.values.withUnsafeBufferPointer { q in
            dx.values.withUnsafeMutableBufferPointer { p in
                PoolKernels.averageBackward(q.baseAddress!, images: batch, geometry, into: p.baseAddress!)
            }
        }
        return LayerGradient(input: dx)
    }
}
