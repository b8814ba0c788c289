// kill -9 during a bulk load of codes (issue 13), in CI-sized form: what the 10M-item run does
// (codes computed elsewhere loaded in large batches into a collection with k-means lists, the
// lists saved in lists.cache and reused at start-up), scaled to tens of thousands of items on
// `dpq serve` in a child process. Each round kills the server (SIGKILL) at a random moment of
// the load and restarts it: every acknowledged batch is there, and probing every list gives the
// exhaustive answer (the lists rebuilt from the cache and the rows agree with the items).

import ChildProcesses
import DPQClient
import DPQEngine
import Foundation
import Testing

@Suite(.serialized) struct CodeLoadKillTests {
    @Test func killNineDuringABulkCodeLoad() async throws {
        let dir = temporaryPath("dpq-codekill")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        var server = try await onOwnThread { try ChildServer(dataDir: dir) }
        var client = try DPQClient(address: server.address, timeout: .seconds(60))
        try await client.createCollection("bulk", inputDimension: 16, model: smallModel(), keepVectors: false,
                                          index: .with { $0.partition = .kmeans; $0.nlist = 16 })
        try await trainToCompletion(client, "bulk")
        // Codes "computed elsewhere": 2,000 distinct ones, reused under new ids.
        let data = Clusters.make(2_000, seed: 3)
        let (codes, sha) = try await client.encodeForUpsert("bulk", vectors: data.vectors)
        var acknowledged = 0          // ids 0..<acknowledged, in batches of `batch`
        let batch = 5_000
        var random = SystemRandomNumberGenerator()
        for round in 0..<3 {
            let firstAck = Counter()
            let pid = server.pid, delay = Int.random(in: 300...1_500, using: &random)
            let killer = Task.detached {
                while firstAck.value == 0 { try? await Task.sleep(for: .milliseconds(5)) }
                try? await Task.sleep(for: .milliseconds(delay))
                kill(pid, SIGKILL)
            }
            do {
                while true {
                    let items = (0..<batch).map { i in
                        NewItem(id: .number(UInt64(acknowledged + i)), code: codes[(acknowledged + i) % codes.count],
                                labels: [data.labels[(acknowledged + i) % codes.count]])
                    }
                    try await client.upsert("bulk", items: items, modelSHA256: sha)
                    acknowledged += batch
                    _ = firstAck.increment()
                }
            } catch {
                // The server died under the load: expected.
            }
            _ = await killer.value
            try await server.process.exited(timeout: 60)
            client.close()

            server = try await onOwnThread { try ChildServer(dataDir: dir) }
            client = try DPQClient(address: server.address, timeout: .seconds(60))
            let info = try await client.collection("bulk")
            #expect(info.itemCount >= UInt64(acknowledged), "round \(round): \(info.itemCount) items, \(acknowledged) acknowledged")
            for start in stride(from: 0, to: acknowledged, by: 5_000) {
                let ids = (start..<min(start + 5_000, acknowledged)).map { ItemKey.number(UInt64($0)) }
                let got = try await client.getItems("bulk", ids: ids)
                #expect(got.missingIds.isEmpty, "round \(round): \(got.missingIds.count) acknowledged items lost")
            }
            #expect(info.indexLists == 16, "round \(round): \(info.indexLists) lists")
            let q = Clusters.make(4, seed: 8).vectors
            let exhaustive = try await client.search("bulk", queries: q, k: 10)
            let probed = try await client.search("bulk", queries: q, k: 10, nprobe: 16)
            #expect(probed.map { $0.map(\.id) } == exhaustive.map { $0.map(\.id) }, "round \(round)")
            print("code load kill round \(round): \(acknowledged) acknowledged, \(info.itemCount) stored")
        }
        #expect(acknowledged >= 3 * batch)
        #expect(FileManager.default.fileExists(atPath: dir + "/collections/bulk/lists.cache"), "the lists were saved at a start")
        client.close()
        let last = server
        try await onOwnThread { last.stop() }
    }
}
