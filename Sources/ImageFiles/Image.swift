// Decoded images: H x W x C bytes in HWC order (row-major, channels interleaved), the layout a
// flat input vector of H * W * C values takes today and the shape the API will carry later.

public struct ImageShape: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Values per image: height * width * channels.
    public var count: Int { height * width * channels }

    /// "28 x 28 x 1" (height x width x channels).
    public var description: String { "\(height) x \(width) x \(channels)" }
}

public struct Image: Sendable, Equatable {
    public var shape: ImageShape
    /// shape.count bytes: pixel (y, x) channel c is pixels[(y * width + x) * channels + c].
    public var pixels: [UInt8]

    public init(shape: ImageShape, pixels: [UInt8]) {
        precondition(pixels.count == shape.count, "\(pixels.count) bytes for an image of \(shape)")
        self.shape = shape
        self.pixels = pixels
    }
}

/// How many channels decoded images get.
public enum ChannelPolicy: Sendable, Equatable, CustomStringConvertible {
    /// As the file stores them: PNG gray 1, gray + alpha 2, RGB 3, RGBA 4, palette 3 (4 with
    /// transparency); JPEG gray 1, colour 3.
    case asStored
    /// 1 channel: colour becomes luma 0.299 R + 0.587 G + 0.114 B; alpha is dropped.
    case gray
    /// 3 channels: gray is replicated; alpha is dropped.
    case rgb

    /// 1 → gray, 3 → rgb, nil otherwise.
    public init?(channels: Int) {
        switch channels {
        case 1: self = .gray
        case 3: self = .rgb
        default: return nil
        }
    }

    var requested: Int32 {
        switch self {
        case .asStored: 0
        case .gray: 1
        case .rgb: 3
        }
    }

    public var description: String {
        switch self {
        case .asStored: "as stored"
        case .gray: "1 (gray)"
        case .rgb: "3 (RGB)"
        }
    }
}

/// The error of every image reader: the file concerned and what is wrong with it.
public struct ImageFileError: Error, CustomStringConvertible, Equatable {
    public var path: String?
    public var message: String

    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }
}
