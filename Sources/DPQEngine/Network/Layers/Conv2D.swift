// 2-D convolution over NHWC images, lowered onto OpenBLAS sgemm (Kernels/Im2Col.swift):
//   y[n, oy, ox, o] = b[o] + sum_{ky, kx, c} x[n, oy s - p + ky, ox s - p + kx, c] W[ky, kx, c, o]
//   forward:  cols = im2col(x);  y = cols W + b        W stored as (kH kW C_in) x C_out (HWIO)
//   backward: dW = cols^T dy;  db = column sums of dy;  dx = col2im(dy W^T)
// The cache is the input alone, and backward rebuilds the columns. Keeping them instead would
// hold kH kW copies of every conv layer's input for the whole batch (3x3 over 28x28x32 at batch
// 256: 230 MB a layer), while rebuilding is a copy, small next to the GEMM it feeds.
// The batch goes through in chunks of images whose columns fit `columnBudget` floats (one sgemm
// per chunk; a small batch is one chunk). A 1x1 convolution with stride 1 and no padding needs no
// columns at all: its input already is the column matrix.

public struct Conv2D: Layer, Equatable {
    public var geometry: ConvGeometry
    public var outputChannels: Int
    /// (kH kW C_in) x C_out; in the model file, shape [kH, kW, C_in, C_out].
    public var weight: Matrix
    public var bias: [Float]

    /// Column floats per chunk (16 MB).
    static let columnBudget = 1 << 22

    public init(geometry: ConvGeometry, weight: Matrix, bias: [Float]) {
        precondition(weight.rows == geometry.windowSize && weight.cols == bias.count,
                     "Conv2D: weight \(weight.rows)x\(weight.cols) and \(bias.count) biases for a window of \(geometry.windowSize)")
        self.geometry = geometry
        self.outputChannels = bias.count
        self.weight = weight
        self.bias = bias
    }

    /// Weights from N(0, 2 / fan-in) (He), biases zero.
    public init(geometry: ConvGeometry, outputChannels: Int, random: inout SeededRandom) {
        let fanIn = geometry.windowSize
        let std = (2 / Float(fanIn)).squareRoot()
        let w = (0..<(fanIn * outputChannels)).map { _ in random.normal() * std }
        self.init(geometry: geometry, weight: Matrix(rows: fanIn, cols: outputChannels, values: w),
                  bias: [Float](repeating: 0, count: outputChannels))
    }

