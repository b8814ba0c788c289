// Crash-safe file operations. A file is replaced by writing a temporary file beside it,
// fsyncing it, renaming it over the target and fsyncing the directory, so after a crash or
// a power loss the target is either the old file or the whole new one. Directory changes
// (creations, renames, removals) are made durable by fsyncing the parent directory.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum DurableFiles {
    /// Prefix of temporary files; anything starting with it is debris of a crash.
    static let temporaryPrefix = ".tmp-"

    static func writeAtomically(_ data: Data, to path: String) throws(StorageError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent("\(temporaryPrefix)\(url.lastPathComponent)-\(UUID().uuidString)").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.lastErrno("cannot create '\(temporary)'") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        var failure: StorageError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = StorageError.lastErrno("cannot write '\(path)'")
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = StorageError.lastErrno("cannot fsync '\(path)'") }
        if close(fd) != 0, failure == nil { failure = StorageError.lastErrno("cannot close '\(path)'") }
        if let failure { throw failure }
        guard rename(temporary, path) == 0 else { throw StorageError.lastErrno("cannot rename a temporary file to '\(path)'") }
        renamed = true
        try syncDirectory(directory)
    }

    /// Makes creations, renames and removals inside `directory` durable.
    static func syncDirectory(_ directory: String) throws(StorageError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.lastErrno("cannot open directory '\(directory)'") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError.lastErrno("cannot fsync directory '\(directory)'") }
    }

    /// Creates `path` and its missing parents.
    static func makeDirectory(_ path: String) throws(StorageError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw StorageError.unavailable("'\(path)' exists and is not a directory")
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if parent != path && !parent.isEmpty { try makeDirectory(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw StorageError.lastErrno("cannot create directory '\(path)'") }
        if parent != path && !parent.isEmpty { try? syncDirectory(parent) }
    }

    /// Names in `directory` (no '.' or '..').
    static func list(_ directory: String) throws(StorageError) -> [String] {
        try storage("cannot list directory '\(directory)'") { try FileManager.default.contentsOfDirectory(atPath: directory) }
    }

    static func remove(_ path: String) throws(StorageError) {
        try storage("cannot remove '\(path)'") { try FileManager.default.removeItem(atPath: path) }
    }
}
