// PNG and JPEG decoding: files written by libpng's and libjpeg's encoders in every PNG colour
// type and bit depth, interlaced or not, decoded and compared pixel by pixel (exactly for PNG,
// within JPEG's loss for JPEG); the channel policies; and bad input, which must give an error
// naming the file, never a crash or an exit.

import Foundation
import ImageFiles
import Testing

@Suite struct ImageDecoderTests {
    typealias CT = TestImages.ColorType

    struct PNGCase: CustomStringConvertible, Sendable {
        var colorType: CT
        var bitDepth: Int
        var description: String { "\(colorType) \(bitDepth)-bit" }
    }

    static let pngCases: [PNGCase] = [
        .init(colorType: .gray, bitDepth: 1), .init(colorType: .gray, bitDepth: 2), .init(colorType: .gray, bitDepth: 4),
        .init(colorType: .gray, bitDepth: 8), .init(colorType: .gray, bitDepth: 16),
        .init(colorType: .grayAlpha, bitDepth: 8), .init(colorType: .grayAlpha, bitDepth: 16),
        .init(colorType: .rgb, bitDepth: 8), .init(colorType: .rgb, bitDepth: 16),
        .init(colorType: .rgba, bitDepth: 8), .init(colorType: .rgba, bitDepth: 16),
    ]

    /// Samples for a w x h image of `ct` at `depth` bits, and the 8-bit values a decoder must give.
    static func samples(width: Int, height: Int, colorType ct: CT, bitDepth depth: Int) -> (stored: [Int], expected: [UInt8]) {
        let n = width * height * ct.samples
        var stored: [Int] = [], expected: [UInt8] = []
        for i in 0..<n {
            switch depth {
            case 16:
                // k * 257 is exactly k in 8 bits; + 100 rounds down, + 200 rounds up (v * 255 / 65535).
                let k = (i * 37 + 11) % 255
                let v = k * 257 + [0, 100, 200][i % 3]
                stored.append(v)
                expected.append(UInt8((Double(v) * 255 / 65535).rounded()))
            case 8:
                let v = (i * 37 + 11) % 256
                stored.append(v)
                expected.append(UInt8(v))
            default:
                let top = (1 << depth) - 1
                let v = (i * 5 + i / 3) % (top + 1)
                stored.append(v)
                expected.append(UInt8(v * 255 / top))
            }
        }
        return (stored, expected)
    }

    @Test(arguments: pngCases, [false, true])
    func pngRoundTripAsStored(_ c: PNGCase, interlaced: Bool) throws {
        try TestImages.withTemporaryDirectory { dir in
            let (w, h) = (13, 9)  // odd sizes: partial Adam7 blocks, partial bytes at low depths
            let (stored, expected) = Self.samples(width: w, height: h, colorType: c.colorType, bitDepth: c.bitDepth)
            let path = dir + "/x.png"
            try TestImages.writePNG(path, width: w, height: h, colorType: c.colorType, bitDepth: c.bitDepth,
                                    samples: stored, interlaced: interlaced)
            let image = try ImageDecoder.read(path)
            #expect(image.shape == ImageShape(height: h, width: w, channels: c.colorType.samples))
            #expect(image.pixels == expected)
        }
    }

    @Test(arguments: [false, true])
    func paletteWithAndWithoutTransparency(interlaced: Bool) throws {
        try TestImages.withTemporaryDirectory { dir in
            let (w, h) = (7, 5)
            let palette: [UInt8] = [10, 20, 30, 200, 100, 0, 0, 255, 128, 90, 90, 90]
            let trns: [UInt8] = [255, 0, 77]  // entry 3 has none: opaque
            let indices = (0..<(w * h)).map { ($0 * 7 + $0 / 5) % 4 }
            let rgb = indices.flatMap { Array(palette[(3 * $0)..<(3 * $0 + 3)]) }
            let rgba = indices.flatMap { Array(palette[(3 * $0)..<(3 * $0 + 3)]) + [$0 < trns.count ? trns[$0] : 255] }
            for depth in [2, 4, 8] {
                let plain = dir + "/p\(depth).png", transparent = dir + "/t\(depth).png"
                try TestImages.writePNG(plain, width: w, height: h, colorType: .palette, bitDepth: depth, samples: indices,
                                        interlaced: interlaced, palette: palette)
                try TestImages.writePNG(transparent, width: w, height: h, colorType: .palette, bitDepth: depth, samples: indices,
                                        interlaced: interlaced, palette: palette, transparency: trns)
                let p = try ImageDecoder.read(plain)
                #expect(p.shape == ImageShape(height: h, width: w, channels: 3) && p.pixels == rgb, "\(depth)-bit")
                let t = try ImageDecoder.read(transparent)
                #expect(t.shape == ImageShape(height: h, width: w, channels: 4) && t.pixels == rgba, "\(depth)-bit")
                // 3 channels: the palette's colours, transparency dropped; 1: their luma.
                #expect(try ImageDecoder.read(transparent, channels: .rgb).pixels == rgb)
                let gray = try ImageDecoder.read(transparent, channels: .gray)
                #expect(gray.shape.channels == 1)
                expectLuma(gray.pixels, of: rgb)
            }
        }
    }

