// The `connection` settings: defaults, the three layers, and errors naming their source.
import DPQServerSupport
import Foundation
import Testing

@Suite struct ConnectionSettingsTests {
    func resolve(file: String? = nil, env: [String: String] = [:],
                 overrides: ServerSettings.Overrides = .init()) throws -> ServerSettings {
        let path = try file.map { json -> String in
            let p = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-conn-\(UUID().uuidString).json").path
            try Data(json.utf8).write(to: URL(fileURLWithPath: p))
            return p
        }
        return try ServerSettings.resolve(configFile: path, environment: env, overrides: overrides)
    }

    func error(file: String? = nil, env: [String: String] = [:], overrides: ServerSettings.Overrides = .init()) -> String {
        do {
            _ = try resolve(file: file, env: env, overrides: overrides)
        } catch let e as SettingsError {
            return e.message
        } catch {
            return "\(error)"
        }
        return "no error"
    }

    @Test func defaults() throws {
        let c = try resolve().connection
        #expect(c.maxConcurrentStreams == nil && c.keepaliveTimeSeconds == 7_200 && c.keepaliveTimeoutSeconds == 20)
        #expect(c.minPingIntervalSeconds == 10 && c.permitPingsWithoutCalls && c.maxIdleSeconds == 1_800)
        #expect(c.drainTimeoutSeconds == 30)
        var limits = ServerLimits()
        #expect(c.streamLimit(limits) == 256)
        limits.maxConcurrentRPCs = 4_000_000_000
        #expect(c.streamLimit(limits) == StreamLimit.stateMachineLimit - 1)
        let t = c.transportConnection
        #expect(t.maxIdleTime == .seconds(1_800) && t.maxGraceTime == .seconds(30))
        #expect(t.keepalive.clientBehavior.allowWithoutCalls && t.keepalive.clientBehavior.minPingIntervalWithoutCalls == .seconds(10))
    }

    @Test func layers() throws {
        let file = #"{"connection": {"maxConcurrentStreams": 50, "maxIdleSeconds": 0, "permitPingsWithoutCalls": false, "drainTimeoutSeconds": 5}}"#
        var c = try resolve(file: file).connection
        #expect(c.maxConcurrentStreams == 50 && c.maxIdleSeconds == 0 && !c.permitPingsWithoutCalls && c.drainTimeoutSeconds == 5)
        #expect(c.transportConnection.maxIdleTime == nil)
        c = try resolve(file: file, env: ["DPQ_MAX_CONCURRENT_STREAMS": "70", "DPQ_PERMIT_PINGS_WITHOUT_CALLS": "yes"]).connection
        #expect(c.maxConcurrentStreams == 70 && c.permitPingsWithoutCalls && c.maxIdleSeconds == 0)
        var o = ServerSettings.Overrides()
        o.connection.maxConcurrentStreams = 90
        o.connection.drainTimeoutSeconds = 1
        c = try resolve(file: file, env: ["DPQ_MAX_CONCURRENT_STREAMS": "70"], overrides: o).connection
        #expect(c.maxConcurrentStreams == 90 && c.drainTimeoutSeconds == 1)
    }

    @Test func errorsNameTheSource() {
        #expect(error(file: #"{"connection": {"maxConcurrentStreams": 0}}"#).contains("key 'connection.maxConcurrentStreams'"))
        #expect(error(file: #"{"connection": {"keepaliveTime": 5}}"#).contains("unknown key 'connection.keepaliveTime'"))
        #expect(error(file: #"{"connection": {"permitPingsWithoutCalls": "maybe"}}"#).contains("expected true or false"))
        #expect(error(env: ["DPQ_DRAIN_TIMEOUT": "soon"]) == "environment variable DPQ_DRAIN_TIMEOUT: expected an integer, got 'soon'")
        #expect(error(env: ["DPQ_KEEPALIVE_TIMEOUT": "0"]).hasPrefix("environment variable DPQ_KEEPALIVE_TIMEOUT: must be in 1...3600"))
        var o = ServerSettings.Overrides()
        o.connection.maxConcurrentStreams = -1
        #expect(error(overrides: o).hasPrefix("--max-concurrent-streams: must be in 1..."))
    }
}
