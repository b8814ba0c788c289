// Engine and storage errors as gRPC statuses. Their messages already name the field or
// thing at fault, so they pass through unchanged.

import DPQEngine
import DPQStorage
import GRPCCore

enum RPCErrors {
    static func alreadyExists(_ m: String) -> RPCError { RPCError(code: .alreadyExists, message: m) }

    static func map(_ error: any Error) -> RPCError {
        switch error {
        case let e as RPCError: return e
        case let e as EngineError:
            switch e {
            case .invalidArgument(let m): return RPCError(code: .invalidArgument, message: m)
            case .cancelled: return RPCError(code: .cancelled, message: e.description)
            }
        case let e as StorageError:
            switch e {
            case .notFound(let m): return RPCError(code: .notFound, message: m)
            case .alreadyExists(let m): return RPCError(code: .alreadyExists, message: m)
            case .invalidArgument(let m): return RPCError(code: .invalidArgument, message: m)
            case .failedPrecondition(let m): return RPCError(code: .failedPrecondition, message: m)
            case .unavailable(let m): return RPCError(code: .unavailable, message: m)
            case .resourceExhausted(let m): return RPCError(code: .resourceExhausted, message: m)
            }
        case let e as DataFileError: return RPCError(code: .invalidArgument, message: e.description)
        case is CancellationError: return RPCError(code: .cancelled, message: "the call was cancelled")
        default: return RPCError(code: .internalError, message: "internal error: \(error)")
        }
    }

    /// Runs `body`, turning any error into the matching RPCError.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw map(error) }
    }
}
