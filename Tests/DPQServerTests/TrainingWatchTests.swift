// WatchTraining as the proto promises: epoch ends, phase changes and the final state are sent
// whatever min_interval_ms says, and a watcher that leaves does not hold the server up.

import DPQClient
import DPQServer
import Foundation
import Testing

@Suite struct TrainingWatchTests {
    @Test func epochEndsAreSentDespiteALongInterval() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        try await f.client.createCollection("w", inputDimension: 16, numClasses: 4, model: smallModel())
        let data = Clusters.make(4_000, seed: 5)
        try await f.client.uploadTrainingData("w", vectors: data.vectors, labels: data.labels.map { [$0] })
        _ = try await f.client.startTraining("w", options: .with { $0.epochs = 36; $0.pretrainEpochs = 4; $0.batchSize = 8; $0.seed = 1; $0.threads = 1 })
        let start = Date()
        var epochs: [UInt32] = []
        var last: TrainingProgress?
        for try await p in f.client.watchTraining("w", minInterval: .seconds(60)) {
            epochs.append(p.epoch)
            last = p
        }
        // Forty epochs of a few tens of milliseconds each, watched at a 60 s interval: from the
        // epoch the watch began in to the last, every epoch was reported (however late a loaded
        // machine started the watch), and the final state came long before 60 s.
        #expect(last?.state == .succeeded)
        let seen = Set(epochs)
        if let lo = seen.min(), let hi = seen.max() {
            #expect(seen.count >= 3, "epochs seen: \(epochs)")
            #expect(seen == Set(lo...hi), "missing epochs: \(Set(lo...hi).subtracting(seen).sorted())")
        }
        #expect(Date().timeIntervalSince(start) < 50)
        await f.stop()
    }

    @Test func anAbandonedWatchDoesNotHoldShutdown() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        try await f.client.createCollection("w", inputDimension: 16, numClasses: 4, model: smallModel())
        let data = Clusters.make(400, seed: 5)
        try await f.client.uploadTrainingData("w", vectors: data.vectors, labels: data.labels.map { [$0] })
        _ = try await f.client.startTraining("w", options: .with { $0.epochs = 10_000; $0.batchSize = 8; $0.seed = 1; $0.threads = 1 })
        // Read one update at a 60 s interval, then leave.
        for try await _ in f.client.watchTraining("w", minInterval: .seconds(60)) { break }
        let t0 = Date()
        await f.stop()
        #expect(Date().timeIntervalSince(t0) < 10, "shutdown took \(Date().timeIntervalSince(t0)) s")
    }
}
