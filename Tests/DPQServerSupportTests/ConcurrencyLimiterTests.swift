// The concurrency limiter over HTTP/2: N slow calls in flight, the next is RESOURCE_EXHAUSTED,
// health is exempt, and slots come back when calls finish.
import DPQProto
import DPQServerSupport
import GRPCCore
import Testing

/// A ServerInfo service whose calls wait at a gate.
struct SlowServerInfo: Dpq_V1_ServerInfoService.SimpleServiceProtocol {
    let gate: Gate
    func getServerInfo(request: Dpq_V1_GetServerInfoRequest, context: ServerContext) async throws
        -> Dpq_V1_GetServerInfoResponse
    {
        await self.gate.pass()
        return .with { $0.version = "slow" }
    }
}

@Suite struct ConcurrencyLimiterTests {
    @Test func rejectsBeyondLimitAndExemptsHealth() async throws {
        let gate = Gate()
        let limiter = ConcurrencyLimiter(limit: 2)
        let health = HealthService()
        try await withLoopbackServer(
            services: [SlowServerInfo(gate: gate), health], interceptors: [limiter]
        ) { client in
            let info = Dpq_V1_ServerInfoService.Client(wrapping: client)
            try await withThrowingTaskGroup(of: String.self) { group in
                // Whatever fails below, the held calls must finish, or the group (and the
                // server's shutdown) would wait for them forever.
                defer { gate.open() }
                for _ in 0..<2 {
                    group.addTask { try await info.getServerInfo(.init()).version }
                }
                let arrived = try await eventually { gate.arrived == 2 }
                try #require(arrived)
                #expect(limiter.current == 2)

                let error = await #expect(throws: RPCError.self) { _ = try await info.getServerInfo(.init()) }
                #expect(error?.code == .resourceExhausted)
                #expect(error?.message == "too many concurrent RPCs: limit 2 (max_concurrent_rpcs)")

                // Health probes still answer while the budget is used up.
                let status = try await Grpc_Health_V1_Health.Client(wrapping: client).check(.init()).status
                #expect(status == .serving)

                gate.open()
                var versions: [String] = []
                for try await v in group { versions.append(v) }
                #expect(versions == ["slow", "slow"])
            }
            let released = try await eventually { limiter.current == 0 }
            #expect(released)
            let again = try await info.getServerInfo(.init())
            #expect(again.version == "slow")
        }
    }
}
