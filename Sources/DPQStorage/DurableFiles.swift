// Crash-safe file operations of the storage layer, with its errors: whole-file replacement and
// directory fsyncs are the engine's AtomicFile; directory changes (creations, renames, removals)
// are made durable by fsyncing the parent directory.

import DPQEngine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum DurableFiles {
    /// Prefix of temporary files; anything starting with it is debris of a crash.
    static let temporaryPrefix = AtomicFile.temporaryPrefix

    static func writeAtomically(_ data: Data, to path: String) throws(StorageError) {
        do { try AtomicFile.replace(path, with: data) } catch { throw storageError(error) }
    }

    static func writeAtomically(parts: [any ContiguousBytes], to path: String) throws(StorageError) {
        do { try AtomicFile.replace(path, withParts: parts) } catch { throw storageError(error) }
    }

    /// Makes creations, renames and removals inside `directory` durable.
    static func syncDirectory(_ directory: String) throws(StorageError) {
        do { try AtomicFile.syncDirectory(directory) } catch { throw storageError(error) }
    }

    private static func storageError(_ failure: AtomicFile.Failure) -> StorageError {
        let what = switch failure.step {
        case .createTemporary: "cannot create '\(failure.path)'"
        case .write: "cannot write '\(failure.path)'"
        case .fsync: "cannot fsync '\(failure.path)'"
        case .close: "cannot close '\(failure.path)'"
        case .rename: "cannot rename a temporary file to '\(failure.path)'"
        case .openDirectory: "cannot open directory '\(failure.path)'"
        case .fsyncDirectory: "cannot fsync directory '\(failure.path)'"
        }
        return StorageError.fromErrno(failure.code, "\(what): \(failure.reason)")
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
