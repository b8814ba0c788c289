import DPQClient
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// Request bytes as they are: lets a test send anything to any method.
struct RawBytes: MessageSerializer, MessageDeserializer {
    typealias Message = [UInt8]
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// A gRPC client that sends raw request bytes to any method descriptor (every method kind is a
/// bidirectional stream on the wire) and reports the status.
final class RawCaller: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let runner: Task<Void, Never>

    init(port: Int) throws {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext,
            config: .defaults { $0.http2.maxFrameSize = 1 << 20 })
        let c = GRPCClient(transport: transport)
        client = c
        runner = Task { try? await c.runConnections() }
    }

    func close() { client.beginGracefulShutdown() }

    struct Outcome: Sendable, CustomStringConvertible {
        /// nil: OK.
        var code: RPCError.Code?
        var message: String
        var responses: [[UInt8]]
        var description: String { code.map { "\($0): \(message)" } ?? "OK (\(responses.count) responses)" }
    }

    /// Sends `messages` then half-closes; with `abortAfter`, waits that long after the last
    /// message and then fails the request stream instead (the stream is reset, never completed).
    func call(_ method: MethodDescriptor, _ messages: [[UInt8]], timeout: Duration = .seconds(60),
              abortAfter: Duration? = nil) async -> Outcome {
        var options = CallOptions.defaults
        options.timeout = timeout
        options.maxRequestMessageBytes = 256 << 20
        options.maxResponseMessageBytes = 256 << 20
        do {
            let responses = try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: [UInt8].self) { writer in
                    for m in messages { try await writer.write(m) }
                    if let abortAfter {
                        try await Task.sleep(for: abortAfter)
                        throw RPCError(code: .aborted, message: "client gave up mid-stream")
                    }
                },
                descriptor: method, serializer: RawBytes(), deserializer: RawBytes(), options: options
            ) { response in
                var out: [[UInt8]] = []
                for try await m in response.messages { out.append(m) }
                return out
            }
            return Outcome(code: nil, message: "", responses: responses)
        } catch let e as RPCError {
            return Outcome(code: e.code, message: e.message, responses: [])
        } catch {
            return Outcome(code: .unknown, message: "client side: \(error)", responses: [])
        }
    }

    func call(_ method: MethodDescriptor, _ message: some SwiftProtobuf.Message) async throws -> Outcome {
        await call(method, [try message.serializedBytes()])
    }
}

/// A corpus of hostile requests to every RPC of every dpq.v1 service (and health): malformed
/// protobuf, truncations, wrong wire types, huge declared lengths, unknown fields, NaN/Inf, empty
/// and oversized batches, limits, duplicates, labels out of range, corrupt model imports, clients
/// that give up mid-stream. After every case: the expected status and a server that still answers.
/// BadInputTests covers the typed-client cases; this suite adds what only raw bytes can send and
/// what those did not cover.
@Suite(.serialized) struct HostileInputTests {
    typealias Code = RPCError.Code

    /// Smaller limits than the defaults, so oversized requests stay cheap to send.
    static var limits: ServerLimits {
        var l = ServerLimits()
        l.maxBatchRows = 100
        l.maxSearchQueries = 8
        l.maxEvaluateQueries = 8
        l.maxDatasetRows = 1_000
        l.maxModelBytes = 1 << 20
        return l
    }

    enum Kind { case unary, clientStreaming, serverStreaming }

    struct Target {
        var method: MethodDescriptor
        var kind: Kind
        /// A well-formed request (a fresh one per call: some create things).
        var valid: () throws -> [UInt8]
        /// Its expected outcome (nil: OK).
        var validCode: Code?
        /// The outcome of an all-defaults (zero-byte) message.
        var emptyCode: Code?
    }

    /// Context shared by the cases: the server, the raw caller, counters.
    final class Run: @unchecked Sendable {
        let caller: RawCaller
        let dpq: DPQClient
        var cases = 0
        var failures: [String] = []
        init(caller: RawCaller, dpq: DPQClient) { self.caller = caller; self.dpq = dpq }

        /// Sends, checks the code (and message fragment), then checks the server still answers.
        @discardableResult
        func expect(_ name: String, _ method: MethodDescriptor, _ messages: [[UInt8]], _ allowed: Set<Code?>,
                    _ fragment: String = "", abortAfter: Duration? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) async -> RawCaller.Outcome {
            cases += 1
            let out = await caller.call(method, messages, abortAfter: abortAfter)
            let ok = allowed.contains(out.code) && (fragment.isEmpty || out.message.contains(fragment))
            #expect(ok, "\(name) on \(method): got \(out), expected \(allowed.map { $0.map { "\($0)" } ?? "OK" }) \(fragment)",
                    sourceLocation: sourceLocation)
            if out.code == .internalError || out.code == .unknown {
                // Only the transport's own protocol violations may be INTERNAL (see the callers).
                if !(out.message == "Too many messages." || out.message == "Empty stream.") {
                    failures.append("\(name) on \(method): \(out)")
                }
            }
            await alive(after: "\(name) on \(method)", sourceLocation: sourceLocation)
            return out
        }

        func expect(_ name: String, _ method: MethodDescriptor, _ message: some SwiftProtobuf.Message, _ allowed: Set<Code?>,
                    _ fragment: String = "", sourceLocation: SourceLocation = #_sourceLocation) async throws {
            await expect(name, method, [try message.serializedBytes()], allowed, fragment, sourceLocation: sourceLocation)
        }

