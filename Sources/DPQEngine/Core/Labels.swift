// Class labels of a set of items. An item carries one label (single-label data) or any
// number (multi-label data); two items are relevant to each other when they share one.
// Labels are stored as bitsets of `words` UInt64 per item so relevance is a few ANDs.

public struct Labels: Sendable, Equatable {
    public let count: Int
    public let classCount: Int
    public let words: Int
    public var bits: [UInt64]

    /// One label per item, each in 0..<classCount.
    public init(single labels: [Int], classCount: Int) {
        self.init(multi: labels.map { [$0] }, classCount: classCount)
    }

    /// Any number of labels per item, each in 0..<classCount.
    public init(multi labels: [[Int]], classCount: Int) {
        precondition(classCount >= 1, "Labels: classCount must be positive")
        count = labels.count
        self.classCount = classCount
        words = (classCount + 63) / 64
        var bits = [UInt64](repeating: 0, count: labels.count * words)
        for (i, set) in labels.enumerated() {
            for c in set {
                precondition(c >= 0 && c < classCount, "Labels: label \(c) outside 0..<\(classCount)")
                bits[i * words + c / 64] |= 1 << UInt64(c % 64)
            }
        }
        self.bits = bits
    }

    public init(count: Int, classCount: Int, bits: [UInt64]) {
        self.count = count
        self.classCount = classCount
        words = (classCount + 63) / 64
        precondition(bits.count == count * words, "Labels: wrong bit count")
        self.bits = bits
    }

    /// The labels of item i, ascending.
    public func labels(of i: Int) -> [Int] {
        var out = [Int]()
        for w in 0..<words {
            var word = bits[i * words + w]
            while word != 0 {
                let b = word.trailingZeroBitCount
                out.append(w * 64 + b)
                word &= word - 1
            }
        }
        return out
    }

    /// True when item i of self and item j of other share a label.
    @inline(__always)
    public func shares(_ i: Int, with other: Labels, _ j: Int) -> Bool {
        for w in 0..<words where bits[i * words + w] & other.bits[j * other.words + w] != 0 { return true }
        return false
    }

    /// The labels of the given items, in that order.
    public func items(_ indices: some Collection<Int>) -> Labels {
        var out = [UInt64]()
        out.reserveCapacity(indices.count * words)
        for i in indices { out.append(contentsOf: bits[(i * words)..<((i + 1) * words)]) }
        return Labels(count: indices.count, classCount: classCount, bits: out)
    }
}
