// The served index is changed in place by writes, also while searches run: a write never copies
// the whole index (issue 13: with the index read by copying it out, the first write during any search
// copied every array, which at 100M items is gigabytes per upsert batch). Checked by the address of
// the index's code and label storage, which stays put while items are replaced and deleted.
import DPQClient
import DPQEngine
@testable import DPQServer
import DPQStorage
import Foundation
import Synchronization
import Testing

@Suite struct ServedIndexTests {
    @Test func writesChangeTheIndexInPlaceWhileSearchesRun() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "c", items: 400)
        let runtime = try f.server.parts.registry.get("c")
        let before = storage(runtime)

        // Searches long enough (1,000 queries each) that most writes come while one runs.
        let q = Clusters.make(1000, seed: 7)
        let answers = Mutex(0)
        let searching = Task {
            while !Task.isCancelled {
                guard let hits = try? await dpq.search("c", queries: q.vectors, k: 5, bits: 12) else { break }
                #expect(hits.count == 1000 && hits.allSatisfy { $0.count == 5 })
                answers.withLock { $0 += 1 }
            }
        }
        // Searches are running before the first write.
        let start = Date()
        while answers.withLock({ $0 }) == 0 && Date().timeIntervalSince(start) < 30 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(answers.withLock { $0 } > 0)
        // Replacements of existing ids (no row appended, so no array has to grow), then deletions.
        for round in 0..<30 {
            let items = Clusters.make(40, seed: UInt64(100 + round))
            try await dpq.upsert("c", items: items.vectors.indices.map {
                NewItem(id: .number(UInt64((round * 40 + $0) % 400)), vector: items.vectors[$0], labels: [items.labels[$0]])
            })
            #expect(storage(runtime) == before, "round \(round): the upsert moved the index's arrays")
        }
        _ = try await dpq.deleteItems("c", ids: (0..<100).map { .number(UInt64($0)) })
        #expect(storage(runtime) == before, "the delete moved the index's arrays")
        searching.cancel()
        await searching.value
        #expect(runtime.current.count == 300)
        await f.stop()
    }

    /// The item count a SQLite collection keeps in memory (instead of counting its table on every
    /// write) is the store's count through pending items, replacements, deletions and a restart.
    @Test func theKeptItemCountIsTheStoresCount() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("n", inputDimension: 16, model: smallModel(), keepVectors: true)
        let data = Clusters.make(100, seed: 4)
        func items(_ r: Range<Int>) -> [NewItem] { r.map { NewItem(id: .number(UInt64($0)), vector: data.vectors[$0], labels: [data.labels[$0]]) } }
        func expectCount(_ n: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let runtime = try f.server.parts.registry.get("n")
            #expect(try runtime.store.count() == n, "store, \(what)", sourceLocation: sourceLocation)
            #expect(try await dpq.count("n") == UInt64(n), "CountItems, \(what)", sourceLocation: sourceLocation)
            #expect(try await dpq.collection("n").itemCount == UInt64(n), "GetCollection, \(what)", sourceLocation: sourceLocation)
        }
        #expect(try await dpq.upsert("n", items: items(0..<50)).itemCount == 50)
        try await expectCount(50, "pending items")
        let train = Clusters.make(240, seed: 2)
        try await dpq.uploadTrainingData("n", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await dpq.startTraining("n", options: quickTraining())
        for try await _ in dpq.watchTraining("n") {}
        #expect(try await dpq.upsert("n", items: items(40..<80) + items(45..<46)).itemCount == 80)
        try await expectCount(80, "replacements and new items")
        let deleted = try await dpq.deleteItems("n", ids: (75..<83).map { .number(UInt64($0)) })
        #expect(deleted == 5)
        try await expectCount(75, "deletions of present and absent ids")
        await f.stop()
        let g = try await ServerFixture.start(dataDir: f.dataDir)
        #expect(try await g.client.count("n") == 75)
        await g.stop()
    }

    /// Where the index's codes and label bits live.
    private func storage(_ runtime: CollectionRuntime) -> [UInt] {
        runtime.served.read { s in
            guard let index = s.index else { return [] }
            return [index.codes.bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
                    index.labels.storage.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }]
        }
    }
}
