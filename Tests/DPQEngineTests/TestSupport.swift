import DPQEngine

/// Random matrices and finite differences shared by the tests.
enum TestData {
    static func matrix(rows: Int, cols: Int, seed: UInt64, scale: Float = 1) -> Matrix {
        var r = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in r.normal() * scale })
    }

    /// Gaussian clusters: `classes` centres in `dim` dimensions, `perClass` points each.
    static func clusters(classes: Int, perClass: Int, dim: Int, spread: Float, seed: UInt64) -> (Matrix, [Int]) {
        var r = SeededRandom(seed: seed)
        let centres = (0..<classes).map { _ in (0..<dim).map { _ in r.normal() * 3 } }
        var values: [Float] = []
        var labels: [Int] = []
        for i in 0..<(classes * perClass) {
            let c = i % classes
            values.append(contentsOf: centres[c].map { $0 + r.normal() * spread })
            labels.append(c)
        }
        return (Matrix(rows: classes * perClass, cols: dim, values: values), labels)
    }

    /// Central differences of `loss` with respect to entries `indices` of `params`.
    static func numericGradient(_ params: [Float], indices: [Int], eps: Float = 1e-2, loss: ([Float]) -> Float) -> [Float] {
        indices.map { i in
            var p = params
            p[i] += eps
            let up = Double(loss(p))
            p[i] = params[i] - eps
            let down = Double(loss(p))
            return Float((up - down) / (2 * Double(eps)))
        }
    }

    /// Max of |a - n| / max(floor, |a|, |n|) over the entries.
    static func relativeError(_ analytic: [Float], _ numeric: [Float], floor: Float = 1e-2) -> Float {
        zip(analytic, numeric).map { a, n in abs(a - n) / max(floor, abs(a), abs(n)) }.max() ?? 0
    }

    static func sampleIndices(_ count: Int, _ n: Int, seed: UInt64) -> [Int] {
        var r = SeededRandom(seed: seed)
        return Array(r.permutation(count).prefix(n))
    }
}
