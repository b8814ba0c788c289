// Item segments: a batch of new items stored as one row of item_segments instead of a row per
// item — the bulk-load layout. A row of `items` costs SQLite about 1 µs (the table's B-tree and
// the id index); a segment of 10,000 items costs about a tenth of that per item.
//
// A segment holds at least `minimumSegmentRows` items, all with codes and without stored vectors,
// whose ids are numbers below 2^63, strictly ascending, and each above every numeric id the
// collection held when the segment was written. Its items have the rowids first_rowid ..<
// first_rowid + row_count, in id order. Blobs: ids n Int64 little-endian, codes n x code bytes,
// labels ragged ([count, label...] UInt32s per item, Blobs.raggedLabels), dead a bitset (NULL
// while none is).
//
// A segment's blobs are written once; only its dead bits change. Before an item of a segment is
// replaced, deleted or recoded, it is extracted: copied into a row of `items` with its rowid, and
// marked dead in the segment, in the same transaction. So an id is live in one place only (a row
// or one segment), rowids stay unique and keep their order (list cursors, the start-up load
// merge rows and live segment items by rowid), and the segments' id ranges [first_id, last_id]
// are disjoint and ascend with their rowids. A segment whose items are all dead is deleted.

import Foundation
import GRDB
import GRDBSQLite
import DPQEngine

extension CollectionStore {
    /// Batches smaller than this go row by row (a segment row has a cost of its own).
    static let minimumSegmentRows = 256

    /// Whether `batch` may be stored as one segment (the conditions at the top of this file).
    static func fitSegment(_ batch: ItemBatch, keepVectors: Bool, _ db: Database) throws -> Bool {
        guard !keepVectors, batch.count >= minimumSegmentRows, batch.codes != nil, batch.idsAscendNumerically,
              case .number(let first) = batch.ids[0] else { return false }
        // Ids of 2^63 and above are stored negative and cannot meet these; among the rest, the
        // largest is the last of the partial id index.
        let inRows = try Int64.fetchOne(db, sql: "SELECT id_number FROM items WHERE id_number IS NOT NULL ORDER BY id_number DESC LIMIT 1")
        let inSegments = try Int64.fetchOne(db, sql: "SELECT last_id FROM item_segments ORDER BY first_id DESC LIMIT 1")
        return Int64(first) > max(inRows ?? -1, inSegments ?? -1)
    }

    /// Writes `batch` (which `fitSegment` accepted) as one segment with rowids from `firstRowid`.
    static func insertSegment(_ batch: ItemBatch, firstRowid: Int64, _ db: Database) throws {
        guard let codes = batch.codes else { preconditionFailure("insertSegment: a batch without codes") }
        // Both blobs are sized first and filled through pointers: appending 4 and 8 bytes at a
        // time was most of this function's cost at bulk-load rates.
        var ids = [UInt8](repeating: 0, count: batch.count * 8)
        var labels = [UInt8](repeating: 0, count: 4 * batch.labels.reduce(batch.count) { $0 + $1.count })
        ids.withUnsafeMutableBytes { idBytes in
            labels.withUnsafeMutableBytes { labelBytes in
                var at = 0
                for (i, (id, itemLabels)) in zip(batch.ids, batch.labels).enumerated() {
                    guard case .number(let n) = id else { preconditionFailure("insertSegment: a string id") }
                    idBytes.storeBytes(of: Int64(bitPattern: n).littleEndian, toByteOffset: 8 * i, as: Int64.self)
                    labelBytes.storeBytes(of: UInt32(itemLabels.count).littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4
                    for l in itemLabels {
                        labelBytes.storeBytes(of: UInt32(truncatingIfNeeded: l).littleEndian, toByteOffset: at, as: UInt32.self)
                        at += 4
                    }
                }
            }
        }
        guard case .number(let first) = batch.ids.first, case .number(let last) = batch.ids.last else { return }
        try db.execute(sql: """
            INSERT INTO item_segments (first_rowid, row_count, first_id, last_id, ids, labels, codes)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [firstRowid, batch.count, Int64(first), Int64(last), Data(ids), Data(labels), Data(codes.bytes)])
    }

    /// Extracts the live items of `ids` that segments hold (the top of this file says how).
    static func extractFromSegments(_ ids: some Sequence<ItemID>, _ db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM item_segments)") == 1 else { return }
        var changed: [Int64: ItemSegment] = [:]  // by first rowid, with their new dead bits
        var statements: ItemStatements?
        for id in ids {
            guard case .number(let n) = id, n < 1 << 63, let first = try segment(holdingRange: Int64(n), db),
                  var segment = try changed[first] ?? ItemSegment.fetch(firstRowid: first, db),
                  let j = segment.liveIndex(of: Int64(n)) else { continue }
            if statements == nil { statements = try ItemStatements(db) }
            let labels = segment.withLabelBytes(j) { [UInt8]($0) }
            guard try statements!.insert(rowid: first + Int64(j), id, labels: labels, code: segment.code(j), vector: nil) else {
                throw StorageError.failedPrecondition("item \(id) is both in a segment and a row (the database is damaged)")
            }
            segment.markDead(j)
            changed[first] = segment
        }
        for (first, segment) in changed {
            if segment.deadCount == segment.count {
                try db.execute(sql: "DELETE FROM item_segments WHERE first_rowid = ?", arguments: [first])
            } else {
                try db.execute(sql: "UPDATE item_segments SET dead = ?, dead_count = ? WHERE first_rowid = ?",
                               arguments: [Data(segment.deadBits), segment.deadCount, first])
            }
        }
    }

    /// The first rowid of the segment whose id range holds `id`.
    private static func segment(holdingRange id: Int64, _ db: Database) throws -> Int64? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT first_rowid, last_id FROM item_segments WHERE first_id <= ? ORDER BY first_id DESC LIMIT 1"),
                                         arguments: [id]) else { return nil }
        let last: Int64 = row[1]
        return id <= last ? row[0] : nil
    }

    /// The item with numeric id `id` if a segment holds it. `cache` keeps the segment read last,
    /// for the next ids of a get (often of the same segment).
    static func segmentItem(_ id: ItemID, cache: inout ItemSegment?, _ db: Database) throws -> StoredItem? {
        guard case .number(let n) = id, n < 1 << 63 else { return nil }
        let v = Int64(n)
        if let c = cache, c.id(0) <= v, v <= c.lastID { return c.liveIndex(of: v).map(c.item) }
        guard let first = try segment(holdingRange: v, db), let segment = try ItemSegment.fetch(firstRowid: first, db) else { return nil }
        cache = segment
        return segment.liveIndex(of: v).map(segment.item)
    }

    /// Items in rows and live items in segments.
    static func itemCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM items) + (SELECT COALESCE(SUM(row_count - dead_count), 0) FROM item_segments)") ?? 0
    }

    /// Hands the segments holding rowids above `cursor` to `body`, in rowid order, until it
    /// returns false (each segment's blobs are read only when it is reached).
    static func forEachSegment(after cursor: Int64, _ db: Database, _ body: (ItemSegment) throws -> Bool) throws {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT first_rowid, row_count, ids, labels, codes, dead, dead_count FROM item_segments
            WHERE first_rowid >= COALESCE((SELECT MAX(first_rowid) FROM item_segments WHERE first_rowid <= ?), 0)
            ORDER BY first_rowid
            """, arguments: [cursor])
        while let row = try rows.next() {
            guard try body(ItemSegment(row)) else { return }
        }
    }

    /// The first rowids of every segment, ascending.
    static func segmentRowids(_ db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT first_rowid FROM item_segments ORDER BY first_rowid")
    }
}

/// One segment as read: its blobs, checked for length.
struct ItemSegment {
    let firstRowid: Int64
    let count: Int
    let ids: Data
    let codes: Data
    /// [count, label...] UInt32s per item, and where each item's count is (n + 1 offsets).
    let labels: Data
    private let labelStarts: [Int]
    /// One bit per item, set when it was extracted (see the top of the file).
    private(set) var deadBits: [UInt8]
    private(set) var deadCount: Int

