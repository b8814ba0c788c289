// The server's configuration and how it is assembled: built-in defaults, then an optional JSON
// config file, then DPQ_* environment variables, then explicit command-line flags, each layer
// overriding the one before. Containers and systemd units set environment variables, operators
// keep a file, and one-off runs use flags; all three must compose predictably.
//
// Errors always name where the bad value came from (file key path, environment variable, or
// flag), because "invalid port" with no source is useless when four layers can set it. Unknown
// keys in the file are errors rather than silently ignored, so a typo cannot leave a limit at its
// default unnoticed. JSON keys are the Swift property names (camelCase), the same as the
// synthesized encoding, so an encoded ServerSettings is a valid config file.
import DPQProto
import Foundation
import Logging

/// A configuration problem, with a message naming the offending key, variable or flag.
public struct SettingsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Bounds on requests and on stored data, reported to clients through GetServerInfo.
public struct ServerLimits: Codable, Sendable, Equatable {
    public var maxBatchRows = 65_536
    public var maxSearchQueries = 4_096
    public var maxK = 10_000
    public var maxRescoreOversampling = 64
    public var maxEvaluateQueries = 10_000
    public var defaultPageSize = 100
    public var maxPageSize = 10_000
    public var maxInputDimension = 65_536
    public var maxCollections = 1_000
    public var maxItemsPerCollection = 100_000_000
    /// The most `maxItemsPerCollection` may be: what a collection's in-memory id table holds
    /// (DPQStorage's ItemIDTable.maxRows, 2^29 - 2; a test checks that they agree).
    public static let maxItemsPerCollectionCeiling = 536_870_910
    public var maxDatasetRows = 10_000_000
    public var maxItemIdBytes = 256
    public var maxLabelsPerItem = 1_024
    public var maxModelBytes = 2 << 30
    public var maxConcurrentTrainings = 1
    public var maxBlocks = 32
    public var minCodebookSize = 16
    public var maxCodebookSize = 4_096
    public var maxConcurrentRPCs = 256

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxBatchRows, maxSearchQueries, maxK, maxRescoreOversampling, maxEvaluateQueries
        case defaultPageSize, maxPageSize, maxInputDimension, maxCollections, maxItemsPerCollection
        case maxDatasetRows, maxItemIdBytes, maxLabelsPerItem, maxModelBytes, maxConcurrentTrainings
        case maxBlocks, minCodebookSize, maxCodebookSize, maxConcurrentRPCs
    }

    private static var fields: [(CodingKeys, WritableKeyPath<ServerLimits, Int>, ClosedRange<Int>)] {
        let u32 = 1...Int(UInt32.max)
        let u64 = 1...Int.max
        return [
            (.maxBatchRows, \.maxBatchRows, u32), (.maxSearchQueries, \.maxSearchQueries, u32),
            (.maxK, \.maxK, u32), (.maxRescoreOversampling, \.maxRescoreOversampling, u32),
            (.maxEvaluateQueries, \.maxEvaluateQueries, u32), (.defaultPageSize, \.defaultPageSize, u32),
            (.maxPageSize, \.maxPageSize, u32), (.maxInputDimension, \.maxInputDimension, u32),
            (.maxCollections, \.maxCollections, u32), (.maxItemsPerCollection, \.maxItemsPerCollection, 1...Self.maxItemsPerCollectionCeiling),
            (.maxDatasetRows, \.maxDatasetRows, u64), (.maxItemIdBytes, \.maxItemIdBytes, u32),
            (.maxLabelsPerItem, \.maxLabelsPerItem, u32), (.maxModelBytes, \.maxModelBytes, u64),
            (.maxConcurrentTrainings, \.maxConcurrentTrainings, u32), (.maxBlocks, \.maxBlocks, u32),
            (.minCodebookSize, \.minCodebookSize, u32), (.maxCodebookSize, \.maxCodebookSize, u32),
            (.maxConcurrentRPCs, \.maxConcurrentRPCs, u32),
        ]
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try settingsContainer(decoder, known: CodingKeys.allCases.map(\.rawValue))
        for (key, path, _) in Self.fields {
            if let value = try container.settingsValue(key.rawValue, Int.self, decoder: decoder) {
                self[keyPath: path] = value
            }
        }
    }

    /// Checks ranges and consistency; `describe` turns a key path ("limits.maxK") into the
    /// name of its source for the error message.
    public func validate(describe: (String) -> String = { "setting '\($0)'" }) throws {
        for (key, path, range) in Self.fields {
            try checkRange(self[keyPath: path], range, describe("limits." + key.rawValue))
        }
        for key in [CodingKeys.minCodebookSize, .maxCodebookSize] {
            let value = key == .minCodebookSize ? self.minCodebookSize : self.maxCodebookSize
            guard value & (value - 1) == 0 else {
                throw SettingsError("\(describe("limits." + key.rawValue)): must be a power of two, got \(value)")
            }
        }
        guard self.minCodebookSize <= self.maxCodebookSize else {
            throw SettingsError(
                "\(describe("limits.minCodebookSize")): \(self.minCodebookSize) exceeds limits.maxCodebookSize (\(self.maxCodebookSize))"
            )
        }
        guard self.defaultPageSize <= self.maxPageSize else {
            throw SettingsError(
                "\(describe("limits.defaultPageSize")): \(self.defaultPageSize) exceeds limits.maxPageSize (\(self.maxPageSize))"
            )
        }
    }
}

