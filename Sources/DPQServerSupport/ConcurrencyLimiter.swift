// Caps the number of RPCs being handled at once (ServerLimits.maxConcurrentRPCs). A server that
// accepts unbounded work runs out of memory or starves every call; rejecting early with
// RESOURCE_EXHAUSTED tells clients to back off and retry.
//
// Design notes:
// - An RPC holds its slot until its response has been fully produced (see RPCCompletion), not
//   just until the handler returns, because streaming handlers do their work in the producer.
// - grpc.health.v1.Health is exempt: health probes must keep answering when the server is busy,
//   and long-lived Watch streams must not use up the budget.
// - A lock-free counter is enough: a slot is taken with one atomic add and given back at once if
//   that overshot the limit, so the count can read high for an instant while a rejected call
//   backs out, but no more than `limit` RPCs are ever admitted.
import DPQProto
import GRPCCore
import Synchronization

public final class ConcurrencyLimiter: ServerInterceptor {
    public let limit: Int
    private let inFlight: Atomic<Int>
    private let exemptServices: Set<String>

    /// - Parameters:
    ///   - limit: most RPCs in flight at once (at least 1).
    ///   - exemptServices: fully-qualified services never limited nor counted.
    public init(
        limit: Int,
        exemptServices: Set<String> = [Grpc_Health_V1_Health.descriptor.fullyQualifiedService]
    ) {
        precondition(limit >= 1, "ConcurrencyLimiter limit must be at least 1")
        self.limit = limit
        self.inFlight = Atomic(0)
        self.exemptServices = exemptServices
    }

    /// RPCs currently holding a slot.
    public var current: Int { self.inFlight.load(ordering: .relaxed) }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if self.exemptServices.contains(context.descriptor.service.fullyQualifiedService) {
            return try await next(request, context)
        }
        let (_, now) = self.inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing)
        guard now <= self.limit else {
            self.inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            throw RPCError(
                code: .resourceExhausted,
                message: "too many concurrent RPCs: limit \(self.limit) (max_concurrent_rpcs)"
            )
        }
        let slot = RPCCompletion { _ in
            self.inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        }
        do {
            return try await next(request, context).finishing(with: slot)
        } catch {
            slot.finish(error: error)
            throw error
        }
    }
}
