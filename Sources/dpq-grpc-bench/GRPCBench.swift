// dpq-grpc-bench: search over gRPC on loopback against the same search in process.
//
// Starts a server in this process (or uses --address), creates a collection (input 32-d,
// model 32 -> 64 -> D 32, M = 4 codebooks of K = 256, inner product), trains it on labelled
// clusters, upserts N items through the API, then measures:
//   - single-query Search latency (p50, p99) from one client, one query at a time;
//   - the same work in process: the exported model's features for the query plus CodeScanner
//     over the same N codes (the model encodes the same vectors), on the same threads;
//     the difference of the medians is what gRPC, HTTP/2, protobuf and the service add;
//   - throughput and latency with C concurrent clients (one HTTP/2 connection each).
// Prints JSON (and a summary on stderr).

import ArgumentParser
import DPQClient
import BenchSupport
import DPQEngine
import DPQServer
import DPQServerSupport
import Foundation

@main
enum GRPCBenchMain {
    static func main() async {
        // As `dpq serve` does (Sources/dpq/DPQCommand.swift); --dispatch-executor skips it.
        if !CommandLine.arguments.contains("--dispatch-executor") {
            let installed = EventLoopConcurrency.install()
            FileHandle.standardError.write(Data("dpq-grpc-bench: Swift concurrency on NIO's event loops (EventLoopConcurrency): \(installed)\n".utf8))
        }
        await GRPCBench.main(nil)
    }
}

