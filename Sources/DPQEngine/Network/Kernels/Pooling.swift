// Window loops for pooling over NHWC images (ConvGeometry gives the window sweep).
//   max:  y[p, c] = max over the window's inputs inside the image; the argmax (the input's
//         index within its image) is recorded, and backward routes dy there.
//   mean: y[p, c] = (sum over the window's inputs inside the image) / (kH kW): padding counts
//         as zeros in the divisor (PyTorch's count_include_pad), so the map is linear and every
//         window weighs its inputs equally.
//   global mean: y[c] = mean over all H W positions.
// Channels are the innermost loop everywhere, so each tap is a contiguous, vectorisable run.

public enum PoolKernels {
    /// Max pooling of `images` images; `argmax` gets one index per output value.
    public static func maxForward(_ x: UnsafePointer<Float>, images: Int, _ g: ConvGeometry,
                                  into y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let c = g.channels
        for n in 0..<images {
            let image = x + n * g.inputCount
            var out = y + n * g.outputPositions * c
            var arg = argmax + n * g.outputPositions * c
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    out.update(repeating: -.infinity, count: c)
                    arg.update(repeating: -1, count: c)
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.inputHeight { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            if ix < 0 || ix >= g.inputWidth { continue }
                            let base = (iy * g.inputWidth + ix) * c
                            let src = image + base
                            // Strictly greater: the first maximum in scan order wins ties, as in PyTorch.
                            for ch in 0..<c where src[ch] > out[ch] || arg[ch] < 0 {
                                out[ch] = src[ch]
                                arg[ch] = Int32(base + ch)
                            }
                        }
                    }
                    out += c
                    arg += c
                }
            }
        }
    }

    /// dx (overwritten) from dy through the recorded argmax.
    public static func maxBackward(_ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, images: Int, _ g: ConvGeometry,
                                   into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: images * g.inputCount)
        let perImage = g.outputPositions * g.channels
        for n in 0..<images {
            let d = dx + n * g.inputCount
            for i in (n * perImage)..<((n + 1) * perImage) { d[Int(argmax[i])] += dy[i] }
        }
    }

    /// Average pooling of `images` images.
    public static func averageForward(_ x: UnsafePointer<Float>, images: Int, _ g: ConvGeometry, into y: UnsafeMutablePointer<Float>) {
        let c = g.channels
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        for n in 0..<images {
            let image = x + n * g.inputCount
            var out = y + n * g.outputPositions * c
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    out.update(repeating: 0, count: c)
                    forEachTap(g, oy, ox) { offset in
                        let p = image + offset
                        for ch in 0..<c { out[ch] += p[ch] }
                    }
                    for ch in 0..<c { out[ch] *= scale }
                    out += c
                }
            }
        }
    }

    /// The adjoint of averageForward: dx (overwritten) from dy.
    public static func averageBackward(_ dy: UnsafePointer<Float>, images: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
        let c = g.channels
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        dx.update(repeating: 0, count: images * g.inputCount)
        for n in 0..<images {
            let image = dx + n * g.inputCount
            var grad = dy + n * g.outputPositions * c
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    forEachTap(g, oy, ox) { offset in
                        let p = image + offset
                        for ch in 0..<c { p[ch] += grad[ch] * scale }
                    }
                    grad += c
                }
            }
        }
    }

    /// Calls `body` with the offset (in floats, within the image) of every window tap of output
    /// position (oy, ox) that lies inside the image.
    @inline(__always)
    static func forEachTap(_ g: ConvGeometry, _ oy: Int, _ ox: Int, _ body: (Int) -> Void) {
        for ky in 0..<g.kernelHeight {
            let iy = oy * g.stride - g.padding + ky
            if iy < 0 || iy >= g.inputHeight { continue }
            for kx in 0..<g.kernelWidth {
                let ix = ox * g.stride - g.padding + kx
                if ix < 0 || ix >= g.inputWidth { continue }
                body((iy * g.inputWidth + ix) * g.channels)
            }
        }
    }
}
