// The single error type of the data-file readers and writers (.fvecs/.bvecs/.ivecs, .npy,
// .safetensors). One type, carrying the offending path and a sentence naming what is wrong,
// so callers can show it to a user as is and tests can match on the message.

public struct DataFileError: Error, CustomStringConvertible, Equatable {
    /// The file concerned; nil when parsing bytes that did not come from a file.
    public var path: String?
    /// What is wrong, e.g. "row 17 has dimension 783, expected 784".
    public var message: String

    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }

    /// The same error attributed to `path`, unless it already names a file.
    func at(_ path: String) -> DataFileError {
        var e = self
        if e.path == nil { e.path = path }
        return e
    }
}

extension DataFileError {
    /// Runs `body`, attributing any DataFileError it throws to `path`. Parsers work on Data
    /// and know no path; the file-level entry points add it here.
    static func attributed<T>(to path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as DataFileError {
            throw e.at(path)
        }
    }
}
