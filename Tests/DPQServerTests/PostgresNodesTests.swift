import DPQClient
import DPQEngine
import DPQProto
import ChildProcesses
import Foundation
import PostgresTestSupport
import Testing

/// Three servers on one PostgreSQL store (issue 14): each follows the others' writes. A
/// collection created on node 1 appears on node 3; items written through node 1 before any
/// model are trained into codes by node 2 (watched from node 1), and nodes 1 and 3 switch to
/// that model with every code; an item upserted through node 1 is found by a search on node 3
/// (the delay is printed), a deletion through node 2 removes it there; while node 2 trains,
/// node 3 cannot start a training and its cancel stops node 2's; a collection deleted through
/// node 3 is gone from node 1. Searches read each node's in-memory index, so they see another node's write
/// only by following it.
@Suite struct PostgresNodesTests {
    @Test func nodesFollowEachOthersWrites() async throws {
        let url = try await onOwnThread { () throws -> String in
            let pg = try PostgresServer.shared()
            return pg.url(database: try pg.makeDatabase())
        }
        var nodes: [ServerFixture] = []
        for _ in 0..<3 { nodes.append(try await ServerFixture.start(store: url)) }
        defer { for n in nodes { n.removeData() } }
        let (one, two, three) = (nodes[0].client, nodes[1].client, nodes[2].client)

        try await one.createCollection("shared", inputDimension: 16, model: smallModel(), keepVectors: true)
        try await eventually("node 3 lists the collection created on node 1") {
            try await three.listCollections().map(\.name) == ["shared"]
        }
        // Items before any model: stored pending, then encoded by the training on node 2.
        let data = Clusters.make(200, seed: 5)
        try await one.upsert("shared", items: (0..<200).map { NewItem(id: .number(UInt64($0)), vector: data.vectors[$0], labels: [data.labels[$0]]) })
        let train = Clusters.make(240, seed: 2)
        try await two.uploadTrainingData("shared", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        let started = try await two.startTraining("shared", options: quickTraining())
        // Watched at once from node 1, which follows the job node 2 runs: WatchTraining catches up
        // with the store before it answers, so even the first progress is of this job.
        var last: Dpq_V1_TrainingProgress?
        for try await p in one.watchTraining("shared", minInterval: .milliseconds(100)) {
            if last == nil { #expect(p.jobID == started.jobID, "node 1's first answer is about job \(p.jobID)") }
            last = p
        }
        #expect(last?.jobID == started.jobID && last?.state == .succeeded, "\(String(describing: last))")
        let trained = try await two.collection("shared")
        #expect(trained.state == .ready && !trained.model.sha256.isEmpty)
        for (i, node) in [one, three].enumerated() {
            try await eventually("node \(i == 0 ? 1 : 3) serves the model trained on node 2") {
                let info = try await node.collection("shared")
                return info.hasModel_p && info.model.sha256 == trained.model.sha256 && info.pendingItems == 0
            }
            let hits = try await node.search("shared", queries: [data.vectors[0]], k: 10)
            #expect(hits.first?.count == 10, "the 200 items encoded on node 2 are searchable on every node")
        }

        // An item far from the clusters, upserted on node 1, is found by node 3.
        let needle = NewItem(id: .string("needle"), vector: (0..<16).map { $0 % 2 == 0 ? 40 : -40 }, labels: [0])
        func needleFound(on node: DPQClient) async throws -> Bool {
            let hits = try await node.search("shared", queries: [needle.vector], k: 5, rescoreOversampling: 40)
            return hits.first?.contains { $0.id == .string("needle") } == true
        }
        #expect(try await !needleFound(on: three))
        try await one.upsert("shared", items: [needle])
        #expect(try await needleFound(on: one), "read-your-writes on the node that took the write")
        let clock = ContinuousClock()
        let acknowledged = clock.now
        try await eventually("node 3 finds the item upserted on node 1") { try await needleFound(on: three) }
        print("followed: an upsert on node 1 was found by a search on node 3 after \(clock.now - acknowledged)")
        #expect(try await two.deleteItems("shared", ids: [.string("needle")]) == 1)
        try await eventually("node 3 no longer finds the item deleted on node 2") { try await !needleFound(on: three) }
        #expect(try await three.collection("shared").itemCount == 200)

        // One server trains a collection at a time; a cancel through another server stops it.
        var long = quickTraining()
        long.epochs = 10_000
        long.batchSize = 1
        let running = try await two.startTraining("shared", options: long)
        await #expect(throws: DPQError.self) { _ = try await three.startTraining("shared", options: quickTraining()) }
        try await eventually("node 3 knows the job running on node 2") {
            (try? await three.collection("shared").training.jobID) == running.jobID
        }
        do {
            _ = try await three.startTraining("shared", options: quickTraining())
            Issue.record("a second training started on node 3")
        } catch let e as DPQError {
            #expect(e.code == .failedPrecondition, "\(e)")
        }
        _ = try await three.cancelTraining("shared")
        var end: Dpq_V1_TrainingProgress?
        for try await p in two.watchTraining("shared", minInterval: .milliseconds(100)) { end = p }
        #expect(end?.jobID == running.jobID && end?.state == .cancelled, "\(String(describing: end))")
        try await eventually("node 3 sees the job cancelled") {
            (try? await three.collection("shared").training.state) == .cancelled
        }
        #expect(try await one.collection("shared").model.sha256 == trained.model.sha256)

        #expect(try await three.deleteCollection("shared"))
        try await eventually("node 1 no longer lists the collection deleted on node 3") {
            try await one.listCollections().isEmpty
        }
        // The name is free again: created anew on node 2, it is empty on node 1.
        try await two.createCollection("shared", inputDimension: 16, model: smallModel())
        try await eventually("node 1 opens the re-created collection") {
            (try? await one.collection("shared").itemCount) == 0
        }
        for n in nodes { await n.stop() }
    }
}

/// Polls `condition` every 10 ms until it holds, for at most 20 s.
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock(), until = clock.now + .seconds(20)
    while clock.now < until {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("not within 20 s: \(what)")
    throw CancellationError()
}
