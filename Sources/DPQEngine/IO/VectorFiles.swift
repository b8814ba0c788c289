// TEXMEX vector files (.fvecs, .bvecs, .ivecs), as distributed with SIFT1M/GIST1M.
// Each row is a little-endian int32 dimension d followed by d elements: float32 (.fvecs),
// uint8 (.bvecs) or int32 (.ivecs). There is no global header, so the row count is only
// known from the file size, and every row repeats d; all rows must agree and d must be > 0.
// An empty file is rejected: it cannot say what its dimension is.

import Foundation

public enum VectorFile {
    // MARK: Reading files

    public static func readFvecs(_ path: String) throws -> Matrix {
        try DataFileError.attributed(to: path) { try parseFvecs(DataFileAccess.read(path)) }
    }

    /// Elements are converted to Float unscaled (0...255).
    public static func readBvecs(_ path: String) throws -> Matrix {
        try DataFileError.attributed(to: path) { try parseBvecs(DataFileAccess.read(path)) }
    }

    public static func readIvecs(_ path: String) throws -> [[Int32]] {
        try DataFileError.attributed(to: path) { try parseIvecs(DataFileAccess.read(path)) }
    }

    /// One label per row: an .ivecs file with d = 1.
    public static func readLabels(_ path: String) throws -> [Int] {
        try DataFileError.attributed(to: path) { try parseLabels(DataFileAccess.read(path)) }
    }

