// Settings layering (defaults < file < environment < flags) and the error messages.
import DPQServerSupport
import Foundation
import Testing

@Suite struct ServerSettingsTests {
    /// Writes `json` to a temporary file and returns its path.
    func configFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("dpq-settings-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func resolveError(
        file: String? = nil, env: [String: String] = [:], overrides: ServerSettings.Overrides = .init()
    ) throws -> String {
        let path = try file.map { try configFile($0) }
        do {
            _ = try ServerSettings.resolve(configFile: path, environment: env, overrides: overrides)
        } catch let error as SettingsError {
            return error.message
        }
        Issue.record("expected a SettingsError")
        return ""
    }

    @Test func defaults() throws {
        let s = try ServerSettings.resolve(configFile: nil, environment: [:], overrides: .init())
        #expect(s == ServerSettings())
        #expect(s.host == "127.0.0.1" && s.port == 50051 && s.dataDir == "./dpq-data")
        #expect(s.maxMessageBytes == 64 << 20 && s.metricsPort == nil && s.threads == nil)
        #expect(s.logFormat == .text && s.logLevel == .info)
        #expect(s.limits.maxConcurrentRPCs == 256 && s.limits.maxModelBytes == 2_147_483_648)
        let proto = s.limitsMessage
        #expect(proto.maxMessageBytes == 67_108_864)
        #expect(proto.maxK == 10_000 && proto.maxBatchRows == 65_536 && proto.maxItemIDBytes == 256)
        #expect(proto.maxModelBytes == 2_147_483_648 && proto.maxItemsPerCollection == 100_000_000)
        #expect(proto.minCodebookSize == 16 && proto.maxCodebookSize == 4096 && proto.maxBlocks == 32)
    }

    @Test func layering() throws {
        let path = try configFile("""
            {"host": "0.0.0.0", "port": 6000, "dataDir": "/var/dpq", "metricsPort": 9100,
             "logLevel": "debug", "limits": {"maxK": 500, "maxConcurrentRPCs": 8}}
            """)
        let env = ["DPQ_PORT": "7000", "DPQ_LOG_FORMAT": "json", "DPQ_THREADS": "3", "DPQ_DATA_DIR": "",
                   "UNRELATED": "x"]
        let s = try ServerSettings.resolve(
            configFile: path, environment: env, overrides: .init(port: 8000, logLevel: .warning))
        #expect(s.host == "0.0.0.0")        // file
        #expect(s.port == 8000)             // flag beats env beats file
        #expect(s.dataDir == "/var/dpq")    // empty env var counts as unset
        #expect(s.metricsPort == 9100)
        #expect(s.logFormat == .json)       // env
        #expect(s.logLevel == .warning)     // flag
        #expect(s.threads == 3)
        #expect(s.limits.maxK == 500 && s.limits.maxConcurrentRPCs == 8 && s.limits.maxBatchRows == 65_536)

        let off = try ServerSettings.resolve(
            configFile: try configFile(#"{"metricsPort": null, "threads": null}"#),
            environment: ["DPQ_METRICS_PORT": "0"], overrides: .init())
        #expect(off.metricsPort == 0 && off.threads == nil)
        let disabled = try ServerSettings.resolve(
            configFile: path, environment: ["DPQ_METRICS_PORT": "off", "DPQ_THREADS": "auto"], overrides: .init())
        #expect(disabled.metricsPort == nil && disabled.threads == nil)
    }

    @Test func storeURLFromEachLayer() throws {
        #expect(try ServerSettings.resolve(configFile: nil, environment: [:], overrides: .init()).store == nil)
        let file = try configFile(#"{"store": "postgres://a@file/db"}"#)
        #expect(try ServerSettings.resolve(configFile: file, environment: [:], overrides: .init()).store == "postgres://a@file/db")
        let env = ["DPQ_STORE": "postgresql://a@env/db"]
        #expect(try ServerSettings.resolve(configFile: file, environment: env, overrides: .init()).store == "postgresql://a@env/db")
        var flag = ServerSettings.Overrides()
        flag.store = "postgres://a@flag/db"
        #expect(try ServerSettings.resolve(configFile: file, environment: env, overrides: flag).store == "postgres://a@flag/db")
        // Not a PostgreSQL URL: the error names where it came from.
        do {
            _ = try ServerSettings.resolve(configFile: nil, environment: ["DPQ_STORE": "/var/dpq"], overrides: .init())
            Issue.record("a store that is not a postgres:// URL was accepted")
        } catch {
            #expect("\(error)".contains("DPQ_STORE"), "\(error)")
        }
    }

    @Test func encodedSettingsAreAValidConfigFile() throws {
        var original = ServerSettings()
        original.port = 1234
        original.metricsPort = 0
        original.limits.maxK = 77
        let json = String(decoding: try JSONEncoder().encode(original), as: UTF8.self)
        let back = try ServerSettings.resolve(configFile: try configFile(json), environment: [:], overrides: .init())
        #expect(back == original)
    }

    @Test func fileErrorsNameTheKey() throws {
        #expect(try resolveError(file: #"{"prot": 1}"#).contains("unknown key 'prot'"))
        #expect(try resolveError(file: #"{"limits": {"maxKK": 1}}"#).contains("unknown key 'limits.maxKK'"))
        #expect(try resolveError(file: #"{"port": "abc"}"#).contains("key 'port': expected an integer"))
        #expect(try resolveError(file: #"{"port": 1.5}"#).contains("key 'port': expected an integer"))
        #expect(try resolveError(file: #"{"limits": {"maxK": true}}"#).contains("key 'limits.maxK': expected an integer"))
        #expect(try resolveError(file: #"{"host": null}"#).contains("key 'host': must not be null"))
        #expect(try resolveError(file: #"{"limits": 3}"#).contains("key 'limits': expected a JSON object"))
        #expect(try resolveError(file: "[1]").contains("expected a JSON object at the top level"))
        #expect(try resolveError(file: "{nope").contains("not valid JSON"))
        #expect(try resolveError(file: #"{"logLevel": "loud"}"#)
            .contains("key 'logLevel': expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"))
        let range = try resolveError(file: #"{"port": 70000}"#)
        #expect(range.hasPrefix("config file '") && range.hasSuffix("': key 'port': must be in 0...65535, got 70000"))
        #expect(try resolveError(file: #"{"limits": {"minCodebookSize": 24}}"#)
            .contains("key 'limits.minCodebookSize': must be a power of two, got 24"))
        #expect(try resolveError(file: #"{"limits": {"defaultPageSize": 20000}}"#)
            .contains("key 'limits.defaultPageSize': 20000 exceeds limits.maxPageSize (10000)"))
        #expect(try resolveError(file: #"{"limits": {"maxK": 0}}"#).contains("key 'limits.maxK': must be in 1..."))
    }

