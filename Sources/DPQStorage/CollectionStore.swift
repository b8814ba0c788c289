// One collection on disk: config.json, items.sqlite (+ WAL) and model-<generation>.safetensors.
// The database runs in WAL mode with synchronous = FULL, so a write that returned has been
// fsynced and survives kill -9 and power loss. Opening repairs what a crash can leave
// behind: a `training` state becomes the last good state, and model files other than the
// committed generation (a half-finished switch, or old ones not yet removed) are deleted.
// The class implements CollectionStorage (CollectionStorage.swift states the contract); it is Sendable: GRDB's pool serialises writes and runs reads concurrently, and
// the little mutable state kept here (the loaded model) is behind a mutex.

import Foundation
import GRDB
import DPQEngine
import Synchronization

public final class CollectionStore: CollectionStorage {
    public let config: CollectionConfig
    /// The collection's folder.
    public let directory: String
    let pool: DatabasePool
    /// The model of the committed generation, loaded once.
    let loadedModel = Mutex<(generation: Int, model: DPQModel)?>(nil)
    /// Serialises model switches, which span a file write and a transaction.
    let commitLock = Mutex<Void>(())

    static let configFile = "config.json"
    static let databaseFile = "items.sqlite"
    package static let interruptedMessage = "training was interrupted by a restart"

    /// Opens the collection in `directory`, reading its config.json.
    init(directory: String) throws(StorageError) {
        let path = (directory as NSString).appendingPathComponent(Self.configFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StorageError.notFound("collection folder '\(directory)' has no \(Self.configFile)")
        }
        let data = try storage("cannot read '\(path)'") { try Data(contentsOf: URL(fileURLWithPath: path)) }
        let config = try storage("'\(path)' is not a valid collection configuration") {
            try CollectionConfig.decoder.decode(CollectionConfig.self, from: data)
        }
        self.config = config
        self.directory = directory
        self.pool = try Self.openDatabase(directory)
        try recover()
    }

    static func openDatabase(_ directory: String) throws(StorageError) -> DatabasePool {
        let path = (directory as NSString).appendingPathComponent(databaseFile)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        return try storage("cannot open database '\(path)'") {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // FULL: the WAL is fsynced at every commit, not only at checkpoints. Set here and
            // not in prepareDatabase, because the pool sets NORMAL on its writer after that
            // hook when it enables WAL. The pool keeps this one writer connection for life.
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            try CollectionSchema.migrator.migrate(pool)
            return pool
        }
    }

    /// Writes config.json and an empty database into `directory` (which must exist).
    static func initialise(directory: String, config: CollectionConfig) throws(StorageError) {
        let data = try storage("cannot encode the configuration of '\(config.name)'") { try CollectionConfig.encoder.encode(config) }
        try DurableFiles.writeAtomically(data, to: (directory as NSString).appendingPathComponent(configFile))
        let pool = try openDatabase(directory)
        try storage("cannot close the database of '\(config.name)'") { try pool.close() }
        try DurableFiles.syncDirectory(directory)
    }

    /// Closes the database. Any later call on this store fails with unavailable.
    /// A data directory is served by one server: no other writer to follow.
    public func loadListCache() -> ListCache? {
        ListCache(contentsOfFile: (directory as NSString).appendingPathComponent(ListCache.fileName))
    }

    public func saveListCache(_ cache: ListCache) throws {
        try DurableFiles.writeAtomically(parts: cache.fileParts, to: (directory as NSString).appendingPathComponent(ListCache.fileName))
    }

    public func changeSequence() throws -> Int64? { nil }
    public func changes(after seq: Int64, countPending: Bool) throws -> StoreChanges? { nil }
    public func trainingLease() throws -> (any TrainingLease)? { LocalTrainingLease() }
    public func requestTrainingCancel() throws {}
    public func repairAbandonedTraining() throws -> Bool { false }

    public func close() throws {
        try storage("cannot close collection '\(config.name)'") { try pool.close() }
    }

    // MARK: - Recovery

    private func recover() throws(StorageError) {
        let generation = try write("recover collection '\(config.name)'") { db -> Int in
            let generation = try Self.generation(db)
            if try Self.meta(db, CollectionSchema.Meta.state) == CollectionState.training.rawValue {
                let state: CollectionState = generation > 0 ? .ready : .untrained
                try Self.setMeta(db, CollectionSchema.Meta.state, state.rawValue)
                try Self.setMeta(db, CollectionSchema.Meta.lastError, Self.interruptedMessage)
            }
            return generation
        }
        try removeModelFiles(except: generation)
        try removeTemporaryFiles()
    }

    private func removeTemporaryFiles() throws(StorageError) {
        var removed = false
        for name in try DurableFiles.list(directory) where name.hasPrefix(DurableFiles.temporaryPrefix) || name.contains(".tmp-") {
            try DurableFiles.remove((directory as NSString).appendingPathComponent(name))
            removed = true
        }
        if removed { try DurableFiles.syncDirectory(directory) }
    }

    // MARK: - State

    public func state() throws -> CollectionState {
        let raw = try read("read the state of '\(config.name)'") { try Self.meta($0, CollectionSchema.Meta.state) }
        guard let raw, let state = CollectionState(rawValue: raw) else {
            throw StorageError.failedPrecondition("collection '\(config.name)' has an unknown state '\(raw ?? "")' (the database is damaged)")
        }
        return state
    }

    /// The error recorded with the last state change, if any.
    public func lastError() throws -> String? {
        try read("read the last error of '\(config.name)'") { try Self.meta($0, CollectionSchema.Meta.lastError) }
    }

    /// Sets the state and the recorded error (nil clears it). `ready` needs a committed model;
    /// commitModel sets it itself.
    public func setState(_ state: CollectionState, error: String?) throws {
        try write("set the state of '\(config.name)'") { db in
            if state == .ready, try Self.generation(db) == 0 {
                throw StorageError.failedPrecondition("collection '\(config.name)' cannot be ready: it has no model")
            }
            try Self.setMeta(db, CollectionSchema.Meta.state, state.rawValue)
            try Self.setMeta(db, CollectionSchema.Meta.lastError, error)
        }
    }

    /// Stores the training progress (JSON, UTF-8), replacing the previous one.
    public func saveProgress(_ json: Data) throws {
        guard let text = String(data: json, encoding: .utf8) else {
            throw StorageError.invalidArgument("training progress must be UTF-8 JSON")
        }
        try write("save the training progress of '\(config.name)'") { try Self.setMeta($0, CollectionSchema.Meta.progress, text) }
    }

    public func progress() throws -> Data? {
        try read("read the training progress of '\(config.name)'") { try Self.meta($0, CollectionSchema.Meta.progress) }
            .map { Data($0.utf8) }
    }

    // MARK: - Helpers

    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String?) throws {
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }

    static func generation(_ db: Database) throws -> Int {
        Int(try meta(db, CollectionSchema.Meta.modelGeneration) ?? "0") ?? 0
    }

    /// A write transaction, errors mapped to StorageError.
    func write<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        try storage("cannot \(what())") { try pool.write(body) }
    }

    /// A read on a snapshot, errors mapped to StorageError.
    func read<T>(_ what: @autoclosure () -> String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        try storage("cannot \(what())") { try pool.read(body) }
    }
}
