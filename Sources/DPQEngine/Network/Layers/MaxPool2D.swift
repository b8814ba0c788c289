// Max pooling over k x k windows with a stride and zero-free padding (padded positions never
// win), per channel:  y[p, c] = max over the window of x[., c];  dx routes dy[p, c] to the
// input that won (ties: the first in scan order). The cache is that argmax, one Int32 per
// output value. Loops: Kernels/Pooling.swift.

public struct MaxPool2D: Layer, Equatable {
    public var geometry: ConvGeometry

    public init(geometry: ConvGeometry) { self.geometry = geometry }

    public var token: String { "maxpool\(geometry.kernelHeight)/s\(geometry.stride)/p\(geometry.padding)" }
    public var inputShape: TensorShape {
        TensorShape(height: geometry.inputHeight, width: geometry.inputWidth, channels: geometry.channels)
    }
    public var outputShape: TensorShape {
        TensorShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.channels)
    }
    public var multiplyAdds: Int { outputShape.count * geometry.kernelHeight * geometry.kernelWidth }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: [Int32]) {
        let batch = x.rows, out = outputShape.count
        // Every output value and index is written by the kernel: no zeroing first.
        var argmax = [Int32]()
        let y = x.values.withUnsafeBufferPointer { p in
            Matrix(rows: batch, cols: out) { q in
                argmax = [Int32](unsafeUninitializedCapacity: batch * out) { a, count in
                    PoolKernels.maxForward(p.baseAddress!, images: batch, geometry, into: q.baseAddress!, argmax: a.baseAddress!)
                    count = batch * out
                }
            }
        }
        return (y, argmax)
    }

    public func backward(_ dy: Matrix, cache argmax: [Int32], needInputGradient: Bool) -> LayerGradient {
        guard needInputGradient else { return LayerGradient(input: nil) }
        let batch = dy.rows
        var dx = Matrix(rows: batch, cols: geometry.inputCount)
        dy.values.withUnsafeBufferPointer { d in
            argmax.withUnsafeBufferPointer { a in
                dx.values.withUnsafeMutableBufferPointer { out in
                    PoolKernels.maxBackward(d.baseAddress!, argmax: a.baseAddress!, images: batch, geometry, into: out.baseAddress!)
                }
            }
        }
        return LayerGradient(input: dx)
    }
}
