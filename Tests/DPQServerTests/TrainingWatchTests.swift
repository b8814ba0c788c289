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
        let data = Clusters.make(1_000, seed: 5)
        try await f.client.uploadTrainingData("w", vectors: data.vectors, labels: data.labels.map { [$0] })
        _ = try await f.client.startTraining("w", options: .with { $0.epochs = 10_000; $0.pretrainEpochs = 0; $0.batchSize = 8; $0.seed = 1; $0.threads = 1 })
        let start = Date()
        var epochs: [UInt32] = []
        var last: TrainingProgress?
        var cancelled = false
        // Epochs of a few tens of milliseconds, watched at a 60 s interval: every epoch end comes
        // (from the epoch the watch began in, however late a loaded machine started it); after five
        // of them the training is cancelled, and the final state comes too, long before 60 s.
        for try await p in f.client.watchTraining("w", minInterval: .seconds(60)) {
            epochs.append(p.epoch)
            last = p
            if !cancelled && Set(epochs).count >= 5 {
                cancelled = true
                _ = try await f.client.cancelTraining("w")
            }
        }
        #expect(last?.state == .cancelled)
        let seen = Set(epochs)
        #expect(seen.count >= 5, "epochs seen: \(epochs)")
        if let lo = seen.min(), let hi = seen.max() {
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
