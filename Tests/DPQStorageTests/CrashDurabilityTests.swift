// kill -9 durability: a child process (storage-crash-writer) upserts batches and prints
// "acked <b>" after each commit; the test kills it with SIGKILL at a random moment, then
// reopens the collection and checks that every acknowledged batch is there, whole and
// correct, and that no partial batch is visible. Several rounds on the same collection.

import ChildProcesses
import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct CrashDurabilityTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    static let batchSize = 50

    static func writerPath() throws -> String {
        // The test binary and the package's executables are built into the same folder.
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var candidates = [exe.deletingLastPathComponent().appendingPathComponent("storage-crash-writer").path]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates += ["debug", "release"].map { root.appendingPathComponent(".build/\($0)/storage-crash-writer").path }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw StorageError.notFound("storage-crash-writer not built; looked in \(candidates)")
        }
        return path
    }

    @Test func acknowledgedWritesSurviveKill9() throws {
        let writer = try Self.writerPath()
        var random = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        var totalAcked = 0
        for round in 0..<4 {
            // Beside the data directory, not in it: its listing must hold collections only.
            let base = tmp.path + "-round-\(round)"
            defer { unlink(base + ".out"); unlink(base + ".err") }
            let process = try ChildProcess([writer, tmp.path, "crash", String(Self.batchSize)],
                                           stdoutPath: base + ".out", stderrPath: base + ".err")
            // A random moment: most rounds land in the middle of a batch's transaction.
            usleep(UInt32(200_000 + Int(random.next() % 600_000)))
            let end = process.kill9()
            let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            #expect(end.signal == SIGKILL, "round \(round): the writer ended by itself (\(end)): \(err)")
            let lines = ((try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "").split(separator: "\n")
            let acked = lines.compactMap { $0.hasPrefix("acked ") ? Int($0.dropFirst(6)) : nil }
            totalAcked += acked.count
            print("crash round \(round): \(acked.count) batches acknowledged")

            let dir = try DataDirectory(root: tmp.path)
            // Killed before the collection was created: then it must not exist at all.
            guard try dir.listCollections().contains("crash") else {
                #expect(acked.isEmpty)
                continue
            }
            let store = try dir.openCollection("crash")
            let count = try store.count()
            // Whole batches only, and at least every acknowledged one.
            #expect(count % Self.batchSize == 0, "round \(round): \(count) items is not a whole number of batches")
            if let last = acked.last { #expect(count >= (last + 1) * Self.batchSize, "round \(round): acked \(last) but \(count) items") }
            let expected = (0..<UInt64(count)).map { Fixtures.item($0) }
            #expect(try store.get(expected.map(\.id)) == expected, "round \(round)")
            let loaded = try store.loadAll()
            #expect(Array(loaded.ids) == expected.map(\.id))
            #expect(loaded.uncoded.isEmpty)
            let check = try store.pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
            #expect(check == "ok")
            dir.close()
        }
        #expect(totalAcked > 0, "the writer never acknowledged a batch")
    }
}
