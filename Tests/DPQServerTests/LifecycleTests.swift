import DPQClient
import Foundation
import GRPCCore
import Testing

@Suite(.serialized) struct LifecycleTests {
    /// Cancelling a first training returns the collection to UNTRAINED; a retraining that is
    /// cancelled leaves the old model serving.
    @Test func cancellation() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("slow", inputDimension: 16, model: smallModel())
        let train = Clusters.make(400, seed: 2)
        try await dpq.uploadTrainingData("slow", vectors: train.vectors, labels: train.labels.map { [$0] })
        _ = try await dpq.startTraining("slow", options: .with { $0.epochs = 10_000; $0.batchSize = 1 })
        var sawRunning = false
        for try await p in dpq.watchTraining("slow", minInterval: .milliseconds(50)) {
            if p.state == .running && p.step > 0 && !sawRunning {
                sawRunning = true
                _ = try await dpq.cancelTraining("slow")
            }
        }
        #expect(sawRunning)
        // A job that has ended cannot be cancelled again.
        await expectCode(.failedPrecondition, "already ended") { try await dpq.cancelTraining("slow") }
        let c = try await dpq.collection("slow")
        #expect(c.state == .untrained && !c.hasModel && c.training.state == .cancelled, "\(c.state) \(c.training.state)")
        await f.stop()
    }

    /// Stop the server and start it again on the same data directory: same items, same results.
    @Test func restartKeepsItemsAndResults() async throws {
        let f = try await ServerFixture.start()
        try await trainedCollection(f.client, name: "persist", items: 150)
        try await f.client.createCollection("empty", inputDimension: 3)
        let q = Clusters.make(6, seed: 11)
        let before = try await f.client.search("persist", queries: q.vectors, k: 7, bits: 8)
        let codesBefore = try await f.client.encode("persist", vectors: q.vectors)
        await f.stop()

        let g = try await ServerFixture.start(dataDir: f.dataDir)
        defer { g.removeData() }
        #expect(try await g.client.listCollections().map(\.name) == ["empty", "persist"])
        let info = try await g.client.collection("persist")
        #expect(info.state == .ready && info.itemCount == 150)
        #expect(try await g.client.search("persist", queries: q.vectors, k: 7, bits: 8) == before)
        #expect(try await g.client.encode("persist", vectors: q.vectors) == codesBefore)
        await g.stop()
    }
}
