import DPQClient
import ChildProcesses
import Foundation
import Testing

/// The `dpq` executable, driven as a user would: `dpq serve` in a child process, the client
/// subcommands against it, JSON output parsed, errors on stderr with a non-zero exit code.
@Suite(.serialized) struct CLITests {
    static var binary: String { ChildServer.binary }

    struct Result { var status: Int32; var out: String; var err: String }

    @discardableResult
    func dpq(_ args: [String], stdin: String? = nil) throws -> Result {
        let r = try ChildProcess.run([Self.binary] + args, stdin: stdin.map { Data($0.utf8) }, timeout: 600)
        return Result(status: r.status, out: r.stdout, err: r.stderr)
    }

    /// Starts `dpq serve --port 0` and returns the process and its address (its log goes to
    /// `dataDir`.server.log, removed with the data directory by the callers).
    func serve(dataDir: String) throws -> (ChildProcess, String) {
        let server = try ChildServer(dataDir: dataDir)
        return (server.process, server.address)
    }

    /// The client's deadline fires (the CLI runs Swift concurrency on the event loops): against a
    /// listener that accepts and never answers, `--timeout 1` ends the call DEADLINE_EXCEEDED
    /// (exit code 4 + 1) after about a second, not never.
    @Test func deadlineAgainstASilentServer() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &addr) { a in
            try a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try #require(bind(fd, $0, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &len) == 0)
            }
        }
        let port = UInt16(bigEndian: addr.sin_port)
        let start = Date()
        let r = try dpq(["health", "--timeout", "1", "--address", "127.0.0.1:\(port)"])
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 5, "exit \(r.status): \(r.err)")
        #expect(r.err.lowercased().contains("deadline"), "\(r.err)")
        #expect(seconds >= 0.9 && seconds < 20, "\(seconds) s")
    }

    @Test func cliDrivesEveryCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the dpq product first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        let (server, address) = try serve(dataDir: dir)
        defer { server.interrupt(); server.waitOrKill() }
        let a = ["--address", address]

        var r = try dpq(["health"] + a)
        #expect(r.status == 0 && r.out.contains("serving"), "\(r.err)")
        r = try dpq(["collections", "create", "cli", "--dimension", "16", "--classes", "4", "--blocks", "3",
                     "--codebook-size", "16", "--feature-dimension", "8", "--hidden", "32"] + a)
        #expect(r.status == 0, "\(r.err)")

        // Training rows and items as JSON lines on stdin.
        let train = Clusters.make(240, seed: 2)
        let trainLines = zip(train.vectors, train.labels).map { v, l in "{\"vector\": \(v), \"labels\": [\(l)]}" }.joined(separator: "\n")
        r = try dpq(["train", "cli", "--epochs", "3", "--pretrain-epochs", "2", "--batch-size", "64", "--stop-gradient-at-feature",
                     "--json"] + a, stdin: trainLines)
        #expect(r.status == 0, "\(r.err)")
        let db = Clusters.make(80, seed: 3)
        let dbLines = zip(db.vectors, db.labels).enumerated().map { i, x in "{\"id\": \"item-\(i)\", \"vector\": \(x.0), \"labels\": [\(x.1)]}" }.joined(separator: "\n")
        r = try dpq(["upsert", "cli", "--json"] + a, stdin: dbLines)
        #expect(r.status == 0 && r.out.contains("\"inserted\":80"), "\(r.out) \(r.err)")

        let q = db.vectors[0].map { String($0) }.joined(separator: ",")
        r = try dpq(["search", "cli", "--vector", q, "--k", "3", "--bits", "8", "--metric", "l2", "--json"] + a)
        #expect(r.status == 0, "\(r.err)")
        let hits = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[[String: Any]]]
        #expect(hits?.first?.count == 3)
        #expect(hits?.first?.first?["id"] as? String == "item-0")

        r = try dpq(["encode", "cli", "--vector", q, "--bits", "8"] + a)
        #expect(r.status == 0 && r.out.trimmingCharacters(in: .whitespacesAndNewlines).count == 4, "\(r.out)")
        let code = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        r = try dpq(["decode", "cli", code, "--bits", "8", "--json"] + a)
        #expect(r.status == 0 && r.out.hasPrefix("[["), "\(r.err)")

        let evalLines = zip(db.vectors, db.labels).prefix(10).map { v, l in "{\"vector\": \(v), \"labels\": [\(l)]}" }.joined(separator: "\n")
        r = try dpq(["eval", "cli"] + a, stdin: evalLines)
        #expect(r.status == 0 && r.out.contains("| 12 |"), "\(r.out) \(r.err)")

        let modelPath = dir + "-model.safetensors"
        defer { try? FileManager.default.removeItem(atPath: modelPath) }
        r = try dpq(["export", "cli", modelPath] + a)
        #expect(r.status == 0 && FileManager.default.fileExists(atPath: modelPath), "\(r.err)")
        r = try dpq(["import", "cli-copy", modelPath, "--create"] + a)
        #expect(r.status == 0 && r.out.contains("created"), "\(r.err)")

        // Codes computed by `dpq encode` on one collection, loaded into the copy of its model by --codes.
        r = try dpq(["encode", "cli"] + db.vectors.prefix(5).flatMap { ["--vector", $0.map { String($0) }.joined(separator: ",")] } + a)
        let codesPath = dir + "-codes.txt"
        defer { try? FileManager.default.removeItem(atPath: codesPath) }
        try r.out.write(toFile: codesPath, atomically: true, encoding: .utf8)
        r = try dpq(["collections", "info", "cli-copy"] + a)
        let sha = r.out.components(separatedBy: "sha256 ").last?.prefix(64).description ?? ""
        #expect(sha.count == 64, "\(r.out)")
        r = try dpq(["upsert", "cli-copy", "--codes", codesPath, "--model-sha256", sha, "--start-id", "100", "--json"] + a)
        #expect(r.status == 0 && r.out.contains("\"inserted\":5"), "\(r.out) \(r.err)")
        r = try dpq(["upsert", "cli-copy", "--codes", codesPath, "--model-sha256", String(repeating: "0", count: 64)] + a)
        #expect(r.status != 0 && r.err.contains("failedPrecondition") && r.err.contains("model_sha256"), "\(r.err)")

        r = try dpq(["collections", "list", "--json"] + a)
        #expect(r.status == 0 && r.out.contains("\"cli-copy\""))
        r = try dpq(["collections", "info", "cli"] + a)
        #expect(r.status == 0 && r.out.contains("ready, 80 items"), "\(r.out)")
        // The model says what it was trained with, the flag included.
        r = try dpq(["collections", "info", "cli", "--json"] + a)
        #expect(r.status == 0 && r.out.replacingOccurrences(of: " ", with: "").contains("\"stop_gradient_at_feature\":true"), "\(r.out)")

        // Errors: stderr, non-zero exit, the status and the field named.
        r = try dpq(["search", "cli", "--vector", "1,2,3", "--k", "3"] + a)
        #expect(r.status != 0 && r.err.contains("invalidArgument") && r.err.contains("queries.dimension"), "\(r.err)")
        r = try dpq(["collections", "info", "missing"] + a)
        #expect(r.status != 0 && r.err.contains("notFound"), "\(r.err)")
        r = try dpq(["collections", "delete", "cli-copy"] + a)
        #expect(r.status == 0)
    }

    /// `--address a,b`: the CLI talks to either server, and keeps working when one has stopped.
    @Test func severalAddresses() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the dpq product first (swift build)")
        let dirs = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("dpq-cli-\(UUID().uuidString)").path }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d); try? FileManager.default.removeItem(atPath: d + ".server.log") } }
        let (first, a1) = try serve(dataDir: dirs[0])
        defer { first.interrupt(); first.waitOrKill() }
        let (second, a2) = try serve(dataDir: dirs[1])
        let both = ["--address", "\(a1),\(a2)"]
        var r = try dpq(["health"] + both)
        #expect(r.status == 0 && r.out.contains("serving"), "\(r.err)")
        second.interrupt()
        second.waitOrKill()
        r = try dpq(["collections", "create", "only", "--dimension", "4", "--address", a1])
        #expect(r.status == 0, "\(r.err)")
        for _ in 0..<4 {
            r = try dpq(["collections", "info", "only"] + both)
            #expect(r.status == 0, "\(r.err)")
        }
        r = try dpq(["health", "--address", "\(a1),nonsense"])
        #expect(r.status != 0 && r.err.contains("not host:port"), "\(r.err)")
    }

    /// SIGTERM during a training: the server stops cleanly (the job cancelled, exit 0), and a
    /// restart finds every acknowledged item and the collection in its last good state.
    @Test func gracefulShutdownDuringTraining() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the dpq product first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-sig-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        var (server, address) = try serve(dataDir: dir)
        var a = ["--address", address]
        var r = try dpq(["collections", "create", "sig", "--dimension", "16", "--classes", "4", "--blocks", "3",
                         "--codebook-size", "16", "--feature-dimension", "8", "--hidden", "32"] + a)
        #expect(r.status == 0, "\(r.err)")
        let db = Clusters.make(300, seed: 3)
        let lines = zip(db.vectors, db.labels).enumerated().map { i, x in "{\"id\": \(i), \"vector\": \(x.0), \"labels\": [\(x.1)]}" }.joined(separator: "\n")
        r = try dpq(["upsert", "sig"] + a, stdin: lines)
        #expect(r.status == 0, "\(r.err)")
        // A training long enough to be running when the signal comes, from the stored items.
        r = try dpq(["train", "sig", "--from-items", "--epochs", "10000", "--batch-size", "1", "--detach"] + a)
        #expect(r.status == 0, "\(r.err)")
        Thread.sleep(forTimeInterval: 1)
        let start = Date()
        server.terminate()   // SIGTERM
        server.waitOrKill()
        #expect(server.terminationStatus == 0)
        #expect(Date().timeIntervalSince(start) < 20)

        (server, address) = try serve(dataDir: dir)
        defer { server.terminate(); server.waitOrKill() }
        a = ["--address", address]
        r = try dpq(["collections", "info", "sig", "--json"] + a)
        #expect(r.status == 0, "\(r.err)")
        let info = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect(info?["item_count"] as? String == "300" || info?["item_count"] as? Int == 300, "\(r.out)")
        #expect(info?["state"] as? String == "COLLECTION_STATE_UNTRAINED", "\(r.out)")
        let training = info?["training"] as? [String: Any]
        #expect(training?["state"] as? String == "TRAINING_JOB_STATE_CANCELLED", "\(r.out)")
    }

    /// kill -9 while a client upserts: after a restart every acknowledged item is there with its
    /// labels, in every round.
    @Test func killNineKeepsAcknowledgedUpserts() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the dpq product first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-kill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        var acknowledged: [UInt64] = []
        for round in 0..<3 {
            let (server, address) = try serve(dataDir: dir)
            let client = try DPQClient(address: address, timeout: .seconds(30))
            if round == 0 { try await client.createCollection("k", inputDimension: 8, numClasses: 4) }
            // The kill comes 100-500 ms after the round's first acknowledgement, so that a server
            // slow to start on a loaded machine still has writes in flight when it dies.
            let firstAck = Counter()
            let killer = Task.detached {
                while firstAck.value == 0 { try? await Task.sleep(for: .milliseconds(10)) }
                try? await Task.sleep(for: .milliseconds(100 + 200 * round))
                kill(server.processIdentifier, SIGKILL)
            }
            var next = UInt64(round) * 1_000_000
            do {
                while true {
                    let batch = (0..<50).map { i in NewItem(id: .number(next + UInt64(i)), vector: [Float](repeating: Float(i), count: 8), labels: [UInt32(i % 4)]) }
                    try await client.upsert("k", items: batch)
                    acknowledged += batch.map { if case .number(let n) = $0.id { return n } else { return 0 } }
                    _ = firstAck.increment()
                    next += 50
                }
            } catch {
                // The server died under the client: expected.
            }
            _ = await killer.value
            server.waitOrKill()
            client.close()

            let (again, address2) = try serve(dataDir: dir)
            let check = try DPQClient(address: address2, timeout: .seconds(30))
            let count = try await check.count("k")
            #expect(count >= UInt64(acknowledged.count), "round \(round): \(count) items, \(acknowledged.count) acknowledged")
            for chunk in stride(from: 0, to: acknowledged.count, by: 1000) {
                let ids = acknowledged[chunk..<min(chunk + 1000, acknowledged.count)].map { ItemKey.number($0) }
                let got = try await check.getItems("k", ids: ids)
                #expect(got.missingIds.isEmpty, "round \(round): \(got.missingIds.count) acknowledged items lost")
                #expect(got.items.allSatisfy { $0.labels == [UInt32($0.id.num % 1_000_000 % 50 % 4)] })
            }
            check.close()
            again.terminate()
            again.waitOrKill()
            #expect(acknowledged.count > 0)
        }
    }
}
