// The storage interface: what the server needs from a collection's store and from the store
// of collections, implemented twice — by CollectionStore/DataDirectory (SQLite files in a
// data directory, the embedded default) and by PostgresCollectionStore/PostgresStore
// (DPQPostgresStorage, one PostgreSQL database shared by several servers).
//
// The contract both keep (Tests/DPQStorageTests/StorageContractTests runs one body against
// each):
// - Every write is one transaction, committed (durable) before the call returns; a batch is
//   stored whole or not at all. Reads see only committed data.
// - The same validation, and errors only as StorageError, each case meaning the same status:
//   invalidArgument for bad input (nothing written), notFound / alreadyExists for names,
//   failedPrecondition for a state that forbids the call or damaged data, unavailable when the
//   store cannot be reached or used now (a closed store, an unwritable disk, a lost database
//   connection: the caller may retry later), resourceExhausted for a full disk.
// - `list` pages in insertion order; an overwritten item keeps its place; cursors stay valid
//   across deletions (positions are never reused).
// - A model switch (commitModel) changes the model and the listed items' codes atomically.
// - `close` ends the handle: every later call fails with unavailable.
//
// Why synchronous: the server calls its store from a serial write queue (DispatchQueue), from
// training threads (onThread) and from CodeIndex construction, all of them synchronous code
// that expects a write to be done when the call returns; an async interface would turn all of
// that into async code and move encoding work onto the concurrency executor, which in `dpq
// serve` is NIO's event loops. Instead, calls block the calling thread, and that thread must
// never be an event loop: SQLite blocks on disk, PostgreSQL on a round trip to the database
// (PostgresCollectionStore runs its connections on an event loop group of its own and waits
// for them from the caller's thread, never on one of its loops). The server therefore makes
// every store call from its write queue, a training thread or `StorageThreads.run` below.

import DPQEngine
import Dispatch
import Foundation
import Synchronization

/// One collection's stored data: items, models, training data and state.
public protocol CollectionStorage: AnyObject, Sendable {
    /// Fixed when the collection was created.
    var config: CollectionConfig { get }

    // Items (CollectionStore+Items.swift describes the semantics).
    /// What the batch did, counted in the same transaction (so right also when several servers
    /// share the store).
    @discardableResult func upsert(_ items: [StoredItem]) throws -> UpsertCounts
    /// The same for a batch given as columns (bulk writes); the default goes item by item.
    @discardableResult func upsert(_ batch: ItemBatch) throws -> UpsertCounts
    /// Returns how many of the ids existed.
    func delete(_ ids: [ItemID]) throws -> Int
    /// The existing items among `ids`, in request order (a repeated id appears repeatedly).
    func get(_ ids: [ItemID]) throws -> [StoredItem]
    func count() throws -> Int
    /// Up to `pageSize` items after `cursor`, in insertion order, and the next cursor (nil after the last page).
    func list(pageSize: Int, after cursor: Int64?) throws -> (items: [StoredItem], next: Int64?)
    /// Every item, in insertion order, on one snapshot.
    func loadAll() throws -> LoadedItems

    // Models.
    /// The committed generation, 0 before the first model.
    func modelGeneration() throws -> Int
    func currentModel() throws -> DPQModel?
    /// Makes `model` current and gives the listed items their new codes, atomically; sets the
    /// state to ready and clears the last error.
    func commitModel(_ model: DPQModel, recodedItems: [(ItemID, [UInt8])]) throws

    // Training data.
    /// One upload in one transaction; `replace` drops the dataset's earlier rows first.
    func writeTrainingData(dataset: String, chunks: [(Matrix, [[Int]])], replace: Bool) throws
    func trainingData(dataset: String) throws -> (Matrix, [[Int]])
    func trainingDataCount(dataset: String) throws -> Int
    func datasets() throws -> [DatasetInfo]
    /// False when the dataset did not exist.
    @discardableResult func deleteTrainingData(dataset: String) throws -> Bool
    func clearTrainingData() throws

