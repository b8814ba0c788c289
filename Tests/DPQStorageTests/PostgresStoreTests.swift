// What only the PostgreSQL store has: the change sequence, versioned migrations, its URL,
// its error mapping, surviving a lost connection, and two stores (two "nodes") writing one
// collection. The behaviour it shares with SQLite is in StorageContractTests.

import DPQEngine
@testable import DPQPostgresStorage
import DPQStorage
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

extension StorageBackendTests {
    @Suite struct PostgresStoreTests {
        @Test func everyWriteTakesTheNextChangeSequenceNumber() throws {
            let f = try StoreFixture(.postgres)
            let server = try #require(f.server), db = try #require(f.database)
            let s = try f.collection(Fixtures.config("seq"))
            try s.upsert([Fixtures.item(1), Fixtures.item(2), Fixtures.item(3)])
            #expect(try s.delete([.number(2), .number(99)]) == 1)
            try s.setState(.failed, error: "x")
            try s.appendTrainingData(vectors: Matrix(rows: 1, cols: 4, values: [1, 2, 3, 4]), labels: [])
            try s.commitModel(Fixtures.model(s.config, seed: 1), recodedItems: [(.number(1), [1, 1, 1, 1])])
            #expect(try s.get([]) == [] && s.count() == 2)      // reads take no number
            let id = "(SELECT id FROM collections WHERE name = 'seq')"
            #expect(try server.psql(db, "SELECT seq FROM collections WHERE name = 'seq'") == "5\n")
            #expect(try server.psql(db, "SELECT seq || ' ' || kind FROM changes WHERE collection_id = \(id) ORDER BY seq")
                    == "1 upsert\n2 delete\n3 state\n4 training_data\n5 model\n")
            // Items carry the seq of their last write; a deleted item leaves a tombstone.
            #expect(try server.psql(db, "SELECT coalesce(id_number::text, id_string) || ' ' || seq FROM items WHERE collection_id = \(id) ORDER BY rowid")
                    == "1 5\nitem-3 1\n")
            #expect(try server.psql(db, "SELECT id_number || ' ' || seq FROM item_tombstones WHERE collection_id = \(id)") == "2 2\n")
        }

        @Test func twoStoresWritingOneCollectionLoseNothing() async throws {
            let f = try StoreFixture(.postgres)
            let a = try f.collection(Fixtures.config("shared"))
            let b = try f.open().openCollection("shared")
            // Two "nodes", each upserting its own ids in 20 batches at the same time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (node, store) in [(0, a), (1, b)] {
                    group.addTask {
                        for batch in 0..<20 {
                            let base = UInt64(node * 10_000 + batch * 10)
                            try store.upsert((base..<base + 10).map { Fixtures.item($0 * 3 + 1) })
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try a.count() == 400 && b.count() == 400)
            let server = try #require(f.server), db = try #require(f.database)
            #expect(try server.psql(db, "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM changes") == "40 1 40\n")
        }

        /// What a node following another reads: deletions and items after a seq, on one snapshot.
        @Test func changesAfterASequenceNumber() throws {
            let f = try StoreFixture(.postgres)
            let a = try f.collection(Fixtures.config("follow"))
            let b = try f.open().openCollection("follow")
            let start = try #require(try b.changeSequence())
            try a.upsert([Fixtures.item(1), Fixtures.item(2), Fixtures.item(3)])
            #expect(try a.delete([.number(2)]) == 1)
            try a.upsert([Fixtures.item(2)])           // deleted, then written again
            let c = try #require(try b.changes(after: start, countPending: true))
            #expect(c.seq == start + 3 && c.modelGeneration == 0 && !c.statusChanged && !c.trainingCancelRequested)
            #expect(c.deleted == [.number(2)])
            #expect(Set(c.upserted.map(\.id)) == [.number(1), .number(2), .string("item-3")])
            #expect(c.pendingCount == 0)               // every item has a code
            let later = try #require(try b.changes(after: c.seq, countPending: false))
            #expect(later.seq == c.seq && later.upserted.isEmpty && later.deleted.isEmpty && later.pendingCount == nil)
            try a.setState(.failed, error: "x")
            #expect(try b.changes(after: c.seq, countPending: false)?.statusChanged == true)
        }

        /// One training lease per collection among the servers of a store; a cancel request
        /// reaches the others through the changes; a training whose server is gone is repaired.
        @Test func trainingLeaseCancelAndRepair() throws {
            let f = try StoreFixture(.postgres)
            let a = try f.collection(Fixtures.config("lease"))
            let b = try f.open().openCollection("lease")
            let lease = try #require(try a.trainingLease())
            #expect(try b.trainingLease() == nil, "a second server cannot take the lease")
            try a.setState(.training, error: nil)
            #expect(try b.repairAbandonedTraining() == false, "the training's server holds the lease")
            let seq = try #require(try a.changeSequence())
            try b.requestTrainingCancel()
            #expect(try a.changes(after: seq, countPending: false)?.trainingCancelRequested == true)
            try lease.check()
            lease.release()                            // what the server's death does too
            // The lock goes with the connection; PostgreSQL notices a closed one at once.
            var repaired = false
            for _ in 0..<100 where !repaired {
                repaired = try b.repairAbandonedTraining()
                if !repaired { Thread.sleep(forTimeInterval: 0.02) }
            }
            #expect(repaired)
            #expect(try a.state() == .untrained && a.lastError() == CollectionStore.interruptedMessage)
            #expect(try a.changes(after: seq, countPending: false)?.trainingCancelRequested == false, "a state change clears the request")
            let again = try #require(try b.trainingLease(), "free again")
            again.release()
        }

        /// Another store's commits wake a watcher (LISTEN/NOTIFY through migration 3's trigger):
        /// creation, a write, a deletion; a rolled-back write does not. SQLite has no watch.
        @Test func commitsWakeTheWatchers() throws {
            let f = try StoreFixture(.postgres)
            let watcher = try f.open(), writer = try f.open()
            let wakes = Mutex(0)
            let watch = try #require(watcher.watchChanges { wakes.withLock { $0 += 1 } })
            defer { watch.stop() }
            func settled(_ what: String, above n: Int) throws -> Int {
                let start = Date()
                while wakes.withLock({ $0 }) <= n {
                    if Date().timeIntervalSince(start) > 10 { Issue.record("no wake-up for \(what) within 10 s"); break }
                    Thread.sleep(forTimeInterval: 0.005)
                }
                Thread.sleep(forTimeInterval: 0.05)  // the same commit may not wake it twice
                return wakes.withLock { $0 }
            }
            var n = try settled("the start of the watch", above: 0)
            #expect(watch.isWatching())
            let s = try writer.createCollection(Fixtures.config("watched"))
            n = try settled("a creation", above: n)
            try s.upsert([Fixtures.item(1)])
            n = try settled("an upsert", above: n)
            // Invalid: nothing is committed, nothing is notified.
            #expect(throws: StorageError.self) { try s.upsert([StoredItem(id: .number(2), labels: [99], code: [1, 1, 1, 1])]) }
            Thread.sleep(forTimeInterval: 0.3)
            #expect(wakes.withLock { $0 } == n, "a write that committed nothing woke the watcher")
            try writer.deleteCollection("watched")
            _ = try settled("a deletion", above: n)
            #expect(try DataDirectory(root: FileManager.default.temporaryDirectory.path + "/dpq-watch-\(UUID().uuidString)").watchChanges { } == nil)
        }

        /// The count kept in the collection's row (migration 4) is count(*) through every kind of
        /// write, across two stores writing one collection, and is backfilled by the migration.
        @Test func theKeptItemCountFollowsEveryWrite() throws {
            let f = try StoreFixture(.postgres)
            let server = try #require(f.server), db = try #require(f.database)
            let a = try f.collection(Fixtures.config("counted"))
            let b = try f.open().openCollection("counted")
            func expectCount(_ n: Int, _ what: String) throws {
                #expect(try a.count() == n && b.count() == n, "\(what)")
                #expect(try server.psql(db, "SELECT count(*) FROM items") == "\(n)\n", "\(what)")
            }
            try a.upsert((1...5).map { Fixtures.item($0) })
            try expectCount(5, "5 new")
            try b.upsert([Fixtures.item(3), Fixtures.item(6), Fixtures.item(6), Fixtures.item(7)])
            try expectCount(7, "a replacement, a repeated new id and another")
            #expect(try a.delete([.number(1), .number(99), .number(1)]) == 1)
            try expectCount(6, "a deletion of a present, an absent and a repeated id")
            // Back to version 3 with a wrong count: migrating again counts the items.
            try server.psql(db, "ALTER TABLE collections DROP COLUMN item_count")
            try server.psql(db, "DELETE FROM schema_migrations WHERE version = 4")
            let reopened = try f.open().openCollection("counted")
            #expect(try reopened.count() == 6)
        }

        @Test func migrationsAreRecordedAndANewerSchemaIsRefused() throws {
            let f = try StoreFixture(.postgres)
            let server = try #require(f.server), db = try #require(f.database)
            _ = try f.open()
            _ = try f.open()        // a second start migrates nothing
            #expect(try server.psql(db, "SELECT version FROM schema_migrations ORDER BY version") == "1\n2\n3\n4\n5\n")
            try server.psql(db, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
            let e = Fixtures.storageError { _ = try f.open() }
            #expect(e?.kind == "failedPrecondition")
            #expect(e?.description.contains("schema version 99") == true)
        }

        @Test func aLostConnectionCostsAtMostOneCall() throws {
            let f = try StoreFixture(.postgres)
            let server = try #require(f.server), db = try #require(f.database)
            let s = try f.collection()
            try s.upsert([Fixtures.item(1)])
            // The server ends every session of this database (what a restart or failover does).
            try server.psql("postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(db)'")
            do {
                _ = try s.count()
            } catch let e as StorageError {
                #expect(e.kind == "unavailable", "\(e)")
            }
            #expect(try s.count() == 1)
            try s.upsert([Fixtures.item(2)])
            #expect(try s.count() == 2)
        }

        /// Closing the store while a call and a training lease still hold connections: the
        /// call completes, its connection and the lease's are closed afterwards, and only then
        /// does the event loop stop (a close on a stopped loop never completes; a debug build
        /// traps on its leaked promise, which is how the CI run of stop 26 failed). Calls
        /// after the close are unavailable.
        @Test func closingTheStoreWaitsForTheConnectionsInUse() throws {
            let f = try StoreFixture(.postgres)
            let store = try PostgresStore(url: f.location)
            let s = try store.createCollection(Fixtures.config("closing"))
            let lease = try #require(try s.trainingLease())
            let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
            let outcome = Mutex<Result<Int, StorageError>?>(nil)
            Thread.detachNewThread {
                let r = Result { () throws(StorageError) -> Int in
                    try store.db.withConnection("sleep") { session in
                        started.signal()
                        return try session.execute("SELECT pg_sleep(0.5)")
                    }
                }
                outcome.withLock { $0 = r }
                done.signal()
            }
            started.wait()
            store.close()
            #expect(!store.db.isShutDown, "a call holds a connection")
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(outcome.withLock { (try? $0?.get()) != nil }, "the call in flight completes: \(String(describing: outcome.withLock { $0 }))")
            let after = Fixtures.storageError { _ = try s.count() }
            #expect(after?.kind == "unavailable", "\(String(describing: after))")
            #expect(!store.db.isShutDown, "the lease holds a connection")
            lease.release()
            let deadline = Date().addingTimeInterval(10)
            while !store.db.isShutDown && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(store.db.isShutDown, "the event loop stops once the last connection is closed")
            let late = Fixtures.storageError { _ = try store.db.dedicated("listen") }
            #expect(late?.description == "cannot listen: the PostgreSQL store is closed", "\(String(describing: late))")
        }

        @Test func unreachableDatabaseIsUnavailable() throws {
            let port = try PostgresServer.freePort()
            let e = Fixtures.storageError { _ = try PostgresStore(url: "postgres://postgres@127.0.0.1:\(port)/nothing") }
            #expect(e?.kind == "unavailable")
            #expect(e?.description.contains("127.0.0.1:\(port)") == true)
            let server = try PostgresServer.shared()
            let missing = Fixtures.storageError { _ = try PostgresStore(url: server.url(database: "no_such_database")) }
            #expect(missing?.kind == "unavailable")
        }

        @Test func storeURLs() throws {
            let plain = try PostgresURL("postgres://dpq@db.example:6543/vectors", environment: [:])
            #expect(plain.location == "postgres://dpq@db.example:6543/vectors")
            #expect(plain.configuration.host == "db.example" && plain.configuration.port == 6543)
            #expect(plain.configuration.username == "dpq" && plain.configuration.database == "vectors")
            #expect(plain.configuration.password == nil)
            let secret = try PostgresURL("postgresql://dpq:s%40cret@db/vectors", environment: [:])
            #expect(secret.configuration.password == "s@cret" && secret.configuration.port == 5432)
            #expect(!secret.location.contains("cret"))
            #expect(try PostgresURL("postgres://dpq@db/v", environment: ["PGPASSWORD": "pw"]).configuration.password == "pw")
            let socket = try PostgresURL("postgres://dpq@/vectors?host=/run/postgresql", environment: [:])
            #expect(socket.configuration.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
            #expect(try PostgresURL("postgres://dpq@db/v?sslmode=disable", environment: [:]).configuration.tls.isAllowed == false)
            let required = try PostgresURL("postgres://dpq@db/v?sslmode=require", environment: [:])
            #expect(required.configuration.tls.isEnforced && required.location.hasSuffix("?sslmode=require"))
            let preferred = try PostgresURL("postgres://dpq@db/v?sslmode=prefer", environment: [:]).configuration.tls
            #expect(preferred.isAllowed && !preferred.isEnforced)
            let timed = try PostgresURL("postgres://dpq@db/v?statement_timeout=250&connect_timeout=3", environment: [:])
            #expect(timed.statementTimeoutMilliseconds == 250 && timed.connectTimeout == .seconds(3))
            #expect(timed.configuration.options.additionalStartupParameters.contains { $0 == ("statement_timeout", "250") })
            #expect(try PostgresURL("postgres://dpq@db/v", environment: [:]).configuration.options.additionalStartupParameters.isEmpty)
            for (bad, names) in [("postgres://db/vectors", "user"), ("postgres://dpq@db/", "database"),
                                 ("postgres://dpq@db/v?sslmode=on", "sslmode"), ("postgres://dpq@db/v?pool=3", "pool"),
                                 ("http://dpq@db/v", "postgres://"), ("postgres://dpq:pw@db:0/v", "port"),
                                 ("postgres://dpq@/v?host=/run/pg&sslmode=require", "Unix socket"),
                                 ("postgres://dpq@db/v?sslmode=verify-full&sslrootcert=/no/such/ca.pem", "sslrootcert"),
                                 ("postgres://dpq@db/v?sslmode=verify-full&sslcert=/etc/hostname", "sslcert and sslkey"),
                                 ("postgres://dpq@db/v?statement_timeout=-1", "statement_timeout"),
                                 ("postgres://dpq@db/v?connect_timeout=0", "connect_timeout"),
                                 ("postgres://dpq@db/v?change_retention=-5", "change_retention")] {
                let e = Fixtures.storageError { _ = try PostgresURL(bad, environment: [:]) }
                #expect(e?.kind == "invalidArgument", "\(bad)")
                #expect(e?.description.contains(names) == true, "\(bad): \(e.map { "\($0)" } ?? "accepted")")
                #expect(e?.description.contains(":pw@") == false, "\(bad)")
            }
            #expect(PostgresURL.redacted("postgres://a:pw@h/d") == "postgres://a:***@h/d")
        }

        /// TLS to PostgreSQL, checked by PostgreSQL itself (pg_stat_ssl): verify-full with the
        /// test CA connects encrypted, by IP address and by name; a CA that did not sign the
        /// server's certificate is refused (UNAVAILABLE, saying why); sslmode=require encrypts
        /// without checking; the client certificate is presented when given.
        @Test func tlsToPostgreSQL() throws {
            let certs = try TestCertificates.make(), other = try TestCertificates.make()
            defer { try? FileManager.default.removeItem(atPath: certs); try? FileManager.default.removeItem(atPath: other) }
            let server = try PostgresServer.dedicated(tlsFrom: certs)
            defer { server.stop() }
            let db = try server.makeDatabase()
            func encrypted(_ url: String) throws -> Bool {
                let store = try PostgresStore(url: url)
                defer { store.close() }
                return try store.db.withConnection("ask") {
                    try $0.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", as: Bool.self)
                } == true
            }
            let base = "postgres://\(PostgresServer.user)@127.0.0.1:\(server.port)/\(db)"
            #expect(try encrypted(base + "?sslmode=verify-full&sslrootcert=\(certs)/ca.pem"))
            #expect(try encrypted("postgres://\(PostgresServer.user)@localhost:\(server.port)/\(db)?sslmode=verify-full&sslrootcert=\(certs)/ca.pem"))
            #expect(try encrypted(base + "?sslmode=verify-ca&sslrootcert=\(certs)/ca.pem&sslcert=\(certs)/client.pem&sslkey=\(certs)/client.key"))
            #expect(try encrypted(base + "?sslmode=require"))
            #expect(try !encrypted(base + "?sslmode=disable"))
            let refused = Fixtures.storageError { _ = try PostgresStore(url: base + "?sslmode=verify-ca&sslrootcert=\(other)/ca.pem") }
            #expect(refused?.kind == "unavailable", "\(refused.map { "\($0)" } ?? "accepted")")
            #expect(refused?.description.lowercased().contains("certificate") == true, "\(refused.map { "\($0)" } ?? "")")
            // The shared server has no TLS: require fails, prefer falls back to plain.
            let plain = try PostgresServer.shared()
            let plainDB = try plain.makeDatabase()
            let noTLS = Fixtures.storageError { _ = try PostgresStore(url: plain.url(database: plainDB) + "?sslmode=require") }
            #expect(noTLS?.kind == "unavailable")
            #expect(try !encrypted(plain.url(database: plainDB) + "?sslmode=prefer"))
        }

        /// statement_timeout from the URL holds for every statement of a session: a long one is
        /// cancelled by PostgreSQL and comes back UNAVAILABLE saying so; loading a collection
        /// is exempt and works under the same URL.
        @Test func statementTimeoutCancelsLongStatements() throws {
            let server = try PostgresServer.shared()
            let url = server.url(database: try server.makeDatabase()) + "?statement_timeout=300"
            let store = try PostgresStore(url: url)
            defer { store.close() }
            let e = Fixtures.storageError { try store.db.withConnection("sleep") { _ = try $0.execute("SELECT pg_sleep(3)") } }
            #expect(e?.kind == "unavailable")
            #expect(e?.description.contains("statement timeout") == true, "\(e.map { "\($0)" } ?? "not cancelled")")
            let s = try store.createCollection(Fixtures.config("timed"))
            try s.upsert((0..<50).map { Fixtures.item(UInt64($0)) })
            #expect(try s.loadAll().ids.count == 50)
            #expect(try store.db.withConnection("ask") { try $0.scalar("SHOW statement_timeout", as: String.self) } == "300ms",
                    "RESET after the load goes back to the URL's value")
        }

        /// The change history is pruned by age: nothing younger than the retention goes; with a
        /// retention of 0 the tombstones and change rows go, pruned_seq records how far, a
        /// follower behind it is told to reload, one at it is not, and writes after the pruning
        /// are followed as before.
        @Test func changeHistoryIsPrunedAndFollowersBehindReload() throws {
            let f = try StoreFixture(.postgres)
            let server = try #require(f.server), db = try #require(f.database)
            let keeper = try PostgresStore(url: server.url(database: db))       // the default hour
            let pruner = try PostgresStore(url: server.url(database: db) + "?change_retention=0")
            defer { keeper.close(); pruner.close() }
            let s = try keeper.createCollection(Fixtures.config("history"))
            let start = try #require(try s.changeSequence())
            try s.upsert((1...5).map { Fixtures.item($0) })
            #expect(try s.delete([.number(1), .number(2)]) == 2)
            let head = try #require(try s.changeSequence())
            #expect(try keeper.pruneChangeHistory() == 0, "nothing is an hour old")
            #expect(try pruner.pruneChangeHistory() == 2 + 2, "two tombstones and two change rows")
            let id = "(SELECT id FROM collections WHERE name = 'history')"
            #expect(try server.psql(db, "SELECT count(*) FROM item_tombstones WHERE collection_id = \(id)") == "0\n")
            #expect(try server.psql(db, "SELECT count(*) FROM changes WHERE collection_id = \(id)") == "0\n")
            #expect(try server.psql(db, "SELECT pruned_seq FROM collections WHERE name = 'history'") == "\(head)\n")
            #expect(try pruner.pruneChangeHistory() == 0, "a second pruning finds nothing")
            let behind = try #require(try s.changes(after: start, countPending: false))
            #expect(behind.historyPruned && behind.upserted.isEmpty && behind.deleted.isEmpty)
            let atHead = try #require(try s.changes(after: head, countPending: false))
            #expect(!atHead.historyPruned && atHead.seq == head)
            #expect(try s.delete([.string("item-3")]) == 1)
            let after = try #require(try s.changes(after: head, countPending: false))
            #expect(!after.historyPruned && after.deleted == [.string("item-3")])
            #expect(try s.count() == 2 && s.get([.number(4), .number(5)]).count == 2, "pruning touches no item")
        }

        @Test func sqlStatesMapToTheStatusesOfSQLite() {
            #expect(PostgresErrors.fromSQLState("53100", message: "m") == .resourceExhausted("m"))   // disk full
            #expect(PostgresErrors.fromSQLState("23505", message: "m") == .invalidArgument("m"))     // unique violation
            #expect(PostgresErrors.fromSQLState("22P02", message: "m") == .invalidArgument("m"))     // bad input syntax
            #expect(PostgresErrors.fromSQLState("57P01", message: "m") == .unavailable("m"))         // admin shutdown
            #expect(PostgresErrors.fromSQLState("25006", message: "m") == .unavailable("m"))         // read-only standby
            #expect(PostgresErrors.fromSQLState("40001", message: "m") == .unavailable("m"))         // serialization failure
            #expect(PostgresErrors.fromSQLState("53300", message: "m") == .unavailable("m"))         // too many connections
        }
    }
}
