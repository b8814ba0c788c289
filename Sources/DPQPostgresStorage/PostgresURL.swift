// The store URL of `dpq serve --store`: postgres://user[:password]@host[:port]/database, also
// spelled postgresql://. The password may instead come from $PGPASSWORD (so it stays out of
// process listings); `?host=/path/to/socket/dir` connects over the Unix socket in that
// directory. TLS is not supported yet: `sslmode` may only be `disable` (the default here), and
// any other value is refused rather than silently sending data in the clear.

import DPQStorage
import Foundation
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
        for item in url.queryItems ?? [] {
            switch item.name {
            case "host" where item.value?.hasPrefix("/") == true: socketDirectory = item.value
            case "sslmode" where item.value == "disable": break
            case "sslmode": throw bad("sslmode '\(item.value ?? "")' is not supported (TLS to PostgreSQL is not implemented; use sslmode=disable on a trusted network or a Unix socket)")
            default: throw bad("unknown parameter '\(item.name)'")
            }
        }
        if let socketDirectory {
            let port = url.port ?? 5432
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            location = "postgres://\(user)@/\(database)?host=\(socketDirectory)"
        } else {
            guard let host = url.host, !host.isEmpty else { throw bad("no host") }
            let port = url.port ?? 5432
            guard (1...65_535).contains(port) else { throw bad("port \(port) is out of range") }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
            location = "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }

    /// `text` with any password replaced by "***", for error messages.
    public static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
