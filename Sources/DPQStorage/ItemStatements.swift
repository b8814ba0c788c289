// The prepared statements of an upsert, stepped directly: one INSERT per new id (the bulk-load
// path), and a lookup plus an UPDATE per id that exists. Blobs are bound from the callers'
// buffers and stepped at once, so binding allocates nothing (SQLITE_STATIC: SQLite does not
// keep the pointer past the step).

import Foundation
import GRDB
import GRDBSQLite

struct ItemStatements {
    private let db: Database
    private let insertNumber: OpaquePointer, insertString: OpaquePointer
    private let findNumber: OpaquePointer, findString: OpaquePointer
    private let updateRow: OpaquePointer
    /// `rowsPerInsert` new rows in one statement, for each id kind (`insertAll`).
    private let insertNumbers: OpaquePointer, insertStrings: OpaquePointer
    /// Rowids replaced in this batch (an id named twice is counted once).
    private var replaced = Set<Int64>()

    /// Rows of one multi-row INSERT: a statement's own cost (step, reset, the VDBE program's
    /// start) is paid once for them instead of once per row.
    static let rowsPerInsert = 64

    init(_ db: Database) throws {
        self.db = db
        func prepare(_ sql: String) throws -> OpaquePointer { try db.cachedStatement(sql: sql).sqliteStatement }
        insertNumber = try prepare("INSERT INTO items (rowid, id_number, labels, code, vector) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
        insertString = try prepare("INSERT INTO items (rowid, id_string, labels, code, vector) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
        findNumber = try prepare("SELECT rowid, length(code) = 0 FROM items WHERE id_number = ?1")
        findString = try prepare("SELECT rowid, length(code) = 0 FROM items WHERE id_string = ?1")
        updateRow = try prepare("UPDATE items SET labels = ?2, code = ?3, vector = ?4 WHERE rowid = ?1")
        let values = Array(repeating: "(?, ?, ?, ?, ?)", count: Self.rowsPerInsert).joined(separator: ", ")
        insertNumbers = try prepare("INSERT INTO items (rowid, id_number, labels, code, vector) VALUES \(values)")
        insertStrings = try prepare("INSERT INTO items (rowid, id_string, labels, code, vector) VALUES \(values)")
    }

    /// A row of `insertAll`: its blobs as stored.
    struct NewRow {
        var id: ItemID
        var labels: [UInt8]
        var code: [UInt8]
        var vector: Data?
    }

    /// Inserts `rowsPerInsert` rows, ids all numbers or all strings, with rowids from `firstRowid`
    /// on, in one statement; false, having written nothing, when any of their ids exists (also
    /// within them). Without ON CONFLICT, the UNIQUE failure undoes this statement alone, not the
    /// transaction, and the caller stores the rows one by one instead.
    func insertAll(firstRowid: Int64, _ rows: [NewRow]) throws -> Bool {
        precondition(rows.count == Self.rowsPerInsert, "ItemStatements.insertAll: \(rows.count) rows")
        let s: OpaquePointer
        switch rows[0].id {
        case .number: s = insertNumbers
        case .string: s = insertStrings
        }
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        // Copied by SQLite at bind (SQLITE_TRANSIENT): the buffers need not outlive this call's binding loop.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        func blob(_ bytes: UnsafeRawBufferPointer, _ index: Int32) {
            if let base = bytes.baseAddress, bytes.count > 0 {
                sqlite3_bind_blob(s, index, base, Int32(bytes.count), transient)
            } else {
                sqlite3_bind_zeroblob(s, index, 0)
            }
        }
        for (j, row) in rows.enumerated() {
            let at = Int32(j * 5)
            sqlite3_bind_int64(s, at + 1, firstRowid + Int64(j))
            switch row.id {
            case .number(let n):
                guard s == insertNumbers else { preconditionFailure("ItemStatements.insertAll: ids of both kinds") }
                sqlite3_bind_int64(s, at + 2, Int64(bitPattern: n))
            case .string(let text):
                guard s == insertStrings else { preconditionFailure("ItemStatements.insertAll: ids of both kinds") }
                let rc = text.withCString { sqlite3_bind_text(s, at + 2, $0, Int32(text.utf8.count), transient) }
                guard rc == SQLITE_OK else { throw failure(rc) }
            }
            row.labels.withUnsafeBytes { blob($0, at + 3) }
            row.code.withUnsafeBytes { blob($0, at + 4) }
            if let v = row.vector { v.withUnsafeBytes { blob($0, at + 5) } } else { sqlite3_bind_null(s, at + 5) }
        }
        let rc = sqlite3_step(s)
        if rc == SQLITE_DONE { return true }
        if rc & 0xff == SQLITE_CONSTRAINT { return false }
        throw failure(rc)
    }

    /// Inserts a new row; false (nothing written) when the id exists.
    mutating func insert(rowid: Int64, _ id: ItemID, labels: [UInt8], code: [UInt8], vector: Data?) throws -> Bool {
        let s = try bind(id, number: insertNumber, string: insertString, at: 2)
        sqlite3_bind_int64(s, 1, rowid)
        try step(s, labels: labels, code: code, vector: vector)
        return sqlite3_changes(db.sqliteConnection) == 1
    }

    /// The row of an existing id and whether it had no code.
    func existing(_ id: ItemID) throws -> (rowid: Int64, pending: Bool) {
        let s = try bind(id, number: findNumber, string: findString, at: 1)
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        let rc = sqlite3_step(s)
        guard rc == SQLITE_ROW else { throw failure(rc) }
        return (sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1) != 0)
    }

