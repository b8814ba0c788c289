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
        var taps = [Int32]()  // the window's inputs inside the image, as offsets in it, in scan order
        taps.reserveCapacity(g.kernelHeight * g.kernelWidth)
        for n in 0..<images {
            let image = x + n * g.inputCount
            var out = y + n * g.outputPositions * c
            var arg = argmax + n * g.outputPositions * c
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    taps.removeAll(keepingCapacity: true)
                    forEachTap(g, oy, ox) { taps.append(Int32($0)) }
                    // The spec allows padding of at most half the window, so a window always has
                    // an input; the first starts the maximum.
                    taps.withUnsafeBufferPointer { t in
                        var ch = 0
                        // Eight channels at a time, the running maximum and its index in registers
                        // across the taps. Strictly greater: the first maximum in scan order wins
                        // ties, as in PyTorch.
                        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
                        while ch + 8 <= c {
                            var best = UnsafeRawPointer(image + Int(t[0]) + ch).loadUnaligned(as: SIMD8<Float>.self)
                            var at = SIMD8<Int32>(repeating: t[0] + Int32(ch)) &+ lanes
                            for i in 1..<t.count {
                                let v = UnsafeRawPointer(image + Int(t[i]) + ch).loadUnaligned(as: SIMD8<Float>.self)
                                let better = v .> best
                                best.replace(with: v, where: better)
                                at.replace(with: SIMD8<Int32>(repeating: t[i] + Int32(ch)) &+ lanes, where: better)
                            }
                            UnsafeMutableRawPointer(out + ch).storeBytes(of: best, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(arg + ch).storeBytes(of: at, as: SIMD8<Int32>.self)
                            ch += 8
                        }
                        while ch < c {
                            var best = image[Int(t[0]) + ch], at = t[0] + Int32(ch)
                            for i in 1..<t.count where image[Int(t[i]) + ch] > best {
                                best = image[Int(t[i]) + ch]
                                at = t[i] + Int32(ch)
                            }
                            out[ch] = best
                            arg[ch] = at
                            ch += 1
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
