import DPQClient
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

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
}
