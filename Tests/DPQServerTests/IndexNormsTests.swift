// An inner-product collection keeps no squared-L2 prefix norms (M floats per item, 4x the codes
// at K = 256) until an L2 search or evaluation asks; from then on the index keeps them through
// writes and new models. Answers are the same with them and without.
import DPQClient
import DPQEngine
@testable import DPQServer
import DPQStorage
import Foundation
import Testing

@Suite struct IndexNormsTests {
    @Test func keptFromTheFirstL2SearchOn() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "ip", items: 200, keepVectors: true)
        let runtime = try f.server.parts.registry.get("ip")
        #expect(runtime.current.keepsNorms == false, "an inner-product collection starts without L2 norms")

        let q = Clusters.make(8, seed: 4)
        _ = try await dpq.search("ip", queries: q.vectors, k: 5, bits: 12)
        _ = try await dpq.evaluate("ip", queries: q.vectors, labels: q.labels.map { [$0] }, precisionAt: [5])
        #expect(runtime.current.keepsNorms == false, "inner-product searches and evaluations need no norms")

        let l2 = try await dpq.search("ip", queries: q.vectors, k: 5, bits: 12, metric: .squaredL2)
        try expectKeptNorms(runtime)
        // The same answer as an index that computes its norms for the one search.
        let model = try runtime.requireModel()
        let plain = try CodeIndex(store: runtime.store, model: model, keepNorms: false)
        let want = try plain.search(queries: try model.features(Matrix(q.vectors)), k: 5, blocks: 3, metric: .squaredL2)
        for (got, expected) in zip(l2, want) {
            #expect(got.map(\.id) == expected.map { hit -> ItemKey in
                switch hit.id { case .number(let n): .number(n); case .string(let s): .string(s) }
            })
            for (g, e) in zip(got, expected) { #expect(abs(g.score - e.score) <= 1e-4 * (1 + abs(e.score))) }
        }

        // Writes keep them in step with the codes; so does a new model.
        let more = Clusters.make(50, seed: 9)
        try await dpq.upsert("ip", items: more.vectors.indices.map {
            NewItem(id: .number(UInt64(1000 + $0)), vector: more.vectors[$0], labels: [more.labels[$0]])
        })
        _ = try await dpq.deleteItems("ip", ids: (0..<20).map { .number(UInt64($0)) })
        try expectKeptNorms(runtime)
        _ = try await dpq.startTraining("ip", options: quickTraining())
        for try await _ in dpq.watchTraining("ip") {}
        try expectKeptNorms(runtime)
        #expect(runtime.current.count == 230)

        // An L2 collection has them from the start.
        try await dpq.createCollection("l2", inputDimension: 16, model: smallModel(), metric: .squaredL2)
        let train = Clusters.make(240, seed: 2)
        try await dpq.uploadTrainingData("l2", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await dpq.startTraining("l2", options: quickTraining())
        for try await _ in dpq.watchTraining("l2") {}
        try await dpq.upsert("l2", items: more.vectors.indices.map {
            NewItem(id: .number(UInt64($0)), vector: more.vectors[$0], labels: [more.labels[$0]])
        })
        try expectKeptNorms(try f.server.parts.registry.get("l2"))
        await f.stop()
    }

    private func expectKeptNorms(_ runtime: CollectionRuntime, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let index = try #require(runtime.served.read { $0.index }, sourceLocation: sourceLocation)
        let norms = try #require(index.norms, "the index keeps L2 norms", sourceLocation: sourceLocation)
        #expect(norms == PrefixNorms(codes: index.codes, codebooks: index.codebooks), sourceLocation: sourceLocation)
    }
}
