// The start-up load: every item in one query on one snapshot, straight into contiguous
// arrays. It steps the SQLite statement itself and reads blobs in place, because going
// through GRDB's Row and Data costs several allocations per item, which at a million items
// is most of the load time.

import Foundation
import GRDB
import GRDBSQLite
import DPQEngine

extension CollectionStore {
    public func loadAll() throws -> LoadedItems {
        let width = config.codeBytes
        let bytesPerCode = CodeMatrix.bytesPerCode(codebookSize: config.model.codebookSize)
        let dimension = config.model.inputDimension
        let keep = config.keepVectors
        let name = config.name
        return try read("load the items of '\(name)'") { db -> LoadedItems in
            let n = try Self.itemCount(db)
            var ids = ItemIDTable()
            ids.reserveCapacity(n, indexing: false)
            var codes = [UInt8]()
            codes.reserveCapacity(n * width)
            var labels = Labels(classCount: max(config.model.classCount, 1), reserving: n)
            var vectors = [Float]()
            if keep { vectors.reserveCapacity(n * dimension) }
            var uncoded = [Int]()
            var rowids = [Int64]()
            rowids.reserveCapacity(n)
            var pending = [Float]()

            // Live segment items go in between the rows by rowid (ItemSegments.swift); they hold
            // no vectors. `segment` is the one being merged, `next` its next item.
            var segments = try Self.segmentRowids(db)[...]
            if keep, let s = segments.first {
                throw StorageError.failedPrecondition("collection '\(name)' keeps vectors but has an item segment at rowid \(s) (the database is damaged)")
            }
            var segment: ItemSegment?, next = 0
            func appendSegmentItems(before rowid: Int64) throws {
                while true {
                    if segment == nil {
                        guard let first = segments.first, first < rowid else { return }
                        segments.removeFirst()
                        segment = try ItemSegment.fetch(firstRowid: first, db)
                        next = 0
                        if let s = segment, s.codeBytes != width {
                            throw StorageError.failedPrecondition("collection '\(name)': the item segment at rowid \(first) has codes of \(s.codeBytes) bytes, expected \(width) (the database is damaged)")
                        }
                        continue
                    }
                    let s = segment!
                    while next < s.count, s.firstRowid + Int64(next) < rowid {
                        defer { next += 1 }
                        if s.isDead(next) { continue }
                        rowids.append(s.firstRowid + Int64(next))
                        ids.appendUnindexed(.number(UInt64(bitPattern: s.id(next))))
                        if let bad = s.withLabelBytes(next, { labels.append(uint32LittleEndian: $0) }) {
                            throw StorageError.failedPrecondition("collection '\(name)': item \(s.id(next)) has label \(bad), outside 0..<\(labels.classCount) (the database is damaged)")
                        }
                        s.codes.withUnsafeBytes { codes.append(contentsOf: $0[(next * width)..<((next + 1) * width)]) }
                    }
                    guard next == s.count else { return }
                    segment = nil
                }
            }

            let statement = try db.makeStatement(sql: "SELECT id_number, id_string, labels, code, vector, rowid FROM items ORDER BY rowid")
            let s = statement.sqliteStatement
            defer { sqlite3_reset(s) }
            func blob(_ column: Int32) -> UnsafeRawBufferPointer {
                let count = Int(sqlite3_column_bytes(s, column))
                guard count > 0, let p = sqlite3_column_blob(s, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
                return UnsafeRawBufferPointer(start: p, count: count)
            }
            while true {
                let rc = sqlite3_step(s)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let rowid = sqlite3_column_int64(s, 5)
                if segment != nil || !segments.isEmpty { try appendSegmentItems(before: rowid) }
                let row = ids.count
                rowids.append(rowid)
                if sqlite3_column_type(s, 0) == SQLITE_NULL {
                    let text = sqlite3_column_text(s, 1)
                    ids.appendUnindexed(.string(text.map { String(cString: $0) } ?? ""))
                } else {
                    ids.appendUnindexed(.number(UInt64(bitPattern: sqlite3_column_int64(s, 0))))
                }
                if let bad = labels.append(uint32LittleEndian: blob(2)) {
                    throw StorageError.failedPrecondition("collection '\(name)': item \(ids[row]) has label \(bad), outside 0..<\(labels.classCount) (the database is damaged)")
                }
                let code = blob(3)
                if code.count == width {
                    codes.append(contentsOf: code)
                } else if code.count == 0 {
                    codes.append(contentsOf: repeatElement(0, count: width))
                    uncoded.append(row)
                    if !keep {
                        let v = blob(4)
                        guard Blobs.appendVector(v, count: dimension, to: &pending) else {
                            throw StorageError.failedPrecondition("collection '\(name)': pending item \(ids[row]) has a vector of \(v.count) bytes, expected \(dimension) values (the database is damaged)")
                        }
                    }
                } else {
                    throw StorageError.failedPrecondition("collection '\(name)': item \(ids[row]) has a code of \(code.count) bytes, expected \(width) (the database is damaged)")
                }
                if keep {
                    let v = blob(4)
                    guard Blobs.appendVector(v, count: dimension, to: &vectors) else {
                        throw StorageError.failedPrecondition("collection '\(name)': item \(ids[row]) has a vector of \(v.count) bytes, expected \(dimension) values (the database is damaged)")
                    }
                }
            }
            try appendSegmentItems(before: .max)
            ids.indexAll()
            let count = ids.count
            return LoadedItems(ids: ids,
                               codes: CodeMatrix(count: count, blocks: config.model.blocks, bytesPerCode: bytesPerCode, bytes: codes),
                               labels: labels,
                               vectors: keep ? Matrix(rows: count, cols: dimension, values: vectors) : nil,
                               uncoded: uncoded,
                               pendingVectors: keep ? nil : Matrix(rows: uncoded.count, cols: dimension, values: pending),
                               rowids: rowids)
        }
    }
}
