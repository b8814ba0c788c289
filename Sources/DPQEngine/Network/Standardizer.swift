// Per-dimension standardisation x' = (x - mean) / max(std, floor), fitted on training data.
// The floor (a fraction of the average deviation) keeps constant dimensions, such as image
// borders, from blowing up a test item that happens to differ there.
// Images (an input shape that is not flat) are standardised per channel instead: one mean and
// deviation over every pixel of a channel, repeated at each position, so that a convolution's
// shared weights and shifted (augmented) images see the same scale everywhere. The stored
// arrays keep one value per input dimension either way.

public struct Standardizer: Sendable, Equatable {
    public var mean: [Float]
    public var deviation: [Float]

    public init(mean: [Float], deviation: [Float]) {
        precondition(mean.count == deviation.count, "Standardizer: mean and deviation differ in length")
        self.mean = mean
        self.deviation = deviation
    }

    /// Identity for `dimension` inputs.
    public init(identity dimension: Int) {
        self.init(mean: [Float](repeating: 0, count: dimension), deviation: [Float](repeating: 1, count: dimension))
    }

    public init(fitting data: Matrix, relativeFloor: Float = 0.1) {
        let n = max(data.rows, 1), d = data.cols
        var sum = [Double](repeating: 0, count: d)
        var sumSq = [Double](repeating: 0, count: d)
        for r in 0..<data.rows {
            let base = r * d
            for c in 0..<d {
                let v = Double(data.values[base + c])
                sum[c] += v
                sumSq[c] += v * v
            }
        }
        let mean = sum.map { $0 / Double(n) }
        var dev = (0..<d).map { c in max(sumSq[c] / Double(n) - mean[c] * mean[c], 0).squareRoot() }
        let average = dev.reduce(0, +) / Double(max(d, 1))
        let floor = max(average * Double(relativeFloor), 1e-6)
        dev = dev.map { max($0, floor) }
        self.init(mean: mean.map(Float.init), deviation: dev.map(Float.init))
    }

    /// Per dimension for flat inputs (`shape` nil or flat), per channel for images.
    public init(fitting data: Matrix, shape: TensorShape?, relativeFloor: Float = 0.1) {
        guard let shape, !shape.isFlat, shape.count == data.cols else {
            self.init(fitting: data, relativeFloor: relativeFloor)
            return
        }
        let c = shape.channels
        let perChannel = Standardizer(fitting: Matrix(rows: data.rows * shape.height * shape.width, cols: c, values: data.values),
                                      relativeFloor: relativeFloor)
        let positions = shape.height * shape.width
        self.init(mean: (0..<positions).flatMap { _ in perChannel.mean },
                  deviation: (0..<positions).flatMap { _ in perChannel.deviation })
    }

    public var dimension: Int { mean.count }

    public func apply(_ x: Matrix) -> Matrix {
        precondition(x.cols == dimension, "Standardizer: input has \(x.cols) columns, expected \(dimension)")
        var out = x
        let inv = deviation.map { 1 / $0 }
        out.values.withUnsafeMutableBufferPointer { p in
            for r in 0..<x.rows {
                let base = r * dimension
                for c in 0..<dimension { p[base + c] = (p[base + c] - mean[c]) * inv[c] }
            }
        }
        return out
    }

    /// x = x' * deviation + mean: back from the standardised space.
    public func invert(_ z: Matrix) -> Matrix {
        precondition(z.cols == dimension, "Standardizer: input has \(z.cols) columns, expected \(dimension)")
        var out = z
        out.values.withUnsafeMutableBufferPointer { p in
            for r in 0..<z.rows {
                let base = r * dimension
                for c in 0..<dimension { p[base + c] = p[base + c] * deviation[c] + mean[c] }
            }
        }
        return out
    }
}
