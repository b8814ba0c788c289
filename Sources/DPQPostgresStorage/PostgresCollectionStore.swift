// One collection in PostgreSQL: the CollectionStorage of PostgresStore (CollectionStorage.swift
// states the contract it shares with SQLite's CollectionStore). Every write is one
// transaction, committed before the call returns, and PostgreSQL's commit is durable (WAL
// flushed, unless the server was configured otherwise); reads are single statements, so each
// sees one snapshot.
//
// Every write transaction starts by taking the next change sequence number of the
// collection's row (`UPDATE collections SET seq = seq + 1 ... RETURNING seq`), which also
// locks that row until the commit: writers of one collection — on this server or another —
// go one at a time, in seq order. The write stamps what it stores with the seq and records a
// row in `changes` (PostgresSchema.swift); the other servers follow the writes through them
// (PostgresCollectionStore+Changes.swift).
//
// Opening repairs what a crash leaves, as SQLite's store does: a `training` state becomes the
// last good state with "training was interrupted by a restart" — unless another server holds
// the training lease (an advisory lock, PostgresTrainingLease) and is still training.

import DPQEngine
import DPQStorage
import Foundation
import PostgresNIO
import Synchronization

public final class PostgresCollectionStore: CollectionStorage {
    public let config: CollectionConfig
    /// The collection's row in `collections`.
    let id: Int64
    let db: PostgresConnections
    private let closed = Atomic<Bool>(false)
    /// The model of the committed generation, decoded once.
    let loadedModel = Mutex<(generation: Int, model: DPQModel)?>(nil)

    init(id: Int64, config: CollectionConfig, db: PostgresConnections) throws(StorageError) {
        self.id = id
        self.config = config
        self.db = db
        try recover()
    }

    private func recover() throws(StorageError) {
        do { _ = try repairAbandonedTraining() } catch let e as StorageError { throw e } catch { throw .unavailable("cannot recover '\(config.name)': \(error)") }
    }

    /// A `training` state whose lease nobody holds (its server died, or this one restarted)
    /// becomes the last good state with "training was interrupted by a restart". A training
    /// that another server is running keeps its state.
    public func repairAbandonedTraining() throws -> Bool {
        // A write only when there is something to repair.
        guard try column("state", String.self, "read the state of '\(config.name)'") == CollectionState.training.rawValue else { return false }
        return try write("recover collection '\(config.name)'", kind: "state") { s, _ in
            // Free when no server trains it; taken for this transaction only.
            guard try s.scalar("SELECT pg_try_advisory_xact_lock(\(PostgresSchema.trainingLockKey(id)))", as: Bool.self) == true else { return false }
            return try s.execute("""
                UPDATE collections SET state = CASE WHEN model_generation > 0 THEN 'ready' ELSE 'untrained' END,
                                       last_error = \(CollectionStore.interruptedMessage), cancel_requested = false
                WHERE id = \(id) AND state = 'training'
                """) > 0
        }
    }

    public func trainingLease() throws -> (any TrainingLease)? {
        let session = try db.dedicated("take the training lease of '\(config.name)'")
        do {
            guard try session.scalar("SELECT pg_try_advisory_lock(\(PostgresSchema.trainingLockKey(id)))", as: Bool.self) == true else {
                db.drop(session.connection)
                return nil
            }
        } catch {
            db.drop(session.connection)
            throw PostgresErrors.map(error, "cannot take the training lease of '\(config.name)'")
        }
        return PostgresTrainingLease(session: session, name: config.name, db: db)
    }

    public func requestTrainingCancel() throws {
        try write("ask for the training of '\(config.name)' to be cancelled", kind: "cancel") { s, _ in
            try s.execute("UPDATE collections SET cancel_requested = true WHERE id = \(id) AND state = 'training'")
        }
    }

    /// Later calls fail with unavailable. The connections belong to the PostgresStore.
    public func close() throws { markClosed() }

    func markClosed() { closed.store(true, ordering: .releasing) }

    // MARK: - State

