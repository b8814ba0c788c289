// The server's ping and idle policy (ConnectionSettings), seen from a raw HTTP/2 client: pings
// at the permitted interval keep a connection without calls open, pings more often than that
// get GOAWAY ENHANCE_YOUR_CALM, and a connection without calls closes after maxIdleSeconds.
// (clients/python's keepalive test shows grpcio with 10 s pings against the default settings.)

import DPQServerSupport
import ChildProcesses
import Foundation
import Testing

@Suite struct KeepaliveTests {
    static func server(_ configure: (inout ConnectionSettings) -> Void) async throws -> ServerFixture {
        var c = ConnectionSettings()
        configure(&c)
        return try await ServerFixture.start(connection: c)
    }

    /// Pings every `interval` seconds for `duration` seconds; returns the GOAWAY received, if any.
    static func ping(port: Int, every interval: Double, for duration: Double) throws -> RawFrame? {
        let h2 = try RawHTTP2Connection(port: port, receiveTimeout: 20)
        _ = try h2.readUntil { $0.type == RawFrame.settings && $0.flags & RawFrame.ack == 0 }
        try h2.sendFrame(type: RawFrame.settings, flags: RawFrame.ack, stream: 0, payload: [])
        let end = Date().addingTimeInterval(duration)
        var n: UInt8 = 0
        while Date() < end {
            n += 1
            try h2.sendFrame(type: RawFrame.ping, flags: 0, stream: 0, payload: [UInt8](repeating: n, count: 8))
            var goAway: RawFrame?
            _ = try h2.readUntil { f in
                if f.type == RawFrame.goAway { goAway = f }
                return f.type == RawFrame.goAway || (f.type == RawFrame.ping && f.flags & RawFrame.ack != 0)
            }
            if let goAway { return goAway }
            Thread.sleep(forTimeInterval: interval)
        }
        return nil
    }

    @Test func permittedPingsKeepAnIdleConnectionOpen() async throws {
        let f = try await Self.server { $0.minPingIntervalSeconds = 1 }
        defer { f.removeData() }
        let port = f.server.port
        let goAway = try await onOwnThread { try Self.ping(port: port, every: 1.1, for: 6) }
        #expect(goAway == nil, "GOAWAY \(goAway.map { "code \($0.errorCode)" } ?? "")")
        await f.stop()
    }

    @Test func tooFrequentPingsAreRefused() async throws {
        let f = try await Self.server { $0.minPingIntervalSeconds = 10 }
        defer { f.removeData() }
        let port = f.server.port
        let goAway = try await onOwnThread { try Self.ping(port: port, every: 0.2, for: 10) }
        #expect(goAway?.errorCode == 0xb, "expected GOAWAY ENHANCE_YOUR_CALM (11), got \(String(describing: goAway))")
        await f.stop()
    }

    @Test func idleConnectionsClose() async throws {
        let f = try await Self.server { $0.maxIdleSeconds = 1 }
        defer { f.removeData() }
        let port = f.server.port
        let (goAway, seconds) = try await onOwnThread { () throws -> (RawFrame, Double) in
            let start = Date()
            let h2 = try RawHTTP2Connection(port: port, receiveTimeout: 20)
            let g = try h2.readUntil { f in
                if f.type == RawFrame.settings && f.flags & RawFrame.ack == 0 {
                    try? h2.sendFrame(type: RawFrame.settings, flags: RawFrame.ack, stream: 0, payload: [])
                }
                return f.type == RawFrame.goAway
            }
            return (g, Date().timeIntervalSince(start))
        }
        #expect(goAway.errorCode == 0 && seconds >= 0.9 && seconds < 15, "GOAWAY code \(goAway.errorCode) after \(seconds) s")
        await f.stop()
    }
}
