// Squared norms of every prefix reconstruction: for item x with codes b_0..b_{M-1} and
// x_hat_m = sum_{i<m} C_i[b_i], store ||x_hat_m||^2 for m = 1...M.
// Squared L2 search needs them because the codebooks are not orthogonal:
//     ||q - x_hat_m||^2 = ||q||^2 - 2 <q, x_hat_m> + ||x_hat_m||^2
// and ||x_hat_m||^2 = ||x_hat_{m-1}||^2 + 2 <x_hat_{m-1}, c> + ||c||^2 has a cross term that
// no per-block table can supply. We accumulate x_hat_m itself, one codeword at a time, and
// take its squared norm at every step: the same O(M*D) work per item as the recurrence, but
// with no cancellation error building up across blocks (and never negative).

import Foundation

/// ||x_hat_m||^2 for every item and every prefix length m = 1...M.
/// Storage costs 4*M bytes per item (one Float per prefix length).
public struct PrefixNorms: Sendable, Equatable {
    public let count: Int
    public let blocks: Int
    /// count * M values, item-major: ||x_hat_m(i)||^2 is at i*M + (m-1).
    public var values: [Float]

    /// Norms stored elsewhere (e.g. loaded from disk).
    /// Precondition (programmer error): `values.count == count * blocks`.
    public init(count: Int, blocks: Int, values: [Float]) {
        precondition(count >= 0 && blocks >= 0 && values.count == count * blocks,
                     "PrefixNorms: \(values.count) values for \(count) items x \(blocks) blocks")
        self.count = count
        self.blocks = blocks
        self.values = values
    }

    /// Norms of the reconstructions of `codes` from the first `codes.blocks` codebooks.
    ///
    /// Preconditions (programmer errors): `codes.blocks <= codebooks.blocks` and every code
    /// is below `codebooks.size`.
    public init(codes: CodeMatrix, codebooks: Codebooks,
                threads: Int = Cores.available) {
        precondition(codes.blocks <= codebooks.blocks,
                     "PrefixNorms: codes have \(codes.blocks) blocks, codebooks only \(codebooks.blocks)")
        CodeValidation.requireCodes(codes, below: codebooks.size, caller: "PrefixNorms")
        let n = codes.count, mCount = codes.blocks, d = codebooks.dimension, k = codebooks.size
        var values = [Float](repeating: 0, count: n * mCount)
        if n > 0 && mCount > 0 {
            let chunk = 4096
            let chunks = (n + chunk - 1) / chunk
            values.withUnsafeMutableBufferPointer { out in
                let shared = SharedMutablePointer(base: out.baseAddress!)
                ParallelWork.forEach(count: chunks, threads: threads) { c in
                    let items = (c * chunk)..<min(n, (c + 1) * chunk)
                    var x = [Float](repeating: 0, count: d)
                    codebooks.values.withUnsafeBufferPointer { cb in
                        x.withUnsafeMutableBufferPointer { x in
                            for item in items {
                                for j in 0..<d { x[j] = 0 }
                                for m in 0..<mCount {
                                    let code = codes.code(item: item, block: m)
                                    let base = (m * k + code) * d
                                    var norm: Float = 0
                                    for j in 0..<d {
                                        let v = x[j] + cb[base + j]
                                        x[j] = v
                                        norm += v * v
                                    }
                                    shared.base[item * mCount + m] = norm
                                }
                            }
                        }
                    }
                }
            }
        }
        self.count = n
        self.blocks = mCount
        self.values = values
    }

    /// ||x_hat_m||^2 of `item` for prefix length m in 1...blocks.
    @inline(__always)
    public func norm(item: Int, blocks m: Int) -> Float { values[item * blocks + m - 1] }
}

/// Checks shared by every consumer of codes: an out-of-range code would read past a
/// codebook (or a lookup table) in the unchecked inner loops.
enum CodeValidation {
    static func requireCodes(_ codes: CodeMatrix, below size: Int, caller: String) {
        precondition(size >= 1, "\(caller): codebooks have no codewords")
        // Every representable code is valid when K fills the code width.
        if size >= 1 << (8 * codes.bytesPerCode) { return }
        var maxCode = 0
        codes.bytes.withUnsafeBufferPointer { b in
            if codes.bytesPerCode == 1 {
                var mx: UInt8 = 0
                for v in b { mx = max(mx, v) }
                maxCode = Int(mx)
            } else {
                var mx: UInt16 = 0
                var i = 0
                while i + 1 < b.count {
                    mx = max(mx, UInt16(b[i]) | UInt16(b[i + 1]) << 8)
                    i += 2
                }
                maxCode = Int(mx)
            }
        }
        precondition(maxCode < size, "\(caller): code \(maxCode) is not below the codebook size \(size)")
    }
}