    /// Reads a matrix, choosing the format from the extension: .fvecs, .bvecs or .npy.
    public static func read(_ path: String) throws -> Matrix {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "fvecs": return try readFvecs(path)
        case "bvecs": return try readBvecs(path)
        case "npy": return try NumpyFile.readMatrix(path)
        default:
            let shown = ext.isEmpty ? "no extension" : "extension '.\(ext)'"
            throw DataFileError("unsupported file type (\(shown)); expected .fvecs, .bvecs or .npy", path: path)
        }
    }

    // MARK: Parsing bytes

    public static func parseFvecs(_ data: Data) throws -> Matrix {
        let layout = try scan(data, elementSize: 4)
        let values = data.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: layout.rows * layout.dimension) { out, initialized in
                var o = 0
                for r in 0..<layout.rows {
                    var p = r * layout.recordSize + 4
                    for _ in 0..<layout.dimension {
                        out[o] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
                        o += 1
                        p += 4
                    }
                }
                initialized = o
            }
        }
        return Matrix(rows: layout.rows, cols: layout.dimension, values: values)
    }

    public static func parseBvecs(_ data: Data) throws -> Matrix {
        let layout = try scan(data, elementSize: 1)
        let values = data.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: layout.rows * layout.dimension) { out, initialized in
                var o = 0
                for r in 0..<layout.rows {
                    let start = r * layout.recordSize + 4
                    for p in start..<(start + layout.dimension) {
                        out[o] = Float(raw[p])
                        o += 1
                    }
                }
                initialized = o
            }
        }
        return Matrix(rows: layout.rows, cols: layout.dimension, values: values)
    }

    public static func parseIvecs(_ data: Data) throws -> [[Int32]] {
        let layout = try scan(data, elementSize: 4)
        return data.withUnsafeBytes { raw in
            (0..<layout.rows).map { r in
                let start = r * layout.recordSize + 4
                return [Int32](unsafeUninitializedCapacity: layout.dimension) { out, initialized in
                    for j in 0..<layout.dimension {
                        out[j] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * j, as: Int32.self))
                    }
                    initialized = layout.dimension
                }
            }
        }
    }

    public static func parseLabels(_ data: Data) throws -> [Int] {
        let layout = try scan(data, elementSize: 4)
        guard layout.dimension == 1 else {
            throw DataFileError("a labels file must have dimension 1, found dimension \(layout.dimension)")
        }
        return data.withUnsafeBytes { raw in
            (0..<layout.rows).map { r in
                Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: r * 8 + 4, as: Int32.self)))
            }
        }
    }

    // MARK: Writing

    public static func writeFvecs(_ m: Matrix, to path: String) throws {
        try DataFileError.attributed(to: path) {
            try checkWritable(rows: m.rows, dimensions: [m.cols])
            var data = Data(capacity: m.rows * (4 + 4 * m.cols))
            let header = Int32(m.cols).littleEndian
            for r in 0..<m.rows {
                appendRaw(header, to: &data)
                let bits = m.row(r).map { $0.bitPattern.littleEndian }
                bits.withUnsafeBytes { data.append(contentsOf: $0) }
            }
            try DataFileAccess.writeAtomically(data, to: path)
        }
    }

    public static func writeIvecs(_ rows: [[Int32]], to path: String) throws {
        try DataFileError.attributed(to: path) {
            try checkWritable(rows: rows.count, dimensions: rows.map(\.count))
            var data = Data(capacity: rows.count * (4 + 4 * rows[0].count))
            for row in rows {
                appendRaw(Int32(row.count).littleEndian, to: &data)
                let little = row.map(\.littleEndian)
                little.withUnsafeBytes { data.append(contentsOf: $0) }
            }
            try DataFileAccess.writeAtomically(data, to: path)
        }
    }

    public static func writeBvecs(_ rows: [[UInt8]], to path: String) throws {
        try DataFileError.attributed(to: path) {
            try checkWritable(rows: rows.count, dimensions: rows.map(\.count))
            var data = Data(capacity: rows.count * (4 + rows[0].count))
            for row in rows {
                appendRaw(Int32(row.count).littleEndian, to: &data)
                data.append(contentsOf: row)
            }
            try DataFileAccess.writeAtomically(data, to: path)
        }
    }

    /// Writes one label per row as an .ivecs file with d = 1.
    public static func writeLabels(_ labels: [Int], to path: String) throws {
        try DataFileError.attributed(to: path) {
            let rows = try labels.enumerated().map { i, label -> [Int32] in
                guard let v = Int32(exactly: label) else {
                    throw DataFileError("label \(label) at row \(i) does not fit in int32")
                }
                return [v]
            }
            try writeIvecs(rows, to: path)
        }
    }

    // MARK: Layout

    private struct Layout {
        var rows: Int
        var dimension: Int
        var recordSize: Int
    }

    /// Validates every row header before any element is converted, so the conversion loops
    /// can run without bounds worries and errors name the first bad row.
    private static func scan(_ data: Data, elementSize: Int) throws -> Layout {
        let size = data.count
        guard size > 0 else { throw DataFileError("empty file: no rows, so no dimension") }
        guard size >= 4 else { throw DataFileError("truncated file: \(size) bytes, shorter than one 4-byte row header") }
        return try data.withUnsafeBytes { raw -> Layout in
            let d = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: Int32.self)))
            guard d > 0 else { throw DataFileError("row 0 has dimension \(d); the dimension must be positive") }
            let recordSize = 4 + d * elementSize
            var offset = 0
            var row = 0
            while offset < size {
                guard size - offset >= 4 else {
                    throw DataFileError("truncated file: row \(row) header at byte \(offset) is cut off "
                                        + "(file size \(size) is not a multiple of the record size \(recordSize))")
                }
                let dr = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                guard dr == d else { throw DataFileError("row \(row) has dimension \(dr), expected \(d)") }
                guard size - offset >= recordSize else {
                    throw DataFileError("truncated file: row \(row) has \(size - offset - 4) of its \(d * elementSize) data bytes "
                                        + "(file size \(size) is not a multiple of the record size \(recordSize))")
                }
                offset += recordSize
                row += 1
            }
            return Layout(rows: row, dimension: d, recordSize: recordSize)
        }
    }

    private static func checkWritable(rows: Int, dimensions: [Int]) throws {
        guard rows > 0 else { throw DataFileError("cannot write zero rows: an empty vector file has no dimension and is unreadable") }
        guard let d = dimensions.first, d > 0 else { throw DataFileError("cannot write rows of dimension 0") }
        guard d <= Int(Int32.max) else { throw DataFileError("dimension \(d) does not fit in the int32 row header") }
        if let bad = dimensions.firstIndex(where: { $0 != d }) {
            throw DataFileError("row \(bad) has dimension \(dimensions[bad]), expected \(d)")
        }
    }

    private static func appendRaw<T>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value) { data.append(contentsOf: $0) }
    }
}
