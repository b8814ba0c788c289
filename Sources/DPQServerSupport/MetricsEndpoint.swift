// A tiny HTTP/1.1 server exposing GET /metrics in the Prometheus text format, on its own port so
// scraping never competes with the gRPC listener (and can be firewalled separately). gRPC itself
// speaks HTTP/2 only, so Prometheus cannot scrape the main port anyway.
//
// Design notes:
// - bind() and run() are separate so the caller learns the bound port (port 0 = ephemeral)
//   before handing the endpoint to a ServiceGroup, e.g. to log it or to print it for scripts.
// - Built on NIOAsyncChannel: connections are child tasks of run(), so graceful shutdown is
//   structured: closing the listening channel ends the accept loop, then open keep-alive
//   connections are cancelled and closed.
// - bootstrap() is the one place that installs the Prometheus backend into swift-metrics.
//   MetricsSystem.bootstrap may only run once per process, so repeated calls hand back the same
//   registry instead of crashing (tests and the server can both call it).
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

public final class MetricsEndpoint: Service {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The address actually bound.
    public let host: String
    public let port: Int
    private let registry: PrometheusCollectorRegistry
    private let listener: NIOAsyncChannel<Connection, Never>

    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Installs a PrometheusMetricsFactory as the process-wide swift-metrics backend and returns
    /// its registry. Later calls return the same registry.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        Self.installed.withLock { installed in
            if let installed { return installed }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            installed = registry
            return registry
        }
    }

    private init(host: String, port: Int, registry: PrometheusCollectorRegistry, listener: NIOAsyncChannel<Connection, Never>) {
        self.host = host
        self.port = port
        self.registry = registry
        self.listener = listener
    }

    /// Binds the listening socket. Call `run()` (once) to serve it.
    public static func bind(
        host: String = "127.0.0.1",
        port: Int,
        registry: PrometheusCollectorRegistry,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> MetricsEndpoint {
        let listener = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: child)
                }
            }
        let bound = listener.channel.localAddress
        return MetricsEndpoint(
            host: bound?.ipAddress ?? host,
            port: bound?.port ?? port,
            registry: registry,
            listener: listener
        )
    }

    /// Serves until graceful shutdown (or cancellation), then closes the listener and all
    /// connections.
    public func run() async throws {
        let registry = self.registry
        try await withGracefulShutdownHandler {
            try await self.listener.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await Self.serve(connection, registry: registry) }
                    }
                    // The listener is closed: idle keep-alive connections would otherwise keep
                    // this group (and shutdown) waiting.
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: { [channel = self.listener.channel] in
            channel.close(promise: nil)
        }
    }

    private static func serve(_ connection: Connection, registry: PrometheusCollectorRegistry) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                    case .body:
                        break
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        try await respond(to: request, registry: registry, outbound: outbound)
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            // A broken or cancelled connection concerns only that scraper; nothing to report.
        }
    }

    private static func respond(
        to request: HTTPRequestHead,
        registry: PrometheusCollectorRegistry,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        let body: ByteBuffer
        switch (path, request.method) {
        case ("/metrics", .GET), ("/metrics", .HEAD):
            status = .ok
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            body = ByteBuffer(bytes: registry.emitToBuffer())
        case ("/metrics", _):
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            body = ByteBuffer(string: "method not allowed\n")
        default:
            status = .notFound
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            body = ByteBuffer(string: "not found; metrics are at /metrics\n")
        }
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
        if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(body))) }
        try await outbound.write(.end(nil))
    }
}
