// The safetensors format (github.com/huggingface/safetensors), readable with numpy alone:
//   8 bytes: little-endian UInt64 N, the header length;
//   N bytes: UTF-8 JSON object, padded with spaces to a multiple of 8 bytes:
//     {"__metadata__": {"key": "string value", ...},
//      "name": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, ...}
//   the data buffer: each tensor's row-major little-endian bytes at [begin, end) relative
//   to the start of the buffer. Tensors must tile the buffer exactly: no overlaps, no gaps.
// The writer orders header entries and data by tensor name, so equal content always gives
// byte-identical files (checksums and diffs of saved models stay meaningful).

import Foundation

public struct SafeTensors: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public enum DType: String, Sendable, CaseIterable {
            case f32 = "F32", f64 = "F64", u8 = "U8", u16 = "U16", i32 = "I32", i64 = "I64"

            public var size: Int {
                switch self {
                case .u8: 1
                case .u16: 2
                case .f32, .i32: 4
                case .f64, .i64: 8
                }
            }
        }

        public var dtype: DType
        public var shape: [Int]
        /// Raw little-endian element bytes, row-major.
        public var data: [UInt8]

        /// Not validated here; `validate()` (called by `write(to:)`) checks data against shape.
        public init(dtype: DType, shape: [Int], data: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }

        public init(floats: [Float], shape: [Int]) {
            self.init(dtype: .f32, shape: shape, data: Tensor.bytes(floats.map { $0.bitPattern.littleEndian }))
        }

        public init(doubles: [Double], shape: [Int]) {
            self.init(dtype: .f64, shape: shape, data: Tensor.bytes(doubles.map { $0.bitPattern.littleEndian }))
        }

        public init(bytes: [UInt8], shape: [Int]) {
            self.init(dtype: .u8, shape: shape, data: bytes)
        }

        public init(uint16s: [UInt16], shape: [Int]) {
            self.init(dtype: .u16, shape: shape, data: Tensor.bytes(uint16s.map(\.littleEndian)))
        }

        public init(int32s: [Int32], shape: [Int]) {
            self.init(dtype: .i32, shape: shape, data: Tensor.bytes(int32s.map(\.littleEndian)))
        }

        public init(int64s: [Int64], shape: [Int]) {
            self.init(dtype: .i64, shape: shape, data: Tensor.bytes(int64s.map(\.littleEndian)))
        }

        public func floats() throws -> [Float] {
            try elements(.f32) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self))) }
        }

        public func doubles() throws -> [Double] {
            try elements(.f64) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) }
        }

        public func uint8s() throws -> [UInt8] {
            try check(.u8)
            return data
        }

        public func uint16s() throws -> [UInt16] {
            try elements(.u16) { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt16.self)) }
        }

        public func int32s() throws -> [Int32] {
            try elements(.i32) { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self)) }
        }

        public func int64s() throws -> [Int64] {
            try elements(.i64) { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) }
        }

        /// The number of data bytes `shape` requires, or an error naming the problem.
        public func expectedByteCount() throws -> Int {
            var total = dtype.size
            for dim in shape {
                guard dim >= 0 else { throw DataFileError("shape \(shape) has negative dimension \(dim)") }
                let (p, overflow) = total.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw DataFileError("shape \(shape) is too large") }
                total = p
            }
            return total
        }

        private func check(_ expected: DType) throws {
            guard dtype == expected else {
                throw DataFileError("tensor has dtype \(dtype.rawValue), expected \(expected.rawValue)")
            }
            guard data.count % dtype.size == 0 else {
                throw DataFileError("tensor data of \(data.count) bytes is not a multiple of the \(dtype.rawValue) element size \(dtype.size)")
            }
        }

        private func elements<T>(_ expected: DType, _ load: (UnsafeRawBufferPointer, Int) -> T) throws -> [T] {
            try check(expected)
            let n = data.count / dtype.size, size = dtype.size
            return data.withUnsafeBytes { raw in
                [T](unsafeUninitializedCapacity: n) { out, initialized in
                    for i in 0..<n { out.initializeElement(at: i, to: load(raw, i * size)) }
                    initialized = n
                }
            }
        }

        private static func bytes<T>(_ values: [T]) -> [UInt8] {
            values.withUnsafeBytes { [UInt8]($0) }
        }
    }

    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Hostile files could claim a multi-gigabyte header; real headers are kilobytes.
    public static let maxHeaderLength = 100_000_000

    private static let metadataKey = "__metadata__"

    // MARK: Writing

    /// Throws when a tensor's data does not match its shape or a name is reserved.
    public func validate() throws {
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            guard name != SafeTensors.metadataKey else {
                throw DataFileError("tensor name '\(SafeTensors.metadataKey)' is reserved for metadata")
            }
            let expected: Int
            do { expected = try tensor.expectedByteCount() } catch let e as DataFileError {
                throw DataFileError("tensor '\(name)': \(e.message)")
            }
            guard tensor.data.count == expected else {
                throw DataFileError("tensor '\(name)': \(tensor.data.count) data bytes do not match shape \(tensor.shape) of \(tensor.dtype.rawValue) (\(expected) bytes)")
            }
        }
    }

    /// The file's bytes. Call `validate()` first if the tensors may be inconsistent: this
    /// writes them as they are.
    public func serialized() -> Data {
        let names = tensors.keys.sorted()
        var entries = [String]()
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(SafeTensors.jsonString($0)):\(SafeTensors.jsonString(metadata[$0] ?? ""))" }
            entries.append("\(SafeTensors.jsonString(SafeTensors.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(SafeTensors.jsonString(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.data.count)]}")
            offset += t.data.count
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for name in names { if let t = tensors[name] { data.append(contentsOf: t.data) } }
        return data
    }

    /// Validates, then replaces `path` atomically and durably.
    public func write(to path: String) throws {
        try DataFileError.attributed(to: path) {
            try validate()
            try DataFileAccess.writeAtomically(serialized(), to: path)
        }
    }

    // MARK: Reading

    public static func read(_ path: String) throws -> SafeTensors {
        try DataFileError.attributed(to: path) { try SafeTensors(parsing: DataFileAccess.read(path)) }
    }

    public init(parsing data: Data) throws {
        let parsed = try data.withUnsafeBytes { raw in try SafeTensors.parse(raw) }
        self.init(tensors: parsed.tensors, metadata: parsed.metadata)
    }

    private static func parse(_ raw: UnsafeRawBufferPointer) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard raw.count >= 8 else {
            throw DataFileError("safetensors file is \(raw.count) bytes, shorter than the 8-byte header length")
        }
        let declared = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(maxHeaderLength) else {
            throw DataFileError("safetensors header length \(declared) exceeds the limit of \(maxHeaderLength) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= raw.count - 8 else {
            throw DataFileError("safetensors header length \(headerLength) is larger than the \(raw.count - 8) bytes after the length field (truncated file?)")
        }
        let headerBytes = Data(raw[8..<(8 + headerLength)])
        guard String(data: headerBytes, encoding: .utf8) != nil else {
            throw DataFileError("safetensors header is not valid UTF-8")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw DataFileError("safetensors header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw DataFileError("safetensors header is not a JSON object")
        }

        let buffer = UnsafeRawBufferPointer(rebasing: raw[(8 + headerLength)...])
        var metadata = [String: String]()
        var spans = [(name: String, begin: Int, end: Int)]()
        var infos = [String: (dtype: Tensor.DType, shape: [Int])]()

        for name in object.keys.sorted() {
            guard let value = object[name] else { continue }
            if name == metadataKey {
                guard let dict = value as? [String: Any] else {
                    throw DataFileError("safetensors '\(metadataKey)' is not a JSON object")
                }
                for key in dict.keys.sorted() {
                    guard let s = dict[key] as? String else {
                        throw DataFileError("safetensors metadata value for key '\(key)' is not a string")
                    }
                    metadata[key] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw DataFileError("tensor '\(name)': header entry is not a JSON object")
            }
            guard let dtypeValue = entry["dtype"] else { throw DataFileError("tensor '\(name)': missing 'dtype'") }
            guard let dtypeName = dtypeValue as? String else { throw DataFileError("tensor '\(name)': 'dtype' is not a string") }
            guard let dtype = Tensor.DType(rawValue: dtypeName) else {
                throw DataFileError("tensor '\(name)': unsupported dtype '\(dtypeName)' (supported: \(Tensor.DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shapeValue = entry["shape"] else { throw DataFileError("tensor '\(name)': missing 'shape'") }
            guard let shape = integers(shapeValue), shape.allSatisfy({ $0 >= 0 }) else {
                throw DataFileError("tensor '\(name)': 'shape' is not an array of non-negative integers")
            }
            guard let offsetsValue = entry["data_offsets"] else { throw DataFileError("tensor '\(name)': missing 'data_offsets'") }
            guard let offsets = integers(offsetsValue), offsets.count == 2, offsets[0] >= 0, offsets[1] >= 0 else {
                throw DataFileError("tensor '\(name)': 'data_offsets' is not an array of two non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw DataFileError("tensor '\(name)': data_offsets begin \(begin) is after end \(end)")
            }
            guard end <= buffer.count else {
                throw DataFileError("tensor '\(name)': data_offsets [\(begin), \(end)] out of range of the \(buffer.count)-byte data buffer")
            }
            let expected: Int
            do {
                expected = try Tensor(dtype: dtype, shape: shape, data: []).expectedByteCount()
            } catch let e as DataFileError {
                throw DataFileError("tensor '\(name)': \(e.message)")
            }
            guard end - begin == expected else {
                throw DataFileError("tensor '\(name)': byte count \(end - begin) does not match shape \(shape) of \(dtype.rawValue) (\(expected) bytes)")
            }
            spans.append((name, begin, end))
            infos[name] = (dtype, shape)
        }

        // Tensors must tile the buffer: each starts where the previous one ended.
        spans.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for span in spans {
            if span.begin < covered, let previous {
                throw DataFileError("tensors '\(previous)' and '\(span.name)' overlap in the data buffer")
            }
            if span.begin > covered {
                throw DataFileError("data buffer has \(span.begin - covered) unused bytes (gap) at offsets [\(covered), \(span.begin)]")
            }
            covered = span.end
            previous = span.name
        }
        guard covered == buffer.count else {
            throw DataFileError("data buffer has \(buffer.count - covered) unused bytes after the last tensor")
        }

        var tensors = [String: Tensor]()
        for span in spans {
            guard let info = infos[span.name] else { continue }
            tensors[span.name] = Tensor(dtype: info.dtype, shape: info.shape, data: [UInt8](buffer[span.begin..<span.end]))
        }
        return (tensors, metadata)
    }

    /// JSON integers only. Foundation hands JSON booleans back as NSNumbers that also cast to
    /// Int (and `is Bool` is true for every 0 and 1), so booleans are told apart by their
    /// objCType "c"; fractions fail the exact Int cast.
    private static func integers(_ value: Any) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out = [Int]()
        out.reserveCapacity(array.count)
        for element in array {
            guard let number = element as? NSNumber, String(cString: number.objCType) != "c",
                  let n = element as? Int else { return nil }
            out.append(n)
        }
        return out
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
