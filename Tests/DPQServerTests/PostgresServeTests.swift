import DPQClient
import DPQEngine
import DPQProto
import ChildProcesses
import Foundation
import PostgresTestSupport
import Testing

/// `dpq serve --store postgres://...` as a child process: a collection trained and written
/// through the Swift client, kill -9 while upserts are in flight, a restart (this time with
/// DPQ_STORE), and every acknowledged item is there — labels, vector and a code of the
/// committed model — the model is the same, searches answer, and the data directory was never
/// touched.
@Suite struct PostgresServeTests {
    @Test func acknowledgedWritesSurviveKillNine() async throws {
        // Starting PostgreSQL blocks for seconds: on a thread of its own, not the cooperative pool.
        let url = try await onOwnThread { () throws -> String in
            let pg = try PostgresServer.shared()
            return pg.url(database: try pg.makeDatabase())
        }
        let dir = temporaryPath("dpq-pgserve")
        defer { try? FileManager.default.removeItem(atPath: dir + ".server.log") }

        var server = try ChildServer(dataDir: dir, extraArgs: ["--store", url])
        var dpq = try DPQClient(address: server.address, timeout: .seconds(60))
        try await dpq.createCollection("p", inputDimension: 16, model: smallModel(), keepVectors: true)
        let train = Clusters.make(240, seed: 3)
        try await dpq.uploadTrainingData("p", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await dpq.startTraining("p", options: quickTraining())
        for try await _ in dpq.watchTraining("p", minInterval: .milliseconds(50)) {}
        let sha = try await dpq.collection("p").model.sha256
        #expect(!sha.isEmpty)
        // A needle far from the clusters, whose code no other item shares: found by its own vector.
        let needle = NewItem(id: .string("needle"), vector: (0..<16).map { $0 % 2 == 0 ? 40 : -40 }, labels: [0])
        try await dpq.upsert("p", items: [needle])

        // Upserts from two clients until the kill; only acknowledged batches are remembered.
        let data = Clusters.make(2000, seed: 4)
        let address = server.address
        let writers = (0..<2).map { w in
            Task { () -> [UInt64] in
                let client = try DPQClient(address: address, timeout: .seconds(10))
                defer { client.close() }
                var acked: [UInt64] = []
                for batch in 0..<1000 {
                    let ids = (0..<10).map { UInt64(w * 100_000 + batch * 10 + $0) }
                    let items = ids.map { NewItem(id: .number($0), vector: data.vectors[Int($0 % 2000)], labels: [data.labels[Int($0 % 2000)]]) }
                    do { try await client.upsert("p", items: items) } catch { break }
                    acked += ids
                }
                return acked
            }
        }
        // Let some batches land, then kill the server in the middle of the others.
        let deadline = Date().addingTimeInterval(60)
        // (The count includes the needle and batches committed but not yet acknowledged: at most
        // one per writer, 10 items each.)
        while try await dpq.count("p") < 301 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        dpq.close()
        server.kill9()
        var acked: [UInt64] = []
        for w in writers { acked += try await w.value }
        #expect(acked.count >= 280)

        server = try ChildServer(dataDir: dir, environment: ["DPQ_STORE": url])
        defer { server.stop() }
        dpq = try DPQClient(address: server.address, timeout: .seconds(60))
        defer { dpq.close() }
        let info = try await dpq.collection("p")
        #expect(info.state == .ready && info.model.sha256 == sha)
        #expect(info.itemCount >= UInt64(acked.count))
        let model = try DPQModel(serialized: try await dpq.exportModel("p"))
        var missing = 0, changed = 0
        for start in stride(from: 0, to: acked.count, by: 500) {
            let chunk = Array(acked[start..<min(start + 500, acked.count)])
            let got = try await dpq.getItems("p", ids: chunk.map { .number($0) }, withVectors: true, withCodes: true)
            missing += got.missingIds.count
            for item in got.items {
                let n = Int(item.id.num % 2000)
                if item.labels != [data.labels[n]] || item.vector.values != data.vectors[n] || item.code.count != 3 { changed += 1 }
            }
        }
        #expect(missing == 0, "\(missing) acknowledged items lost")
        #expect(changed == 0, "\(changed) items changed")
        #expect(model.config.blocks == 3)
        // The index was rebuilt from PostgreSQL: the needle finds itself (clustered items share
        // codes, so one of them could tie with hundreds of others).
        let hits = try await dpq.search("p", queries: [needle.vector], k: 5, rescoreOversampling: 20)
        #expect(hits.first?.contains { $0.id == .string("needle") } == true, "\(hits)")
        // The other store calls of the service, each answered through PostgreSQL (a debug build
        // of dpq serve asserts that none of them blocks an event loop).
        let page = try await dpq.listItems("p", pageSize: 7)
        #expect(page.items.count == 7 && !page.nextPageToken.isEmpty)
        let labelled = acked.filter { data.labels[Int($0 % 2000)] == 1 }.count
        #expect(try await dpq.count("p", anyOf: [1]) >= UInt64(labelled))
        #expect(try await dpq.deleteItems("p", ids: [.number(acked[0]), .number(987_654_321)]) == 1)
        let copy = try await dpq.importModel("q", data: try await dpq.exportModel("p"), createIfMissing: true, keepVectors: true)
        #expect(copy.created && copy.itemsEncoded == 0)
        #expect(try await dpq.listCollections().map(\.name) == ["p", "q"])
        #expect(try await dpq.deleteCollection("q"))
        #expect(try await dpq.listCollections().map(\.name) == ["p"])
        // Nothing went to the SQLite data directory.
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}
