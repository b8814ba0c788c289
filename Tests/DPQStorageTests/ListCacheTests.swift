// The list cache: an index built with it has exactly the lists of one built without (every row
// in the same list), reusing the entries whose row and code are unchanged and assigning the
// rest (new rows, rewritten codes; deleted rows simply drop out); another model or other
// centroids use none of it; the file round-trips, and damaged files are refused, not trusted.

import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct ListCacheTests {
    static func loaded(_ items: [StoredItem], rowids: [Int64]) -> LoadedItems {
        var l = CodeIndexListsTests.loaded(items)
        l.rowids = rowids
        return l
    }

    static func listOfEveryRow(_ index: CodeIndex) -> [Int] {
        (0..<index.count).map { index.lists!.location(of: $0)!.list }
    }

    @Test func reusesUnchangedRowsAndAssignsTheRestToTheSameLists() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 8)
        var r = SeededRandom(seed: 12)
        let items = CodeIndexListsTests.items(0..<2_000, &r, k: 256)
        let rowids = (0..<2_000).map { Int64($0 * 2 + 1) }
        let first = try CodeIndex(Self.loaded(items, rowids: rowids), codebooks: model.codebooks, classCount: 10,
                                  partition: .kmeans(lists: 32))
        let trained = try #require(first.trainedLists)
        let cache = try #require(first.listCache(rowids: rowids))
        #expect(cache.lists.map(Int.init) == Self.listOfEveryRow(first))

        // What a restart finds later: rows 100..<150 deleted, the codes of rows 200..<260 rewritten,
        // 300 new rows after the last (higher rowids, as SQLite's AUTOINCREMENT gives them).
        var later = items, laterRowids = rowids
        for i in 200..<260 { later[i].code = (0..<4).map { _ in UInt8(r.next() % 256) } }
        later.removeSubrange(100..<150); laterRowids.removeSubrange(100..<150)
        let added = CodeIndexListsTests.items(5_000..<5_300, &r, k: 256)
        later += added; laterRowids += (0..<300).map { Int64(10_000 + $0) }

        let withCache = try CodeIndex(Self.loaded(later, rowids: laterRowids), codebooks: model.codebooks, classCount: 10,
                                      partition: .kmeans(lists: 32), trainedLists: trained, listCache: cache)
        let without = try CodeIndex(Self.loaded(later, rowids: laterRowids), codebooks: model.codebooks, classCount: 10,
                                    partition: .kmeans(lists: 32), trainedLists: trained)
        #expect(Self.listOfEveryRow(withCache) == Self.listOfEveryRow(without))
        // Rewritten codes may land in their old list by chance; every untouched row is reused.
        let untouched = 2_000 - 50 - 60
        #expect(withCache.listsFromCache >= untouched && withCache.listsFromCache < untouched + 60)
        #expect(without.listsFromCache == 0)
        try CodeIndexListsTests().expectListsMatchExhaustive(withCache, seed: 3)

        // A list number out of range (a damaged file whose digest still matches): none of it is used.
        var damaged = cache
        damaged.lists[7] = .max
        let fromDamaged = try CodeIndex(Self.loaded(later, rowids: laterRowids), codebooks: model.codebooks, classCount: 10,
                                        partition: .kmeans(lists: 32), trainedLists: trained, listCache: damaged)
        #expect(fromDamaged.listsFromCache == 0)
        #expect(Self.listOfEveryRow(fromDamaged) == Self.listOfEveryRow(without))

        // Another model: the digest differs and nothing is reused.
        let other = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 9)
        let otherIndex = try CodeIndex(Self.loaded(later, rowids: laterRowids), codebooks: other.codebooks, classCount: 10,
                                       partition: .kmeans(lists: 32), trainedLists: trained, listCache: cache)
        #expect(otherIndex.listsFromCache == 0)
    }

    @Test func fileRoundTripsAndDamageIsRefused() throws {
        let cache = ListCache(digest: 0xfeed, width: 3, rowids: [1, 5, 9], codes: [1, 2, 3, 4, 5, 6, 7, 8, 9], lists: [0, 7, 2])
        let data = cache.encoded()
        #expect(ListCache(decoding: data) == cache)
        #expect(ListCache(decoding: data.dropLast()) == nil)
        #expect(ListCache(decoding: Data("DPQLIST2".utf8) + data.dropFirst(8)) == nil)
        var unsorted = data
        unsorted[32] = 10  // rowid 1 -> 10, above the next one
        #expect(ListCache(decoding: unsorted) == nil)
        #expect(ListCache(decoding: Data()) == nil)
        // From a file, read into the arrays: the same cache, and the same refusals.
        let files = TemporaryDirectory()
        func fromFile(_ bytes: Data) throws -> ListCache? {
            let path = files.path + "/lists.cache"
            try bytes.write(to: URL(fileURLWithPath: path))
            return ListCache(contentsOfFile: path)
        }
        #expect(try fromFile(data) == cache)
        #expect(try fromFile(data.dropLast()) == nil)
        #expect(try fromFile(data + Data([0])) == nil)
        #expect(try fromFile(unsorted) == nil)
        #expect(try fromFile(Data()) == nil)
        let empty = ListCache(digest: 1, width: 8, rowids: [], codes: [], lists: [])
        #expect(try fromFile(empty.encoded()) == empty)
        #expect(ListCache(contentsOfFile: files.path + "/missing") == nil)

        // Lookups: by rowid and code, under the same digest and width only.
        #expect(cache.lists(rowids: [1, 2, 9], codes: [1, 2, 3, 0, 0, 0, 7, 8, 0], width: 3, digest: 0xfeed) == [0, -1, -1])
        #expect(cache.lists(rowids: [5, 9], codes: [4, 5, 6, 7, 8, 9], width: 3, digest: 0xfeed) == [7, 2])
        #expect(cache.lists(rowids: [5], codes: [4, 5, 6], width: 3, digest: 0xbeef) == nil)

        // Through a store: saved beside the items, loaded back; a damaged file reads as none.
        let tmp = TemporaryDirectory()
        let directory = try DataDirectory(root: tmp.path)
        let store = try directory.createCollection(Fixtures.config())
        #expect(store.loadListCache() == nil)
        try store.saveListCache(cache)
        #expect(store.loadListCache() == cache)
        try Data("not a cache".utf8).write(to: URL(fileURLWithPath: (store.directory as NSString).appendingPathComponent(ListCache.fileName)))
        #expect(store.loadListCache() == nil)
        directory.close()
    }
}
