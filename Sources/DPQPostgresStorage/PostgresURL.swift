// The store URL of `dpq serve --store`: postgres://user[:password]@host[:port]/database, also
// spelled postgresql://. The password may instead come from $PGPASSWORD (so it stays out of
// process listings); `?host=/path/to/socket/dir` connects over the Unix socket in that
// directory. The other parameters have libpq's names and meanings:
//   sslmode          disable (the default), prefer, require, verify-ca, verify-full. require
//                    encrypts without checking the certificate, unless sslrootcert is given
//                    (then it checks the chain, as libpq does); verify-ca checks the chain;
//                    verify-full also checks that the certificate names the host.
//   sslrootcert      PEM file of the certificate authorities to trust (default: the system's).
//   sslcert, sslkey  PEM files of a client certificate and its key (both or neither).
//   connect_timeout  seconds a new connection may take, TCP and startup together (default 10).
//   statement_timeout milliseconds any one statement may run before PostgreSQL cancels it
//                    (default 0: no limit, as PostgreSQL's own default); loading a whole
//                    collection at start-up is exempt. A cancelled statement is UNAVAILABLE.
//   change_retention seconds the change history (what other servers follow) is kept before it
//                    is pruned (default 3600); a server that falls further behind reloads.

import DPQStorage
import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

public struct PostgresURL: Sendable {
    public let configuration: PostgresConnection.Configuration
    /// The URL without the password, for logs and messages.
    public let location: String

    /// Whether `text` names a PostgreSQL store (by its scheme).
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StorageError) {
        func bad(_ why: String) -> StorageError {
            .invalidArgument("store URL: \(why); expected postgres://user[:password]@host[:port]/database")
        }
        guard Self.isPostgres(text), let url = URLComponents(string: text) else { throw bad("'\(Self.redacted(text))' is not a postgres:// URL") }
        guard let user = url.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else { throw bad("no user name") }
        let password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database name") }
        var socketDirectory: String?
        var mode = "disable", rootCert: String?, clientCert: String?, clientKey: String?
        var seconds = 10, statementMilliseconds = 0, retention = 3_600
        func readable(_ name: String, _ value: String?) throws(StorageError) -> String {
            guard let value, !value.isEmpty else { throw bad("\(name) needs a file path") }
            guard FileManager.default.isReadableFile(atPath: value) else { throw bad("\(name) '\(value)' is not a readable file") }
            return value
        }
        func whole(_ name: String, _ value: String?, _ range: ClosedRange<Int>, _ unit: String) throws(StorageError) -> Int {
            guard let v = value.flatMap({ Int($0) }), range.contains(v) else {
                throw bad("\(name) '\(value ?? "")' is not a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
        for item in url.queryItems ?? [] {
            switch item.name {
            case "host" where item.value?.hasPrefix("/") == true: socketDirectory = item.value
            case "sslmode":
                guard let v = item.value, ["disable", "prefer", "require", "verify-ca", "verify-full"].contains(v) else {
                    throw bad("sslmode '\(item.value ?? "")' is not one of disable, prefer, require, verify-ca, verify-full")
                }
                mode = v
            case "sslrootcert": rootCert = try readable("sslrootcert", item.value)
            case "sslcert": clientCert = try readable("sslcert", item.value)
            case "sslkey": clientKey = try readable("sslkey", item.value)
            case "connect_timeout": seconds = try whole(item.name, item.value, 1...3_600, "seconds")
            case "statement_timeout": statementMilliseconds = try whole(item.name, item.value, 0...86_400_000, "milliseconds (0: no limit)")
            case "change_retention": retention = try whole(item.name, item.value, 0...31_536_000, "seconds")
            default: throw bad("unknown parameter '\(item.name)'")
            }
        }
        guard (clientCert == nil) == (clientKey == nil) else { throw bad("sslcert and sslkey go together") }
        connectTimeout = .seconds(Int64(seconds))
        statementTimeoutMilliseconds = statementMilliseconds
        changeRetentionSeconds = retention
        var c: PostgresConnection.Configuration
        if let socketDirectory {
            guard mode == "disable" || mode == "prefer" else {
                throw bad("sslmode=\(mode) with a Unix socket (PostgreSQL has no TLS on Unix sockets)")
            }
            let port = url.port ?? 5432
            c = PostgresConnection.Configuration(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            location = "postgres://\(user)@/\(database)?host=\(socketDirectory)"
        } else {
            guard let host = url.host, !host.isEmpty else { throw bad("no host") }
            let port = url.port ?? 5432
            guard (1...65_535).contains(port) else { throw bad("port \(port) is out of range") }
            let tls = try Self.tls(mode: mode, rootCert: rootCert, clientCert: clientCert, clientKey: clientKey, bad: bad)
            c = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
            location = "postgres://\(user)@\(host):\(port)/\(database)" + (mode == "disable" ? "" : "?sslmode=\(mode)")
        }
        // A startup parameter, so that it holds from the connection's first statement.
        if statementMilliseconds > 0 { c.options.additionalStartupParameters.append(("statement_timeout", String(statementMilliseconds))) }
        configuration = c
    }

    /// How long a new connection may take, TCP and startup (authentication) together.
    public let connectTimeout: TimeAmount
    /// PostgreSQL's statement_timeout for every session, in milliseconds; 0 is none.
    public let statementTimeoutMilliseconds: Int
    /// How long the change history is kept before it is pruned, in seconds.
    public let changeRetentionSeconds: Int

    private static func tls(mode: String, rootCert: String?, clientCert: String?, clientKey: String?,
                            bad: (String) -> StorageError) throws(StorageError) -> PostgresConnection.Configuration.TLS {
        guard mode != "disable" else { return .disable }
        var t = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case "verify-full": t.certificateVerification = .fullVerification
        case "verify-ca": t.certificateVerification = .noHostnameVerification
        default: t.certificateVerification = rootCert == nil ? .none : .noHostnameVerification  // libpq's rule
        }
        if let rootCert { t.trustRoots = .file(rootCert) }
        do {
            if let clientCert, let clientKey {
                t.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCert).map { .certificate($0) }
                t.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKey, format: .pem))
            }
            let context = try NIOSSLContext(configuration: t)
            return mode == "prefer" ? .prefer(context) : .require(context)
        } catch {
            throw bad("the TLS files cannot be used: \(error)")
        }
    }

    /// `text` with any password replaced by "***", for error messages.
    public static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
