// One open collection: its store on disk and what searches read in memory.
// Searches read the `Served` value (model + code index) in place under a shared lock, so they
// always see one consistent model and any number run at once. Writers (upserts, deletes, the
// model switch) are serialised by `writes`, apply to disk first (acknowledged = durable), then
// change the index in place under the exclusive lock for the moment the in-memory change takes:
// no write copies the index (a copy-on-write value read by copying out would be copied whole
// by the first write while any search held it). Work that only reads the index for long (norms)
// runs on the write queue under the shared lock, so searches go on meanwhile; k-means list
// builds run off the queue on a snapshot of the codes, so writes go on too.
// The store (SQLite or PostgreSQL) blocks its caller, so it is called only from the write
// queue, training threads and StorageThreads.run — never from the RPC's own (event-loop) thread.

import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import Synchronization

struct Served: Sendable {
    let model: DPQModel?
    /// sha256 (hex) of the model's file: what pre-encoded codes must name (UpsertItemsRequest.model_sha256).
    let digest: String?
    var index: CodeIndex?
    /// Kept only while it describes `model` (its sha256 is `digest`).
    var info: ModelInfo? {
        didSet { if info?.sha256 != digest { info = nil } }
    }

    /// `digest` when the caller has it already, else computed (the model serialised once per switch).
    init(model: DPQModel?, index: CodeIndex?, info: ModelInfo?, digest: String? = nil) {
        self.model = model
        self.digest = digest ?? model.map { Digest.sha256Hex($0.serialized()) }
        self.index = index
        // A description saved for another model (a crash between the model's commit and the status
        // write) is dropped rather than shown with this one.
        self.info = info?.sha256 == self.digest ? info : nil
    }
}

/// What `served` holds, minus the codes: copied out by every change (`changeServed`), for paths
/// that must not wait behind a scan (RPC handlers on event loops) and need no codes. The model
/// is replaced, never changed in place, so copies of it cost a reference count.
struct ServedSummary: Sendable {
    var model: DPQModel?
    var digest: String?
    var info: ModelInfo?
    var count = 0
    var lists = 0
    var keepsNorms = false

    init(_ s: Served) {
        model = s.model
        digest = s.digest
        info = s.info
        count = s.index?.count ?? 0
        lists = s.index?.listCount ?? 0
        keepsNorms = s.index?.norms != nil
    }
}

/// Runs closures one at a time, in arrival order, on a serial dispatch queue of its own:
/// writes wait on the store's commit (an fsync, or a round trip to PostgreSQL) and encode
/// batches, and must not hold a thread that serves RPC I/O (with `dpq serve`, Swift concurrency
/// runs on NIO's event loops).
final class WriteQueue: Sendable {
    private let queue = DispatchQueue(label: "dpq.collection.writes")

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Queues `body` without waiting for it.
    func enqueue(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }
}

final class CollectionRuntime: Sendable {
    let store: any CollectionStorage
    let limits: ServerLimits
    /// Threads a search or evaluation may use.
    let threads: Int
    /// Read with `served.read` (searches), changed with `changeServed` only.
    let served: ReadWriteLocked<Served>
    /// Kept equal to `ServedSummary(served)` by `changeServed`.
    let summary: Mutex<ServedSummary>
    let writes = WriteQueue()
    let job = Mutex<TrainingJob?>(nil)
    /// Items stored without a code (no model yet when they came).
    let pending: Mutex<Int>
    /// Items stored, kept by this runtime's writes when it is the store's only writer (SQLite):
    /// counting a large table on every write (SELECT count(*)) would cost a scan per upsert.
    let storedCount: Mutex<Int>
    /// The stored state as this runtime last read or wrote it, for messages on paths that must
    /// not wait for the store (a search of a collection without a model).
    let knownState: Mutex<CollectionState>
    /// How far this runtime has applied the shared store's changes (CollectionRuntime+Following).
    let followed: Mutex<Followed>
    /// Other servers may write to the store (PostgreSQL).
    let shared: Bool
    /// A k-means list build is due or runs, off the write queue (refreshListsIfStale).
    let listBuildDue = Mutex(false)
    /// When the last write was stored: a due list build waits until writes have paused this long
    /// (refreshListsIfStale; read at each check, so a test can lengthen and shorten it).
    let lastWrite = Mutex(ContinuousClock.now)
    let listBuildPause = Mutex<Duration>(.milliseconds(500))
    /// A due list build starts after this long even while writes go on (also read at each check).
    let listBuildMaxDelay = Mutex<Duration>(.seconds(60))
    /// Closed (deleted, or the server stopping): a list build finishing late installs nothing.
    let closed = Mutex(false)

