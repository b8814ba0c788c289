// RPC metrics through swift-metrics into the Prometheus registry, served by MetricsEndpoint over
// HTTP/1.1, and the endpoint's graceful shutdown through a ServiceGroup.
import ChildProcesses
import DPQProto
import DPQServerSupport
import GRPCCore
import Logging
import ServiceLifecycle
import Testing

@Suite struct MetricsTests {
    @Test func rpcsAreCountedAndServedAtSlashMetrics() async throws {
        let registry = MetricsEndpoint.bootstrap()
        #expect(MetricsEndpoint.bootstrap() === registry)  // a second call is harmless

        let health = HealthService()
        let limiter = ConcurrencyLimiter(limit: 4)
        try await withLoopbackServer(services: [health], interceptors: [RPCMetricsInterceptor(), limiter]) { client in
            let h = Grpc_Health_V1_Health.Client(wrapping: client)
            _ = try await h.check(.init())
            _ = try await h.check(.init())
            await #expect(throws: RPCError.self) { _ = try await h.check(.with { $0.service = "nope" }) }
            // A streaming call: counted when the stream ends (the client leaves after one message).
            let first = try await h.watch(.init()) { response in
                for try await message in response.messages { return message.status }
                return .unknown
            }
            #expect(first == .serving)
        }
        DPQMetrics.setCollectionItems(42, collection: "c1")
        DPQMetrics.setTrainingProgress(0.5, collection: "c1")
        DPQMetrics.setTrainingSamplesPerSecond(1234.5, collection: "c1")
        DPQMetrics.setCollectionItems(7, collection: "gone")
        DPQMetrics.forgetCollection("gone")

        let endpoint = try await MetricsEndpoint.bind(port: 0, registry: registry)
        #expect(endpoint.port > 0)
        let group = ServiceGroup(services: [endpoint], logger: Logger(label: "metrics-test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            let port = endpoint.port
            let (status, headers, body) = try await onOwnThread { try httpGet(port: port, path: "/metrics") }
            #expect(status == 200)
            #expect(headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
            // The metrics registry is process-wide and other suites' servers run in this process
            // too, so each count is at least what this test caused.
            func value(_ series: String) -> Double {
                body.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? -1
            }
            #expect(value(#"dpq_rpc_requests_total{method="grpc.health.v1.Health/Check",code="ok"}"#) >= 2)
            #expect(value(#"dpq_rpc_requests_total{method="grpc.health.v1.Health/Check",code="not_found"}"#) >= 1)
            #expect(value(#"dpq_rpc_duration_seconds_count{method="grpc.health.v1.Health/Check"}"#) >= 3)
            #expect(value(#"dpq_rpc_requests_total{method="grpc.health.v1.Health/Watch",code="cancelled"}"#) >= 1)
            #expect(body.contains(#"dpq_collection_items{collection="c1"} 42"#))
            #expect(body.contains(#"dpq_training_progress_ratio{collection="c1"} 0.5"#))
            #expect(body.contains(#"dpq_training_samples_per_second{collection="c1"} 1234.5"#))
            #expect(!body.contains(#"collection="gone""#))

            let notFound = try await onOwnThread { try httpGet(port: port, path: "/other") }
            #expect(notFound.status == 404)
            let wrongMethod = try await onOwnThread { try httpGet(port: port, path: "/metrics", method: "POST") }
            #expect(wrongMethod.status == 405)

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()  // run() returned: the listener is closed
        }
        await #expect(throws: (any Error).self) {
            _ = try await onOwnThread { try httpGet(port: endpoint.port, path: "/metrics") }
        }
    }
}
