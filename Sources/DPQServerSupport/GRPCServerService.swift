// Runs a GRPCServer as a swift-service-lifecycle Service, so SIGTERM/SIGINT (or any other
// service in the group failing) stops it gracefully instead of killing in-flight RPCs.
// grpc-swift-extras, which ships this adapter, is not in the package mirror.
//
// On graceful shutdown the `onShutdown` hook runs first, while the transport still serves: the
// server uses it to stop trainings cleanly and to flip health to NOT_SERVING (which also ends
// Watch streams), so that beginGracefulShutdown() afterwards has only short RPCs left to drain.
import GRPCCore
import ServiceLifecycle

public struct GRPCServerService<Transport: ServerTransport>: Service {
    public let server: GRPCServer<Transport>
    private let onShutdown: @Sendable () async -> Void

    public init(server: GRPCServer<Transport>, onShutdown: @escaping @Sendable () async -> Void = {}) {
        self.server = server
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        let server = self.server
        let onShutdown = self.onShutdown
        // Two children: the server, and a watcher waiting for graceful shutdown. Whichever ends
        // first decides: if the server stops on its own (or fails), the watcher is cancelled and
        // the hook does not run; if shutdown is requested, the hook runs, then the server drains.
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
                return false
            }
            while let serverEnded = try await group.next() {
                if serverEnded { group.cancelAll() }
            }
        }
    }
}
