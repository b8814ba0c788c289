// Batches given as columns (ItemBatch) against the same items given one by one: the index and
// the stores must end up the same either way, and refuse the same bad input with the same error.

import DPQEngine
import Foundation
import Testing
@testable import DPQStorage

@Suite struct ItemBatchTests {
    static func batch(_ items: [StoredItem], blocks: Int = 4, vectors: Bool) -> ItemBatch {
        let coded = items.allSatisfy { !$0.code.isEmpty }
        precondition(coded || items.allSatisfy { $0.code.isEmpty }, "all coded or none")
        return ItemBatch(ids: items.map(\.id), labels: items.map(\.labels),
                         codes: coded ? CodeMatrix(count: items.count, blocks: blocks, bytesPerCode: 1, bytes: items.flatMap(\.code)) : nil,
                         vectors: vectors ? Matrix(rows: items.count, cols: Fixtures.dimension, values: items.flatMap { $0.vector! }) : nil)
    }

    func expectSame(_ a: CodeIndex, _ b: CodeIndex, _ note: String) {
        #expect(Array(a.ids) == Array(b.ids), "\(note): ids")
        #expect(a.codes == b.codes, "\(note): codes")
        #expect(a.norms == b.norms, "\(note): norms")
        #expect(a.labels == b.labels, "\(note): labels")
        #expect(a.vectors == b.vectors, "\(note): vectors")
        #expect(a.fastCodes == b.fastCodes, "\(note): fast-scan codes")
        let lists = (0..<a.count).map { a.lists?.location(of: $0)?.list }
        #expect(lists == (0..<b.count).map { b.lists?.location(of: $0)?.list }, "\(note): lists")
    }

    /// Replacements, new ids, a repeated id and removals, in batches of both forms; a bulk batch
    /// of new ids only (appended column by column); lists, norms, vectors and the K = 16 layout.
    @Test(arguments: [(ListPartition.kmeans(lists: 24), 16, true, true), (.firstBlock, 16, false, false),
                      (.kmeans(lists: 24), 256, true, false), (.none, 256, false, true)])
    func indexColumnsActAsItems(partition: ListPartition, k: Int, keepNorms: Bool, keepVectors: Bool) throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: k), seed: 3)
        var r = SeededRandom(seed: 17)
        var loaded = CodeIndexListsTests.loaded(CodeIndexListsTests.items(0..<1_200, &r, k: k))
        if !keepVectors { loaded.vectors = nil }
        var byItems = try CodeIndex(loaded, codebooks: model.codebooks, classCount: 10, keepNorms: keepNorms,
                                    partition: partition, threads: 2)
        var byColumns = byItems
        expectSame(byItems, byColumns, "start")
        for round in 0..<4 {
            let held = Array(byItems.ids)
            var mixed = (0..<40).map { _ in held[Int(r.next() % UInt64(held.count))] }.map { id in
                StoredItem(id: id, labels: [Int(r.next() % 10)], code: (0..<4).map { _ in UInt8(r.next() % UInt64(k)) },
                           vector: (0..<4).map { _ in r.normal() })
            }
            mixed += CodeIndexListsTests.items((5_000 + round * 100)..<(5_030 + round * 100), &r, k: k)
            mixed.append(StoredItem(id: mixed[3].id, labels: [1, 2], code: mixed[0].code, vector: mixed[0].vector))  // the later wins
            try byItems.upsert(mixed)
            try byColumns.upsert(Self.batch(mixed, vectors: keepVectors))
            expectSame(byItems, byColumns, "round \(round), mixed")

            let bulk = (0..<300).map { n in
                StoredItem(id: .number(UInt64(100_000 + round * 1_000 + n)), labels: [Int(r.next() % 10)],
                           code: (0..<4).map { _ in UInt8(r.next() % UInt64(k)) }, vector: (0..<4).map { _ in r.normal() })
            }
            try byItems.upsert(bulk)
            try byColumns.upsert(Self.batch(bulk, vectors: keepVectors))
            expectSame(byItems, byColumns, "round \(round), bulk")

            // A batch without codes removes its ids, as uncoded items do.
            let uncoded = (0..<5).map { StoredItem(id: held[$0 * 7], labels: [], code: [], vector: [0, 0, 0, 0]) }
            try byItems.upsert(uncoded)
            try byColumns.upsert(Self.batch(uncoded, vectors: true))
            expectSame(byItems, byColumns, "round \(round), uncoded")
            #expect(uncoded.allSatisfy { byColumns.row(of: $0.id) == nil })
        }
        #expect(byColumns.count == 1_200 + 4 * (30 + 300) - 20)
    }

    /// Bad batches change nothing and name the bad item, as item by item.
    @Test func indexRefusesBadColumns() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 16), seed: 3)
        var r = SeededRandom(seed: 2)
        let index = try CodeIndex(CodeIndexListsTests.loaded(CodeIndexListsTests.items(0..<100, &r, k: 16)),
                                  codebooks: model.codebooks, classCount: 10, partition: .none, threads: 1)
        var good = CodeIndexListsTests.items(200..<210, &r, k: 16)
        var badLabel = good, badCode = good
        badLabel[5].labels = [10]
        badCode[6].code[2] = 16
        for (bad, expected) in [(badLabel, "item 205: label 10 is outside 0..<10"),
                                (badCode, "item 206: code 16 is not below the codebook size 16")] {
            var a = index, b = index
            let e1 = Fixtures.storageError { try a.upsert(bad) }, e2 = Fixtures.storageError { try b.upsert(Self.batch(bad, vectors: true)) }
            #expect(e1 == .invalidArgument(expected))
            #expect(e2 == e1)
            expectSame(a, index, "unchanged by items")
            expectSame(b, index, "unchanged by columns")
        }
        // The index keeps vectors: a batch without them is refused.
        var c = index
        good[0].vector = nil
        #expect(Fixtures.storageError { try c.upsert(Self.batch(good, vectors: false)) }
                == .invalidArgument("item 200: the index keeps vectors of dimension 4, got none"))
        expectSame(c, index, "unchanged")
    }
}

