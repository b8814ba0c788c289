// Every collection of the store (the SQLite data directory, or a PostgreSQL database with
// `--store postgres://...`), opened at start-up (codes loaded into memory) and looked up by
// name for each RPC. Creation and deletion hold the registry lock so that two requests for one
// name cannot interleave; they, and the opening, run on StorageThreads because the store blocks.

import DPQEngine
import DPQPostgresStorage
import DPQServerSupport
import DPQStorage
import Foundation
import Logging
import Synchronization

final class CollectionRegistry: Sendable {
    let directory: any CollectionCatalog
    let limits: ServerLimits
    /// Threads a search or evaluation may use (the server's `threads` setting).
    let threads: Int
    let slots: TrainingSlots
    let open = Mutex<[String: CollectionRuntime]>([:])
    let logger: Logger
    /// The task following the other servers of a shared store (CollectionRegistry+Following).
    let follower = Mutex<Task<Void, Never>?>(nil)

    /// Opens the collections of PostgreSQL when `store` (a postgres:// URL) is set, else of the data directory.
    static func open(store: String?, dataDir: String, limits: ServerLimits, threads: Int = Cores.available,
                     logger: Logger) async throws -> CollectionRegistry {
        try await StorageThreads.run {
            let catalog: any CollectionCatalog = if let store { try PostgresStore(url: store, logger: logger) } else { try DataDirectory(root: dataDir) }
            do {
                return try CollectionRegistry(catalog: catalog, limits: limits, threads: threads, logger: logger)
            } catch {
                catalog.close()
                throw error
            }
        }
    }

    /// Opens every collection of `catalog`; blocks on the store (call it off event loops).
    init(catalog: any CollectionCatalog, limits: ServerLimits, threads: Int = Cores.available, logger: Logger) throws {
        directory = catalog
        self.limits = limits
        self.threads = threads
        self.logger = logger
        slots = TrainingSlots(limit: limits.maxConcurrentTrainings)
        var all: [String: CollectionRuntime] = [:]
        for name in try directory.listCollections() {
            let runtime = try CollectionRuntime(store: try directory.openCollection(name), limits: limits, threads: threads)
            all[name] = runtime
            logger.info("opened collection", metadata: ["collection": "\(name)", "items": "\(runtime.current.count)"])
        }
        open.withLock { $0 = all }
    }

    func get(_ name: String, field: String = "collection") throws -> CollectionRuntime {
        try Validate.collectionName(name, field: field)
        guard let c = open.withLock({ $0[name] }) else { throw notFound("collection '\(name)' does not exist") }
        return c
    }

    func all() -> [CollectionRuntime] { open.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    func create(_ config: CollectionConfig) async throws -> CollectionRuntime {
        try await StorageThreads.run { [self] in try createNow(config) }
    }

    private func createNow(_ config: CollectionConfig) throws -> CollectionRuntime {
        try open.withLock { open in
            if let existing = open[config.name] {
                // A collection another server deleted, not yet followed here, no longer holds the name.
                guard existing.deletedElsewhere() else { throw RPCErrors.alreadyExists("collection '\(config.name)' already exists") }
                open[config.name] = nil
                _ = existing.cancelTraining()
                existing.close()
            }
            guard open.count < limits.maxCollections else {
                throw exhausted("the server holds \(open.count) collections, the limit (max_collections)")
            }
            let runtime = try CollectionRuntime(store: try directory.createCollection(config), limits: limits, threads: threads)
            open[config.name] = runtime
            return runtime
        }
    }

    /// Deletes a collection, cancelling its training first. Returns false when it did not exist.
    func delete(_ name: String) async throws -> Bool {
        guard let runtime = open.withLock({ $0[name] }) else { return false }
        if let job = runtime.cancelTraining() { await Self.wait(for: job) }
        try await StorageThreads.run { [self] in
            try open.withLock { open in
                guard open[name] != nil else { return }
                runtime.close()
                try directory.deleteCollection(name)
                open[name] = nil
                DPQMetrics.forgetCollection(name)
            }
        }
        return true
    }

    /// Stops every training cleanly (graceful shutdown): cancel, then wait for each job.
    /// Cancels every running training and waits for each to stop.
    func stopTrainings() async {
        for c in all() {
            if let job = c.cancelTraining(), !job.isFinished {
                logger.info("cancelling training for shutdown", metadata: ["collection": "\(c.name)", "job": "\(job.id)"])
                await Self.wait(for: job)
            }
        }
    }

    /// Closes every collection's store and the store itself (the last step of a shutdown).
    /// Does not block (neither store waits in close), so it may run anywhere.
    func close() {
        stopFollowing()
        for c in all() { c.close() }
        directory.close()
    }

    static func wait(for job: TrainingJob) async {
        while !job.isFinished { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// The job with this id, on any collection.
    func job(id: String) -> TrainingJob? {
        for c in all() { if let j = c.job.withLock({ $0 }), j.id == id { return j } }
        return nil
    }
}