    public func state() throws -> CollectionState {
        let raw = try column("state", String.self, "read the state of '\(config.name)'")
        guard let state = CollectionState(rawValue: raw) else {
            throw StorageError.failedPrecondition("collection '\(config.name)' has an unknown state '\(raw)' (the database is damaged)")
        }
        return state
    }

    public func lastError() throws -> String? {
        try column("last_error", String?.self, "read the last error of '\(config.name)'")
    }

    public func setState(_ state: CollectionState, error: String?) throws {
        try write("set the state of '\(config.name)'", kind: "state") { s, _ in
            if state == .ready, try Self.generation(s, id) == 0 {
                throw StorageError.failedPrecondition("collection '\(config.name)' cannot be ready: it has no model")
            }
            try s.execute("UPDATE collections SET state = \(state.rawValue), last_error = \(error), cancel_requested = false WHERE id = \(id)")
        }
    }

    public func saveProgress(_ json: Data) throws {
        guard let text = String(data: json, encoding: .utf8) else {
            throw StorageError.invalidArgument("training progress must be UTF-8 JSON")
        }
        try write("save the training progress of '\(config.name)'", kind: "progress") { s, _ in
            try s.execute("UPDATE collections SET progress = \(text) WHERE id = \(id)")
        }
    }

    public func progress() throws -> Data? {
        try column("progress", String?.self, "read the training progress of '\(config.name)'").map { Data($0.utf8) }
    }

    // MARK: - Helpers

    /// One column of the collection's row; notFound when the collection was deleted.
    private func column<T: PostgresDecodable>(_ name: String, _ type: T.Type, _ what: @autoclosure () -> String) throws(StorageError) -> T {
        try read(what()) { s in
            guard let row = try s.query(PostgresQuery(unsafeSQL: "SELECT \(name) FROM collections WHERE id = $1", binds: Self.binds(id))).first else {
                throw gone()
            }
            return try row.decode(T.self)
        }
    }

    static func binds(_ values: Int64...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { b.append(v) }
        return b
    }

    static func generation(_ s: Session, _ id: Int64) throws -> Int {
        Int(try s.scalar("SELECT model_generation FROM collections WHERE id = \(id)", as: Int64.self) ?? 0)
    }

    func gone() -> StorageError {
        .notFound("collection '\(config.name)' does not exist (it was deleted)")
    }

    /// A read on its own connection, errors mapped to StorageError.
    func read<T>(_ what: @autoclosure () -> String, _ body: (Session) throws -> T) throws(StorageError) -> T {
        try checkOpen(what())
        return try db.withConnection(what(), body)
    }

    /// unavailable once the handle is closed.
    func checkOpen(_ what: @autoclosure () -> String) throws(StorageError) {
        guard !closed.load(ordering: .acquiring) else { throw StorageError.unavailable("cannot \(what()): collection '\(config.name)' is closed") }
    }

    /// A write transaction that takes the collection's next change sequence number (passed to
    /// `body`) and records the change as `kind`. notFound when the collection was deleted.
    @discardableResult
    func write<T>(_ what: @autoclosure () -> String, kind: String, _ body: (Session, Int64) throws -> T) throws(StorageError) -> T {
        try checkOpen(what())
        return try db.transaction(what()) { s in
            guard let seq = try s.scalar("UPDATE collections SET seq = seq + 1 WHERE id = \(id) RETURNING seq", as: Int64.self) else { throw gone() }
            let result = try body(s, seq)
            try s.execute("INSERT INTO changes (collection_id, seq, kind) VALUES (\(id), \(seq), \(kind))")
            return result
        }
    }
}

/// A training lease: the session advisory lock on a connection of its own, released by
/// closing the connection (or by PostgreSQL when the server holding it dies).
final class PostgresTrainingLease: TrainingLease {
    let session: Session
    let name: String
    let db: PostgresConnections

    init(session: Session, name: String, db: PostgresConnections) {
        self.session = session
        self.name = name
        self.db = db
    }

    func check() throws {
        do {
            _ = try session.execute("SELECT 1")
        } catch {
            throw StorageError.unavailable("the training lease of '\(name)' was lost (its connection to PostgreSQL broke): not committing")
        }
    }

    func release() { db.drop(session.connection) }
}
