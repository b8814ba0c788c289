import Testing
import DPQEngine

// The im2col + sgemm convolution and the pooling kernels against direct loops over the
// definition, for several geometries, including a batch large enough to be cut into chunks.
@Suite struct ConvolutionTests {
    struct Geometry: Sendable, CustomTestStringConvertible {
        var h: Int, w: Int, c: Int, kh: Int, kw: Int, out: Int, stride: Int, padding: Int, batch: Int
        var testDescription: String { "\(h)x\(w)x\(c) k\(kh)x\(kw) -> \(out) s\(stride) p\(padding) batch \(batch)" }
    }

    static let geometries: [Geometry] = [
        Geometry(h: 5, w: 5, c: 2, kh: 3, kw: 3, out: 3, stride: 1, padding: 1, batch: 2),
        Geometry(h: 6, w: 7, c: 3, kh: 3, kw: 3, out: 4, stride: 2, padding: 0, batch: 3),
        Geometry(h: 7, w: 6, c: 1, kh: 5, kw: 3, out: 2, stride: 2, padding: 2, batch: 2),
        Geometry(h: 4, w: 4, c: 5, kh: 1, kw: 1, out: 3, stride: 1, padding: 0, batch: 2),
        Geometry(h: 5, w: 4, c: 2, kh: 3, kw: 3, out: 2, stride: 3, padding: 2, batch: 1),
        // 28 x 28 x 8 with a 3x3 window: 56,448 column floats per image, so the 4M-float
        // column budget takes 74 images per chunk and this batch goes in two chunks.
        Geometry(h: 28, w: 28, c: 8, kh: 3, kw: 3, out: 2, stride: 1, padding: 1, batch: 80),
    ]

    /// y[n, oy, ox, o] = b[o] + sum x[n, oy s - p + ky, ox s - p + kx, c] W[ky, kx, c, o], directly.
    static func direct(_ x: Matrix, _ conv: Conv2D, _ g: Geometry) -> [Float] {
        let oh = (g.h + 2 * g.padding - g.kh) / g.stride + 1, ow = (g.w + 2 * g.padding - g.kw) / g.stride + 1
        var y = [Float](repeating: 0, count: g.batch * oh * ow * g.out)
        x.values.withUnsafeBufferPointer { xv in
            conv.weight.values.withUnsafeBufferPointer { wv in
                for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<g.out {
                    var s = Double(conv.bias[o])
                    for ky in 0..<g.kh { for kx in 0..<g.kw {
                        let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                        guard iy >= 0, iy < g.h, ix >= 0, ix < g.w else { continue }
                        for c in 0..<g.c {
                            s += Double(xv[((n * g.h + iy) * g.w + ix) * g.c + c]) * Double(wv[((ky * g.kw + kx) * g.c + c) * g.out + o])
                        }
                    } }
                    y[((n * oh + oy) * ow + ox) * g.out + o] = Float(s)
                } } } }
            }
        }
        return y
    }

    @Test(arguments: geometries)
    func convolutionMatchesDirectLoops(_ g: Geometry) throws {
        var r = SeededRandom(seed: 4)
        let input = TensorShape(height: g.h, width: g.w, channels: g.c)
        let token = "conv\(g.kh)x\(g.kw)-\(g.out)/s\(g.stride)/p\(g.padding)"
        var conv = try #require(try TrunkSpec(parsing: token).build(input: input, endsFlat: false, random: &r)[0] as? Conv2D)
        conv.bias = (0..<g.out).map { Float($0) * 0.3 - 0.2 }
        let x = TestData.matrix(rows: g.batch, cols: input.count, seed: 5)
        var mode = LayerMode.inference
        let y = conv.forward(x, mode: &mode).output
        let expected = Self.direct(x, conv, g)
        #expect(y.values.count == expected.count)
        #expect(TestData.relativeError(y.values, expected, floor: 1) < 1e-5)
        #expect(conv.outputShape.count * g.batch == expected.count)
    }

    /// dW and dx of the chunked path equal the one-image-at-a-time path (the chunks sum the same terms).
    @Test func chunkedBackwardMatchesPerImage() throws {
        let g = Self.geometries.last!
        var r = SeededRandom(seed: 6)
        let input = TensorShape(height: g.h, width: g.w, channels: g.c)
        let conv = try #require(try TrunkSpec(parsing: "conv3x3-2").build(input: input, endsFlat: false, random: &r)[0] as? Conv2D)
        let x = TestData.matrix(rows: g.batch, cols: input.count, seed: 7)
        let dy = TestData.matrix(rows: g.batch, cols: conv.outputShape.count, seed: 8)
        let whole = conv.backward(dy, cache: x, needInputGradient: true)
        var dw = [Float](repeating: 0, count: whole.parameters[0].count)
        var dx: [Float] = []
        for n in 0..<g.batch {
            let one = conv.backward(dy.rowRange(n..<(n + 1)), cache: x.rowRange(n..<(n + 1)), needInputGradient: true)
            for i in dw.indices { dw[i] += one.parameters[0][i] }
            dx += one.input!.values
        }
        #expect(TestData.relativeError(whole.parameters[0], dw, floor: 1) < 1e-4)
        #expect(whole.input!.values == dx)
    }

    @Test func poolingMatchesDirectLoops() throws {
        var r = SeededRandom(seed: 9)
        let input = TensorShape(height: 5, width: 6, channels: 3)
        let x = TestData.matrix(rows: 2, cols: input.count, seed: 10)
        for (token, k, s, p) in [("maxpool2", 2, 2, 0), ("maxpool3/s2/p1", 3, 2, 1), ("avgpool2", 2, 2, 0), ("avgpool3/s2/p1", 3, 2, 1)] {
            let layer = try TrunkSpec(parsing: token).build(input: input, endsFlat: false, random: &r)[0]
            var mode = LayerMode.inference
            let y: Matrix
            if let m = layer as? MaxPool2D { y = m.forward(x, mode: &mode).output }
            else { y = try #require(layer as? AvgPool2D).forward(x, mode: &mode).output }
            let oh = (5 + 2 * p - k) / s + 1, ow = (6 + 2 * p - k) / s + 1
            #expect(layer.outputShape == TensorShape(height: oh, width: ow, channels: 3), "\(token)")
            var expected: [Float] = []
            for n in 0..<2 { for oy in 0..<oh { for ox in 0..<ow { for c in 0..<3 {
                var values: [Float] = []
                for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * s - p + ky, ix = ox * s - p + kx
                    if iy >= 0 && iy < 5 && ix >= 0 && ix < 6 { values.append(x.values[n * 90 + (iy * 6 + ix) * 3 + c]) }
                } }
                expected.append(token.hasPrefix("max") ? values.max()! : values.reduce(0, +) / Float(k * k))
            } } } }
            #expect(TestData.relativeError(y.values, expected, floor: 1) < 1e-6, "\(token)")
        }
    }
}
