import DPQClient
import DPQProto
import ChildProcesses
import Foundation
import GRPCCore
import Testing

/// A full disk and a read-only data directory, at server level (`dpq serve` in a child process),
/// on a small tmpfs mounted for the test (the tests run as root, so file modes would not stop
/// writes; a mount does). Upserts until the disk is full must give RESOURCE_EXHAUSTED (or
/// UNAVAILABLE) with a clear message while the server keeps answering; after space is freed,
/// writes work again and everything acknowledged is there, also across restarts. A read-only
/// data directory gives UNAVAILABLE on writes (or a clear start-up error), never a crash.
@Suite(.serialized) struct DiskFullTests {
    @discardableResult
    static func sh(_ args: [String]) -> (status: Int32, output: String) {
        do {
            let r = try ChildProcess.run(args, timeout: 120)
            return (r.status, r.stdout + r.stderr)
        } catch {
            return (-1, "\(error)")
        }
    }

    static func isFull(_ e: DPQError) -> Bool {
        (e.code == .resourceExhausted || e.code == .unavailable)
            && (e.message.localizedCaseInsensitiveContains("full") || e.message.localizedCaseInsensitiveContains("space"))
    }

    @Test func diskFullAndReadOnlyDataDirectory() async throws {
        let mnt = temporaryPath("dpq-tmpfs")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let mounted = Self.sh(["mount", "-t", "tmpfs", "-o", "size=9m", "tmpfs", mnt])
        try #require(mounted.status == 0, "cannot mount a tmpfs at \(mnt) (the test needs root and CAP_SYS_ADMIN, as on CI): \(mounted.output)")
        let log = mnt + ".server.log"
        var server: ChildServer?
        defer {
            server?.stop()
            if Self.sh(["umount", mnt]).status != 0 { Self.sh(["umount", "-l", mnt]) }
            try? FileManager.default.removeItem(atPath: mnt)
            try? FileManager.default.removeItem(atPath: log)
        }
        let dir = mnt + "/data"
        // Ballast to free later: 4 MiB, as much as the write-ahead log holds before SQLite's first
        // checkpoint (1,000 pages). Less may not let that checkpoint finish: the database file
        // must grow by the log's pages before the log can be reused, and until then every write
        // needs new space (with 1 MiB, whether the freed space sufficed depended on how densely
        // the rows packed).
        let ballast = mnt + "/ballast"
        FileManager.default.createFile(atPath: ballast, contents: Data(repeating: 7, count: 4 << 20))

        server = try ChildServer(dataDir: dir, logPath: log)
        // A generous deadline: at the suite's start, with every test starting at once on 2 cores
        // (and other work beside it), the first call once took over 30 s; the test is about the
        // answers, not their speed.
        var dpq = try DPQClient(address: server!.address, timeout: .seconds(120))
        try await dpq.createCollection("d", inputDimension: 64, keepVectors: true)
        var acked: [UInt64] = []
        var next: UInt64 = 0
        func batch(_ n: Int) -> [NewItem] {
            (0..<n).map { _ in
                defer { next += 1 }
                return NewItem(id: .number(next), vector: (0..<64).map { Float(next) + Float($0) / 64 })
            }
        }
        // Fill the disk.
        var fullError: DPQError?
        for _ in 0..<2000 {
            let b = batch(100)
            do {
                try await dpq.upsert("d", items: b)
                acked += b.map { if case .number(let n) = $0.id { n } else { 0 } }
            } catch let e as DPQError {
                fullError = e
                break
            }
        }
        let e = try #require(fullError, "9 MiB never filled up")
        #expect(Self.isFull(e), "upsert on a full disk: \(e)")
        #expect(acked.count > 1000)
        // Full: writes keep failing cleanly, reads and the server keep working.
        for _ in 0..<3 {
            do { try await dpq.upsert("d", items: batch(100)); Issue.record("an upsert succeeded on a full disk") }
            catch let e as DPQError { #expect(Self.isFull(e), "\(e)") }
        }
        var seen: [String] = ["upsert: \(e)"]
        do { try await dpq.createCollection("another", inputDimension: 8); Issue.record("created a collection on a full disk") }
        catch let e as DPQError { seen.append("create: \(e)"); #expect(e.code == .resourceExhausted || e.code == .unavailable, "create on a full disk: \(e)") }
        do { try await dpq.uploadTrainingData("d", vectors: [[Float]](repeating: [Float](repeating: 1, count: 64), count: 500)); Issue.record("an upload succeeded on a full disk") }
        catch let e as DPQError { #expect(e.code == .resourceExhausted || e.code == .unavailable, "upload on a full disk: \(e)") }
        #expect(try await dpq.healthCheck() == .serving)
        #expect(try await dpq.count("d") == UInt64(acked.count), "a failed upsert was partly stored")
        #expect(server!.process.isRunning)

        // Space freed: writes work again.
        try FileManager.default.removeItem(atPath: ballast)
        let after = batch(50)
        try await dpq.upsert("d", items: after)
        acked += after.map { if case .number(let n) = $0.id { n } else { 0 } }
        #expect(try await dpq.count("d") == UInt64(acked.count))

        // Everything acknowledged survives a restart.
        dpq.close()
        server!.stop()
        server = try ChildServer(dataDir: dir, logPath: log)
        dpq = try DPQClient(address: server!.address, timeout: .seconds(120))
        try await Self.expectAll(dpq, acked, "after a restart")

        // Read-only data directory (the tmpfs remounted read-only; a running server holds its
        // database files open for writing, which the kernel refuses to remount under, so the
        // server is stopped first and started on the read-only directory).
        dpq.close()
        server!.stop()
        let ro = Self.sh(["mount", "-o", "remount,ro", mnt])
        try #require(ro.status == 0, "remount read-only failed: \(ro.output)")
        do {
            server = try ChildServer(dataDir: dir, logPath: log)
            dpq = try DPQClient(address: server!.address, timeout: .seconds(120))
            // It serves reads; writes are UNAVAILABLE (an operator must fix the machine) with a message.
            do { try await dpq.upsert("d", items: batch(10)); Issue.record("an upsert succeeded on a read-only disk") }
            catch let e as DPQError {
                seen.append("read-only upsert: \(e)")
                #expect(e.code == .unavailable || e.code == .resourceExhausted, "upsert on a read-only disk: \(e)")
                #expect(e.message.localizedCaseInsensitiveContains("read") || e.message.localizedCaseInsensitiveContains("only"), "\(e.message)")
            }
            do { try await dpq.createCollection("ro", inputDimension: 8); Issue.record("created a collection on a read-only disk") }
            catch let e as DPQError { seen.append("read-only create: \(e)"); #expect(e.code == .unavailable, "create on a read-only disk: \(e)") }
            #expect(try await dpq.healthCheck() == .serving)
            #expect(server!.process.isRunning)
            dpq.close()
            server!.stop()
            print("read-only data directory: the server started, served reads, writes were UNAVAILABLE")
        } catch let e as ChildServerError {
            // Refusing to start is acceptable too, with a message naming the problem and no crash.
            #expect(e.description.localizedCaseInsensitiveContains("read-only") || e.description.localizedCaseInsensitiveContains("readonly"),
                    "start on a read-only data directory: \(e)")
            let status = server?.process.terminationStatus
            print("read-only data directory: the server refused to start: \(e) (\(String(describing: status)))")
        }
        let rw = Self.sh(["mount", "-o", "remount,rw", mnt])
        try #require(rw.status == 0, "remount read-write failed: \(rw.output)")
        server = try ChildServer(dataDir: dir, logPath: log)
        dpq = try DPQClient(address: server!.address, timeout: .seconds(120))
        let last = batch(20)
        try await dpq.upsert("d", items: last)
        acked += last.map { if case .number(let n) = $0.id { n } else { 0 } }
        try await Self.expectAll(dpq, acked, "after read-write again")
        print("disk full: \(acked.count) items acknowledged, none lost; errors: " + seen.joined(separator: " | "))
        dpq.close()
    }

    static func expectAll(_ dpq: DPQClient, _ acked: [UInt64], _ when: String) async throws {
        #expect(try await dpq.count("d") == UInt64(acked.count), "\(when)")
        for start in stride(from: 0, to: acked.count, by: 1000) {
            let ids = acked[start..<min(start + 1000, acked.count)].map { ItemKey.number($0) }
            let got = try await dpq.getItems("d", ids: ids, withVectors: true)
            #expect(got.missingIds.isEmpty, "\(when): \(got.missingIds.count) acknowledged items missing")
            #expect(got.items.allSatisfy { $0.vector.values.first == Float($0.id.num) }, "\(when): a vector changed")
        }
    }
}