    init(_ row: Row) throws {
        firstRowid = row[0]
        let n: Int = row[1]
        count = n
        ids = row[2]
        let blob: Data = row[3]
        labels = blob
        codes = row[4]
        let damaged = StorageError.failedPrecondition("the item segment at rowid \(firstRowid) does not hold \(count) items (the database is damaged)")
        guard count > 0, ids.count == 8 * count, codes.count % count == 0, blob.count % 4 == 0 else { throw damaged }
        var starts = [Int]()
        starts.reserveCapacity(count + 1)
        var at = 0
        let words = blob.count / 4
        blob.withUnsafeBytes { raw in
            while starts.count < n, at < words {
                starts.append(at)
                at += 1 + Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * at, as: UInt32.self)))
            }
        }
        guard starts.count == n, at == words else { throw damaged }
        starts.append(at)
        labelStarts = starts
        let dead: Data? = row[5]
        deadBits = dead.map { [UInt8]($0) } ?? [UInt8](repeating: 0, count: (n + 7) / 8)
        deadCount = row[6]
        guard deadBits.count == (n + 7) / 8, (0..<n).contains(deadCount) else { throw damaged }
    }

    func isDead(_ j: Int) -> Bool { deadBits[j >> 3] & (1 << (j & 7)) != 0 }

    /// Marks live item j dead (extracted), in this value only: the caller writes the bits back.
    mutating func markDead(_ j: Int) {
        deadBits[j >> 3] |= 1 << (j & 7)
        deadCount += 1
    }

    /// The position of `id` if it is live here.
    func liveIndex(of id: Int64) -> Int? { index(of: id).flatMap { isDead($0) ? nil : $0 } }

    func code(_ j: Int) -> [UInt8] {
        let w = codeBytes, base = codes.startIndex + j * w
        return [UInt8](codes[base..<(base + w)])
    }

    static func fetch(firstRowid: Int64, _ db: Database) throws -> ItemSegment? {
        try Row.fetchOne(db, sql: "SELECT first_rowid, row_count, ids, labels, codes, dead, dead_count FROM item_segments WHERE first_rowid = ?",
                         arguments: [firstRowid]).map { try ItemSegment($0) }
    }

    var codeBytes: Int { codes.count / count }

    func id(_ j: Int) -> Int64 {
        ids.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 8 * j, as: Int64.self)) }
    }

    var lastID: Int64 { id(count - 1) }

    /// The position of `id` (ids ascend), or nil.
    func index(of id: Int64) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self.id(mid) < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self.id(lo) == id ? lo : nil
    }

    /// Item j's labels as the blob of an item row (UInt32s, without the count).
    func withLabelBytes<T>(_ j: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try labels.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[(4 * (labelStarts[j] + 1))..<(4 * labelStarts[j + 1])]))
        }
    }

    func item(_ j: Int) -> StoredItem {
        StoredItem(id: .number(UInt64(bitPattern: id(j))), labels: withLabelBytes(j) { Blobs.labels($0) }, code: code(j), vector: nil)
    }
}
