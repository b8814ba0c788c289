// Health Check and Watch over a real HTTP/2 loopback connection.
import DPQProto
import DPQServerSupport
import GRPCCore
import Testing

@Suite struct HealthServiceTests {
    typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    @Test func checkKnownAndUnknownServices() async throws {
        let health = HealthService(servingServices: ["dpq.v1.SearchService"])
        try await withLoopbackServer(services: [health]) { client in
            let h = Grpc_Health_V1_Health.Client(wrapping: client)
            let whole = try await h.check(.with { $0.service = "" })
            #expect(whole.status == .serving)
            health.setStatus(.notServing, for: "dpq.v1.SearchService")
            let search = try await h.check(.with { $0.service = "dpq.v1.SearchService" })
            #expect(search.status == .notServing)
            let error = await #expect(throws: RPCError.self) {
                _ = try await h.check(.with { $0.service = "dpq.v1.Nope" })
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func watchSeesChangesAndEndsWhenClientLeaves() async throws {
        let health = HealthService(servingServices: ["dpq.v1.SearchService"])
        try await withLoopbackServer(services: [health]) { client in
            let h = Grpc_Health_V1_Health.Client(wrapping: client)
            let seen = try await h.watch(.with { $0.service = "dpq.v1.SearchService" }) { response in
                var statuses: [Status] = []
                for try await message in response.messages {
                    statuses.append(message.status)
                    if statuses.count == 1 {
                        health.setStatus(.serving, for: "dpq.v1.SearchService")  // no change: not sent
                        health.setStatus(.notServing, for: "dpq.v1.SearchService")
                    }
                    if statuses.count == 2 { break }
                }
                return statuses
            }
            #expect(seen == [.serving, .notServing])
            // Leaving the response handler cancels the RPC; the server must drop the watcher.
            let gone = try await eventually { health.activeWatchers == 0 }
            #expect(gone)
        }
    }

    @Test func watchUnknownServiceThenShutDown() async throws {
        let health = HealthService()
        try await withLoopbackServer(services: [health]) { client in
            let h = Grpc_Health_V1_Health.Client(wrapping: client)
            let seen = try await h.watch(.with { $0.service = "later" }) { response in
                var statuses: [Status] = []
                for try await message in response.messages {
                    statuses.append(message.status)
                    if statuses.count == 1 { health.setStatus(.serving, for: "later") }
                    if statuses.count == 2 { health.shutDown() }
                }
                return statuses  // the stream ends by itself after shutDown
            }
            #expect(seen == [.serviceUnknown, .serving, .notServing])
            #expect(health.status(of: "") == .notServing)
            health.setStatus(.serving, for: "")  // ignored after shutDown
            #expect(health.status(of: "") == .notServing)
        }
    }
}
