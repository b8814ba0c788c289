// Carries the caller's trace into the server: each call's metadata gets the task-local
// ServiceContext's trace context (W3C `traceparent` / `tracestate` with swift-otel), so the
// server's span for the RPC becomes a child of whatever span the caller is in.
//
// Cheap when unused: with no ServiceContext in the task the call goes straight on, and without a
// bootstrapped tracer InstrumentationSystem's instrument is a no-op that writes nothing. The
// client creates no span of its own; the caller's span is the client side of the call.
import GRPCCore
import Tracing

struct TraceContextPropagation: ClientInterceptor {
    /// nil: the process-wide InstrumentationSystem.instrument, read at each call (it may be
    /// bootstrapped after the client was made).
    let instrument: (any Instrument)?

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>, context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        guard let serviceContext = ServiceContext.current else { return try await next(request, context) }
        var request = request
        (self.instrument ?? InstrumentationSystem.instrument).inject(serviceContext, into: &request.metadata, using: MetadataInjector())
        return try await next(request, context)
    }
}

/// Writes trace context into gRPC metadata for a tracer's propagator.
struct MetadataInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
        // Replace: a retried or re-sent request must not carry two parents.
        carrier.replaceOrAddString(value, forKey: key)
    }
}
