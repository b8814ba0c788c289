// Structured logging: one JSON object per line on stderr, for log shippers (journald, Loki,
// CloudWatch, ...) that parse lines instead of guessing at free text. The text format stays the
// default for people reading a terminal.
//
// Line shape: {"timestamp":"2026-11-29T22:18:43.123Z","level":"info","label":"dpq","message":"...",
// "source":"DPQServer", <metadata keys>, "error":"..." (only when logged with an error)}.
// Metadata is flattened into the top level so queries need no nesting: nested dictionaries become
// dotted keys ("rpc.method"), lists become JSON arrays of strings, and a metadata key that clashes
// with a fixed field is written as "metadata.<key>".
//
// Each line is produced in full and written with one write(2) call, so lines from concurrent tasks
// never interleave and nothing sits in a stdio buffer when the process dies (no fflush needed).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

public struct JSONLogHandler: LogHandler {
    /// Where finished lines (without the trailing newline) go.
    public typealias Sink = @Sendable (String) -> Void

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: Sink

    /// Writes to standard error.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, metadataProvider: metadataProvider, sink: JSONLogHandler.standardError)
    }

    /// Writes each line to `sink` (tests, or another destination).
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, sink: @escaping Sink) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var fields: [(String, JSONValue)] = [
            ("timestamp", .string(Self.timestamp())),
            ("level", .string(event.level.rawValue)),
            ("label", .string(self.label)),
            ("message", .string(event.message.description)),
            ("source", .string(event.source)),
        ]
        let reserved: Set<String> = ["timestamp", "level", "label", "message", "source", "error"]
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            Self.flatten(key: reserved.contains(key) ? "metadata." + key : key, value: value, into: &fields)
        }
        if let error = event.error {
            fields.append(("error", .string(String(describing: error))))
        }
        self.sink(Self.render(fields))
    }

    // MARK: - Formatting

    private enum JSONValue {
        case string(String)
        case array([String])
    }

    private static func flatten(key: String, value: Logger.MetadataValue, into fields: inout [(String, JSONValue)]) {
        switch value {
        case .string(let s): fields.append((key, .string(s)))
        case .stringConvertible(let c): fields.append((key, .string(c.description)))
        case .array(let items): fields.append((key, .array(items.map(\.description))))
        case .dictionary(let dict):
            for (k, v) in dict.sorted(by: { $0.key < $1.key }) { flatten(key: key + "." + k, value: v, into: &fields) }
        }
    }

    private static func render(_ fields: [(String, JSONValue)]) -> String {
        var out = "{"
        for (i, (key, value)) in fields.enumerated() {
            if i > 0 { out += "," }
            appendQuoted(key, to: &out)
            out += ":"
            switch value {
            case .string(let s):
                appendQuoted(s, to: &out)
            case .array(let items):
                out += "["
                for (j, item) in items.enumerated() {
                    if j > 0 { out += "," }
                    appendQuoted(item, to: &out)
                }
                out += "]"
            }
        }
        out += "}"
        return out
    }

    private static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// UTC, millisecond precision: "2026-11-29T22:18:43.123Z".
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(Int(now.tv_nsec) / 1_000_000, 3) + "Z"
    }

    /// One write(2) per line; retried on partial writes and EINTR.
    public static let standardError: Sink = { line in
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}

/// How log lines are written.
public enum LogFormat: String, Codable, Sendable, CaseIterable {
    /// swift-log's StreamLogHandler: human-readable, one line per message.
    case text
    /// JSONLogHandler: one JSON object per line.
    case json
}

/// Installs the process-wide log handler. Like LoggingSystem.bootstrap, call it once, early.
public func bootstrapLogging(format: LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler
        switch format {
        case .text: handler = StreamLogHandler.standardError(label: label)
        case .json: handler = JSONLogHandler(label: label)
        }
        handler.logLevel = level
        return handler
    }
}
