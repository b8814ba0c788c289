// Ranking one query's scores and measuring the ranking (DPQ/DVSQ retrieval protocol).
// Items are ranked by packed (score, index) keys (TopK.swift), so ties go to the smaller
// index. When only the best L of N are needed and L << N a bounded heap selects them;
// otherwise a stable LSD radix sort on the 32 score bits orders all N in 4 linear passes
// (keys are written in index order, so stability gives the index tie-break for free).
// Given relevance rel_j of the item at rank j (1-based), for a query:
//     AP@R  = (1 / sum_{j<=R} rel_j) * sum_{j<=R} rel_j * (sum_{i<=j} rel_i) / j   (0 if no rel_j)
//     P@k   = (sum_{j<=k} rel_j) / k
//     R@k   = |{top k of this ranking} ∩ {exact top k}| / min(k, |exact list|)

struct RankingWorkspace {
    private var scratch: [UInt64]
    private var histogram: [Int]

    init(capacity n: Int) {
        scratch = [UInt64](repeating: 0, count: n)
        histogram = [Int](repeating: 0, count: 4 * 256)
    }

    /// Reorders keys[0..<n] so that keys[0..<depth] are the `depth` smallest, ascending.
    mutating func rank(_ keys: UnsafeMutablePointer<UInt64>, count n: Int, depth: Int) {
        let depth = min(depth, n)
        if depth <= 0 { return }
        if depth * 8 <= n {
            var heap = TopK(capacity: depth)
            for i in 0..<n { heap.push(keys[i]) }
            let best = heap.sorted()
            for (i, key) in best.enumerated() { keys[i] = key }
        } else {
            radixSort(keys, count: n)
        }
    }

    /// Stable sort of keys by their upper 32 bits, 8 bits per pass; passes where every key
    /// falls in one bucket are skipped.
    private mutating func radixSort(_ keys: UnsafeMutablePointer<UInt64>, count n: Int) {
        if scratch.count < n { scratch = [UInt64](repeating: 0, count: n) }
        histogram.withUnsafeMutableBufferPointer { hist in
            scratch.withUnsafeMutableBufferPointer { scratch in
                for i in 0..<hist.count { hist[i] = 0 }
                for i in 0..<n {
                    let top = keys[i] >> 32
                    hist[Int(top & 0xFF)] &+= 1
                    hist[256 + Int((top >> 8) & 0xFF)] &+= 1
                    hist[512 + Int((top >> 16) & 0xFF)] &+= 1
                    hist[768 + Int(top >> 24)] &+= 1
                }
                var src = keys
                var dst = scratch.baseAddress!
                for pass in 0..<4 {
                    let h = hist.baseAddress! + pass * 256
                    var trivial = false
                    for b in 0..<256 where h[b] == n { trivial = true; break }
                    if trivial { continue }
                    var sum = 0
                    for b in 0..<256 {
                        let c = h[b]
                        h[b] = sum
                        sum &+= c
                    }
                    let shift = UInt64(32 + 8 * pass)
                    for i in 0..<n {
                        let key = src[i]
                        let b = Int((key >> shift) & 0xFF)
                        dst[h[b]] = key
                        h[b] &+= 1
                    }
                    swap(&src, &dst)
                }
                if src != keys { keys.update(from: src, count: n) }
            }
        }
    }
}

enum RankingMeasure {
    /// rel[j] = 1 when database item j shares a label with query q.
    static func relevance(query q: Int, queryLabels: Labels, databaseLabels: Labels,
                          into rel: UnsafeMutablePointer<UInt8>) {
        let n = databaseLabels.count
        let w = min(queryLabels.words, databaseLabels.words), ds = databaseLabels.stride
        databaseLabels.storage.withUnsafeBytes { db in
            if w == 1 {
                let a = queryLabels.word(q, 0)
                for j in 0..<n { rel[j] = Labels.word(db, stride: ds, j, 0) & a != 0 ? 1 : 0 }
            } else {
                let mine = (0..<w).map { queryLabels.word(q, $0) }
                for j in 0..<n {
                    var shared: UInt64 = 0
                    for x in 0..<w { shared |= mine[x] & Labels.word(db, stride: ds, j, x) }
                    rel[j] = shared != 0 ? 1 : 0
                }
            }
        }
    }

    /// Appends [AP@R, P@k for each precision k, R@k for each recall k] for one ranking.
    /// - ranked: the best `available` keys, in order.
    /// - exactRank[id]: position of id in the query's exact neighbour list, Int32.max if absent.
    /// - positions: scratch for at least min(r, available) + 1 values.
    static func measure(ranked: UnsafePointer<UInt64>, available: Int, relevant: UnsafePointer<UInt8>,
                        positions: UnsafeMutablePointer<Int32>,
                        mapDepth r: Int, precisionAt pks: [Int], recallAt rks: [Int],
                        exactRank: UnsafePointer<Int32>, exactCount: Int, into out: inout [Double]) {
        // Relevant ranks are gathered branch-free first: relevance is close to random along
        // the ranking, so a branch per rank would mispredict constantly.
        var hits = 0
        let depth = min(r, available)
        for j in 0..<depth {
            positions[hits] = Int32(truncatingIfNeeded: j)
            hits &+= Int(relevant[RankKey.index(ranked[j])])
        }
        var sum = 0.0
        for h in 0..<hits { sum += Double(h + 1) / Double(Int(positions[h]) + 1) }
        out.append(hits > 0 ? sum / Double(hits) : 0)
        for k in pks {
            var c = 0
            for j in 0..<min(k, available) where relevant[RankKey.index(ranked[j])] != 0 { c += 1 }
            out.append(Double(c) / Double(k))
        }
        for k in rks {
            let denominator = min(k, exactCount)
            var c = 0
            for j in 0..<min(k, available) where Int(exactRank[RankKey.index(ranked[j])]) < k { c += 1 }
            out.append(denominator > 0 ? Double(c) / Double(denominator) : 0)
        }
    }
}
