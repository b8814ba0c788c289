// dpq-load: a bounded load test on loopback. Starts `dpq serve` in a child process (so its
// resident memory can be read from /proc/<pid>/status) or uses a running server, prepares a
// trained collection, then runs rounds of a fixed duration in which many concurrent client
// tasks mix searches and upserts while one training runs (and switches the model when it
// finishes inside the round). Prints one JSON document: per round the throughput, p50/p99
// latency per kind, errors, and the server's peak resident memory.
//
//   swift run -c release dpq-load --clients 32 --seconds 60 --rounds 5
//   .build/debug/dpq-load --clients 16 --seconds 3 --rounds 3          (what the CI test runs)

import ArgumentParser
import BenchSupport
import DPQClient
import DPQEngine
import DPQProto
import Foundation
import SwiftProtobuf

@main
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpq-load",
        abstract: "Load test: concurrent searches, upserts and a training against a DPQ server; prints JSON.")

    @Option(help: "Use this running server (host:port) instead of starting one.") var address: String?
    @Option(help: "With --address: the server's pid, to read its memory from /proc.") var pid: Int32?
    @Option(help: "The dpq executable to start (default: the one next to dpq-load).") var server: String?
    @Option(name: .customLong("data-dir"), help: "Data directory for the started server (default: a temporary one, removed at the end).")
    var dataDir: String?
    @Option(help: "Concurrent client tasks.") var clients = 16
    @Option(help: "HTTP/2 connections the tasks share.") var connections = 4
    @Option(help: "Seconds per round.") var seconds = 10.0
    @Option(help: "Rounds.") var rounds = 3
    @Option(help: "Input dimension.") var dimension = 32
    @Option(help: "Items stored before the first round; upserts replace ids in [0, items), so the collection keeps its size.") var items = 5000
    @Option(help: "Fraction of operations that are searches (the rest are upserts).") var searchFraction = 0.8
    @Option(help: "Queries per search call.") var queries = 1
    @Option(help: "k of each search.") var k = 10
    @Option(help: "Items per upsert call.") var batch = 16
    @Option(name: .customLong("train-epochs"), help: "Epochs of the training started in each round (0: no training).") var trainEpochs = 20
    @Option(help: "Seed of the generated data and the operation mix.") var seed: UInt64 = 1

    struct Failure: Error, CustomStringConvertible { let description: String }

    func run() async throws {
        var child: Process?
        var tempDir: String?
        var serverPID = pid
        let target: String
        if let address {
            target = address
        } else {
            let bin = server ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dpq").path
            let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("dpq-load-\(UUID().uuidString)").path
            if dataDir == nil { tempDir = dir }
            let (p, a) = try Self.startServer(bin, dataDir: dir)
            child = p
            serverPID = p.processIdentifier
            target = a
        }
        defer {
            if let child, child.isRunning { Self.stop(child) }
            if let tempDir { try? FileManager.default.removeItem(atPath: tempDir) }
        }
        let report = try await load(target, serverPID: serverPID)
        let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
        if let child { Self.stop(child) }
    }

    /// SIGTERM, then SIGKILL if the server has not ended after 60 s. Polling `isRunning`
    /// rather than `waitUntilExit`, which on Linux was seen to miss a child's exit and wait forever.
    static func stop(_ child: Process) {
        child.terminate()
        for _ in 0..<6_000 where child.isRunning { usleep(10_000) }
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
    }

    static func startServer(_ bin: String, dataDir: String) throws -> (Process, String) {
        guard FileManager.default.isExecutableFile(atPath: bin) else { throw Failure(description: "no dpq executable at \(bin) (use --server)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["serve", "--port", "0", "--data-dir", dataDir, "--log-level", "warning"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        var line = ""
        while !line.contains("\n") {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        guard let r = line.range(of: "listening on ") else { p.terminate(); throw Failure(description: "dpq serve did not start") }
        return (p, String(line[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// VmHWM and VmRSS of `pid` in bytes.
    static func memory(_ pid: Int32?) -> (peak: Int, current: Int) {
        guard let pid else { return (0, 0) }
        return (ProcessMemory.peakBytes(pid: pid), ProcessMemory.residentBytes(pid: pid))
    }

    /// Deterministic clustered data: `classes` centres, row i in class i % classes.
    struct Data2 {
        let centres: [[Float]]
        let dimension: Int
        init(dimension: Int, classes: Int, seed: UInt64) {
            var g = SeededRandom(seed: seed)
            self.dimension = dimension
            centres = (0..<classes).map { _ in (0..<dimension).map { _ in g.normal() * 3 } }
        }
        func row(_ i: Int, _ g: inout SeededRandom) -> (vector: [Float], label: UInt32) {
            let c = i % centres.count
            return (centres[c].map { $0 + g.normal() }, UInt32(c))
        }
    }


    actor Recorder {
        var latencies: [String: [Double]] = [:]
        var errors: [String: Int] = [:]
        var firstErrors: [String] = []
        var rssSamples: [Int] = []
        func record(_ kind: String, _ seconds: Double) { latencies[kind, default: []].append(seconds) }
        func fail(_ kind: String, _ error: any Error) {
            errors[kind, default: 0] += 1
            if firstErrors.count < 5 { firstErrors.append("\(kind): \(error)") }
        }
        func sample(_ rss: Int) { rssSamples.append(rss) }
        func reset() { latencies = [:]; errors = [:]; firstErrors = []; rssSamples = [] }
        func snapshot() -> ([String: [Double]], [String: Int], [String], [Int]) { (latencies, errors, firstErrors, rssSamples) }
    }

    func load(_ address: String, serverPID: Int32?) async throws -> [String: Any] {
        let collection = "load"
        let data = Data2(dimension: dimension, classes: 10, seed: seed)
        var g = SeededRandom(seed: seed &+ 7)
        let setup = try DPQClient(address: address, timeout: .seconds(300))
        defer { setup.close() }
        // Setup: a trained collection (keeps vectors: a re-training re-encodes every item).
        let setupStart = Date()
        _ = try? await setup.deleteCollection(collection, allowMissing: true)
        let model = Dpq_V1_ModelConfig.with {
            $0.hiddenSizes = .with { $0.sizes = [64] }
            $0.featureDimension = 16
            $0.blocks = 4
            $0.codebookSize = 64
            $0.numClasses = 10
        }
        try await setup.createCollection(collection, inputDimension: dimension, model: model, keepVectors: true)
        let train = (0..<2000).map { data.row($0, &g) }
        try await setup.uploadTrainingData(collection, vectors: train.map(\.vector), labels: train.map { [$0.label] }, chunkRows: 500)
        let quick = TrainingOptions.with { $0.epochs = 5; $0.pretrainEpochs = 3; $0.batchSize = 64; $0.kmeansIterations = 5; $0.seed = seed }
        _ = try await setup.startTraining(collection, options: quick)
        for try await _ in setup.watchTraining(collection, minInterval: .milliseconds(100)) {}
        let initial = (0..<items).map { i -> NewItem in
            let r = data.row(i, &g)
            return NewItem(id: .number(UInt64(i)), vector: r.vector, labels: [r.label])
        }
        try await setup.upsertStream(collection, items: initial, batchSize: 500)
        let setupSeconds = Date().timeIntervalSince(setupStart)

        let pool = try (0..<max(1, connections)).map { _ in try DPQClient(address: address, timeout: .seconds(60)) }
        defer { for c in pool { c.close() } }
        let recorder = Recorder()
        var roundReports: [[String: Any]] = []
        let idSpace = UInt64(max(1, items))
        let memoryBefore = Self.memory(serverPID)

        for round in 0..<rounds {
            await recorder.reset()
            let start = Date()
            let end = start.addingTimeInterval(seconds)
            // One training per round; it switches the model if it ends within the round.
            var trainingState = "none"
            var trainingSeconds = 0.0
            if trainEpochs > 0 {
                let t = TrainingOptions.with {
                    $0.epochs = UInt32(trainEpochs); $0.pretrainEpochs = 2; $0.batchSize = 32
                    $0.kmeansIterations = 5; $0.seed = seed &+ UInt64(round); $0.threads = 1
                }
                do { _ = try await setup.startTraining(collection, options: t) } catch { await recorder.fail("training", error) }
            }
            let sampler = Task {
                while Date() < end {
                    await recorder.sample(Self.memory(serverPID).current)
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            let mixSeed = seed &+ UInt64(1000 * (round + 1))
            let (searchFraction, queries, k, batch) = (self.searchFraction, self.queries, self.k, self.batch)
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<clients {
                    let client = pool[worker % pool.count]
                    group.addTask {
                        var g = SeededRandom(seed: mixSeed &+ UInt64(worker))
                        while Date() < end {
                            if Double(g.uniform()) < searchFraction {
                                let q = (0..<queries).map { _ in data.row(Int(g.next() % 10), &g).vector }
                                let t0 = Date()
                                do {
                                    _ = try await client.search(collection, queries: q, k: k, bits: [0, 6, 12, 18][Int(g.next() % 4)])
                                    await recorder.record("search", Date().timeIntervalSince(t0))
                                } catch { await recorder.fail("search", error) }
                            } else {
                                let b = (0..<batch).map { _ -> NewItem in
                                    let id = g.next() % idSpace
                                    let r = data.row(Int(id), &g)
                                    return NewItem(id: .number(id), vector: r.vector, labels: [r.label])
                                }
                                let t0 = Date()
                                do {
                                    try await client.upsert(collection, items: b)
                                    await recorder.record("upsert", Date().timeIntervalSince(t0))
                                } catch { await recorder.fail("upsert", error) }
                            }
                        }
                    }
                }
            }
            _ = await sampler.value
            let elapsed = Date().timeIntervalSince(start)
            if trainEpochs > 0 {
                let info = try await setup.collection(collection)
                let p = info.training
                switch p.state {
                case .succeeded: trainingState = "succeeded"
                case .running, .pending:
                    trainingState = "cancelled at round end"
                    _ = try? await setup.cancelTraining(collection)
                    for try await _ in setup.watchTraining(collection, minInterval: .milliseconds(50)) {}
                default: trainingState = "\(p.state)"
                }
                if p.finishedAtUnixMs > 0 { trainingSeconds = Double(p.finishedAtUnixMs - p.startedAtUnixMs) / 1000 }
            }
            let mem = Self.memory(serverPID)
            let (latencies, errors, firstErrors, rss) = await recorder.snapshot()
            var kinds: [String: Any] = [:]
            var total = 0
            for (kind, values) in latencies {
                let sorted = values.sorted()
                total += sorted.count
                kinds[kind] = [
                    "count": sorted.count,
                    "per_second": Double(sorted.count) / elapsed,
                    "p50_ms": Percentile.of(sorted, 0.5) * 1000,
                    "p99_ms": Percentile.of(sorted, 0.99) * 1000,
                    "max_ms": (sorted.last ?? 0) * 1000,
                    "errors": errors[kind] ?? 0,
                ]
            }
            let errorCount = errors.values.reduce(0, +)
            roundReports.append([
                "round": round + 1,
                "seconds": elapsed,
                "rpcs": total,
                "rpc_per_second": Double(total) / elapsed,
                "kinds": kinds,
                "errors": errorCount,
                "first_errors": firstErrors,
                "training": ["state": trainingState, "seconds": trainingSeconds],
                "server_peak_rss_mb": Double(rss.max() ?? mem.current) / 1_048_576,
                "server_vm_hwm_mb": Double(mem.peak) / 1_048_576,
                "server_rss_end_mb": Double(mem.current) / 1_048_576,
                "items": Int(try await setup.count(collection)),
            ])
            FileHandle.standardError.write(Data("round \(round + 1): \(total) RPCs, \(String(format: "%.0f", Double(total) / elapsed)) RPC/s, \(errorCount) errors, server RSS peak \(String(format: "%.0f", Double(rss.max() ?? 0) / 1_048_576)) MiB, training \(trainingState)\n".utf8))
        }
        return [
            "machine": ["cores": ProcessInfo.processInfo.activeProcessorCount,
                        "memory_gb": Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824],
            "config": ["clients": clients, "connections": connections, "seconds": seconds, "rounds": rounds, "dimension": dimension,
                       "items": items, "search_fraction": searchFraction, "queries_per_search": queries, "k": k,
                       "upsert_batch": batch, "train_epochs": trainEpochs, "seed": seed],
            "setup_seconds": setupSeconds,
            "server_rss_before_mb": Double(memoryBefore.current) / 1_048_576,
            "rounds": roundReports,
            "errors": roundReports.reduce(0) { $0 + ($1["errors"] as? Int ?? 0) },
        ]
    }
}
