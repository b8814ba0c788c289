// The index against brute force: after a mix of upserts (new and overwriting) and removals,
// every search must return the items a full decode-and-score would rank first.

import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct CodeIndexTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    static func randomItem(_ id: ItemID, _ r: inout SeededRandom, blocks: Int = 4, k: Int = 16) -> StoredItem {
        StoredItem(id: id, labels: [Int(r.next() % 10)] + (r.next() % 2 == 0 ? [Int(r.next() % 10)] : []),
                   code: (0..<blocks).map { _ in UInt8(r.next() % UInt64(k)) },
                   vector: (0..<4).map { _ in r.normal() })
    }

    /// The top k by decoding every item, as (id, score).
    static func bruteForce(_ items: [ItemID: StoredItem], model: DPQModel, query: [Float], k: Int, m: Int,
                           metric: SearchMetric, filter: Set<Int>?) -> [(ItemID, Float)] {
        let list = items.values.filter { item in filter.map { !$0.isDisjoint(with: item.labels) } ?? true }
        if list.isEmpty { return [] }
        let codes = CodeMatrix(count: list.count, blocks: 4, bytesPerCode: 1, bytes: list.flatMap(\.code))
        let x = try! model.decode(codes, blocks: m)
        let scored = list.enumerated().map { i, item -> (ItemID, Float) in
            let row = x.row(i)
            let ip = zip(row, query).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let l2 = zip(row, query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            return (item.id, metric == .innerProduct ? ip : l2)
        }
        let sorted = scored.sorted { metric == .innerProduct ? $0.1 > $1.1 : $0.1 < $1.1 }
        return Array(sorted.prefix(k))
    }

    func check(_ index: CodeIndex, _ truth: [ItemID: StoredItem], model: DPQModel, seed: UInt64) throws {
        #expect(index.count == truth.count)
        // K = 16 here: the fast-scan copy of the codes follows every mutation.
        #expect(index.fastCodes?.unpacked() == index.codes)
        // Kept norms follow every mutation too; an index without them computes them per L2 search.
        if let norms = index.norms { #expect(norms == PrefixNorms(codes: index.codes, codebooks: model.codebooks)) }
        for (row, id) in index.ids.enumerated() {
            #expect(index.row(of: id) == row)
            #expect(Array(index.codes.bytes[(row * 4)..<(row * 4 + 4)]) == truth[id]?.code)
            #expect(index.labels.labels(of: row) == Array(Set(truth[id]!.labels)).sorted())
            #expect(Array(index.vectors!.row(row)) == truth[id]?.vector)
        }
        var r = SeededRandom(seed: seed)
        let queries = Matrix(rows: 3, cols: 4, values: (0..<12).map { _ in r.normal() })
        for metric in SearchMetric.allCases {
            for m in [1, 2, 4] {
                for filter in [nil, Set([3]), Set([1, 7])] as [Set<Int>?] {
                    let k = 7
                    let got = try index.search(queries: queries, k: k, blocks: m, metric: metric, labelFilter: filter, threads: 2)
                    #expect(got.count == 3)
                    for q in 0..<3 {
                        let want = Self.bruteForce(truth, model: model, query: Array(queries.row(q)), k: k, m: m, metric: metric, filter: filter)
                        #expect(got[q].count == want.count)
                        for (g, w) in zip(got[q], want) {
                            #expect(abs(g.score - w.1) <= 1e-3 * (1 + abs(w.1)), "\(metric) m=\(m) \(g) vs \(w)")
                            #expect(g.labels == Array(Set(truth[g.id]!.labels)).sorted())
                            if let filter { #expect(!filter.isDisjoint(with: g.labels)) }
                        }
                        // Each returned item really has its score (ties make the id set ambiguous).
                        let all = Self.bruteForce(truth, model: model, query: Array(queries.row(q)), k: truth.count, m: m, metric: metric, filter: filter)
                        let trueScore = Dictionary(uniqueKeysWithValues: all.map { ($0.0, $0.1) })
                        for g in got[q] {
                            #expect(abs(g.score - trueScore[g.id]!) <= 1e-3 * (1 + abs(g.score)))
                        }
                        #expect(Set(got[q].map(\.id)).count == got[q].count)
                    }
                }
            }
        }
    }

    /// How the index holds prefix norms: from the start, never (computed per L2 search), or
    /// from the third round of mutations on (`addNorms`, as the server does at its first L2 search).
    enum Norms: CaseIterable { case kept, never, addedLater }

    @Test(arguments: Norms.allCases) func searchMatchesBruteForceAfterMutations(norms: Norms) throws {
        let config = Fixtures.config()
        let model = Fixtures.model(config, seed: 11)
        let store = try DataDirectory(root: tmp.path).createCollection(config)
        var r = SeededRandom(seed: 5)
        var truth: [ItemID: StoredItem] = [:]
        let initial = (0..<300).map { n in Self.randomItem(n % 2 == 0 ? .number(UInt64(n)) : .string("s\(n)"), &r) }
        try store.upsert(initial)
        for item in initial { truth[item.id] = item }
        var index = try CodeIndex(store: store, model: model, keepNorms: norms == .kept)
        #expect((index.norms != nil) == (norms == .kept))
        try check(index, truth, model: model, seed: 1)

        for round in 0..<5 {
            if round == 2 && norms == .addedLater {
                let computed = index.prefixNorms(threads: 2)
                index.addNorms(computed)
                #expect(index.norms == computed)
            }
            // Overwrite some, add some, remove some (including absent ids and just-added ones).
            var batch: [StoredItem] = []
            let existing = Array(truth.keys)
            for _ in 0..<20 { batch.append(Self.randomItem(existing[Int(r.next() % UInt64(existing.count))], &r)) }
            for n in 0..<25 { batch.append(Self.randomItem(.number(UInt64(10_000 + round * 100 + n)), &r)) }
            batch.append(Self.randomItem(batch[0].id, &r))          // duplicate in a batch: last wins
            try store.upsert(batch)
            // Odd rounds give the index columns (ItemBatch), as a server's bulk writes do.
            if round % 2 == 0 { try index.upsert(batch) } else { try index.upsert(ItemBatchTests.batch(batch, vectors: true)) }
            for item in batch { truth[item.id] = item }
            // A bulk load's batch: ascending numbers above every id so far.
            let fresh = (0..<10).map { n in Self.randomItem(.number(UInt64(1_000_000 + round * 10 + n)), &r) }
            try store.upsert(fresh)
            if round % 2 == 0 { try index.upsert(fresh) } else { try index.upsert(ItemBatchTests.batch(fresh, vectors: true)) }
            for item in fresh { truth[item.id] = item }

            let keys = Array(truth.keys)
            var removed = (0..<30).map { _ in keys[Int(r.next() % UInt64(keys.count))] }
            removed.append(.string("never-existed"))
            removed.append(batch.last!.id)
            _ = try store.delete(removed)
            index.remove(removed)
            for id in removed { truth[id] = nil }
            try check(index, truth, model: model, seed: UInt64(round + 2))
            #expect((index.norms != nil) == (norms == .kept || (norms == .addedLater && round >= 2)))
        }
        // The index rebuilt from disk agrees with the mutated one.
        let rebuilt = try CodeIndex(store: store, model: model)
        try check(rebuilt, truth, model: model, seed: 99)
        #expect(Set(rebuilt.ids) == Set(index.ids))
    }

    @Test func uncodedItemsAndEdgeCases() throws {
        let config = Fixtures.config()
        let model = Fixtures.model(config, seed: 2)
        var r = SeededRandom(seed: 1)
        var a = Self.randomItem(.number(1), &r), b = Self.randomItem(.number(2), &r)
        b.code = []
        let loaded = LoadedItems(ids: [a.id, b.id], codes: CodeMatrix(count: 2, blocks: 4, bytesPerCode: 1, bytes: a.code + [0, 0, 0, 0]),
                                 labels: Labels(multi: [a.labels, b.labels], classCount: 10), vectors: Matrix([a.vector!, b.vector!]), uncoded: [1])
        var index = try CodeIndex(loaded, codebooks: model.codebooks, classCount: 10)
        #expect(index.ids == [a.id])
        let q = Matrix(rows: 1, cols: 4, values: [1, 0, 0, 0])
        #expect(try index.search(queries: q, k: 0, blocks: 4, metric: .squaredL2)[0].isEmpty)
        #expect(try index.search(queries: q, k: 10, blocks: 4, metric: .squaredL2)[0].map(\.id) == [a.id])
        #expect(Fixtures.storageError { _ = try index.search(queries: q, k: 1, blocks: 5, metric: .squaredL2) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { _ = try index.search(queries: Matrix(rows: 1, cols: 3), k: 1, blocks: 1, metric: .squaredL2) }?.kind == "invalidArgument")
        // An item upserted without a code leaves the index; bad codes change nothing.
        a.code = []
        var bad = b
        bad.code = [1, 2, 3, 99]
        #expect(Fixtures.storageError { try index.upsert([a, bad]) }?.kind == "invalidArgument")
        #expect(index.count == 1)
        try index.upsert([a])
        #expect(index.count == 0)
        #expect(try index.search(queries: q, k: 3, blocks: 2, metric: .innerProduct)[0].isEmpty)
    }
}
