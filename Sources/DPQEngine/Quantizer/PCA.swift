// Principal axes of a data set: z = (x - mean) R^T with the rows of R the eigenvectors of the
// covariance, by decreasing eigenvalue. R is orthogonal, so x = z R + mean undoes it exactly.

import CBLAS

public struct PCA: Sendable {
    public var mean: [Float]
    /// D x D, row i = i-th principal axis.
    public var rotation: Matrix

    public init(fitting data: Matrix) {
        let n = data.rows, d = data.cols
        var mean = [Float](repeating: 0, count: d)
        for i in 0..<n { for t in 0..<d { mean[t] += data.values[i * d + t] } }
        for t in 0..<d { mean[t] /= Float(max(n, 1)) }
        var centred = data
        for i in 0..<n { for t in 0..<d { centred.values[i * d + t] -= mean[t] } }
        var cov = BLAS.product(centred, transposeA: true, centred, alpha: 1 / Float(max(n - 1, 1)))
        var w = [Float](repeating: 0, count: d)
        var info: Int32 = 0
        var dim = Int32(d)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize: Float = 0
        var iworkSize: Int32 = 0
        // Workspace query, then the decomposition (vectors "V", upper triangle "U").
        ssyevd_("V", "U", &dim, &cov.values, &dim, &w, &workSize, &lwork, &iworkSize, &liwork, &info)
        lwork = Int32(workSize)
        liwork = iworkSize
        var work = [Float](repeating: 0, count: Int(max(lwork, 1)))
        var iwork = [Int32](repeating: 0, count: Int(max(liwork, 1)))
        ssyevd_("V", "U", &dim, &cov.values, &dim, &w, &work, &lwork, &iwork, &liwork, &info)
        // Column-major eigenvectors are the rows of `cov` in row-major order, ascending: reverse them.
        var r = Matrix(rows: d, cols: d)
        if info == 0 {
            for i in 0..<d {
                let src = (d - 1 - i) * d
                for t in 0..<d { r.values[i * d + t] = cov.values[src + t] }
            }
        } else {
            for i in 0..<d { r.values[i * d + i] = 1 }
        }
        self.mean = mean
        self.rotation = r
    }

    public func project(_ x: Matrix) -> Matrix {
        var c = x
        for i in 0..<x.rows { for t in 0..<x.cols { c.values[i * x.cols + t] -= mean[t] } }
        return BLAS.product(c, rotation, transposeB: true)
    }

    public func unproject(_ z: Matrix) -> Matrix {
        var x = BLAS.product(z, rotation)
        for i in 0..<x.rows { for t in 0..<x.cols { x.values[i * x.cols + t] += mean[t] } }
        return x
    }
}
