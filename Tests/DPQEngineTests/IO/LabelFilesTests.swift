// Label files: one class id per row, or 0/1 indicator rows for several labels per item.

import DPQEngine
import Foundation
import Testing

@Suite struct LabelFilesTests {
    @Test func classIdsAndIndicatorRows() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
            try NumpyFile.writeLabels([3, 0, 9], to: path("ids.npy"))
            #expect(try LabelFile.read(path("ids.npy")) == [[3], [0], [9]])
            try NumpyFile.write(NumpyArray(dtype: .int32, shape: [2, 1], data: leBytes(Int32(4), Int32(1))), to: path("col.npy"))
            #expect(try LabelFile.read(path("col.npy")) == [[4], [1]])

            let rows: [UInt8] = [0, 1, 1, 0,  0, 0, 0, 0,  1, 1, 1, 1]
            try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [3, 4], data: rows), to: path("u1.npy"))
            #expect(try LabelFile.read(path("u1.npy")) == [[1, 2], [], [0, 1, 2, 3]])
            try NumpyFile.write(NumpyArray(dtype: .bool, shape: [3, 4], data: rows), to: path("b1.npy"))
            #expect(try LabelFile.read(path("b1.npy")) == [[1, 2], [], [0, 1, 2, 3]])
            try NumpyFile.write(NumpyArray(dtype: .int64, shape: [1, 3], data: leBytes(Int64(1), Int64(0), Int64(1))), to: path("i8.npy"))
            #expect(try LabelFile.read(path("i8.npy")) == [[0, 2]])

            try VectorFile.writeLabels([2, 5], to: path("ids.ivecs"))
            #expect(try LabelFile.read(path("ids.ivecs")) == [[2], [5]])
            try VectorFile.writeIvecs([[1, 0, 1], [0, 1, 0]], to: path("sets.ivecs"))
            #expect(try LabelFile.read(path("sets.ivecs")) == [[0, 2], [1]])
        }
    }

    @Test func ambiguousOrWrongLabelsAreErrors() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
            // Two class ids per row is not an indicator row: said so, with row and column.
            try NumpyFile.write(NumpyArray(dtype: .int64, shape: [2, 2], data: leBytes(Int64(0), Int64(1), Int64(7), Int64(1))), to: path("pairs.npy"))
            expectDataFileError("0/1 indicator rows", "row 1 column 0 is 7") { _ = try LabelFile.read(path("pairs.npy")) }
            try VectorFile.writeIvecs([[1, 3]], to: path("pairs.ivecs"))
            expectDataFileError("row 0 column 1 is 3") { _ = try LabelFile.read(path("pairs.ivecs")) }
            try NumpyFile.write(Matrix([[1, 0], [0, 1]]), to: path("f.npy"))
            expectDataFileError("integers or bool") { _ = try LabelFile.read(path("f.npy")) }
            try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [1, 2, 2], data: [0, 1, 1, 0]), to: path("3d.npy"))
            expectDataFileError("labels must have shape") { _ = try LabelFile.read(path("3d.npy")) }
            do {
                _ = try LabelFile.read(path("pairs.npy"))
            } catch let e as DataFileError {
                #expect(e.path == path("pairs.npy"))
            }
        }
    }
}
