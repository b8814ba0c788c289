// G = A B^T for row-major A (a x D) and B (b x D), computed in place from sub-ranges of
// larger arrays. Lookup tables, exact float search and float-feature evaluation all need
// blocks of inner products between rows of two matrices; calling sgemm on pointers into the
// original storage avoids copying those rows into temporary `Matrix` values.

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
}
