// M codebooks C_1..C_M, each K codewords in R^D, stored as one [Float] of M*K*D values:
// codeword k of block m starts at (m*K + k)*D. A reconstruction from an m-block code is
// x_hat = sum_{i<m} C_i[b_i].

public struct Codebooks: Sendable, Equatable {
    public let blocks: Int
    public let size: Int
    public let dimension: Int
    public var values: [Float]

    public init(blocks: Int, size: Int, dimension: Int, values: [Float]) {
        precondition(values.count == blocks * size * dimension, "Codebooks: wrong value count")
        self.blocks = blocks
        self.size = size
        self.dimension = dimension
        self.values = values
    }

    public init(blocks: Int, size: Int, dimension: Int) {
        self.init(blocks: blocks, size: size, dimension: dimension,
                  values: [Float](repeating: 0, count: blocks * size * dimension))
    }

    /// Offset of codeword k of block m in `values`.
    @inline(__always)
    public func offset(block m: Int, codeword k: Int) -> Int { (m * size + k) * dimension }

    /// Block m as a K x D matrix.
    public func block(_ m: Int) -> Matrix {
        let start = offset(block: m, codeword: 0)
        return Matrix(rows: size, cols: dimension, values: Array(values[start..<(start + size * dimension)]))
    }

    public mutating func setBlock(_ m: Int, _ matrix: Matrix) {
        precondition(matrix.rows == size && matrix.cols == dimension, "Codebooks.setBlock: shape")
        let start = offset(block: m, codeword: 0)
        values.replaceSubrange(start..<(start + size * dimension), with: matrix.values)
    }

    /// The first m blocks.
    public func prefix(_ m: Int) -> Codebooks {
        precondition(m >= 1 && m <= blocks, "Codebooks.prefix: m out of range")
        return Codebooks(blocks: m, size: size, dimension: dimension,
                         values: Array(values[0..<(m * size * dimension)]))
    }

    /// Bits of one block's code: log2 K.
    public var bitsPerBlock: Int { size.trailingZeroBitCount }
}
