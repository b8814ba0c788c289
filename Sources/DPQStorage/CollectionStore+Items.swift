// Item reads and writes. Every write is one transaction: a batch is stored whole or not at
// all, and once upsert returns it is on disk. Upsert is idempotent (an existing id is
// overwritten in place, keeping its rowid and so its place in `list`); when one batch names
// the same id twice, the later entry wins, as if the batch had been sent item by item.

import Foundation
import GRDB
import GRDBSQLite
import DPQEngine

extension CollectionStore {
    /// Stores `items` in one transaction. Vectors are dropped unless the collection keeps them
    /// or the item has no code yet (it is encoded from its vector once a model exists).
    /// A batch that fits a segment (ItemSegments.swift) is stored as one; otherwise new ids go
    /// in 64 to an INSERT while none of them exists, and an existing one (or a run of fewer
    /// than 64, or ids of both kinds) goes one by one: an INSERT, or a lookup and an UPDATE.
    /// Statements are stepped and bound directly, because GRDB's arguments cost several
    /// allocations per item, which at bulk-load rates is most of the write.
    @discardableResult
    public func upsert(_ items: [StoredItem]) throws -> UpsertCounts {
        for item in items { try config.check(item) }
        return try write("store \(items.count) items in '\(config.name)'") { db -> UpsertCounts in
            let first = try Int64(Self.meta(db, CollectionSchema.Meta.rowidHighWater) ?? "0") ?? 0
            if items.count >= Self.minimumSegmentRows, !config.keepVectors,
               items.allSatisfy({ !$0.code.isEmpty && $0.code.count == config.codeBytes }) {
                let codes = CodeMatrix(count: items.count, blocks: config.model.blocks,
                                       bytesPerCode: CodeMatrix.bytesPerCode(codebookSize: config.model.codebookSize),
                                       bytes: items.flatMap(\.code))
                let batch = ItemBatch(ids: items.map(\.id), labels: items.map(\.labels), codes: codes, vectors: nil)
                if let counts = try storeSegment(batch, after: first, db) { return counts }
            }
            return try upsertRows(items, after: first, db)
        }
    }

    /// `upsert` of a batch given as columns: the same effect, without a StoredItem per item
    /// when the batch fits a segment (a bulk load's batches do).
    @discardableResult
    public func upsert(_ batch: ItemBatch) throws -> UpsertCounts {
        try config.check(batch)
        return try write("store \(batch.count) items in '\(config.name)'") { db -> UpsertCounts in
            let first = try Int64(Self.meta(db, CollectionSchema.Meta.rowidHighWater) ?? "0") ?? 0
            if let counts = try storeSegment(batch, after: first, db) { return counts }
            return try upsertRows(batch.items, after: first, db)
        }
    }

    /// Stores `batch` as one segment when it fits one (nil when not), rowids after `first`.
    private func storeSegment(_ batch: ItemBatch, after first: Int64, _ db: Database) throws -> UpsertCounts? {
        guard try Self.fitSegment(batch, keepVectors: config.keepVectors, db) else { return nil }
        try Self.insertSegment(batch, firstRowid: first + 1, db)
        try Self.setMeta(db, CollectionSchema.Meta.rowidHighWater, String(first + Int64(batch.count)))
        return UpsertCounts(inserted: batch.count)
    }

    /// The row-by-row half of `upsert` (checked items, in the write transaction): rowids after `first`.
    private func upsertRows(_ items: [StoredItem], after first: Int64, _ db: Database) throws -> UpsertCounts {
        let keep = config.keepVectors, half = config.halfVectors
        try Self.extractFromSegments(items.lazy.map(\.id), db)
        var statements = try ItemStatements(db)
        var next = first
        var counts = UpsertCounts()
        var labels: [UInt8] = []  // one buffer for every item's label blob
        func vector(_ item: StoredItem) -> Data? {
            keep || item.code.isEmpty ? item.vector.map { Blobs.vector($0, half: half) } : nil
        }
        let chunk = ItemStatements.rowsPerInsert
        // Cleared by the first chunk that finds an id existing: a batch that replaces items
        // probably replaces many, and a failed INSERT costs as much as a successful one.
        var inChunks = true
        var i = 0
        while i < items.count {
            if inChunks, i + chunk <= items.count, Self.oneKind(items[i..<(i + chunk)]) {
                let rows = items[i..<(i + chunk)].map { item in
                    Blobs.setLabels(item.labels, in: &labels)
                    return ItemStatements.NewRow(id: item.id, labels: labels, code: item.code, vector: vector(item))
                }
                if try statements.insertAll(firstRowid: next + 1, rows) {
                    next += Int64(chunk)
                    counts.inserted += chunk
                    i += chunk
                    continue
                }
                inChunks = false
            }
            let item = items[i]
            i += 1
            let vector = vector(item)
            Blobs.setLabels(item.labels, in: &labels)
            if try statements.insert(rowid: next + 1, item.id, labels: labels, code: item.code, vector: vector) {
                next += 1
                counts.inserted += 1
                continue
            }
            // The id exists: from before this batch (rowid at most `first`), or an earlier entry of it.
            let (rowid, wasPending) = try statements.existing(item.id)
            if rowid <= first {
                // Counted once even when the batch names it again.
                if statements.firstReplace(rowid) {
                    counts.replaced += 1
                    if wasPending { counts.replacedPending += 1 }
                }
            }
            try statements.update(rowid: rowid, labels: labels, code: item.code, vector: vector)
        }
        if next != first { try Self.setMeta(db, CollectionSchema.Meta.rowidHighWater, String(next)) }
        return counts
    }