public struct ServerSettings: Codable, Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 50051
    public var dataDir = "./dpq-data"
    /// nil: collections live in SQLite files under `dataDir` (the default); a postgres:// URL:
    /// in that PostgreSQL database instead (`dataDir` is then unused).
    public var store: String?
    public var maxMessageBytes = 64 << 20
    /// nil: no metrics endpoint; 0: an ephemeral port.
    public var metricsPort: Int?
    public var logFormat: LogFormat = .text
    public var logLevel: Logger.Level = .info
    /// nil: all cores.
    public var threads: Int?
    /// OTLP endpoint for traces (OTelEndpoint); nil: tracing off.
    public var otelEndpoint: String?
    public var limits = ServerLimits()
    public var connection = ConnectionSettings()

    public init() {}

    /// Values given explicitly (command-line flags); nil means "not given".
    public struct Overrides: Sendable, Equatable {
        public var host: String?
        public var port: Int?
        public var dataDir: String?
        public var store: String?
        public var maxMessageBytes: Int?
        public var metricsPort: Int?
        public var logFormat: LogFormat?
        public var logLevel: Logger.Level?
        public var threads: Int?
        public var connection = ConnectionSettings.Overrides()
        /// An endpoint, or "off" to turn tracing off whatever the lower layers say.
        public var otelEndpoint: String?

        public init(
            host: String? = nil, port: Int? = nil, dataDir: String? = nil, maxMessageBytes: Int? = nil,
            metricsPort: Int? = nil, logFormat: LogFormat? = nil, logLevel: Logger.Level? = nil, threads: Int? = nil,
            otelEndpoint: String? = nil
        ) {
            self.host = host
            self.port = port
            self.dataDir = dataDir
            self.maxMessageBytes = maxMessageBytes
            self.metricsPort = metricsPort
            self.logFormat = logFormat
            self.logLevel = logLevel
            self.threads = threads
            self.otelEndpoint = otelEndpoint
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, dataDir, store, maxMessageBytes, metricsPort, logFormat, logLevel, threads, otelEndpoint, limits, connection
    }

    /// Environment variable for each top-level key.
    public static let environmentVariables: [String: String] = [
        "host": "DPQ_HOST", "port": "DPQ_PORT", "dataDir": "DPQ_DATA_DIR", "store": "DPQ_STORE", "maxMessageBytes": "DPQ_MAX_MESSAGE_BYTES",
        "metricsPort": "DPQ_METRICS_PORT", "logFormat": "DPQ_LOG_FORMAT", "logLevel": "DPQ_LOG_LEVEL",
        "threads": "DPQ_THREADS", "otelEndpoint": "DPQ_OTEL_ENDPOINT",
    ]

    /// Command-line flag for each top-level key, as used in error messages.
    public static let flags: [String: String] = [
        "host": "--host", "port": "--port", "dataDir": "--data-dir", "store": "--store", "maxMessageBytes": "--max-message-bytes",
        "metricsPort": "--metrics-port", "logFormat": "--log-format", "logLevel": "--log-level", "threads": "--threads",
        "otelEndpoint": "--otel-endpoint",
    ]

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try settingsContainer(decoder, known: CodingKeys.allCases.map(\.rawValue))
        if let v = try c.settingsValue("host", String.self, decoder: decoder) { self.host = v }
        if let v = try c.settingsValue("port", Int.self, decoder: decoder) { self.port = v }
        if let v = try c.settingsValue("dataDir", String.self, decoder: decoder) { self.dataDir = v }
        if c.contains(AnyKey("store")) {  // null: the SQLite data directory
            self.store = try c.settingsValue("store", String.self, decoder: decoder, allowNull: true)
        }
        if let v = try c.settingsValue("maxMessageBytes", Int.self, decoder: decoder) { self.maxMessageBytes = v }
        // null is meaningful here: it turns the metrics endpoint off / uses all cores.
        if c.contains(AnyKey("metricsPort")) {
            self.metricsPort = try c.settingsValue("metricsPort", Int.self, decoder: decoder, allowNull: true)
        }
        if c.contains(AnyKey("threads")) {
            self.threads = try c.settingsValue("threads", Int.self, decoder: decoder, allowNull: true)
        }
        if let v = try c.settingsValue("logFormat", String.self, decoder: decoder) {
            self.logFormat = try parseLogFormat(v, "key '\(keyPath(decoder, "logFormat"))'")
        }
        if let v = try c.settingsValue("logLevel", String.self, decoder: decoder) {
            self.logLevel = try parseLogLevel(v, "key '\(keyPath(decoder, "logLevel"))'")
        }
        if c.contains(AnyKey("otelEndpoint")) {  // null: tracing off
            self.otelEndpoint = try c.settingsValue("otelEndpoint", String.self, decoder: decoder, allowNull: true)
        }
        if let v = try c.settingsValue("limits", ServerLimits.self, decoder: decoder) { self.limits = v }
        if let v = try c.settingsValue("connection", ConnectionSettings.self, decoder: decoder) { self.connection = v }
    }

    /// Checks every value; `describe` turns a key path into the name of its source.
    public func validate(describe: (String) -> String = { "setting '\($0)'" }) throws {
        guard !self.host.isEmpty else { throw SettingsError("\(describe("host")): must not be empty") }
        try checkRange(self.port, 0...65_535, describe("port"))
        guard !self.dataDir.isEmpty else { throw SettingsError("\(describe("dataDir")): must not be empty") }
        if let s = self.store {
            // The URL's parts are checked when the server connects (DPQPostgresStorage.PostgresURL).
            let lower = s.lowercased()
            guard lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") else {
                throw SettingsError("\(describe("store")): must be a postgres:// URL (postgres://user@host:port/database), or unset for the SQLite data directory")
            }
        }
        // Messages are length-prefixed with 32 bits on the wire; below 1 KiB nothing useful fits.
        try checkRange(self.maxMessageBytes, 1_024...Int(UInt32.max), describe("maxMessageBytes"))
        if let p = self.metricsPort { try checkRange(p, 0...65_535, describe("metricsPort")) }
        if let t = self.threads { try checkRange(t, 1...4_096, describe("threads")) }
        if let e = self.otelEndpoint { try OTelEndpoint.validate(e, source: describe("otelEndpoint")) }
        try self.limits.validate(describe: describe)
        try self.connection.validate(describe: describe)
    }

    /// Layers defaults < config file < environment < overrides, then validates the result. Errors
    /// name the layer that supplied the offending value (a bad value that a later layer replaces
    /// is no error).
    public static func resolve(
        configFile: String?,
        environment: [String: String],
        overrides: Overrides
    ) throws -> ServerSettings {
        var settings = ServerSettings()
        var sources: [String: String] = [:]  // key -> where its current value came from

        if let path = configFile {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw SettingsError("config file '\(path)': cannot be read (\(error.localizedDescription))")
            }
            do {
                settings = try JSONDecoder().decode(ServerSettings.self, from: data)
            } catch let error as SettingsError {
                throw SettingsError("config file '\(path)': \(error.message)")
            } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
                throw SettingsError("config file '\(path)': expected a JSON object at the top level")
            } catch {
                throw SettingsError("config file '\(path)': not valid JSON (\(jsonErrorSummary(error)))")
            }
        }

        func env(_ key: String) -> String? {
            guard let name = environmentVariables[key], let raw = environment[name] else { return nil }
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { return nil }  // VAR= counts as unset, as in most tooling
            sources[key] = "environment variable \(name)"
            return value
        }
        func envInt(_ key: String, _ value: String) throws -> Int {
            guard let n = Int(value) else {
                throw SettingsError("environment variable \(environmentVariables[key]!): expected an integer, got '\(value)'")
            }
            return n
        }
        if let v = env("host") { settings.host = v }
        if let v = env("port") { settings.port = try envInt("port", v) }
        if let v = env("dataDir") { settings.dataDir = v }
        if let v = env("store") { settings.store = v }
        if let v = env("maxMessageBytes") { settings.maxMessageBytes = try envInt("maxMessageBytes", v) }
        if let v = env("metricsPort") {
            let off = ["off", "none", "disabled"].contains(v.lowercased())
            settings.metricsPort = try off ? nil : envInt("metricsPort", v)
        }
        if let v = env("threads") {
            let all = ["auto", "all"].contains(v.lowercased())
            settings.threads = try all ? nil : envInt("threads", v)
        }
        if let v = env("logFormat") { settings.logFormat = try parseLogFormat(v, "environment variable DPQ_LOG_FORMAT") }
        if let v = env("logLevel") { settings.logLevel = try parseLogLevel(v, "environment variable DPQ_LOG_LEVEL") }
        try settings.connection.applyEnvironment(environment, sources: &sources)

        func apply<T>(_ value: T?, _ key: String, _ target: WritableKeyPath<ServerSettings, T>) {
            guard let value else { return }
            settings[keyPath: target] = value
            sources[key] = flags[key]!
        }
        apply(overrides.host, "host", \.host)
        apply(overrides.port, "port", \.port)
        apply(overrides.dataDir, "dataDir", \.dataDir)
        apply(overrides.store, "store", \.storeValue)
        apply(overrides.maxMessageBytes, "maxMessageBytes", \.maxMessageBytes)
        // The optional settings need their own keypaths: with `\.metricsPort` T would be Int?,
        // and a nil override would turn into .some(nil) and erase the lower layers.
        apply(overrides.metricsPort, "metricsPort", \.metricsPortValue)
        apply(overrides.logFormat, "logFormat", \.logFormat)
        apply(overrides.logLevel, "logLevel", \.logLevel)
        apply(overrides.threads, "threads", \.threadsValue)
        settings.connection.apply(overrides.connection, sources: &sources)
        if let (value, source) = OTelEndpoint.highestLayer(flag: overrides.otelEndpoint, environment: environment) {
            settings.otelEndpoint = try OTelEndpoint.parse(value, source: source)
            sources["otelEndpoint"] = source
        }

        // Anything not set by the environment or a flag is a default (always valid) or came from
        // the file, so the file is the source to blame.
        try settings.validate { key in
            if let source = sources[key] { return source }
            if let path = configFile { return "config file '\(path)': key '\(key)'" }
            return "setting '\(key)'"
        }
        return settings
    }

    private var metricsPortValue: Int {
        get { self.metricsPort ?? 0 }
        set { self.metricsPort = newValue }
    }

    private var storeValue: String {
        get { self.store ?? "" }
        set { self.store = newValue }
    }

    private var threadsValue: Int {
        get { self.threads ?? 0 }
        set { self.threads = newValue }
    }

    /// The limits as reported by GetServerInfo (values clamp to the proto field widths, which
    /// validate() already enforces).
    public var limitsMessage: Dpq_V1_Limits {
        let l = self.limits
        return .with {
            $0.maxMessageBytes = UInt32(clamping: self.maxMessageBytes)
            $0.maxBatchRows = UInt32(clamping: l.maxBatchRows)
            $0.maxSearchQueries = UInt32(clamping: l.maxSearchQueries)
            $0.maxK = UInt32(clamping: l.maxK)
            $0.maxRescoreOversampling = UInt32(clamping: l.maxRescoreOversampling)
            $0.maxEvaluateQueries = UInt32(clamping: l.maxEvaluateQueries)
            $0.defaultPageSize = UInt32(clamping: l.defaultPageSize)
            $0.maxPageSize = UInt32(clamping: l.maxPageSize)
            $0.maxInputDimension = UInt32(clamping: l.maxInputDimension)
            $0.maxCollections = UInt32(clamping: l.maxCollections)
            $0.maxItemsPerCollection = UInt64(clamping: l.maxItemsPerCollection)
            $0.maxDatasetRows = UInt64(clamping: l.maxDatasetRows)
            $0.maxItemIDBytes = UInt32(clamping: l.maxItemIdBytes)
            $0.maxLabelsPerItem = UInt32(clamping: l.maxLabelsPerItem)
            $0.maxModelBytes = UInt64(clamping: l.maxModelBytes)
            $0.maxConcurrentTrainings = UInt32(clamping: l.maxConcurrentTrainings)
            $0.maxBlocks = UInt32(clamping: l.maxBlocks)
            $0.minCodebookSize = UInt32(clamping: l.minCodebookSize)
            $0.maxCodebookSize = UInt32(clamping: l.maxCodebookSize)
        }
    }
}

