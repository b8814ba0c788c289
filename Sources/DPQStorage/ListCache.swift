// The inverted list of every item as of the last start, kept beside the items so that the next
// start assigns only the items that changed since. An item's list is a function of its code,
// the codebooks and the coarse centroids alone, so an entry is reused exactly when
//     the digest of the codebooks and centroids is the one the entry was computed under,
//     the item's storage row (SQLite rowid, never reused) is the entry's, and its code is the same;
// everything else (new rows, rewritten codes, another model or other centroids) is assigned
// again. Rows and entries are both in ascending rowid order, so matching them is one merge.
// At 10M items onto 4,096 lists, assigning costs about 15 s of the 2 cores; 100M onto 8,192
// lists, minutes (see docs/benchmarks.md).
//
// File (little-endian): "DPQLIST1", digest u64, count u64, code width u64, then count rowids
// (i64), count codes (width bytes each), count lists (u32). Written atomically; a file that does
// not parse is ignored (the lists are computed instead), never trusted.

import Foundation
import DPQEngine

public struct ListCache: Sendable, Equatable {
    public var digest: UInt64
    public var width: Int
    /// Ascending.
    public var rowids: [Int64]
    /// width bytes per entry.
    public var codes: [UInt8]
    public var lists: [UInt32]

    static let magic = Array("DPQLIST1".utf8)
    public static let fileName = "lists.cache"

    public init(digest: UInt64, width: Int, rowids: [Int64], codes: [UInt8], lists: [UInt32]) {
        precondition(codes.count == rowids.count * width && lists.count == rowids.count, "ListCache: parts of different lengths")
        self.digest = digest
        self.width = width
        self.rowids = rowids
        self.codes = codes
        self.lists = lists
    }

    /// The digest of what lists depend on besides the codes: the codebooks and the centroids.
    public static func digest(codebooks: Codebooks, centroids: Matrix) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: UInt64) { h = (h ^ v) &* 0x0000_0100_0000_01B3 }
        for v in [codebooks.blocks, codebooks.size, codebooks.dimension, centroids.rows, centroids.cols] { mix(UInt64(v)) }
        for v in codebooks.values { mix(UInt64(v.bitPattern)) }
        for v in centroids.values { mix(UInt64(v.bitPattern)) }
        return h
    }

    /// For each row (ascending `rowids`, codes of `width` bytes each), the cached list when the
    /// rowid and code match an entry, else -1. Nil when the digest or width differ.
    public func lists(rowids rows: [Int64], codes rowCodes: [UInt8], width rowWidth: Int, digest d: UInt64) -> [Int32]? {
        guard d == digest, rowWidth == width, rowCodes.count == rows.count * width else { return nil }
        var out = [Int32](repeating: -1, count: rows.count)
        var j = 0
        codes.withUnsafeBufferPointer { cached in
            rowCodes.withUnsafeBufferPointer { current in
                for (i, rowid) in rows.enumerated() {
                    while j < rowids.count && rowids[j] < rowid { j += 1 }
                    guard j < rowids.count, rowids[j] == rowid else { continue }
                    if memcmp(cached.baseAddress! + j * width, current.baseAddress! + i * width, width) == 0 {
                        out[i] = Int32(clamping: lists[j])  // a damaged value is caught by the caller's range check
                    }
                }
            }
        }
        return out
    }

    /// The file's parts: header, rowids, codes, lists (written one after the other, not joined).
    public var fileParts: [any ContiguousBytes] {
        var header = Data(Self.magic)
        for v in [digest, UInt64(rowids.count), UInt64(width)] { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        return [header, ArrayBytes(array: rowids), codes, ArrayBytes(array: lists)]
    }

    public func encoded() -> Data {
        var d = Data(capacity: 32 + rowids.count * (12 + width))
        for part in fileParts { part.withUnsafeBytes { d.append(contentsOf: $0) } }
        return d
    }

    /// Nil unless `data` is a whole, well-formed cache.
    public init?(decoding data: Data) {
        self.init(size: data.count) { buffer, offset in
            data.withUnsafeBytes { raw in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + buffer.count)])) }
            return true
        }
    }

    /// Nil unless the file at `path` is a whole, well-formed cache. Read straight into the arrays:
    /// mapping the file and copying out of it held the cache twice at once, at a restart's peak
    /// memory (20 B per item each: 2 GB at 100M items).
    public init?(contentsOfFile path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        self.init(size: Int(info.st_size)) { buffer, offset in
            var done = 0
            while done < buffer.count {
                let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if n <= 0 { return false }
                done += n
            }
            return true
        }
    }

    /// Parses `size` bytes that `read(buffer, offset)` copies into each buffer from the offset given.
    private init?(size: Int, read: (UnsafeMutableRawBufferPointer, Int) -> Bool) {
        func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool { buffer.count == 0 || read(buffer, offset) }
        guard size >= 32 else { return nil }
        var header = [UInt8](repeating: 0, count: 32)
        guard header.withUnsafeMutableBytes({ fill($0, at: 0) }), Array(header.prefix(8)) == Self.magic else { return nil }
        func u64(_ at: Int) -> UInt64 { header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
        let count = u64(16), width = u64(24)
        guard count <= UInt64(size), width >= 1, width <= 4096,
              UInt64(size) == 32 + count * (12 + width) else { return nil }
        let n = Int(count), w = Int(width)
        var rowids = [Int64](repeating: 0, count: n), lists = [UInt32](repeating: 0, count: n)
        var codes = [UInt8](repeating: 0, count: n * w)
        guard rowids.withUnsafeMutableBytes({ fill($0, at: 32) }), codes.withUnsafeMutableBytes({ fill($0, at: 32 + 8 * n) }),
              lists.withUnsafeMutableBytes({ fill($0, at: 32 + 8 * n + w * n) }) else { return nil }
        guard zip(rowids, rowids.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        self.init(digest: u64(8), width: w, rowids: rowids, codes: codes, lists: lists)
    }
}

/// An array's elements as raw bytes, for writing without a copy into Data.
private struct ArrayBytes<Element>: ContiguousBytes {
    let array: [Element]
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try array.withUnsafeBytes(body) }
}
