// Assembles the server: the data directory's collections, the dpq.v1 services, health,
// reflection and server info, with metrics and a concurrency limit on every RPC, served over
// HTTP/2. `run` serves until SIGINT or SIGTERM (the CLI); `start` returns a handle that tests
// stop explicitly. Either way shutdown stops trainings cleanly before the transport goes.

import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Tracing

public enum DPQServer {
    public static let serviceNames = [
        "dpq.v1.CollectionService", "dpq.v1.TrainingService", "dpq.v1.ItemService", "dpq.v1.SearchService",
        "dpq.v1.ModelService", "dpq.v1.ServerInfoService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]

    struct Parts {
        let registry: CollectionRegistry
        let health: HealthService
        let server: GRPCServer<HTTP2ServerTransport.Posix>

        /// Before the transport drains: health goes NOT_SERVING (ending Watch streams) and
        /// trainings stop cleanly, so that only short calls are left in flight.
        func beginShutdown() async {
            health.shutDown()
            await registry.stopTrainings()
        }

        /// After the transport has drained: no call can still be writing, so the stores close.
        func finishShutdown() {
            registry.close()
        }
    }

    static func build(_ settings: ServerSettings, apiKeys: APIKeys?, tls: TLSFiles?, tracer: (any Tracer)?, logger: Logger) async throws -> Parts {
        // `threads` bounds searches, evaluations and encodes (passed down: they split their work
        // into pieces on that many threads) and trainings. OpenBLAS itself stays at one thread
        // outside trainings (each holds its own count: BLAS.hold): an OpenBLAS call with two threads from the
        // worker pool makes every concurrent call wait for its thread server, and its idle thread
        // spins in sched_yield, which left half of the 2 cores idle while vectors were loaded.
        let threads = settings.threads ?? Cores.available
        BLAS.setThreads(1)
        let registry = try await CollectionRegistry.open(store: settings.store, dataDir: settings.dataDir, limits: settings.limits,
                                                         threads: threads, logger: logger)
        // With PostgreSQL, other servers may write to the store: follow them (nothing for SQLite).
        registry.startFollowing()
        let health = HealthService()
        let reflection = try ReflectionService(services: serviceNames)
        let services: [any RegistrableRPCService] = [
            CollectionService(registry: registry),
            TrainingService(registry: registry),
            ItemService(registry: registry),
            SearchService(registry: registry),
            ModelService(registry: registry),
            ServerInfoService(settings: settings, services: serviceNames, startedAt: Date()),
            health,
            reflection,
            ReflectionServiceV1Alpha(reflection),
        ]
        for name in serviceNames { health.setStatus(.serving, for: name) }
        health.setStatus(.serving, for: "")
        let address: GRPCNIOTransportCore.SocketAddress = settings.host.contains(":")
            ? .ipv6(host: settings.host, port: settings.port) : .ipv4(host: settings.host, port: settings.port)
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: address, transportSecurity: tls?.transportSecurity ?? .plaintext,
                config: .defaults {
                    $0.rpc.maxRequestPayloadSize = MessageSizeLimit.transportLimit(for: settings.maxMessageBytes)
                    // The stream limit is advertised and extra streams refused one by one (StreamLimit).
                    $0.http2.maxConcurrentStreams = StreamLimit.stateMachineLimit
                    $0.channelDebuggingCallbacks = StreamLimit.callbacks(
                        advertised: settings.connection.streamLimit(settings.limits))
                    $0.connection = settings.connection.transportConnection
                    // Off: grpc-swift would hold every flush up to 100 µs to batch writes, latency a
                    // caller waiting for its answer pays in full (docs/design.md).
                    $0.connection.flushCoalescing = nil
                }),
            services: services,
            // Tracing (only when on), then metrics, first, so that calls the limiters reject are
            // traced and counted too.
            interceptors: (tracer.map { [TracingInterceptor(tracer: $0)] } ?? []) + [RPCMetricsInterceptor()] + (apiKeys.map { [APIKeyAuth(keys: $0)] } ?? [])
                + [ConcurrencyLimiter(limit: settings.limits.maxConcurrentRPCs), MessageSizeLimit(limit: settings.maxMessageBytes)])
        return Parts(registry: registry, health: health, server: server)
    }

    static func port(of server: GRPCServer<HTTP2ServerTransport.Posix>) async throws -> Int {
        let address = try await server.listeningAddress
        guard let port = address?.ipv4?.port ?? address?.ipv6?.port else {
            throw RPCError(code: .unavailable, message: "the server did not start listening")
        }
        return port
    }

    /// Serves until SIGINT or SIGTERM. `onListening` gets the bound port. With `apiKeys`, every RPC
    /// but health checks needs `authorization: Bearer <key>`.
    public static func run(settings: ServerSettings, apiKeys: APIKeys? = nil, tls: TLSFiles? = nil, logger: Logger,
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        // Tracing off (the default) bootstraps no tracer and installs no interceptor.
        let tracing = try settings.otelEndpoint.flatMap {
            try OTelTracing.bootstrap(endpoint: $0, environment: ProcessInfo.processInfo.environment, logger: logger)
        }
        let parts = try await build(settings, apiKeys: apiKeys, tls: tls, tracer: tracing?.tracer, logger: logger)
        // The span exporter first: a group stops its services in reverse order, so it flushes
        // after the server has finished its last RPCs.
        var lifecycle: [any Service] = tracing.map { [$0.service] } ?? []
        lifecycle.append(GRPCServerService(
            server: parts.server, drainTimeout: .seconds(settings.connection.drainTimeoutSeconds),
            onShutdown: { await parts.beginShutdown() }, afterServe: { parts.finishShutdown() }))
        if let metricsPort = settings.metricsPort {
            let endpoint = try await MetricsEndpoint.bind(host: settings.host, port: metricsPort, registry: MetricsEndpoint.bootstrap())
            logger.info("metrics at /metrics", metadata: ["host": "\(endpoint.host)", "port": "\(endpoint.port)"])
            lifecycle.append(endpoint)
        }
        let group = ServiceGroup(services: lifecycle, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let port = try await port(of: parts.server)
            logger.info("dpq server listening", metadata: ["host": "\(settings.host)", "port": "\(port)", "data_dir": "\(settings.dataDir)",
                                                         "store": "\(parts.registry.directory.location)",
                                                         "executor": EventLoopConcurrency.isInstalled ? "event-loops" : "swift-default"])
            onListening(port)
        }
        logger.info("dpq server stopped")
    }

    /// Starts serving in the background; for tests and embedding. With `tracer`, every RPC gets a
    /// span from it (`settings.otelEndpoint` is not read: the caller runs its tracer's exporter).
    public static func start(settings: ServerSettings, apiKeys: APIKeys? = nil, tls: TLSFiles? = nil,
                             tracer: (any Tracer)? = nil,
                             logger: Logger = Logger(label: "dpq.server")) async throws -> RunningServer {
        let parts = try await build(settings, apiKeys: apiKeys, tls: tls, tracer: tracer, logger: logger)
        let task = Task { try await parts.server.serve() }
        let port = try await port(of: parts.server)
        return RunningServer(port: port, parts: parts, task: task)
    }
}

/// A server started with `DPQServer.start`.
public final class RunningServer: Sendable {
    public let port: Int
    let parts: DPQServer.Parts
    let task: Task<Void, any Error>

    init(port: Int, parts: DPQServer.Parts, task: Task<Void, any Error>) {
        self.port = port
        self.parts = parts
        self.task = task
    }

    /// Graceful stop: trainings cancelled and awaited, then the transport drains, then the
    /// stores close.
    public func stop() async {
        await parts.beginShutdown()
        parts.server.beginGracefulShutdown()
        _ = try? await task.value
        parts.finishShutdown()
    }
}