    // State.
    func state() throws -> CollectionState
    func lastError() throws -> String?
    /// `ready` needs a committed model (failedPrecondition otherwise).
    func setState(_ state: CollectionState, error: String?) throws
    /// The training progress (UTF-8 JSON), replacing the previous one.
    func saveProgress(_ json: Data) throws
    func progress() throws -> Data?

    // Following other servers' writes (a store shared by several servers).
    /// The change sequence number of the collection's last committed write, by any server; nil
    /// when nobody else writes to this store (SQLite: a data directory is served by one server).
    func changeSequence() throws -> Int64?
    /// What was committed after change `seq` (by this server or others): nil when nobody else
    /// can write (as above). notFound when the collection was deleted.
    func changes(after seq: Int64, countPending: Bool) throws -> StoreChanges?

    // Training among several servers.
    /// The exclusive right to train this collection, held until released or until this process
    /// ends (even by kill -9); nil while another server holds it. SQLite: always granted (one
    /// server; the server itself runs one training per collection).
    func trainingLease() throws -> (any TrainingLease)?
    /// Asks the server that trains the collection to cancel (it sees `trainingCancelRequested`
    /// in its changes); the flag clears at the next state change. SQLite: nothing to ask.
    func requestTrainingCancel() throws
    /// When the state says training but no server holds the lease (its server died), sets the
    /// last good state with "training was interrupted" and returns true. SQLite: false.
    func repairAbandonedTraining() throws -> Bool

    // The list cache (ListCache.swift): a file of this node's; stores without local files keep none.
    /// The cache saved last, nil when there is none or it does not parse.
    func loadListCache() -> ListCache?
    func saveListCache(_ cache: ListCache) throws

    func close() throws
}

/// See CollectionStorage.trainingLease.
public protocol TrainingLease: Sendable {
    /// Fails (unavailable) when the lease may have been lost meanwhile (its connection broke),
    /// so that a training does not commit a model another server may be training too.
    func check() throws
    func release()
}

/// The lease of a store only one server uses.
public struct LocalTrainingLease: TrainingLease {
    public init() {}
    public func check() throws {}
    public func release() {}
}

/// The writes committed to a shared store after a change sequence number, read on one
/// snapshot. Applying them to a view of the collection as of that number — deletions first,
/// then the upserts — gives the collection as of `seq`.
public struct StoreChanges: Sendable {
    /// The change sequence number the snapshot reached: pass it to the next call.
    public var seq: Int64
    /// The committed model generation on the snapshot (0: no model yet).
    public var modelGeneration: Int
    /// Items written after the given number, as they are now (each once, in insertion order).
    public var upserted: [StoredItem]
    /// Ids deleted after the given number (an id may also be among `upserted`, written again since).
    public var deleted: [ItemID]
    /// How many items are stored without a code, when asked for.
    public var pendingCount: Int?
    /// The state, training progress or last error changed after the given number.
    public var statusChanged = false
    /// Another server asked for the running training to be cancelled.
    public var trainingCancelRequested = false
    /// The change history after the given number was partly pruned (pruneChangeHistory): what
    /// was deleted cannot be told, so the caller must load the collection whole. Nothing else
    /// in this answer is filled in then.
    public var historyPruned = false

    public init(seq: Int64, modelGeneration: Int, upserted: [StoredItem] = [], deleted: [ItemID] = [], pendingCount: Int? = nil) {
        self.seq = seq
        self.modelGeneration = modelGeneration
        self.upserted = upserted
        self.deleted = deleted
        self.pendingCount = pendingCount
    }
}

extension CollectionStorage {
    /// Appends rows to a dataset in one transaction. `labels` has one list per row, or is empty.
    public func appendTrainingData(dataset: String = "default", vectors: Matrix, labels: [[Int]]) throws {
        try writeTrainingData(dataset: dataset, chunks: [(vectors, labels)], replace: false)
    }

