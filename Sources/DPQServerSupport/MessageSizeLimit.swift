// Answers a request message larger than max_message_bytes with RESOURCE_EXHAUSTED naming the
// limit. The HTTP/2 transport can only reset the stream of an oversized message (clients then
// see CANCELLED or UNAVAILABLE with no reason), so the server lets the transport accept up to
// `transportLimit` bytes and this interceptor measures each message against the advertised
// limit. Beyond the transport's limit the stream is still reset.
//
// Measuring re-encodes each message (SwiftProtobuf keeps no size), which costs about as much as
// decoding it did: noticeable only for the largest uploads.
import GRPCCore
import SwiftProtobuf

public struct MessageSizeLimit: ServerInterceptor {
    public let limit: Int

    public init(limit: Int) { self.limit = limit }

    /// What the transport should accept: the limit plus room to see and refuse larger messages.
    public static func transportLimit(for limit: Int) -> Int { min(limit * 2, Int(Int32.max)) }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let limit = self.limit
        let checked = request.messages.map { message -> Input in
            if let m = message as? any SwiftProtobuf.Message {
                let size = try m.serializedBytes() as [UInt8]
                if size.count > limit {
                    throw RPCError(code: .resourceExhausted,
                                   message: "a request message of \(size.count) bytes exceeds the limit of \(limit) bytes (max_message_bytes); split it into stream chunks")
                }
            }
            return message
        }
        var limited = request
        limited.messages = RPCAsyncSequence(wrapping: checked)
        return try await next(limited, context)
    }
}
