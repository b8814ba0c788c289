// The otelEndpoint setting through every layer (file, OTEL_EXPORTER_OTLP_ENDPOINT,
// DPQ_OTEL_ENDPOINT, --otel-endpoint), its errors, and the swift-otel configuration built from it.
import DPQServerSupport
import Foundation
import Logging
import OTel
import Testing

@Suite struct TracingSettingsTests {
    func configFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-otel-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func resolve(file: String? = nil, env: [String: String] = [:], flag: String? = nil) throws -> ServerSettings {
        try ServerSettings.resolve(configFile: try file.map(configFile), environment: env, overrides: .init(otelEndpoint: flag))
    }

    func resolveError(file: String? = nil, env: [String: String] = [:], flag: String? = nil) throws -> String {
        do {
            _ = try resolve(file: file, env: env, flag: flag)
        } catch let error as SettingsError {
            return error.message
        }
        Issue.record("expected a SettingsError")
        return ""
    }

    @Test func offByDefault() throws {
        #expect(try resolve().otelEndpoint == nil)
        #expect(try resolve(env: ["OTEL_EXPORTER_OTLP_ENDPOINT": "  ", "DPQ_OTEL_ENDPOINT": ""]).otelEndpoint == nil)
    }

    @Test func eachLayerOverridesTheOneBelow() throws {
        let file = #"{"otelEndpoint": "http://from-file:4318"}"#
        let standard = "http://from-otel-env:4318"
        let dpq = "https://from-dpq-env:4318/"
        #expect(try resolve(file: file).otelEndpoint == "http://from-file:4318")
        #expect(try resolve(file: file, env: ["OTEL_EXPORTER_OTLP_ENDPOINT": standard]).otelEndpoint == standard)
        let both = ["OTEL_EXPORTER_OTLP_ENDPOINT": standard, "DPQ_OTEL_ENDPOINT": dpq]
        #expect(try resolve(file: file, env: both).otelEndpoint == dpq)
        #expect(try resolve(file: file, env: both, flag: " http://[::1]:4317 ").otelEndpoint == "http://[::1]:4317")
    }

    @Test func offWordsTurnOffWhatALowerLayerSet() throws {
        let file = #"{"otelEndpoint": "http://from-file:4318"}"#
        #expect(try resolve(file: file, env: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "DPQ_OTEL_ENDPOINT": "off"]).otelEndpoint == nil)
        #expect(try resolve(file: file, flag: "None").otelEndpoint == nil)
        #expect(try resolve(file: #"{"otelEndpoint": null}"#).otelEndpoint == nil)
        // An encoded ServerSettings is a valid config file, the endpoint included.
        var settings = ServerSettings()
        settings.otelEndpoint = "http://collector:4318"
        let encoded = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(try resolve(file: encoded).otelEndpoint == "http://collector:4318")
    }

    @Test func malformedEndpointsNameTheirSource() throws {
        let flag = try resolveError(flag: "localhost:4318")
        #expect(flag.hasPrefix("--otel-endpoint: the scheme must be http or https, got 'localhost:4318'"), "\(flag)")
        let dpq = try resolveError(env: ["DPQ_OTEL_ENDPOINT": "ftp://c:21"])
        #expect(dpq.hasPrefix("environment variable DPQ_OTEL_ENDPOINT: the scheme must be http or https"), "\(dpq)")
        let standard = try resolveError(env: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://"])
        #expect(standard.hasPrefix("environment variable OTEL_EXPORTER_OTLP_ENDPOINT: no host"), "\(standard)")
        let file = try resolveError(file: #"{"otelEndpoint": "http://c:4318/?x=1"}"#)
        #expect(file.contains("key 'otelEndpoint': no query or fragment allowed"), "\(file)")
        #expect(file.hasPrefix("config file '"), "\(file)")
        let wrongType = try resolveError(file: #"{"otelEndpoint": 4318}"#)
        #expect(wrongType.contains("key 'otelEndpoint': expected a string"), "\(wrongType)")
        for bad in ["http://c:0", "http://c:70000", "http://user:pw@c:4318", "not a url at all", "http://c:4318#frag"] {
            #expect(throws: SettingsError.self, "\(bad)") { try resolve(flag: bad) }
        }
    }

    @Test func onlyTheWinningLayerIsChecked() throws {
        // OTEL_EXPORTER_OTLP_ENDPOINT may be meant for other programs; DPQ's own setting replaces it unread.
        let s = try resolve(env: ["OTEL_EXPORTER_OTLP_ENDPOINT": "garbage", "DPQ_OTEL_ENDPOINT": "http://c:4318"])
        #expect(s.otelEndpoint == "http://c:4318")
        #expect(try resolve(file: #"{"otelEndpoint": "garbage"}"#, flag: "http://c:4318").otelEndpoint == "http://c:4318")
    }

    @Test func exportURLAndProtocolFollowOpenTelemetrysRules() throws {
        #expect(try OTelTracing.exportProtocol(environment: [:]) == .httpProtobuf)
        #expect(try OTelTracing.exportProtocol(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]) == .grpc)
        let both = ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"]
        #expect(try OTelTracing.exportProtocol(environment: both) == .httpJSON)  // the signal's own wins
        let error = #expect(throws: SettingsError.self) {
            try OTelTracing.exportProtocol(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"])
        }
        #expect(error?.message == "environment variable OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, http/json, grpc, got 'thrift'")

        #expect(OTelTracing.tracesURL(endpoint: "http://c:4318", protocol: .httpProtobuf) == "http://c:4318/v1/traces")
        #expect(OTelTracing.tracesURL(endpoint: "http://c:4318/base/", protocol: .httpJSON) == "http://c:4318/base/v1/traces")
        #expect(OTelTracing.tracesURL(endpoint: "http://c:4318/v1/traces", protocol: .httpProtobuf) == "http://c:4318/v1/traces")
        #expect(OTelTracing.tracesURL(endpoint: "http://c:4317", protocol: .grpc) == "http://c:4317")

        let config = try OTelTracing.configuration(
            endpoint: "http://c:4318", environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"], logger: Logger(label: "test"))
        #expect(config.serviceName == "dpq")
        #expect(config.traces.enabled && !config.logs.enabled && !config.metrics.enabled)
        #expect(config.traces.otlpExporter.endpoint == "http://c:4318/v1/traces")
        #expect(config.traces.otlpExporter.protocol == .httpJSON)

        #expect(OTelTracing.isDisabled(environment: ["OTEL_SDK_DISABLED": "TRUE"]))
        #expect(!OTelTracing.isDisabled(environment: ["OTEL_SDK_DISABLED": "false"]))
        #expect(!OTelTracing.isDisabled(environment: [:]))
    }
}