    public func trainingData() throws -> (Matrix, [[Int]]) { try trainingData(dataset: "default") }

    public func trainingDataCount() throws -> Int { try trainingDataCount(dataset: "default") }

    @discardableResult public func upsert(_ batch: ItemBatch) throws -> UpsertCounts { try upsert(batch.items) }

    public func loadListCache() -> ListCache? { nil }
    public func saveListCache(_ cache: ListCache) throws {}
}

/// The store of collections: creates, opens, lists and deletes them. Each collection is opened
/// once per process; `openCollection` hands out the same handle while it is open.
public protocol CollectionCatalog: Sendable {
    associatedtype Store: CollectionStorage
    /// Where the data lives, for logs (a folder, or a database URL without its password).
    var location: String { get }
    /// alreadyExists when the name is taken; invalidArgument for a bad config.
    func createCollection(_ config: CollectionConfig) throws -> Store
    /// notFound when there is no such collection.
    func openCollection(_ name: String) throws -> Store
    /// Names, sorted.
    func listCollections() throws -> [String]
    /// Deletes the collection whole; its open handle is closed. notFound when it does not exist.
    func deleteCollection(_ name: String) throws
    /// Every collection's change sequence number (CollectionStorage.changeSequence), read at
    /// once; nil when nobody else can write to this store. A collection opened here and absent
    /// from the answer was deleted by another server (and perhaps re-created, then listed by the
    /// next call): its handle is closed.
    func changeSequences() throws -> [String: Int64]?
    /// Calls `wake` soon after any server commits a change to the store — a hint that
    /// `changeSequences` moved, which saves polling it often — and once each time the watch
    /// (re)starts, for changes made while it was not watching. Until `ChangeWatch.stop`. Nil when
    /// nobody else can write to this store (SQLite). `wake` runs on a thread of the store's: keep
    /// it short.
    func watchChanges(_ wake: @escaping @Sendable () -> Void) -> ChangeWatch?
    /// Drops the change history (the tombstones of deleted items and the change rows) older than
    /// the store's retention, so that it does not grow with every write forever; a server that
    /// fell further behind than that reloads the collection instead of catching up
    /// (StoreChanges.historyPruned). Returns the rows dropped; 0 and nothing to do when nobody
    /// else can write to this store. Any server may call it, at any time.
    func pruneChangeHistory() throws -> Int
    /// How often `pruneChangeHistory` is worth calling; nil when never.
    var pruneInterval: Duration? { get }
    /// Closes every open collection.
    func close()
}

/// A running `CollectionCatalog.watchChanges`.
public struct ChangeWatch: Sendable {
    /// True while the watch is connected and would report a change (else callers should poll).
    public let isWatching: @Sendable () -> Bool
    public let stop: @Sendable () -> Void

    public init(isWatching: @escaping @Sendable () -> Bool, stop: @escaping @Sendable () -> Void) {
        self.isWatching = isWatching
        self.stop = stop
    }
}

/// Runs blocking store calls off the caller's thread, for async code that may be running on
/// an event loop (see the top of this file). Calls run concurrently, each on the least busy of
/// a fixed set of serial queues: serial queues are Dispatch's "overcommit" kind, which gets a
/// thread whenever it has work, whereas a concurrent queue runs only as many blocks at once as
/// there are cores — blocked store calls would then hold back each other and every other
/// Dispatch job of the process (searches run on Dispatch too).
public enum StorageThreads {
    private static let queues = (0..<16).map { DispatchQueue(label: "dpq.storage.calls.\($0)") }
    private static let busy = Mutex([Int](repeating: 0, count: 16))

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let i = busy.withLock { counts in
            let i = counts.indices.min { counts[$0] < counts[$1] }!
            counts[i] += 1
            return i
        }
        return try await withCheckedThrowingContinuation { continuation in
            queues[i].async {
                let result = Result { try body() }
                busy.withLock { $0[i] -= 1 }
                continuation.resume(with: result)
            }
        }
    }
}
