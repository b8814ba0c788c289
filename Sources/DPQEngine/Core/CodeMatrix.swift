// Codes of `count` items with `blocks` (M) codes each, item-major: item i's code for
// block m is stored at (i*M + m). One byte per code when K <= 256, two (little-endian)
// when K is larger. The first m codes of an item are its m-block code, so truncation
// (`prefix`) is the whole story of "one model, every code length".

public struct CodeMatrix: Sendable, Equatable {
    public let count: Int
    public let blocks: Int
    public let bytesPerCode: Int
    public var bytes: [UInt8]

    public init(count: Int, blocks: Int, bytesPerCode: Int, bytes: [UInt8]) {
        precondition(bytesPerCode == 1 || bytesPerCode == 2, "CodeMatrix: bytesPerCode must be 1 or 2")
        precondition(bytes.count == count * blocks * bytesPerCode, "CodeMatrix: wrong byte count")
        self.count = count
        self.blocks = blocks
        self.bytesPerCode = bytesPerCode
        self.bytes = bytes
    }

    public init(count: Int, blocks: Int, codebookSize: Int) {
        let width = CodeMatrix.bytesPerCode(codebookSize: codebookSize)
        self.init(count: count, blocks: blocks, bytesPerCode: width,
                  bytes: [UInt8](repeating: 0, count: count * blocks * width))
    }

    public static func bytesPerCode(codebookSize: Int) -> Int { codebookSize <= 256 ? 1 : 2 }

    /// Bytes of one item's full code.
    public var bytesPerItem: Int { blocks * bytesPerCode }

    public func code(item: Int, block: Int) -> Int {
        let o = (item * blocks + block) * bytesPerCode
        return bytesPerCode == 1 ? Int(bytes[o]) : Int(bytes[o]) | (Int(bytes[o + 1]) << 8)
    }

    public mutating func setCode(item: Int, block: Int, _ value: Int) {
        let o = (item * blocks + block) * bytesPerCode
        if bytesPerCode == 1 {
            bytes[o] = UInt8(value)
        } else {
            bytes[o] = UInt8(value & 0xff)
            bytes[o + 1] = UInt8(value >> 8)
        }
    }

    /// `code(item:block:)` and `setCode` on an item's bytes through a pointer (`wide`: 2 bytes
    /// per code), for loops over many codes that cannot afford a checked read per code.
    @inline(__always)
    static func code(in item: UnsafePointer<UInt8>, block b: Int, wide: Bool) -> Int {
        wide ? Int(item[2 * b]) | Int(item[2 * b + 1]) << 8 : Int(item[b])
    }

    @inline(__always)
    static func setCode(in item: UnsafeMutablePointer<UInt8>, block b: Int, wide: Bool, _ value: Int) {
        if wide {
            item[2 * b] = UInt8(truncatingIfNeeded: value)
            item[2 * b + 1] = UInt8(truncatingIfNeeded: value >> 8)
        } else {
            item[b] = UInt8(truncatingIfNeeded: value)
        }
    }

    /// The first m codes of every item.
    public func prefix(_ m: Int) -> CodeMatrix {
        precondition(m >= 1 && m <= blocks, "CodeMatrix.prefix: m out of range")
        if m == blocks { return self }
        var out = [UInt8]()
        out.reserveCapacity(count * m * bytesPerCode)
        for i in 0..<count {
            let start = i * blocks * bytesPerCode
            out.append(contentsOf: bytes[start..<(start + m * bytesPerCode)])
        }
        return CodeMatrix(count: count, blocks: m, bytesPerCode: bytesPerCode, bytes: out)
    }

    /// The codes of a range of items (one copy of their bytes).
    public func rowRange(_ range: Range<Int>) -> CodeMatrix {
        CodeMatrix(count: range.count, blocks: blocks, bytesPerCode: bytesPerCode,
                   bytes: Array(bytes[(range.lowerBound * bytesPerItem)..<(range.upperBound * bytesPerItem)]))
    }

    /// The codes of the given items, in that order.
    public func items(_ indices: some Collection<Int>) -> CodeMatrix {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * bytesPerItem)
        for i in indices { out.append(contentsOf: bytes[(i * bytesPerItem)..<((i + 1) * bytesPerItem)]) }
        return CodeMatrix(count: indices.count, blocks: blocks, bytesPerCode: bytesPerCode, bytes: out)
    }
}
