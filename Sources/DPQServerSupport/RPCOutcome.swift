// Shared plumbing for the server interceptors: how an RPC's end is observed and how an error maps
// to a gRPC status code name.
//
// Why a class with a deinit: in grpc-swift 2 an interceptor sees the RPC as `next(...)` returning a
// response whose body (the `producer` closure) runs later. Success, failure and the duration are
// only known when that producer finishes, and the executor may drop the response without ever
// running the producer (e.g. the client went away). Capturing an `RPCCompletion` in the wrapped
// producer makes "finished" fire exactly once in every case: explicitly when the producer or
// `next` ends, otherwise when the last reference goes away.
import GRPCCore
import Synchronization

final class RPCCompletion: Sendable {
    private let done: Atomic<Bool>
    private let onFinish: @Sendable (Status.Code) -> Void

    init(onFinish: @escaping @Sendable (Status.Code) -> Void) {
        self.done = Atomic(false)
        self.onFinish = onFinish
    }

    func finish(_ code: Status.Code) {
        guard !self.done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.onFinish(code)
    }

    func finish(error: any Error) {
        self.finish(statusCode(of: error))
    }

    deinit {
        // Dropped without running: the RPC ended without a status from the handler.
        if !self.done.load(ordering: .acquiring) { self.onFinish(.cancelled) }
    }
}

extension StreamingServerResponse {
    /// Calls `completion` when the response has been fully produced (or failed), keeping the
    /// completion alive for as long as the response may still run.
    func finishing(with completion: RPCCompletion) -> Self {
        switch self.accepted {
        case .failure(let error):
            completion.finish(Status.Code(error.code))
            return self
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    let trailers = try await producer(writer)
                    completion.finish(.ok)
                    return trailers
                } catch {
                    completion.finish(error: error)
                    throw error
                }
            }
            return StreamingServerResponse(accepted: .success(contents))
        }
    }
}

/// The gRPC status code an error thrown by a handler turns into on the wire.
func statusCode(of error: any Error) -> Status.Code {
    if let error = error as? RPCError { return Status.Code(error.code) }
    if let error = error as? any RPCErrorConvertible { return Status.Code(error.rpcErrorCode) }
    if error is CancellationError { return .cancelled }
    return .unknown
}

extension Status.Code {
    /// The snake_case status name used as a metric label ("ok", "invalid_argument", ...).
    public var metricName: String {
        switch self {
        case .ok: "ok"
        case .cancelled: "cancelled"
        case .unknown: "unknown"
        case .invalidArgument: "invalid_argument"
        case .deadlineExceeded: "deadline_exceeded"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .permissionDenied: "permission_denied"
        case .resourceExhausted: "resource_exhausted"
        case .failedPrecondition: "failed_precondition"
        case .aborted: "aborted"
        case .outOfRange: "out_of_range"
        case .unimplemented: "unimplemented"
        case .internalError: "internal"
        case .unavailable: "unavailable"
        case .dataLoss: "data_loss"
        case .unauthenticated: "unauthenticated"
        default: "code_\(self.rawValue)"
        }
    }
}
