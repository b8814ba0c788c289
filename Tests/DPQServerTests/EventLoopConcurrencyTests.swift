// `dpq serve` runs Swift concurrency on NIO's event loops through a runtime hook
// (EventLoopConcurrency). Through a child server, which installs it (its log says so): sleeps
// end (the training watch's ticks), cancellation waits end, and searches
// give the same answers inline (one client) and on the pool (many at once).
import DPQClient
import Foundation
import Testing

@Suite(.serialized) struct EventLoopConcurrencyTests {
    @Test func sleepsAndSearchesOnTheEventLoops() async throws {
        let dir = temporaryPath("dpq-elc")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        let server = try ChildServer(dataDir: dir)
        defer { server.stop() }
        let dpq = try DPQClient(address: server.address, timeout: .seconds(60))
        defer { dpq.close() }
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("executor=event-loops") || log.contains("\"executor\":\"event-loops\""), "\(log)")
        try await dpq.createCollection("t", inputDimension: 16, model: smallModel())
        let train = Clusters.make(600, seed: 3)
        try await dpq.uploadTrainingData("t", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 200)

        // A long training, watched: the server checks the job in 100 ms sleeps and writes what
        // changed; if those sleeps never ended, the 8th message would never come. (That a timer
        // lasts as long as asked is CLITests.deadlineAgainstASilentServer: the CLI's deadline, in a
        // process with the same hook, fires after a second, not before.)
        _ = try await dpq.startTraining("t", options: .with { $0.epochs = 10_000; $0.batchSize = 8; $0.seed = 1; $0.threads = 1 })
        let watchStarted = Date()
        var received = 0
        for try await _ in dpq.watchTraining("t", minInterval: .milliseconds(150)) {
            received += 1
            if received == 8 { break }
        }
        let span = Date().timeIntervalSince(watchStarted)
        #expect(received == 8)
        #expect(span < 60, "a sleep did not end in time: \(span) s for 8 updates")
        // Cancel waits for the job in 20 ms sleeps (up to 5 s); if they never ended, the call would
        // hang until the client's 60 s deadline. The bound leaves room for a loaded machine.
        let t0 = Date()
        let final = try await dpq.cancelTraining("t")
        #expect(final.state == .cancelled, "state \(final.state)")
        #expect(Date().timeIntervalSince(t0) < 30)

        _ = try await dpq.startTraining("t", options: quickTraining())
        for try await _ in dpq.watchTraining("t", minInterval: .milliseconds(50)) {}
        try await dpq.upsert("t", items: train.vectors.indices.map { NewItem(id: .number(UInt64($0)), vector: train.vectors[$0], labels: [train.labels[$0]]) })
        let queries = Array(train.vectors.prefix(24))
        // One at a time (inline on the event loop), then all at once from 8 clients (the pool).
        var alone: [[Hit]] = []
        for q in queries { alone.append(try await dpq.search("t", queries: [q], k: 5)[0]) }
        let clients = try (0..<8).map { _ in try DPQClient(address: server.address, timeout: .seconds(60)) }
        defer { clients.forEach { $0.close() } }
        let together = try await withThrowingTaskGroup(of: (Int, [Hit]).self) { group in
            for (i, q) in queries.enumerated() {
                let c = clients[i % clients.count]
                group.addTask { (i, try await c.search("t", queries: [q], k: 5)[0]) }
            }
            var out = [[Hit]](repeating: [], count: queries.count)
            for try await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(together == alone)
    }
}
