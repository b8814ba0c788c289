// Tests of the .npy reader and writer on crafted bytes: round trips of every dtype, header
// parsing details (versions, spacing, byte order, Fortran order) and every rejected input.
// PythonInteropTests cross-checks the same code against numpy itself.

import DPQEngine
import Foundation
import Testing

/// An .npy file with the given version, header text (padding and '\n' added) and data.
func npyFile(major: UInt8 = 1, header: String, data: [UInt8]) -> Data {
    var text = Array(header.utf8)
    let preamble = major == 1 ? 10 : 12
    text += [UInt8](repeating: 0x20, count: (64 - (preamble + text.count + 1) % 64) % 64) + [0x0A]
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
    bytes += major == 1 ? leBytes(UInt16(text.count)) : leBytes(UInt32(text.count))
    return Data(bytes + text + data)
}

@Suite struct NumpyFileTests {
    @Test func matrixRoundTripAndAlignment() throws {
        let m = Matrix([[1, 2, 3], [-4.5, 0, .infinity]])
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("m.npy").path
            try NumpyFile.write(m, to: path)
            #expect(try NumpyFile.readMatrix(path) == m)
            #expect(try VectorFile.read(path) == m)
            let array = try NumpyFile.read(path)
            #expect(array.dtype == .float32 && array.shape == [2, 3])

            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            #expect((10 + headerLength) % 64 == 0)
            #expect(bytes[10 + headerLength - 1] == 0x0A)
            #expect(bytes.count == 10 + headerLength + 24)
        }
    }

    @Test func labelsRoundTrip() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("labels.npy").path
            try NumpyFile.writeLabels([0, 9, -1, 1 << 40], to: path)
            #expect(try NumpyFile.readLabels(path) == [0, 9, -1, 1 << 40])
            let array = try NumpyFile.read(path)
            #expect(array.dtype == .int64 && array.shape == [4])
            // 1-D arrays read as a matrix become n x 1.
            let m = try NumpyFile.readMatrix(path)
            #expect(m.rows == 4 && m.cols == 1 && m[1, 0] == 9)
        }
    }

    @Test(arguments: NumpyArray.DType.allCases)
    func everyDTypeRoundTrips(_ dtype: NumpyArray.DType) throws {
        let count = 6
        let bytes = (0..<(count * dtype.size)).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        for shape in [[2, 3], [6], [0, 3]] {
            let n = shape.reduce(1, *)
            let array = try NumpyArray(dtype: dtype, shape: shape, data: Array(bytes.prefix(n * dtype.size)))
            let parsed = try NumpyFile.parse(NumpyFile.serialized(array))
            #expect(parsed == array)
        }
    }

    @Test func conversions() throws {
        let ints = try NumpyArray(dtype: .int32, shape: [2, 2], data: leBytes(Int32(-1), 2, 3, 40000))
        #expect(ints.floats() == [-1, 2, 3, 40000])
        #expect(try ints.ints() == [-1, 2, 3, 40000])
        #expect(ints.matrix() == Matrix([[-1, 2], [3, 40000]]))
        let doubles = try NumpyArray(dtype: .float64, shape: [2], data: withUnsafeBytes(of: 0.5.bitPattern.littleEndian) { Array($0) } + withUnsafeBytes(of: (-2.0).bitPattern.littleEndian) { Array($0) })
        #expect(doubles.floats() == [0.5, -2])
        expectDataFileError("expected an integer array, found dtype float64") { _ = try doubles.ints() }
        expectDataFileError("labels must have shape (n,) or (n, 1), found (2, 2)") { _ = try ints.labels() }
        let column = try NumpyArray(dtype: .uint8, shape: [3, 1], data: [4, 5, 6])
        #expect(try column.labels() == [4, 5, 6])
        expectDataFileError("needs 12 bytes, got 11") { _ = try NumpyArray(dtype: .float32, shape: [3], data: [UInt8](repeating: 0, count: 11)) }
    }

    @Test func headerVariants() throws {
        let data = leBytes(floats: [1, 2, 3, 4, 5, 6])
        // Spacing, double quotes, key order, Python 2 'L' suffixes, no trailing comma.
        let headers = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            "{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}",
            "{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L)}",
        ]
        for header in headers {
            for major: UInt8 in [1, 2, 3] {
                let array = try NumpyFile.parse(npyFile(major: major, header: header, data: data))
                #expect(array.shape == [2, 3])
                #expect(array.matrix() == Matrix([[1, 2, 3], [4, 5, 6]]), "header \(header) v\(major)")
            }
        }
        let oneD = try NumpyFile.parse(npyFile(header: "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data: leBytes(Int32(7), 8, 9)))
        #expect(try oneD.labels() == [7, 8, 9])
    }

    @Test func bigEndianIsByteSwapped() throws {
        let be: [UInt8] = [1.5, -2].flatMap { (v: Float) in withUnsafeBytes(of: v.bitPattern.bigEndian) { Array($0) } }
        let f = try NumpyFile.parse(npyFile(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: be))
        #expect(f.floats() == [1.5, -2])
        let i: [UInt8] = [Int64(-5), 1 << 40].flatMap { v in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        let ints = try NumpyFile.parse(npyFile(header: "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", data: i))
        #expect(try ints.ints() == [-5, 1 << 40])
    }

    @Test func fortranOrderIsTransposed() throws {
        // The 2 x 3 array [[1, 2, 3], [4, 5, 6]] stored column by column.
        let array = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                                data: leBytes(floats: [1, 4, 2, 5, 3, 6])))
        #expect(array.matrix() == Matrix([[1, 2, 3], [4, 5, 6]]))
    }

    @Test func rejectsMalformedFiles() {
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
        let four = leBytes(floats: [1, 2, 3, 4])
        expectDataFileError("bad magic") { _ = try NumpyFile.parse(Data("PK\u{3}\u{4}not numpy".utf8)) }
        expectDataFileError("bad magic") { _ = try NumpyFile.parse(Data()) }
        expectDataFileError("unsupported .npy format version 4.0") {
            var d = npyFile(header: good, data: four); d[6] = 4
            _ = try NumpyFile.parse(d)
        }
        expectDataFileError("truncated", "header length") {
            _ = try NumpyFile.parse(npyFile(header: good, data: []).prefix(40))
        }
        expectDataFileError("truncated", "header length is cut off") {
            _ = try NumpyFile.parse(npyFile(major: 2, header: good, data: []).prefix(10))
        }
        expectDataFileError("malformed .npy header", "not a dict") {
            _ = try NumpyFile.parse(npyFile(header: "('<f4', False, (2, 2))", data: four))
        }
        expectDataFileError("malformed .npy header", "unexpected character") {
            _ = try NumpyFile.parse(npyFile(header: "{descr: '<f4', 'fortran_order': False, 'shape': (2, 2)}", data: four))
        }
        expectDataFileError("malformed .npy header", "missing") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", data: four))
        }
        expectDataFileError("malformed .npy header", "unterminated string") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4", data: four))
        }
        expectDataFileError("malformed .npy header", "missing key 'shape'") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False}", data: four))
        }
        expectDataFileError("malformed .npy header", "missing key 'descr'") {
            _ = try NumpyFile.parse(npyFile(header: "{'fortran_order': False, 'shape': (2, 2)}", data: four))
        }
        expectDataFileError("'fortran_order' is not True or False") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2)}", data: four))
        }
        expectDataFileError("'shape' is not a tuple") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': 4}", data: four))
        }
        expectDataFileError("bad integer") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 2)}", data: four))
        }
        expectDataFileError("nesting deeper") {
            _ = try NumpyFile.parse(npyFile(header: String(repeating: "(", count: 10000), data: four))
        }
        expectDataFileError("unsupported npy dtype '<c8'") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", data: [UInt8](repeating: 0, count: 16)))
        }
        expectDataFileError("unsupported npy dtype", "structured") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (4,), }", data: four))
        }
        expectDataFileError("truncated .npy data", "needs 16 bytes, file has 12") {
            _ = try NumpyFile.parse(npyFile(header: good, data: Array(four.prefix(12))))
        }
        expectDataFileError("4 unexpected bytes after the array data") {
            _ = try NumpyFile.parse(npyFile(header: good, data: four + [0, 0, 0, 0]))
        }
        expectDataFileError("negative dimension -2") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", data: four))
        }
        expectDataFileError("too large") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", data: four))
        }
        expectDataFileError("only 1-D to 4-D arrays are supported") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 2, 1), }", data: four))
        }
        expectDataFileError("0-D arrays are not supported") {
            _ = try NumpyFile.parse(npyFile(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: Array(four.prefix(4))))
        }
    }

    /// Images N x H x W x C (and N x H x W): each is one row of H * W * C values in HWC order.
    @Test func imageArraysFlattenInHWCOrder() throws {
        let bytes = (0..<24).map { UInt8($0 * 3) }
        let four = try NumpyFile.parse(npyFile(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3, 2), }", data: bytes))
        #expect(four.shape == [2, 2, 3, 2] && four.imageShape! == (2, 3, 2))
        let m = four.matrix()
        #expect(m.rows == 2 && m.cols == 12 && m.values == bytes.map(Float.init))
        // Pixel (y 1, x 2) channel 1 of image 1: column (1 * 3 + 2) * 2 + 1 = 11.
        #expect(m[1, 11] == Float(bytes[12 + 11]))
        let three = try NumpyFile.parse(npyFile(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 4), }", data: bytes))
        #expect(three.imageShape! == (2, 4, 1) && three.matrix().cols == 8)
        #expect(try NumpyFile.parse(npyFile(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 6), }", data: bytes)).imageShape == nil)

        // Fortran order: element (i, j, k, l) of shape (a, b, c, d) at i + a * (j + b * (k + c * l)).
        let shape = [2, 2, 3, 2]
        var fortran = [UInt8](repeating: 0, count: 24)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<3 { for l in 0..<2 {
            fortran[i + 2 * (j + 2 * (k + 3 * l))] = bytes[((i * 2 + j) * 3 + k) * 2 + l]
        } } } }
        let f = try NumpyFile.parse(npyFile(header: "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 3, 2), }", data: fortran))
        #expect(f.shape == shape && f.data == bytes)

        // Written and read back as float32 images.
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("images.npy").path
            let floats = try NumpyArray(dtype: .float32, shape: shape, data: leBytes(floats: bytes.map { Float($0) / 255 }))
            try NumpyFile.write(floats, to: path)
            #expect(try VectorFile.read(path) == Matrix(rows: 2, cols: 12, values: bytes.map { Float($0) / 255 }))
        }
    }

    @Test func labelsFromFloatFileAreRejectedWithPath() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("f.npy").path
            try NumpyFile.write(Matrix([[1], [2]]), to: path)
            do {
                _ = try NumpyFile.readLabels(path)
                Issue.record("float labels were accepted")
            } catch let e as DataFileError {
                #expect(e.path == path)
                #expect(e.message.contains("integer"))
            }
        }
    }
}
