// Errors the engine reports to its callers. Messages name the field or argument at fault,
// so that the service can pass them on as INVALID_ARGUMENT without rewording.

public enum EngineError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case cancelled

    public var description: String {
        switch self {
        case .invalidArgument(let m): return m
        case .cancelled: return "training was cancelled"
        }
    }
}

/// Throws invalidArgument unless every value of `m` is finite.
func requireFinite(_ m: Matrix, _ name: String) throws {
    for (i, v) in m.values.enumerated() where !v.isFinite {
        throw EngineError.invalidArgument("\(name): row \(i / max(m.cols, 1)) column \(i % max(m.cols, 1)) is \(v), values must be finite")
    }
}
