// TracingInterceptor over real loopback HTTP/2 calls, with swift-distributed-tracing's
// InMemoryTracer handed to the interceptor (the global InstrumentationSystem is left alone: it
// can be bootstrapped once per process). The tracer's own propagation keys stand in for W3C
// headers here; the OTel tracer with real `traceparent` headers is tested end to end in
// DPQServerTests/TracingExportTests.
import DPQProto
import DPQServerSupport
import GRPCCore
import InMemoryTracing
import Synchronization
import Testing
import Tracing

@Suite struct TracingInterceptorTests {
    func attribute(_ span: FinishedInMemorySpan, _ name: String) -> SpanAttribute? { span.attributes.get(name) }

    @Test func oneServerSpanPerRPCWithTheRPCAttributes() async throws {
        let tracer = InMemoryTracer()
        try await withLoopbackServer(services: [HealthService()], interceptors: [TracingInterceptor(tracer: tracer)]) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            _ = try await health.check(.init())
            _ = try await health.check(.init())
        }
        let spans = tracer.finishedSpans
        #expect(spans.count == 2)
        #expect(tracer.activeSpans.isEmpty)
        for span in spans {
            #expect(span.operationName == "grpc.health.v1.Health/Check")
            #expect(span.kind == .server)
            #expect(attribute(span, "rpc.system") == .string("grpc"))
            #expect(attribute(span, "rpc.service") == .string("grpc.health.v1.Health"))
            #expect(attribute(span, "rpc.method") == .string("Check"))
            #expect(attribute(span, "rpc.grpc.status_code") == .int64(0))
            #expect(span.status == nil)
            #expect(span.errors.isEmpty)
            #expect(span.parentSpanID == nil)  // no trace context sent: a new trace
        }
        #expect(spans[0].traceID != spans[1].traceID)
    }

    @Test func theCallersTraceContextBecomesTheParent() async throws {
        let tracer = InMemoryTracer()
        let metadata: Metadata = [InMemoryTracer.traceIDKey: "trace-from-client", InMemoryTracer.spanIDKey: "span-from-client"]
        try await withLoopbackServer(services: [HealthService()], interceptors: [TracingInterceptor(tracer: tracer)]) { client in
            _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init(), metadata: metadata)
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.traceID == "trace-from-client")
        #expect(span.parentSpanID == "span-from-client")
        #expect(span.spanID != "span-from-client")
    }

    @Test func aClientMistakeKeepsItsCodeButNotAnErrorStatus() async throws {
        let tracer = InMemoryTracer()
        _ = try await withLoopbackServer(services: [HealthService()], interceptors: [TracingInterceptor(tracer: tracer)]) { client in
            await #expect(throws: RPCError.self) {
                _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.with { $0.service = "no.such.Service" })
            }
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(attribute(span, "rpc.grpc.status_code") == .int64(Int64(Status.Code.notFound.rawValue)))
        #expect(span.status == nil)  // OpenTelemetry's gRPC server convention: the client's fault
        #expect(span.errors.count == 1)  // but the error is on record
    }

    @Test(arguments: [Failing.Where.beforeResponse, .rejectedResponse, .inResponseBody])
    func aServerFailureMarksTheSpanAsAnError(where place: Failing.Where) async throws {
        let tracer = InMemoryTracer()
        let interceptors: [any ServerInterceptor] = [TracingInterceptor(tracer: tracer), Failing(code: .unavailable, where: place)]
        try await withLoopbackServer(services: [HealthService()], interceptors: interceptors) { client in
            let error = await #expect(throws: RPCError.self) { _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init()) }
            #expect(error?.code == .unavailable)
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(attribute(span, "rpc.grpc.status_code") == .int64(Int64(Status.Code.unavailable.rawValue)))
        #expect(span.status?.code == .error)
        #expect(span.errors.count == 1)
    }

    @Test func aStreamTheClientLeavesEndsAsCancelled() async throws {
        let tracer = InMemoryTracer()
        try await withLoopbackServer(services: [HealthService()], interceptors: [TracingInterceptor(tracer: tracer)]) { client in
            let first = try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                for try await message in response.messages { return message.status }
                return .unknown
            }
            #expect(first == .serving)
        }
        // The server notices the client's reset asynchronously.
        #expect(try await eventually { tracer.finishedSpans.count == 1 })
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.operationName == "grpc.health.v1.Health/Watch")
        #expect(attribute(span, "rpc.grpc.status_code") == .int64(Int64(Status.Code.cancelled.rawValue)))
        #expect(span.status == nil)
    }

    @Test func theSpanIsTheCurrentContextForTheHandlerAndTheResponseBody() async throws {
        let tracer = InMemoryTracer()
        let probe = ContextProbe()
        try await withLoopbackServer(services: [HealthService()], interceptors: [TracingInterceptor(tracer: tracer), probe]) { client in
            _ = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init())
        }
        let span = try #require(tracer.finishedSpans.first)
        let seen = probe.seen.withLock { $0 }
        #expect(seen.beforeHandler?.spanID == span.spanID)
        #expect(seen.inBody?.spanID == span.spanID)
    }
}

/// Fails every RPC with `code`: before the handler runs, as a rejected response, or from inside
/// the response body (the three ways an RPC can fail behind an interceptor).
struct Failing: ServerInterceptor {
    enum Where: Sendable, CaseIterable { case beforeResponse, rejectedResponse, inResponseBody }
    let code: RPCError.Code
    let `where`: Where

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let error = RPCError(code: self.code, message: "failing on purpose")
        switch self.where {
        case .beforeResponse: throw error
        case .rejectedResponse: return StreamingServerResponse(error: error)
        case .inResponseBody: return StreamingServerResponse { _ in throw error }
        }
    }
}

/// Records the task-local span context seen before the handler and inside the response body.
final class ContextProbe: ServerInterceptor {
    struct Seen: Sendable { var beforeHandler: InMemorySpanContext?; var inBody: InMemorySpanContext? }
    let seen = Mutex(Seen())

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let before = ServiceContext.current?.inMemorySpanContext
        self.seen.withLock { $0.beforeHandler = before }
        var response = try await next(request, context)
        guard case .success(var contents) = response.accepted else { return response }
        let producer = contents.producer
        contents.producer = { writer in
            let inBody = ServiceContext.current?.inMemorySpanContext
            self.seen.withLock { $0.inBody = inBody }
            return try await producer(writer)
        }
        response.accepted = .success(contents)
        return response
    }
}
