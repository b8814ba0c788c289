// The one error type of the storage layer. Each case matches a status the service reports
// (NOT_FOUND, ALREADY_EXISTS, ...), so the server maps them one to one without knowing
// anything about SQLite or errno; messages name the thing at fault and are shown as is.
// `StorageError.from` classifies the failures of the layers below: a full disk is
// resourceExhausted (the caller may free space and retry), an unwritable or unopenable
// directory is unavailable (an operator must fix the machine).

import Foundation
import GRDB
import DPQEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum StorageError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case alreadyExists(String)
    case invalidArgument(String)
    case failedPrecondition(String)
    case unavailable(String)
    case resourceExhausted(String)

    public var description: String {
        switch self {
        case .notFound(let m), .alreadyExists(let m), .invalidArgument(let m),
             .failedPrecondition(let m), .unavailable(let m), .resourceExhausted(let m):
            return m
        }
    }

    /// `error` classified, its message prefixed with `context` (what was being done to what).
    /// StorageErrors pass through unchanged: they already say what is wrong.
    public static func from(_ error: any Error, _ context: String) -> StorageError {
        switch error {
        case let e as StorageError:
            return e
        case let e as DatabaseError:
            return fromSQLite(primaryCode: e.resultCode.primaryResultCode.rawValue,
                              message: "\(context): \(e.message ?? "SQLite error \(e.resultCode.rawValue)")")
        case let e as DataFileError:
            // The engine's file writer reports errno as "(errno N)" in its message.
            if let code = errnoIn(e.message) { return fromErrno(code, "\(context): \(e.description)") }
            return .unavailable("\(context): \(e.description)")
        case let e as POSIXError:
            return fromErrno(e.code.rawValue, "\(context): \(e.localizedDescription)")
        case let e as CocoaError:
            if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return fromErrno(Int32(underlying.code), "\(context): \(e.localizedDescription)")
            }
            switch e.code {
            case .fileWriteOutOfSpace: return .resourceExhausted("\(context): the disk is full")
            case .fileNoSuchFile, .fileReadNoSuchFile: return .notFound("\(context): \(e.localizedDescription)")
            default: return .unavailable("\(context): \(e.localizedDescription)")
            }
        default:
            let ns = error as NSError
            if ns.domain == NSPOSIXErrorDomain { return fromErrno(Int32(ns.code), "\(context): \(ns.localizedDescription)") }
            return .unavailable("\(context): \(error)")
        }
    }

    /// SQLite primary result codes: FULL is a full disk; READONLY, CANTOPEN, PERM and the
    /// rest mean the database cannot be written now.
    static func fromSQLite(primaryCode: Int32, message: String) -> StorageError {
        switch primaryCode {
        case 13: return .resourceExhausted(message)            // SQLITE_FULL
        case 19: return .invalidArgument(message)              // SQLITE_CONSTRAINT
        default: return .unavailable(message)                  // READONLY (8), CANTOPEN (14), PERM (3), IOERR (10), ...
        }
    }

    package static func fromErrno(_ code: Int32, _ message: String) -> StorageError {
        switch code {
        case ENOSPC, EDQUOT: return .resourceExhausted(message)
        default: return .unavailable(message)                  // EACCES, EPERM, EROFS, EIO, ...
        }
    }

    /// A StorageError for the current errno after a failed system call.
    static func lastErrno(_ what: String) -> StorageError {
        let code = errno
        return fromErrno(code, "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }

    private static func errnoIn(_ message: String) -> Int32? {
        guard let r = message.range(of: "(errno ", options: .backwards) else { return nil }
        return Int32(message[r.upperBound...].prefix(while: { $0.isNumber }))
    }
}

/// Runs `body`, turning any error into a StorageError with `context`.
@inline(__always)
package func storage<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws(StorageError) -> T {
    do {
        return try body()
    } catch {
        throw StorageError.from(error, context())
    }
}
