// Byte lookup tables for the fast scan. For query q and codebooks i < m (K = 16):
//     L_i[c] = round((max_c T_i[c] - T_i[c]) * a),    a = 255 / max_i (max_c T_i[c] - min_c T_i[c])
// so d(x) = sum_i L_i[b_i] ~ a * (B - <q, x_hat>) with B = sum_i max_c T_i[c]: lower is better,
// at most 255 per codebook, and off from the scaled true distance by at most m/2 (one half
// per rounded entry). B - d / a is the approximate inner product.

struct QuantizedLookupTables {
    /// Groups of 4 codebooks tabulated: ceil(m / 4).
    let groups: Int
    /// Q tables of groups * 64 bytes (fastscan.h's layout; codebooks >= m are zero).
    var bytes: [UInt8]
    /// Per query: a, and B.
    var scale: [Float]
    var bias: [Float]
    /// Per query: false when a table entry is not finite (no meaningful ranking exists).
    var finite: [Bool]

    init(_ tables: LookupTables) {
        precondition(tables.size == 16, "QuantizedLookupTables: codebooks of 16 codewords only")
        let m = tables.blocks
        groups = (m + 3) / 4
        let width = groups * 64
        bytes = [UInt8](repeating: 0, count: tables.queries * width)
        scale = [Float](repeating: 1, count: tables.queries)
        bias = [Float](repeating: 0, count: tables.queries)
        finite = [Bool](repeating: true, count: tables.queries)
        var maxes = [Float](repeating: 0, count: m)
        for q in 0..<tables.queries {
            var range: Float = 0
            var b: Float = 0
            for i in 0..<m {
                var hi = -Float.infinity, lo = Float.infinity
                for c in 0..<16 {
                    let t = tables[query: q, block: i, codeword: c]
                    if !t.isFinite { finite[q] = false }
                    hi = max(hi, t)
                    lo = min(lo, t)
                }
                maxes[i] = hi
                range = max(range, hi - lo)
                b += hi
            }
            guard finite[q] else { continue }
            let a: Float = range > 0 ? 255 / range : 1
            scale[q] = a
            bias[q] = b
            for i in 0..<m {
                let base = q * width + (i / 4) * 64 + (i % 4) * 16
                for c in 0..<16 {
                    let v = ((maxes[i] - tables[query: q, block: i, codeword: c]) * a).rounded()
                    bytes[base + c] = UInt8(min(255, max(0, v)))
                }
            }
        }
    }
}
