// 4-bit codes (K = 16) in the block layout the fast-scan kernels read (CFastScan's
// fastscan.h): items in blocks of 32, codebooks in groups of 4, two items per byte, so an
// item costs M/2 bytes (rounded up to whole groups of 4 codebooks).

import CFastScan

public struct FastScanCodes: Sendable, Equatable {
    /// Items n.
    public private(set) var count: Int
    /// Codebooks M (any prefix 1...M can be searched).
    public let blocks: Int
    /// The packed bytes (fastscan.h's layout).
    public private(set) var packed: [UInt8]

    /// Packs one-byte codes below 16.
    ///
    /// Preconditions (programmer errors): `codes.bytesPerCode == 1`, every code < 16, fewer
    /// than 2^32 items.
    public init(codes: CodeMatrix) {
        precondition(codes.bytesPerCode == 1 && codes.blocks >= 1, "FastScanCodes: needs one-byte codes")
        precondition(codes.count < RankKey.maxItems, "FastScanCodes: at most 2^32 - 1 items")
        CodeValidation.requireCodes(codes, below: 16, caller: "FastScanCodes")
        count = codes.count
        blocks = codes.blocks
        let size = dpq_fs_packed_bytes(codes.count, Int32(codes.blocks))
        packed = [UInt8](unsafeUninitializedCapacity: size) { out, initialized in
            codes.bytes.withUnsafeBufferPointer { c in
                dpq_fs_pack(c.baseAddress, codes.count, Int32(codes.blocks), codes.blocks, out.baseAddress)
            }
            initialized = size
        }
    }

    /// Groups of 4 codebooks stored per block.
    var groups: Int { (blocks + 3) / 4 }
    /// Blocks of 32 items.
    var itemBlocks: Int { (count + 31) / 32 }

    /// Item `item`'s code for codebook `block`.
    public func code(item: Int, block: Int) -> Int {
        precondition(item >= 0 && item < count && block >= 0 && block < blocks, "FastScanCodes.code: out of range")
        let (o, shift) = offset(item, block)
        return Int((packed[o] >> shift) & 0x0F)
    }

    // MARK: - In-place changes (an index keeps its packed codes in step with its rows)

    /// Where item `item`'s code for codebook `block` lives: byte offset and nibble shift.
    @inline(__always)
    func offset(_ item: Int, _ block: Int) -> (Int, UInt8) {
        let j = item & 31
        return ((item >> 5) * groups * 64 + (block >> 2) * 64 + (block & 3) * 16 + (j & 15), j < 16 ? 0 : 4)
    }

    /// Replaces item `item`'s codes (`blocks` values below 16).
    public mutating func set(item: Int, codes: some Collection<UInt8>) {
        precondition(item >= 0 && item < count && codes.count == blocks, "FastScanCodes.set: bad item or code count")
        for (b, c) in codes.enumerated() {
            precondition(c < 16, "FastScanCodes.set: code \(c) is not below 16")
            let (o, shift) = offset(item, b)
            packed[o] = packed[o] & ~(0x0F << shift) | c << shift
        }
    }

    /// Adds an item at the end.
    public mutating func append(codes: some Collection<UInt8>) {
        precondition(count + 1 < RankKey.maxItems, "FastScanCodes: at most 2^32 - 1 items")
        if count % 32 == 0 { packed.append(contentsOf: repeatElement(0, count: groups * 64)) }
        count += 1
        set(item: count - 1, codes: codes)
    }

    /// Drops the last item (its nibbles are cleared, and its block when it empties).
    public mutating func removeLast() {
        precondition(count > 0, "FastScanCodes.removeLast: no items")
        set(item: count - 1, codes: repeatElement(0, count: blocks))
        count -= 1
        if count % 32 == 0 { packed.removeLast(groups * 64) }
    }

    /// The codes back as a CodeMatrix (one byte per code).
    public func unpacked() -> CodeMatrix {
        var m = CodeMatrix(count: count, blocks: blocks, codebookSize: 16)
        for i in 0..<count { for b in 0..<blocks { m.setCode(item: i, block: b, code(item: i, block: b)) } }
        return m
    }

    /// Bytes stored per item, padding included.
    public var bytesPerItem: Double { count == 0 ? 0 : Double(packed.count) / Double(count) }
}

/// Which fast-scan kernel runs: AVX-512BW, AVX2 or portable C, chosen from the CPU.
public enum FastScanKernel: Int, Sendable, CaseIterable {
    case portable = 0, avx2 = 1, avx512 = 2

    /// The kernel in use.
    public static var current: FastScanKernel { FastScanKernel(rawValue: Int(dpq_fs_kernel())) ?? .portable }

    /// Selects `kernel` or the best one below it that the CPU has; returns the one selected.
    /// Process-wide: for tests and benchmarks comparing kernels.
    @discardableResult
    public static func select(_ kernel: FastScanKernel) -> FastScanKernel {
        FastScanKernel(rawValue: Int(dpq_fs_set_kernel(Int32(kernel.rawValue)))) ?? .portable
    }
}
