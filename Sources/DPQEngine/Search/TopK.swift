// Bounded selection of the k best (score, index) pairs.
// Every candidate is packed into one UInt64 whose integer order is the ranking order:
//     key = u(s) << 32 | index,   s = the score made lower-is-better (-<q,x> for inner product),
// where u maps Float to UInt32 monotonically (flip all bits of negatives, set the sign bit of
// positives; -0 is folded onto +0 first so equal scores give equal keys). Smaller key = better,
// and equal scores fall back to the smaller index, so the top k is one well-defined set and
// any split of the database into chunks merges to the same answer. A max-heap of k keys keeps
// the current worst at the root; most candidates are rejected by one compare against it.

enum RankKey {
    /// Order-preserving Float -> UInt32; every NaN maps to the largest key (ranked last).
    @inline(__always)
    static func bits(_ f: Float) -> UInt32 {
        if f.isNaN { return .max }
        let b = (f + 0).bitPattern  // -0 + 0 == +0 in round-to-nearest
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// Inverse of `bits`.
    @inline(__always)
    static func float(_ u: UInt32) -> Float {
        Float(bitPattern: u & 0x8000_0000 != 0 ? u & 0x7FFF_FFFF : ~u)
    }

    /// The packed key of a lower-is-better score. Indices must be below 2^32.
    @inline(__always)
    static func make(_ lowerIsBetter: Float, _ index: Int) -> UInt64 {
        UInt64(bits(lowerIsBetter)) << 32 | UInt64(truncatingIfNeeded: index)
    }

    @inline(__always) static func index(_ key: UInt64) -> Int { Int(key & 0xFFFF_FFFF) }
    @inline(__always) static func score(_ key: UInt64) -> Float { float(UInt32(key >> 32)) }

    /// Largest number of items a packed key can index.
    static let maxItems = 1 << 32
}

/// The `capacity` smallest keys pushed so far.
struct TopK {
    let capacity: Int
    /// Max-heap: heap[0] is the worst key kept.
    private(set) var heap: [UInt64] = []

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        heap.reserveCapacity(min(self.capacity, 1 << 16))
    }

    var isFull: Bool { heap.count >= capacity }

    /// Lower-is-better score a candidate must not exceed to have a chance of entering:
    /// +inf until the heap is full. A candidate equal to it may still lose on index.
    var threshold: Float {
        if heap.count < capacity { return .infinity }
        if capacity == 0 { return -.infinity }
        return RankKey.score(heap[0])
    }

    @inline(__always)
    mutating func push(_ key: UInt64) {
        if heap.count < capacity {
            heap.append(key)
            siftUp(heap.count - 1)
        } else if capacity > 0 && key < heap[0] {
            heap[0] = key
            siftDown(0)
        }
    }

    /// Kept keys, best first.
    func sorted() -> [UInt64] { heap.sorted() }

    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            var i = start
            let v = h[i]
            while i > 0 {
                let parent = (i - 1) >> 1
                if h[parent] >= v { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = v
        }
    }

    private mutating func siftDown(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = start
            let v = h[i]
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && h[child + 1] > h[child] { child += 1 }
                if h[child] <= v { break }
                h[i] = h[child]
                i = child
            }
            h[i] = v
        }
    }
}
