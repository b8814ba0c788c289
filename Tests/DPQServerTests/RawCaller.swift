// A gRPC client that sends raw request bytes to any method: what the hostile-input suite
// needs to send malformed protobuf, which no typed client can.

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

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
