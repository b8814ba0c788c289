// The byte layouts of the BLOB columns, fixed little-endian so a database file means the
// same on every machine: labels are UInt32s, vectors Float32s, codes raw CodeMatrix bytes.
// Training-data label lists are ragged, so they are stored as [count, label...] per row.

import Foundation

package enum Blobs {
    package static func labels(_ labels: [Int]) -> Data {
        var d = Data(capacity: labels.count * 4)
        for l in labels { withUnsafeBytes(of: UInt32(truncatingIfNeeded: l).littleEndian) { d.append(contentsOf: $0) } }
        return d
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
