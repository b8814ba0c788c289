// NumPy .npy files, format versions 1.0, 2.0 and 3.0 (numpy/lib/format.py):
//   "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0),
//   then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
//   padded with spaces and ended by '\n', then the raw array data.
// Supported: 1-D to 4-D arrays of float32, float64, uint8, int32, int64 and bool in either
// byte order (big-endian data is byte-swapped on reading) and in C or Fortran order (Fortran
// data is reordered to C order on reading). Arrays of 3 or 4 dimensions are images, N x H x W
// or N x H x W x C: as a matrix each becomes one row of H * W * C values in HWC order. Writing uses version 1.0, little-endian, C order, with
// the header padded so the data starts at a multiple of 64 bytes, as numpy does.

import Foundation

/// A 1-D to 4-D array read from an .npy file, normalised to little-endian bytes in C
/// (row-major) order whatever the file's byte order and memory order were.
public struct NumpyArray: Sendable, Equatable {
    public enum DType: String, Sendable, CaseIterable {
        case float32, float64, uint8, int32, int64, bool

        public var size: Int {
            switch self {
            case .uint8, .bool: 1
            case .float32, .int32: 4
            case .float64, .int64: 8
            }
        }

        /// The little-endian numpy descr written to headers.
        public var descr: String {
            switch self {
            case .float32: "<f4"
            case .float64: "<f8"
            case .uint8: "|u1"
            case .bool: "|b1"
            case .int32: "<i4"
            case .int64: "<i8"
            }
        }
    }

    public let dtype: DType
    public let shape: [Int]
    /// Little-endian element bytes, row-major.
    public let data: [UInt8]

