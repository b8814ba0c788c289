// Thin wrappers over OpenBLAS for the few level-3/level-1 operations the engine needs.
//   gemm: C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T, all row-major.

import CBLAS
import Synchronization

public enum BLAS {
    /// Floating-point operations (2mnk) of every gemm so far: benchmarks read it to report
    /// GFLOP/s. One relaxed atomic add per call, nothing per element.
    public static let gemmOperations = Atomic<Int>(0)

    /// Threads OpenBLAS may use outside `hold(threads:)` (while some hold runs, the largest held
    /// count applies). The same count gives the same results run to run.
    public static func setThreads(_ n: Int) {
        counts.withLock {
            $0.base = max(1, n)
            apply($0)
        }
    }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's thread count is one setting per process. Trainings that want their own count
    /// hold it for their length: the largest count held applies, and the base count comes back
    /// when the last hold ends, whatever order concurrent trainings end in (a save-and-restore
    /// per training would leave the count of whichever ended last).
    public struct ThreadHold: Sendable {
        let id: Int
        /// Ends the hold (a second call does nothing).
        public func release() {
            BLAS.counts.withLock {
                $0.held.removeValue(forKey: id)
                BLAS.apply($0)
            }
        }
    }

    public static func hold(threads n: Int) -> ThreadHold {
        counts.withLock {
            $0.next += 1
            $0.held[$0.next] = max(1, n)
            apply($0)
            return ThreadHold(id: $0.next)
        }
    }

    private struct Counts {
        var base: Int
        var held: [Int: Int] = [:]
        var next = 0
    }
    private static let counts = Mutex(Counts(base: Int(openblas_get_num_threads())))
    private static func apply(_ c: Counts) { openblas_set_num_threads(Int32(c.held.values.max() ?? c.base)) }

    /// C = alpha * op(A) op(B) + beta * C.
    public static func gemm(_ a: Matrix, transposeA: Bool = false,
                            _ b: Matrix, transposeB: Bool = false,
                            into c: inout Matrix, alpha: Float = 1, beta: Float = 0) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)x\(c.cols), expected \(m)x\(n)")
        if m == 0 || n == 0 { return }
        gemmOperations.wrappingAdd(2 * m * n * k, ordering: .relaxed)
        if k == 0 {
            if beta == 0 { for i in c.values.indices { c.values[i] = 0 } } else if beta != 1 { for i in c.values.indices { c.values[i] *= beta } }
            return
        }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor,
                                transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha,
                                pa.baseAddress, Int32(a.cols),
                                pb.baseAddress, Int32(b.cols), beta,
                                pc.baseAddress, Int32(n))
                }
            }
        }
    }

    /// C = alpha * op(A) op(B) + beta * C on raw row-major storage with leading dimensions,
    /// for products over parts of a batch (convolution works through the batch in chunks).
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        gemmOperations.wrappingAdd(2 * m * n * k, ordering: .relaxed)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Returns alpha * op(A) op(B).
    public static func product(_ a: Matrix, transposeA: Bool = false,
                               _ b: Matrix, transposeB: Bool = false, alpha: Float = 1) -> Matrix {
        var c = Matrix(rows: transposeA ? a.cols : a.rows, cols: transposeB ? b.rows : b.cols)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha)
        return c
    }
}

extension Matrix {
    /// Squared L2 norm of every row.
    public func rowSquaredNorms() -> [Float] {
        var out = [Float](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { p in
            for r in 0..<rows {
                var s: Float = 0
                let base = r * cols
                for c in 0..<cols { let v = p[base + c]; s += v * v }
                out[r] = s
            }
        }
        return out
    }
}
