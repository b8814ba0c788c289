// PostgreSQL's failures as StorageError, with the same meaning as SQLite's (StorageError.swift):
// a lost or refused connection, a server shutting down, a read-only standby, a serialization
// failure or too many connections are `unavailable` (gRPC UNAVAILABLE: the client may retry,
// and another node or a promoted replica may answer); a full disk or exhausted memory is
// `resourceExhausted`; a violated constraint is `invalidArgument`. Messages carry the server's
// own message (postgres-nio's description of its errors is deliberately generic).

import DPQStorage
import NIOCore
import NIOPosix
import PostgresNIO

enum PostgresErrors {
    static func map(_ error: any Error, _ context: String) -> StorageError {
        switch error {
        case let e as StorageError:
            return e
        case let e as PSQLError:
            if e.code == .server, let state = e.serverInfo?[.sqlState] {
                let message = "\(context): \(e.serverInfo?[.message] ?? "PostgreSQL error") (SQLSTATE \(state))"
                return fromSQLState(state, message: message)
            }
            let cause = e.underlying.map { ": \($0)" } ?? ""
            return .unavailable("\(context): the connection to PostgreSQL failed (\(e.code))\(cause)")
        case let e as PostgresDecodingError:
            return .failedPrecondition("\(context): column '\(e.columnName)' holds an unexpected value (\(e.code)); the database is damaged or newer than this program")
        case is IOError, is ChannelError, is NIOConnectionError:
            return .unavailable("\(context): \(error)")
        default:
            return StorageError.from(error, context)
        }
    }

    /// Whether a connection is still fit for the next call after `error`: after our own errors
    /// and a statement's, yes; after a connection error or an "operator intervention"
    /// (57: the server shutting down, the session terminated), no.
    static func connectionSurvives(_ error: any Error) -> Bool {
        switch error {
        case is StorageError, is PostgresDecodingError: return true
        case let e as PSQLError:
            guard e.code == .server, let state = e.serverInfo?[.sqlState] else { return false }
            return !state.hasPrefix("08") && !state.hasPrefix("57")
        default: return false
        }
    }

    /// By SQLSTATE class (the first two characters), with the exceptions that matter.
    static func fromSQLState(_ state: String, message: String) -> StorageError {
        switch state {
        case "53100", "53200": return .resourceExhausted(message)  // disk_full, out_of_memory
        default: break
        }
        switch state.prefix(2) {
        case "22", "23": return .invalidArgument(message)  // data exception, integrity constraint violation
        default: return .unavailable(message)  // 08 connection, 25006 read-only, 40 serialization, 53300, 57 shutdown, ...
        }
    }
}