    /// True the first time a rowid is replaced in this batch.
    mutating func firstReplace(_ rowid: Int64) -> Bool { replaced.insert(rowid).inserted }

    func update(rowid: Int64, labels: [UInt8], code: [UInt8], vector: Data?) throws {
        sqlite3_bind_int64(updateRow, 1, rowid)
        try step(updateRow, labels: labels, code: code, vector: vector, first: 2)
    }

    /// Binds labels, code and vector at `first`, `first` + 1, `first` + 2 and steps once.
    private func step(_ s: OpaquePointer, labels: [UInt8], code: [UInt8], vector: Data?, first: Int32 = 3) throws {
        defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
        let rc = labels.withUnsafeBytes { l in
            code.withUnsafeBytes { c in
                let bound = { (v: UnsafeRawBufferPointer?) -> Int32 in
                    Self.bindBlob(l, to: s, at: first)
                    Self.bindBlob(c, to: s, at: first + 1)
                    if let v { Self.bindBlob(v, to: s, at: first + 2) } else { sqlite3_bind_null(s, first + 2) }
                    return sqlite3_step(s)
                }
                return vector.map { v in v.withUnsafeBytes { bound($0) } } ?? bound(nil)
            }
        }
        guard rc == SQLITE_DONE else { throw failure(rc) }
    }

    /// An empty buffer binds as an empty blob, never NULL (labels and code are NOT NULL).
    private static func bindBlob(_ bytes: UnsafeRawBufferPointer, to s: OpaquePointer, at index: Int32) {
        if let base = bytes.baseAddress, bytes.count > 0 {
            sqlite3_bind_blob(s, index, base, Int32(bytes.count), nil)
        } else {
            sqlite3_bind_zeroblob(s, index, 0)
        }
    }

    /// Binds `id` at `index` of the statement for its kind, and returns that statement.
    private func bind(_ id: ItemID, number: OpaquePointer, string: OpaquePointer, at index: Int32) throws -> OpaquePointer {
        switch id {
        case .number(let n):
            sqlite3_bind_int64(number, index, Int64(bitPattern: n))
            return number
        case .string(let text):
            let rc = text.withCString {
                sqlite3_bind_text(string, index, $0, Int32(text.utf8.count), unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
            guard rc == SQLITE_OK else { throw failure(rc) }
            return string
        }
    }

    private func failure(_ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }
}
