// Label files: one label per item, or several (multi-label data).
//
//   .npy   shape (n,) or (n, 1), integers: one class id per row.
//          shape (n, L) with L >= 2, integers or bool: 0/1 indicator rows (row i has label j
//          when [i, j] is 1), the usual multi-label target matrix (NUS-WIDE, scikit-learn's
//          MultiLabelBinarizer); L is the number of classes. A row of zeros has no label.
//   .ivecs d = 1: one class id per row; d >= 2: 0/1 indicator rows, as for .npy. Files with any
//          other extension are read as .ivecs, as the CLI always has.
//
// Any other value in an indicator row is an error naming its row and column: a (n, 2) array
// of class ids would otherwise be read as indicators silently.

import Foundation

public enum LabelFile {
    /// The labels of each row: .npy by its extension, .ivecs otherwise.
    public static func read(_ path: String) throws -> [[Int]] {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "npy":
            let array = try NumpyFile.read(path)
            return try DataFileError.attributed(to: path) { try labelSets(array) }
        default:
            // .ivecs, and any other name (read as .ivecs, as the CLI always has).
            let rows = try VectorFile.readIvecs(path)
            return try DataFileError.attributed(to: path) {
                if rows.first?.count == 1 { return rows.map { [Int($0[0])] } }
                return try indicators(rows: rows.count, cols: rows.first?.count ?? 0, values: rows.flatMap { $0.map(Int.init) })
            }
        }
    }

    /// Class ids of a 1-D or (n, 1) array, indicator rows of an (n, L >= 2) one.
    public static func labelSets(_ array: NumpyArray) throws -> [[Int]] {
        if array.shape.count == 1 || (array.shape.count == 2 && array.shape[1] == 1) {
            return try array.labels().map { [$0] }
        }
        guard array.shape.count == 2 else {
            throw DataFileError("labels must have shape (n,), (n, 1) or (n, classes) of 0/1 indicators, found \(NumpyArray.describe(array.shape))")
        }
        guard array.dtype != .float32, array.dtype != .float64 else {
            throw DataFileError("labels must be integers or bool, found dtype \(array.dtype.rawValue)")
        }
        return try indicators(rows: array.shape[0], cols: array.shape[1], values: array.ints())
    }

    /// Row-major 0/1 values to the column indices of the 1s of each row.
    static func indicators(rows: Int, cols: Int, values: [Int]) throws -> [[Int]] {
        var out: [[Int]] = []
        out.reserveCapacity(rows)
        for r in 0..<rows {
            var set: [Int] = []
            for c in 0..<cols {
                switch values[r * cols + c] {
                case 0: break
                case 1: set.append(c)
                case let v:
                    throw DataFileError("labels of \(cols) columns are 0/1 indicator rows (multi-label), but row \(r) column \(c) is \(v); "
                                        + "one class id per row needs shape (n,) or (n, 1)")
                }
            }
            out.append(set)
        }
        return out
    }
}
