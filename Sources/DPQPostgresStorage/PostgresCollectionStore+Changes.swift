// Following the writes of every server on the database (issue 14). Each write transaction
// takes the collection's next change sequence number and stamps the items it writes with it,
// or leaves a tombstone per deleted item (PostgresCollectionStore.write, PostgresSchema), so
// "everything after seq s" is: the items whose seq is above s, as they are now, and the
// tombstones above s. Both are read in one REPEATABLE READ transaction together with the
// collection's seq and model generation, so they describe one committed state: a node that
// applies deletions first and then the items reaches exactly the collection as of that seq.
// A write that is in flight holds the collection's row lock and has not committed: the
// snapshot shows none of it and a seq below it, so it is read whole by the next call.

import DPQEngine
import DPQStorage
import Foundation
import PostgresNIO

extension PostgresCollectionStore {
    public func changeSequence() throws -> Int64? {
        try read("read the change sequence of '\(config.name)'") { s in
            guard let seq = try s.scalar("SELECT seq FROM collections WHERE id = \(id)", as: Int64.self) else { throw gone() }
            return seq
        }
    }

    public func changes(after seq: Int64, countPending: Bool) throws -> StoreChanges? {
        try snapshot("read the changes of '\(config.name)'") { s in
            guard let row = try s.query("SELECT seq, model_generation, cancel_requested, pruned_seq FROM collections WHERE id = \(id)").first else {
                throw gone()
            }
            let (now, generation, cancel, pruned) = try row.decode((Int64, Int64, Bool, Int64).self)
            var changes = StoreChanges(seq: now, modelGeneration: Int(generation))
            changes.trainingCancelRequested = cancel
            if seq < pruned {
                changes.historyPruned = true
                return changes
            }
            if now > seq {
                changes.statusChanged = try s.scalar("""
                    SELECT EXISTS (SELECT 1 FROM changes WHERE collection_id = \(id) AND seq > \(seq) AND kind IN ('state', 'progress', 'model'))
                    """, as: Bool.self) ?? false
                changes.deleted = try s.query("""
                    SELECT id_number, id_string FROM item_tombstones WHERE collection_id = \(id) AND seq > \(seq) ORDER BY seq
                    """).map { row in
                    let (number, string) = try row.decode((Int64?, String?).self)
                    return number.map { .number(UInt64(bitPattern: $0)) } ?? .string(string ?? "")
                }
                changes.upserted = try s.query("""
                    SELECT id_number, id_string, labels, code, vector FROM items
                    WHERE collection_id = \(id) AND seq > \(seq) ORDER BY rowid
                    """).map { try Self.item($0, dimension: config.model.inputDimension) }
            }
            if countPending {
                changes.pendingCount = Int(try s.scalar("""
                    SELECT count(*) FROM items WHERE collection_id = \(id) AND length(code) = 0
                    """, as: Int64.self) ?? 0)
            }
            return changes
        }
    }

    /// A read-only transaction on one snapshot (several statements that must agree).
    func snapshot<T>(_ what: @autoclosure () -> String, _ body: (Session) throws -> T) throws(StorageError) -> T {
        try checkOpen(what())
        return try db.transaction(what(), begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }
}
