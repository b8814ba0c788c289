// An async Swift client for a DPQ server: typed requests, [Float] in and out, progress as an
// AsyncSequence, a deadline on every call, and errors that keep the gRPC status code.
//
//     let dpq = try DPQClient(host: "127.0.0.1", port: 50051)
//     defer { dpq.close() }
//     try await dpq.createCollection("fashion", inputDimension: 784, numClasses: 10)
//     let hits = try await dpq.search("fashion", queries: [query], k: 10, bits: 16)

import DPQProto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Tracing

/// A failed call: the gRPC status code and the server's message (which names the field at fault).
public struct DPQError: Error, CustomStringConvertible, Sendable {
    public var code: RPCError.Code
    public var message: String
    public var description: String { "\(code): \(message)" }

    init(_ error: any Error) {
        if let e = error as? RPCError { code = e.code; message = e.message }
        else if let e = error as? DPQError { self = e }
        else { code = .unknown; message = "\(error)" }
    }

    public init(code: RPCError.Code, message: String) { self.code = code; self.message = message }
}

/// An item id: a number or a string (the two never collide).
public enum ItemKey: Hashable, Sendable, CustomStringConvertible {
    case number(UInt64)
    case string(String)

    var proto: Dpq_V1_ItemId {
        switch self {
        case .number(let n): return .with { $0.num = n }
        case .string(let s): return .with { $0.str = s }
        }
    }

    init(_ p: Dpq_V1_ItemId) {
        switch p.kind {
        case .str(let s)?: self = .string(s)
        default: self = .number(p.num)
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .string(let s): return s
        }
    }
}

public struct Hit: Sendable, Equatable {
    public var id: ItemKey
    public var score: Float
    public var labels: [UInt32]
}

public struct NewItem: Sendable {
    public var id: ItemKey
    public var vector: [Float]
    /// 8-bit values (pixels) sent as bytes instead of `vector`: a quarter of the bytes on the wire,
    /// each byte b meaning the value b.
    public var pixels: [UInt8]?
    /// A full code computed elsewhere with the collection's model (`encodeForUpsert`), sent instead of
    /// a vector: a batch of such items needs the model's sha256 (`upsert(_:items:modelSHA256:)`).
    public var code: [UInt8]?
    public var labels: [UInt32]
    public init(id: ItemKey, vector: [Float], labels: [UInt32] = []) { self.id = id; self.vector = vector; self.labels = labels }
    public init(id: ItemKey, pixels: [UInt8], labels: [UInt32] = []) {
        self.id = id; self.vector = []; self.pixels = pixels; self.labels = labels
    }
    public init(id: ItemKey, code: [UInt8], labels: [UInt32] = []) {
        self.id = id; self.vector = []; self.code = code; self.labels = labels
    }
}

public typealias CollectionInfo = Dpq_V1_CollectionInfo
public typealias TrainingProgress = Dpq_V1_TrainingProgress
public typealias TrainingOptions = Dpq_V1_TrainingOptions
public typealias ModelConfig = Dpq_V1_ModelConfig
public typealias Metric = Dpq_V1_Metric

/// TLS for the client from PEM files: the CA that signed the server's certificate, and for mutual
/// TLS the client's own certificate and key.
public struct ClientTLS: Sendable, Equatable {
    public var trustedCA: String
    public var certificate: String?
    public var privateKey: String?
    public init(trustedCA: String, certificate: String? = nil, privateKey: String? = nil) {
        self.trustedCA = trustedCA
        self.certificate = certificate
        self.privateKey = privateKey
    }

    var transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        let roots: TLSConfig.TrustRootsSource = .certificates([.file(path: trustedCA, format: .pem)])
        if let certificate, let privateKey {
            return .mTLS(certificateChain: [.file(path: certificate, format: .pem)],
                         privateKey: .file(path: privateKey, format: .pem)) { $0.trustRoots = roots }
        }
        return .tls { $0.trustRoots = roots }
    }
}

public final class DPQClient: Sendable {
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    let runner: Task<Void, Never>
    /// Deadline applied to every call that does not pass its own.
    public let timeout: Duration
    let maxMessageBytes: Int

    /// `apiKey` is sent as `authorization: Bearer <key>` on every call. Calls made inside a span
    /// carry its trace context to the server, injected by `tracingInstrument` (default: the
    /// process-wide InstrumentationSystem's).
    public convenience init(host: String = "127.0.0.1", port: Int = 50051, timeout: Duration = .seconds(60),
                            maxMessageBytes: Int = 64 << 20, apiKey: String? = nil, tls: ClientTLS? = nil,
                            tracingInstrument: (any Instrument)? = nil) throws {
        try self.init(servers: [(host, port)], timeout: timeout, maxMessageBytes: maxMessageBytes, apiKey: apiKey, tls: tls,
                      tracingInstrument: tracingInstrument)
    }

