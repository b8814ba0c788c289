// End to end: spans of real RPCs exported by swift-otel over OTLP/HTTP (protobuf) to an
// in-process receiver on loopback, first from an in-process server with a tracer that is not
// bootstrapped globally, then from `dpq serve --otel-endpoint` in a child process, which
// bootstraps it the production way and must flush its spans when SIGTERM stops it.
import DPQClient
import DPQProto
import DPQServer
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Testing
import Tracing

@Suite struct TracingExportTests {
    // A client's W3C trace context: version 00, trace id, parent span id, flags 01 (sampled).
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentSpanID = "00f067aa0ba902b7"
    static let metadata: Metadata = ["traceparent": "00-\(traceID)-\(parentSpanID)-01", "tracestate": "vendor=opaque"]

    func getServerInfo(port: Int, metadata: Metadata) async throws {
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client in
            _ = try await Dpq_V1_ServerInfoService.Client(wrapping: client).getServerInfo(.init(), metadata: metadata)
        }
    }

    func expectServerSpan(_ span: ExportedSpan, method: String, service: String, code: Status.Code) {
        #expect(span.name == "\(service)/\(method)")
        #expect(span.kind == 2)  // SPAN_KIND_SERVER
        #expect(span.attributes["rpc.system"] == .string("grpc"))
        #expect(span.attributes["rpc.service"] == .string(service))
        #expect(span.attributes["rpc.method"] == .string(method))
        #expect(span.attributes["rpc.grpc.status_code"] == .int(Int64(code.rawValue)))
        #expect(span.resource["service.name"] == .string("dpq"))
    }

    @Test func inProcessServerSpansReachTheCollectorWithTheirParents() async throws {
        let receiver = try await OTLPReceiver.start()
        let backend = try OTelTracing.makeBackend(endpoint: "http://127.0.0.1:\(receiver.port)", logger: Logger(label: "otel-test"))
        let exporter = ServiceGroup(services: [backend.service], logger: Logger(label: "otel-test"))
        let dataDir = temporaryPath("dpq-tracing")
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await exporter.run() }
            var settings = ServerSettings()
            settings.port = 0
            settings.dataDir = dataDir
            let server = try await DPQServer.start(settings: settings, tracer: backend.tracer)

            // 1. A raw client's traceparent.
            try await getServerInfo(port: server.port, metadata: Self.metadata)
            // 2. DPQClient inside a span of the caller's: its context travels as traceparent, and
            //    a failing call is traced too.
            let dpq = try DPQClient(host: "127.0.0.1", port: server.port, tracingInstrument: backend.tracer)
            let caller = backend.tracer.startSpan("caller", context: .topLevel, ofKind: .client)
            try await ServiceContext.$current.withValue(caller.context) {
                _ = try await dpq.serverInfo()
                await #expect(throws: DPQError.self) { _ = try await dpq.collection("missing") }
            }
            caller.end()
            // 3. No span around the call: a root server span.
            _ = try await dpq.serverInfo()
            dpq.close()
            await server.stop()
            // The batch processor waits up to 5 s between exports; stopping must flush at once.
            await exporter.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let spans = try receiver.spans
        await receiver.stop()

        let info = spans.filter { $0.name == "dpq.v1.ServerInfoService/GetServerInfo" }
        #expect(info.count == 3, "\(spans.map(\.name))")
        let fromHeader = try #require(info.first { $0.traceID == Self.traceID })
        #expect(fromHeader.parentSpanID == Self.parentSpanID)
        expectServerSpan(fromHeader, method: "GetServerInfo", service: "dpq.v1.ServerInfoService", code: .ok)
        #expect(fromHeader.statusCode == 0 && fromHeader.eventNames.isEmpty)

        let callerSpan = try #require(spans.first { $0.name == "caller" })
        let children = spans.filter { $0.parentSpanID == callerSpan.spanID }
        #expect(children.count == 2)
        #expect(children.allSatisfy { $0.traceID == callerSpan.traceID && $0.spanID != callerSpan.spanID })
        let failed = try #require(children.first { $0.name == "dpq.v1.CollectionService/GetCollection" })
        expectServerSpan(failed, method: "GetCollection", service: "dpq.v1.CollectionService", code: .notFound)
        #expect(failed.statusCode == 0)  // NOT_FOUND is the client's fault: no error status (see TracingInterceptor)
        #expect(failed.eventNames == ["exception"])

        let roots = info.filter { $0.parentSpanID.isEmpty }
        #expect(roots.count == 1)
        #expect(roots.first.map { $0.traceID != Self.traceID && $0.traceID != callerSpan.traceID } == true)
    }

    /// The real flag and the global bootstrap in `dpq serve`: the span reaches the collector with
    /// the client's trace and parent. The batch delay is cut to 200 ms and the test waits for the
    /// span (up to a minute) before stopping the server, so a loaded machine's slow export cannot
    /// fail it; the flush on shutdown is the in-process test above.
    @Test func dpqServeExportsToItsEndpoint() async throws {
        let receiver = try await OTLPReceiver.start()
        let dataDir = temporaryPath("dpq-tracing-child")
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let server = try ChildServer(dataDir: dataDir, extraArgs: ["--otel-endpoint", "http://127.0.0.1:\(receiver.port)"],
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        let port = try #require(server.address.split(separator: ":").last.flatMap { Int($0) })
        try await getServerInfo(port: port, metadata: Self.metadata)
        var spans = try receiver.spans
        let deadline = Date().addingTimeInterval(60)
        while spans.isEmpty && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            spans = try receiver.spans
        }
        server.stop()
        #expect(server.process.terminationStatus == 0)
        spans = try receiver.spans
        await receiver.stop()

        let span = try #require(spans.first { $0.name == "dpq.v1.ServerInfoService/GetServerInfo" }, "\(spans.map(\.name))")
        #expect(spans.count == 1)
        #expect(span.traceID == Self.traceID && span.parentSpanID == Self.parentSpanID)
        expectServerSpan(span, method: "GetServerInfo", service: "dpq.v1.ServerInfoService", code: .ok)
    }
}
