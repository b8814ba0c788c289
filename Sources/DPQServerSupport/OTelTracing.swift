// Span export through swift-otel when `otelEndpoint` is set: a tracer (W3C trace-context
// propagation, batch span processor, OTLP exporter) and the swift-service-lifecycle Service that
// runs the processor and exporter. The server runs that service in its ServiceGroup *before* the
// gRPC server, so on shutdown it stops after the server: the spans of the last RPCs are flushed
// before the process exits.
//
// Only traces: swift-otel's logs and metrics backends stay off (DPQ has its own logging and the
// Prometheus endpoint). The service name is "dpq", which OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override as usual; the other OTEL_* variables (sampler, batch
// processor, headers, timeout, compression, certificates) are swift-otel's.
//
// The endpoint and the protocol are resolved here, not left to swift-otel's own reading of the
// environment, which would let OTEL_EXPORTER_OTLP_ENDPOINT override an explicit --otel-endpoint:
// the settings already folded that variable in below the flag, so swift-otel gets an environment
// without the endpoint and protocol variables and the values decided here.
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

public enum OTelTracing {
    public static let defaultServiceName = "dpq"

    /// The OTLP transport, from OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL
    /// (OpenTelemetry's default: http/protobuf).
    public enum ExportProtocol: String, Sendable, CaseIterable {
        case httpProtobuf = "http/protobuf"
        case httpJSON = "http/json"
        case grpc
    }

    /// Variables decided by DPQ, hidden from swift-otel's environment overrides.
    static let resolvedVariables = [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ]

    /// The protocol the environment asks for; an unknown value is an error naming the variable
    /// (swift-otel would only log it and fall back to the default).
    public static func exportProtocol(environment: [String: String]) throws -> ExportProtocol {
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { continue }
            guard let value = ExportProtocol(rawValue: raw.lowercased()) else {
                let known = ExportProtocol.allCases.map(\.rawValue).joined(separator: ", ")
                throw SettingsError("environment variable \(name): expected one of \(known), got '\(raw)'")
            }
            return value
        }
        return .httpProtobuf
    }

    /// Where the exporter sends spans: for OTLP/HTTP the base endpoint plus `/v1/traces`, as
    /// OpenTelemetry specifies for OTEL_EXPORTER_OTLP_ENDPOINT (kept when already there); for
    /// gRPC the endpoint itself.
    public static func tracesURL(endpoint: String, protocol: ExportProtocol) -> String {
        guard `protocol` != .grpc else { return endpoint }
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base.hasSuffix("/v1/traces") ? base : base + "/v1/traces"
    }

    /// swift-otel's configuration for exporting traces to `endpoint`.
    public static func configuration(endpoint: String, environment: [String: String], logger: Logger) throws -> OTel.Configuration {
        let exportProtocol = try exportProtocol(environment: environment)
        var config = OTel.Configuration.default
        config.serviceName = defaultServiceName
        config.diagnosticLogger = .custom(logger)
        config.logs.enabled = false
        config.metrics.enabled = false
        config.traces.enabled = true
        config.traces.exporter = .otlp
        config.propagators = [.traceContext]
        config.traces.otlpExporter.protocol = switch exportProtocol {
        case .httpProtobuf: .httpProtobuf
        case .httpJSON: .httpJSON
        case .grpc: .grpc
        }
        // Set after the protocol: assigning marks the endpoint as explicit, used as-is.
        config.traces.otlpExporter.endpoint = tracesURL(endpoint: endpoint, protocol: exportProtocol)
        return config
    }

    /// OTEL_SDK_DISABLED=true, OpenTelemetry's switch for "no telemetry whatever else is set".
    public static func isDisabled(environment: [String: String]) -> Bool {
        environment["OTEL_SDK_DISABLED"]?.trimmingCharacters(in: .whitespaces).lowercased() == "true"
    }

    /// For `dpq serve`: bootstraps the process-wide InstrumentationSystem with an OTel tracer (so
    /// any library's spans join too) and returns it with the service that exports its spans; nil
    /// when OTEL_SDK_DISABLED is true. Call at most once per process.
    public static func bootstrap(endpoint: String, environment: [String: String], logger: Logger) throws -> (tracer: any Tracer, service: any Service)? {
        guard !isDisabled(environment: environment) else {
            logger.notice("tracing not started: OTEL_SDK_DISABLED is true", metadata: ["otel_endpoint": "\(endpoint)"])
            return nil
        }
        let config = try configuration(endpoint: endpoint, environment: environment, logger: logger)
        let service: any Service = try OTel.bootstrap(
            configuration: config, environment: environment.filter { !resolvedVariables.contains($0.key) })
        let exportProtocol = try exportProtocol(environment: environment)
        logger.info("tracing: exporting spans over OTLP", metadata: [
            "url": "\(config.traces.otlpExporter.endpoint)", "protocol": "\(exportProtocol.rawValue)",
        ])
        return (InstrumentationSystem.tracer, service)
    }

    /// A tracer and its export service without touching InstrumentationSystem, for embedding the
    /// server and for tests (which cannot bootstrap the global more than once per process).
    /// swift-otel applies the process environment's OTEL_* variables on top of `configuration`.
    public static func makeBackend(endpoint: String, logger: Logger) throws -> (tracer: any Tracer, service: any Service) {
        let config = try configuration(endpoint: endpoint, environment: ProcessInfo.processInfo.environment, logger: logger)
        let backend = try OTel.makeTracingBackend(configuration: config)
        let tracer: any Tracer = backend.factory
        let service: any Service = backend.service
        return (tracer, service)
    }
}