    /// A client of several equivalent servers (nodes on one store): calls are spread over them
    /// round robin by gRPC's own load balancing, and the calls that are safe to repeat (reads,
    /// searches, upserts and deletes by id, which are idempotent) are retried on UNAVAILABLE, up to
    /// three attempts, as gRPC's service config allows (`ServiceConfigs.cluster`). A node that goes
    /// away drops out of the rotation and comes back when it answers again.
    public init(servers: [(host: String, port: Int)], timeout: Duration = .seconds(60),
                maxMessageBytes: Int = 64 << 20, apiKey: String? = nil, tls: ClientTLS? = nil,
                tracingInstrument: (any Instrument)? = nil) throws {
        guard !servers.isEmpty else { throw DPQError(code: .invalidArgument, message: "servers: at least one address is required") }
        let target: ResolvableTargets.IPv4 = .ipv4(pairs: servers)
        let transport = try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: tls?.transportSecurity ?? .plaintext,
            config: .defaults {
                $0.http2.maxFrameSize = 1 << 20
                // grpc-swift holds each flush up to 100 µs hoping to batch writes; a client that
                // waits for every answer has nothing to batch, so that is pure latency.
                $0.connection.flushCoalescing = nil
            },
            serviceConfig: servers.count > 1 ? ServiceConfigs.cluster : ServiceConfig())
        let c = GRPCClient(transport: transport, interceptors: [TraceContextPropagation(instrument: tracingInstrument)]
                           + (apiKey.map { [BearerToken(key: $0)] } ?? []))
        client = c
        runner = Task { try? await c.runConnections() }
        self.timeout = timeout
        self.maxMessageBytes = maxMessageBytes
    }

    /// "host:port", as DPQ_ADDRESS holds it, or several separated by commas ("a:1,b:1,c:1": see
    /// init(servers:)).
    public convenience init(address: String, timeout: Duration = .seconds(60), apiKey: String? = nil,
                            tls: ClientTLS? = nil) throws {
        var servers: [(host: String, port: Int)] = []
        for one in address.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = one.trimmingCharacters(in: .whitespaces).split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw DPQError(code: .invalidArgument, message: "address '\(one)' is not host:port")
            }
            servers.append((String(parts[0]), port))
        }
        try self.init(servers: servers, timeout: timeout, apiKey: apiKey, tls: tls)
    }

    public func close() { client.beginGracefulShutdown() }

    func options(_ timeout: Duration?) -> CallOptions {
        var o = CallOptions.defaults
        o.timeout = timeout ?? self.timeout
        o.maxRequestMessageBytes = maxMessageBytes
        o.maxResponseMessageBytes = maxMessageBytes
        return o
    }

    /// Runs a call, turning any failure into DPQError.
    func call<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw DPQError(error) }
    }

    var collections: Dpq_V1_CollectionService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var items: Dpq_V1_ItemService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var searchService: Dpq_V1_SearchService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var models: Dpq_V1_ModelService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var trainingService: Dpq_V1_TrainingService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var info: Dpq_V1_ServerInfoService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var health: Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
}

/// Adds `authorization: Bearer <key>` to every call.
struct BearerToken: ClientInterceptor {
    let key: String

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>, context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString("Bearer \(key)", forKey: "authorization")
        return try await next(request, context)
    }
}

/// Rows of equal length as one DenseVectors batch.
func dense(_ rows: [[Float]]) throws -> Dpq_V1_DenseVectors {
    guard let d = rows.first?.count, d > 0 else { throw DPQError(code: .invalidArgument, message: "vectors: at least one non-empty row is required") }
    guard rows.allSatisfy({ $0.count == d }) else { throw DPQError(code: .invalidArgument, message: "vectors: rows differ in length") }
    return .with { $0.dimension = UInt32(d); $0.values = rows.flatMap { $0 } }
}

/// Rows of 8-bit values as DenseVectors.uint8_values.
func dense(_ rows: [[UInt8]]) throws -> Dpq_V1_DenseVectors {
    guard let d = rows.first?.count, d > 0 else { throw DPQError(code: .invalidArgument, message: "pixels: at least one non-empty row is required") }
    guard rows.allSatisfy({ $0.count == d }) else { throw DPQError(code: .invalidArgument, message: "pixels: rows differ in length") }
    var bytes = Data(capacity: rows.count * d)
    for r in rows { bytes.append(contentsOf: r) }
    return .with { $0.dimension = UInt32(d); $0.uint8Values = bytes }
}

func rows(_ v: Dpq_V1_DenseVectors) -> [[Float]] {
    let d = Int(v.dimension)
    guard d > 0 else { return [] }
    return stride(from: 0, to: v.values.count, by: d).map { Array(v.values[$0..<($0 + d)]) }
}
