// The start-up load and the model switch in PostgreSQL. A model is a row of `models` (its
// safetensors bytes); `collections.model_generation` names the current one. A switch is ONE
// transaction: the new model's row, every re-encoded code, the new generation and state, and
// the removal of older models — a crash leaves either the old model with the old codes or
// the new with the new, never a mix, and no stray model behind.

import DPQEngine
import DPQStorage
import Foundation
import NIOCore
import PostgresNIO
import Synchronization

extension PostgresCollectionStore {
    /// Every item in rowid (insertion) order, from one statement (one snapshot), streamed
    /// row by row into contiguous arrays.
    public func loadAll() throws -> LoadedItems {
        let builder = Builder(width: config.codeBytes, dimension: config.model.inputDimension, keep: config.keepVectors,
                              classCount: config.model.classCount, name: config.name)
        try read("load the items of '\(config.name)'") { s in
            // One statement for the whole collection: minutes at 100M items, whatever the URL's
            // statement_timeout says for ordinary statements (RESET goes back to that).
            try s.execute("SET statement_timeout = 0")
            defer { _ = try? s.execute("RESET statement_timeout") }
            try s.forEachRow("""
                SELECT id_number, id_string, labels, code, vector FROM items WHERE collection_id = \(id) ORDER BY rowid
                """) { row in try builder.add(Self.item(row, dimension: builder.dimension)) }
        }
        var b = builder.parts.withLock { $0 }
        b.ids.indexAll()
        let n = b.ids.count, d = builder.dimension, keep = builder.keep
        return LoadedItems(ids: b.ids,
                           codes: CodeMatrix(count: n, blocks: config.model.blocks,
                                             bytesPerCode: CodeMatrix.bytesPerCode(codebookSize: config.model.codebookSize), bytes: b.codes),
                           labels: b.labels,
                           vectors: keep ? Matrix(rows: n, cols: d, values: b.vectors) : nil,
                           uncoded: b.uncoded,
                           pendingVectors: keep ? nil : Matrix(rows: b.uncoded.count, cols: d, values: b.pending))
    }

    /// What loadAll collects; rows arrive one at a time on the connection's event loop.
    final class Builder: Sendable {
        struct Parts: Sendable {
            var ids = ItemIDTable()
            var codes: [UInt8] = []
            var labels: Labels
            var vectors: [Float] = []
            var uncoded: [Int] = []
            var pending: [Float] = []
        }
        let parts: Mutex<Parts>
        let width: Int, dimension: Int, keep: Bool, name: String

        init(width: Int, dimension: Int, keep: Bool, classCount: Int, name: String) {
            parts = Mutex(Parts(labels: Labels(classCount: max(classCount, 1))))
            self.width = width
            self.dimension = dimension
            self.keep = keep
            self.name = name
        }

        /// The same checks as SQLite's bulk load: a code of the wrong length, or a missing or
        /// wrong-sized vector where one must be, is damage.
        func add(_ item: StoredItem) throws {
            try parts.withLock { b throws(StorageError) in
                let r = b.ids.count
                b.ids.appendUnindexed(item.id)
                if let bad = b.labels.append(item.labels) {
                    throw StorageError.failedPrecondition("collection '\(name)': item \(item.id) has label \(bad), outside 0..<\(b.labels.classCount) (the database is damaged)")
                }
                if item.code.count == width {
                    b.codes.append(contentsOf: item.code)
                } else if item.code.isEmpty {
                    b.codes.append(contentsOf: repeatElement(0, count: width))
                    b.uncoded.append(r)
                    if !keep {
                        guard let v = item.vector, v.count == dimension else {
                            throw StorageError.failedPrecondition("collection '\(name)': pending item \(item.id) has no vector of \(dimension) values (the database is damaged)")
                        }
                        b.pending.append(contentsOf: v)
                    }
                } else {
                    throw StorageError.failedPrecondition("collection '\(name)': item \(item.id) has a code of \(item.code.count) bytes, expected \(width) (the database is damaged)")
                }
                if keep {
                    guard let v = item.vector, v.count == dimension else {
                        throw StorageError.failedPrecondition("collection '\(name)': item \(item.id) has no vector of \(dimension) values (the database is damaged)")
                    }
                    b.vectors.append(contentsOf: v)
                }
            }
        }
    }

    public func modelGeneration() throws -> Int {
        try read("read the model generation of '\(config.name)'") { s in try Self.generation(s, id) }
    }

    /// The committed model, or nil before the first one; fetched and decoded once per generation.
    public func currentModel() throws -> DPQModel? {
        let generation = try modelGeneration()
        if generation == 0 { return nil }
        if let cached = loadedModel.withLock({ $0 }), cached.generation == generation { return cached.model }
        // Generation and bytes in one statement, so a switch in between cannot pair them wrongly.
        let (committed, bytes) = try read("load the model of '\(config.name)'") { s -> (Int64, ByteBuffer?) in
            guard let row = try s.query("""
                SELECT c.model_generation, m.data FROM collections c
                LEFT JOIN models m ON m.collection_id = c.id AND m.generation = c.model_generation
                WHERE c.id = \(id)
                """).first else { throw gone() }
            return try row.decode((Int64, ByteBuffer?).self)
        }
        if committed == 0 { return nil }
        guard let bytes else {
            throw StorageError.failedPrecondition("collection '\(config.name)': model generation \(committed) is missing (the database is damaged)")
        }
        let model = try storage("cannot load the model of '\(config.name)'") { try DPQModel(serialized: Data(bytes.readableBytesView)) }
        loadedModel.withLock { cached in
            if (cached?.generation ?? 0) <= Int(committed) { cached = (Int(committed), model) }
        }
        return model
    }

    /// Makes `model` current and gives the listed items their new codes, atomically. Items not
    /// listed keep their codes; ids that no longer exist are skipped. Sets the state to ready
    /// and clears the last error.
    public func commitModel(_ model: DPQModel, recodedItems: [(ItemID, [UInt8])]) throws {
        try config.checkModel(model)
        for (id, code) in recodedItems { try config.checkCode(code, of: id) }
        let data = ByteBuffer(bytes: model.serialized())
        let ids = IDArrays(recodedItems.map(\.0))
        let codes = recodedItems.map { ByteBuffer(bytes: $0.1) }
        // Encoded items keep their vectors only when the collection keeps vectors.
        let keep = config.keepVectors
        let next = try write("switch '\(config.name)' to its new model", kind: "model") { s, seq -> Int64 in
            let next = Int64(try Self.generation(s, id) + 1)
            try s.execute("INSERT INTO models (collection_id, generation, data) VALUES (\(id), \(next), \(data))")
            if !recodedItems.isEmpty {
                try s.execute("""
                    UPDATE items i SET code = u.code, vector = CASE WHEN \(keep) THEN i.vector END, seq = \(seq)
                    FROM unnest(\(ids.isNumber), \(ids.numbers), \(ids.strings), \(codes)) AS u(is_number, n, s, code)
                    WHERE i.collection_id = \(id) AND \(unescaped: Self.sameID)
                    """)
            }
            try s.execute("""
                UPDATE collections SET model_generation = \(next), state = \(CollectionState.ready.rawValue), last_error = NULL
                WHERE id = \(id)
                """)
            try s.execute("DELETE FROM models WHERE collection_id = \(id) AND generation <> \(next)")
            return next
        }
        loadedModel.withLock { $0 = (Int(next), model) }
    }
}