    /// Whether the ids are all numbers or all strings (one multi-row INSERT takes one kind).
    private static func oneKind(_ items: ArraySlice<StoredItem>) -> Bool {
        guard let first = items.first else { return true }
        if case .number = first.id { return items.allSatisfy { if case .number = $0.id { true } else { false } } }
        return items.allSatisfy { if case .string = $0.id { true } else { false } }
    }

    /// Deletes the items with these ids; returns how many existed.
    public func delete(_ ids: [ItemID]) throws -> Int {
        try write("delete \(ids.count) items from '\(config.name)'") { db in
            try Self.extractFromSegments(ids, db)
            var deleted = 0
            for id in ids {
                let (column, value) = Self.column(id)
                try db.cachedStatement(sql: "DELETE FROM items WHERE \(column) = ?").execute(arguments: [value])
                deleted += db.changesCount
            }
            return deleted
        }
    }

    /// The items that exist among `ids`, in request order (a repeated id appears repeatedly).
    public func get(_ ids: [ItemID]) throws -> [StoredItem] {
        try read("read \(ids.count) items of '\(config.name)'") { db in
            var out: [StoredItem] = []
            var segment: ItemSegment?
            for id in ids {
                let (column, value) = Self.column(id)
                if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.itemColumns) FROM items WHERE \(column) = ?"),
                                              arguments: [value]) {
                    out.append(Self.item(row, dimension: config.model.inputDimension))
                } else if let item = try Self.segmentItem(id, cache: &segment, db) {
                    out.append(item)
                }
            }
            return out
        }
    }

    public func count() throws -> Int {
        try read("count the items of '\(config.name)'") { try Self.itemCount($0) }
    }

    /// Up to `pageSize` items with a rowid above `cursor`, in rowid order, and the cursor of
    /// the next page (nil when this page is the last). Items added while paging appear at the
    /// end, because rowids are never reused.
    public func list(pageSize: Int, after cursor: Int64?) throws -> (items: [StoredItem], next: Int64?) {
        guard pageSize >= 1 else { throw StorageError.invalidArgument("page_size must be at least 1, got \(pageSize)") }
        return try read("list the items of '\(config.name)'") { db in
            let after = cursor ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT rowid, \(Self.itemColumns) FROM items WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                        arguments: [after, pageSize + 1])
            var found = rows.map { (rowid: $0[0] as Int64, item: Self.item($0, offset: 1, dimension: config.model.inputDimension)) }
            // Segment items of this page go in by rowid: at most pageSize + 1 of them count.
            var fromSegments = 0
            try Self.forEachSegment(after: after, db) { segment in
                for j in 0..<segment.count where segment.firstRowid + Int64(j) > after && !segment.isDead(j) && fromSegments <= pageSize {
                    found.append((segment.firstRowid + Int64(j), segment.item(j)))
                    fromSegments += 1
                }
                return fromSegments <= pageSize
            }
            if fromSegments > 0 { found.sort { $0.rowid < $1.rowid } }
            let page = found.prefix(pageSize)
            let next: Int64? = found.count > pageSize ? page.last?.rowid : nil
            return (page.map(\.item), next)
        }
    }

    static let itemColumns = "id_number, id_string, labels, code, vector"

    static func column(_ id: ItemID) -> (String, any DatabaseValueConvertible) {
        switch id {
        case .number(let n): return ("id_number", Int64(bitPattern: n))
        case .string(let s): return ("id_string", s)
        }
    }

    /// An item of a SELECT of `itemColumns` (from column `o`); a vector blob of a length that fits
    /// no layout for `dimension` values (a damaged database) reads as absent rather than wrong.
    static func item(_ row: Row, offset o: Int = 0, dimension: Int) -> StoredItem {
        let id: ItemID = row.hasNull(atIndex: o) ? .string(row[o + 1]) : .number(UInt64(bitPattern: row[o]))
        let labels: Data = row[o + 2]
        let code: Data = row[o + 3]
        let vector: Data? = row[o + 4]
        return StoredItem(id: id, labels: Blobs.labels(labels), code: [UInt8](code), vector: vector.flatMap { Blobs.vector($0, count: dimension) })
    }
}
