@testable import DPQServer
import DPQEngine
import DPQProto
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

/// Seeded fuzzing of (1) every request decoder plus the server's validation and conversion code,
/// run by calling the service handlers directly (the code an RPC runs after decoding, without the
/// network), and (2) the model-file reader (safetensors + DPQ model) fed mutated valid files.
/// Inputs are valid encoded messages and model files mutated by bit flips, byte edits, inserted and
/// deleted ranges, splices, inserted fields and huge varints, plus pure random bytes. Every input
/// must give a clean result: decoded or not; accepted or an RPCError other than INTERNAL/UNKNOWN;
/// a model file loaded or a DataFileError/EngineError. A crash fails the whole test run.
///
/// Bounded by iteration counts (a few seconds in debug builds). DPQ_FUZZ_SECONDS=N runs each
/// part for N seconds instead; DPQ_FUZZ_SEED changes the seed.
@Suite(.serialized) struct FuzzTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["DPQ_FUZZ_SEED"] ?? "") ?? 0xD9_0F_022
    static let seconds = Double(ProcessInfo.processInfo.environment["DPQ_FUZZ_SECONDS"] ?? "")

    /// Mutations of byte strings, all from one seeded stream.
    struct Mutator {
        var r: SeededRandom
        mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(r.next() % UInt64(n)) }
        mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: r.next()) } }
        mutating func varint(_ v: UInt64) -> [UInt8] {
            var v = v, out: [UInt8] = []
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            return out + [UInt8(v)]
        }

        mutating func mutate(_ input: [UInt8], corpus: [[UInt8]]) -> [UInt8] {
            var b = input
            // Half the edits change values only (the message usually still decodes, so the
            // service's validation sees it); the rest change the structure.
            for _ in 0..<(1 + int(3)) {
                let op = int(2) == 0 ? [0, 1, 9, 11][int(4)] : int(12)
                switch op {
                case 0: if !b.isEmpty { b[int(b.count)] ^= UInt8(1) << UInt8(int(8)) }
                case 1: if !b.isEmpty { b[int(b.count)] = [0x00, 0x01, 0x7F, 0x80, 0xFF][int(5)] }
                case 2: b.insert(contentsOf: bytes(1 + int(8)), at: int(b.count + 1))
                case 3: if !b.isEmpty { let s = int(b.count); b.removeSubrange(s..<min(b.count, s + 1 + int(16))) }
                case 4: b = Array(b.prefix(int(b.count + 1)))
                case 5:
                    if !b.isEmpty {
                        let s = int(b.count), e = min(b.count, s + 1 + int(32))
                        b.insert(contentsOf: Array(b[s..<e]), at: int(b.count + 1))
                    }
                case 6:
                    let other = corpus[int(corpus.count)]
                    b = Array(b.prefix(int(b.count + 1))) + Array(other.suffix(int(other.count + 1)))
                case 7:
                    // A field with a random number and wire type, and a plausible payload.
                    let field = UInt64(1 + int(20)), wire = [0, 1, 2, 5][int(4)]
                    var f = varint(field << 3 | UInt64(wire))
                    switch wire {
                    case 0: f += varint(r.next() >> UInt64(int(64)))
                    case 1: f += bytes(8)
                    case 2: let n = int(12); f += varint(UInt64(n)) + bytes(n)
                    default: f += bytes(4)
                    }
                    b.insert(contentsOf: f, at: int(b.count + 1))
                case 8:
                    // A huge declared length or value.
                    let huge: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
                                         [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]][int(3)]
                    b.insert(contentsOf: huge, at: int(b.count + 1))
                case 9:
                    // Special floats or all-ones in a 4-byte window.
                    if b.count >= 4 {
                        let s = int(b.count - 3)
                        let w: [UInt8] = [[0x00, 0x00, 0xC0, 0x7F], [0x00, 0x00, 0x80, 0x7F], [0x00, 0x00, 0x80, 0xFF],
                                          [0xFF, 0xFF, 0x7F, 0x7F], [0xFF, 0xFF, 0xFF, 0xFF]][int(5)]
                        b.replaceSubrange(s..<(s + 4), with: w)
                    }
                case 10: b = bytes(int(64))
                default: if !b.isEmpty { let i = int(b.count); b[i] = b[i] &+ UInt8(truncatingIfNeeded: int(5) - 2) }
                }
            }
            return b
        }
    }

    enum Outcome: Hashable, CustomStringConvertible {
        case undecodable, accepted, rejected(RPCError.Code)
        var description: String {
            switch self {
            case .undecodable: "undecodable"
            case .accepted: "accepted"
            case .rejected(let c): "\(c)"
            }
        }
    }

    struct DiscardingWriter<Element: Sendable>: RPCWriterProtocol {
        func write(_ element: Element) async throws {}
        func write(contentsOf elements: some Sequence<Element>) async throws {}
    }

    static func context(_ m: MethodDescriptor) -> ServerContext {
        ServerContext(descriptor: m, remotePeer: "fuzz", localPeer: "fuzz", cancellation: ServerContext.RPCCancellationHandle())
    }

    static func stream<T: Sendable>(_ messages: [T]) -> RPCAsyncSequence<T, any Error> {
        RPCAsyncSequence(wrapping: AsyncThrowingStream<T, any Error> { c in
            for m in messages { c.yield(m) }
            c.finish()
        })
    }

    /// One request type: its seeds and how to run a decoded request through the service.
    struct Entry {
        var name: String
        var seeds: [[UInt8]]
        var run: ([UInt8]) async -> (Outcome, String)
    }

    static func decodeAndRun<R: SwiftProtobuf.Message>(_ type: R.Type, _ bytes: [UInt8],
                                                       _ body: (R) async throws -> Void) async -> (Outcome, String) {
        let request: R
        do { request = try R(serializedBytes: bytes) } catch { return (.undecodable, "") }
        do {
            try await body(request)
            return (.accepted, "")
        } catch let e as RPCError {
            return (.rejected(e.code), e.message)
        } catch {
            return (.rejected(.unknown), "not an RPCError: \(error)")
        }
    }

    @Test func requestDecodersAndValidation() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "h", items: 60, keepVectors: true)
        try await dpq.createCollection("u", inputDimension: 16, model: smallModel())
        let registry = f.server.parts.registry
        let model = [UInt8](try await dpq.exportModel("h"))
        let q = Clusters.make(3, seed: 9)
        let collections = CollectionService(registry: registry), items = ItemService(registry: registry)
        let search = SearchService(registry: registry), models = ModelService(registry: registry)
        let training = TrainingService(registry: registry)
        func b(_ m: some SwiftProtobuf.Message) -> [UInt8] { (try? m.serializedBytes()) ?? [] }
        let dense = Dpq_V1_DenseVectors.with { $0.dimension = 16; $0.values = q.vectors.flatMap { $0 } }
        let labels = Dpq_V1_RowLabels.with { $0.classIds = .with { $0.ids = q.labels } }
        let item = Dpq_V1_Item.with { $0.id = .with { $0.num = 42 }; $0.vector = .with { $0.values = q.vectors[0] }; $0.labels = [1] }
        let strItem = Dpq_V1_Item.with { $0.id = .with { $0.str = "item-x" }; $0.vector = .with { $0.values = q.vectors[1] }; $0.labels = [2] }
        let cx = { (m: MethodDescriptor) in Self.context(m) }
        typealias CS = Dpq_V1_CollectionService.Method
        typealias IS = Dpq_V1_ItemService.Method
        typealias SS = Dpq_V1_SearchService.Method
        typealias MS = Dpq_V1_ModelService.Method
        typealias TS = Dpq_V1_TrainingService.Method

        let entries: [Entry] = [
            Entry(name: "CreateCollection", seeds: [
                b(Dpq_V1_CreateCollectionRequest.with { $0.name = "fz"; $0.config = .with { $0.inputDimension = 16; $0.model = smallModel(); $0.keepVectors = true
                    $0.trainingDefaults = .with { $0.epochs = 3; $0.learningRate = 0.01; $0.lossWeights = .with { $0.tau = 1 } } } }),
                b(Dpq_V1_CreateCollectionRequest.with { $0.name = "fz2"; $0.config = .with { $0.inputDimension = 8; $0.metric = .squaredL2 } }),
            ]) { bytes in await Self.decodeAndRun(Dpq_V1_CreateCollectionRequest.self, bytes) { _ = try await collections.createCollection(request: $0, context: cx(CS.CreateCollection.descriptor)) } },
            Entry(name: "GetCollection", seeds: [b(Dpq_V1_GetCollectionRequest.with { $0.name = "h" })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_GetCollectionRequest.self, bytes) { _ = try await collections.getCollection(request: $0, context: cx(CS.GetCollection.descriptor)) } },
            Entry(name: "DeleteCollection", seeds: [b(Dpq_V1_DeleteCollectionRequest.with { $0.name = "ghost"; $0.allowMissing = true })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_DeleteCollectionRequest.self, bytes) { r in
                    guard r.name != "h" && r.name != "u" else { return }   // keep the fixtures
                    _ = try await collections.deleteCollection(request: r, context: cx(CS.DeleteCollection.descriptor)) } },
            Entry(name: "UpsertItems", seeds: [b(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [item, strItem] }),
                                               b(Dpq_V1_UpsertItemsRequest.with { $0.collection = "u"; $0.items = [item] })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_UpsertItemsRequest.self, bytes) { _ = try await items.upsertItems(request: $0, context: cx(IS.UpsertItems.descriptor)) } },
            Entry(name: "UpsertItemsStream", seeds: [b(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [item] })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_UpsertItemsRequest.self, bytes) { r in
                    var second = r; second.collection = ""
                    _ = try await items.upsertItemsStream(request: Self.stream([r, second]), context: cx(IS.UpsertItemsStream.descriptor)) } },
            Entry(name: "GetItems", seeds: [b(Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = [.with { $0.num = 1 }, .with { $0.str = "item-x" }]; $0.withVectors = true; $0.withCodes = true })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_GetItemsRequest.self, bytes) { _ = try await items.getItems(request: $0, context: cx(IS.GetItems.descriptor)) } },
            Entry(name: "DeleteItems", seeds: [b(Dpq_V1_DeleteItemsRequest.with { $0.collection = "h"; $0.ids = [.with { $0.num = 900_001 }] })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_DeleteItemsRequest.self, bytes) { _ = try await items.deleteItems(request: $0, context: cx(IS.DeleteItems.descriptor)) } },
            Entry(name: "CountItems", seeds: [b(Dpq_V1_CountItemsRequest.with { $0.collection = "h"; $0.filter = .with { $0.anyOf = [1, 2] } })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_CountItemsRequest.self, bytes) { _ = try await items.countItems(request: $0, context: cx(IS.CountItems.descriptor)) } },
            Entry(name: "ListItems", seeds: [b(Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageSize = 7; $0.pageToken = "3"; $0.withVectors = true; $0.filter = .with { $0.anyOf = [0] } })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_ListItemsRequest.self, bytes) { _ = try await items.listItems(request: $0, context: cx(IS.ListItems.descriptor)) } },
            Entry(name: "Search", seeds: [
                b(Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = dense; $0.k = 5; $0.bits = 8; $0.metric = .squaredL2; $0.filter = .with { $0.anyOf = [1] } }),
                b(Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = dense; $0.k = 3; $0.rescore = .with { $0.oversampling = 2 }; $0.omitLabels = true }),
            ]) { bytes in await Self.decodeAndRun(Dpq_V1_SearchRequest.self, bytes) { _ = try await search.search(request: $0, context: cx(SS.Search.descriptor)) } },
            Entry(name: "Evaluate", seeds: [b(Dpq_V1_EvaluateRequest.with { $0.collection = "h"; $0.queries = dense; $0.queryLabels = labels; $0.bits = [4, 8]; $0.precisionAtK = [1, 5]; $0.mapR = 10 })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_EvaluateRequest.self, bytes) { _ = try await search.evaluate(request: $0, context: cx(SS.Evaluate.descriptor)) } },
            Entry(name: "Encode", seeds: [b(Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = dense; $0.bits = 8; $0.includeFeatures = true })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_EncodeRequest.self, bytes) { _ = try await models.encode(request: $0, context: cx(MS.Encode.descriptor)) } },
            Entry(name: "Decode", seeds: [b(Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1, 2, 3]), Data([15, 0, 7])]; $0.bits = 12 })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_DecodeRequest.self, bytes) { _ = try await models.decode(request: $0, context: cx(MS.Decode.descriptor)) } },
            Entry(name: "ExportModel", seeds: [b(Dpq_V1_ExportModelRequest.with { $0.collection = "h"; $0.chunkBytes = 2048 })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_ExportModelRequest.self, bytes) {
                    try await models.exportModel(request: $0, response: RPCWriter(wrapping: DiscardingWriter()), context: cx(MS.ExportModel.descriptor)) } },
            Entry(name: "ImportModel", seeds: [b(Dpq_V1_ImportModelRequest.with { $0.collection = "imp"; $0.createIfMissing = true; $0.keepVectors = true; $0.totalBytes = UInt64(model.count); $0.data = Data(model) })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_ImportModelRequest.self, bytes) { r in
                    guard r.collection != "h" else { return }
                    _ = try await models.importModel(request: Self.stream([r]), context: cx(MS.ImportModel.descriptor)) } },
            Entry(name: "UploadTrainingData", seeds: [b(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "fz"; $0.mode = .append; $0.vectors = dense; $0.labels = labels })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_UploadTrainingDataRequest.self, bytes) { r in
                    _ = try await training.uploadTrainingData(request: Self.stream([r]), context: cx(TS.UploadTrainingData.descriptor)) } },
            Entry(name: "ListTrainingData", seeds: [b(Dpq_V1_ListTrainingDataRequest.with { $0.collection = "u" })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_ListTrainingDataRequest.self, bytes) { _ = try await training.listTrainingData(request: $0, context: cx(TS.ListTrainingData.descriptor)) } },
            Entry(name: "DeleteTrainingData", seeds: [b(Dpq_V1_DeleteTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "none"; $0.allowMissing = true })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_DeleteTrainingDataRequest.self, bytes) { _ = try await training.deleteTrainingData(request: $0, context: cx(TS.DeleteTrainingData.descriptor)) } },
            Entry(name: "StartTraining", seeds: [
                b(Dpq_V1_StartTrainingRequest.with { $0.collection = "h"; $0.items = .with { $0.sampleSize = 20; $0.filter = .with { $0.anyOf = [0, 1] } }
                    $0.options = .with { $0.epochs = 1; $0.pretrainEpochs = 0; $0.batchSize = 16; $0.learningRate = 0.01; $0.seed = 3; $0.threads = 1 } }),
                b(Dpq_V1_StartTrainingRequest.with { $0.collection = "u"; $0.dataset = "fz"; $0.options = .with { $0.mode = .twoStep; $0.optimizer = .sgd; $0.schedule = .step } }),
            ]) { bytes in
                await Self.decodeAndRun(Dpq_V1_StartTrainingRequest.self, bytes) { r in
                    _ = try await training.startTraining(request: r, context: cx(TS.StartTraining.descriptor))
                    // A training that starts is cancelled at once and awaited: fuzzing checks the
                    // request path, not training.
                    if let j = try? registry.get(r.collection).cancelTraining() { await CollectionRegistry.wait(for: j) }
                } },
            Entry(name: "WatchTraining", seeds: [b(Dpq_V1_WatchTrainingRequest.with { $0.collection = "h"; $0.minIntervalMs = 10 }), b(Dpq_V1_WatchTrainingRequest.with { $0.jobID = "job-x" })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_WatchTrainingRequest.self, bytes) {
                    try await training.watchTraining(request: $0, response: RPCWriter(wrapping: DiscardingWriter()), context: cx(TS.WatchTraining.descriptor)) } },
            Entry(name: "CancelTraining", seeds: [b(Dpq_V1_CancelTrainingRequest.with { $0.collection = "h" })]) { bytes in
                await Self.decodeAndRun(Dpq_V1_CancelTrainingRequest.self, bytes) { _ = try await training.cancelTraining(request: $0, context: cx(TS.CancelTraining.descriptor)) } },
        ]
        let corpus = entries.flatMap(\.seeds)
        var mutator = Mutator(r: SeededRandom(seed: Self.seed))
        var tally: [String: [Outcome: Int]] = [:]
        var bad: [String] = []
        let started = Date()
        let perEntry = 600
        var iterations = 0
        var round = 0
        repeat {
            for e in entries {
                for i in 0..<(Self.seconds == nil ? perEntry : 20) {
                    let seed = e.seeds[i % e.seeds.count]
                    let input = i == 0 && round == 0 ? seed : mutator.mutate(seed, corpus: corpus)
                    let (outcome, message) = await e.run(input)
                    tally[e.name, default: [:]][outcome, default: 0] += 1
                    iterations += 1
                    if outcome == .rejected(.internalError) || outcome == .rejected(.unknown) {
                        bad.append("\(e.name) \(input): \(message)")
                    }
                }
            }
            round += 1
        } while Self.seconds.map { Date().timeIntervalSince(started) < $0 } ?? false
        let elapsed = Date().timeIntervalSince(started)
        #expect(bad.isEmpty, "INTERNAL/UNKNOWN for: \(bad.prefix(5))")
        // Every request type was exercised past the decoder, in both directions.
        for e in entries {
            let t = tally[e.name] ?? [:]
            #expect((t[.accepted] ?? 0) + t.filter { if case .rejected = $0.key { true } else { false } }.values.reduce(0, +) > 0,
                    "\(e.name): no input reached the service")
        }
        #expect(try await dpq.healthCheck() == .serving)
        let summary = tally.keys.sorted().map { k in "\(k) " + tally[k]!.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",") }
        print("fuzz requests: \(iterations) inputs in \(String(format: "%.1f", elapsed)) s (seed \(Self.seed)); " + summary.joined(separator: "; "))
        await f.stop()
    }

    /// Peak resident memory of this process (VmHWM), in bytes.
    static func peakRSS() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test func modelFileReader() async throws {
        // A valid model file: trained on a tiny dataset by the engine directly.
        let data = Clusters.make(120, seed: 4)
        var config = DPQEngine.ModelConfig(inputDimension: 16, hiddenSizes: [12], featureDimension: 8, classCount: 4, blocks: 2, codebookSize: 16)
        config.inputDropout = 0
        var t = TrainingConfig()
        t.epochs = 1; t.pretrainEpochs = 1; t.batchSize = 32; t.kmeansIterations = 2; t.threads = 1
        let trained = try Trainer.train(data: Matrix(rows: 120, cols: 16, values: data.vectors.flatMap { $0 }),
                                        labels: Labels(multi: data.labels.map { [Int($0)] }, classCount: 4),
                                        model: config, training: t, progress: { _ in true })
        let valid = [UInt8](trained.serialized())
        let unsupervised = [UInt8](try Trainer.train(data: Matrix(rows: 120, cols: 16, values: data.vectors.flatMap { $0 }), labels: nil,
                                                     model: DPQEngine.ModelConfig(inputDimension: 16, labelMode: .none, blocks: 2, codebookSize: 16),
                                                     training: t, progress: { _ in true }).serialized())
        _ = try DPQModel(serialized: Data(valid))
        let headerLength = Int(valid[0]) | Int(valid[1]) << 8 | Int(valid[2]) << 16
        let header = String(decoding: valid[8..<(8 + headerLength)], as: UTF8.self)

        var mutator = Mutator(r: SeededRandom(seed: Self.seed &+ 1))
        var tally: [String: Int] = [:]
        var unexpected: [String] = []
        let rssBefore = Self.peakRSS()
        let started = Date()
        var iterations = 0
        let bound = 20_000
        func load(_ bytes: [UInt8], _ kind: String) {
            iterations += 1
            do {
                _ = try DPQModel(serialized: Data(bytes))
                tally["\(kind): loaded", default: 0] += 1
            } catch is DataFileError {
                tally["\(kind): DataFileError", default: 0] += 1
            } catch is EngineError {
                tally["\(kind): EngineError", default: 0] += 1
            } catch {
                unexpected.append("\(kind): \(type(of: error)) \(error)")
            }
        }
        // Numbers a hostile header might carry.
        let numbers = ["0", "-1", "1", "4294967296", "9223372036854775807", "18446744073709551616", "1e300", "1.5", "true", "null",
                       "\"7\"", "[]", "{}", "1048576", "65536", "4611686018427387904"]
        while Self.seconds.map({ Date().timeIntervalSince(started) < $0 }) ?? (iterations < bound) {
            switch mutator.int(4) {
            case 0, 1:
                // Byte-level mutations of a whole file.
                load(mutator.mutate(mutator.int(5) == 0 ? unsupervised : valid, corpus: [valid, unsupervised]), "bytes")
            case 2:
                // A number in the JSON header (shapes, offsets, config values) replaced.
                var h = Array(header.utf8)
                let digits = h.indices.filter { (48...57).contains(h[$0]) }
                if let at = digits.isEmpty ? nil : digits[mutator.int(digits.count)] {
                    var end = at
                    while end < h.count, (48...57).contains(h[end]) { end += 1 }
                    var start = at
                    while start > 0, (48...57).contains(h[start - 1]) { start -= 1 }
                    h.replaceSubrange(start..<end, with: Array(numbers[mutator.int(numbers.count)].utf8))
                }
                // The config is JSON inside a JSON string: its numbers are reached the same way.
                let length = withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) }
                load(length + h + Array(valid[(8 + headerLength)...]), "header")
            default:
                // A declared header length that lies.
                var b = valid
                let lie: UInt64 = [0, 1, 7, UInt64(headerLength - 1), UInt64(headerLength + 1), UInt64(valid.count), 1 << 32, .max,
                                   UInt64(SafeTensors.maxHeaderLength), mutator.r.next()][mutator.int(10)]
                withUnsafeBytes(of: lie.littleEndian) { for (i, x) in $0.enumerated() { b[i] = x } }
                load(b, "length")
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        let grown = Self.peakRSS() - rssBefore
        #expect(unexpected.isEmpty, "errors other than DataFileError/EngineError: \(unexpected.prefix(5))")
        #expect(grown < 256 << 20, "peak RSS grew by \(grown >> 20) MiB while reading mutated model files")
        #expect((tally["bytes: DataFileError"] ?? 0) > 0 && (tally["header: DataFileError"] ?? 0) > 0)
        print("fuzz model files: \(iterations) inputs in \(String(format: "%.1f", elapsed)) s (seed \(Self.seed &+ 1)), peak RSS +\(max(grown, 0) >> 20) MiB; "
              + tally.keys.sorted().map { "\($0)=\(tally[$0]!)" }.joined(separator: ", "))
    }
}
