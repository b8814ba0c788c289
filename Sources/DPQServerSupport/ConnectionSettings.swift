// How the server treats HTTP/2 connections: the concurrent-stream limit it advertises, its
// keepalive and ping policy, idle connections, and how long a graceful shutdown waits for the
// calls in flight. The `connection` object of the settings file; each key also has a DPQ_*
// environment variable and a `dpq serve` flag (docs/operations.md, "Connections").
//
// Defaults follow what gRPC clients expect of a gRPC server:
// - streams: as many as the server runs RPCs at once (limits.maxConcurrentRPCs), so a client on
//   one connection queues beyond that instead of being refused;
// - pings: grpcio and grpc-go clients are commonly set to ping every 10-30 s, with or without
//   calls; the server permits that (a client pinging more often than minPingIntervalSeconds is
//   told ENHANCE_YOUR_CALM and disconnected, as gRPC servers do);
// - the server's own keepalive ping after 2 hours without reads, dropping the connection after 20 s
//   without an answer (gRPC's defaults), and a connection without calls for 30 minutes is closed
//   (GOAWAY NO_ERROR; clients reconnect on their next call).
import Foundation
import GRPCNIOTransportCore

public struct ConnectionSettings: Codable, Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS per connection; nil: limits.maxConcurrentRPCs.
    public var maxConcurrentStreams: Int?
    public var keepaliveTimeSeconds = 7_200
    public var keepaliveTimeoutSeconds = 20
    public var minPingIntervalSeconds = 10
    public var permitPingsWithoutCalls = true
    /// 0: idle connections stay open.
    public var maxIdleSeconds = 1_800
    /// How long SIGTERM / SIGINT waits for the calls in flight before ending them.
    public var drainTimeoutSeconds = 30

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxConcurrentStreams, keepaliveTimeSeconds, keepaliveTimeoutSeconds, minPingIntervalSeconds
        case permitPingsWithoutCalls, maxIdleSeconds, drainTimeoutSeconds
    }

    /// Environment variable and flag per key.
    public static let sources: [String: (env: String, flag: String)] = [
        "maxConcurrentStreams": ("DPQ_MAX_CONCURRENT_STREAMS", "--max-concurrent-streams"),
        "keepaliveTimeSeconds": ("DPQ_KEEPALIVE_TIME", "--keepalive-time"),
        "keepaliveTimeoutSeconds": ("DPQ_KEEPALIVE_TIMEOUT", "--keepalive-timeout"),
        "minPingIntervalSeconds": ("DPQ_MIN_PING_INTERVAL", "--min-ping-interval"),
        "permitPingsWithoutCalls": ("DPQ_PERMIT_PINGS_WITHOUT_CALLS", "--permit-pings-without-calls"),
        "maxIdleSeconds": ("DPQ_MAX_IDLE", "--max-idle"),
        "drainTimeoutSeconds": ("DPQ_DRAIN_TIMEOUT", "--drain-timeout"),
    ]

    private static var intFields: [(String, WritableKeyPath<ConnectionSettings, Int>, ClosedRange<Int>)] {
        [
            ("keepaliveTimeSeconds", \.keepaliveTimeSeconds, 1...(365 * 86_400)),
            ("keepaliveTimeoutSeconds", \.keepaliveTimeoutSeconds, 1...3_600),
            ("minPingIntervalSeconds", \.minPingIntervalSeconds, 0...86_400),
            ("maxIdleSeconds", \.maxIdleSeconds, 0...(365 * 86_400)),
            ("drainTimeoutSeconds", \.drainTimeoutSeconds, 0...86_400),
        ]
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try settingsContainer(decoder, known: CodingKeys.allCases.map(\.rawValue))
        if c.contains(AnyKey("maxConcurrentStreams")) {
            self.maxConcurrentStreams = try c.settingsValue("maxConcurrentStreams", Int.self, decoder: decoder, allowNull: true)
        }
        for (key, path, _) in Self.intFields {
            if let v = try c.settingsValue(key, Int.self, decoder: decoder) { self[keyPath: path] = v }
        }
        if let v = try c.settingsValue("permitPingsWithoutCalls", Bool.self, decoder: decoder) { self.permitPingsWithoutCalls = v }
    }

    public func validate(describe: (String) -> String) throws {
        if let n = self.maxConcurrentStreams {
            try checkRange(n, 1...(StreamLimit.stateMachineLimit - 1), describe("connection.maxConcurrentStreams"))
        }
        for (key, path, range) in Self.intFields {
            try checkRange(self[keyPath: path], range, describe("connection." + key))
        }
    }

    /// Applies the DPQ_* variables that are set; `sources` records where each value came from.
    mutating func applyEnvironment(_ environment: [String: String], sources: inout [String: String]) throws {
        for (key, names) in Self.sources {
            guard let raw = environment[names.env]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { continue }
            sources["connection." + key] = "environment variable \(names.env)"
            if key == "permitPingsWithoutCalls" {
                guard let b = parseBool(raw) else {
                    throw SettingsError("environment variable \(names.env): expected true or false, got '\(raw)'")
                }
                self.permitPingsWithoutCalls = b
                continue
            }
            guard let n = Int(raw) else {
                throw SettingsError("environment variable \(names.env): expected an integer, got '\(raw)'")
            }
            if key == "maxConcurrentStreams" {
                self.maxConcurrentStreams = n
            } else if let path = Self.intFields.first(where: { $0.0 == key })?.1 {
                self[keyPath: path] = n
            }
        }
    }

    /// Flag values given on the command line; nil: not given.
    public struct Overrides: Sendable, Equatable {
        public var maxConcurrentStreams: Int?
        public var keepaliveTimeSeconds: Int?
        public var keepaliveTimeoutSeconds: Int?
        public var minPingIntervalSeconds: Int?
        public var permitPingsWithoutCalls: Bool?
        public var maxIdleSeconds: Int?
        public var drainTimeoutSeconds: Int?
        public init() {}
    }

    mutating func apply(_ o: Overrides, sources: inout [String: String]) {
        func set<T>(_ value: T?, _ key: String, _ path: WritableKeyPath<ConnectionSettings, T>) {
            guard let value else { return }
            self[keyPath: path] = value
            sources["connection." + key] = Self.sources[key]!.flag
        }
        if let n = o.maxConcurrentStreams {
            self.maxConcurrentStreams = n
            sources["connection.maxConcurrentStreams"] = Self.sources["maxConcurrentStreams"]!.flag
        }
        set(o.keepaliveTimeSeconds, "keepaliveTimeSeconds", \.keepaliveTimeSeconds)
        set(o.keepaliveTimeoutSeconds, "keepaliveTimeoutSeconds", \.keepaliveTimeoutSeconds)
        set(o.minPingIntervalSeconds, "minPingIntervalSeconds", \.minPingIntervalSeconds)
        set(o.permitPingsWithoutCalls, "permitPingsWithoutCalls", \.permitPingsWithoutCalls)
        set(o.maxIdleSeconds, "maxIdleSeconds", \.maxIdleSeconds)
        set(o.drainTimeoutSeconds, "drainTimeoutSeconds", \.drainTimeoutSeconds)
    }

    /// The stream limit in effect.
    public func streamLimit(_ limits: ServerLimits) -> Int {
        min(self.maxConcurrentStreams ?? limits.maxConcurrentRPCs, StreamLimit.stateMachineLimit - 1)
    }

    /// grpc-swift's connection management for these settings. The grace time after the final
    /// GOAWAY (of a shutdown or an idle close) is the drain timeout: calls still running then end
    /// UNAVAILABLE when the connection closes.
    public var transportConnection: HTTP2ServerTransport.Config.Connection {
        var c = HTTP2ServerTransport.Config.Connection.defaults
        c.maxGraceTime = .seconds(self.drainTimeoutSeconds)
        c.maxIdleTime = self.maxIdleSeconds == 0 ? nil : .seconds(self.maxIdleSeconds)
        c.keepalive = .init(
            time: .seconds(self.keepaliveTimeSeconds), timeout: .seconds(self.keepaliveTimeoutSeconds),
            clientBehavior: .init(minPingIntervalWithoutCalls: .seconds(self.minPingIntervalSeconds),
                                  allowWithoutCalls: self.permitPingsWithoutCalls))
        return c
    }
}

/// true/false, also yes/no, on/off and 1/0, case-insensitive.
public func parseBool(_ raw: String) -> Bool? {
    switch raw.lowercased() {
    case "true", "yes", "on", "1": true
    case "false", "no", "off", "0": false
    default: nil
    }
}
