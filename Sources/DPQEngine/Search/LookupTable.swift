// Asymmetric lookup tables: for a query q in R^D and the first m codebooks,
//     T[i][k] = <q, C_i[k]>,   i < m, k < K,
// so that <q, x_hat> = sum_{i<m} T[i][b_i] costs m table reads per item instead of m*D
// multiply-adds. The tables of a batch of Q queries are one sgemm:
//     (Q x D) * ((m*K) x D)^T  ->  Q x (m*K),
// because the first m blocks' codewords are contiguous rows of `Codebooks.values`.

public struct LookupTables: Sendable, Equatable {
    /// Number of queries Q.
    public let queries: Int
    /// Number of codebooks m tabulated (a prefix of the model's M).
    public let blocks: Int
    /// Codewords per codebook K.
    public let size: Int
    /// Q * m * K values: query q's table starts at q*m*K, block i's row at (q*m + i)*K.
    public var values: [Float]

    /// Tables of every row of `queries` against the first `m` codebooks.
    ///
    /// Preconditions (programmer errors): `queries.cols == codebooks.dimension` and
    /// `1 <= m <= codebooks.blocks`.
    public init(queries: Matrix, codebooks: Codebooks, blocks m: Int) {
        self.init(queries: queries, rows: 0..<queries.rows, codebooks: codebooks, blocks: m)
    }

    /// Tables of the query rows in `rows` only, without copying them out of `queries`.
    init(queries: Matrix, rows: Range<Int>, codebooks: Codebooks, blocks m: Int) {
        precondition(queries.cols == codebooks.dimension,
                     "LookupTables: queries have \(queries.cols) columns, codebooks dimension \(codebooks.dimension)")
        precondition(m >= 1 && m <= codebooks.blocks,
                     "LookupTables: blocks \(m) outside 1...\(codebooks.blocks)")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= queries.rows, "LookupTables: rows out of range")
        self.queries = rows.count
        self.blocks = m
        self.size = codebooks.size
        let d = codebooks.dimension
        let width = m * codebooks.size
        var values = [Float](repeating: 0, count: rows.count * width)
        queries.values.withUnsafeBufferPointer { q in
            codebooks.values.withUnsafeBufferPointer { c in
                values.withUnsafeMutableBufferPointer { out in
                    guard let qb = q.baseAddress, let cb = c.baseAddress, let ob = out.baseAddress else { return }
                    // On the calling thread (see InnerProducts), in the same calls for CodeScanner,
                    // FastScanner and IVFIndex, so their tables stay identical.
                    InnerProducts.computeOnCallingThread(qb + rows.lowerBound * d, rows: rows.count, cb, rows: width,
                                                         dimension: d, into: ob)
                }
            }
        }
        self.values = values
    }

    /// Rows per sgemm call: a batch cut at multiples of this gives the same tables as uncut.
    static func rowsPerCall(codebooks: Codebooks, blocks m: Int) -> Int {
        InnerProducts.rowsPerCall(bRows: m * codebooks.size, dimension: codebooks.dimension)
    }

    /// T[block][codeword] of query `query`.
    @inline(__always)
    public subscript(query q: Int, block i: Int, codeword k: Int) -> Float {
        values[(q * blocks + i) * size + k]
    }

    /// Query q's whole m x K table, block-major.
    public func table(query q: Int) -> ArraySlice<Float> {
        let width = blocks * size
        return values[(q * width)..<((q + 1) * width)]
    }
}
