// The store of collections in one PostgreSQL database (`dpq serve --store postgres://...`),
// the second CollectionCatalog beside SQLite's DataDirectory. Opening it connects, and
// creates or migrates the schema (PostgresSchema.swift); collections are rows of
// `collections`, created and deleted each in one transaction, so a crash at any point leaves
// a whole collection or none. Each collection is opened once per store and its handle handed
// out again, as DataDirectory does.
//
// Several servers may open one database: creation relies on the unique name, deletion on
// ON DELETE CASCADE, and writes are ordered per collection by its row (PostgresCollectionStore);
// each server follows the others' writes through the change sequences
// (PostgresCollectionStore+Changes.swift).

import DPQEngine
import DPQStorage
import Foundation
import Logging
import PostgresNIO
import Synchronization

public final class PostgresStore: CollectionCatalog {
    public typealias Store = PostgresCollectionStore
    public let location: String
    let db: PostgresConnections
    /// How long the change history is kept (PostgresURL).
    let changeRetentionSeconds: Int
    private let open = Mutex<[String: PostgresCollectionStore]>([:])
    /// Started by watchChanges; stopped by close, before the connections' event loop goes.
    let watches = Mutex<[PostgresChangeWatch]>([])

    /// Connects to the database named by `url` (PostgresURL describes the form) and brings its
    /// schema up to date. Fails with unavailable when PostgreSQL cannot be reached.
    public init(url: String, logger: Logger = Logger(label: "dpq.postgres")) throws {
        let parsed = try PostgresURL(url)
        location = parsed.location
        changeRetentionSeconds = parsed.changeRetentionSeconds
        db = PostgresConnections(configuration: parsed.configuration, location: parsed.location,
                                 connectTimeout: parsed.connectTimeout, logger: logger)
        do {
            // Reachable first, so that an unreachable server is reported as that.
            _ = try db.withConnection("open the store") { try $0.execute("SELECT 1") }
            try migrate()
        } catch {
            db.close()
            throw error
        }
    }

