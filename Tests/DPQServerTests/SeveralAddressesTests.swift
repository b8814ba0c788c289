// A client of several servers (issue 14's client half): calls spread round robin over the
// addresses, and when one server stops, idempotent calls keep succeeding on the others (retried
// on UNAVAILABLE, the stopped node out of the rotation). Two independent servers stand in for two
// nodes of one store here, so which one answered is visible: a collection exists on one only.
import DPQClient
import Foundation
import GRPCCore
import Testing

@Suite struct SeveralAddressesTests {
    @Test func callsSpreadAndSurviveAStoppedServer() async throws {
        let a = try await ServerFixture.start()
        let b = try await ServerFixture.start()
        defer { a.removeData(); b.removeData() }
        try await a.client.createCollection("only-on-a", inputDimension: 4)
        let both = try DPQClient(address: "127.0.0.1:\(a.server.port),127.0.0.1:\(b.server.port)", timeout: .seconds(20))
        defer { both.close() }
        // Round robin: GetCollection calls reach b (NOT_FOUND there) and a. Round robin picks among
        // the connections that are ready, and on a loaded machine the second one can take a while
        // to connect (a connection that failed waits out a growing backoff), so the calls go on
        // (each answered by one or the other) until both have answered, for at most 60 s; then 20
        // more calls must alternate between them.
        _ = try await b.client.listCollections()  // both servers answer directly first
        var found = 0, missing = 0
        let clock = ContinuousClock(), until = clock.now + .seconds(60)
        while (found == 0 || missing == 0) && clock.now < until {
            do { _ = try await both.collection("only-on-a"); found += 1 } catch let e as DPQError where e.code == .notFound { missing += 1 }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(found > 0 && missing > 0, "found \(found), not found \(missing): calls did not reach both servers")
        found = 0; missing = 0
        for _ in 0..<20 {
            do { _ = try await both.collection("only-on-a"); found += 1 } catch let e as DPQError where e.code == .notFound { missing += 1 }
        }
        #expect(found >= 5 && missing >= 5, "found \(found), not found \(missing) once both were connected: not round robin")

        // b stops: every call still succeeds (on a).
        await b.stop()
        for _ in 0..<20 { _ = try await both.collection("only-on-a") }
        #expect(try await both.listCollections().map(\.name) == ["only-on-a"])
        await a.stop()
    }

    @Test func badAddressListsAreInvalidArgument() {
        for bad in ["", "127.0.0.1", "127.0.0.1:1,", "127.0.0.1:0", "a:b:c", "127.0.0.1:70000"] {
            #expect(throws: DPQError.self, "\(bad)") { _ = try DPQClient(address: bad) }
        }
    }
}
