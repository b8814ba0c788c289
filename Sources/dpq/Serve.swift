// dpq serve: runs the server until SIGINT/SIGTERM.
import ArgumentParser
import DPQServer
import DPQServerSupport
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the DPQ server.")

    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port (default 50051; 0 = any free port, printed at start).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Data directory (default ./dpq-data).") var dataDir: String?
    @Option(help: "Keep collections in PostgreSQL instead of the data directory: postgres://user@host:port/database (or $DPQ_STORE; password in the URL or $PGPASSWORD).")
    var store: String?
    @Option(name: .customLong("max-message-bytes"), help: "Largest message (default 64 MiB).") var maxMessageBytes: Int?
    @Option(name: .customLong("metrics-port"), help: "Serve Prometheus metrics on this port (0 = any free port).") var metricsPort: Int?
    @Option(help: "JSON settings file.") var config: String?
    @Option(name: .customLong("log-format"), help: "text or json.") var logFormat: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(help: "Threads for search and training (default: all cores).") var threads: Int?
    @Option(name: .customLong("otel-endpoint"), help: "Export a span per RPC over OTLP to this URL, e.g. http://localhost:4318 (or $OTEL_EXPORTER_OTLP_ENDPOINT; 'off' = no tracing, the default).")
    var otelEndpoint: String?
    @Option(name: .customLong("api-keys-file"), help: "Require API keys listed in this file: '<key> [read|write]' per line (or $DPQ_API_KEYS_FILE).")
    var apiKeysFile: String?
    @Option(name: .customLong("tls-cert"), help: "Serve TLS with this PEM certificate chain (with --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Option(name: .customLong("max-concurrent-streams"), help: "Streams per HTTP/2 connection, advertised to clients (default: limits.maxConcurrentRPCs, 256).")
    var maxConcurrentStreams: Int?
    @Option(name: .customLong("keepalive-time"), help: "Seconds without reads before the server pings a connection (default 7200).")
    var keepaliveTime: Int?
    @Option(name: .customLong("keepalive-timeout"), help: "Seconds to wait for the answer to that ping before closing (default 20).")
    var keepaliveTimeout: Int?
    @Option(name: .customLong("min-ping-interval"), help: "Shortest interval at which clients may ping (default 10 s).")
    var minPingInterval: Int?
    @Option(name: .customLong("permit-pings-without-calls"), help: "Allow client pings when no call is open: true or false (default true).")
    var permitPingsWithoutCalls: String?
    @Option(name: .customLong("max-idle"), help: "Close connections without calls after this many seconds (default 1800; 0 = never).")
    var maxIdle: Int?
    @Option(name: .customLong("drain-timeout"), help: "On SIGTERM/SIGINT, seconds the calls in flight get to finish (default 30).")
    var drainTimeout: Int?
    @Option(name: .customLong("tls-client-ca"), help: "Require client certificates signed by this PEM CA (mutual TLS).") var tlsClientCA: String?

    func run() async throws {
        let settings: ServerSettings
        do {
            var o = ServerSettings.Overrides()
            o.host = host; o.port = port; o.dataDir = dataDir; o.store = store; o.maxMessageBytes = maxMessageBytes
            o.metricsPort = metricsPort; o.threads = threads; o.otelEndpoint = otelEndpoint
            o.connection.maxConcurrentStreams = maxConcurrentStreams
            o.connection.keepaliveTimeSeconds = keepaliveTime
            o.connection.keepaliveTimeoutSeconds = keepaliveTimeout
            o.connection.minPingIntervalSeconds = minPingInterval
            o.connection.maxIdleSeconds = maxIdle
            o.connection.drainTimeoutSeconds = drainTimeout
            if let permitPingsWithoutCalls {
                guard let b = parseBool(permitPingsWithoutCalls) else {
                    throw ValidationError("--permit-pings-without-calls must be true or false, got '\(permitPingsWithoutCalls)'")
                }
                o.connection.permitPingsWithoutCalls = b
            }
            if let logFormat {
                guard let f = LogFormat(rawValue: logFormat) else { throw ValidationError("--log-format must be text or json, got '\(logFormat)'") }
                o.logFormat = f
            }
            if let logLevel {
                guard let l = Logger.Level(rawValue: logLevel) else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(logLevel)'") }
                o.logLevel = l
            }
            settings = try ServerSettings.resolve(configFile: config, environment: ProcessInfo.processInfo.environment, overrides: o)
        } catch {
            fail(error)
        }
        var apiKeys: APIKeys?
        if let path = apiKeysFile ?? ProcessInfo.processInfo.environment["DPQ_API_KEYS_FILE"] {
            do {
                apiKeys = try APIKeys(parsing: String(contentsOfFile: path, encoding: .utf8))
            } catch {
                fail(error)
            }
        }
        var tls: TLSFiles?
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?): tls = TLSFiles(certificateChain: cert, privateKey: key, clientCA: tlsClientCA)
        case (nil, nil): if tlsClientCA != nil { fail(ValidationError("--tls-client-ca needs --tls-cert and --tls-key")) }
        default: fail(ValidationError("--tls-cert and --tls-key go together"))
        }
        bootstrapLogging(format: settings.logFormat, level: settings.logLevel)
        let logger = Logger(label: "dpq.server")
        do {
            try await DPQServer.run(settings: settings, apiKeys: apiKeys, tls: tls, logger: logger) { port in
                // Scripts and tests read this line to learn the port (stdout is flushed at once).
                FileHandle.standardOutput.write(Data("listening on \(settings.host):\(port)\n".utf8))
            }
        } catch {
            fail(error)
        }
    }
}