        func alive(after: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            let info = await caller.call(Dpq_V1_ServerInfoService.Method.GetServerInfo.descriptor, [[]])
            #expect(info.code == nil, "the server stopped answering after \(after): \(info)", sourceLocation: sourceLocation)
        }
    }

    static func bytes(_ m: some SwiftProtobuf.Message) throws -> [UInt8] { try m.serializedBytes() }

    static func dense(_ rows: [[Float]]) -> Dpq_V1_DenseVectors {
        .with { $0.dimension = UInt32(rows.first?.count ?? 0); $0.values = rows.flatMap { $0 } }
    }

    static func item(_ id: UInt64, _ v: [Float], _ labels: [UInt32] = []) -> Dpq_V1_Item {
        .with { $0.id = .with { $0.num = id }; $0.vector = .with { $0.values = v }; $0.labels = labels }
    }

    @Test func hostileCorpusOnEveryRPC() async throws {
        let f = try await ServerFixture.start(limits: Self.limits)
        defer { f.removeData() }
        let dpq = f.client
        let caller = try RawCaller(port: f.server.port)
        defer { caller.close() }
        let run = Run(caller: caller, dpq: dpq)
        let started = Date()

        // "h": trained, keeps vectors, 100 items. "u": untrained. "imp": a target for corrupt imports.
        try await trainedCollection(dpq, name: "h", items: 100, keepVectors: true)
        try await dpq.createCollection("u", inputDimension: 16, model: smallModel())
        try await dpq.createCollection("imp", inputDimension: 16, model: smallModel(), keepVectors: true)
        let model = [UInt8](try await dpq.exportModel("h"))
        let q = Clusters.make(4, seed: 9)
        let v0 = q.vectors[0]
        var counter = 0

        let targets: [Target] = [
            Target(method: Dpq_V1_CollectionService.Method.CreateCollection.descriptor, kind: .unary, valid: {
                counter += 1
                return try Self.bytes(Dpq_V1_CreateCollectionRequest.with {
                    $0.name = "cx\(counter)"; $0.config = .with { $0.inputDimension = 16; $0.model = smallModel() }
                })
            }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_CollectionService.Method.GetCollection.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_GetCollectionRequest.with { $0.name = "h" }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_CollectionService.Method.ListCollections.descriptor, kind: .unary,
                   valid: { [] }, validCode: nil, emptyCode: nil),
            Target(method: Dpq_V1_CollectionService.Method.DeleteCollection.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_DeleteCollectionRequest.with { $0.name = "ghost"; $0.allowMissing = true }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.UpsertItems.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(5000, v0, [1])] }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.UpsertItemsStream.descriptor, kind: .clientStreaming,
                   valid: { try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(5001, v0, [1])] }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.GetItems.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = [.with { $0.num = 1 }]; $0.withCodes = true }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.DeleteItems.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_DeleteItemsRequest.with { $0.collection = "h"; $0.ids = [.with { $0.num = 999_999 }] }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.CountItems.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_CountItemsRequest.with { $0.collection = "h" }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ItemService.Method.ListItems.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageSize = 5 }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_SearchService.Method.Search.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = Self.dense(q.vectors); $0.k = 3 }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_SearchService.Method.Evaluate.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_EvaluateRequest.with {
                       $0.collection = "h"; $0.queries = Self.dense(q.vectors); $0.queryLabels = .with { $0.classIds = .with { $0.ids = q.labels } }
                   }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ModelService.Method.Encode.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = Self.dense(q.vectors) }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ModelService.Method.Decode.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1, 2, 3])] }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ModelService.Method.ExportModel.descriptor, kind: .serverStreaming,
                   valid: { try Self.bytes(Dpq_V1_ExportModelRequest.with { $0.collection = "h"; $0.chunkBytes = 1024 }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ModelService.Method.ImportModel.descriptor, kind: .clientStreaming,
                   valid: { try Self.bytes(Dpq_V1_ImportModelRequest.with { $0.collection = "h"; $0.data = Data(model) }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.UploadTrainingData.descriptor, kind: .clientStreaming,
                   valid: { try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
                       $0.collection = "u"; $0.dataset = "d"; $0.vectors = Self.dense(q.vectors)
                       $0.labels = .with { $0.classIds = .with { $0.ids = q.labels } }
                   }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.ListTrainingData.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_ListTrainingDataRequest.with { $0.collection = "u" }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.DeleteTrainingData.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_DeleteTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "zzz"; $0.allowMissing = true }) },
                   validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.StartTraining.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_StartTrainingRequest.with { $0.collection = "u"; $0.dataset = "nope" }) },
                   validCode: .notFound, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.WatchTraining.descriptor, kind: .serverStreaming,
                   valid: { try Self.bytes(Dpq_V1_WatchTrainingRequest.with { $0.collection = "h" }) }, validCode: nil, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_TrainingService.Method.CancelTraining.descriptor, kind: .unary,
                   valid: { try Self.bytes(Dpq_V1_CancelTrainingRequest.with { $0.collection = "h" }) },
                   validCode: .failedPrecondition, emptyCode: .invalidArgument),
            Target(method: Dpq_V1_ServerInfoService.Method.GetServerInfo.descriptor, kind: .unary,
                   valid: { [] }, validCode: nil, emptyCode: nil),
            Target(method: Grpc_Health_V1_Health.Method.Check.descriptor, kind: .unary,
                   valid: { try Self.bytes(Grpc_Health_V1_HealthCheckRequest.with { $0.service = "dpq.v1.SearchService" }) },
                   validCode: nil, emptyCode: nil),
        ]
        // Every dpq.v1 method is in the table.
        let all = Dpq_V1_CollectionService.Method.descriptors + Dpq_V1_ItemService.Method.descriptors
            + Dpq_V1_SearchService.Method.descriptors + Dpq_V1_ModelService.Method.descriptors
            + Dpq_V1_TrainingService.Method.descriptors + Dpq_V1_ServerInfoService.Method.descriptors
        #expect(Set(all.map(\.fullyQualifiedMethod)).isSubset(of: Set(targets.map(\.method.fullyQualifiedMethod))))
        #expect(all.count == 23)

        // 1. The same malformed-protobuf corpus on every RPC.
        let invalid: Set<Code?> = [.invalidArgument]
        for t in targets {
            let m = t.method
            let valid = try t.valid()
            await run.expect("valid request", m, [valid], [t.validCode])
            await run.expect("invalid wire type 7", m, [[0x0F, 0xFF, 0xFE, 0x13, 0x37]], invalid, "deserialize")
            await run.expect("field 1 declaring a 4 GiB length", m, [[0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x61, 0x62, 0x63]], invalid, "deserialize")
            await run.expect("unknown field 4242 declaring a 2^62 length", m,
                             [[0x92, 0x89, 0x02] + [UInt8](repeating: 0xFF, count: 8) + [0x3F, 0x01]], invalid, "deserialize")
            await run.expect("an 11-byte varint", m, [[0x08] + [UInt8](repeating: 0xFF, count: 11)], invalid)
            await run.expect("a tag with field number 0", m, [[0x00, 0x01]], invalid, "deserialize")
            await run.expect("an end-group tag without a start", m, [[0x0C]], invalid, "deserialize")
            var junk = SeededRandom(seed: UInt64(m.fullyQualifiedMethod.utf8.count))
            let garbage: [UInt8] = [0x0F] + (0..<256).map { _ in UInt8(truncatingIfNeeded: junk.next()) }
            await run.expect("256 random bytes after a wire-type-7 tag", m, [garbage], invalid, "deserialize")
            if !valid.isEmpty {
                await run.expect("valid request minus its last byte", m, [Array(valid.dropLast())], invalid, "deserialize")
                if valid[0] & 7 == 2, valid.count > 3, valid[1] >= 2, valid[1] < 0x80 {
                    await run.expect("cut inside field 1", m, [Array(valid.prefix(3))], invalid, "deserialize")
                }
            }
            // Field 1 as a varint / as fixed32: swift-protobuf keeps a known field with the wrong wire
            // type as an unknown field (as the protobuf spec allows), so the request is all defaults.
            await run.expect("field 1 with wire type varint", m, [[0x08, 0x01]], [t.emptyCode])
            await run.expect("field 1 with wire type fixed32", m, [[0x0D, 1, 2, 3, 4]], [t.emptyCode])
            // Unknown fields (varint, length-delimited, fixed64) after a valid request change nothing.
            let unknown: [UInt8] = [0xB8, 0x3E, 0x01, 0xC2, 0x3E, 0x03, 1, 2, 3, 0xC9, 0x3E, 1, 2, 3, 4, 5, 6, 7, 8]
            await run.expect("valid request plus unknown fields", m, [try t.valid() + unknown], [t.validCode])
            await run.expect("an all-defaults (empty) message", m, [[]], [t.emptyCode])
            switch t.kind {
            case .unary, .serverStreaming:
                // Protocol violations caught by grpc-swift before the service runs: INTERNAL with
                // "Empty stream." / "Too many messages." (as gRPC's C core and grpc-go do).
                await run.expect("no request message on a single-request RPC", m, [], [.internalError], "Empty stream")
                await run.expect("two request messages on a single-request RPC", m, [try t.valid(), try t.valid()], [.internalError], "Too many messages")
            case .clientStreaming:
                await run.expect("a stream with no message", m, [], invalid, "no")
            }
        }
        // Unknown methods on every service.
        for service in ["dpq.v1.CollectionService", "dpq.v1.ItemService", "dpq.v1.SearchService", "dpq.v1.ModelService",
                        "dpq.v1.TrainingService", "dpq.v1.ServerInfoService", "dpq.v1.NoSuchService"] {
            await run.expect("unknown method", MethodDescriptor(fullyQualifiedService: service, method: "Nope"), [[]], [.unimplemented])
        }

        try await semanticCases(run, model: model, q: q)
        try await midStreamCases(run, model: model)

        #expect(run.failures.isEmpty, "INTERNAL/UNKNOWN outside transport protocol violations: \(run.failures)")
        // The served state is intact: h still has its model (re-imported as itself) and items.
        #expect(try await dpq.count("h") >= 100)
        let after = [UInt8](try await dpq.exportModel("h"))
        #expect(after == model, "the hostile corpus changed h's model")
        print("hostile input: \(run.cases) cases on \(targets.count) RPCs (23 dpq.v1 + health) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        #expect(run.cases >= 400)
        caller.close()
        await f.stop()
    }

    /// Semantic bad input that BadInputTests does not send.
    func semanticCases(_ run: Run, model: [UInt8], q: (vectors: [[Float]], labels: [UInt32])) async throws {
        let invalid: Set<Code?> = [.invalidArgument], exhausted: Set<Code?> = [.resourceExhausted]
        let search = Dpq_V1_SearchService.Method.Search.descriptor
        let evaluate = Dpq_V1_SearchService.Method.Evaluate.descriptor
        let encode = Dpq_V1_ModelService.Method.Encode.descriptor
        let decode = Dpq_V1_ModelService.Method.Decode.descriptor
        let upsert = Dpq_V1_ItemService.Method.UpsertItems.descriptor
        let get = Dpq_V1_ItemService.Method.GetItems.descriptor
        let delete = Dpq_V1_ItemService.Method.DeleteItems.descriptor
        let count = Dpq_V1_ItemService.Method.CountItems.descriptor
        let list = Dpq_V1_ItemService.Method.ListItems.descriptor
        let upload = Dpq_V1_TrainingService.Method.UploadTrainingData.descriptor
        let start = Dpq_V1_TrainingService.Method.StartTraining.descriptor
        let watch = Dpq_V1_TrainingService.Method.WatchTraining.descriptor
        let cancel = Dpq_V1_TrainingService.Method.CancelTraining.descriptor
        let create = Dpq_V1_CollectionService.Method.CreateCollection.descriptor
        let importModel = Dpq_V1_ModelService.Method.ImportModel.descriptor
        let export = Dpq_V1_ModelService.Method.ExportModel.descriptor
        let v0 = q.vectors[0]
        func queries(_ rows: [[Float]]) -> Dpq_V1_DenseVectors { Self.dense(rows) }
        func withValue(_ x: Float, at i: Int = 3) -> [Float] { var v = v0; v[i] = x; return v }

        // NaN and infinities wherever floats are taken.
        for (name, x) in [("NaN", Float.nan), ("+Inf", Float.infinity), ("-Inf", -Float.infinity), ("signalling NaN", Float.signalingNaN)] {
            try await run.expect("\(name) in a query", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([withValue(x)]); $0.k = 3 }, invalid, "finite")
            try await run.expect("\(name) in evaluate queries", evaluate, Dpq_V1_EvaluateRequest.with {
                $0.collection = "h"; $0.queries = queries([withValue(x)]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }
            }, invalid, "finite")
            try await run.expect("\(name) in encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([withValue(x)]) }, invalid, "finite")
            try await run.expect("\(name) in an upserted vector", upsert, Dpq_V1_UpsertItemsRequest.with {
                $0.collection = "h"; $0.items = [Self.item(1, v0, [0]), Self.item(2, withValue(x, at: 15), [0])]
            }, invalid, "items[1].vector[15]")
            await run.expect("\(name) in training data", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
                $0.collection = "u"; $0.vectors = queries([v0, withValue(x)]); $0.labels = .with { $0.classIds = .with { $0.ids = [0, 1] } }
            })], invalid, "finite")
            try await run.expect("\(name) dropout", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = "nan-dropout"; $0.config = .with { $0.inputDimension = 4; $0.model = .with { $0.dropout = x } }
            }, invalid, "dropout")
            try await run.expect("\(name) learning rate", start, Dpq_V1_StartTrainingRequest.with {
                $0.collection = "h"; $0.options = .with { $0.learningRate = x }
            }, invalid, "learning_rate")
            try await run.expect("\(name) loss weight tau", start, Dpq_V1_StartTrainingRequest.with {
                $0.collection = "h"; $0.options = .with { $0.lossWeights = .with { $0.tau = x } }
            }, invalid, "tau")
            try await run.expect("\(name) momentum", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = "nan-momentum"; $0.config = .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.momentum = x } }
            }, invalid, "momentum")
        }
        // Finite values so large that the network overflows: a clear INVALID_ARGUMENT, nothing stored.
        let huge = [Float](repeating: .greatestFiniteMagnitude, count: 16)
        try await run.expect("largest finite values in a query", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0, huge]); $0.k = 3
        }, invalid, "queries: row 1 is too large")
        try await run.expect("largest finite values to encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([huge]) }, invalid, "too large")
        try await run.expect("largest finite values in an upserted vector", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [Self.item(7777, v0), Self.item(7778, huge)]
        }, invalid, "items[1].vector is too large")
        let none7777 = try await run.dpq.getItems("h", ids: [.number(7777)])
        #expect(none7777.items.isEmpty, "a rejected batch was partly stored")
        try await run.expect("small finite values in a query", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([[Float](repeating: .leastNonzeroMagnitude, count: 16)]); $0.k = 3
        }, [nil])

        // Empty batches.
        try await run.expect("empty queries", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = .with { $0.dimension = 16 }; $0.k = 3 }, invalid, "empty")
        try await run.expect("queries without a dimension", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = .with { $0.values = v0 }; $0.k = 3 }, invalid, "dimension")
        try await run.expect("values not a multiple of the dimension", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = .with { $0.dimension = 16; $0.values = Array(v0.prefix(10)) }; $0.k = 3
        }, invalid, "multiple")
        try await run.expect("empty encode batch", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = .with { $0.dimension = 16 } }, invalid, "empty")
        try await run.expect("empty evaluate batch", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = .with { $0.dimension = 16 }; $0.queryLabels = .with { $0.classIds = .init() }
        }, invalid, "empty")
        await run.expect("empty training chunk", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = .with { $0.dimension = 16 }
        })], invalid, "empty")
        try await run.expect("item without a vector", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [.with { $0.id = .with { $0.num = 3 } }]
        }, invalid, "items[0].vector is required")
        try await run.expect("item without an id", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [.with { $0.vector = .with { $0.values = v0 } }]
        }, invalid, "items[0].id is required")

        // Oversized batches (limits: 100 rows, 8 queries, 8 evaluation queries, 1000 dataset rows, 1 MiB models).
        let many = Clusters.make(101, seed: 5)
        try await run.expect("101 items", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = many.vectors.enumerated().map { Self.item(UInt64(7000 + $0), $1) }
        }, exhausted, "max_batch_rows")
        try await run.expect("101 ids to get", get, Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = (0..<101).map { i in .with { $0.num = UInt64(i) } } }, exhausted, "max_batch_rows")
        try await run.expect("101 ids to delete", delete, Dpq_V1_DeleteItemsRequest.with { $0.collection = "h"; $0.ids = (0..<101).map { i in .with { $0.num = UInt64(90_000 + i) } } }, exhausted, "max_batch_rows")
        try await run.expect("101 vectors to encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries(many.vectors) }, exhausted, "max_batch_rows")
        try await run.expect("101 codes to decode", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data](repeating: Data([1, 2, 3]), count: 101) }, exhausted, "max_batch_rows")
        try await run.expect("9 queries", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries(Array(many.vectors.prefix(9))); $0.k = 3 }, exhausted, "max_search_queries")
        try await run.expect("9 evaluation queries", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries(Array(many.vectors.prefix(9))); $0.queryLabels = .with { $0.classIds = .with { $0.ids = Array(many.labels.prefix(9)) } }
        }, exhausted, "max_evaluate_queries")
        await run.expect("a 101-row training chunk", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = queries(many.vectors); $0.labels = .with { $0.classIds = .with { $0.ids = many.labels } }
        })], exhausted, "max_batch_rows")
        let chunk = try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "big"; $0.vectors = queries(Array(many.vectors.prefix(100))); $0.labels = .with { $0.classIds = .with { $0.ids = Array(many.labels.prefix(100)) } }
        })
        await run.expect("1100 rows over 11 chunks", upload, [[UInt8]](repeating: chunk, count: 11), exhausted, "max_dataset_rows")
        try await run.expect("filter of 2000 labels", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.filter = .with { $0.anyOf = (0..<2000).map(UInt32.init) }
        }, exhausted, "max_labels_per_item")
        try await run.expect("rescore oversampling 1000", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.rescore = .with { $0.oversampling = 1000 }
        }, exhausted, "max_rescore_oversampling")
        try await run.expect("k = UInt32.max", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = .max }, exhausted, "max_k")
        try await run.expect("precision_at_k 10 million", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }; $0.precisionAtK = [10_000_000]
        }, exhausted, "max_k")
        try await run.expect("page_size 4 billion (clamped)", list, Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageSize = .max }, [nil])
        try await run.expect("k larger than the collection", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 5000 }, [nil])
        try await run.expect("export chunk_bytes 1 (clamped)", Dpq_V1_ModelService.Method.ExportModel.descriptor,
                             Dpq_V1_ExportModelRequest.with { $0.collection = "h"; $0.chunkBytes = 1 }, [nil])

        // Bits out of range.
        for bits: UInt32 in [1, 3, 13, 24, 64, .max] {
            try await run.expect("search bits \(bits)", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.bits = bits }, invalid, "bits")
            try await run.expect("encode bits \(bits)", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([v0]); $0.bits = bits }, invalid, "bits")
            try await run.expect("decode bits \(bits)", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1])]; $0.bits = bits }, invalid, "bits")
        }
        try await run.expect("evaluate bits [8, 5]", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }; $0.bits = [8, 5]
        }, invalid, "bits[1]")
        // Code values at or above K (16) in a decode.
        try await run.expect("decode code value 200 with K 16", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1, 200, 3])] }, invalid, "code")
        try await run.expect("decode code value 16 with K 16", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([16, 0, 0])] }, invalid, "code")

        // Unknown enum values.
        try await run.expect("metric 99", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.metric = .UNRECOGNIZED(99) }, invalid, "metric")
        try await run.expect("label_mode 42", create, Dpq_V1_CreateCollectionRequest.with {
            $0.name = "enum42"; $0.config = .with { $0.inputDimension = 4; $0.model = .with { $0.labelMode = .UNRECOGNIZED(42) } }
        }, invalid, "label_mode")
        try await run.expect("optimizer 7", start, Dpq_V1_StartTrainingRequest.with { $0.collection = "h"; $0.options = .with { $0.optimizer = .UNRECOGNIZED(7) } }, invalid, "optimizer")
        await run.expect("upload mode 9", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.mode = .UNRECOGNIZED(9); $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } }
        })], invalid, "mode")

        // Out-of-range configuration numbers.
        for (name, config) in [
            ("input_dimension 2^31", Dpq_V1_CollectionConfig.with { $0.inputDimension = 1 << 31 }),
            ("hidden size 100000", .with { $0.inputDimension = 4; $0.model = .with { $0.hiddenSizes = .with { $0.sizes = [100_000] }; $0.numClasses = 2 } }),
            ("nine hidden layers", .with { $0.inputDimension = 4; $0.model = .with { $0.hiddenSizes = .with { $0.sizes = [UInt32](repeating: 4, count: 9) }; $0.numClasses = 2 } }),
            ("codebook_size 3", .with { $0.inputDimension = 4; $0.model = .with { $0.codebookSize = 3 } }),
            ("codebook_size 2^31", .with { $0.inputDimension = 4; $0.model = .with { $0.codebookSize = 1 << 31 } }),
            ("num_classes 4 billion", .with { $0.inputDimension = 4; $0.model = .with { $0.numClasses = .max } }),
            ("batch_size 0 in training defaults", .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.batchSize = 0 } }),
            ("epochs 4 billion in training defaults", .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.epochs = .max } }),
        ] {
            try await run.expect(name, create, Dpq_V1_CreateCollectionRequest.with { $0.name = "cfg"; $0.config = config }, invalid)
        }

        // Names and ids.
        for name in ["a/b", "../../etc", ".hidden", "-dash", String(repeating: "n", count: 65), "nul\u{0}byte", "späce", "tab\tname", "/abs"] {
            try await run.expect("collection name \(name.debugDescription)", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = name; $0.config = .with { $0.inputDimension = 4 }
            }, invalid, "name")
            try await run.expect("search in collection \(name.debugDescription)", search, Dpq_V1_SearchRequest.with {
                $0.collection = name; $0.queries = queries([v0]); $0.k = 1
            }, invalid, "collection")
        }
        for (name, id) in [("a 257-byte string id", Dpq_V1_ItemId.with { $0.str = String(repeating: "x", count: 257) }),
                           ("a string id with a control character", .with { $0.str = "bad\u{7}id" }),
                           ("a string id with a newline", .with { $0.str = "two\nlines" }),
                           ("an unset id", Dpq_V1_ItemId())] {
            try await run.expect(name, upsert, Dpq_V1_UpsertItemsRequest.with {
                $0.collection = "h"; $0.items = [.with { $0.id = id; $0.vector = .with { $0.values = v0 } }]
            }, invalid, "items[0].id")
            try await run.expect("get \(name)", get, Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = [id] }, invalid, "ids[0]")
        }
        for token in ["-5", "99999999999999999999", "1e3", " 1"] {
            try await run.expect("page_token \(token.debugDescription)", list, Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageToken = token }, invalid, "page_token")
        }

        // Duplicate ids in one batch: the last one wins (documented), counted once.
        let dup = await run.expect("duplicate ids in one upsert", upsert, [try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [Self.item(6000, v0, [0]), Self.item(6000, q.vectors[1], [2]), Self.item(6001, v0, [1])]
        })], [nil])
        if let r = dup.responses.first.flatMap({ try? Dpq_V1_UpsertItemsResponse(serializedBytes: $0) }) {
            #expect(r.inserted == 2 && r.replaced == 0, "\(r)")
        } else { Issue.record("no upsert response") }
        let got = try await run.dpq.getItems("h", ids: [.number(6000), .number(6000), .number(6001)], withVectors: true)
        #expect(got.items.count == 2, "a repeated id is returned once")
        #expect(got.items.first { $0.id.num == 6000 }?.labels == [2], "the last occurrence wins")
        #expect(got.items.first { $0.id.num == 6000 }?.vector.values == q.vectors[1])
        let del = await run.expect("duplicate ids in one delete", delete, [try Self.bytes(Dpq_V1_DeleteItemsRequest.with {
            $0.collection = "h"; $0.ids = [.with { $0.num = 6001 }, .with { $0.num = 6001 }]
        })], [nil])
        #expect(del.responses.first.flatMap { try? Dpq_V1_DeleteItemsResponse(serializedBytes: $0) }?.deleted == 1)
        await run.expect("duplicate ids in one get", get, [try Self.bytes(Dpq_V1_GetItemsRequest.with {
            $0.collection = "h"; $0.ids = [Dpq_V1_ItemId](repeating: .with { $0.num = 1 }, count: 100)
        })], [nil])

        // Labels out of range.
        try await run.expect("evaluate query label 99", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [99] } }
        }, invalid, "label 99")
        try await run.expect("evaluate label sets with 2 labels in SINGLE mode", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.sets = .with { $0.rows = [.with { $0.labels = [0, 1] }] } }
        }, invalid, "at most one")
        try await run.expect("upsert label 4 billion", upsert, Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(1, v0, [.max])] }, invalid, "out of range")
        try await run.expect("training from items with a label nobody has", start, Dpq_V1_StartTrainingRequest.with {
            $0.collection = "h"; $0.items = .with { $0.filter = .with { $0.anyOf = [99] } }
        }, [.failedPrecondition], "no usable rows")
        await run.expect("training label count != row count", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = queries([v0, v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } }
        })], invalid, "1 entries for 2 rows")
        // A filter on labels nobody has is a valid question with an empty answer.
        let none = await run.expect("search filter on label 4 billion", search, [try Self.bytes(Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.filter = .with { $0.anyOf = [.max] }
        })], [nil])
        let hits = none.responses.first.flatMap { try? Dpq_V1_SearchResponse(serializedBytes: $0) }
        #expect(hits?.results.first?.hits.isEmpty == true && hits?.searchedItems == 0)
        let counted = await run.expect("count filter on label 99", count, [try Self.bytes(Dpq_V1_CountItemsRequest.with {
            $0.collection = "h"; $0.filter = .with { $0.anyOf = [99] }
        })], [nil])
        #expect(counted.responses.first.flatMap { try? Dpq_V1_CountItemsResponse(serializedBytes: $0) }?.count == 0)

        // Training targets that do not exist.
        try await run.expect("watch job 'nope'", watch, Dpq_V1_WatchTrainingRequest.with { $0.jobID = "nope" }, [.notFound])
        try await run.expect("cancel job ''", cancel, Dpq_V1_CancelTrainingRequest.with { $0.jobID = "" }, [.notFound])
        try await run.expect("watch an untrained collection", watch, Dpq_V1_WatchTrainingRequest.with { $0.collection = "u" }, [.notFound])
        try await run.expect("export from an untrained collection", export, Dpq_V1_ExportModelRequest.with { $0.collection = "u" }, [.failedPrecondition])

        // Model imports: truncated, corrupt, mismatched, oversized (into "imp", which may legitimately
        // take any model that verifies; "h" must never change).
        func importChunk(_ collection: String, _ data: [UInt8], total: UInt64 = 0, sha: String = "") -> [UInt8] {
            (try? Self.bytes(Dpq_V1_ImportModelRequest.with {
                $0.collection = collection; $0.data = Data(data); $0.totalBytes = total; $0.sha256 = sha
            })) ?? []
        }
        let headerLength = Int(model[0]) | Int(model[1]) << 8 | Int(model[2]) << 16
        for cut in stride(from: 1, to: model.count, by: max(1, model.count / 24)) + [7, 8, 9, headerLength + 7, headerLength + 8, headerLength + 9, model.count - 1] {
            await run.expect("model truncated to \(cut) bytes", importModel, [importChunk("imp", Array(model.prefix(cut)))], invalid, "data")
        }
        var r = SeededRandom(seed: 77)
        for i in 0..<24 {
            var bad = model
            let at = i < 12 ? Int(r.next() % UInt64(headerLength + 8)) : headerLength + 8 + Int(r.next() % UInt64(model.count - headerLength - 8))
            bad[at] ^= UInt8(1 << (r.next() % 8))
            // A flip in the header breaks JSON or a number (INVALID_ARGUMENT) or, rarely, leaves a
            // valid equivalent; a flip in tensor data gives a different valid model or a non-finite
            // value. Never anything else.
            await run.expect("model with bit \(at) flipped", importModel, [importChunk("imp", bad)], [nil, .invalidArgument])
        }
        var nan = model
        for j in 0..<4 { nan[model.count - 4 + j] = [0x00, 0x00, 0xC0, 0x7F][j] }   // the last float is NaN
        await run.expect("model whose last weight is NaN", importModel, [importChunk("imp", nan)], invalid, "non-finite")
        var hugeHeader = model
        for j in 0..<8 { hugeHeader[j] = j == 4 ? 1 : 0 }   // 4 GiB header length
        await run.expect("model header declaring 4 GiB", importModel, [importChunk("imp", hugeHeader)], invalid, "header length")
        var maxHeader = model
        for j in 0..<8 { maxHeader[j] = 0xFF }
        await run.expect("model header declaring 2^64 - 1 bytes", importModel, [importChunk("imp", maxHeader)], invalid, "header length")
        let json = Array("{\"__metadata__\":{\"format\":\"dpq-model\",\"format_version\":\"1\",\"config\":\"{}\"},\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}".utf8)
        let absurd = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + [UInt8](repeating: 0, count: 16)
        await run.expect("a tensor declaring 2^62 x 4 floats", importModel, [importChunk("imp", absurd)], invalid, "data")
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        let nested = withUnsafeBytes(of: UInt64(deep.count).littleEndian) { Array($0) } + deep
        await run.expect("a header of 100000 nested arrays", importModel, [importChunk("imp", nested)], invalid, "data")
        await run.expect("sha256 that does not match", importModel, [importChunk("imp", model, sha: String(repeating: "0", count: 64))], invalid, "sha256")
        await run.expect("total_bytes larger than what arrives", importModel, [importChunk("imp", model, total: UInt64(model.count + 1))], invalid, "total_bytes")
        await run.expect("the model twice in one stream", importModel, [importChunk("imp", model), importChunk("", model)], invalid, "data")
        await run.expect("a later chunk naming another collection", importModel,
                         [importChunk("imp", Array(model.prefix(100))), importChunk("h", Array(model.dropFirst(100)))], invalid, "collection")
        await run.expect("import into '../x'", importModel, [importChunk("../x", model)], invalid, "collection")
        await run.expect("a model over max_model_bytes", importModel,
                         [importChunk("imp", [UInt8](repeating: 0, count: 600_000)), importChunk("", [UInt8](repeating: 0, count: 600_000))], exhausted, "max_model_bytes")
        try await run.dpq.createCollection("dim8", inputDimension: 8, model: smallModel())
        try await run.dpq.createCollection("m2", inputDimension: 16, model: { var m = smallModel(); m.blocks = 2; return m }())
        try await run.dpq.createCollection("k32", inputDimension: 16, model: { var m = smallModel(); m.codebookSize = 32; return m }())
        try await run.dpq.createCollection("c5", inputDimension: 16, model: smallModel(classes: 5))
        await run.expect("a model for dimension 16 into a dimension-8 collection", importModel, [importChunk("dim8", model)], invalid, "input_dimension")
        await run.expect("a model with 3 blocks into a 2-block collection", importModel, [importChunk("m2", model)], invalid, "blocks")
        await run.expect("a model with K 16 into a K 32 collection", importModel, [importChunk("k32", model)], invalid, "codebook_size")
        await run.expect("a model for 4 classes into a 5-class collection", importModel, [importChunk("c5", model)], invalid, "num_classes")
        await run.expect("a valid model into imp", importModel, [importChunk("imp", model)], [nil])

        // Later stream messages naming another collection.
        await run.expect("upsert stream batch naming another collection", Dpq_V1_ItemService.Method.UpsertItemsStream.descriptor, [
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(6100, v0)] }),
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "u"; $0.items = [Self.item(6101, v0)] }),
        ], invalid, "collection")
        await run.expect("upload chunk naming another collection", upload, [
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "mix"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "h"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
        ], invalid, "collection")
        await run.expect("upload chunk naming another dataset", upload, [
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "mix"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.dataset = "other"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
        ], invalid, "dataset")
        #expect(try await run.dpq.collection("u").datasets.contains { $0.name == "mix" } == false)
    }

    /// Clients that give up half way through a client stream: the stream is reset, nothing from it
    /// is acknowledged, and what is visible afterwards follows the documented semantics.
    func midStreamCases(_ run: Run, model: [UInt8]) async throws {
        let dpq = run.dpq
        // What the client sees when its own request stream fails: grpc-swift resets the HTTP/2
        // stream and reports UNAVAILABLE "Stream unexpectedly closed" (or the producer's error).
        let aborted: Set<Code?> = [.unavailable, .aborted, .cancelled]
        let upsertStream = Dpq_V1_ItemService.Method.UpsertItemsStream.descriptor
        let data = Clusters.make(200, seed: 21)
        func batch(_ b: Int, collection: String = "") throws -> [UInt8] {
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
                $0.collection = collection
                $0.items = (0..<40).map { i in Self.item(UInt64(20_000 + b * 40 + i), data.vectors[b * 40 + i], [data.labels[b * 40 + i]]) }
            })
        }
        func present(_ b: Int) async throws -> Int {
            try await dpq.getItems("h", ids: (0..<40).map { .number(UInt64(20_000 + b * 40 + $0)) }).items.count
        }
        // (a) UpsertItemsStream: 3 of 5 batches sent, then the client aborts. Each batch is all or nothing
        // (applied as it arrives, documented); the unsent batches are absent; no response was received.
        let upsertOut = await run.expect("upsert stream aborted after 3 of 5 batches", upsertStream,
                                         [try batch(0, collection: "h"), try batch(1), try batch(2)], aborted,
                                         abortAfter: .milliseconds(500))
        #expect(upsertOut.responses.isEmpty)
        for b in 0..<5 {
            let n = try await present(b)
            if b < 3 { #expect(n == 0 || n == 40, "batch \(b) half applied: \(n) of 40") } else { #expect(n == 0, "unsent batch \(b) visible: \(n)") }
        }
        // (b) A stream whose third batch is invalid: the first two stay, the third is not applied at all.
        let bad = try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
            var items: [Dpq_V1_Item] = []
            for i in 0..<40 {
                let v: [Float] = i == 39 ? [Float](repeating: .nan, count: 16) : data.vectors[120 + i]
                items.append(Self.item(UInt64(20_120 + i), v))
            }
            $0.items = items
        })
        await run.expect("upsert stream with an invalid third batch", upsertStream, [try batch(0, collection: "h"), try batch(1), bad, try batch(4)], [.invalidArgument], "items[39]")
        let p0 = try await present(0), p1 = try await present(1), p3 = try await present(3), p4 = try await present(4)
        #expect(p0 == 40 && p1 == 40)
        #expect(p3 == 0, "the invalid batch is all-or-nothing")
        #expect(p4 == 0, "nothing after the failing batch")
        // (c) A client task cancelled while it streams (the RPC is cancelled from outside).
        let batch4 = try batch(4, collection: "h")
        let task = Task {
            await run.caller.call(upsertStream, [batch4], abortAfter: .seconds(30))
        }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        let cancelled = await task.value
        run.cases += 1
        #expect(cancelled.code != nil && cancelled.responses.isEmpty, "\(cancelled)")
        let n4 = try await present(4)
        #expect(n4 == 0 || n4 == 40)
        await run.alive(after: "a cancelled upsert stream")

        // (d) UploadTrainingData aborted after 3 chunks: atomic, the dataset stays as it was.
        let upload = Dpq_V1_TrainingService.Method.UploadTrainingData.descriptor
        try await dpq.uploadTrainingData("u", dataset: "keep", vectors: Array(data.vectors.prefix(10)), labels: data.labels.prefix(10).map { [$0] })
        let chunk = try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "keep"; $0.mode = .append
            $0.vectors = Self.dense(Array(data.vectors.prefix(50))); $0.labels = .with { $0.classIds = .with { $0.ids = Array(data.labels.prefix(50)) } }
        })
        await run.expect("upload aborted after 3 chunks", upload, [chunk, chunk, chunk], aborted, abortAfter: .milliseconds(500))
        let keep = try await dpq.collection("u").datasets.first { $0.name == "keep" }
        #expect(keep?.rows == 10, "an aborted upload changed the dataset: \(String(describing: keep))")
        await run.expect("new dataset upload aborted", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "never"; $0.vectors = Self.dense([data.vectors[0]]); $0.labels = .with { $0.classIds = .with { $0.ids = [data.labels[0]] } }
        })], aborted, abortAfter: .milliseconds(300))
        #expect(try await dpq.collection("u").datasets.contains { $0.name == "never" } == false)

        // (e) ImportModel aborted after half the file: the model does not change.
        let importModel = Dpq_V1_ModelService.Method.ImportModel.descriptor
        let before = [UInt8](try await dpq.exportModel("imp"))
        var other = model
        other[other.count - 8] ^= 0x01   // a different valid model (a weight's low bit)
        await run.expect("import aborted half way", importModel, [try Self.bytes(Dpq_V1_ImportModelRequest.with {
            $0.collection = "imp"; $0.data = Data(other.prefix(other.count / 2))
        })], aborted, abortAfter: .milliseconds(300))
        #expect([UInt8](try await dpq.exportModel("imp")) == before, "an aborted import changed the model")
        await run.expect("import into a new collection aborted", importModel, [try Self.bytes(Dpq_V1_ImportModelRequest.with {
            $0.collection = "fresh"; $0.createIfMissing = true; $0.data = Data(other)
        })], aborted, abortAfter: .milliseconds(300))
        #expect(try await dpq.listCollections().contains { $0.name == "fresh" } == false)
    }
}
