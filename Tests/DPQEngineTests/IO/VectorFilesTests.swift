// Tests of the TEXMEX .fvecs/.bvecs/.ivecs reader and writer: round trips, every malformed
// input the reader must reject, and the speed of a 50 MB read.

import DPQEngine
import Foundation
import Testing

@Suite struct VectorFilesTests {
    @Test func fvecsRoundTrip() throws {
        let m = Matrix([[1.5, -2, 0, .greatestFiniteMagnitude], [3, 4, -0.25, 1e-30]])
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("m.fvecs").path
            try VectorFile.writeFvecs(m, to: path)
            #expect(try VectorFile.readFvecs(path) == m)
            #expect(try VectorFile.read(path) == m)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            #expect(size == 2 * (4 + 4 * 4))
        }
    }

    @Test func bvecsRoundTrip() throws {
        let rows: [[UInt8]] = [[0, 1, 255], [128, 7, 9], [3, 3, 3]]
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("b.bvecs").path
            try VectorFile.writeBvecs(rows, to: path)
            let m = try VectorFile.readBvecs(path)
            #expect(m.rows == 3 && m.cols == 3)
            #expect(m.values == rows.flatMap { $0.map(Float.init) })
            #expect(try VectorFile.read(path) == m)
        }
    }

    @Test func ivecsAndLabelsRoundTrip() throws {
        let rows: [[Int32]] = [[1, -2, .max, .min], [5, 6, 7, 8]]
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("i.ivecs").path
            try VectorFile.writeIvecs(rows, to: path)
            #expect(try VectorFile.readIvecs(path) == rows)

            let labelsPath = dir.appendingPathComponent("labels.ivecs").path
            try VectorFile.writeLabels([3, 0, 9, 9], to: labelsPath)
            #expect(try VectorFile.readLabels(labelsPath) == [3, 0, 9, 9])
            #expect(try VectorFile.readIvecs(labelsPath) == [[3], [0], [9], [9]])
        }
    }

    @Test func parsesCraftedBytes() throws {
        let data = Data(leBytes(Int32(2)) + leBytes(floats: [1, 2]) + leBytes(Int32(2)) + leBytes(floats: [3, 4]))
        #expect(try VectorFile.parseFvecs(data) == Matrix([[1, 2], [3, 4]]))
        let labels = Data(leBytes(Int32(1), 7, Int32(1), -1))
        #expect(try VectorFile.parseLabels(labels) == [7, -1])
        // A Data slice whose indices do not start at 0 must parse the same.
        let padded = Data([0xAA, 0xBB]) + data
        #expect(try VectorFile.parseFvecs(padded.dropFirst(2)) == Matrix([[1, 2], [3, 4]]))
    }

    @Test func rejectsMalformedFiles() {
        expectDataFileError("empty file") { _ = try VectorFile.parseFvecs(Data()) }
        expectDataFileError("truncated") { _ = try VectorFile.parseBvecs(Data([1, 0])) }
        expectDataFileError("row 0 has dimension 0") { _ = try VectorFile.parseFvecs(Data(leBytes(Int32(0)))) }
        expectDataFileError("row 0 has dimension -3") { _ = try VectorFile.parseIvecs(Data(leBytes(Int32(-3), 1, 2))) }
        expectDataFileError("row 1 has dimension 3, expected 4") {
            _ = try VectorFile.parseBvecs(Data(leBytes(Int32(4)) + [1, 2, 3, 4] + leBytes(Int32(3)) + [1, 2, 3]))
        }
        expectDataFileError("row 2 has dimension 783, expected 784") {
            var bytes = [UInt8]()
            for d in [784, 784, 783] { bytes += leBytes(Int32(d)) + [UInt8](repeating: 0, count: 784) }
            _ = try VectorFile.parseBvecs(Data(bytes))
        }
        expectDataFileError("truncated", "file size 22 is not a multiple of the record size 12") {
            _ = try VectorFile.parseFvecs(Data(leBytes(Int32(2)) + leBytes(floats: [1, 2]) + leBytes(Int32(2)) + leBytes(floats: [3]) + [0, 0]))
        }
        expectDataFileError("truncated", "row 1 header") {
            _ = try VectorFile.parseFvecs(Data(leBytes(Int32(1)) + leBytes(floats: [1]) + [1, 0]))
        }
        expectDataFileError("labels file must have dimension 1, found dimension 2") {
            _ = try VectorFile.parseLabels(Data(leBytes(Int32(2), 1, 2)))
        }
    }

    @Test func fileLevelErrorsNameThePath() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let missing = dir.appendingPathComponent("missing.fvecs").path
            do {
                _ = try VectorFile.readFvecs(missing)
                Issue.record("reading a missing file succeeded")
            } catch let e as DataFileError {
                #expect(e.path == missing)
                #expect(e.message.contains("does not exist"))
                #expect(e.description.contains(missing))
            }
            expectDataFileError("is a directory") { _ = try VectorFile.readBvecs(dir.path) }
            expectDataFileError("unsupported file type", ".txt") { _ = try VectorFile.read(dir.appendingPathComponent("x.txt").path) }
            expectDataFileError("no extension") { _ = try VectorFile.read(dir.appendingPathComponent("x").path) }

            let bad = dir.appendingPathComponent("bad.fvecs")
            try Data(leBytes(Int32(2), 1)).write(to: bad)
            do {
                _ = try VectorFile.read(bad.path)
                Issue.record("reading a truncated file succeeded")
            } catch let e as DataFileError {
                #expect(e.path == bad.path)
                #expect(e.message.contains("truncated"))
            }
        }
    }

    @Test func writersRejectUnreadableContent() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("w.ivecs").path
            expectDataFileError("zero rows") { try VectorFile.writeIvecs([], to: path) }
            expectDataFileError("dimension 0") { try VectorFile.writeBvecs([[]], to: path) }
            expectDataFileError("row 1 has dimension 1, expected 2") { try VectorFile.writeIvecs([[1, 2], [3]], to: path) }
            expectDataFileError("does not fit in int32") { try VectorFile.writeLabels([1 << 40], to: path) }
            expectDataFileError("dimension 0") { try VectorFile.writeFvecs(Matrix(rows: 2, cols: 0), to: path) }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    /// A file of the Fashion-MNIST training split's size (64000 x 784 bvecs, 50 MB) parses whole;
    /// its speed is `dpq-bench read-vectors`'s business, not a unit test's.
    @Test func readsFiftyMegabytes() throws {
        let rows = 64000, d = 784, record = 4 + d
        var data = Data(count: rows * record)
        data.withUnsafeMutableBytes { raw in
            for r in 0..<rows {
                raw.storeBytes(of: Int32(d).littleEndian, toByteOffset: r * record, as: Int32.self)
                raw[r * record + 4 + r % d] = UInt8(truncatingIfNeeded: r)
            }
        }
        let m = try VectorFile.parseBvecs(data)
        #expect(m.rows == rows && m.cols == d)
        #expect(m[12345, 12345 % d] == Float(UInt8(truncatingIfNeeded: 12345)))
        #expect(m[12345, (12345 % d + 1) % d] == 0)
    }
}
