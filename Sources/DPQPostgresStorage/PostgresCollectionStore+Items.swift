// Item reads and writes in PostgreSQL, with the semantics of SQLite's store
// (CollectionStore+Items.swift): a batch is one transaction; an existing id is overwritten in
// place and keeps its rowid, so its place in `list`; when a batch names an id twice the later
// entry wins. A batch travels as arrays (unnest) in a fixed number of statements, not one
// statement per item. Ids are passed as three parallel arrays — is_number, the number (the
// Int64 with the same bits), the string — since a bound array cannot hold NULLs here.

import DPQEngine
import DPQStorage
import Foundation
import NIOCore
import PostgresNIO

extension PostgresCollectionStore {
    /// The ids as unnest() arguments.
    struct IDArrays {
        var isNumber: [Bool] = []
        var numbers: [Int64] = []
        var strings: [String] = []

        init(_ ids: some Sequence<ItemID>) {
            for id in ids {
                switch id {
                case .number(let n): isNumber.append(true); numbers.append(Int64(bitPattern: n)); strings.append("")
                case .string(let s): isNumber.append(false); numbers.append(0); strings.append(s)
                }
            }
        }
    }

    /// The join condition of an unnest() alias `u` (is_number, n, s) with items `i`.
    static let sameID = "((u.is_number AND i.id_number = u.n) OR (NOT u.is_number AND i.id_string = u.s))"

    @discardableResult
    public func upsert(_ items: [StoredItem]) throws -> UpsertCounts {
        for item in items { try config.check(item) }
        guard !items.isEmpty else { return UpsertCounts() }
        // The later entry of an id wins, at the place of its first entry (as item-by-item writes would do).
        var position: [ItemID: Int] = [:]
        var batch: [StoredItem] = []
        for item in items {
            if let p = position[item.id] { batch[p] = item } else { position[item.id] = batch.count; batch.append(item) }
        }
        let keep = config.keepVectors
        let ids = IDArrays(batch.map(\.id))
        let labels = batch.map { ByteBuffer(bytes: Blobs.labels($0.labels)) }
        let codes = batch.map { ByteBuffer(bytes: $0.code) }
        // Vectors are dropped unless the collection keeps them or the item has no code yet.
        let vectors = batch.map { item -> ByteBuffer? in
            keep || item.code.isEmpty ? item.vector.map { ByteBuffer(bytes: Blobs.vector($0, half: config.halfVectors)) } : nil
        }
        let hasVector = vectors.map { $0 != nil }
        let vectorBytes = vectors.map { $0 ?? ByteBuffer() }
        return try write("store \(items.count) items in '\(config.name)'", kind: "upsert") { s, seq -> UpsertCounts in
            // The existing rows, locked so that the counts hold until this transaction ends.
            let updated = try s.query("""
                SELECT octet_length(i.code) = 0 FROM items i, unnest(\(ids.isNumber), \(ids.numbers), \(ids.strings)) AS u(is_number, n, s)
                WHERE i.collection_id = \(id) AND \(unescaped: Self.sameID)
                FOR UPDATE OF i
                """)
            var counts = UpsertCounts()
            for row in updated {
                counts.replaced += 1
                if try row.decode(Bool.self) { counts.replacedPending += 1 }
            }
            try s.execute("""
                UPDATE items i SET labels = u.labels, code = u.code, vector = CASE WHEN u.has_vector THEN u.vector END, seq = \(seq)
                FROM unnest(\(ids.isNumber), \(ids.numbers), \(ids.strings), \(labels), \(codes), \(hasVector), \(vectorBytes))
                     AS u(is_number, n, s, labels, code, has_vector, vector)
                WHERE i.collection_id = \(id) AND \(unescaped: Self.sameID)
                """)
            // The rest are new: inserted in batch order, so rowids follow it, and counted.
            counts.inserted = Int(try s.scalar("""
                WITH ins AS (
                    INSERT INTO items (collection_id, id_number, id_string, labels, code, vector, seq)
                    SELECT \(id), CASE WHEN u.is_number THEN u.n END, CASE WHEN u.is_number THEN NULL ELSE u.s END,
                           u.labels, u.code, CASE WHEN u.has_vector THEN u.vector END, \(seq)
                    FROM unnest(\(ids.isNumber), \(ids.numbers), \(ids.strings), \(labels), \(codes), \(hasVector), \(vectorBytes))
                         WITH ORDINALITY AS u(is_number, n, s, labels, code, has_vector, vector, ord)
                    WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.collection_id = \(id) AND \(unescaped: Self.sameID))
                    ORDER BY u.ord
                    RETURNING 1
                )
                UPDATE collections SET item_count = item_count + (SELECT count(*) FROM ins) WHERE id = \(id)
                RETURNING (SELECT count(*) FROM ins)
                """, as: Int64.self) ?? 0)
            return counts
        }
    }