    /// Validates that shape has 1 to 4 dimensions, each non-negative dims and that data has exactly
    /// the bytes the shape requires.
    public init(dtype: DType, shape: [Int], data: [UInt8]) throws {
        let bytes = try NumpyArray.byteCount(dtype: dtype, shape: shape)
        guard data.count == bytes else {
            throw DataFileError("array of shape \(NumpyArray.describe(shape)) and dtype \(dtype.rawValue) needs \(bytes) bytes, got \(data.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public var count: Int { shape.reduce(1, *) }

    /// Every element converted to Float (int64/float64 may lose precision).
    public func floats() -> [Float] {
        let n = count
        return data.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                switch dtype {
                case .float32:
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case .float64:
                    for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                case .uint8, .bool:
                    for i in 0..<n { out[i] = Float(raw[i]) }
                case .int32:
                    for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                case .int64:
                    for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                }
                initialized = n
            }
        }
    }

    /// Every element as Int; only for integer dtypes.
    public func ints() throws -> [Int] {
        let n = count
        switch dtype {
        case .float32, .float64:
            throw DataFileError("expected an integer array, found dtype \(dtype.rawValue)")
        case .uint8, .bool, .int32, .int64:
            break
        }
        return data.withUnsafeBytes { raw in
            [Int](unsafeUninitializedCapacity: n) { out, initialized in
                switch dtype {
                case .uint8, .bool: for i in 0..<n { out[i] = Int(raw[i]) }
                case .int32: for i in 0..<n { out[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                default: for i in 0..<n { out[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                }
                initialized = n
            }
        }
    }

    /// 2-D arrays as they are; a 1-D array of n elements as an n x 1 matrix; an array of
    /// N x H x W (x C) images as N rows of H * W (* C) values, each image flattened in C order
    /// (HWC: pixel (y, x) channel c at column (y * W + x) * C + c).
    public func matrix() -> Matrix {
        let rows = shape[0]
        let cols = shape.dropFirst().reduce(1, *)
        return Matrix(rows: rows, cols: cols, values: floats())
    }

    /// The shape of each image of an N x H x W x C array as (H, W, C), of an N x H x W array as
    /// (H, W, 1); nil for 1-D and 2-D arrays.
    public var imageShape: (height: Int, width: Int, channels: Int)? {
        switch shape.count {
        case 3: (shape[1], shape[2], 1)
        case 4: (shape[1], shape[2], shape[3])
        default: nil
        }
    }

    /// A 1-D integer array, or a 2-D (n, 1) one, as n labels.
    public func labels() throws -> [Int] {
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
            throw DataFileError("labels must have shape (n,) or (n, 1), found \(NumpyArray.describe(shape))")
        }
        return try ints()
    }

    static func byteCount(dtype: DType, shape: [Int]) throws -> Int {
        guard (1...4).contains(shape.count) else {
            throw DataFileError("unsupported shape \(describe(shape)): only 1-D to 4-D arrays are supported "
                                + "(vectors N x D, images N x H x W or N x H x W x C)")
        }
        var total = dtype.size
        for dim in shape {
            guard dim >= 0 else { throw DataFileError("shape \(describe(shape)) has negative dimension \(dim)") }
            let (p, overflow) = total.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw DataFileError("shape \(describe(shape)) is too large") }
            total = p
        }
        return total
    }

    /// Python's tuple spelling, as in the file header: (3,) or (3, 4).
    static func describe(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}

public enum NumpyFile {
    public static func read(_ path: String) throws -> NumpyArray {
        try DataFileError.attributed(to: path) { try parse(DataFileAccess.read(path)) }
    }

    public static func readMatrix(_ path: String) throws -> Matrix {
        try read(path).matrix()
    }

    public static func readLabels(_ path: String) throws -> [Int] {
        let array = try read(path)
        return try DataFileError.attributed(to: path) { try array.labels() }
    }

    /// Writes '<f4', shape (rows, cols).
    public static func write(_ m: Matrix, to path: String) throws {
        let bits = m.values.map { $0.bitPattern.littleEndian }
        let bytes = bits.withUnsafeBytes { [UInt8]($0) }
        try DataFileError.attributed(to: path) {
            try write(NumpyArray(dtype: .float32, shape: [m.rows, m.cols], data: bytes), to: path)
        }
    }

    /// Writes '<i8', shape (n,).
    public static func writeLabels(_ labels: [Int], to path: String) throws {
        let little = labels.map { Int64($0).littleEndian }
        let bytes = little.withUnsafeBytes { [UInt8]($0) }
        try DataFileError.attributed(to: path) {
            try write(NumpyArray(dtype: .int64, shape: [labels.count], data: bytes), to: path)
        }
    }

    public static func write(_ array: NumpyArray, to path: String) throws {
        try DataFileError.attributed(to: path) { try DataFileAccess.writeAtomically(serialized(array), to: path) }
    }

    /// Version 1.0 bytes of `array`; the data starts at a multiple of 64 bytes.
    public static func serialized(_ array: NumpyArray) -> Data {
        var header = "{'descr': '\(array.dtype.descr)', 'fortran_order': False, 'shape': \(NumpyArray.describe(array.shape)), }"
        // 10 bytes of preamble, then the header, then '\n'.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(capacity: 10 + header.utf8.count + array.data.count)
        data.append(contentsOf: magic)
        data.append(contentsOf: [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: array.data)
        return data
    }

    public static func parse(_ data: Data) throws -> NumpyArray {
        try data.withUnsafeBytes { raw in try parse(raw) }
    }

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    private static func parse(_ raw: UnsafeRawBufferPointer) throws -> NumpyArray {
        guard raw.count >= 8, Array(raw[0..<6]) == magic else {
            throw DataFileError("not an .npy file: bad magic (expected \\x93NUMPY)")
        }
        let major = raw[6], minor = raw[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw DataFileError("unsupported .npy format version \(major).\(minor)")
        }
        let preamble = 8 + lengthSize
        guard raw.count >= preamble else { throw DataFileError("truncated .npy file: header length is cut off") }
        let headerLength = lengthSize == 2
            ? Int(raw[8]) | Int(raw[9]) << 8
            : Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
        guard raw.count - preamble >= headerLength else {
            throw DataFileError("truncated .npy file: header length \(headerLength) exceeds the \(raw.count - preamble) bytes after the preamble")
        }
        // 1.0/2.0 headers are latin-1, 3.0 is UTF-8; a valid header is ASCII either way.
        let headerBytes = raw[preamble..<(preamble + headerLength)]
        let text: String
        if major == 3 {
            guard let s = String(bytes: headerBytes, encoding: .utf8) else { throw DataFileError("malformed .npy header: not valid UTF-8") }
            text = s
        } else {
            guard let s = String(bytes: headerBytes, encoding: .isoLatin1) else { throw DataFileError("malformed .npy header: not latin-1 text") }
            text = s
        }
        let header = try Header(parsing: text)

        let dataStart = preamble + headerLength
        let needed = try NumpyArray.byteCount(dtype: header.dtype, shape: header.shape)
        let available = raw.count - dataStart
        guard available >= needed else {
            throw DataFileError("truncated .npy data: shape \(NumpyArray.describe(header.shape)) of '\(header.descr)' needs \(needed) bytes, file has \(available)")
        }
        guard available == needed else {
            throw DataFileError(".npy file has \(available - needed) unexpected bytes after the array data of shape \(NumpyArray.describe(header.shape))")
        }

        var bytes = [UInt8](raw[dataStart..<(dataStart + needed)])
        if header.bigEndian && header.dtype.size > 1 { swapBytes(&bytes, size: header.dtype.size) }
        if header.fortranOrder && header.shape.count >= 2 {
            bytes = cOrder(fromFortran: bytes, shape: header.shape, size: header.dtype.size)
        }
        return try NumpyArray(dtype: header.dtype, shape: header.shape, data: bytes)
    }

    private static func swapBytes(_ bytes: inout [UInt8], size: Int) {
        bytes.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                var lo = i, hi = i + size - 1
                while lo < hi { p.swapAt(lo, hi); lo += 1; hi -= 1 }
                i += size
            }
        }
    }

    /// Fortran (column-major) data reordered to C (row-major) order: element (i0, ..., ik) is
    /// at i0 + d0 * (i1 + d1 * (...)) in Fortran order. For 2-D this is the transpose.
    private static func cOrder(fromFortran bytes: [UInt8], shape: [Int], size: Int) -> [UInt8] {
        let count = shape.reduce(1, *)
        var strides = [Int](repeating: 1, count: shape.count)  // Fortran strides in elements
        for a in shape.indices.dropFirst() { strides[a] = strides[a - 1] * shape[a - 1] }
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            bytes.withUnsafeBufferPointer { src in
                var index = [Int](repeating: 0, count: shape.count)  // C-order odometer
                var from = 0
                for to in 0..<count {
                    for k in 0..<size { out[to * size + k] = src[from * size + k] }
                    var a = shape.count - 1
                    while a >= 0 {
                        index[a] += 1
                        from += strides[a]
                        if index[a] < shape[a] { break }
                        from -= strides[a] * shape[a]
                        index[a] = 0
                        a -= 1
                    }
                }
            }
            initialized = bytes.count
        }
    }

    // MARK: Header

    private struct Header {
        var descr: String
        var dtype: NumpyArray.DType
        var bigEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]

        init(parsing text: String) throws {
            var parser = PyLiteralParser(text)
            let value = try parser.parseDocument()
            guard case .dict(let entries) = value else { throw DataFileError("malformed .npy header: not a dict") }
            func entry(_ key: String) throws -> PyLiteral {
                guard let v = entries.first(where: { $0.key == key })?.value else {
                    throw DataFileError("malformed .npy header: missing key '\(key)'")
                }
                return v
            }
            guard case .string(let descr) = try entry("descr") else {
                throw DataFileError("unsupported npy dtype: 'descr' is not a simple type string (structured arrays are not supported)")
            }
            guard case .bool(let fortran) = try entry("fortran_order") else {
                throw DataFileError("malformed .npy header: 'fortran_order' is not True or False")
            }
            guard case .tuple(let dims) = try entry("shape") else {
                throw DataFileError("malformed .npy header: 'shape' is not a tuple")
            }
            shape = try dims.map { d in
                guard case .int(let n) = d else { throw DataFileError("malformed .npy header: 'shape' has a non-integer entry") }
                return n
            }
            guard !shape.isEmpty else { throw DataFileError("unsupported shape (): 0-D arrays are not supported") }
            self.descr = descr
            fortranOrder = fortran
            (dtype, bigEndian) = try Header.dtype(descr)
        }

        static func dtype(_ descr: String) throws -> (NumpyArray.DType, bigEndian: Bool) {
            let unsupported = DataFileError("unsupported npy dtype '\(descr)' (supported: float32, float64, uint8, int32, int64, bool)")
            guard let order = descr.first else { throw unsupported }
            let type: String
            let big: Bool
            switch order {
            case "<", "|": type = String(descr.dropFirst()); big = false
            case ">": type = String(descr.dropFirst()); big = true
            case "=": type = String(descr.dropFirst()); big = Int(1).bigEndian == 1
            default: type = descr; big = false
            }
            let dtype: NumpyArray.DType
            switch type {
            case "f4": dtype = .float32
            case "f8": dtype = .float64
            case "u1": dtype = .uint8
            case "b1": dtype = .bool
            case "i4": dtype = .int32
            case "i8": dtype = .int64
            default: throw unsupported
            }
            return (dtype, big)
        }
    }
}

/// The subset of Python literals numpy writes in .npy headers: dicts, tuples, lists,
/// strings, integers (with an optional Python 2 'L' suffix), True, False, None.
enum PyLiteral {
    case dict([(key: String, value: PyLiteral)])
    case tuple([PyLiteral])
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
}

struct PyLiteralParser {
    private let chars: [UInt8]
    private var i = 0
    private var depth = 0
    /// A hostile header could nest thousands of brackets; numpy's never exceeds 2.
    private let maxDepth = 16

