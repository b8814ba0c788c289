// Storage failures must reach the service as the right status: a full disk as
// resourceExhausted, an unwritable place as unavailable. Tests run as root here, where
// file permissions do not stop writes, so the unwritable case uses /sys (which refuses new
// entries even to root) and the permission case runs only for a non-root user; the mapping
// itself is also tested directly.

import Foundation
import Testing
import GRDB
import DPQEngine
@testable import DPQStorage

@Suite struct ErrorMappingTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    @Test func unwritableRootIsUnavailable() throws {
        let e = Fixtures.storageError { _ = try DataDirectory(root: "/sys/dpq-storage-test-\(UUID().uuidString)/data") }
        #expect(e?.kind == "unavailable", "\(String(describing: e))")
    }

    @Test func rootThatIsAFileIsUnavailable() throws {
        let file = tmp.path + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(Fixtures.storageError { _ = try DataDirectory(root: file) }?.kind == "unavailable")
    }

    @Test func readOnlyRootIsUnavailableForNonRoot() throws {
        guard geteuid() != 0 else { return }   // root ignores mode bits; covered by /sys above
        let dir = try DataDirectory(root: tmp.path)
        chmod(tmp.path + "/collections", 0o500)
        defer { chmod(tmp.path + "/collections", 0o755) }
        #expect(Fixtures.storageError { _ = try dir.createCollection(Fixtures.config()) }?.kind == "unavailable")
    }

    @Test func fullDatabaseIsResourceExhausted() throws {
        let s = try DataDirectory(root: tmp.path).createCollection(Fixtures.config())
        try s.upsert([Fixtures.item(1)])
        // SQLite reports SQLITE_FULL when a database reaches max_page_count, exactly as on a
        // full disk. The pool has one writer connection, so the limit holds for later writes.
        try s.pool.write { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages + 2)")
        }
        let e = Fixtures.storageError { try s.upsert((2..<5000).map { Fixtures.item(UInt64($0)) }) }
        #expect(e?.kind == "resourceExhausted", "\(String(describing: e))")
        #expect(try s.count() == 1)
    }

    @Test func mapping() {
        #expect(StorageError.fromErrno(ENOSPC, "x").kind == "resourceExhausted")
        #expect(StorageError.fromErrno(EDQUOT, "x").kind == "resourceExhausted")
        for code in [EACCES, EROFS, EPERM, EIO] { #expect(StorageError.fromErrno(code, "x").kind == "unavailable") }
        #expect(StorageError.from(DatabaseError(resultCode: .SQLITE_FULL), "x").kind == "resourceExhausted")
        #expect(StorageError.from(DatabaseError(resultCode: .SQLITE_READONLY), "x").kind == "unavailable")
        #expect(StorageError.from(DatabaseError(resultCode: .SQLITE_CANTOPEN), "x").kind == "unavailable")
        #expect(StorageError.from(DatabaseError(resultCode: .SQLITE_IOERR_WRITE), "x").kind == "unavailable")
        #expect(StorageError.from(DataFileError("write failed: No space left on device (errno 28)", path: "/m"), "x").kind == "resourceExhausted")
        #expect(StorageError.from(DataFileError("cannot create temporary file: Read-only file system (errno 30)", path: "/m"), "x").kind == "unavailable")
        #expect(StorageError.from(POSIXError(.ENOSPC), "x").kind == "resourceExhausted")
        #expect(StorageError.from(CocoaError(.fileWriteOutOfSpace), "x").kind == "resourceExhausted")
        #expect(StorageError.from(CocoaError(.fileWriteVolumeReadOnly), "x").kind == "unavailable")
        #expect(StorageError.from(StorageError.notFound("n"), "x") == .notFound("n"))
        let e = StorageError.from(DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full"), "cannot store 3 items in 'c'")
        #expect(e.description == "cannot store 3 items in 'c': database or disk is full")
    }
}