    /// Applies the migrations the database lacks, each in a transaction with its
    /// schema_migrations row, under an advisory lock (concurrent starts migrate once).
    private func migrate() throws(StorageError) {
        let known = PostgresSchema.migrations.map(\.version).max() ?? 0
        for migration in PostgresSchema.migrations {
            try db.transaction("migrate the database schema to version \(migration.version)") { s in
                try s.execute("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))")
                try s.execute(PostgresQuery(unsafeSQL: PostgresSchema.bookkeeping))
                let applied = try s.query("SELECT version FROM schema_migrations").map { try $0.decode(Int.self) }
                if let newest = applied.max(), newest > known {
                    throw StorageError.failedPrecondition("the database at \(location) has schema version \(newest), newer than this dpq understands (\(known)); upgrade dpq")
                }
                guard !applied.contains(migration.version) else { return }
                for statement in migration.statements { try s.execute(PostgresQuery(unsafeSQL: statement)) }
                try s.execute("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
            }
        }
    }

    public func createCollection(_ config: CollectionConfig) throws -> PostgresCollectionStore {
        try config.validate()
        let name = config.name
        let json = try storage("cannot encode the configuration of '\(name)'") {
            String(decoding: try CollectionConfig.encoder.encode(config), as: UTF8.self)
        }
        return try open.withLock { stores throws(StorageError) -> PostgresCollectionStore in
            if let existing = stores[name] {
                // A handle of a collection another server deleted no longer holds the name.
                let alive = try db.withConnection("create collection '\(name)'") { s in
                    try s.scalar("SELECT count(*) FROM collections WHERE id = \(existing.id)", as: Int64.self) == 1
                }
                guard !alive else { throw StorageError.alreadyExists("collection '\(name)' already exists") }
                stores[name] = nil
                existing.markClosed()
            }
            let id = try db.transaction("create collection '\(name)'") { s in
                try s.scalar("""
                    INSERT INTO collections (name, config) VALUES (\(name), \(json))
                    ON CONFLICT (name) DO NOTHING RETURNING id
                    """, as: Int64.self)
            }
            guard let id else { throw StorageError.alreadyExists("collection '\(name)' already exists") }
            let store = try PostgresCollectionStore(id: id, config: config, db: db)
            stores[name] = store
            return store
        }
    }

    /// The collection's store; the same instance for every call while it is open.
    public func openCollection(_ name: String) throws -> PostgresCollectionStore {
        try CollectionName.validate(name)
        return try open.withLock { stores throws(StorageError) -> PostgresCollectionStore in
            if let store = stores[name] { return store }
            let row = try db.withConnection("open collection '\(name)'") { s in
                try s.query("SELECT id, config FROM collections WHERE name = \(name)").first.map { try $0.decode((Int64, String).self) }
            }
            guard let (id, json) = row else { throw StorageError.notFound("collection '\(name)' does not exist") }
            let config = try storage("collection '\(name)' has an invalid configuration in the database") {
                try CollectionConfig.decoder.decode(CollectionConfig.self, from: Data(json.utf8))
            }
            let store = try PostgresCollectionStore(id: id, config: config, db: db)
            stores[name] = store
            return store
        }
    }

    /// Names of the stored collections, sorted as DataDirectory sorts them.
    public func listCollections() throws -> [String] {
        try db.withConnection("list the collections") { s in
            try s.query("SELECT name FROM collections").map { try $0.decode(String.self) }
        }.sorted()
    }

    /// Deletes the collection and everything it holds in one transaction; its open store is
    /// closed (later calls on it fail with unavailable).
    public func deleteCollection(_ name: String) throws {
        try CollectionName.validate(name)
        try open.withLock { stores throws(StorageError) in
            let deleted = try db.transaction("delete collection '\(name)'") { s in
                try s.execute("DELETE FROM collections WHERE name = \(name)")
            }
            guard deleted > 0 else { throw StorageError.notFound("collection '\(name)' does not exist") }
            stores.removeValue(forKey: name)?.markClosed()
        }
    }

    /// Every collection's change sequence number. Handles opened here whose collection is gone
    /// (deleted by another server, perhaps re-created under its name) are closed and forgotten,
    /// so that the name opens afresh (it is left out of this answer). The query runs under the lock that creation holds, so a
    /// collection created here is either committed before it (and listed) or not yet a handle.
    public func changeSequences() throws -> [String: Int64]? {
        try open.withLock { stores throws(StorageError) -> [String: Int64] in
            let rows = try db.withConnection("read the change sequences") { s in
                try s.query("SELECT name, id, seq FROM collections").map { try $0.decode((String, Int64, Int64).self) }
            }
            var ids: [String: Int64] = [:], seqs: [String: Int64] = [:]
            for (name, id, seq) in rows { ids[name] = id; seqs[name] = seq }
            for (name, store) in stores where ids[name] != store.id {
                stores.removeValue(forKey: name)
                store.markClosed()
                // Re-created under its name: absent from this answer (so the caller drops what it
                // built on the old handle), listed by the next.
                seqs[name] = nil
            }
            return seqs
        }
    }

    /// Drops, for every collection, the tombstones and change rows up to the newest change older
    /// than the retention (`change_retention` in the URL), and records that number as
    /// pruned_seq, in one statement: a follower's snapshot sees either all of it or none.
    /// Followers at or past pruned_seq lose nothing (what they still need is newer); one behind
    /// it is told to reload (StoreChanges.historyPruned). The horizon is taken from committed
    /// rows only, so an in-flight write (holding a newer number) is never touched.
    public func pruneChangeHistory() throws -> Int {
        let seconds = Double(changeRetentionSeconds)
        return try db.withConnection("prune the change history") { s in
            Int(try s.scalar("""
                WITH h AS (
                    SELECT collection_id, max(seq) AS s FROM changes
                    WHERE at < now() - make_interval(secs => \(seconds)) GROUP BY collection_id
                ), t AS (
                    DELETE FROM item_tombstones i USING h WHERE i.collection_id = h.collection_id AND i.seq <= h.s RETURNING 1
                ), c AS (
                    DELETE FROM changes x USING h WHERE x.collection_id = h.collection_id AND x.seq <= h.s RETURNING 1
                ), u AS (
                    UPDATE collections SET pruned_seq = h.s FROM h WHERE collections.id = h.collection_id AND collections.pruned_seq < h.s
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM c)
                """, as: Int64.self) ?? 0)
        }
    }

    /// Every minute, or as often as the retention when that is shorter (at least every second).
    public var pruneInterval: Duration? { .seconds(max(1, min(60, changeRetentionSeconds))) }

    /// Closes every open collection and the connections.
    public func close() {
        for watch in watches.withLock({ w in defer { w.removeAll() }; return w }) { watch.stop(waiting: true) }
        open.withLock { stores in
            for store in stores.values { store.markClosed() }
            stores.removeAll()
        }
        db.close()
    }
}
