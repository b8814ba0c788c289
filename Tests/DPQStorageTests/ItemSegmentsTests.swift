// Item segments (ItemSegments.swift) against a model of what the store must hold: a random
// mix of bulk batches (stored as segments), row batches that replace items of segments and add
// others, deletions inside and between segments' ids and of whole segments, recodes, listing,
// counting and reopening.
// Every read must be what the same writes made row by row would give, rowids included.

import DPQEngine
import Foundation
import GRDB
@testable import DPQStorage
import Testing

@Suite struct ItemSegmentsTests {
    let tmp = TemporaryDirectory()

    /// What the store must hold: items by id, and each id's rowid.
    struct Model {
        var items: [ItemID: StoredItem] = [:]
        var rowids: [ItemID: Int64] = [:]
        var highWater: Int64 = 0

        mutating func upsert(_ batch: [StoredItem]) -> UpsertCounts {
            var counts = UpsertCounts()
            for item in batch {
                if items[item.id] == nil {
                    highWater += 1
                    rowids[item.id] = highWater
                    counts.inserted += 1
                } else {
                    counts.replaced += 1
                }
                items[item.id] = item
            }
            return counts
        }

        mutating func delete(_ ids: [ItemID]) -> Int {
            ids.reduce(0) { n, id in
                rowids[id] = nil
                return n + (items.removeValue(forKey: id) == nil ? 0 : 1)
            }
        }

        /// Items in rowid order.
        var listed: [StoredItem] { rowids.sorted { $0.value < $1.value }.map { items[$0.key]! } }
    }

    static func item(_ id: ItemID, _ r: inout SeededRandom) -> StoredItem {
        StoredItem(id: id, labels: (0..<Int(r.next() % 3)).map { _ in Int(r.next() % 10) },
                   code: (0..<4).map { _ in UInt8(r.next() % 16) }, vector: nil)
    }

    /// Where two item lists first differ (short, unlike printing both), or nil.
    static func difference(_ a: [StoredItem], _ b: [StoredItem]) -> String? {
        if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset { return "at \(i): \(a[i]) vs \(b[i])" }
        return a.count == b.count ? nil : "\(a.count) items vs \(b.count)"
    }

    static func deadCount(_ s: CollectionStore) throws -> Int {
        try s.pool.read { try Int.fetchOne($0, sql: "SELECT COALESCE(SUM(dead_count), 0) FROM item_segments") ?? 0 }
    }

    static func segmentCount(_ s: CollectionStore) throws -> Int {
        try s.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM item_segments") ?? 0 }
    }

