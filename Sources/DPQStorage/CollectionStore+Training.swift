// The training sets of a collection, kept apart from the items: vectors sent for training
// need not be searchable, and a training must read the same data however long it runs.
// A collection may hold several named datasets; each is stored in chunks (one per append) so
// that appending never rewrites earlier data, and an upload is written in one transaction.

import Foundation
import GRDB
import DPQEngine

/// What is stored under one dataset name.
public struct DatasetInfo: Sendable, Equatable {
    public var name: String
    public var rows: Int
    public var labelledRows: Int
    public var bytes: Int
    public var updatedAtUnixMs: Int64

    public init(name: String, rows: Int, labelledRows: Int, bytes: Int, updatedAtUnixMs: Int64) {
        self.name = name
        self.rows = rows
        self.labelledRows = labelledRows
        self.bytes = bytes
        self.updatedAtUnixMs = updatedAtUnixMs
    }
}

extension CollectionStore {
    /// Writes an upload in one transaction: `replace` drops the dataset's earlier rows first.
    public func writeTrainingData(dataset: String, chunks: [(Matrix, [[Int]])], replace: Bool) throws {
        for (v, l) in chunks { try config.checkTrainingChunk(v, l) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try write("store training data '\(dataset)' in '\(config.name)'") { db in
            if replace { try db.execute(sql: "DELETE FROM training_data WHERE dataset = ?", arguments: [dataset]) }
            for (vectors, labels) in chunks where vectors.rows > 0 {
                let rows = labels.isEmpty ? [[Int]](repeating: [], count: vectors.rows) : labels
                try db.execute(sql: """
                    INSERT INTO training_data (dataset, row_count, labelled_rows, updated_at_ms, vectors, labels) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [dataset, vectors.rows, rows.filter { !$0.isEmpty }.count, now,
                                     Blobs.vector(vectors.values), Blobs.raggedLabels(rows)])
            }
        }
    }

    /// All rows of a dataset, in the order they were appended.
    public func trainingData(dataset: String) throws -> (Matrix, [[Int]]) {
        let d = config.model.inputDimension
        return try read("read the training data of '\(config.name)'") { db in
            var values = [Float]()
            var labels = [[Int]]()
            let rows = try Row.fetchCursor(db, sql: "SELECT row_count, vectors, labels FROM training_data WHERE dataset = ? ORDER BY chunk",
                                           arguments: [dataset])
            while let row = try rows.next() {
                let n: Int = row[0]
                let vectors: Data = row[1]
                guard vectors.withUnsafeBytes({ Blobs.appendVector($0, count: n * d, to: &values) }) else {
                    throw StorageError.failedPrecondition("training data of '\(config.name)': a chunk has \(vectors.count) bytes for \(n) rows of \(d) values (the database is damaged)")
                }
                labels.append(contentsOf: try Blobs.raggedLabels(row[2], rows: n))
            }
            return (Matrix(rows: labels.count, cols: d, values: values), labels)
        }
    }

    public func trainingDataCount(dataset: String) throws -> Int {
        try read("count the training data of '\(config.name)'") {
            try Int.fetchOne($0, sql: "SELECT COALESCE(SUM(row_count), 0) FROM training_data WHERE dataset = ?", arguments: [dataset]) ?? 0
        }
    }

    /// Every dataset, by name.
    public func datasets() throws -> [DatasetInfo] {
        try read("list the training data of '\(config.name)'") { db in
            try Row.fetchAll(db, sql: """
                SELECT dataset, SUM(row_count), SUM(labelled_rows), SUM(length(vectors) + length(labels)), MAX(updated_at_ms)
                FROM training_data GROUP BY dataset ORDER BY dataset
                """).map { r in
                DatasetInfo(name: r[0], rows: r[1], labelledRows: r[2], bytes: r[3] ?? 0, updatedAtUnixMs: r[4] ?? 0)
            }
        }
    }

    /// Deletes a dataset; false when it did not exist.
    @discardableResult
    public func deleteTrainingData(dataset: String) throws -> Bool {
        try write("delete training data '\(dataset)' of '\(config.name)'") { db in
            try db.execute(sql: "DELETE FROM training_data WHERE dataset = ?", arguments: [dataset])
            return db.changesCount > 0
        }
    }

    /// Deletes every dataset.
    public func clearTrainingData() throws {
        try write("clear the training data of '\(config.name)'") { try $0.execute(sql: "DELETE FROM training_data") }
    }
}
