// Class labels of a set of items. An item carries one label (single-label data) or any
// number (multi-label data); two items are relevant to each other when they share one.
// Labels are bitsets, item i's bits at bytes [i * stride, (i + 1) * stride) of `storage`
// (little-endian, bit c of the set = class c), so relevance is a few ANDs. The stride is
// sized to the class count: 1 byte up to 8 classes, 2 up to 16, 4 up to 32, else 8 per 64
// classes; a server holding 100M items keeps 2 bytes each for 10 classes instead of 8.
// `word(i, w)` reads classes 64w..<64w+64 of item i as one UInt64 whatever the stride.

public struct Labels: Sendable, Equatable {
    public private(set) var count: Int
    public let classCount: Int
    /// 64-bit words per item (`word(_:_:)`).
    public let words: Int
    /// Bytes per item in `storage`.
    public let stride: Int
    public private(set) var storage: [UInt8]

    /// Bytes per item for `classCount` classes.
    public static func stride(classCount: Int) -> Int {
        switch classCount {
        case ...8: return 1
        case ...16: return 2
        case ...32: return 4
        default: return (classCount + 63) / 64 * 8
        }
    }

    /// No items yet (`append`), room reserved for `reserving`.
    public init(classCount: Int, reserving n: Int = 0) {
        precondition(classCount >= 1, "Labels: classCount must be positive")
        self.classCount = classCount
        words = (classCount + 63) / 64
        stride = Self.stride(classCount: classCount)
        count = 0
        storage = []
        storage.reserveCapacity(n * stride)
    }

    /// One label per item, each in 0..<classCount.
    public init(single labels: [Int], classCount: Int) {
        self.init(multi: labels.map { [$0] }, classCount: classCount)
    }

    /// Any number of labels per item, each in 0..<classCount.
    public init(multi labels: [[Int]], classCount: Int) {
        self.init(classCount: classCount, reserving: labels.count)
        for set in labels {
            if let bad = append(set) { preconditionFailure("Labels: label \(bad) outside 0..<\(classCount)") }
        }
    }

    /// Labels over `storage` as laid out above (`stride(classCount:)` bytes per item).
    public init(count: Int, classCount: Int, storage: [UInt8]) {
        self.init(classCount: classCount)
        precondition(storage.count == count * stride, "Labels: \(storage.count) bytes for \(count) items of \(stride)")
        self.count = count
        self.storage = storage
    }

    /// Classes 64w..<64w+64 of item i.
    @inline(__always)
    public func word(_ i: Int, _ w: Int) -> UInt64 {
        storage.withUnsafeBytes { Self.word($0, stride: stride, i, w) }
    }

    /// `word` over a buffer of this layout, for loops that hold the buffer.
    @inline(__always)
    public static func word(_ p: UnsafeRawBufferPointer, stride: Int, _ i: Int, _ w: Int) -> UInt64 {
        switch stride {
        case 1: return UInt64(p[i])
        case 2: return UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case 4: return UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        default: return UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * stride + 8 * w, as: UInt64.self))
        }
    }

    /// Whether item i carries class c.
    @inline(__always)
    public func has(_ i: Int, _ c: Int) -> Bool {
        storage[i * stride + c / 8] >> UInt8(c % 8) & 1 == 1
    }

    /// The labels of item i, ascending.
    public func labels(of i: Int) -> [Int] {
        var out = [Int]()
        for w in 0..<words {
            var bits = word(i, w)
            while bits != 0 {
                out.append(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return out
    }

    /// True when item i of self and item j of other share a label.
    @inline(__always)
    public func shares(_ i: Int, with other: Labels, _ j: Int) -> Bool {
        for w in 0..<min(words, other.words) where word(i, w) & other.word(j, w) != 0 { return true }
        return false
    }

    /// The labels of the given items, in that order.
    public func items(_ indices: some Collection<Int>) -> Labels {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * stride)
        for i in indices { out.append(contentsOf: storage[(i * stride)..<((i + 1) * stride)]) }
        return Labels(count: indices.count, classCount: classCount, storage: out)
    }

    // MARK: - Changes (in place: a uniquely held value is not copied)

    /// Appends an item with these labels; returns the first label outside 0..<classCount (the
    /// item is then appended without it), or nil.
    @discardableResult
    public mutating func append(_ labels: [Int]) -> Int? {
        set(appendEmpty(), labels)
    }

    /// `append` for labels stored as little-endian UInt32s (the storage layer's blobs), without a
    /// sequence per item: not generic, so a caller in another module runs specialized code.
    public mutating func append(uint32LittleEndian raw: UnsafeRawBufferPointer) -> Int? {
        let i = appendEmpty()
        var bad: Int?
        for j in 0..<(raw.count / 4) {
            insert(Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))), into: i, bad: &bad)
        }
        return bad
    }

    /// Gives item i exactly these labels; returns the first one outside 0..<classCount (left
    /// out), or nil.
    @discardableResult
    public mutating func replace(_ i: Int, with labels: [Int]) -> Int? {
        for b in 0..<stride { storage[i * stride + b] = 0 }
        return set(i, labels)
    }

    /// Removes item i by moving the last item into its place.
    public mutating func removeSwappingLast(_ i: Int) {
        let last = count - 1
        precondition(i >= 0 && i <= last, "Labels.removeSwappingLast: item \(i) of \(count)")
        if i != last { for b in 0..<stride { storage[i * stride + b] = storage[last * stride + b] } }
        storage.removeLast(stride)
        count -= 1
    }

    /// Appends an item without labels; returns it.
    private mutating func appendEmpty() -> Int {
        storage.append(contentsOf: repeatElement(0, count: stride))
        count += 1
        return count - 1
    }

    private mutating func set(_ i: Int, _ labels: [Int]) -> Int? {
        var bad: Int?
        for c in labels { insert(c, into: i, bad: &bad) }
        return bad
    }

    /// Sets class c on item i, or records it in `bad` (the first one) when outside the classes.
    @inline(__always)
    private mutating func insert(_ c: Int, into i: Int, bad: inout Int?) {
        guard c >= 0 && c < classCount else { bad = bad ?? c; return }
        storage[i * stride + c / 8] |= 1 << UInt8(c % 8)
    }
}
