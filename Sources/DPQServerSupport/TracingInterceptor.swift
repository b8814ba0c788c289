// One server span per RPC, through swift-distributed-tracing, following OpenTelemetry's RPC
// conventions: name "package.Service/Method", kind server, attributes rpc.system = grpc,
// rpc.service, rpc.method and rpc.grpc.status_code. The parent comes from the request metadata
// (W3C `traceparent` / `tracestate` with swift-otel's propagator: whichever keys the tracer's
// propagator reads), so a client's trace continues through the server.
//
// Span status: OpenTelemetry's gRPC conventions mark a *server* span as an error only for the
// codes that mean the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
// UNAVAILABLE, DATA_LOSS); a client's mistake such as INVALID_ARGUMENT or NOT_FOUND leaves it
// unset, so error rates in a tracing backend are the server's own. Every non-OK call still
// carries its code in rpc.grpc.status_code, and a thrown error is recorded as an exception event.
//
// The interceptor takes its tracer as a parameter instead of reading InstrumentationSystem: the
// global can be bootstrapped once per process, and tests pass in-memory tracers. When tracing is
// off the server does not install it at all (no per-call cost).
//
// Put it first (outermost): calls that later interceptors reject (authentication, the
// concurrency limit) get spans too, and the span's context is the task-local ServiceContext for
// everything after it, handlers and response producers included, so nested spans and logs join
// the trace.
import GRPCCore
import Tracing

public struct TracingInterceptor: ServerInterceptor {
    let tracer: any Tracer

    public init(tracer: any Tracer) {
        self.tracer = tracer
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var parent = ServiceContext.current ?? .topLevel
        self.tracer.extract(request.metadata, into: &parent, using: MetadataExtractor())
        let descriptor = context.descriptor
        let span = self.tracer.startSpan(descriptor.fullyQualifiedMethod, context: parent, ofKind: .server)
        span.updateAttributes { attributes in
            attributes["rpc.system"] = "grpc"
            attributes["rpc.service"] = descriptor.service.fullyQualifiedService
            attributes["rpc.method"] = descriptor.method
        }
        let completion = RPCCompletion { code in
            // As in RPCMetricsInterceptor: a handler that returns normally after the client went
            // away delivered no OK to anyone.
            let code = code == .ok && context.cancellation.isCancelled ? .cancelled : code
            span.attributes["rpc.grpc.status_code"] = code.rawValue
            if Self.serverErrorCodes.contains(code) {
                span.setStatus(SpanStatus(code: .error, message: code.metricName))
            }
            span.end()
        }
        let spanContext = span.context
        do {
            let response = try await ServiceContext.$current.withValue(spanContext) {
                try await next(request, context)
            }
            return response.tracing(span: span, spanContext: spanContext, completion: completion)
        } catch {
            span.recordError(error)
            completion.finish(error: error)
            throw error
        }
    }

    /// The status codes for which OpenTelemetry's gRPC conventions mark a server span as an error.
    static let serverErrorCodes: Set<Status.Code> = [.unknown, .deadlineExceeded, .unimplemented, .internalError, .unavailable, .dataLoss]
}

/// Reads trace context from gRPC request metadata for a tracer's propagator.
public struct MetadataExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: Metadata) -> String? {
        // A header sent several times means the comma-joined list (RFC 9110); W3C tracestate may
        // be split that way by proxies.
        let values = Array(carrier[stringValues: key])
        return values.isEmpty ? nil : values.joined(separator: ",")
    }
}

extension StreamingServerResponse {
    /// Runs the response body (which grpc-swift calls after the interceptor returned) inside the
    /// span's context, records a thrown error on the span, and ends the span through
    /// `completion` when the body finishes, fails or is dropped unrun.
    fileprivate func tracing(span: any Span, spanContext: ServiceContext, completion: RPCCompletion) -> Self {
        switch self.accepted {
        case .failure(let error):
            span.recordError(error)
            completion.finish(Status.Code(error.code))
            return self
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                try await ServiceContext.$current.withValue(spanContext) {
                    do {
                        let trailers = try await producer(writer)
                        completion.finish(.ok)
                        return trailers
                    } catch {
                        span.recordError(error)
                        completion.finish(error: error)
                        throw error
                    }
                }
            }
            return StreamingServerResponse(accepted: .success(contents))
        }
    }
}
