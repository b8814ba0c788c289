// The per-connection concurrent-stream limit, advertised and enforced the way RFC 9113 asks:
// the server's SETTINGS carry SETTINGS_MAX_CONCURRENT_STREAMS = `advertised`, so conforming
// clients queue calls beyond it, and a client that opens more anyway gets RST_STREAM
// (REFUSED_STREAM) on each extra stream (§5.1.2: a stream error) while the connection and its
// other streams carry on.
//
// Why not just `config.http2.maxConcurrentStreams`: swift-nio-http2 (1.46) treats a HEADERS frame
// over its limit as a *connection* error (GOAWAY PROTOCOL_ERROR, every call on the connection
// failed), and with the setting left unset (grpc-swift-nio-transport's default) it still enforces
// its internal default of 100 while advertising nothing. So the HTTP/2 state machine is given a
// ceiling far above the advertised value (`stateMachineLimit`), the first SETTINGS frame is
// rewritten on its way out to say `advertised`, and the streams between the two are refused here.
// docs/design.md ("Concurrent streams") has the full account.
//
// Two more details matter under load (found with h2load, which opens up to 100 streams before it
// has read our SETTINGS):
// - A stream leaves the count when its stream channel goes inactive, which swift-nio-http2 signals
//   synchronously with the frame that closed it, not when the channel's close future completes,
//   a loop turn later: by then a client that read the END_STREAM may have opened the next stream,
//   and was refused.
// - A refused stream is reset once the client has finished sending on it (END_STREAM), or after a
//   second: reset at once, the request's DATA frames still on the way arrive for a stream that
//   swift-nio-http2 remembers as reset only among the last 32, and older ones are a connection
//   error (GOAWAY STREAM_CLOSED) that fails every call on it.
// One residue remains in swift-nio-http2: until the client acknowledges our SETTINGS, its state
// machine enforces 100 (RFC 9113 §6.5.2 gives the client no limit before it has seen one). gRPC
// clients (grpc-core, grpc-go, grpc-java) wait for the server's SETTINGS before opening streams,
// and nghttp2 (h2load) assumes 100 until it has them.
import GRPCNIOTransportCore
import NIOCore
import NIOHTTP2

public enum StreamLimit {
    /// What the HTTP/2 state machine enforces: a protocol-abusing client is disconnected only
    /// past this many concurrent streams. Refused streams close at once, so this bounds memory
    /// per connection, not throughput.
    public static let stateMachineLimit = 1 << 20

    /// The transport callbacks that install the limit on every accepted connection and stream.
    public static func callbacks(advertised: Int) -> HTTP2ServerTransport.Config.ChannelDebuggingCallbacks {
        precondition(advertised >= 1 && advertised < stateMachineLimit)
        return .init(
            onBindTCPListener: nil,
            onAcceptTCPConnection: { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let http2 = try pipeline.handler(type: NIOHTTP2Handler.self)
                    // Outbound bytes pass the handlers from the tail to the head: placed just before
                    // (headward of) the HTTP/2 handler, the rewriter sees its frames as bytes, before
                    // TLS, if any, encrypts them.
                    try pipeline.addHandler(
                        SettingsRewriter(from: UInt32(stateMachineLimit), to: UInt32(advertised)), position: .before(http2))
                    try pipeline.addHandler(OpenStreams(limit: advertised), position: .after(http2))
                }
            },
            onAcceptHTTP2Stream: { stream in
                stream.eventLoop.makeCompletedFuture {
                    guard let parent = stream.parent else { return }
                    let open = try parent.pipeline.syncOperations.handler(type: OpenStreams.self)
                    if open.count < open.limit {
                        open.count += 1
                        try stream.pipeline.syncOperations.addHandler(ServedStream(open), position: .first)
                    } else {
                        try stream.pipeline.syncOperations.addHandler(RefusedStream(), position: .first)
                    }
                }
            })
    }
}

/// The count of streams this connection is serving (not refused), kept in the connection's
/// pipeline so that each new stream finds it through its parent channel.
final class OpenStreams: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    let limit: Int
    var count = 0
    init(limit: Int) { self.limit = limit }
}

/// First in a served stream's pipeline: takes the stream out of the count when it goes inactive.
final class ServedStream: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    private var open: OpenStreams?
    init(_ open: OpenStreams) { self.open = open }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    private func release() {
        open?.count -= 1
        open = nil
    }
}

/// Answers a stream with RST_STREAM (REFUSED_STREAM) and drops everything it sends, so no RPC
/// handler ever sees it: REFUSED_STREAM promises the client that nothing was processed, which
/// makes the call safe to retry. The reset goes out when the client's side of the stream has
/// ended, or after `patience` (a stream the client keeps open).
final class RefusedStream: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload
    static let patience = TimeAmount.seconds(1)
    private var sent = false

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.patience) { bound.value.0.refuse(bound.value.1) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let h) where h.endStream: refuse(context)
        case .data(let d) where d.endStream: refuse(context)
        default: break
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { sent = true }

    private func refuse(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.writeAndFlush(wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
    }
}

/// Rewrites SETTINGS_MAX_CONCURRENT_STREAMS in the server's first SETTINGS frame (the first
/// bytes the server writes: its connection preface), then leaves the pipeline.
final class SettingsRewriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let from: UInt32
    private let to: UInt32

    init(from: UInt32, to: UInt32) {
        self.from = from
        self.to = to
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        Self.rewrite(&buffer, from: from, to: to)
        context.write(wrapOutboundOut(buffer), promise: promise)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Frame header: length (24 bits), type (8; SETTINGS = 4), flags (8), stream id (32); then
    /// 6-byte entries of identifier (16 bits; MAX_CONCURRENT_STREAMS = 3) and value (32).
    static func rewrite(_ buffer: inout ByteBuffer, from: UInt32, to: UInt32) {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 9,
              let length = buffer.getInteger(at: start, as: UInt32.self).map({ Int($0 >> 8) }),
              buffer.getInteger(at: start + 3, as: UInt8.self) == 4,
              buffer.readableBytes >= 9 + length else { return }
        var offset = start + 9
        while offset + 6 <= start + 9 + length {
            if buffer.getInteger(at: offset, as: UInt16.self) == 3,
               buffer.getInteger(at: offset + 2, as: UInt32.self) == from {
                buffer.setInteger(to, at: offset + 2)
            }
            offset += 6
        }
    }
}