    var name: String { store.config.name }
    var config: CollectionConfig { store.config }
    var model: ModelConfig { store.config.model }

    /// Loads the collection; blocks on the store (call it off event loops).
    init(store: any CollectionStorage, limits: ServerLimits, threads: Int = Cores.available) throws {
        self.store = store
        self.limits = limits
        self.threads = threads
        let snapshot = try Self.loadSnapshot(store)
        // With the k-means lists saved for this model, when there are: the same lists as before a restart.
        let index = try Self.makeIndex(snapshot, config: store.config, keepNorms: store.config.model.metric == .squaredL2,
                                       listCache: store.loadListCache(), threads: threads)
        let initial = Served(model: snapshot.model, index: index, info: snapshot.status.modelInfo)
        served = ReadWriteLocked(initial)
        summary = Mutex(ServedSummary(initial))
        pending = Mutex(snapshot.loaded.uncoded.count)
        storedCount = Mutex(snapshot.loaded.ids.count)
        followed = Mutex(snapshot.followed)
        shared = snapshot.shared
        let state = try store.state()
        knownState = Mutex(state)
        if shared && state == .training {
            // Another server trains it now (opening repaired the state otherwise): follow that job.
            try adoptStoredTraining(snapshot.status)
        } else if let last = snapshot.status.lastProgress {
            job.withLock { $0 = TrainingJob(restored: last) }
        }
        DPQMetrics.setCollectionItems(snapshot.loaded.ids.count, collection: store.config.name)
        // k-means lists trained just now (none were saved for this model): saved, so that the next
        // start assigns the items to these centroids instead of training again (seconds at 10M items).
        let saved = snapshot.status.lists.flatMap { $0.generation == snapshot.followed.generation ? $0.trained : nil }
        if let trained = index?.trainedLists, trained != saved { try? saveStatus() }
        // The list of every item, for the next start, when more than 1% of them had to be assigned now.
        if let index, index.count - index.listsFromCache > index.count / 100,
           let cache = index.listCache(rowids: snapshot.loaded.codedRowids) {
            try? store.saveListCache(cache)
        }
    }

    /// The served model, its description and the index's size, without waiting for searches or writes.
    var current: ServedSummary { summary.withLock { $0 } }

    /// The only way `served` changes: `body` under the exclusive lock, then the summary.
    @discardableResult
    func changeServed<T>(_ body: (inout Served) throws -> T) rethrows -> T {
        try served.write { s in
            defer { summary.withLock { $0 = ServedSummary(s) } }
            return try body(&s)
        }
    }

    /// Before a search or evaluation with `metric`: an L2 one makes the index keep prefix norms
    /// (M floats per item), computed once here instead of by every L2 search: on the write queue,
    /// so no write changes the codes meanwhile, under the shared lock, so searches go on.
    func prepare(for metric: SearchMetric) async throws {
        guard metric == .squaredL2, current.count > 0, !current.keepsNorms else { return }
        try await writes.run { [self] in
            let computed = served.read { s -> (PrefixNorms, IVFIndex<ArrayInvertedLists>?)? in
                guard let index = s.index, index.norms == nil else { return nil }
                let norms = index.prefixNorms(threads: threads)
                return (norms, index.listsWithNorms(norms, threads: threads))
            }
            guard let (norms, lists) = computed else { return }
            changeServed { $0.index?.addNorms(norms, lists: lists) }
        }
    }

