// Searches with nprobe over real loopback HTTP/2: the collection's inverted lists give the
// exhaustive answer when every list is probed (for both metrics, label filters and re-scoring),
// follow upserts and deletes, come back after a restart, and bad index settings are
// INVALID_ARGUMENT naming the field.
import DPQClient
import DPQEngine
@testable import DPQServer
import DPQStorage
import Foundation
import Testing

@Suite struct IVFSearchTests {
    static func fill(_ dpq: DPQClient, _ name: String, range: Range<Int>, seed: UInt64) async throws {
        let db = Clusters.make(range.count, seed: seed)
        try await dpq.upsertStream(name, items: range.enumerated().map { i, n in
            NewItem(id: .number(UInt64(n)), vector: db.vectors[i], labels: [db.labels[i]])
        }, batchSize: 256)
    }

    /// The collection once its lists are built: a build runs off the write queue, started by the
    /// write that made the lists stale (so it is running, or done, when that write returns).
    static func listsBuilt(_ dpq: DPQClient, _ name: String) async throws -> CollectionInfo {
        let deadline = ContinuousClock.now + .seconds(60)
        var info = try await dpq.collection(name)
        while info.indexListsBuilding && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            info = try await dpq.collection(name)
        }
        return info
    }

    @Test func probingEveryListIsTheExhaustiveAnswer() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("ivf", inputDimension: 16, model: smallModel(), keepVectors: true,
                                       index: .with { $0.partition = .kmeans; $0.nlist = 16 })
        try await trainToCompletion(dpq, "ivf")
        try await Self.fill(dpq, "ivf", range: 0..<600, seed: 3)
        // Below 1,024 items there are no k-means lists yet: nprobe scans everything.
        #expect(try await dpq.collection("ivf").indexLists == 0)
        let q = Clusters.make(5, seed: 8)
        let exhaustiveSmall = try await dpq.search("ivf", queries: q.vectors, k: 10)
        #expect(try await dpq.search("ivf", queries: q.vectors, k: 10, nprobe: 2) == exhaustiveSmall)

        try await Self.fill(dpq, "ivf", range: 600..<1_500, seed: 4)
        let info = try await Self.listsBuilt(dpq, "ivf")
        #expect(info.indexLists == 16 && info.config.index.partition == .kmeans && info.config.index.nlist == 16)
        _ = try await dpq.deleteItems("ivf", ids: (0..<100).map { .number(UInt64($0 * 7)) })

        for metric in [Metric.innerProduct, .squaredL2] {
            for bits in [4, 12] {
                for labels in [nil, [UInt32(1)]] as [[UInt32]?] {
                    let exhaustive = try await dpq.search("ivf", queries: q.vectors, k: 10, bits: bits, metric: metric, anyOf: labels)
                    for nprobe in [16, 500] {
                        let probed = try await dpq.search("ivf", queries: q.vectors, k: 10, bits: bits, metric: metric,
                                                          anyOf: labels, nprobe: nprobe)
                        #expect(probed.map { $0.map(\.id) } == exhaustive.map { $0.map(\.id) }, "\(metric) bits \(bits)")
                    }
                    let one = try await dpq.search("ivf", queries: q.vectors, k: 10, bits: bits, metric: metric, anyOf: labels, nprobe: 1)
                    for hits in one {
                        #expect(hits.count <= 10)
                        if let labels { #expect(hits.allSatisfy { !Set($0.labels).isDisjoint(with: labels) }) }
                    }
                }
            }
        }
        // Re-scoring re-ranks the same candidates.
        let rescored = try await dpq.search("ivf", queries: q.vectors, k: 5, rescoreOversampling: 4)
        #expect(try await dpq.search("ivf", queries: q.vectors, k: 5, rescoreOversampling: 4, nprobe: 16) == rescored)

        // What the server reports: lists scanned per query.
        let runtime = try f.server.parts.registry.get("ivf")
        let features = Matrix(q.vectors)
        #expect(try runtime.search(queries: features, k: 3, blocks: 3, metric: .innerProduct, filter: nil,
                                   rescoreOversampling: nil, nprobe: 4).probes == 4)
        #expect(try runtime.search(queries: features, k: 3, blocks: 3, metric: .innerProduct, filter: nil,
                                   rescoreOversampling: nil, nprobe: 99).probes == 16)
        #expect(try runtime.search(queries: features, k: 3, blocks: 3, metric: .innerProduct, filter: nil,
                                   rescoreOversampling: nil).probes == 0)
        let beforeRestart = try await dpq.search("ivf", queries: q.vectors, k: 10, nprobe: 3)
        await f.stop()

        // After a restart the lists are rebuilt from the stored codes under the saved centroids:
        // the same lists, so the same candidates. (Rows come back in another order after the
        // deletes, so equal scores may swap places: compare the scores and the ids apart from ties.)
        let g = try await ServerFixture.start(dataDir: f.dataDir)
        #expect(try await g.client.collection("ivf").indexLists == 16)
        let afterRestart = try await g.client.search("ivf", queries: q.vectors, k: 10, nprobe: 3)
        #expect(afterRestart.map { $0.map(\.score) } == beforeRestart.map { $0.map(\.score) })
        for (a, b) in zip(afterRestart, beforeRestart) {
            let unique = Set(b.map(\.score)).filter { s in b.filter { $0.score == s }.count == 1 && s != b.last?.score }
            #expect(a.filter { unique.contains($0.score) }.map(\.id) == b.filter { unique.contains($0.score) }.map(\.id))
        }
        await g.stop()

        // That start assigned every item and saved the lists (lists.cache); the next one reuses
        // all of them (nothing changed in between) and answers the same.
        let h = try await ServerFixture.start(dataDir: f.dataDir)
        let reused = try h.server.parts.registry.get("ivf").served.read { s in s.index.map { ($0.listsFromCache, $0.count) } }
        #expect(reused != nil && reused?.0 == reused?.1 && (reused?.1 ?? 0) > 0)
        #expect(try await h.client.search("ivf", queries: q.vectors, k: 10, nprobe: 3) == afterRestart)
        await h.stop()
    }

    /// A trained collection of 16 k-means lists, its due builds waiting for writes to pause `pause`.
    static func kmeansCollection(_ f: ServerFixture, _ name: String, pause: Duration) async throws -> CollectionRuntime {
        try await f.client.createCollection(name, inputDimension: 16, model: smallModel(),
                                            index: .with { $0.partition = .kmeans; $0.nlist = 16 })
        try await trainToCompletion(f.client, name)
        let runtime = try f.server.parts.registry.get(name)
        runtime.listBuildPause.withLock { $0 = pause }
        return runtime
    }

    /// A due list build waits while writes keep coming (a bulk load runs on all the cores), and
    /// starts once they pause. The pause is set to 30 s while the collection is written, so that
    /// no hiccup of a loaded machine passes for one, then to 0.3 s. Fails when the build starts at
    /// the write that made it due: the lists of 1,200 items are built in milliseconds, long before
    /// the second this test waits.
    @Test func aDueListBuildWaitsForTheWritesToPause() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        let runtime = try await Self.kmeansCollection(f, "load", pause: .seconds(30))
        try await Self.fill(dpq, "load", range: 0..<1_100, seed: 3)
        for start in stride(from: 1_100, to: 1_200, by: 20) {
            try await Self.fill(dpq, "load", range: start..<(start + 20), seed: UInt64(start))
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(1))
        var info = try await dpq.collection("load")
        #expect(info.indexLists == 0 && info.indexListsBuilding, "lists built before the writes paused")
        // Paused long enough now: built within a check (0.1 s) and the build's own time.
        runtime.listBuildPause.withLock { $0 = .milliseconds(300) }
        info = try await Self.listsBuilt(dpq, "load")
        #expect(info.indexLists == 16 && !info.indexListsBuilding)
        let q = Clusters.make(3, seed: 9).vectors
        #expect(try await dpq.search("load", queries: q, k: 10, nprobe: 16) == (try await dpq.search("load", queries: q, k: 10)))
        await f.stop()
    }

    /// Writes that never pause still get their lists once the build has waited the max delay
    /// (60 s in service, 1 s here, with a pause of 30 s the writes never leave). Fails when a due
    /// build waits for a pause alone.
    @Test func aDueListBuildStartsAfterTheMaxDelayEvenWhileWritesGoOn() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        let runtime = try await Self.kmeansCollection(f, "steady", pause: .seconds(30))
        runtime.listBuildMaxDelay.withLock { $0 = .seconds(1) }
        try await Self.fill(dpq, "steady", range: 0..<1_100, seed: 3)
        // Writes every 50 ms until the lists are in (at most 30 s).
        var next = 1_100, lists = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while lists == 0 && ContinuousClock.now < deadline {
            try await Self.fill(dpq, "steady", range: next..<(next + 10), seed: UInt64(next))
            next += 10
            lists = Int(try await dpq.collection("steady").indexLists)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(lists == 16, "no lists after \(next - 1_100) items written over 30 s")
        await f.stop()
    }

    @Test func badIndexSettingsAreInvalidArgument() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        await expectCode(.invalidArgument, "config.index.nlist") {
            try await dpq.createCollection("a", inputDimension: 16, model: smallModel(), index: .with { $0.partition = .firstBlock; $0.nlist = 8 })
        }
        await expectCode(.invalidArgument, "config.index.nlist") {
            try await dpq.createCollection("a", inputDimension: 16, model: smallModel(), index: .with { $0.nlist = 70_000 })
        }
        await expectCode(.invalidArgument, "config.index.partition") {
            try await dpq.createCollection("a", inputDimension: 16, model: smallModel(), index: .with { $0.partition = .UNRECOGNIZED(9) })
        }
        try await dpq.createCollection("flat", inputDimension: 16, model: smallModel(), index: .with { $0.partition = .none })
        try await trainToCompletion(dpq, "flat")
        try await Self.fill(dpq, "flat", range: 0..<1_100, seed: 5)
        #expect(try await dpq.collection("flat").indexLists == 0)
        let q = Clusters.make(2, seed: 1).vectors
        await expectCode(.invalidArgument, "nprobe") { _ = try await dpq.search("flat", queries: q, k: 3, nprobe: 2) }
        #expect(try await dpq.search("flat", queries: q, k: 3).count == 2)

        // The first-block partition has K lists from the first item on.
        try await dpq.createCollection("fb", inputDimension: 16, model: smallModel(), index: .with { $0.partition = .firstBlock })
        try await trainToCompletion(dpq, "fb")
        try await Self.fill(dpq, "fb", range: 0..<50, seed: 6)
        #expect(try await dpq.collection("fb").indexLists == 16)
        #expect(try await dpq.search("fb", queries: q, k: 5, nprobe: 16) == (try await dpq.search("fb", queries: q, k: 5)))
        await f.stop()
    }
}
