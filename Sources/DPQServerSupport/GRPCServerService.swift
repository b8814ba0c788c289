// Runs a GRPCServer as a swift-service-lifecycle Service, so SIGTERM/SIGINT (or any other
// service in the group failing) stops it gracefully instead of killing in-flight RPCs.
// grpc-swift-extras, which ships this adapter, is not in the package mirror.
//
// A graceful shutdown, in order:
// 1. `onShutdown`, while the transport still serves: the server stops trainings cleanly and flips
//    health to NOT_SERVING (which also ends Watch streams), so that only short calls remain.
// 2. beginGracefulShutdown(): the listener closes (new connections are refused), and each
//    connection gets GOAWAY NO_ERROR, first with the largest stream id and, once a PING round trip
//    shows the client has seen it, with the real last stream id; calls already open carry on.
// 3. The calls in flight finish within `drainTimeout`; the transport's grace time (the same
//    value, ConnectionSettings.transportConnection) closes a connection still busy after it, and
//    its calls end UNAVAILABLE. If serving has still not ended a few seconds later, it is cancelled.
// 4. `afterServe`, once nothing can still be running: the server closes its stores.
import GRPCCore
import ServiceLifecycle

public struct GRPCServerService<Transport: ServerTransport>: Service {
    public let server: GRPCServer<Transport>
    private let drainTimeout: Duration
    private let onShutdown: @Sendable () async -> Void
    private let afterServe: @Sendable () -> Void

    public init(server: GRPCServer<Transport>, drainTimeout: Duration = .seconds(30),
                onShutdown: @escaping @Sendable () async -> Void = {}, afterServe: @escaping @Sendable () -> Void = {}) {
        self.server = server
        self.drainTimeout = drainTimeout
        self.onShutdown = onShutdown
        self.afterServe = afterServe
    }

    public func run() async throws {
        let server = self.server
        let onShutdown = self.onShutdown
        let drainTimeout = self.drainTimeout
        defer { afterServe() }
        // Two children: the server, and a watcher waiting for graceful shutdown. Whichever ends
        // first decides: if the server stops on its own (or fails), the watcher is cancelled and
        // the hook does not run; if shutdown is requested, the hook runs, then the server drains,
        // and the watcher cancels it if draining overruns the deadline by more than 5 s.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await server.serve()
                return true
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                } catch {
                    return false  // cancelled: the server ended first, or the group is cancelled
                }
                await onShutdown()
                server.beginGracefulShutdown()
                // Cancellation of this sleep means the server ended in time.
                try? await Task.sleep(for: drainTimeout + .seconds(5))
                return Task.isCancelled ? false : true
            }
            while let ended = try await group.next() {
                if ended { group.cancelAll() }
            }
        }
    }
}
