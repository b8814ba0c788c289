// An in-process OTLP/HTTP trace receiver on loopback, standing in for an OpenTelemetry collector:
// it accepts POST /v1/traces with a protobuf ExportTraceServiceRequest (OTLP's default encoding,
// what swift-otel sends unless told otherwise), answers 200 with an empty protobuf response, and
// decodes the spans with a small reader of the protobuf wire format (field numbers from
// opentelemetry/proto/trace/v1/trace.proto), so the test sees what a collector would.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

final class OTLPReceiver: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let port: Int
    private let listener: NIOAsyncChannel<Connection, Never>
    private let bodies = Mutex<[[UInt8]]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Export requests received so far, decoded.
    var spans: [ExportedSpan] {
        get throws { try self.bodies.withLock { $0 }.flatMap(ExportedSpan.decode(request:)) }
    }
    var requestCount: Int { self.bodies.withLock { $0.count } }

    private init(port: Int, listener: NIOAsyncChannel<Connection, Never>) {
        self.port = port
        self.listener = listener
    }

    static func start() async throws -> OTLPReceiver {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: child)
                }
            }
        let receiver = OTLPReceiver(port: listener.channel.localAddress?.port ?? 0, listener: listener)
        receiver.task.withLock { $0 = Task { await receiver.serve() } }
        return receiver
    }

    func stop() async {
        try? await self.listener.channel.close()
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    private func serve() async {
        try? await self.listener.executeThenClose { connections in
            await withDiscardingTaskGroup { group in
                do {
                    for try await connection in connections {
                        group.addTask { await self.handle(connection) }
                    }
                } catch {}
                group.cancelAll()
            }
        }
    }

    private func handle(_ connection: Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let h): head = h; body = []
                case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
                case .end:
                    guard let request = head else { continue }
                    let accepted = request.method == .POST && request.uri == "/v1/traces"
                        && request.headers.first(name: "content-type") == "application/x-protobuf"
                    if accepted { self.bodies.withLock { $0.append(body) } }
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/x-protobuf")
                    headers.add(name: "Content-Length", value: "0")
                    let status: HTTPResponseStatus = accepted ? .ok : .notFound
                    try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}

/// A span as an OTLP collector receives it.
struct ExportedSpan: Sendable {
    enum Value: Sendable, Equatable { case string(String), int(Int64), bool(Bool), double(Double), other }

    var traceID = ""        // lowercase hex, as in traceparent
    var spanID = ""
    var parentSpanID = ""   // empty for a root span
    var name = ""
    var kind = 0            // SPAN_KIND_SERVER = 2
    var attributes: [String: Value] = [:]
    var eventNames: [String] = []
    var statusCode = 0      // STATUS_CODE_UNSET = 0, OK = 1, ERROR = 2
    var resource: [String: Value] = [:]

    static func decode(request: [UInt8]) throws -> [ExportedSpan] {
        var spans: [ExportedSpan] = []
        for (number, resourceSpans) in try Proto.fields(request[...]) where number == 1 {
            var resource: [String: Value] = [:]
            for (field, value) in try Proto.fields(try resourceSpans.bytes()) {
                if field == 1 {  // Resource
                    for (f, kv) in try Proto.fields(try value.bytes()) where f == 1 {
                        let (key, v) = try keyValue(try kv.bytes())
                        resource[key] = v
                    }
                } else if field == 2 {  // ScopeSpans
                    for (f, span) in try Proto.fields(try value.bytes()) where f == 2 {
                        var decoded = try ExportedSpan.decode(span: try span.bytes())
                        decoded.resource = resource
                        spans.append(decoded)
                    }
                }
            }
        }
        return spans
    }

    static func decode(span: ArraySlice<UInt8>) throws -> ExportedSpan {
        var s = ExportedSpan()
        for (field, value) in try Proto.fields(span) {
            switch field {
            case 1: s.traceID = hex(try value.bytes())
            case 2: s.spanID = hex(try value.bytes())
            case 4: s.parentSpanID = hex(try value.bytes())
            case 5: s.name = String(decoding: try value.bytes(), as: UTF8.self)
            case 6: s.kind = Int(try value.varint())
            case 9:
                let (key, v) = try keyValue(try value.bytes())
                s.attributes[key] = v
            case 11:  // Event: name is field 2
                for (f, v) in try Proto.fields(try value.bytes()) where f == 2 {
                    s.eventNames.append(String(decoding: try v.bytes(), as: UTF8.self))
                }
            case 15:  // Status: code is field 3
                for (f, v) in try Proto.fields(try value.bytes()) where f == 3 { s.statusCode = Int(try v.varint()) }
            default: break
            }
        }
        return s
    }

    /// KeyValue { key = 1; AnyValue value = 2 }, AnyValue's oneof: string 1, bool 2, int 3, double 4.
    static func keyValue(_ bytes: ArraySlice<UInt8>) throws -> (String, Value) {
        var key = ""
        var value = Value.other
        for (field, v) in try Proto.fields(bytes) {
            if field == 1 { key = String(decoding: try v.bytes(), as: UTF8.self) }
            if field == 2 {
                for (f, any) in try Proto.fields(try v.bytes()) {
                    switch (f, any) {
                    case (1, .bytes(let b)): value = .string(String(decoding: b, as: UTF8.self))
                    case (2, .varint(let n)): value = .bool(n != 0)
                    case (3, .varint(let n)): value = .int(Int64(bitPattern: n))
                    case (4, .fixed64(let n)): value = .double(Double(bitPattern: n))
                    default: value = .other
                    }
                }
            }
        }
        return (key, value)
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// The protobuf wire format, enough to walk a message's fields.
enum Proto {
    enum Field { case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)
        func bytes() throws -> ArraySlice<UInt8> {
            guard case .bytes(let b) = self else { throw ProtoError("expected a length-delimited field") }
            return b
        }
        func varint() throws -> UInt64 {
            guard case .varint(let n) = self else { throw ProtoError("expected a varint field") }
            return n
        }
    }

    struct ProtoError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static func fields(_ data: ArraySlice<UInt8>) throws -> [(Int, Field)] {
        var i = data.startIndex
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < data.endIndex, shift < 64 else { throw ProtoError("truncated varint") }
                let byte = data[i]
                i += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        func fixed(_ n: Int) throws -> UInt64 {
            guard data.endIndex - i >= n else { throw ProtoError("truncated fixed field") }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(data[i + k]) << (8 * UInt64(k)) }
            i += n
            return v
        }
        var out: [(Int, Field)] = []
        while i < data.endIndex {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: out.append((number, .varint(try varint())))
            case 1: out.append((number, .fixed64(try fixed(8))))
            case 2:
                guard let length = Int(exactly: try varint()), data.endIndex - i >= length else { throw ProtoError("truncated field \(number)") }
                out.append((number, .bytes(data[i..<(i + length)])))
                i += length
            case 5: out.append((number, .fixed32(UInt32(try fixed(4)))))
            default: throw ProtoError("unsupported wire type \(tag & 7) for field \(number)")
            }
        }
        return out
    }
}
