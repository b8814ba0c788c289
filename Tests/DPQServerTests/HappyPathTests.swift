import DPQClient
import DPQEngine
import Foundation
import GRPCCore
import Testing

/// Every RPC's happy path, from the Swift client over real loopback HTTP/2.
@Suite(.serialized) struct HappyPathTests {
    @Test func trainUpsertSearchEvaluateExportImport() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        #expect(try await dpq.healthCheck() == .serving)
        let info = try await dpq.serverInfo()
        #expect(info.apiVersion == "dpq.v1" && info.services.contains("dpq.v1.SearchService"))

        try await trainedCollection(dpq, name: "clusters", items: 200, keepVectors: true)
        let c = try await dpq.collection("clusters")
        // Epochs count the whole job: 2 classification + 3 joint in quickTraining().
        #expect(c.training.epoch == 5 && c.training.epochs == 5, "\(c.training.epoch)/\(c.training.epochs)")
        #expect(c.state == .ready && c.hasModel && c.itemCount == 200 && c.pendingItems == 0)
        #expect(c.model.supportedBits == [4, 8, 12])
        #expect(try await dpq.listCollections().map(\.name) == ["clusters"])
        #expect(try await dpq.count("clusters") == 200)
        #expect(try await dpq.count("clusters", anyOf: [1]) == 50)

        // Search at two code lengths: same-cluster items come first.
        let q = Clusters.make(8, seed: 4)
        #expect(c.config.metric == .innerProduct, "the default metric")
        for bits in [4, 12] {
            for metric in [Metric.innerProduct, .squaredL2] {
                let hits = try await dpq.search("clusters", queries: q.vectors, k: 5, bits: bits, metric: metric)
                #expect(hits.count == 8 && hits.allSatisfy { $0.count == 5 })
                for (i, list) in hits.enumerated() {
                    let ordered = zip(list, list.dropFirst()).allSatisfy { metric == .squaredL2 ? $0.score <= $1.score : $0.score >= $1.score }
                    #expect(ordered, "\(metric): L2 distances ascend, inner products descend")
                    // Nearest by distance means same cluster; inner products also favour long
                    // reconstructions, so on this small, briefly trained model only L2 is checked for it.
                    if metric == .squaredL2 {
                        #expect(list.filter { $0.labels == [q.labels[i]] }.count >= 4, "bits \(bits) query \(i): \(list)")
                    }
                }
            }
        }
        // A label filter keeps only matching items.
        let filtered = try await dpq.search("clusters", queries: q.vectors, k: 10, anyOf: [2])
        #expect(filtered.allSatisfy { $0.allSatisfy { $0.labels == [2] } })
        // Re-scoring with stored originals returns exact feature distances, still sorted.
        let rescored = try await dpq.search("clusters", queries: q.vectors, k: 5, rescoreOversampling: 4)
        #expect(rescored.allSatisfy { l in zip(l, l.dropFirst()).allSatisfy { $0.score >= $1.score } })

        // Encode / decode: a 4-bit code is the prefix of the 12-bit one.
        let full = try await dpq.encode("clusters", vectors: q.vectors, bits: 12)
        let short = try await dpq.encode("clusters", vectors: q.vectors, bits: 4)
        #expect(full.allSatisfy { $0.count == 3 } && zip(full, short).allSatisfy { Array($0.prefix(1)) == $1 })
        let decoded = try await dpq.decode("clusters", codes: short, bits: 4)
        #expect(decoded.count == 8 && decoded.allSatisfy { $0.count == 8 })

        // Evaluate at every code length in one call.
        let eval = try await dpq.evaluate("clusters", queries: q.vectors, labels: q.labels.map { [$0] }, precisionAt: [10])
        #expect(eval.perLength.map(\.bits) == [4, 8, 12])
        #expect(eval.perLength.allSatisfy { $0.map > 0.8 }, "\(eval.perLength.map(\.map))")

        // Items: get, list pages, delete.
        let got = try await dpq.getItems("clusters", ids: [.number(3), .number(999)], withVectors: true, withCodes: true)
        #expect(got.items.count == 1 && got.items[0].code.count == 3 && got.items[0].vector.values.count == 16)
        #expect(got.missingIds.count == 1)
        var seen = Set<UInt64>()
        var token = ""
        repeat {
            let page = try await dpq.listItems("clusters", pageSize: 64, pageToken: token)
            for item in page.items { #expect(seen.insert(item.id.num).inserted) }
            token = page.nextPageToken
        } while !token.isEmpty
        #expect(seen.count == 200)
        #expect(try await dpq.deleteItems("clusters", ids: [.number(0), .number(1), .number(12345)]) == 2)
        #expect(try await dpq.count("clusters") == 198)
        // Upsert is idempotent: the same id overwrites.
        let again = try await dpq.upsert("clusters", items: [NewItem(id: .number(5), vector: q.vectors[0], labels: [q.labels[0]])])
        #expect(again.replaced == 1 && again.inserted == 0 && again.itemCount == 198)
        let r = try await dpq.upsert("clusters", items: [NewItem(id: .string("doc-a"), vector: q.vectors[1], labels: [1])])
        #expect(r.inserted == 1)

        // Export the model, import it into a new collection: same codes.
        let model = try await dpq.exportModel("clusters")
        #expect(model.count > 1000)
        let imported = try await dpq.importModel("copy", data: model, createIfMissing: true)
        #expect(imported.created)
        #expect(try await dpq.encode("copy", vectors: q.vectors) == full)
        #expect(try await dpq.deleteCollection("copy"))
        await f.stop()
    }

    @Test func itemsBeforeTrainingArePendingThenEncoded() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("early", inputDimension: 16, model: smallModel(), keepVectors: false)
        let db = Clusters.make(120, seed: 5)
        let r = try await dpq.upsert("early", items: db.vectors.enumerated().map { NewItem(id: .number(UInt64($0)), vector: $1, labels: [db.labels[$0]]) })
        #expect(r.inserted == 120 && r.encoded == 0)
        #expect(try await dpq.collection("early").pendingItems == 120)
        await expectCode(.failedPrecondition, "no trained model") { _ = try await dpq.search("early", queries: [db.vectors[0]], k: 3) }
        // Train from the items themselves (pending items keep their vectors).
        _ = try await dpq.startTraining("early", options: quickTraining())
        for try await _ in dpq.watchTraining("early") {}
        let c = try await dpq.collection("early")
        #expect(c.state == .ready && c.pendingItems == 0, "\(c)")
        let hits = try await dpq.search("early", queries: [db.vectors[0]], k: 3)
        #expect(hits[0].count == 3)
        await f.stop()
    }
}
