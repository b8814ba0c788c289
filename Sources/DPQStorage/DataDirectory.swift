// The root of all stored data: <root>/collections/<name>/ holds one collection. Creating and
// deleting are atomic by way of renames within the root: a collection is assembled in a
// hidden `.creating-<uuid>` folder and renamed into place when complete, and deleted by
// renaming it to `.trash-<uuid>` before removing it. A crash at any point leaves either a
// whole collection or none; hidden leftovers are removed when the directory is opened.
// Each collection is opened once per process (one database pool per file, as SQLite and
// GRDB want); the open stores are kept here and handed out again. This is the SQLite
// CollectionCatalog (CollectionStorage.swift); PostgresStore is the other.

import Foundation
import Synchronization

public final class DataDirectory: CollectionCatalog {
    public typealias Store = CollectionStore
    public let root: String
    public var location: String { root }
    let collectionsPath: String
    private let open = Mutex<[String: CollectionStore]>([:])

    static let trashPrefix = ".trash-"
    static let creatingPrefix = ".creating-"

    /// Opens (creating if missing) the data directory at `root` and removes crash leftovers.
    public init(root: String) throws {
        self.root = root
        self.collectionsPath = (root as NSString).appendingPathComponent("collections")
        try DurableFiles.makeDirectory(collectionsPath)
        var removed = false
        for name in try DurableFiles.list(root) where name.hasPrefix(Self.trashPrefix) || name.hasPrefix(Self.creatingPrefix) {
            try DurableFiles.remove((root as NSString).appendingPathComponent(name))
            removed = true
        }
        if removed { try DurableFiles.syncDirectory(root) }
    }

    func path(_ name: String) -> String { (collectionsPath as NSString).appendingPathComponent(name) }

    private func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: (path(name) as NSString).appendingPathComponent(CollectionStore.configFile))
    }

    public func createCollection(_ config: CollectionConfig) throws -> CollectionStore {
        try config.validate()
        let name = config.name
        return try open.withLock { stores throws(StorageError) -> CollectionStore in
            if stores[name] != nil || exists(name) { throw StorageError.alreadyExists("collection '\(name)' already exists") }
            let staging = (root as NSString).appendingPathComponent("\(Self.creatingPrefix)\(UUID().uuidString)")
            try DurableFiles.makeDirectory(staging)
            do {
                try CollectionStore.initialise(directory: staging, config: config)
                if rename(staging, path(name)) != 0 {
                    if errno == EEXIST || errno == ENOTEMPTY { throw StorageError.alreadyExists("collection '\(name)' already exists") }
                    throw StorageError.lastErrno("cannot move the new collection '\(name)' into place")
                }
            } catch {
                try? DurableFiles.remove(staging)
                throw StorageError.from(error, "create collection '\(name)'")
            }
            try DurableFiles.syncDirectory(collectionsPath)
            try DurableFiles.syncDirectory(root)
            let store = try CollectionStore(directory: path(name))
            stores[name] = store
            return store
        }
    }

    /// The collection's store; the same instance for every call while it is open.
    public func openCollection(_ name: String) throws -> CollectionStore {
        try CollectionName.validate(name)
        return try open.withLock { stores throws(StorageError) -> CollectionStore in
            if let store = stores[name] { return store }
            guard exists(name) else { throw StorageError.notFound("collection '\(name)' does not exist") }
            let store = try CollectionStore(directory: path(name))
            stores[name] = store
            return store
        }
    }

    /// Names of the stored collections, sorted.
    public func listCollections() throws -> [String] {
        try DurableFiles.list(collectionsPath)
            .filter { (try? CollectionName.validate($0)) != nil && exists($0) }
            .sorted()
    }

    /// Nil: a data directory is served by one server (SQLite is the one-machine store), so no other server writes to it.
    public func changeSequences() throws -> [String: Int64]? { nil }
    public func pruneChangeHistory() throws -> Int { 0 }
    public var pruneInterval: Duration? { nil }
    public func watchChanges(_ wake: @escaping @Sendable () -> Void) -> ChangeWatch? { nil }

    /// Deletes the collection: its store is closed (later calls on it fail with unavailable)
    /// and its folder leaves `collections/` in one rename.
    public func deleteCollection(_ name: String) throws {
        try CollectionName.validate(name)
        try open.withLock { stores throws(StorageError) in
            guard exists(name) else { throw StorageError.notFound("collection '\(name)' does not exist") }
            if let store = stores.removeValue(forKey: name) { try? store.close() }
            let trash = (root as NSString).appendingPathComponent("\(Self.trashPrefix)\(UUID().uuidString)")
            guard rename(path(name), trash) == 0 else { throw StorageError.lastErrno("cannot delete collection '\(name)'") }
            try DurableFiles.syncDirectory(collectionsPath)
            try DurableFiles.syncDirectory(root)
            // The collection is gone once renamed; a failure here leaves only trash for the next start.
            try? DurableFiles.remove(trash)
        }
    }

    /// Closes every open collection.
    public func close() {
        open.withLock { stores in
            for store in stores.values { try? store.close() }
            stores.removeAll()
        }
    }
}