    /// After a write, on the write queue: when the collection has grown enough for better k-means
    /// lists (CodeIndex.listsAreStale), builds them on a snapshot of the codes on a thread of its
    /// own, so that writes go on meanwhile (a build at 10M items takes tens of seconds, which
    /// every write used to wait for), then installs them on the write queue, brought up to date
    /// with the writes made since (CodeIndex.installLists(_:builtFrom:)). One build at a time;
    /// searches use the lists in place until then (every item is in them: a search is as right
    /// as before, only the lists fit the items less well).
    ///
    /// A due build waits for a pause in the writes (`listBuildPause`), up to `listBuildMaxDelay`:
    /// during a bulk load, builds at each doubling took half of the load's cores (a load from
    /// empty to 1M items trained and assigned lists at 2K, 4K, ... 512K and 1M items), so the
    /// load now runs first and the lists are built once it pauses, as Milvus indexes a segment
    /// once it is sealed. A steady trickle of writes still gets its lists within the max delay.
    func refreshListsIfStale() {
        guard !listBuildDue.withLock({ $0 }), served.read({ $0.index?.listsAreStale ?? false }) else { return }
        listBuildDue.withLock { $0 = true }
        buildListsAfterPause(due: .now)
    }

    /// How often a due build looks whether the writes have paused.
    static let listBuildCheck = 0.1

    private func buildListsAfterPause(due: ContinuousClock.Instant) {
        // A Dispatch thread, not a task: the build blocks its thread for its whole length, and
        // `dpq serve` runs Swift concurrency on the event loops.
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + Self.listBuildCheck) { [self] in
            let now = ContinuousClock.now, pause = listBuildPause.withLock { $0 }, maxDelay = listBuildMaxDelay.withLock { $0 }
            if !closed.withLock({ $0 }), now - lastWrite.withLock({ $0 }) < pause, now - due < maxDelay {
                buildListsAfterPause(due: due)
                return
            }
            // Taken now, under the shared lock: the codes as they are after the writes it waited for.
            guard !closed.withLock({ $0 }),
                  let build = served.read({ s in s.index.flatMap { $0.listsAreStale ? $0.listBuild : nil } }) else {
                // Cleared on the write queue, where a write that makes the lists stale looks at it.
                writes.enqueue { [self] in
                    listBuildDue.withLock { $0 = false }
                    if !closed.withLock({ $0 }) { refreshListsIfStale() }
                }
                return
            }
            let threads = self.threads
            let built = build.run(threads: threads, shouldStop: { [self] in closed.withLock { $0 } })
            writes.enqueue { [self] in
                guard !closed.withLock({ $0 }) else {
                    listBuildDue.withLock { $0 = false }
                    return
                }
                let installed = changeServed { $0.index?.installLists(built, builtFrom: build, threads: threads) ?? false }
                if installed { try? saveStatus() }  // without it a restart trains them again, from rows in another order
                // Cleared once the lists are in: a GetCollection in between would report neither a
                // build nor the new lists.
                listBuildDue.withLock { $0 = false }
                refreshListsIfStale()  // grown enough again meanwhile
            }
        }
    }

    /// A new index over the store under `model`, on the write queue. It keeps norms when L2 is the
    /// collection's metric or the index it replaces kept them (an L2 search asked; one asking while
    /// this runs finds the new index without them and adds them after).
    func makeIndex(_ model: DPQModel) throws -> CodeIndex {
        let keep = self.model.metric == .squaredL2 || current.keepsNorms
        return try CodeIndex(store: store, model: model, keepNorms: keep, threads: threads)
    }

    /// The served model, or FAILED_PRECONDITION naming the state.
    func requireModel() throws -> DPQModel {
        guard let m = current.model else { throw noModel() }
        return m
    }

    /// `body` with the served model and index, read in place under the shared lock (writes wait
    /// until it returns); FAILED_PRECONDITION naming the state when there is no model yet. `body`
    /// must not call back into `served`.
    func withServed<T>(_ body: (DPQModel, CodeIndex) throws -> T) throws -> T {
        try served.read { s in
            guard let m = s.model, let i = s.index else { throw noModel() }
            return try body(m, i)
        }
    }

    func noModel() -> Error {
        let state = knownState.withLock { $0 }
        return precondition_("collection '\(name)' has no trained model yet (state \(state.rawValue.uppercased())): train it first")
    }

    func info() async throws -> Dpq_V1_CollectionInfo {
        try await StorageThreads.run { [self] in try infoFromStore() }
    }

    /// How many items the store holds: kept here when this server is its only writer, else counted
    /// by the store (other servers write to it).
    func itemCount() throws -> Int {
        shared ? try store.count() : storedCount.withLock { $0 }
    }

    /// Sets the stored state and the one kept here.
    func setState(_ state: CollectionState, error: String?) throws {
        try store.setState(state, error: error)
        knownState.withLock { $0 = state }
    }

    private func infoFromStore() throws -> Dpq_V1_CollectionInfo {
        let s = current
        let state = try store.state()
        knownState.withLock { $0 = state }
        let count = try itemCount()
        let pendingCount = pending.withLock { $0 }
        var info = Dpq_V1_CollectionInfo()
        info.name = name
        info.config = protoConfig
        info.state = switch state {
        case .untrained: .untrained
        case .training: .training
        case .ready: .ready
        case .failed: .failed
        }
        info.hasModel_p = s.model != nil
        info.itemCount = UInt64(count)
        info.pendingItems = UInt64(pendingCount)
        if let m = s.model { info.model = ItemConversions.summary(m, info: s.info, digest: s.digest) }
        if let j = job.withLock({ $0 }) { info.training = j.snapshot() }
        info.lastError = (try store.lastError()) ?? ""
        let perItem = config.codeBytes + (config.keepVectors ? 4 * model.inputDimension : 0) + 4 * model.blocks
        info.storageBytes = UInt64(count * perItem)
        info.createdAtUnixMs = Int64(config.createdAt.timeIntervalSince1970 * 1000)
        info.datasets = (try? datasets()) ?? []
        info.indexLists = UInt32(s.lists)
        info.indexListsBuilding = listBuildDue.withLock { $0 }
        return info
    }

    var protoConfig: Dpq_V1_CollectionConfig {
        .with {
            $0.inputDimension = UInt32(model.inputDimension)
            if let s = model.inputShape {
                $0.inputShape = .with { $0.height = UInt32(s.height); $0.width = UInt32(s.width); $0.channels = UInt32(s.channels) }
            }
            $0.model = ConfigConversions.protoModel(model)
            $0.metric = model.metric.proto
            $0.keepVectors = config.keepVectors
            if config.halfVectors { $0.vectorPrecision = .float16 }
            $0.trainingDefaults = ConfigConversions.protoTraining(config.training)
            $0.index = ConfigConversions.protoIndex(config.partition)
        }
    }

    func close() {
        closed.withLock { $0 = true }
        try? store.close()
    }
}

