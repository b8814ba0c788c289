// Deterministic data and plain-loop references for the search and metrics tests.
// Integer-valued codebooks and queries keep every inner product, norm and distance exact in
// Float, so engine results can be compared with references for equality (including the
// index tie-break, since integer scores tie often).

import DPQEngine

/// SplitMix64: a tiny seeded generator so tests never depend on system randomness.
struct SearchTestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

enum SearchFixtures {
    static func integerMatrix(rows: Int, cols: Int, range: ClosedRange<Int> = -3...3, seed: UInt64) -> Matrix {
        var r = SearchTestRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(r.int(range)) })
    }

    static func floatMatrix(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var r = SearchTestRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in r.float() })
    }

    static func codebooks(blocks: Int, size: Int, dimension: Int, seed: UInt64) -> Codebooks {
        let m = integerMatrix(rows: blocks * size, cols: dimension, seed: seed)
        return Codebooks(blocks: blocks, size: size, dimension: dimension, values: m.values)
    }

    static func codes(count: Int, blocks: Int, size: Int, seed: UInt64) -> CodeMatrix {
        var r = SearchTestRandom(seed: seed)
        var codes = CodeMatrix(count: count, blocks: blocks, codebookSize: size)
        for i in 0..<count {
            for b in 0..<blocks { codes.setCode(item: i, block: b, r.below(size)) }
        }
        return codes
    }

    /// x_hat_m of every item: the sum of its first m codewords.
    static func decode(_ codes: CodeMatrix, _ codebooks: Codebooks, blocks m: Int) -> Matrix {
        let d = codebooks.dimension
        var out = Matrix(rows: codes.count, cols: d)
        for i in 0..<codes.count {
            for b in 0..<m {
                let base = codebooks.offset(block: b, codeword: codes.code(item: i, block: b))
                for j in 0..<d { out[i, j] += codebooks.values[base + j] }
            }
        }
        return out
    }

    static func dot(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Float {
        var s: Float = 0
        for c in 0..<a.cols { s += a[i, c] * b[j, c] }
        return s
    }

    static func squaredDistance(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Float {
        var s: Float = 0
        for c in 0..<a.cols { let t = a[i, c] - b[j, c]; s += t * t }
        return s
    }

    /// Every database row scored against query q, best first, ties by index.
    static func ranking(query q: Int, queries: Matrix, database: Matrix, metric: SearchMetric) -> [SearchHit] {
        let hits = (0..<database.rows).map { j in
            SearchHit(index: j, score: metric == .innerProduct ? dot(queries, q, database, j)
                                                             : squaredDistance(queries, q, database, j))
        }
        return hits.sorted { a, b in
            if a.score != b.score { return metric.higherIsBetter ? a.score > b.score : a.score < b.score }
            return a.index < b.index
        }
    }

    static func bruteForce(queries: Matrix, database: Matrix, k: Int, metric: SearchMetric,
                           filter: ((Int) -> Bool)? = nil) -> [[SearchHit]] {
        (0..<queries.rows).map { q in
            Array(ranking(query: q, queries: queries, database: database, metric: metric)
                .filter { filter?($0.index) ?? true }.prefix(k))
        }
    }
}
