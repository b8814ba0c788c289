// The two implementations of the storage interface, for tests that run one body against
// each: SQLite in a fresh temporary data directory, PostgreSQL in a fresh database of the
// test process's own server (PostgresTestSupport). A fixture can be opened again after it
// was closed, to check what survives.

import DPQPostgresStorage
import DPQStorage
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

/// The suites that use the stores of this file, one test at a time: their calls block (disk,
/// PostgreSQL round trips, the test server's start), and Swift Testing runs synchronous tests on
/// the cooperative pool — two threads here. Several blocked at once starve the async tests of
/// other suites into their RPC deadlines; serialised, they hold at most one.
@Suite(.serialized) enum StorageBackendTests {}

enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// One empty store of collections for one test.
final class StoreFixture: Sendable {
    let backend: Backend
    let tmp = TemporaryDirectory()
    /// The data directory, or the database URL.
    let location: String
    let server: PostgresServer?
    let database: String?
    /// Closed when the fixture goes (the end of the test), so no connection or thread outlives it.
    private let opened = Mutex<[any CollectionCatalog]>([])

    init(_ backend: Backend) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            location = tmp.path + "/data"
            server = nil
            database = nil
        case .postgres:
            let server = try PostgresServer.shared()
            let database = try server.makeDatabase()
            location = server.url(database: database)
            self.server = server
            self.database = database
        }
    }

    /// Opens the store (again): every call returns a new catalog over the same data.
    func open() throws -> any CollectionCatalog {
        let catalog: any CollectionCatalog = switch backend {
        case .sqlite: try DataDirectory(root: location)
        case .postgres: try PostgresStore(url: location)
        }
        opened.withLock { $0.append(catalog) }
        return catalog
    }

    deinit {
        for c in opened.withLock({ $0 }) { c.close() }
    }

    /// A new collection in a newly opened catalog.
    func collection(_ config: CollectionConfig = Fixtures.config()) throws -> any CollectionStorage {
        try open().createCollection(config)
    }
}