/// What the collection remembers about its trainings between restarts.
struct PersistedStatus: Codable {
    var lastProgress: Data?
    var modelInfo: ModelInfo?
    /// The k-means lists of the model of `generation` (little-endian Float32 centroids).
    var lists: SavedLists?

    struct SavedLists: Codable {
        var generation: Int
        var rows: Int
        var cols: Int
        var builtFor: Int
        var centroids: Data

        init(_ t: TrainedLists, generation: Int) {
            self.generation = generation
            rows = t.centroids.rows
            cols = t.centroids.cols
            builtFor = t.builtFor
            var d = Data(capacity: t.centroids.values.count * 4)
            for v in t.centroids.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            centroids = d
        }

        var trained: TrainedLists? {
            guard rows >= 1, cols >= 1, centroids.count == rows * cols * 4 else { return nil }
            let values = centroids.withUnsafeBytes { raw in
                (0..<(rows * cols)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            return TrainedLists(centroids: Matrix(rows: rows, cols: cols, values: values), builtFor: builtFor)
        }
    }

    static func load(_ store: any CollectionStorage) throws -> PersistedStatus {
        guard let data = try store.progress(), !data.isEmpty else { return PersistedStatus() }
        return (try? JSONDecoder().decode(PersistedStatus.self, from: data)) ?? PersistedStatus()
    }

    func save(_ store: any CollectionStorage) throws {
        try store.saveProgress(try JSONEncoder().encode(self))
    }
}
