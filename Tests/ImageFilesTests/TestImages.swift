// Writing test images with libpng's and libjpeg's own encoders (Tests/CImageTestEncoders), and
// temporary folders.

import CImageTestEncoders
import Foundation
import ImageFiles
import Testing

enum TestImages {
    struct EncodeError: Error, CustomStringConvertible { var description: String }

    enum ColorType: Int32, CaseIterable, CustomStringConvertible {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6
        var samples: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
        var description: String { "\(self == .gray ? "gray" : self == .rgb ? "RGB" : self == .palette ? "palette" : self == .grayAlpha ? "gray+alpha" : "RGBA")" }
    }

    /// Writes a PNG of `samples` (height x width x samples-per-pixel values, each < 2^bitDepth),
    /// packing them as PNG stores them.
    static func writePNG(_ path: String, width: Int, height: Int, colorType: ColorType, bitDepth: Int,
                         samples: [Int], interlaced: Bool = false, palette: [UInt8] = [], transparency: [UInt8] = []) throws {
        let perRow = width * colorType.samples
        precondition(samples.count == perRow * height)
        let rowBytes = (perRow * bitDepth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            for i in 0..<perRow {
                let v = samples[y * perRow + i]
                switch bitDepth {
                case 16:
                    rows[y * rowBytes + 2 * i] = UInt8(v >> 8)
                    rows[y * rowBytes + 2 * i + 1] = UInt8(v & 0xff)
                case 8:
                    rows[y * rowBytes + i] = UInt8(v)
                default:  // 1, 2, 4: big-endian within the byte
                    let bit = i * bitDepth
                    rows[y * rowBytes + bit / 8] |= UInt8(v << (8 - bitDepth - bit % 8))
                }
            }
        }
        var error = [CChar](repeating: 0, count: 256)
        let status = dpq_test_png_write(path, Int32(width), Int32(height), colorType.rawValue, Int32(bitDepth), interlaced ? 1 : 0,
                                        rows, palette, Int32(palette.count / 3), transparency.isEmpty ? nil : transparency,
                                        Int32(transparency.count), &error, error.count)
        guard status == 0 else { throw EncodeError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
    }

    /// Writes a JPEG of height x width x channels (1 or 3) bytes.
    static func writeJPEG(_ path: String, width: Int, height: Int, channels: Int, pixels: [UInt8], quality: Int = 95) throws {
        var error = [CChar](repeating: 0, count: 256)
        let status = dpq_test_jpeg_write(path, Int32(width), Int32(height), Int32(channels), Int32(quality), pixels, &error, error.count)
        guard status == 0 else { throw EncodeError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
    }

    /// An 8-bit test pattern: smooth enough for JPEG to keep close, varied enough to catch any
    /// misplaced row, column or channel.
    static func pattern(width: Int, height: Int, channels: Int, seed: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    out.append(UInt8((x * 16 + y * 9 + c * 70 + seed * 31) % 256))
                }
            }
        }
        return out
    }

    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-image-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    static func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}

/// Expects `body` to throw an ImageFileError naming `path` (when given) whose message contains
/// every fragment.
func expectImageError(path: String? = nil, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an ImageFileError mentioning \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ImageFileError {
        if let path, error.path != path {
            Issue.record("error names \(error.path ?? "no file"), expected \(path): \(error)", sourceLocation: sourceLocation)
        }
        for fragment in fragments where !error.message.contains(fragment) {
            Issue.record("error \"\(error.message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected an ImageFileError, got \(error)", sourceLocation: sourceLocation)
    }
}
