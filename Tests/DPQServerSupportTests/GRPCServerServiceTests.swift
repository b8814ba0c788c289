// GRPCServerService under a ServiceGroup: graceful shutdown runs the hook first (here: health
// shutDown, which an open Watch observes), then drains and stops the server.
import DPQProto
import DPQServerSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle
import Synchronization
import Testing

final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { self.value.store(true, ordering: .releasing) }
    var isSet: Bool { self.value.load(ordering: .acquiring) }
}

@Suite struct GRPCServerServiceTests {
    @Test func gracefulShutdownRunsHookThenStops() async throws {
        let health = HealthService()
        let hookRan = Flag()
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [health]
        )
        let service = GRPCServerService(server: server) {
            hookRan.set()
            health.shutDown()
        }
        let group = ServiceGroup(services: [service], logger: Logger(label: "lifecycle-test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            guard let port = try await server.listeningAddress?.ipv4?.port else {
                throw TestFailure("no port")
            }
            let seen = try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                try await Grpc_Health_V1_Health.Client(wrapping: client).watch(.init()) { response in
                    var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                    for try await message in response.messages {
                        statuses.append(message.status)
                        if statuses.count == 1 { await group.triggerGracefulShutdown() }
                    }
                    return statuses
                }
            }
            #expect(seen == [.serving, .notServing])
            try await tasks.waitForAll()  // the group (and the server) finished
        }
        #expect(hookRan.isSet)
    }
}
