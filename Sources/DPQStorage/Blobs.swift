// The byte layouts of the BLOB columns, fixed little-endian so a database file means the
// same on every machine: labels are UInt32s, codes raw CodeMatrix bytes, vectors Float32s, or
// Float16s (a collection with vector_precision float16), or, when every value of the blob is a whole
// number 0...255 (8-bit pixels, whether they came as bytes or as floats), one UInt8 per value: a
// quarter of the disk, and lossless. A reader knows how many values a blob holds (dimension x
// rows), so its length says which layout it has (n, 2n or 4n bytes).
// Training-data label lists are ragged, so they are stored as [count, label...] per row.

import Foundation

package enum Blobs {
    package static func labels(_ labels: [Int]) -> Data {
        var d = Data(capacity: labels.count * 4)
        for l in labels { withUnsafeBytes(of: UInt32(truncatingIfNeeded: l).littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// `labels`' blob written over `bytes` (its capacity kept: a bulk load reuses one buffer).
    package static func setLabels(_ labels: [Int], in bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        for l in labels { withUnsafeBytes(of: UInt32(truncatingIfNeeded: l).littleEndian) { bytes.append(contentsOf: $0) } }
    }

    package static func labels(_ raw: UnsafeRawBufferPointer) -> [Int] {
        let n = raw.count / 4
        return (0..<n).map { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }

    package static func labels(_ data: Data) -> [Int] { data.withUnsafeBytes { labels($0) } }

    package static func floats(_ values: some Collection<Float>) -> Data {
        var d = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// Appends the Float32s of `raw` to `out`.
    package static func appendFloats(_ raw: UnsafeRawBufferPointer, to out: inout [Float]) {
        let n = raw.count / 4
        for i in 0..<n {
            out.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
        }
    }

    package static func floats(_ data: Data) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(data.count / 4)
        data.withUnsafeBytes { appendFloats($0, to: &out) }
        return out
    }

    /// A vector blob: one byte per value when every value is a whole number in 0...255, else
    /// Float16s when `half` (rounded to nearest), else Float32s.
    package static func vector(_ values: some Collection<Float>, half: Bool = false) -> Data {
        guard !values.isEmpty, values.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded(.towardZero) }) else {
            return half ? halves(values) : floats(values)
        }
        return Data(values.map { UInt8($0) })
    }

    package static func halves(_ values: some Collection<Float>) -> Data {
        var d = Data(capacity: values.count * 2)
        for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// Appends the `count` values of a vector blob (either layout) to `out`; false when the blob's
    /// length fits neither (a damaged database).
    package static func appendVector(_ raw: UnsafeRawBufferPointer, count: Int, to out: inout [Float]) -> Bool {
        if raw.count == 4 * count {
            appendFloats(raw, to: &out)
        } else if raw.count == 2 * count {
            for i in 0..<count {
                out.append(Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))))
            }
        } else if raw.count == count {
            out.append(contentsOf: raw.lazy.map { Float($0) })
        } else {
            return false
        }
        return true
    }

    /// The values of a vector blob of `count` values, nil when its length fits neither layout.
    package static func vector(_ data: Data, count: Int) -> [Float]? {
        var out = [Float]()
        out.reserveCapacity(count)
        return data.withUnsafeBytes { appendVector($0, count: count, to: &out) } ? out : nil
    }

    package static func raggedLabels(_ rows: [[Int]]) -> Data {
        var d = Data()
        for row in rows {
            withUnsafeBytes(of: UInt32(row.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(labels(row))
        }
        return d
    }

    package static func raggedLabels(_ data: Data, rows: Int) throws(StorageError) -> [[Int]] {
        let all = labels(data)
        var out = [[Int]]()
        out.reserveCapacity(rows)
        var i = 0
        while i < all.count {
            let n = all[i]
            guard i + 1 + n <= all.count else { break }
            out.append(Array(all[(i + 1)..<(i + 1 + n)]))
            i += 1 + n
        }
        guard out.count == rows, i == all.count else {
            throw StorageError.failedPrecondition("training data: a chunk's labels do not match its \(rows) rows (the database is damaged)")
        }
        return out
    }
}
