import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct CollectionStoreTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    /// A new collection in its own data directory under `tmp`.
    func store(_ config: CollectionConfig = Fixtures.config()) throws -> CollectionStore {
        try DataDirectory(root: tmp.path + "/" + UUID().uuidString).createCollection(config)
    }

    @Test func databaseIsDurablyConfigured() throws {
        let s = try store()
        // WAL, and an fsync at every commit; checked on the writer and on a reader.
        let writer = try s.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(writer.0 == "wal")
        #expect(writer.1 == 2)
        let reader = try s.pool.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(reader == 2)
    }

    @Test func upsertGetRoundTrip() throws {
        let s = try store()
        let items = (0..<20).map { Fixtures.item(UInt64($0)) }
        try s.upsert(items)
        #expect(try s.count() == 20)
        // Request order, missing ids skipped, repeats repeated.
        let ids: [ItemID] = [items[5].id, .number(999), items[3].id, .string("nope"), items[5].id]
        #expect(try s.get(ids) == [items[5], items[3], items[5]])
        // Extremes of the id space.
        let edge = [StoredItem(id: .number(.max), labels: [], code: [], vector: [0, 0, 0, 0]),
                    StoredItem(id: .string(String(repeating: "é", count: 128)), labels: [9], code: [15, 15, 15, 15], vector: [1, 2, 3, 4])]
        try s.upsert(edge)
        #expect(try s.get(edge.map(\.id)) == edge)
        // A number and a string that look alike are different ids.
        try s.upsert([StoredItem(id: .string("1"), labels: [], code: [], vector: [0, 0, 0, 0])])
        #expect(try s.get([.number(1)]) == [items[1]])
    }

    /// One batch whose label sets shrink from item to item: each row keeps its own labels (the
    /// store writes every label blob through one reused buffer).
    @Test func labelSetsOfOneBatchStayApart() throws {
        let s = try store()
        let labels: [[Int]] = [[1, 2, 3], [4], [], [5, 6], []]
        let items = labels.enumerated().map { i, l in StoredItem(id: .number(UInt64(i)), labels: l, code: [1, 2, 3, 4], vector: [0, 1, 2, 3]) }
        try s.upsert(items)
        #expect(try s.get(items.map(\.id)).map(\.labels) == labels)
        try s.upsert(items.reversed().map { var item = $0; item.labels = labels[4 - Int($0.id.description)!]; return item })
        #expect(try s.get(items.map(\.id)).map(\.labels) == labels.reversed())
    }

    /// Batches long enough for 64-row INSERTs: all new ids (in chunks, the tail one by one), a
    /// chunk holding an id that exists (the chunk's INSERT is undone and the batch goes on one by
    /// one: counts, values and rowids as if it had been stored item by item), a chunk naming an id
    /// twice (the later entry wins), and ids of both kinds in one chunk.
    @Test func multiRowInsertsStoreWhatSingleRowsWould() throws {
        let s = try store()
        func item(_ id: ItemID, _ label: Int) -> StoredItem {
            // 0 to 2 labels, so that neighbouring rows of one INSERT have label blobs of other lengths.
            StoredItem(id: id, labels: (0..<(label % 3)).map { (label + $0) % 10 }, code: [UInt8(label % 16), 1, 2, 3], vector: [Float(label), 0, 0, 0])
        }
        let fresh = (0..<150).map { item(.number(UInt64($0)), $0 % 10) }
        #expect(try s.upsert(fresh) == UpsertCounts(inserted: 150))
        #expect(try s.get(fresh.map(\.id)) == fresh)
        // Rowids 1...150, in order, no gaps: the listing's cursors.
        let page = try s.list(pageSize: 1_000, after: nil)
        #expect(page.items == fresh && page.next == nil)
        #expect(try s.list(pageSize: 1, after: 149).items == [fresh[149]])

        // 100 ids, the first chunk of 64 naming id 1,000 twice (positions 0 and 40): the chunk's
        // INSERT fails and the batch goes one by one; the later entry wins, in the first's place.
        var batch = (1_000..<1_100).map { item(.number(UInt64($0)), $0 % 10) }
        batch[40] = item(.number(1_000), 4)
        #expect(try s.upsert(batch) == UpsertCounts(inserted: 99))
        #expect(try s.get([.number(1_000), .number(1_099)]) == [batch[40], batch[99]])
        var listed = try s.list(pageSize: 1_000, after: 150).items
        #expect(listed.count == 99 && listed.first == batch[40] && listed.last == batch[99])
        #expect(try s.list(pageSize: 1, after: 248).items == [batch[99]])  // rowids 151...249, no gap

        // 100 ids, the first chunk holding id 7, stored before: replaced in place, the rest inserted.
        batch = (2_000..<2_100).map { item(.number(UInt64($0)), $0 % 10) }
        batch[20] = item(.number(7), 3)
        #expect(try s.upsert(batch) == UpsertCounts(inserted: 99, replaced: 1))
        #expect(try s.get([.number(7)]) == [batch[20]])
        #expect(try s.list(pageSize: 1, after: 7).items == [batch[20]])  // id 7 kept rowid 8
        listed = try s.list(pageSize: 1_000, after: 249).items
        #expect(listed.count == 99 && listed.first == batch[0] && listed.last == batch[99])
        #expect(try s.count() == 348)

        // Both kinds in one chunk of 64.
        let mixed = (0..<64).map { item($0 % 2 == 0 ? .number(UInt64(5_000 + $0)) : .string("m\($0)"), $0 % 10) }
        #expect(try s.upsert(mixed) == UpsertCounts(inserted: 64))
        #expect(try s.get(mixed.map(\.id)) == mixed)
        // The same 64 again: all replaced.
        #expect(try s.upsert(mixed) == UpsertCounts(replaced: 64))
        #expect(try s.count() == 412)
    }

    @Test func upsertIsIdempotentAndOverwrites() throws {
        let s = try store()
        let items = (0..<10).map { Fixtures.item(UInt64($0)) }
        try s.upsert(items)
        try s.upsert(items)
        #expect(try s.count() == 10)
        var changed = items[4]
        changed.labels = [7]
        changed.code = [0, 0, 0, 0]
        try s.upsert([changed])
        #expect(try s.count() == 10)
        #expect(try s.get([changed.id]) == [changed])
        // Overwriting keeps the item's place in the listing.
        #expect(try s.list(pageSize: 100, after: nil).items.map(\.id) == items.map(\.id))
    }

    @Test func duplicateIdsInOneBatchLastWins() throws {
        let s = try store()
        var a = Fixtures.item(1), b = Fixtures.item(1)
        a.labels = [1]
        b.labels = [2]
        try s.upsert([a, Fixtures.item(2), b])
        #expect(try s.count() == 2)
        #expect(try s.get([.number(1)]) == [b])
    }

    @Test func invalidItemsRejectWholeBatch() throws {
        let s = try store()
        var bad: [StoredItem] = []
        var i = Fixtures.item(1); i.labels = [10]; bad.append(i)                      // label >= classCount
        i = Fixtures.item(1); i.code = [1, 2, 3]; bad.append(i)                        // wrong code length
        i = Fixtures.item(1); i.code = [1, 2, 3, 16]; bad.append(i)                    // code >= K
        i = Fixtures.item(1); i.vector = nil; bad.append(i)                            // keepVectors needs one
        i = Fixtures.item(1); i.vector = [1, 2, 3]; bad.append(i)                      // dimension
        i = Fixtures.item(1); i.vector = [1, .nan, 3, 4]; bad.append(i)                // finite
        i = Fixtures.item(1); i.id = .string(""); bad.append(i)                        // id
        for item in bad {
            let e = Fixtures.storageError { try s.upsert([Fixtures.item(2), item]) }
            #expect(e?.kind == "invalidArgument", "\(item)")
        }
        #expect(try s.count() == 0)
    }

    @Test func vectorsAreDroppedWithoutKeepVectors() throws {
        let s = try store(Fixtures.config(keepVectors: false))
        try s.upsert([Fixtures.item(1)])
        var expected = Fixtures.item(1)
        expected.vector = nil
        #expect(try s.get([.number(1)]) == [expected])
        #expect(try s.loadAll().vectors == nil)
    }

    @Test func twoByteCodes() throws {
        let s = try store(Fixtures.config(codebookSize: 1024, blocks: 2))
        let item = StoredItem(id: .number(1), labels: [], code: [0xff, 0x03, 0x00, 0x02], vector: [0, 0, 0, 0])
        try s.upsert([item])
        #expect(try s.get([.number(1)]) == [item])
        #expect(try s.loadAll().codes.code(item: 0, block: 0) == 1023)
        let tooBig = StoredItem(id: .number(2), labels: [], code: [0x00, 0x04, 0x00, 0x00], vector: [0, 0, 0, 0])
        #expect(Fixtures.storageError { try s.upsert([tooBig]) }?.kind == "invalidArgument")
    }

    @Test func deleteCountsExistingOnly() throws {
        let s = try store()
        let items = (0..<10).map { Fixtures.item(UInt64($0)) }
        try s.upsert(items)
        #expect(try s.delete([items[0].id, items[3].id, .number(12345), items[3].id]) == 2)
        #expect(try s.count() == 8)
        #expect(try s.get([items[0].id, items[3].id, items[4].id]) == [items[4]])
        #expect(try s.delete([]) == 0)
    }

    @Test func paginationCoversEveryItemOnce() throws {
        let s = try store()
        try s.upsert((0..<103).map { Fixtures.item(UInt64($0)) })
        #expect(try s.delete([Fixtures.item(50).id, Fixtures.item(51).id]) == 2)
        for pageSize in [1, 7, 10, 101, 200] {
            var seen: [ItemID] = []
            var cursor: Int64? = nil
            var pages = 0
            repeat {
                let page = try s.list(pageSize: pageSize, after: cursor)
                #expect(page.items.count <= pageSize)
                seen += page.items.map(\.id)
                cursor = page.next
                pages += 1
            } while cursor != nil
            #expect(seen.count == 101)
            #expect(Set(seen).count == 101)
            let kept: [UInt64] = (0..<103).filter { $0 != 50 && $0 != 51 }
            let wanted: [ItemID] = kept.map { Fixtures.item($0).id }
            #expect(seen == wanted)
            #expect(pages == (101 + pageSize - 1) / pageSize)
        }
        #expect(Fixtures.storageError { _ = try s.list(pageSize: 0, after: nil) }?.kind == "invalidArgument")
        // Items added after a delete of the last row never reuse its rowid, so they come later.
        let first = try s.list(pageSize: 101, after: nil)
        #expect(first.next == nil)
        _ = try s.delete([Fixtures.item(102).id])
        try s.upsert([Fixtures.item(500)])
        let lastRowid = try s.pool.read { try Int64.fetchOne($0, sql: "SELECT MAX(rowid) FROM items") }
        #expect(lastRowid == 104)
    }

    @Test func loadAllMatchesGet() throws {
        let s = try store()
        var items = (0..<30).map { Fixtures.item(UInt64($0)) }
        items[7].code = []                  // added before a model: uncoded
        try s.upsert(items)
        let loaded = try s.loadAll()
        #expect(Array(loaded.ids) == items.map(\.id))
        #expect((0..<loaded.labels.count).map { loaded.labels.labels(of: $0) } == items.map { Array(Set($0.labels)).sorted() })
        #expect(loaded.uncoded == [7])
        #expect(loaded.codes.count == 30 && loaded.codes.blocks == 4 && loaded.codes.bytesPerCode == 1)
        for (r, item) in items.enumerated() where r != 7 {
            #expect(Array(loaded.codes.bytes[(r * 4)..<(r * 4 + 4)]) == item.code)
        }
        #expect(loaded.vectors == Matrix(items.map { $0.vector! }))
        // Empty collection.
        let e = try store()
        let none = try e.loadAll()
        #expect(none.ids.isEmpty && none.codes.count == 0 && none.vectors?.rows == 0)
    }

    @Test func trainingDataRoundTrip() throws {
        let s = try store()
        #expect(try s.trainingDataCount() == 0)
        let a = Matrix(rows: 3, cols: 4, values: (0..<12).map { Float($0) * 0.5 })
        let b = Matrix(rows: 2, cols: 4, values: (0..<8).map { -Float($0) })
        try s.appendTrainingData(vectors: a, labels: [[1], [], [2, 3, 9]])
        try s.appendTrainingData(vectors: b, labels: [])
        #expect(try s.trainingDataCount() == 5)
        let (m, l) = try s.trainingData()
        #expect(m == Matrix(rows: 5, cols: 4, values: a.values + b.values))
        #expect(l == [[1], [], [2, 3, 9], [], []])
        #expect(Fixtures.storageError { try s.appendTrainingData(vectors: Matrix(rows: 1, cols: 3), labels: []) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try s.appendTrainingData(vectors: a, labels: [[1]]) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try s.appendTrainingData(vectors: a, labels: [[1], [10], [0]]) }?.kind == "invalidArgument")
        try s.clearTrainingData()
        #expect(try s.trainingDataCount() == 0)
        #expect(try s.trainingData().0.rows == 0)
    }

    @Test func stateAndProgress() throws {
        let s = try store()
        #expect(try s.state() == .untrained)
        #expect(try s.lastError() == nil)
        #expect(try s.progress() == nil)
        try s.setState(.training, error: nil)
        try s.saveProgress(Data(#"{"epoch":1}"#.utf8))
        try s.saveProgress(Data(#"{"epoch":2}"#.utf8))
        #expect(try s.progress() == Data(#"{"epoch":2}"#.utf8))
        try s.setState(.failed, error: "loss became NaN")
        #expect(try s.state() == .failed)
        #expect(try s.lastError() == "loss became NaN")
        #expect(Fixtures.storageError { try s.setState(.ready, error: nil) }?.kind == "failedPrecondition")
    }
}
