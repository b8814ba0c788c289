import DPQClient
import DPQEngine
import DPQProto
import ChildProcesses
import Foundation
import PostgresTestSupport
import Testing

/// Three `dpq serve` processes on one PostgreSQL store, and kill -9 (issue 14's CI test):
/// - during upserts through nodes 1 and 3, node 1 is killed: every upsert acknowledged by
///   either node is stored, nodes 2 and 3 keep answering, and node 1, restarted, serves all
///   of them and goes on following (an item written through node 3 after the restart is found
///   by a search on node 1);
/// - during a training on node 2, node 2 is killed: the other nodes notice (the copy of the job
///   ends failed, the state is repaired), keep serving the last model, and node 3 can train.
@Suite struct PostgresNodesKillTests {
    @Test func killNineDuringUpsertsAndDuringTraining() async throws {
        let url = try await onOwnThread { () throws -> String in
            let pg = try PostgresServer.shared()
            return pg.url(database: try pg.makeDatabase())
        }
        let dirs = (0..<3).map { _ in temporaryPath("dpq-pgnode") }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d + ".server.log") } }
        var servers = try dirs.map { try ChildServer(dataDir: $0, extraArgs: ["--store", url]) }
        defer { for s in servers { s.stop() } }
        func client(_ i: Int) throws -> DPQClient { try DPQClient(address: servers[i].address, timeout: .seconds(60)) }
        let (c2, c3) = (try client(1), try client(2))
        var c1 = try client(0)
        defer { c1.close(); c2.close(); c3.close() }

        try await c1.createCollection("k", inputDimension: 16, model: smallModel(), keepVectors: true)
        let train = Clusters.make(240, seed: 3)
        try await eventually("node 2 opens the collection") { (try? await c2.collection("k")) != nil }
        try await c2.uploadTrainingData("k", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await c2.startTraining("k", options: quickTraining())
        for try await _ in c2.watchTraining("k", minInterval: .milliseconds(50)) {}
        let sha = try await c2.collection("k").model.sha256
        for c in [c1, c3] {
            try await eventually("every node serves the model") { (try? await c.collection("k").model.sha256) == sha }
        }

        // Writers on nodes 1 and 3; node 1 is killed once some batches have landed.
        let data = Clusters.make(2000, seed: 4)
        let writers = [0, 2].map { node in
            let address = servers[node].address
            return Task { () -> [UInt64] in
                let w = try DPQClient(address: address, timeout: .seconds(60))
                defer { w.close() }
                var acked: [UInt64] = []
                for batch in 0..<(node == 0 ? 1000 : 60) {
                    let ids = (0..<10).map { UInt64(node * 100_000 + batch * 10 + $0) }
                    let items = ids.map { NewItem(id: .number($0), vector: data.vectors[Int($0 % 2000)], labels: [data.labels[Int($0 % 2000)]]) }
                    do { try await w.upsert("k", items: items) } catch {
                        if node == 2 { Issue.record("an upsert through node 3 failed: \(error)") }
                        break
                    }
                    acked += ids
                }
                return acked
            }
        }
        try await eventually("some upserts land") { (try await c2.count("k")) >= 300 }
        servers[0].kill9()
        var acked: [UInt64] = []
        for w in writers { acked += try await w.value }
        #expect(acked.filter { $0 >= 200_000 }.count == 600, "node 3's writer was not disturbed by node 1's death")
        // Nodes 2 and 3 answer; every acknowledged item is stored.
        #expect(try await c3.search("k", queries: [data.vectors[0]], k: 5).first?.count == 5)
        var missing = 0
        for start in stride(from: 0, to: acked.count, by: 500) {
            let chunk = acked[start..<min(start + 500, acked.count)]
            missing += try await c2.getItems("k", ids: chunk.map { .number($0) }).missingIds.count
        }
        #expect(missing == 0, "\(missing) acknowledged items lost")

        // Node 1 restarts on the same store: it serves what the others took meanwhile, and follows on.
        servers[0] = try ChildServer(dataDir: dirs[0], extraArgs: ["--store", url])
        c1.close()
        c1 = try client(0)
        let total = try await c2.collection("k").itemCount
        #expect(try await c1.collection("k").itemCount == total)
        let needle = NewItem(id: .string("needle"), vector: (0..<16).map { $0 % 2 == 0 ? 40 : -40 }, labels: [0])
        try await c3.upsert("k", items: [needle])
        try await eventually("restarted node 1 finds the item written through node 3") {
            let hits = try await c1.search("k", queries: [needle.vector], k: 5, rescoreOversampling: 40)
            return hits.first?.contains { $0.id == .string("needle") } == true
        }

        // Node 2 dies while training: the others repair the state and keep the model; node 3 trains.
        var long = quickTraining()
        long.epochs = 10_000
        long.batchSize = 1
        let job = try await c2.startTraining("k", options: long).jobID
        try await eventually("node 1 follows the training on node 2") {
            (try? await c1.collection("k").training.jobID) == job
        }
        servers[1].kill9()
        try await eventually("node 1 sees the training end with its server") {
            let info = try await c1.collection("k")
            return info.training.jobID == job && info.training.state == .failed && info.state == .ready
        }
        #expect(try await c1.collection("k").model.sha256 == sha)
        #expect(try await c3.search("k", queries: [data.vectors[1]], k: 3).first?.count == 3)
        var other = quickTraining()
        other.seed = 8  // (the same seed and data would train the same model)
        _ = try await c3.startTraining("k", options: other)
        for try await _ in c3.watchTraining("k", minInterval: .milliseconds(50)) {}
        let retrained = try await c3.collection("k")
        #expect(retrained.state == .ready && retrained.training.state == .succeeded && retrained.model.sha256 != sha)
        try await eventually("node 1 switches to node 3's model") {
            (try? await c1.collection("k").model.sha256) == retrained.model.sha256
        }
    }
}
