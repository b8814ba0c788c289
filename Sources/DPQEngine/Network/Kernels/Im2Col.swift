// Lowering a 2-D convolution onto one matrix product (NHWC, as Caffe's im2col but channels last).
//   cols[p, (ky kW + kx) C + c] = x[oy s - pad + ky, ox s - pad + kx, c]   (0 outside the image)
// for every output position p = oy W_out + ox. With weights W of shape (kH kW C) x C_out,
// y = cols W is the output in NHWC order directly. Backward: dW = cols^T dy, dcols = dy W^T,
// and col2im adds every dcols entry back onto the input position it was copied from.
// Channels are the innermost axis on both sides, so each kernel tap copies C contiguous floats.

/// Sizes of one convolution or pooling window sweep over an H x W x C input.
public struct ConvGeometry: Sendable, Hashable {
    public var inputHeight: Int, inputWidth: Int, channels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var stride: Int
    public var padding: Int

    public init(input: TensorShape, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) {
        inputHeight = input.height
        inputWidth = input.width
        channels = input.channels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// floor((H + 2 pad - k) / stride) + 1, as PyTorch and Caffe; < 1 when the window does not fit.
    public var outputHeight: Int { (inputHeight + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (inputWidth + 2 * padding - kernelWidth) / stride + 1 }
    public var fits: Bool { inputHeight + 2 * padding >= kernelHeight && inputWidth + 2 * padding >= kernelWidth }
    public var outputPositions: Int { outputHeight * outputWidth }
    /// Values per row of the column matrix: one window.
    public var windowSize: Int { kernelHeight * kernelWidth * channels }
    public var inputCount: Int { inputHeight * inputWidth * channels }
}

public enum ConvKernels {
    /// Column matrix of `images` consecutive images (rows image-major, then output position).
    public static func im2col(_ x: UnsafePointer<Float>, images: Int, _ g: ConvGeometry, into cols: UnsafeMutablePointer<Float>) {
        let (oh, ow, c, kw) = (g.outputHeight, g.outputWidth, g.channels, g.kernelWidth)
        let rowWidth = g.windowSize
        for n in 0..<images {
            let image = x + n * g.inputCount
            var row = cols + n * g.outputPositions * rowWidth
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var dst = row
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.inputHeight {
                            dst.update(repeating: 0, count: kw * c)
                            dst += kw * c
                            continue
                        }
                        let ix0 = ox * g.stride - g.padding
                        // Taps inside the row are one contiguous run of (kx range) x C floats.
                        let first = min(kw, max(0, -ix0)), last = max(first, min(kw, g.inputWidth - ix0))
                        if first > 0 { dst.update(repeating: 0, count: first * c) }
                        if last > first {
                            (dst + first * c).update(from: image + (iy * g.inputWidth + ix0 + first) * c, count: (last - first) * c)
                        }
                        if last < kw { (dst + last * c).update(repeating: 0, count: (kw - last) * c) }
                        dst += kw * c
                    }
                    row += rowWidth
                }
            }
        }
    }

    /// The adjoint of im2col: dx[input position] += dcols[every entry copied from it].
    /// `dx` is overwritten (zeroed first) for the `images` images.
    public static func col2im(_ cols: UnsafePointer<Float>, images: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
        let (oh, ow, c, kw) = (g.outputHeight, g.outputWidth, g.channels, g.kernelWidth)
        let rowWidth = g.windowSize
        dx.update(repeating: 0, count: images * g.inputCount)
        for n in 0..<images {
            let image = dx + n * g.inputCount
            var row = cols + n * g.outputPositions * rowWidth
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var src = row
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        if iy >= 0 && iy < g.inputHeight {
                            let ix0 = ox * g.stride - g.padding
                            let first = min(kw, max(0, -ix0)), last = max(first, min(kw, g.inputWidth - ix0))
                            if last > first {
                                let d = image + (iy * g.inputWidth + ix0 + first) * c
                                let s = src + first * c
                                for i in 0..<((last - first) * c) { d[i] += s[i] }
                            }
                        }
                        src += kw * c
                    }
                    row += rowWidth
                }
            }
        }
    }
}
