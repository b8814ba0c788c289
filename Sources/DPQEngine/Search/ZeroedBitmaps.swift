// Bitmaps over every item id, all zero, kept between searches. A label-filtered search over
// fast-scan lists marks the ids of each list it scans and clears them again after the list, so
// it touches O(entries scanned) words; allocating and zeroing a bitmap of all ids per search
// instead cost O(N) (1.25 MB at 10M items, several times the scan of a few lists).
// Contract: a bitmap given back is all zero.

import Synchronization

enum ZeroedBitmaps {
    /// At most this many are kept (about one per concurrent search); more are freed.
    static let kept = 8
    private static let pool = Mutex<[[UInt64]]>([])

    /// An all-zero bitmap of at least `words` words.
    static func take(words: Int) -> [UInt64] {
        let reused = pool.withLock { p -> [UInt64]? in
            guard let i = p.firstIndex(where: { $0.count >= words }) else { return nil }
            p.swapAt(i, p.count - 1)
            return p.removeLast()
        }
        return reused ?? [UInt64](repeating: 0, count: words)
    }

    /// Gives back a bitmap from `take`, which the caller has cleared.
    static func giveBack(_ words: [UInt64]) {
        assert(words.allSatisfy { $0 == 0 }, "ZeroedBitmaps: a bitmap given back must be all zero")
        pool.withLock { p in
            if p.count < kept { p.append(words) }
        }
    }
}