    @Test func segmentsReadAsRowsWould() throws {
        let directory = tmp.path + "/data"
        let config = Fixtures.config("seg", keepVectors: false)
        var s = try DataDirectory(root: directory).createCollection(config)
        var model = Model()
        var r = SeededRandom(seed: 11)
        var nextID: UInt64 = 0
        var sawSegments = 0, sawExtract = false, sawWholeSegmentGo = false
        func randomID() -> ItemID {
            // Mostly ids that exist or fall between a segment's ids; some beyond; a few strings.
            switch r.next() % 10 {
            case 0: return .string("s\(r.next() % 50)")
            case 1: return .number(nextID + r.next() % 100)
            default: return .number(r.next() % max(nextID, 1))
            }
        }
        for step in 0..<60 {
            let before = try Self.segmentCount(s)
            switch r.next() % 6 {
            case 0, 1:
                // A bulk batch: new ascending ids above all, with gaps, 256 to 600 of them.
                let n = 256 + Int(r.next() % 345)
                var batch = [StoredItem]()
                // Row batches may have added ids beyond nextID.
                for id in model.items.keys { if case .number(let v) = id { nextID = max(nextID, v) } }
                for _ in 0..<n {
                    nextID += 1 + r.next() % 3
                    batch.append(Self.item(.number(nextID), &r))
                }
                #expect(try s.upsert(batch) == model.upsert(batch), "step \(step)")
                #expect(try Self.segmentCount(s) == before + 1, "step \(step): a bulk batch is one segment")
                sawSegments += 1
            case 2:
                // A row batch: replacements and new ids, in no order.
                var seen = Set<ItemID>()
                let batch = (0..<(1 + Int(r.next() % 40))).map { _ in randomID() }.filter { seen.insert($0).inserted }.map { Self.item($0, &r) }
                #expect(try s.upsert(batch) == model.upsert(batch), "step \(step)")
            case 3:
                // A few ids, or every id of a stretch (whole segments go).
                var ids = (0..<(1 + Int(r.next() % 20))).map { _ in randomID() }
                if r.next() % 3 == 0, case .number(let a) = randomID() { ids = (a..<(a + 1_500)).map { .number($0) } }
                let unique = Array(Set(ids))
                #expect(try s.delete(unique) == model.delete(unique), "step \(step)")
            case 4:
                // A recode of some items, as a model switch does.
                let ids = (0..<(1 + Int(r.next() % 30))).map { _ in randomID() }.filter { model.items[$0] != nil }
                var recoded = [(ItemID, [UInt8])]()
                for id in Set(ids) {
                    let code = (0..<4).map { _ in UInt8(r.next() % 16) }
                    recoded.append((id, code))
                    model.items[id]?.code = code
                }
                try s.commitModel(Fixtures.model(config, seed: UInt64(step)), recodedItems: recoded)
            default:
                // Reopen: the start-up load must hold every item in rowid order.
                try s.close()
                s = try DataDirectory(root: directory).openCollection("seg")
                let loaded = try s.loadAll()
                let listed = model.listed
                #expect(loaded.ids.count == listed.count, "step \(step)")
                let same = (0..<loaded.ids.count).map { loaded.ids[$0] } == listed.map(\.id) && loaded.codes.bytes == listed.flatMap(\.code)
                #expect(same, "step \(step): ids and codes in rowid order")
                #expect((0..<loaded.ids.count).allSatisfy { loaded.labels.labels(of: $0) == Set(listed[$0].labels).sorted() }, "step \(step)")
                let rowids = loaded.rowids == listed.map { model.rowids[$0.id]! }
                #expect(rowids, "step \(step): rowids")
            }
            if try Self.segmentCount(s) < before { sawWholeSegmentGo = true }
            if try Self.deadCount(s) > 0 { sawExtract = true }
            // Every read agrees with the model.
            #expect(try s.count() == model.items.count, "step \(step)")
            let probe = (0..<30).map { _ in randomID() }
            #expect(try Self.difference(s.get(probe), probe.compactMap { model.items[$0] }) == nil, "step \(step)")
            var listed = [StoredItem](), cursor: Int64? = nil
            repeat {
                let page = try s.list(pageSize: 1 + Int(r.next() % 300), after: cursor)
                listed += page.items
                cursor = page.next
            } while cursor != nil
            #expect(Self.difference(listed, model.listed) == nil, "step \(step)")
        }
        #expect(sawSegments >= 10 && sawExtract && sawWholeSegmentGo, "the walk wrote segments, extracted items and emptied segments")
    }

    /// Batches that must not become segments: too small, ids not ascending, not above every
    /// stored id, strings, ids of 2^63 and above, items without codes, a collection keeping vectors.
    @Test func onlyBulkBatchesOfNewAscendingNumbersBecomeSegments() throws {
        let s = try DataDirectory(root: tmp.path + "/d2").createCollection(Fixtures.config("plain", keepVectors: false))
        var r = SeededRandom(seed: 3)
        func batch(_ ids: some Sequence<UInt64>) -> [StoredItem] { ids.map { Self.item(.number($0), &r) } }
        try s.upsert(batch(1_000..<1_100))                      // 100: too few
        try s.upsert(batch((2_000..<2_300).reversed()))          // descending
        try s.upsert(batch(500..<800))                           // below stored ids
        try s.upsert((0..<300).map { Self.item(.string("x\($0)"), &r) })
        try s.upsert(batch((0..<300).map { (1 << 63) + $0 }))
        var pending = batch(3_000..<3_300)
        pending[7].code = []
        pending[7].vector = [1, 2, 3, 4]
        try s.upsert(pending)
        #expect(try Self.segmentCount(s) == 0)
        try s.upsert(batch(4_000..<4_300))
        #expect(try Self.segmentCount(s) == 1)
        #expect(try s.count() == 100 + 300 * 6)

        let keeping = try DataDirectory(root: tmp.path + "/d3").createCollection(Fixtures.config("keep", keepVectors: true))
        try keeping.upsert(batch(0..<300).map { var i = $0; i.vector = [1, 2, 3, 4]; return i })
        #expect(try Self.segmentCount(keeping) == 0)
    }
}
