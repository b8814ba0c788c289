// A database written by an earlier version opens in this one with its items, their order and
// their rowids intact (CollectionSchema's migrations).

import Foundation
import GRDB
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct SchemaMigrationTests {
    let tmp = TemporaryDirectory()

    /// v2 used AUTOINCREMENT: its high-water mark lives in sqlite_sequence, and the v3 store
    /// must not hand out a rowid at or below it, even after the rows that reached it were deleted.
    @Test func v2DatabaseKeepsItsItemsOrderAndRowHighWater() throws {
        let root = tmp.path + "/data"
        let config = Fixtures.config()
        try DataDirectory(root: root).createCollection(config).close()
        let folder = try DataDirectory(root: root).path(config.name)
        let path = folder + "/" + CollectionStore.databaseFile
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }

        // Written as v2 did: rowids 1...8 by AUTOINCREMENT, then the last two deleted.
        let items = (0..<8).map { Fixtures.item(UInt64($0)) }
        let queue = try DatabaseQueue(path: path)
        try CollectionSchema.migrator.migrate(queue, upTo: "v2-datasets")
        try queue.write { db in
            for item in items {
                let (column, value) = CollectionStore.column(item.id)
                try db.execute(sql: "INSERT INTO items (\(column), labels, code, vector) VALUES (?, ?, ?, ?)",
                               arguments: [value, Blobs.labels(item.labels), Data(item.code), Blobs.vector(item.vector!)])
            }
            try db.execute(sql: "DELETE FROM items WHERE rowid > 6")
        }
        try queue.close()

        let s = try DataDirectory(root: root).openCollection(config.name)
        #expect(try s.list(pageSize: 100, after: nil).items == Array(items.prefix(6)))
        #expect(try s.loadAll().rowids == [1, 2, 3, 4, 5, 6])
        #expect(try s.get([items[2].id]) == [items[2]])
        // A new item comes after the deleted rows, and an existing id is replaced in place.
        var changed = items[1]
        changed.labels = [3]
        #expect(try s.upsert([Fixtures.item(20), changed]) == UpsertCounts(inserted: 1, replaced: 1))
        #expect(try s.loadAll().rowids == [1, 2, 3, 4, 5, 6, 9])
        #expect(try s.list(pageSize: 100, after: nil).items.map(\.id) == items.prefix(6).map(\.id) + [Fixtures.item(20).id])
        // The id indexes took over: a duplicate id cannot be inserted twice.
        try s.upsert([Fixtures.item(20)])
        #expect(try s.count() == 7)
        try s.close()
    }
}
