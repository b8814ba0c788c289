// Training data in PostgreSQL, as SQLite keeps it (CollectionStore+Training.swift): named
// datasets stored in chunks, one row per appended chunk, in the same byte layouts; an
// upload is one transaction.

import DPQEngine
import DPQStorage
import Foundation
import NIOCore
import PostgresNIO

extension PostgresCollectionStore {
    public func writeTrainingData(dataset: String, chunks: [(Matrix, [[Int]])], replace: Bool) throws {
        for (v, l) in chunks { try config.checkTrainingChunk(v, l) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try write("store training data '\(dataset)' in '\(config.name)'", kind: "training_data") { s, _ in
            if replace { try s.execute("DELETE FROM training_data WHERE collection_id = \(id) AND dataset = \(dataset)") }
            for (vectors, labels) in chunks where vectors.rows > 0 {
                let rows = labels.isEmpty ? [[Int]](repeating: [], count: vectors.rows) : labels
                let vectorBytes = ByteBuffer(bytes: Blobs.vector(vectors.values))
                let labelBytes = ByteBuffer(bytes: Blobs.raggedLabels(rows))
                try s.execute("""
                    INSERT INTO training_data (collection_id, dataset, row_count, labelled_rows, updated_at_ms, vectors, labels)
                    VALUES (\(id), \(dataset), \(Int64(vectors.rows)), \(Int64(rows.filter { !$0.isEmpty }.count)), \(now), \(vectorBytes), \(labelBytes))
                    """)
            }
        }
    }

    /// All rows of a dataset, in the order they were appended.
    public func trainingData(dataset: String) throws -> (Matrix, [[Int]]) {
        let d = config.model.inputDimension
        return try read("read the training data of '\(config.name)'") { s in
            var values = [Float]()
            var labels = [[Int]]()
            let rows = try s.query("""
                SELECT row_count, vectors, labels FROM training_data WHERE collection_id = \(id) AND dataset = \(dataset) ORDER BY chunk
                """)
            for row in rows {
                let (n64, vectors, labelBytes) = try row.decode((Int64, ByteBuffer, ByteBuffer).self)
                let n = Int(n64)
                guard vectors.withUnsafeReadableBytes({ Blobs.appendVector($0, count: n * d, to: &values) }) else {
                    throw StorageError.failedPrecondition("training data of '\(config.name)': a chunk has \(vectors.readableBytes) bytes for \(n) rows of \(d) values (the database is damaged)")
                }
                labels.append(contentsOf: try Blobs.raggedLabels(Data(labelBytes.readableBytesView), rows: n))
            }
            return (Matrix(rows: labels.count, cols: d, values: values), labels)
        }
    }

    public func trainingDataCount(dataset: String) throws -> Int {
        try read("count the training data of '\(config.name)'") { s in
            Int(try s.scalar("""
                SELECT COALESCE(SUM(row_count), 0)::bigint FROM training_data WHERE collection_id = \(id) AND dataset = \(dataset)
                """, as: Int64.self) ?? 0)
        }
    }

    /// Every dataset, by name (byte order, as SQLite sorts them).
    public func datasets() throws -> [DatasetInfo] {
        try read("list the training data of '\(config.name)'") { s in
            try s.query("""
                SELECT dataset, SUM(row_count)::bigint, SUM(labelled_rows)::bigint,
                       SUM(length(vectors) + length(labels))::bigint, MAX(updated_at_ms)
                FROM training_data WHERE collection_id = \(id) GROUP BY dataset ORDER BY dataset COLLATE "C"
                """).map { row in
                let (name, rows, labelled, bytes, updated) = try row.decode((String, Int64, Int64, Int64, Int64).self)
                return DatasetInfo(name: name, rows: Int(rows), labelledRows: Int(labelled), bytes: Int(bytes), updatedAtUnixMs: updated)
            }
        }
    }

    /// Deletes a dataset; false when it did not exist.
    @discardableResult
    public func deleteTrainingData(dataset: String) throws -> Bool {
        try write("delete training data '\(dataset)' of '\(config.name)'", kind: "training_data") { s, _ in
            try s.execute("DELETE FROM training_data WHERE collection_id = \(id) AND dataset = \(dataset)") > 0
        }
    }

    /// Deletes every dataset.
    public func clearTrainingData() throws {
        try write("clear the training data of '\(config.name)'", kind: "training_data") { s, _ in
            try s.execute("DELETE FROM training_data WHERE collection_id = \(id)")
        }
    }
}
