// Crash-safe replacement of a whole file, for the engine's data files and the storage layer's
// collection files alike. The bytes go to a temporary file beside the target (its name starts
// with `temporaryPrefix`, so the debris of a crash is recognisable), which is fsynced and renamed
// over the target; then the directory is fsynced, without which the rename itself may not survive
// a power loss. After a crash the target is the old file or the whole new one, never a torn mix.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicFile {
    /// Start of every temporary file's name.
    public static let temporaryPrefix = ".tmp-"

    /// The system call that failed, its errno and the path it acted on. Callers word the message:
    /// the engine and the storage layer each have their own error type and phrasing.
    public struct Failure: Error, Sendable {
        public enum Step: Sendable { case createTemporary, write, fsync, close, rename, openDirectory, fsyncDirectory }
        public let step: Step
        public let code: Int32
        /// The temporary file for `createTemporary`, the directory for the directory steps, else the target.
        public let path: String

        /// "No space left on device (errno 28)".
        public var reason: String { "\(String(cString: strerror(code))) (errno \(code))" }
    }

    /// Replaces `path` with `data` atomically and durably.
    public static func replace(_ path: String, with data: Data) throws(Failure) {
        try replace(path, withParts: [data])
    }

    /// Replaces `path` with the concatenation of `parts` atomically and durably, without joining
    /// them in memory first (for files of gigabytes written from arrays already held).
    public static func replace(_ path: String, withParts parts: [any ContiguousBytes]) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent("\(temporaryPrefix)\(url.lastPathComponent)-\(UUID().uuidString)").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(step: .createTemporary, code: errno, path: temporary) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        var failure: Failure?
        for part in parts where failure == nil {
          part.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = Failure(step: .write, code: errno, path: path)
                    return
                }
                offset += n
            }
          }
        }
        if failure == nil, fsync(fd) != 0 { failure = Failure(step: .fsync, code: errno, path: path) }
        if close(fd) != 0, failure == nil { failure = Failure(step: .close, code: errno, path: path) }
        if let failure { throw failure }
        guard rename(temporary, path) == 0 else { throw Failure(step: .rename, code: errno, path: path) }
        renamed = true
        try syncDirectory(folder.path)
    }

    /// Makes creations, renames and removals inside `directory` durable.
    public static func syncDirectory(_ directory: String) throws(Failure) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(step: .openDirectory, code: errno, path: directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(step: .fsyncDirectory, code: errno, path: directory) }
    }
}
