// A dense row-major matrix of Float: row r occupies values[r*cols ..< (r+1)*cols].
// Every batch in the engine (inputs, activations, gradients, codebooks) is one of these,
// so that BLAS can work on it without copies.

public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(rows >= 0 && cols >= 0 && values.count == rows * cols,
                     "Matrix: \(values.count) values for \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        self.init(rows: rows, cols: cols, values: [Float](repeating: value, count: rows * cols))
    }

    /// A matrix whose every value `fill` writes: no zeroing pass first, which on the large
    /// activations of a convolutional trunk is a full extra write (and page faults) per layer.
    /// Precondition: `fill` initialises all rows * cols values.
    public init(rows: Int, cols: Int, filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = rows * cols
        let values = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<n]))
            count = n
        }
        self.init(rows: rows, cols: cols, values: values)
    }

    /// Rows given as arrays of equal length.
    public init(_ rowArrays: [[Float]]) {
        let cols = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == cols }, "Matrix: ragged rows")
        self.init(rows: rowArrays.count, cols: cols, values: rowArrays.flatMap { $0 })
    }

    public subscript(r: Int, c: Int) -> Float {
        get { values[r * cols + c] }
        set { values[r * cols + c] = newValue }
    }

    public func row(_ r: Int) -> ArraySlice<Float> {
        values[(r * cols)..<((r + 1) * cols)]
    }

    /// The rows at the given indices, in that order.
    public func rows(_ indices: some Collection<Int>) -> Matrix {
        var out = [Float]()
        out.reserveCapacity(indices.count * cols)
        for r in indices { out.append(contentsOf: row(r)) }
        return Matrix(rows: indices.count, cols: cols, values: out)
    }

    /// Rows start..<end.
    public func rowRange(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, values: Array(values[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }
}