    @Test func channelPolicies() throws {
        try TestImages.withTemporaryDirectory { dir in
            let (w, h) = (6, 4)
            let g = Self.samples(width: w, height: h, colorType: .gray, bitDepth: 8)
            let ga = Self.samples(width: w, height: h, colorType: .grayAlpha, bitDepth: 8)
            let rgb = Self.samples(width: w, height: h, colorType: .rgb, bitDepth: 8)
            let rgba = Self.samples(width: w, height: h, colorType: .rgba, bitDepth: 16)
            try TestImages.writePNG(dir + "/g.png", width: w, height: h, colorType: .gray, bitDepth: 8, samples: g.stored)
            try TestImages.writePNG(dir + "/ga.png", width: w, height: h, colorType: .grayAlpha, bitDepth: 8, samples: ga.stored)
            try TestImages.writePNG(dir + "/rgb.png", width: w, height: h, colorType: .rgb, bitDepth: 8, samples: rgb.stored, interlaced: true)
            try TestImages.writePNG(dir + "/rgba.png", width: w, height: h, colorType: .rgba, bitDepth: 16, samples: rgba.stored)

            // Gray to RGB replicates; gray + alpha loses its alpha.
            #expect(try ImageDecoder.read(dir + "/g.png", channels: .rgb).pixels == g.expected.flatMap { [$0, $0, $0] })
            #expect(try ImageDecoder.read(dir + "/g.png", channels: .gray).pixels == g.expected)
            let gaGray = stride(from: 0, to: ga.expected.count, by: 2).map { ga.expected[$0] }
            #expect(try ImageDecoder.read(dir + "/ga.png", channels: .gray).pixels == gaGray)
            #expect(try ImageDecoder.read(dir + "/ga.png", channels: .rgb).pixels == gaGray.flatMap { [$0, $0, $0] })
            // RGB stays; RGBA (16-bit) loses its alpha; both give luma for 1 channel.
            #expect(try ImageDecoder.read(dir + "/rgb.png", channels: .rgb).pixels == rgb.expected)
            let rgbaRGB = stride(from: 0, to: rgba.expected.count, by: 4).flatMap { rgba.expected[$0..<($0 + 3)] }
            let stripped = try ImageDecoder.read(dir + "/rgba.png", channels: .rgb)
            #expect(stripped.shape == ImageShape(height: h, width: w, channels: 3) && stripped.pixels == rgbaRGB)
            expectLuma(try ImageDecoder.read(dir + "/rgb.png", channels: .gray).pixels, of: rgb.expected)
            expectLuma(try ImageDecoder.read(dir + "/rgba.png", channels: .gray).pixels, of: rgbaRGB)
        }
    }

    @Test func jpegRoundTrips() throws {
        try TestImages.withTemporaryDirectory { dir in
            let (w, h) = (24, 17)
            let rgb = smooth(width: w, height: h, channels: 3)
            let gray = smooth(width: w, height: h, channels: 1)
            try TestImages.writeJPEG(dir + "/c.jpg", width: w, height: h, channels: 3, pixels: rgb)
            try TestImages.writeJPEG(dir + "/g.JPEG", width: w, height: h, channels: 1, pixels: gray)

            let c = try ImageDecoder.read(dir + "/c.jpg")
            #expect(c.shape == ImageShape(height: h, width: w, channels: 3))
            expectClose(c.pixels, rgb, meanTolerance: 3, maxTolerance: 24)
            let g = try ImageDecoder.read(dir + "/g.JPEG")
            #expect(g.shape == ImageShape(height: h, width: w, channels: 1))
            expectClose(g.pixels, gray, meanTolerance: 1.5, maxTolerance: 12)

            // Gray to RGB: three equal channels; colour to gray: the luma.
            let g3 = try ImageDecoder.read(dir + "/g.JPEG", channels: .rgb)
            #expect(g3.shape.channels == 3 && g3.pixels == g.pixels.flatMap { [$0, $0, $0] })
            let c1 = try ImageDecoder.read(dir + "/c.jpg", channels: .gray)
            #expect(c1.shape.channels == 1)
            let luma: [UInt8] = stride(from: 0, to: rgb.count, by: 3).map { i -> UInt8 in
                let r = Double(rgb[i]), g = Double(rgb[i + 1]), b = Double(rgb[i + 2])
                let y: Double = 0.299 * r + 0.587 * g + 0.114 * b
                return UInt8(y.rounded())
            }
            expectClose(c1.pixels, luma, meanTolerance: 2, maxTolerance: 16)
        }
    }

