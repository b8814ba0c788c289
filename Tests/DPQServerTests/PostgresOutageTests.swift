import ChildProcesses
import DPQClient
import DPQEngine
import DPQProto
import Foundation
import PostgresTestSupport
import Testing

/// PostgreSQL stops for a while under two servers (issue 14): writes answer UNAVAILABLE (nothing
/// acknowledged that is not committed), searches go on from each server's in-memory index, and
/// when PostgreSQL is back both servers write and follow each other again without a restart;
/// then both stop cleanly on SIGTERM.
@Suite struct PostgresOutageTests {
    @Test func writesUnavailableSearchesGoOnAndAllRecovers() async throws {
        let pg = try await onOwnThread { try PostgresServer.dedicated() }
        defer { pg.stop() }
        let url = try await onOwnThread { pg.url(database: try pg.makeDatabase()) }
        let servers = try [temporaryPath("dpq-outage"), temporaryPath("dpq-outage")].map {
            try ChildServer(dataDir: $0, extraArgs: ["--store", url])
        }
        defer { for s in servers { s.stop(); try? FileManager.default.removeItem(atPath: s.logPath) } }
        let a = try DPQClient(address: servers[0].address, timeout: .seconds(60)), b = try DPQClient(address: servers[1].address, timeout: .seconds(60))
        defer { a.close(); b.close() }
        try await trainedCollection(a, name: "o", items: 200, keepVectors: true)
        let probe = Clusters.make(4, seed: 9).vectors
        try await eventually("node b serves the model") { (try? await b.search("o", queries: probe, k: 5).first?.count) == 5 }

        let clock = ContinuousClock()
        var t = clock.now
        func phase(_ what: String) { print("outage: \(what) after \(clock.now - t)"); t = clock.now }
        try await onOwnThread { try pg.pause() }
        phase("PostgreSQL stopped")
        let item = NewItem(id: .string("during"), vector: probe[0], labels: [0])
        do {
            try await a.upsert("o", items: [item])
            Issue.record("an upsert was acknowledged while PostgreSQL was down")
        } catch let e as DPQError {
            #expect(e.code == .unavailable, "\(e)")
        }
        for node in [a, b] {
            let hits = try await node.search("o", queries: probe, k: 5)
            #expect(hits.count == 4 && hits.allSatisfy { $0.count == 5 }, "searches go on from memory")
        }

        phase("writes refused, searches answered")
        try await onOwnThread { try pg.resume() }
        phase("PostgreSQL started")
        // The first call after the outage may still meet a connection cut by it.
        try await eventually("node a writes again") {
            do { try await a.upsert("o", items: [item]); return true } catch let e as DPQError where e.code == .unavailable { return false }
        }
        try await eventually("node b follows the write made after the outage") {
            let found = try await b.search("o", queries: [probe[0]], k: 201).first?.contains { $0.id == .string("during") } == true
            let count = try await b.collection("o").itemCount
            return found && count == 201
        }
        phase("node a wrote, node b followed")
        try await b.deleteItems("o", ids: [.string("during")])
        try await eventually("node a follows node b's delete") {
            try await a.search("o", queries: [probe[0]], k: 201).first?.contains { $0.id == .string("during") } == false
        }
        phase("node a followed node b's delete")
        a.close(); b.close()
        for s in servers {
            let started = clock.now
            s.stop()
            phase("a server stopped on SIGTERM")
            #expect(s.process.terminationStatus == 0, "exit status after SIGTERM")
            // No call is open, so nothing to drain: well inside the 30 s drain timeout. (Once this
            // took the drain timeout plus 5 s: PostgreSQL, restarted by the test with the test
            // process's descriptors inherited, held the clients' connections open.)
            #expect(clock.now - started < .seconds(10), "SIGTERM after an outage took \(clock.now - started)")
        }
    }
}
