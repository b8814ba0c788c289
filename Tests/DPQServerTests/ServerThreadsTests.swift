// The server's `threads` setting: reported by GetServerInfo, and a cap on what a training may ask
// for (the job's effective options say what runs); searches and trainings still work under it.
import DPQClient
import Foundation
import Testing

@Suite(.serialized) struct ServerThreadsTests {
    @Test func threadsSettingCapsTrainings() async throws {
        let dir = temporaryPath("dpq-threads")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        let server = try ChildServer(dataDir: dir, extraArgs: ["--threads", "1"])
        defer { server.stop() }
        let dpq = try DPQClient(address: server.address, timeout: .seconds(60))
        defer { dpq.close() }
        #expect(try await dpq.serverInfo().threads == 1)
        try await dpq.createCollection("t", inputDimension: 16, model: smallModel())
        let train = Clusters.make(400, seed: 5)
        try await dpq.uploadTrainingData("t", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 200)
        var options = quickTraining()
        options.threads = 8
        let started = try await dpq.startTraining("t", options: options)
        #expect(started.effectiveOptions.threads == 1, "a training asked for 8 threads on a 1-thread server: \(started.effectiveOptions.threads)")
        var last: TrainingProgress?
        for try await p in dpq.watchTraining("t", minInterval: .milliseconds(50)) { last = p }
        #expect(last?.state == .succeeded)
        _ = try await dpq.upsert("t", items: (0..<50).map { NewItem(id: .number(UInt64($0)), vector: train.vectors[$0], labels: [train.labels[$0]]) })
        let hits = try await dpq.search("t", queries: [train.vectors[0]], k: 3)
        #expect(hits[0].count == 3)
    }
}