// MARK: - Decoding helpers

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { self.stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

func keyPath(_ decoder: any Decoder, _ key: String) -> String {
    (decoder.codingPath.map(\.stringValue) + [key]).joined(separator: ".")
}

/// A keyed container that rejects keys not in `known`.
func settingsContainer(_ decoder: any Decoder, known: [String]) throws -> KeyedDecodingContainer<AnyKey> {
    let container: KeyedDecodingContainer<AnyKey>
    do {
        container = try decoder.container(keyedBy: AnyKey.self)
    } catch {
        let path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
        if path.isEmpty { throw error }  // reported by resolve as "expected a JSON object"
        throw SettingsError("key '\(path)': expected a JSON object")
    }
    let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    if let first = unknown.first {
        throw SettingsError("unknown key '\(keyPath(decoder, first))' (known keys here: \(known.joined(separator: ", ")))")
    }
    return container
}

extension KeyedDecodingContainer where Key == AnyKey {
    /// The value at `key`, nil when absent (or null when `allowNull`), with errors that name the
    /// full key path and the expected type.
    func settingsValue<T: Decodable>(
        _ key: String, _ type: T.Type, decoder: any Decoder, allowNull: Bool = false
    ) throws -> T? {
        let k = AnyKey(key)
        guard self.contains(k) else { return nil }
        let path = keyPath(decoder, key)
        if try self.decodeNil(forKey: k) {
            if allowNull { return nil }
            throw SettingsError("key '\(path)': must not be null")
        }
        do {
            return try self.decode(T.self, forKey: k)
        } catch let error as SettingsError {
            throw error
        } catch {
            let expected = T.self == Int.self ? "an integer" : T.self == String.self ? "a string"
                : T.self == Bool.self ? "true or false" : "a JSON object"
            throw SettingsError("key '\(path)': expected \(expected)")
        }
    }
}

func checkRange(_ value: Int, _ range: ClosedRange<Int>, _ what: String) throws {
    guard range.contains(value) else {
        throw SettingsError("\(what): must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
}

private func parseLogFormat(_ value: String, _ what: String) throws -> LogFormat {
    guard let format = LogFormat(rawValue: value.lowercased()) else {
        throw SettingsError("\(what): expected one of text, json, got '\(value)'")
    }
    return format
}

private func parseLogLevel(_ value: String, _ what: String) throws -> Logger.Level {
    guard let level = Logger.Level(rawValue: value.lowercased()) else {
        let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
        throw SettingsError("\(what): expected one of \(names), got '\(value)'")
    }
    return level
}

private func jsonErrorSummary(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
        return context.underlyingError.map { String(describing: $0) } ?? context.debugDescription
    }
    return String(describing: error)
}