    public var token: String {
        let g = geometry
        return "conv\(g.kernelHeight)x\(g.kernelWidth)-\(outputChannels)/s\(g.stride)/p\(g.padding)"
    }
    public var inputShape: TensorShape {
        TensorShape(height: geometry.inputHeight, width: geometry.inputWidth, channels: geometry.channels)
    }
    public var outputShape: TensorShape {
        TensorShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: outputChannels)
    }
    public var tensors: [LayerTensor] {
        let g = geometry
        return [LayerTensor("weight", [g.kernelHeight, g.kernelWidth, g.channels, outputChannels]),
                LayerTensor("bias", [outputChannels])]
    }
    public mutating func withTensor(_ index: Int, _ body: (inout [Float]) -> Void) {
        if index == 0 { body(&weight.values) } else { body(&bias) }
    }
    public var multiplyAdds: Int { geometry.outputPositions * geometry.windowSize * outputChannels }

    var isPointwise: Bool {
        geometry.kernelHeight == 1 && geometry.kernelWidth == 1 && geometry.stride == 1 && geometry.padding == 0
    }

    func imagesPerChunk(_ batch: Int) -> Int {
        max(1, min(batch, Self.columnBudget / max(1, geometry.outputPositions * geometry.windowSize)))
    }

    public func forward(_ x: Matrix, mode: inout LayerMode) -> (output: Matrix, cache: Matrix) {
        let g = geometry, batch = x.rows, positions = g.outputPositions, k = g.windowSize, n = outputChannels
        // Bias broadcast first; each chunk's gemm then adds cols W with beta = 1.
        var y = [Float](unsafeUninitializedCapacity: batch * positions * n) { out, count in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<(batch * positions) { (out.baseAddress! + r * n).initialize(from: b.baseAddress!, count: n) }
            }
            count = batch * positions * n
        }
        let chunk = imagesPerChunk(batch)
        var cols = [Float](repeating: 0, count: isPointwise ? 0 : chunk * positions * k)
        x.values.withUnsafeBufferPointer { px in
            weight.values.withUnsafeBufferPointer { pw in
                cols.withUnsafeMutableBufferPointer { pc in
                    y.withUnsafeMutableBufferPointer { py in
                        var start = 0
                        while start < batch {
                            let count = min(chunk, batch - start)
                            let input = px.baseAddress! + start * g.inputCount
                            let a: UnsafePointer<Float>
                            if isPointwise { a = input } else {
                                ConvKernels.im2col(input, images: count, g, into: pc.baseAddress!)
                                a = UnsafePointer(pc.baseAddress!)
                            }
                            BLAS.gemm(transposeA: false, transposeB: false, m: count * positions, n: n, k: k,
                                      a: a, lda: k, b: pw.baseAddress!, ldb: n, beta: 1,
                                      c: py.baseAddress! + start * positions * n, ldc: n)
                            start += count
                        }
                    }
                }
            }
        }
        return (Matrix(rows: batch, cols: positions * n, values: y), x)
    }

    public func backward(_ dy: Matrix, cache x: Matrix, needInputGradient: Bool) -> LayerGradient {
        let g = geometry, batch = x.rows, positions = g.outputPositions, k = g.windowSize, n = outputChannels
        var dw = [Float](repeating: 0, count: k * n)
        var db = [Float](repeating: 0, count: n)
        dy.values.withUnsafeBufferPointer { d in
            for r in 0..<(batch * positions) {
                let row = d.baseAddress! + r * n
                for o in 0..<n { db[o] += row[o] }
            }
        }
        var dx = needInputGradient ? [Float](repeating: 0, count: batch * g.inputCount) : []
        let chunk = imagesPerChunk(batch)
        var cols = [Float](repeating: 0, count: isPointwise ? 0 : chunk * positions * k)
        var dcols = [Float](repeating: 0, count: needInputGradient && !isPointwise ? chunk * positions * k : 0)
        x.values.withUnsafeBufferPointer { px in
            dy.values.withUnsafeBufferPointer { pdy in
                weight.values.withUnsafeBufferPointer { pw in
                    cols.withUnsafeMutableBufferPointer { pc in
                        dcols.withUnsafeMutableBufferPointer { pdc in
                            dw.withUnsafeMutableBufferPointer { pdw in
                                dx.withUnsafeMutableBufferPointer { pdx in
                                    var start = 0
                                    while start < batch {
                                        let count = min(chunk, batch - start), rows = count * positions
                                        let input = px.baseAddress! + start * g.inputCount
                                        let grad = pdy.baseAddress! + start * positions * n
                                        let a: UnsafePointer<Float>
                                        if isPointwise { a = input } else {
                                            ConvKernels.im2col(input, images: count, g, into: pc.baseAddress!)
                                            a = UnsafePointer(pc.baseAddress!)
                                        }
                                        // dW += cols^T dy over this chunk.
                                        BLAS.gemm(transposeA: true, transposeB: false, m: k, n: n, k: rows,
                                                  a: a, lda: k, b: grad, ldb: n, beta: 1, c: pdw.baseAddress!, ldc: n)
                                        if needInputGradient {
                                            let target = pdx.baseAddress! + start * g.inputCount
                                            // dcols = dy W^T; pointwise: that already is dx.
                                            BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: k, k: n,
                                                      a: grad, lda: n, b: pw.baseAddress!, ldb: n, beta: 0,
                                                      c: isPointwise ? target : pdc.baseAddress!, ldc: k)
                                            if !isPointwise { ConvKernels.col2im(pdc.baseAddress!, images: count, g, into: target) }
                                        }
                                        start += count
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return LayerGradient(input: needInputGradient ? Matrix(rows: batch, cols: g.inputCount, values: dx) : nil,
                             parameters: [dw, db])
    }
}