    @Test func badFilesAreErrorsNamingTheFile() throws {
        try TestImages.withTemporaryDirectory { dir in
            let png = dir + "/ok.png", jpg = dir + "/ok.jpg"
            let s = Self.samples(width: 16, height: 16, colorType: .rgb, bitDepth: 8)
            try TestImages.writePNG(png, width: 16, height: 16, colorType: .rgb, bitDepth: 8, samples: s.stored)
            try TestImages.writeJPEG(jpg, width: 16, height: 16, channels: 3, pixels: smooth(width: 16, height: 16, channels: 3))
            let pngBytes = try Data(contentsOf: URL(fileURLWithPath: png))
            let jpgBytes = try Data(contentsOf: URL(fileURLWithPath: jpg))

            func write(_ name: String, _ data: Data) throws -> String {
                let path = dir + "/" + name
                try data.write(to: URL(fileURLWithPath: path))
                return path
            }
            var path = try write("text.png", Data("hello, not an image\n".utf8))
            expectImageError(path: path, "not an image", "neither a PNG nor a JPEG") { _ = try ImageDecoder.read(path) }
            path = try write("empty.jpg", Data())
            expectImageError(path: path, "empty file") { _ = try ImageDecoder.read(path) }
            path = try write("half.png", pngBytes.prefix(pngBytes.count / 2))
            expectImageError(path: path, "invalid PNG", "truncated") { _ = try ImageDecoder.read(path) }
            path = try write("half.jpg", jpgBytes.prefix(jpgBytes.count / 2))
            expectImageError(path: path, "invalid JPEG", "Premature end") { _ = try ImageDecoder.read(path) }
            var corrupt = pngBytes
            corrupt[corrupt.count / 2] ^= 0xff  // inside IDAT: CRC error
            path = try write("crc.png", corrupt)
            expectImageError(path: path, "invalid PNG") { _ = try ImageDecoder.read(path) }
            var header = jpgBytes
            for i in 4..<min(40, header.count) { header[i] = 0x5a }
            path = try write("header.jpg", header)
            expectImageError(path: path, "invalid JPEG") { _ = try ImageDecoder.read(path) }
            expectImageError(path: png, "too large") { _ = try ImageDecoder.read(png, maxBytes: 100) }
            expectImageError(path: dir + "/missing.png", "does not exist") { _ = try ImageDecoder.read(dir + "/missing.png") }
            expectImageError(path: dir, "is a directory") { _ = try ImageDecoder.read(dir) }

            // Every truncation of either file is an error, none a crash, an exit or gray pixels.
            for (name, bytes) in [("PNG", pngBytes), ("JPEG", jpgBytes)] {
                var accepted: [Int] = []
                for n in 0..<bytes.count {
                    if (try? ImageDecoder.decode(bytes.prefix(n))) != nil { accepted.append(n) }
                }
                #expect(accepted.isEmpty, "\(name) truncated to \(accepted.prefix(5)) bytes decoded without an error")
            }
        }
    }

    /// Smooth ramps (no wrap-around edges): what JPEG keeps well.
    func smooth(width: Int, height: Int, channels: Int) -> [UInt8] {
        var out: [UInt8] = []
        for y in 0..<height { for x in 0..<width { for c in 0..<channels { out.append(UInt8(20 + x * 3 + y * 2 + c * 40)) } } }
        return out
    }

    func expectClose(_ a: [UInt8], _ b: [UInt8], meanTolerance: Double, maxTolerance: Int,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        let diffs = zip(a, b).map { abs(Int($0) - Int($1)) }
        let mean = Double(diffs.reduce(0, +)) / Double(max(diffs.count, 1))
        #expect(mean <= meanTolerance && (diffs.max() ?? 0) <= maxTolerance,
                "mean |diff| \(mean), max \(diffs.max() ?? 0)", sourceLocation: sourceLocation)
    }

    /// 0.299 R + 0.587 G + 0.114 B within 1 (libpng's fixed-point conversion).
    func expectLuma(_ gray: [UInt8], of rgb: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(gray.count * 3 == rgb.count, sourceLocation: sourceLocation)
        for i in 0..<min(gray.count, rgb.count / 3) {
            let r = Double(rgb[3 * i]), g = Double(rgb[3 * i + 1]), b = Double(rgb[3 * i + 2])
            let y: Double = 0.299 * r + 0.587 * g + 0.114 * b
            if abs(Double(gray[i]) - y) > 1 {
                Issue.record("pixel \(i): gray \(gray[i]), luma \(y)", sourceLocation: sourceLocation)
                return
            }
        }
    }
}