    /// Deletes the items with these ids, leaving a tombstone for each; returns how many existed.
    public func delete(_ ids: [ItemID]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let a = IDArrays(ids)
        return try write("delete \(ids.count) items from '\(config.name)'", kind: "delete") { s, seq in
            Int(try s.scalar("""
                WITH d AS (
                    DELETE FROM items i USING unnest(\(a.isNumber), \(a.numbers), \(a.strings)) AS u(is_number, n, s)
                    WHERE i.collection_id = \(id) AND \(unescaped: Self.sameID)
                    RETURNING i.id_number, i.id_string
                ), t AS (
                    INSERT INTO item_tombstones (collection_id, seq, id_number, id_string)
                    SELECT \(id), \(seq), id_number, id_string FROM d
                ), c AS (
                    UPDATE collections SET item_count = item_count - (SELECT count(*) FROM d) WHERE id = \(id)
                )
                SELECT count(*) FROM d
                """, as: Int64.self) ?? 0)
        }
    }

    /// The items that exist among `ids`, in request order (a repeated id appears repeatedly).
    public func get(_ ids: [ItemID]) throws -> [StoredItem] {
        guard !ids.isEmpty else { return [] }
        let a = IDArrays(ids)
        return try read("read \(ids.count) items of '\(config.name)'") { s in
            try s.query("""
                SELECT i.id_number, i.id_string, i.labels, i.code, i.vector
                FROM unnest(\(a.isNumber), \(a.numbers), \(a.strings)) WITH ORDINALITY AS u(is_number, n, s, ord)
                JOIN items i ON i.collection_id = \(id) AND \(unescaped: Self.sameID)
                ORDER BY u.ord
                """).map { try Self.item($0, dimension: config.model.inputDimension) }
        }
    }

    /// The count kept by every write (schema migration 4): one row read, whatever the size.
    public func count() throws -> Int {
        try read("count the items of '\(config.name)'") { s in
            Int(try s.scalar("SELECT item_count FROM collections WHERE id = \(id)", as: Int64.self) ?? 0)
        }
    }

    /// Up to `pageSize` items with a rowid above `cursor`, in rowid order, and the cursor of
    /// the next page (nil when this page is the last).
    public func list(pageSize: Int, after cursor: Int64?) throws -> (items: [StoredItem], next: Int64?) {
        guard pageSize >= 1 else { throw StorageError.invalidArgument("page_size must be at least 1, got \(pageSize)") }
        return try read("list the items of '\(config.name)'") { s in
            let rows = try s.query("""
                SELECT i.id_number, i.id_string, i.labels, i.code, i.vector, i.rowid FROM items i
                WHERE i.collection_id = \(id) AND i.rowid > \(cursor ?? 0) ORDER BY i.rowid LIMIT \(Int64(pageSize) + 1)
                """)
            let page = Array(rows.prefix(pageSize))
            let next = rows.count > pageSize ? try page.last.map { try Array($0)[5].decode(Int64.self) } : nil
            return (try page.map { try Self.item($0, dimension: config.model.inputDimension) }, next)
        }
    }

    /// A row whose first five columns are id_number, id_string, labels, code, vector. A vector
    /// whose length fits no layout for `dimension` values (damage) reads as absent, as in SQLite.
    static func item(_ row: PostgresRow, dimension: Int) throws -> StoredItem {
        var cells = row.makeIterator()
        func next() -> PostgresCell { cells.next()! }
        let number = try next().decode(Int64?.self)
        let string = try next().decode(String?.self)
        let labels = try next().decode(ByteBuffer.self)
        let code = try next().decode(ByteBuffer.self)
        let vector = try next().decode(ByteBuffer?.self)
        let id: ItemID = number.map { .number(UInt64(bitPattern: $0)) } ?? .string(string ?? "")
        return StoredItem(id: id, labels: labels.withUnsafeReadableBytes { Blobs.labels($0) }, code: Array(code.readableBytesView),
                          vector: vector.flatMap { v in
                              v.withUnsafeReadableBytes { raw in
                                  var out = [Float]()
                                  return Blobs.appendVector(raw, count: dimension, to: &out) ? out : nil
                              }
                          })
    }
}
