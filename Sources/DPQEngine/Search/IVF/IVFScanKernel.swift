// The hot loop of an IVF search over one inverted list in the .rows layout: for entry e with
// stored codes c_0..c_{r-1} (the item's blocks from `first` on),
//     s = base + T[first][c_0] + T[first+1][c_1] + ... ,
// with base = T[0][list] when the list stores no block-0 code (first-block partition) and
// base = -0 otherwise (-0 + x == x for every float x, so the sum is bit for bit CodeScanner's).
// Candidates are offered to the same TopK with the same keys as CodeScanner: -s, or
// (||q||^2 - 2 s) + ||x_hat_m||^2 for squared L2, and the entry's id as the tie-break.

enum IVFScanKernel {
    /// Scans `count` entries. `table` points at block `first`'s row of the query's table, `size`
    /// apart per block; `norms` at entry 0's ||x_hat_m||^2 with `normStride` floats per entry
    /// (read only when `l2`).
    @inline(__always)
    static func scan<W: CodeWidth>(_: W.Type, codes: UnsafeRawPointer, codeBytes: Int, stride: Int,
                                   ids: UnsafePointer<UInt32>, count n: Int, table: UnsafePointer<Float>,
                                   size k: Int, reads r: Int, base: Float, l2: Bool,
                                   norms: UnsafePointer<Float>, normStride: Int, queryNorm qq: Float,
                                   filter: ItemFilter?, into heap: inout TopK) {
        var threshold = heap.threshold

        @inline(__always) func offer(_ e: Int, _ s: Float) {
            let key: Float = l2 ? (qq - 2 * s) + norms[e &* normStride] : -s
            guard key <= threshold else { return }
            let id = Int(ids[e])
            if let filter, !filter.allows(id) { return }
            heap.push(RankKey.make(key, id))
            threshold = heap.threshold
        }

        let t0 = table
        var p = codes
        var e = 0
        // One 64-bit load per entry for 7 or 8 one-byte codes (the load-bound m = 8 case, as in
        // CodeScanner); only where the 8 bytes read stay inside the list's codes.
        if W.bytes == 1 && (r == 7 || r == 8) {
            let t1 = table + k, t2 = table + 2 * k, t3 = table + 3 * k
            let t4 = table + 4 * k, t5 = table + 5 * k, t6 = table + 6 * k, t7 = table + 7 * k
            while e < n && e &* stride &+ 8 <= codeBytes {
                let c = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                @inline(__always) func b(_ shift: UInt64) -> Int { Int(truncatingIfNeeded: (c &>> shift) & 0xff) }
                var s = base + t0[b(0)]
                s += t1[b(8)]
                s += t2[b(16)]
                s += t3[b(24)]
                s += t4[b(32)]
                s += t5[b(40)]
                s += t6[b(48)]
                if r == 8 { s += t7[b(56)] }
                offer(e, s)
                p += stride
                e += 1
            }
        }
        switch r {
        case 0:
            while e < n { offer(e, base); e += 1 }
        case 1:
            while e < n {
                offer(e, base + t0[W.load(p, 0)])
                p += stride
                e += 1
            }
        case 2:
            let t1 = table + k
            while e < n {
                offer(e, base + t0[W.load(p, 0)] + t1[W.load(p, 1)])
                p += stride
                e += 1
            }
        case 3:
            let t1 = table + k, t2 = table + 2 * k
            while e < n {
                offer(e, base + t0[W.load(p, 0)] + t1[W.load(p, 1)] + t2[W.load(p, 2)])
                p += stride
                e += 1
            }
        case 4:
            let t1 = table + k, t2 = table + 2 * k, t3 = table + 3 * k
            while e < n {
                offer(e, base + t0[W.load(p, 0)] + t1[W.load(p, 1)] + t2[W.load(p, 2)] + t3[W.load(p, 3)])
                p += stride
                e += 1
            }
        default:
            while e < n {
                var s = base
                var t = table
                for i in 0..<r {
                    s += t[W.load(p, i)]
                    t += k
                }
                offer(e, s)
                p += stride
                e += 1
            }
        }
    }
}