    init(_ text: String) { chars = Array(text.utf8) }

    mutating func parseDocument() throws -> PyLiteral {
        let v = try parseValue()
        skipSpace()
        guard i == chars.count else { throw error("unexpected text after the dict") }
        return v
    }

    private func error(_ what: String) -> DataFileError {
        DataFileError("malformed .npy header: \(what) at character \(i)")
    }

    private mutating func skipSpace() {
        while i < chars.count, chars[i] == 0x20 || chars[i] == 0x0A || chars[i] == 0x09 || chars[i] == 0x0D { i += 1 }
    }

    private mutating func parseValue() throws -> PyLiteral {
        skipSpace()
        guard i < chars.count else { throw error("unexpected end") }
        switch chars[i] {
        case UInt8(ascii: "{"):
            return try nested { p in
                .dict(try p.parseSequence(close: UInt8(ascii: "}")) { p in
                    guard case .string(let key) = try p.parseValue() else { throw p.error("dict key is not a string") }
                    p.skipSpace()
                    guard p.i < p.chars.count, p.chars[p.i] == UInt8(ascii: ":") else { throw p.error("expected ':'") }
                    p.i += 1
                    return (key: key, value: try p.parseValue())
                })
            }
        case UInt8(ascii: "("):
            return try nested { p in .tuple(try p.parseSequence(close: UInt8(ascii: ")")) { p in try p.parseValue() }) }
        case UInt8(ascii: "["):
            return try nested { p in .tuple(try p.parseSequence(close: UInt8(ascii: "]")) { p in try p.parseValue() }) }
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try parseInt())
        default:
            let start = i
            while i < chars.count, (chars[i] >= UInt8(ascii: "A") && chars[i] <= UInt8(ascii: "Z")) || (chars[i] >= UInt8(ascii: "a") && chars[i] <= UInt8(ascii: "z")) { i += 1 }
            switch String(decoding: chars[start..<i], as: UTF8.self) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: i = start; throw error("unexpected character '\(Character(Unicode.Scalar(chars[i])))'")
            }
        }
    }

    private mutating func nested(_ body: (inout PyLiteralParser) throws -> PyLiteral) throws -> PyLiteral {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        i += 1  // the opening bracket
        return try body(&self)
    }

    /// Comma-separated items up to `close`, allowing a trailing comma.
    private mutating func parseSequence<T>(close: UInt8, _ item: (inout PyLiteralParser) throws -> T) throws -> [T] {
        var items = [T]()
        while true {
            skipSpace()
            guard i < chars.count else { throw error("missing '\(Character(Unicode.Scalar(close)))'") }
            if chars[i] == close { i += 1; return items }
            items.append(try item(&self))
            skipSpace()
            guard i < chars.count else { throw error("missing '\(Character(Unicode.Scalar(close)))'") }
            if chars[i] == UInt8(ascii: ",") { i += 1 } else if chars[i] != close { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        }
    }

    private mutating func parseString() throws -> String {
        let quote = chars[i]
        i += 1
        var bytes = [UInt8]()
        while i < chars.count, chars[i] != quote {
            if chars[i] == UInt8(ascii: "\\") {
                i += 1
                guard i < chars.count else { break }
            }
            bytes.append(chars[i])
            i += 1
        }
        guard i < chars.count else { throw error("unterminated string") }
        i += 1
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func parseInt() throws -> Int {
        let start = i
        if chars[i] == UInt8(ascii: "-") || chars[i] == UInt8(ascii: "+") { i += 1 }
        while i < chars.count, chars[i] >= UInt8(ascii: "0"), chars[i] <= UInt8(ascii: "9") { i += 1 }
        let literal = String(decoding: chars[start..<i], as: UTF8.self)
        if i < chars.count, chars[i] == UInt8(ascii: "L") || chars[i] == UInt8(ascii: "l") { i += 1 }
        guard let n = Int(literal) else { throw error("bad integer '\(literal)'") }
        return n
    }
}
