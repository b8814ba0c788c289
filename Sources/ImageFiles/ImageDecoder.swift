// PNG and JPEG files to H x W x C bytes, decoded by libpng and libjpeg-turbo (through the C shim
// in Sources/CImageCodecs, which catches their errors). The format comes from the file's first
// bytes, not its name.

import CImageCodecs
import Foundation

public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"

    /// The format of encoded bytes by their signature, or nil when they are neither.
    public init?(sniffing data: Data) {
        let head = [UInt8](data.prefix(8))
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }
}

public enum ImageDecoder {
    /// Images larger than this once decoded (height x width x channels bytes) are refused
    /// rather than allocated: a corrupt header can claim 2^31 x 2^31 pixels.
    public static let defaultMaxBytes = 1 << 28

    /// Decodes PNG or JPEG bytes.
    public static func decode(_ data: Data, channels: ChannelPolicy = .asStored,
                              maxBytes: Int = defaultMaxBytes) throws -> Image {
        guard let format = ImageFormat(sniffing: data) else {
            throw ImageFileError(data.isEmpty ? "empty file, not an image" : "not an image: neither a PNG nor a JPEG file (unknown signature)")
        }
        var image = dpq_image()
        let status = data.withUnsafeBytes { raw -> Int32 in
            let bytes = raw.bindMemory(to: UInt8.self)
            switch format {
            case .png: return dpq_png_decode(bytes.baseAddress, bytes.count, channels.requested, maxBytes, &image)
            case .jpeg: return dpq_jpeg_decode(bytes.baseAddress, bytes.count, channels.requested, maxBytes, &image)
            }
        }
        defer { dpq_image_free(&image) }
        guard status == 0, let pixels = image.pixels else {
            let reason = withUnsafeBytes(of: image.error) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            throw ImageFileError("invalid \(format.rawValue): \(reason.isEmpty ? "decoding failed" : reason)")
        }
        let shape = ImageShape(height: Int(image.height), width: Int(image.width), channels: Int(image.channels))
        return Image(shape: shape, pixels: [UInt8](UnsafeBufferPointer(start: pixels, count: shape.count)))
    }

    /// Reads and decodes one file; errors name it.
    public static func read(_ path: String, channels: ChannelPolicy = .asStored,
                            maxBytes: Int = defaultMaxBytes) throws -> Image {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFileError("file does not exist", path: path)
        }
        if isDirectory.boolValue { throw ImageFileError("is a directory, not an image file", path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageFileError("cannot read file: \(error.localizedDescription)", path: path)
        }
        do {
            return try decode(data, channels: channels, maxBytes: maxBytes)
        } catch var e as ImageFileError {
            e.path = path
            throw e
        }
    }
}