    @Test func missingFile() throws {
        do {
            _ = try ServerSettings.resolve(configFile: "/nonexistent/dpq.json", environment: [:], overrides: .init())
            Issue.record("expected an error")
        } catch let error as SettingsError {
            #expect(error.message.hasPrefix("config file '/nonexistent/dpq.json': cannot be read"))
        }
    }

    @Test func environmentAndFlagErrorsNameTheSource() throws {
        #expect(try resolveError(env: ["DPQ_PORT": "abc"]) == "environment variable DPQ_PORT: expected an integer, got 'abc'")
        #expect(try resolveError(env: ["DPQ_THREADS": "0"]) == "environment variable DPQ_THREADS: must be in 1...4096, got 0")
        #expect(try resolveError(env: ["DPQ_MAX_MESSAGE_BYTES": "12"])
            == "environment variable DPQ_MAX_MESSAGE_BYTES: must be in 1024...4294967295, got 12")
        #expect(try resolveError(env: ["DPQ_LOG_FORMAT": "xml"]) == "environment variable DPQ_LOG_FORMAT: expected one of text, json, got 'xml'")
        #expect(try resolveError(env: ["DPQ_METRICS_PORT": "-5"]) == "environment variable DPQ_METRICS_PORT: must be in 0...65535, got -5")
        #expect(try resolveError(overrides: .init(port: -1)) == "--port: must be in 0...65535, got -1")
        #expect(try resolveError(overrides: .init(host: "")) == "--host: must not be empty")
        // A flag replacing an out-of-range environment value wins; unparsable values always fail.
        let fixed = try ServerSettings.resolve(configFile: nil, environment: ["DPQ_PORT": "99999"], overrides: .init(port: 1))
        #expect(fixed.port == 1)
    }
}
