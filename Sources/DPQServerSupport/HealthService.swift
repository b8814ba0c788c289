// grpc.health.v1 Health service backed by a mutable status map, so the server can report readiness
// per service ("" means the whole server) and load balancers / orchestrators can watch it change.
// grpc-swift-extras (which ships a health service) is not in the package mirror, hence this one.
//
// Design notes:
// - State lives behind a Mutex so the class is Sendable without @unchecked: every RPC handler and
//   the server's own code call into it from arbitrary tasks.
// - Watchers are AsyncStreams registered in the same lock; a status change is yielded to them under
//   the lock so no watcher can miss an update between reading the current status and registering.
// - shutDown() is terminal: it marks everything NOT_SERVING, delivers that to every watcher and then
//   finishes their streams. Watch RPCs would otherwise never end and would hold up the gRPC
//   server's graceful shutdown, which waits for all in-flight RPCs. Later setStatus calls are
//   ignored so a late "training finished" cannot flip the server back to SERVING while it stops.
import DPQProto
import GRPCCore
import Synchronization

public final class HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status]
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var isShutDown = false
    }

    private struct Watcher {
        let service: String
        let continuation: AsyncStream<Status>.Continuation
    }

    private let state: Mutex<State>

    /// - Parameter services: service names reported SERVING from the start, in addition to ""
    ///   (the whole server), which is always known.
    public init(servingServices services: [String] = []) {
        var statuses: [String: Status] = ["": .serving]
        for name in services { statuses[name] = .serving }
        self.state = Mutex(State(statuses: statuses))
    }

    /// Sets (or adds) the status of `service`; "" is the whole server. Watchers of that service
    /// are told only if the status actually changed. Ignored after `shutDown()`.
    public func setStatus(_ status: Status, for service: String) {
        self.state.withLock { state in
            guard !state.isShutDown, state.statuses[service] != status else { return }
            state.statuses[service] = status
            for watcher in state.watchers.values where watcher.service == service {
                watcher.continuation.yield(status)
            }
        }
    }

    /// The current status of `service`, or nil when it is unknown.
    public func status(of service: String) -> Status? {
        self.state.withLock { $0.statuses[service] }
    }

    /// Marks every known service NOT_SERVING, delivers that to all watchers, then ends their
    /// streams so Watch RPCs complete and the server can drain.
    public func shutDown() {
        self.state.withLock { state in
            guard !state.isShutDown else { return }
            state.isShutDown = true
            for key in state.statuses.keys { state.statuses[key] = .notServing }
            for watcher in state.watchers.values {
                if state.statuses[watcher.service] != nil { watcher.continuation.yield(.notServing) }
                watcher.continuation.finish()
            }
            state.watchers.removeAll()
        }
    }

    /// Number of Watch streams currently open (for tests and diagnostics).
    public var activeWatchers: Int {
        self.state.withLock { $0.watchers.count }
    }

    // MARK: - RPCs

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest,
        context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = self.status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service)'")
        }
        return .with { $0.status = status }
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        // A slow watcher only needs the latest statuses, so old ones may be dropped.
        let (stream, continuation) = AsyncStream.makeStream(of: Status.self, bufferingPolicy: .bufferingNewest(16))
        let service = request.service
        let id: Int? = self.state.withLock { state in
            // Per the health protocol an unknown service is reported as SERVICE_UNKNOWN and the
            // stream stays open in case it appears later.
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            if state.isShutDown {
                continuation.finish()
                return nil
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = Watcher(service: service, continuation: continuation)
            return id
        }
        defer {
            if let id { _ = self.state.withLock { $0.watchers.removeValue(forKey: id) } }
        }
        // In grpc-swift 2 a client going away does not cancel this task: it is signalled through
        // the RPC cancellation handle, so that is what ends the stream (task cancellation, e.g.
        // the server being torn down, ends AsyncStream iteration by itself).
        try await withRPCCancellationHandler {
            var last: Status?
            for await status in stream {
                guard status != last else { continue }
                last = status
                try await response.write(.with { $0.status = status })
            }
        } onCancelRPC: {
            continuation.finish()
        }
    }
}