extension StorageBackendTests.StorageContractTests {
    /// The same sequence of writes as items into one collection and as column batches into another:
    /// bulk batches (segments on SQLite), replacements, a repeated id, pending items without codes.
    @Test(arguments: Backend.allCases)
    func columnBatchesStoreWhatItemsWould(_ backend: Backend) throws {
        let f = try StoreFixture(backend)
        for keep in [false, true] {
            let byItems = try f.collection(Fixtures.config("items\(keep)", keepVectors: keep))
            let byColumns = try f.collection(Fixtures.config("columns\(keep)", keepVectors: keep))
            var r = SeededRandom(seed: 4)
            func item(_ id: ItemID, coded: Bool = true) -> StoredItem {
                StoredItem(id: id, labels: [Int(r.next() % 10)], code: coded ? (0..<4).map { _ in UInt8(r.next() % 16) } : [],
                           vector: (0..<4).map { _ in r.normal() })
            }
            var batches: [[StoredItem]] = []
            batches.append((0..<600).map { item(.number(UInt64($0))) })                         // bulk: ascending new numbers
            batches.append((0..<50).map { item(.number(UInt64($0 * 11))) } + [item(.string("a")), item(.number(5))])
            batches.append((1_000..<1_300).map { item(.number(UInt64($0))) })                    // bulk again
            batches.append((0..<20).map { item(.number(UInt64(2_000 + $0)), coded: false) })     // pending
            batches.append((0..<20).map { item(.number(UInt64(1_000 + $0 * 3))) })               // replaces bulk items
            for (i, items) in batches.enumerated() {
                let a = try byItems.upsert(items)
                let b = try byColumns.upsert(ItemBatchTests.batch(items, vectors: keep || items[0].code.isEmpty))
                #expect(a == b, "batch \(i): counts")
            }
            let listedA = try byItems.list(pageSize: 10_000, after: nil).items
            let listedB = try byColumns.list(pageSize: 10_000, after: nil).items
            #expect(listedA == listedB)
            #expect(listedA.count == 600 + 1 + 300 + 20)  // of the second batch only "a" is new
            let loadedA = try byItems.loadAll(), loadedB = try byColumns.loadAll()
            #expect(Array(loadedA.ids) == Array(loadedB.ids) && loadedA.codes == loadedB.codes && loadedA.labels == loadedB.labels)
            #expect(loadedA.uncoded == loadedB.uncoded && loadedA.vectors == loadedB.vectors)

            // Refused alike, naming the item, and nothing stored.
            var bad = (3_000..<3_300).map { item(.number(UInt64($0))) }
            bad[17].labels = [10]
            let e1 = Fixtures.storageError { try byItems.upsert(bad) }
            let e2 = Fixtures.storageError { try byColumns.upsert(ItemBatchTests.batch(bad, vectors: keep)) }
            #expect(e1 == .invalidArgument("item 3017: label 10 is outside 0..<10"))
            #expect(e2 == e1)
            if keep {
                let e3 = Fixtures.storageError { try byColumns.upsert(ItemBatchTests.batch(Array(bad.prefix(3)), vectors: false)) }
                #expect(e3 == .invalidArgument("item 3000: the collection keeps vectors and this item has none"))
            }
            var infinite = Array(bad.prefix(5))
            infinite[2].vector![1] = .infinity
            let pending = infinite.map { StoredItem(id: $0.id, labels: [], code: [], vector: $0.vector) }
            let e4 = Fixtures.storageError { try byItems.upsert(pending) }
            #expect(e4 == .invalidArgument("item 3002: vector value 1 is inf, values must be finite"))
            #expect(Fixtures.storageError { try byColumns.upsert(ItemBatchTests.batch(pending, vectors: true)) } == e4)
            #expect(try byColumns.count() == listedA.count)
        }
    }
}
