// The `otelEndpoint` setting: where `dpq serve` exports its spans over OTLP, nil for tracing off
// (the default). It means what OpenTelemetry's OTEL_EXPORTER_OTLP_ENDPOINT means, a base URL
// such as http://collector:4318 (OTLP/HTTP) or http://collector:4317 (OTLP/gRPC), so that the
// standard variable and DPQ's own setting accept the same values; OTelTracing adds the signal's
// path for HTTP.
//
// Checked when the settings are resolved, not when the exporter starts: a typo must stop the
// server at start-up with the source named, rather than leave it running and silently
// exporting nothing.
import Foundation

public enum OTelEndpoint {
    /// The standard OpenTelemetry variable, read below DPQ_OTEL_ENDPOINT.
    public static let standardVariable = "OTEL_EXPORTER_OTLP_ENDPOINT"

    /// Values that turn tracing off where a string is expected (a flag or DPQ_OTEL_ENDPOINT can so
    /// override an endpoint set by a lower layer).
    static let offWords: Set<String> = ["off", "none", "disabled"]

    /// The value of the highest layer above the config file that sets one, with its source:
    /// --otel-endpoint, then DPQ_OTEL_ENDPOINT, then OTEL_EXPORTER_OTLP_ENDPOINT (empty counts as
    /// unset). OpenTelemetry's variable comes last so that DPQ_OTEL_ENDPOINT=off can turn off what a
    /// platform's environment switches on, and only the winner is checked: a malformed variable
    /// meant for other programs is no error when a DPQ setting replaces it.
    static func highestLayer(flag: String?, environment: [String: String]) -> (value: String, source: String)? {
        let layers: [(String?, String)] = [
            (flag, ServerSettings.flags["otelEndpoint"]!),
            (environment["DPQ_OTEL_ENDPOINT"], "environment variable DPQ_OTEL_ENDPOINT"),
            (environment[standardVariable], "environment variable \(standardVariable)"),
        ]
        for (value, source) in layers {
            if let value, !value.trimmingCharacters(in: .whitespaces).isEmpty { return (value, source) }
        }
        return nil
    }

    /// The endpoint in `value`, nil for one of the off words; `source` names where the value came
    /// from for the error message.
    static func parse(_ value: String, source: String) throws -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if Self.offWords.contains(trimmed.lowercased()) { return nil }
        try Self.validate(trimmed, source: source)
        return trimmed
    }

    /// Accepts an absolute http or https URL with a host, an optional port and path, and no query,
    /// fragment or credentials (an exporter would send them nowhere useful).
    static func validate(_ value: String, source: String) throws {
        func fail(_ why: String) -> SettingsError {
            SettingsError("\(source): \(why), got '\(value)' (expected a URL such as http://localhost:4318)")
        }
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased() else {
            throw fail("not a URL")
        }
        guard scheme == "http" || scheme == "https" else { throw fail("the scheme must be http or https") }
        guard let host = components.host, !host.isEmpty else { throw fail("no host") }
        if let port = components.port, !(1...65_535).contains(port) { throw fail("the port must be in 1...65535") }
        guard components.query == nil, components.fragment == nil else { throw fail("no query or fragment allowed") }
        guard components.user == nil, components.password == nil else { throw fail("no credentials allowed in the URL") }
    }
}
