// G = A B^T for row-major A (a x D) and B (b x D), computed in place from sub-ranges of
// larger arrays. Lookup tables, exact float search and float-feature evaluation all need
// blocks of inner products between rows of two matrices; calling sgemm on pointers into the
// original storage avoids copying those rows into temporary `Matrix` values.
// OpenBLAS runs an sgemm of a*b*D <= 4 * 65536 on the calling thread; a larger one wakes its
// workers, which keep spinning on a core after the call returns and slow down the scan that
// follows (measured: the fast scan of 256 queries on 2 threads ran 1.5x slower). Lookup tables
// are a small share of a search and already run on
// the search's own workers, so they go through `computeOnCallingThread`, which cuts A's rows
// into calls below that size. A row's values depend only on its call's rows, so callers that
// need identical tables across code paths cut their batches at multiples of `rowsPerCall`.

import CBLAS

enum InnerProducts {
    /// out[i*b + j] = <A_i, B_j> for i < a, j < b. `out` must hold a*b floats.
    static func compute(_ a: UnsafePointer<Float>, rows aRows: Int,
                        _ b: UnsafePointer<Float>, rows bRows: Int,
                        dimension d: Int, into out: UnsafeMutablePointer<Float>) {
        if aRows == 0 || bRows == 0 { return }
        if d == 0 {
            out.update(repeating: 0, count: aRows * bRows)
            return
        }
        precondition(aRows <= Int(Int32.max) && bRows <= Int(Int32.max) && d <= Int(Int32.max),
                     "InnerProducts: dimensions exceed BLAS's 32-bit range")
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(aRows), Int32(bRows), Int32(d), 1,
                    a, Int32(d), b, Int32(d), 0, out, Int32(bRows))
    }

    /// Rows of A per sgemm call in `computeOnCallingThread` for B of `bRows` x `d`.
    static func rowsPerCall(bRows: Int, dimension d: Int) -> Int {
        max(1, (4 * 65_536) / max(1, bRows * d))
    }

    /// `compute` in calls of `rowsPerCall` rows of A each, so OpenBLAS never leaves this thread.
    static func computeOnCallingThread(_ a: UnsafePointer<Float>, rows aRows: Int,
                                       _ b: UnsafePointer<Float>, rows bRows: Int,
                                       dimension d: Int, into out: UnsafeMutablePointer<Float>) {
        let perCall = rowsPerCall(bRows: bRows, dimension: d)
        var start = 0
        while start < aRows {
            let count = min(perCall, aRows - start)
            compute(a + start * d, rows: count, b, rows: bRows, dimension: d, into: out + start * bRows)
            start += count
        }
    }
}