struct GRPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dpq-grpc-bench",
                                                    abstract: "Search latency and throughput over gRPC vs in process.")

    @Option(help: "Items in the collection.") var items = 1_000_000
    @Option(help: "Input dimension of the vectors.") var inputDimension = 32
    @Option(help: "Codebooks M (K = 256).") var blocks = 4
    @Option(help: "Results per query.") var k = 10
    @Option(help: "Sequential single-query searches timed for the latency figures.") var latencyQueries = 2000
    @Option(help: "Client counts for the throughput runs, comma-separated.") var concurrency = "1,4,16"
    @Option(help: "Seconds per throughput run.") var seconds = 10.0
    @Option(help: "Use a running server at host:port instead of starting one here.") var address: String?
    @Option(help: "With --address: the server's process id, to report its resident memory once the items are in.")
    var serverPid: Int?
    @Option(help: "clients/c/build/latency: also measure single-query latency from the C client (blocking nghttp2).")
    var cClient: String?
    @Flag(help: "Keep Swift concurrency on its own pool instead of NIO's event loops (for comparison).")
    var dispatchExecutor = false
    @Option(help: "nprobe values to time next to the exhaustive search (the collection's inverted lists), comma-separated; empty: none.")
    var nprobes = ""
    @Flag(help: "Also time loading as many items as codes (random, K = 256) into a collection holding a copy of the model (UpsertItemsStream with model_sha256): as ItemColumns, then as Item messages.")
    var codeLoad = false
    @Flag(help: "Also time loading the same vectors again, made beforehand, through UpsertItemsStream (streams of 100,000 items in batches of 10,000, encoded by the server) into a collection holding a copy of the model: as ItemColumns, then as Item messages.")
    var vectorStream = false
    @Option(help: "With --vector-stream: the encoder's chunked pass and the ItemColumns load are each run this many times, alternating, and their medians are reported (one pass of each varies by up to 30% from run to run).")
    var loadRepeats = 3

    func run() async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-grpc-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        var server: RunningServer?
        var host = "127.0.0.1", port = 0
        if let address {
            let parts = address.split(separator: ":")
            guard parts.count == 2, let p = Int(parts[1]) else { throw ValidationError("address must be host:port") }
            host = String(parts[0]); port = p
        } else {
            var settings = ServerSettings()
            settings.host = "127.0.0.1"
            settings.port = 0
            settings.dataDir = dataDir
            let s = try await DPQServer.start(settings: settings)
            server = s
            port = s.port
        }
        let client = try DPQClient(host: host, port: port, timeout: .seconds(600))
        defer { client.close() }
        let name = "bench-\(UInt32.random(in: 0...UInt32.max))"
        let classes = 10

        // Labelled clusters: class c around centre c, unit noise.
        var rng = SeededRandom(seed: 11)
        let centres = (0..<classes).map { _ in (0..<inputDimension).map { _ in rng.normal() * 2 } }
        func vectors(_ n: Int) -> ([[Float]], [UInt32]) {
            var v: [[Float]] = [], l: [UInt32] = []
            v.reserveCapacity(n); l.reserveCapacity(n)
            for i in 0..<n {
                v.append(centres[i % classes].map { $0 + rng.normal() })
                l.append(UInt32(i % classes))
            }
            return (v, l)
        }

        log("creating and training \(name)")
        _ = try await client.createCollection(name, inputDimension: inputDimension, model: .with {
            $0.hiddenSizes = .with { $0.sizes = [64] }
            $0.featureDimension = 32
            $0.blocks = UInt32(blocks)
            $0.codebookSize = 256
            $0.labelMode = .single
            $0.numClasses = UInt32(classes)
        })
        let train = vectors(20_000)
        try await client.uploadTrainingData(name, vectors: train.0, labels: train.1.map { [$0] }, chunkRows: 5000)
        _ = try await client.startTraining(name, options: .with { $0.epochs = 3; $0.pretrainEpochs = 2; $0.seed = 1 })
        for try await p in client.watchTraining(name) where p.state != .running && p.state != .pending {
            guard p.state == .succeeded else { throw ValidationError("training ended \(p.state): \(p.error)") }
        }

        log("upserting \(items) items")
        let batch = 10_000
        var all: [[Float]] = []
        all.reserveCapacity(items)
        let upsertStart = Date()
        var next = 0
        while next < items {
            let n = min(batch, items - next)
            let (v, l) = vectors(n)
            let first = next
            _ = try await client.upsert(name, items: (0..<n).map { NewItem(id: .number(UInt64(first + $0)), vector: v[$0], labels: [l[$0]]) })
            all.append(contentsOf: v)
            next += n
        }
        let upsertSeconds = Date().timeIntervalSince(upsertStart)
        let upsertListsSeconds = upsertSeconds + (try await listsBuilt(client, name))
        var serverMemory: [String: Int] = [:]
        if let serverPid, case let pid = Int32(serverPid), ProcessMemory.residentBytes(pid: pid) > 0 {
            serverMemory = ["VmRSS": ProcessMemory.residentBytes(pid: pid), "VmHWM": ProcessMemory.peakBytes(pid: pid)]
        }

        // The same search in process: exported model, same vectors encoded, CodeScanner.
        let model = try DPQModel(serialized: try await client.exportModel(name))
        // The encoder's two ways of using the cores, the faster is the reference of the load ratios:
        // one call with OpenBLAS on every core, and chunks side by side with OpenBLAS at one thread
        // (what the server does).
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let blasThreads = BLAS.threads
        defer { BLAS.setThreads(blasThreads) }
        let matrix = Matrix(all)
        BLAS.setThreads(cores)
        var encodeStart = Date()
        let codes = try model.encode(matrix)
        let encodeBLASSeconds = Date().timeIntervalSince(encodeStart)
        BLAS.setThreads(1)
        encodeStart = Date()
        let chunkCodes = try model.encode(matrix, threads: cores)
        let encodeChunksSeconds = Date().timeIntervalSince(encodeStart)
        BLAS.setThreads(blasThreads)
        precondition(chunkCodes == codes, "the two encodes differ")
        let codeLoadSeconds = codeLoad ? try await loadCodes(client, from: name, columns: true) : nil
        let codeMessagesLoadSeconds = codeLoad ? try await loadCodes(client, from: name, columns: false) : nil
        // The encoder and the load it is the reference of, alternating: medians of each.
        var chunkedEncodes = [encodeChunksSeconds]
        var columnLoads: [LoadTime] = []
        for r in 0..<(vectorStream ? max(1, loadRepeats) : 0) {
            if r > 0 {
                BLAS.setThreads(1)
                let start = Date()
                let again = try model.encode(matrix, threads: cores)
                chunkedEncodes.append(Date().timeIntervalSince(start))
                precondition(again == codes, "the encodes differ")
                BLAS.setThreads(blasThreads)
            }
            columnLoads.append(try await loadVectors(all, client, from: name, columns: true))
        }
        let encodeChunksMedian = Percentile.of(chunkedEncodes, 0.5)
        let encodeSeconds = min(encodeBLASSeconds, encodeChunksMedian)
        let vectorColumnsSeconds = columnLoads.isEmpty ? nil : columnLoads.sorted { $0.acknowledged < $1.acknowledged }[columnLoads.count / 2]
        let vectorStreamSeconds = vectorStream ? try await loadVectors(all, client, from: name, columns: false) : nil
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: model.codebooks)
        let queries = vectors(512).0

        log("latency: \(latencyQueries) sequential searches")
        for q in queries.prefix(100) { _ = try await client.search(name, queries: [q], k: k) }
        var grpc: [Double] = []
        for i in 0..<latencyQueries {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await client.search(name, queries: [queries[i % queries.count]], k: k)
            grpc.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        // The floor any RPC pays on this transport: a health check, which does no work.
        var trivial: [Double] = []
        for _ in 0..<min(latencyQueries, 1000) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await client.healthCheck()
            trivial.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        var local: [Double] = []
        for i in 0..<min(latencyQueries, 500) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let f = try model.features(Matrix([queries[i % queries.count]]))
            _ = scanner.search(queries: f, k: k, blocks: blocks, metric: SearchMetric.innerProduct)
            local.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }

        // Searches through the inverted lists: latency per nprobe, and recall@k against the
        // server's own exhaustive answer for the same queries.
        var ivf: [[String: Any]] = []
        let probes = try nprobes.split(separator: ",").map { s -> Int in
            guard let v = Int(s), v >= 1 else { throw ValidationError("bad nprobe \(s)") }
            return v
        }
        var indexLists = 0
        if !probes.isEmpty {
            try await listsBuilt(client, name)
            indexLists = Int(try await client.collection(name).indexLists)
            let sample = Array(queries.prefix(200))
            var exact: [Set<ItemKey>] = []
            for q in sample { exact.append(Set(try await client.search(name, queries: [q], k: k)[0].map(\.id))) }
            for nprobe in probes {
                log("latency with nprobe \(nprobe) of \(indexLists) lists")
                var found = 0, times: [Double] = []
                for (j, q) in sample.enumerated() {
                    found += try await client.search(name, queries: [q], k: k, nprobe: nprobe)[0].filter { exact[j].contains($0.id) }.count
                }
                for i in 0..<latencyQueries {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try await client.search(name, queries: [queries[i % queries.count]], k: k, nprobe: nprobe)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                ivf.append(["nprobe": nprobe, "p50_ms": Percentile.of(times, 0.5) * 1e3, "p99_ms": Percentile.of(times, 0.99) * 1e3,
                            "recall_at_k": Double(found) / Double(max(1, exact.reduce(0) { $0 + $1.count }))])
            }
        }

        // The same searches from the C client, in a child process.
        var cResult: [String: Any]?
        if let cClient {
            log("latency from the C client")
            let file = dataDir + "-queries.f32"
            try Data(queries.flatMap { $0 }.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: cClient)
            p.arguments = [host, String(port), name, String(inputDimension), file, String(latencyQueries), String(k)]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            // Waited for on a Dispatch thread: this process also runs the server, on the event
            // loops that an await here would block.
            let data = await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
                DispatchQueue.global().async {
                    let d = out.fileHandleForReading.readDataToEndOfFile()
                    p.waitUntilExit()
                    c.resume(returning: d)
                }
            }
            guard p.terminationStatus == 0, let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ValidationError("the C client failed (exit \(p.terminationStatus))")
            }
            cResult = json
        }

        var runs: [[String: Any]] = []
        for c in try concurrency.split(separator: ",").map({ s -> Int in
            guard let v = Int(s), v >= 1 else { throw ValidationError("bad concurrency \(s)") }
            return v
        }) {
            log("throughput: \(c) clients for \(seconds) s")
            let clients = try (0..<c).map { _ in try DPQClient(host: host, port: port, timeout: .seconds(60)) }
            defer { clients.forEach { $0.close() } }
            let deadline = Date().addingTimeInterval(seconds)
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for (j, cl) in clients.enumerated() {
                    group.addTask {
                        var out: [Double] = []
                        var i = j
                        while Date() < deadline {
                            let t0 = DispatchTime.now().uptimeNanoseconds
                            _ = try await cl.search(name, queries: [queries[i % queries.count]], k: k)
                            out.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                            i += c
                        }
                        return out
                    }
                }
                var merged: [Double] = []
                for try await l in group { merged.append(contentsOf: l) }
                return merged
            }
            runs.append(["clients": c, "seconds": seconds, "searches": latencies.count,
                         "searches_per_second": Double(latencies.count) / seconds,
                         "p50_ms": Percentile.of(latencies, 0.5) * 1e3, "p99_ms": Percentile.of(latencies, 0.99) * 1e3])
        }
        _ = try await client.deleteCollection(name)
        await server?.stop()

        var result: [String: Any] = [
            "items": items, "input_dimension": inputDimension, "M": blocks, "K": 256, "k": k,
            "cores": ProcessInfo.processInfo.activeProcessorCount, "server": address == nil ? "in this process" : address!,
            "upsert_items_per_second": Double(items) / upsertSeconds,
            // The same vectors through the same model in this process (all cores): what upserts of vectors
            // could reach if only encoding cost anything.
            "in_process_encode_items_per_second": Double(items) / encodeSeconds,
            "in_process_encode_openblas_threads_items_per_second": Double(items) / encodeBLASSeconds,
            "in_process_encode_chunks_side_by_side_items_per_second": Double(items) / encodeChunksMedian,
            "in_process_encode_chunks_side_by_side_runs_items_per_second": chunkedEncodes.map { Double(items) / $0 },
            "upsert_vs_in_process_encode": encodeSeconds / upsertSeconds,
            "grpc_p50_ms": Percentile.of(grpc, 0.5) * 1e3, "grpc_p99_ms": Percentile.of(grpc, 0.99) * 1e3,
            "in_process_p50_ms": Percentile.of(local, 0.5) * 1e3, "in_process_p99_ms": Percentile.of(local, 0.99) * 1e3,
            "health_check_p50_ms": Percentile.of(trivial, 0.5) * 1e3, "health_check_p99_ms": Percentile.of(trivial, 0.99) * 1e3,
            "added_p50_ms": (Percentile.of(grpc, 0.5) - Percentile.of(local, 0.5)) * 1e3,
            "throughput": runs,
        ]
        // Each load twice: until its last write was acknowledged, and until its lists were built.
        result["upsert_until_lists_built_items_per_second"] = Double(items) / upsertListsSeconds
        func report(_ load: LoadTime?, _ key: String, ratio: String? = nil) {
            guard let load else { return }
            result[key] = Double(items) / load.acknowledged
            result[key.replacingOccurrences(of: "_per_second", with: "_until_lists_built_per_second")] = Double(items) / load.listsBuilt
            if let ratio {
                result[ratio] = encodeSeconds / load.acknowledged
                result[ratio.replacingOccurrences(of: "_vs_", with: "_until_lists_built_vs_")] = encodeSeconds / load.listsBuilt
            }
        }
        report(codeLoadSeconds, "code_upsert_items_per_second")
        report(codeMessagesLoadSeconds, "code_upsert_item_messages_per_second")
        report(vectorColumnsSeconds, "stream_columns_upsert_items_per_second", ratio: "stream_columns_upsert_vs_in_process_encode")
        report(vectorStreamSeconds, "stream_upsert_items_per_second", ratio: "stream_upsert_vs_in_process_encode")
        if !columnLoads.isEmpty {
            result["stream_columns_upsert_runs_items_per_second"] = columnLoads.map { Double(items) / $0.acknowledged }
        }
        if !ivf.isEmpty {
            result["index_lists"] = indexLists
            result["ivf"] = ivf
        }
        if !serverMemory.isEmpty {
            result["server_memory_bytes"] = serverMemory
            if let rss = serverMemory["VmRSS"] { result["server_rss_bytes_per_item"] = Double(rss) / Double(items) }
        }
        if let cResult, let p50 = cResult["search_p50_ms"] as? Double {
            result["c_client"] = cResult
            result["c_client_added_p50_ms"] = p50 - Percentile.of(local, 0.5) * 1e3
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    func log(_ s: String) { FileHandle.standardError.write(Data("dpq-grpc-bench: \(s)\n".utf8)) }

    /// Waits for a k-means list build the load started (it runs off the server's write queue, so
    /// the load's acknowledgements do not wait for it): the next phase must not share the cores
    /// with it. Logs how long it still took.
    @discardableResult
    private func listsBuilt(_ client: DPQClient, _ name: String) async throws -> Double {
        let start = Date()
        while try await client.collection(name).indexListsBuilding { try await Task.sleep(for: .milliseconds(20)) }
        let waited = Date().timeIntervalSince(start)
        if waited > 0.05 { log("waited \(String(format: "%.2f", waited)) s for the list build of \(name) after the last write") }
        return waited
    }

    /// A load's seconds: until its last write was acknowledged, and until the lists it made due
    /// (built once the writes pause) were built too.
    struct LoadTime {
        var acknowledged: Double
        var listsBuilt: Double
    }

    /// Seconds to upsert `vectors` (made before the clock starts) through UpsertItemsStream (streams
    /// of 100,000 items in batches of 10,000, as ItemColumns when `columns`, else one Item message
    /// each) into a new collection holding a copy of `name`'s model; the collection is deleted after.
    private func loadVectors(_ vectors: [[Float]], _ client: DPQClient, from name: String, columns: Bool) async throws -> LoadTime {
        let copy = name + "-vectors"
        _ = try await client.importModel(copy, data: try await client.exportModel(name), createIfMissing: true)
        log("loading \(vectors.count) items as vectors through streams (\(columns ? "columns" : "item messages"))")
        let all = vectors.enumerated().map { NewItem(id: .number(UInt64($0)), vector: $1, labels: [UInt32($0 % 10)]) }
        let parts = stride(from: 0, to: all.count, by: 100_000).map { first in
            let range = first..<min(first + 100_000, all.count)
            return ItemColumns(ids: .numbers(range.map { UInt64($0) }), payload: .vectors(vectors[range].flatMap { $0 }),
                               labels: range.map { UInt32($0 % 10) })
        }
        let start = Date()
        for (p, first) in stride(from: 0, to: all.count, by: 100_000).enumerated() {
            if columns {
                _ = try await client.upsertStream(copy, columns: parts[p], batchSize: 10_000)
            } else {
                _ = try await client.upsertStream(copy, items: Array(all[first..<min(first + 100_000, all.count)]), batchSize: 10_000)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let waited = try await listsBuilt(client, copy)
        _ = try await client.deleteCollection(copy)
        return LoadTime(acknowledged: seconds, listsBuilt: seconds + waited)
    }

    /// Seconds to upsert `items` random codes (streams of 100,000 items in batches of 10,000, as
    /// ItemColumns when `columns`, else one Item message each) into a new collection holding a copy
    /// of `name`'s model, keep_vectors false; the collection is deleted after.
    private func loadCodes(_ client: DPQClient, from name: String, columns: Bool) async throws -> LoadTime {
        let copy = name + "-codes"
        _ = try await client.importModel(copy, data: try await client.exportModel(name), createIfMissing: true)
        let digest = try await client.collection(copy).model.sha256
        log("loading \(items) items as codes (\(columns ? "columns" : "item messages"))")
        var rng = SeededRandom(seed: 12)
        let bytes = (0..<(items * blocks)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let start = Date()
        for first in stride(from: 0, to: items, by: 100_000) {
            let range = first..<min(first + 100_000, items)
            if columns {
                let part = ItemColumns(ids: .numbers(range.map { UInt64($0) }),
                                       payload: .codes(Array(bytes[(range.lowerBound * blocks)..<(range.upperBound * blocks)])),
                                       labels: range.map { UInt32($0 % 4) })
                _ = try await client.upsertStream(copy, columns: part, modelSHA256: digest, batchSize: 10_000)
            } else {
                let part = range.map {
                    NewItem(id: .number(UInt64($0)), code: Array(bytes[($0 * blocks)..<(($0 + 1) * blocks)]), labels: [UInt32($0 % 4)])
                }
                _ = try await client.upsertStream(copy, items: part, modelSHA256: digest, batchSize: 10_000)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let waited = try await listsBuilt(client, copy)
        _ = try await client.deleteCollection(copy)
        return LoadTime(acknowledged: seconds, listsBuilt: seconds + waited)
    }
}
