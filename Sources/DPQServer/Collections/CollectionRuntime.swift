// One open collection: its store on disk and what searches read in memory.
// Searches take the current `Served` value (model + code index) under a short lock and run
// outside it, so they never wait for writers and always see one consistent model. Writers
// (upserts, deletes, the model switch) are serialised by `writes`, apply to disk first
// (acknowledged = durable) and then publish a new `Served`.
// The store (SQLite or PostgreSQL) blocks its caller, so it is called only from the write
// queue, training threads and StorageThreads.run — never from the RPC's own (event-loop) thread.

import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import Synchronization

struct Served: Sendable {
    var model: DPQModel?
    var index: CodeIndex?
    var info: ModelInfo?
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
}

final class CollectionRuntime: Sendable {
    let store: any CollectionStorage
    let limits: ServerLimits
    /// Threads a search or evaluation may use.
    let threads: Int
    let served: Mutex<Served>
    let writes = WriteQueue()
    let job = Mutex<TrainingJob?>(nil)
    /// Items stored without a code (no model yet when they came).
    let pending: Mutex<Int>
    /// The stored state as this runtime last read or wrote it, for messages on paths that must
    /// not wait for the store (a search of a collection without a model).
    let knownState: Mutex<CollectionState>
    /// How far this runtime has applied the shared store's changes (CollectionRuntime+Following).
    let followed: Mutex<Followed>
    /// Other servers may write to the store (PostgreSQL).
    let shared: Bool

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
        let index = try Self.makeIndex(snapshot, config: store.config, keepNorms: store.config.model.metric == .squaredL2, threads: threads)
        served = Mutex(Served(model: snapshot.model, index: index, info: snapshot.status.modelInfo))
        pending = Mutex(snapshot.loaded.uncoded.count)
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
    }

    var current: Served { served.withLock { $0 } }

    /// Before a search or evaluation with `metric`: an L2 one makes the index keep prefix norms
    /// (M floats per item), computed once here (on the write queue, so no write changes the codes
    /// meanwhile, and outside the lock, so searches go on) instead of by every L2 search.
    func prepare(for metric: SearchMetric) async throws {
        guard metric == .squaredL2, let index = current.index, index.norms == nil else { return }
        try await writes.run { [self] in
            guard let index = current.index, index.norms == nil else { return }
            // Norms (and lists rebuilt with them) on a copy outside the lock; no write can come
            // between (this is the write queue), so the copy then replaces the served index.
            var updated = index
            updated.addNorms(index.prefixNorms(threads: threads), threads: threads)
            served.withLock { $0.index = updated }
        }
    }

    /// After a write, on the write queue: builds k-means lists again when the collection has grown
    /// enough for better ones (CodeIndex.listsAreStale), outside the lock, then publishes them.
    func refreshListsIfStale() {
        guard let index = current.index, index.listsAreStale else { return }
        let built = index.builtLists(threads: threads)
        served.withLock { $0.index?.installLists(built) }
        try? saveStatus()  // without it a restart trains them again, from rows in another order
    }

    /// A new index over the store under `model`, on the write queue. It keeps norms when L2 is the
    /// collection's metric or the index it replaces kept them (an L2 search asked; one asking while
    /// this runs finds the new index without them and adds them after).
    func makeIndex(_ model: DPQModel) throws -> CodeIndex {
        let keep = self.model.metric == .squaredL2 || current.index?.norms != nil
        return try CodeIndex(store: store, model: model, keepNorms: keep, threads: threads)
    }

    /// The model, or FAILED_PRECONDITION naming the state.
    func requireModel() throws -> (DPQModel, CodeIndex) {
        let s = current
        guard let m = s.model, let i = s.index else {
            let state = knownState.withLock { $0 }
            throw precondition_("collection '\(name)' has no trained model yet (state \(state.rawValue.uppercased())): train it first")
        }
        return (m, i)
    }

    func info() async throws -> Dpq_V1_CollectionInfo {
        try await StorageThreads.run { [self] in try infoFromStore() }
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
        let count = try store.count()
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
        if let m = s.model { info.model = ItemConversions.summary(m, info: s.info) }
        if let j = job.withLock({ $0 }) { info.training = j.snapshot() }
        info.lastError = (try store.lastError()) ?? ""
        let perItem = config.codeBytes + (config.keepVectors ? 4 * model.inputDimension : 0) + 4 * model.blocks
        info.storageBytes = UInt64(count * perItem)
        info.createdAtUnixMs = Int64(config.createdAt.timeIntervalSince1970 * 1000)
        info.datasets = (try? datasets()) ?? []
        info.indexLists = UInt32(s.index?.listCount ?? 0)
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
            $0.trainingDefaults = ConfigConversions.protoTraining(config.training)
            $0.index = ConfigConversions.protoIndex(config.partition)
        }
    }

    func close() { try? store.close() }
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
