// The inverted lists inside CodeIndex against the index's own exhaustive search: with every list
// probed the answer must be the exhaustive one (same ids, same scores), whatever upserts and
// removals (with their row swaps) came before; with fewer lists, a subset of the items scored
// exactly. Also the partition's rules: automatic list counts, rebuilding as the index grows,
// norms added later, and config.json round trips.

import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct CodeIndexListsTests {
    static func items(_ ids: Range<Int>, _ r: inout SeededRandom, k: Int) -> [StoredItem] {
        ids.map { n in
            StoredItem(id: n % 3 == 0 ? .string("s\(n)") : .number(UInt64(n)), labels: [Int(r.next() % 10)],
                       code: (0..<4).map { _ in UInt8(r.next() % UInt64(k)) }, vector: (0..<4).map { _ in r.normal() })
        }
    }

    static func loaded(_ items: [StoredItem]) -> LoadedItems {
        LoadedItems(ids: ItemIDTable(items.map(\.id)), codes: CodeMatrix(count: items.count, blocks: 4, bytesPerCode: 1, bytes: items.flatMap(\.code)),
                    labels: Labels(multi: items.map(\.labels), classCount: 10), vectors: Matrix(items.map { $0.vector! }), uncoded: [])
    }

    /// nprobe = nlist against nprobe 0 for both metrics, prefixes and filters; and nprobe 1
    /// returns only items of the probed list with their exact scores.
    func expectListsMatchExhaustive(_ index: CodeIndex, seed: UInt64) throws {
        let nlist = index.listCount
        #expect(nlist > 0)
        #expect(index.lists?.count == index.count)
        var r = SeededRandom(seed: seed)
        let queries = Matrix(rows: 3, cols: 4, values: (0..<12).map { _ in r.normal() })
        for metric in SearchMetric.allCases {
            for m in [1, 3, 4] {
                for filter in [nil, Set([2]), Set([1, 8])] as [Set<Int>?] {
                    let exhaustive = try index.search(queries: queries, k: 10, blocks: m, metric: metric, labelFilter: filter, threads: 2)
                    for nprobe in [nlist, nlist + 5] {
                        let all = try index.search(queries: queries, k: 10, blocks: m, metric: metric, labelFilter: filter,
                                                   nprobe: nprobe, threads: 2)
                        for q in 0..<3 {
                            #expect(all[q].map(\.id) == exhaustive[q].map(\.id), "\(metric) m=\(m) filter \(String(describing: filter))")
                            for (a, e) in zip(all[q], exhaustive[q]) { #expect(abs(a.score - e.score) <= 1e-5 * (1 + abs(e.score))) }
                        }
                    }
                    let one = try index.search(queries: queries, k: 10, blocks: m, metric: metric, labelFilter: filter, nprobe: 1, threads: 2)
                    let everything = try index.search(queries: queries, k: index.count, blocks: m, metric: metric, labelFilter: filter, threads: 2)
                    for q in 0..<3 {
                        let truth = Dictionary(uniqueKeysWithValues: everything[q].map { ($0.id, $0.score) })
                        let lists = Set(one[q].compactMap { index.lists!.location(of: index.row(of: $0.id)!)?.list })
                        // nprobe 1 is one list where lists serve the metric (L2 over lists without norms scans everything).
                        #expect(lists.count <= 1 || index.probes(1, metric: metric) == 0)
                        for h in one[q] { #expect(abs(h.score - truth[h.id]!) <= 1e-5 * (1 + abs(h.score))) }
                    }
                }
            }
        }
    }

    /// K = 16 without norms: lists in the fast-scan layout (inner product through the SIMD kernels).
    @Test(arguments: [(ListPartition.firstBlock, 16, true), (.firstBlock, 256, true), (.kmeans(lists: 24), 16, true),
                      (.kmeans(lists: 24), 256, true), (.firstBlock, 16, false), (.kmeans(lists: 24), 16, false)])
    func listsFollowUpsertsAndRemovals(partition: ListPartition, k: Int, keepNorms: Bool) throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: k), seed: 3)
        var r = SeededRandom(seed: 7)
        var truth = Self.items(0..<1_200, &r, k: k)
        var index = try CodeIndex(Self.loaded(truth), codebooks: model.codebooks, classCount: 10, keepNorms: keepNorms,
                                  partition: partition, threads: 2)
        #expect(index.listCount == (partition == .firstBlock ? k : 24))
        #expect(index.lists?.lists.layout.isFastScan == (k == 16 && !keepNorms))
        try expectListsMatchExhaustive(index, seed: 1)
        for round in 0..<3 {
            // Overwrite some (new codes move them between lists), add some, remove some: every
            // removal swaps the last row into the hole, which the lists must follow.
            var batch = (0..<40).map { _ in truth[Int(r.next() % UInt64(truth.count))] }.map { old in
                StoredItem(id: old.id, labels: [Int(r.next() % 10)], code: (0..<4).map { _ in UInt8(r.next() % UInt64(k)) },
                           vector: old.vector)
            }
            batch += Self.items((5_000 + round * 100)..<(5_060 + round * 100), &r, k: k)
            try index.upsert(batch)
            var byID = Dictionary(truth.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            for item in batch { byID[item.id] = item }
            let removed = (0..<70).map { _ in Array(byID.keys)[Int(r.next() % UInt64(byID.count))] }
            index.remove(removed)
            for id in removed { byID[id] = nil }
            truth = Array(byID.values)
            #expect(index.count == truth.count)
            try expectListsMatchExhaustive(index, seed: UInt64(10 + round))
        }
        if !keepNorms {
            // Norms added (an L2 search asked): item-major lists with norms, serving both metrics.
            index.addNorms(index.prefixNorms(threads: 2), threads: 2)
            #expect(index.lists?.lists.layout.isFastScan == false && index.lists?.listNorms != nil)
            #expect(index.probes(1, metric: .squaredL2) == 1)
            try expectListsMatchExhaustive(index, seed: 20)
        }
    }

    /// Lists assigned before the upsert (a server assigns them off its write queue) are taken as
    /// given while the index has the lists they were computed under, and ignored otherwise.
    @Test func listsAssignedBeforehandAreUsedOnlyUnderTheirLists() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 5)
        var r = SeededRandom(seed: 11)
        let base = Self.items(0..<1_200, &r, k: 256)
        let index = try CodeIndex(Self.loaded(base), codebooks: model.codebooks, classCount: 10, keepNorms: true,
                                  partition: .kmeans(lists: 16), threads: 2)
        let batch = Self.items(2_000..<2_050, &r, k: 256)
        let codes = CodeMatrix(count: batch.count, blocks: 4, bytesPerCode: 1, bytes: batch.flatMap(\.code))
        let coarse = try #require(index.lists?.coarse)
        let exact = AssignedLists(codes: codes, coarse: coarse, codebooks: model.codebooks, threads: 1)

        // The right assignment gives the index that assigning in upsert gives.
        var plain = index, given = index
        try plain.upsert(batch)
        try given.upsert(batch, assigned: exact)
        let rows = batch.map { given.row(of: $0.id)! }
        #expect(rows.map { given.lists!.location(of: $0)!.list } == exact.lists.map(Int.init))
        #expect(batch.map { plain.lists!.location(of: plain.row(of: $0.id)!)!.list } == exact.lists.map(Int.init))
        try expectListsMatchExhaustive(given, seed: 2)

        // Taken as given: every item put into list 3 lands there.
        let forced = AssignedLists(coarse: coarse, lists: [Int32](repeating: 3, count: batch.count))
        var taken = index
        try taken.upsert(batch, assigned: forced)
        #expect(batch.allSatisfy { taken.lists!.location(of: taken.row(of: $0.id)!)!.list == 3 })

        // Computed under other centroids (lists rebuilt meanwhile): ignored, assigned again.
        let other = CoarseQuantizer(centroids: Matrix(rows: 16, cols: coarse.centroids.cols,
                                                      values: coarse.centroids.values.map { $0 + 1 }))
        var ignored = index
        try ignored.upsert(batch, assigned: AssignedLists(coarse: other, lists: [Int32](repeating: 3, count: batch.count)))
        #expect(batch.map { ignored.lists!.location(of: ignored.row(of: $0.id)!)!.list } == exact.lists.map(Int.init))
    }

    @Test func automaticListsGrowWithTheIndexAndNoneHasNone() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 4)
        var r = SeededRandom(seed: 9)
        // Below 1,024 items: no k-means lists, searches with nprobe scan everything.
        var index = try CodeIndex(Self.loaded(Self.items(0..<1_000, &r, k: 256)), codebooks: model.codebooks, classCount: 10,
                                  partition: .automatic, threads: 2)
        #expect(index.lists == nil && index.probes(4, metric: .innerProduct) == 0)
        try index.upsert(Self.items(1_000..<1_100, &r, k: 256))
        #expect(index.listsAreStale)
        index.installLists(index.builtLists(threads: 2))
        #expect(index.listCount == 32)           // 2^round(log2(sqrt(1,100)))
        #expect(!index.listsAreStale)
        try index.upsert(Self.items(2_000..<3_300, &r, k: 256))
        #expect(index.listsAreStale)             // doubled since built
        index.installLists(index.builtLists(threads: 2))
        #expect(index.listCount == 64)
        try expectListsMatchExhaustive(index, seed: 5)
        #expect(ListPartition.automatic.kmeansLists(items: 1_000_000) == 1_024)
        #expect(ListPartition.kmeans(lists: 300).kmeansLists(items: 2_000) == 300)

        let none = try CodeIndex(Self.loaded(Self.items(0..<2_000, &r, k: 256)), codebooks: model.codebooks, classCount: 10,
                                 partition: .none, threads: 2)
        #expect(none.lists == nil && !none.listsAreStale && none.probes(8, metric: .innerProduct) == 0)
    }

    /// A build on a snapshot (ListBuild, as the server runs it off its write queue), installed
    /// after appends, replacements, removals (rows swapped) and, in one case, norms added
    /// meanwhile: every row ends up in the list its current code belongs to under the built
    /// centroids, and searches with every list probed are the exhaustive ones.
    @Test(arguments: [false, true])
    func listsBuiltOnASnapshotCatchUpWithTheWritesMadeMeanwhile(normsAddedMeanwhile: Bool) throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 6)
        var r = SeededRandom(seed: 12)
        var index = try CodeIndex(Self.loaded(Self.items(0..<1_000, &r, k: 256)), codebooks: model.codebooks, classCount: 10,
                                  keepNorms: !normsAddedMeanwhile, partition: .automatic, threads: 2)
        try index.upsert(Self.items(1_000..<1_100, &r, k: 256))
        #expect(index.listsAreStale)
        let build = index.listBuild
        try index.upsert(Self.items(1_100..<1_400, &r, k: 256))         // appended
        try index.upsert(Self.items(0..<50, &r, k: 256))                 // the same ids, new codes
        index.remove(Self.items(200..<260, &r, k: 256).map(\.id))        // the last rows move into their places
        if normsAddedMeanwhile { index.addNorms(index.prefixNorms(threads: 2), threads: 2) }
        let built = build.run(threads: 2)
        #expect(built?.count == 1_100)
        let installed = index.installLists(built, builtFrom: build, threads: 2)
        #expect(installed)
        #expect(index.count == 1_340 && index.lists?.count == 1_340 && index.listCount == 32 && !index.listsAreStale)
        #expect((index.lists?.listNorms != nil) == (index.norms != nil))
        let assigned = built!.coarse.assign(index.codes, codebooks: model.codebooks, threads: 2)
        #expect((0..<index.count).allSatisfy { index.lists!.list(of: $0) == assigned[$0] })
        try expectListsMatchExhaustive(index, seed: 7)

        // Lists built under other codebooks (the model changed meanwhile) are not installed.
        var other = try CodeIndex(Self.loaded(Self.items(0..<1_100, &r, k: 256)),
                                  codebooks: Fixtures.model(Fixtures.config(codebookSize: 256), seed: 7).codebooks, classCount: 10,
                                  partition: .automatic, threads: 2)
        let before = other.lists?.coarse
        let otherInstalled = other.installLists(built, builtFrom: build, threads: 2)
        #expect(!otherInstalled && other.lists?.coarse == before)
        let nothingInstalled = other.installLists(nil, builtFrom: other.listBuild, threads: 2)
        #expect(!nothingInstalled)
    }

    /// A build assigns in steps and looks at `shouldStop` before training and between steps: the
    /// lists are the same whatever the step, and a build told to stop returns nothing.
    @Test func listBuildsAssignInStepsAndStopWhenTold() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 6)
        var r = SeededRandom(seed: 13)
        let index = try CodeIndex(Self.loaded(Self.items(0..<1_200, &r, k: 256)), codebooks: model.codebooks, classCount: 10,
                                  partition: .kmeans(lists: 16), threads: 2)
        let build = index.listBuild
        let built = build.run(threads: 2)
        let whole = try #require(built)
        var looks = 0
        let steps = build.run(threads: 2, assignedPerStep: 300, shouldStop: { looks += 1; return false })
        let stepped = try #require(steps)
        #expect(looks == 5)   // before the training, then before each of 4 steps
        #expect(stepped.coarse == whole.coarse)
        #expect((0..<1_200).allSatisfy { stepped.list(of: $0) == whole.list(of: $0) })
        for stopAt in 1...5 {
            var asked = 0
            let stopped = build.run(threads: 2, assignedPerStep: 300, shouldStop: { asked += 1; return asked == stopAt })
            #expect(stopped == nil)
            #expect(asked == stopAt)
        }
    }

    @Test func normsAddedLaterRebuildTheListsForL2() throws {
        let model = Fixtures.model(Fixtures.config(codebookSize: 256), seed: 5)
        var r = SeededRandom(seed: 2)
        var index = try CodeIndex(Self.loaded(Self.items(0..<1_500, &r, k: 256)), codebooks: model.codebooks, classCount: 10,
                                  keepNorms: false, partition: .kmeans(lists: 20), threads: 2)
        // Lists without norms cannot score squared L2: such a search scans everything instead.
        #expect(index.probes(3, metric: .squaredL2) == 0 && index.probes(3, metric: .innerProduct) == 3)
        let coarse = index.lists?.coarse
        index.addNorms(index.prefixNorms(threads: 2), threads: 2)
        #expect(index.probes(3, metric: .squaredL2) == 3)
        #expect(index.lists?.coarse == coarse)   // same partition, now with norms
        try expectListsMatchExhaustive(index, seed: 3)
    }

    @Test func partitionInConfigJSONAndValidation() throws {
        for p in [ListPartition.none, .firstBlock, .kmeans(lists: 0), .kmeans(lists: 512)] {
            let data = try CollectionConfig.encoder.encode(p)
            #expect(try CollectionConfig.decoder.decode(ListPartition.self, from: data) == p)
        }
        // A config.json written before the field existed reads as the default.
        var config = Fixtures.config()
        config.index = nil
        let old = try CollectionConfig.decoder.decode(CollectionConfig.self, from: CollectionConfig.encoder.encode(config))
        #expect(old.index == nil && old.partition == .automatic)
        config.index = .kmeans(lists: ListPartition.maxLists + 1)
        #expect(Fixtures.storageError { try config.validate() }?.kind == "invalidArgument")
    }
}
