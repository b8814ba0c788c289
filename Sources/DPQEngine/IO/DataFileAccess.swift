// Whole-file reads and crash-safe whole-file writes (AtomicFile) shared by every data-file format.

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

    /// Replaces `path` with `data` atomically and durably (AtomicFile).
    static func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try AtomicFile.replace(path, with: data)
        } catch {
            let what = switch error.step {
            case .createTemporary: "cannot create temporary file '\(error.path)'"
            case .write: "write failed"
            case .fsync: "fsync failed"
            case .close: "close failed"
            case .rename: "cannot rename temporary file into place"
            case .openDirectory: "cannot open directory '\(error.path)' to fsync it"
            case .fsyncDirectory: "fsync of directory '\(error.path)' failed"
            }
            throw DataFileError("\(what): \(error.reason)", path: path)
        }
    }
}
