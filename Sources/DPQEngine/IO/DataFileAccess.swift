// Whole-file reads and crash-safe whole-file writes shared by every data-file format.
// Writes go to a temporary file in the destination's directory which is fsynced and then
// renamed over the destination, and the directory is fsynced, so a crash or power loss
// leaves either the old file or the complete new one, never a torn mix.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

enum DataFileAccess {
    /// The contents of `path`, read into memory. Not memory-mapped: a mapped file truncated by
    /// another process would crash the reader with SIGBUS instead of raising an error.
    static func read(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataFileError("file does not exist", path: path)
        }
        if isDirectory.boolValue { throw DataFileError("is a directory, not a file", path: path) }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataFileError("cannot read file: \(error.localizedDescription)", path: path)
        }
    }

    /// Replaces `path` with `data` atomically and durably.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString)").path

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("cannot create temporary file '\(temporary)'", path) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }

        do {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, base + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw posixError("write failed", path)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw posixError("fsync failed", path) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw posixError("close failed", path) }
        guard rename(temporary, path) == 0 else { throw posixError("cannot rename temporary file into place", path) }
        renamed = true

        // Without this the rename itself may not survive a power loss.
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw posixError("cannot open directory '\(directory)' to fsync it", path) }
        defer { close(dirfd) }
        guard fsync(dirfd) == 0 else { throw posixError("fsync of directory '\(directory)' failed", path) }
    }

    private static func posixError(_ what: String, _ path: String) -> DataFileError {
        let code = errno
        return DataFileError("\(what): \(String(cString: strerror(code))) (errno \(code))", path: path)
    }
}
