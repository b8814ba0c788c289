import ChildProcesses
import Foundation
import Testing

/// The load test executable (`dpq-load`) in a short run: 16 concurrent client tasks mixing
/// searches and upserts while a training runs and switches the model, 3 rounds of 3 s against
/// `dpq serve` in a child process. No call may fail, and the server's peak resident memory in
/// the last round must not be much above the first (no growth across rounds).
@Suite(.serialized) struct LoadTests {
    @Test func shortLoadRunHasNoErrorsAndBoundedMemory() async throws {
        let bin = ChildServer.binDir + "/dpq-load"
        try #require(FileManager.default.isExecutableFile(atPath: bin), "build the dpq-load product first (swift build)")
        // stdout and stderr (progress lines and the server's log) go to files: no pipe can fill up.
        let r = try await ChildProcess.runAwaiting([bin, "--clients", "16", "--connections", "4", "--seconds", "3", "--rounds", "3",
                                                   "--items", "3000", "--train-epochs", "10"], timeout: 600)
        try #require(r.status == 0 && !r.exit.wasSignalled, "dpq-load ended with \(r.exit): \(r.stderr)")
        let data = r.out
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not JSON: \(String(decoding: data, as: UTF8.self))")
        let rounds = try #require(report["rounds"] as? [[String: Any]])
        #expect(rounds.count == 3)
        #expect(report["errors"] as? Int == 0, "errors: \(rounds.map { $0["first_errors"] ?? [] })")
        for r in rounds {
            let kinds = r["kinds"] as? [String: [String: Any]] ?? [:]
            #expect((kinds["search"]?["count"] as? Int ?? 0) > 0, "round \(r["round"] ?? 0) ran no search")
            #expect((kinds["upsert"]?["count"] as? Int ?? 0) > 0, "round \(r["round"] ?? 0) ran no upsert")
            #expect(r["items"] as? Int == 3000, "upserts replace ids: the collection keeps its size")
        }
        let training = rounds.compactMap { ($0["training"] as? [String: Any])?["state"] as? String }
        #expect(training.contains("succeeded"), "no training finished (and switched the model) under load: \(training)")
        let peaks = rounds.compactMap { $0["server_peak_rss_mb"] as? Double }
        try #require(peaks.count == 3 && peaks[0] > 0, "server memory not read: \(peaks)")
        // Tolerant: allocator and caches settle over the first rounds; a leak per call would not.
        #expect(peaks[2] <= peaks[0] * 1.5 + 64, "server peak RSS grew across rounds: \(peaks) MiB")
        print("load (debug build, 16 clients, 3 x 3 s): " + rounds.map { r in
            "round \(r["round"] ?? 0): \(Int(r["rpc_per_second"] as? Double ?? 0)) RPC/s, peak RSS \(Int(r["server_peak_rss_mb"] as? Double ?? 0)) MiB"
        }.joined(separator: "; "))
    }
}
