// Following the other servers of a shared store (PostgreSQL, issue 14). Every server keeps its
// own in-memory index; what another server commits reaches it through the store's change
// sequence: `catchUp` reads everything committed after the last sequence number this runtime
// applied (StoreChanges: one snapshot) and applies it on the write queue, so it is ordered with
// this server's own writes. Applying is idempotent — items are applied as they are now, after
// the deletions — so re-reading this server's own writes is harmless.
//
// A new model committed elsewhere is not applied item by item: the model and every code are
// loaded again from one consistent read and published together (`Served`), as a training on
// this server does, so no search ever mixes codes of two models.
//
// A SQLite store has no other writers (changes are nil) and nothing here runs for it.

import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation

/// How far a runtime has followed the store.
struct Followed: Sendable {
    /// The change sequence number of the last state applied (0 for a store nobody else writes).
    var seq: Int64
    /// The model generation being served (0: none).
    var generation: Int
}

/// What a consistent load of a collection gives: the model with its codes, and the sequence
/// number they are at least as new as.
struct CollectionSnapshot {
    var model: DPQModel?
    var loaded: LoadedItems
    var followed: Followed
    var status: PersistedStatus
    /// Other servers may write to the store.
    var shared: Bool
}

extension CollectionRuntime {
    /// Model, items and status of one model generation. The sequence number is read first, so
    /// the items are at least as new as it (a later catch-up re-applies what came between);
    /// the generation is read before and after, and the load repeated if a model switch
    /// committed in between. Blocks on the store.
    static func loadSnapshot(_ store: any CollectionStorage) throws -> CollectionSnapshot {
        for _ in 0..<5 {
            let sequence = try store.changeSequence()
            let seq = sequence ?? 0
            let generation = try store.modelGeneration()
            let model = try store.currentModel()
            let loaded = try store.loadAll()
            let status = try PersistedStatus.load(store)
            if try store.modelGeneration() == generation {
                return CollectionSnapshot(model: model, loaded: loaded, followed: Followed(seq: seq, generation: generation), status: status,
                                          shared: sequence != nil)
            }
        }
        throw StorageError.unavailable("collection '\(store.config.name)': the model changed during each of 5 loads; try again")
    }

    /// The index of a snapshot, with the k-means lists saved for its model generation.
    static func makeIndex(_ snapshot: CollectionSnapshot, config: CollectionConfig, keepNorms: Bool, listCache: consuming ListCache? = nil,
                          threads: Int) throws -> CodeIndex? {
        guard let model = snapshot.model else { return nil }
        let generation = snapshot.followed.generation
        return try CodeIndex(snapshot.loaded, codebooks: model.codebooks, classCount: config.model.classCount, keepNorms: keepNorms,
                             partition: config.partition,
                             trainedLists: snapshot.status.lists.flatMap { $0.generation == generation ? $0.trained : nil },
                             listCache: consume listCache, threads: threads)
    }

    /// The change sequence number this runtime has applied.
    var followedSeq: Int64 { followed.withLock { $0.seq } }

    /// Applies what was committed to the store since the last catch-up (by any server). Returns
    /// how many items it applied (upserted or deleted), or -1 when it loaded a new model.
    @discardableResult
    func catchUp() async throws -> Int {
        try await writes.run { [self] in try catchUpNow() }
    }

    /// `catchUp` on the write queue.
    func catchUpNow() throws -> Int {
        let since = followed.withLock { $0 }
        let countPending = pending.withLock { $0 } > 0
        guard var changes = try store.changes(after: since.seq, countPending: countPending) else { return 0 }
        if changes.trainingCancelRequested, let j = job.withLock({ $0 }), !j.remote, !j.isFinished {
            j.cancel()  // asked through another server; the training ends and saves its state
        }
        // A model switched elsewhere, or a history pruned past what this server followed (it
        // was cut off longer than the store keeps changes): load the collection whole.
        if changes.modelGeneration != since.generation || changes.historyPruned {
            try reloadModel()
            return -1
        }
        if changes.seq == since.seq { return 0 }
        if changes.statusChanged {
            let status = try PersistedStatus.load(store)
            adoptModelInfo(status)
            try adoptStoredTraining(status)
            knownState.withLock { $0 = (try? store.state()) ?? $0 }
        }
        let coded = changes.upserted.filter { !$0.code.isEmpty }
        if changes.pendingCount == nil && coded.count != changes.upserted.count {
            changes.pendingCount = try store.changes(after: changes.seq, countPending: true)?.pendingCount
        }
        try changeServed { s in
            s.index?.remove(changes.deleted)
            // Items without a code (stored before this server knew a model) leave the index.
            try s.index?.upsert(changes.upserted)
        }
        if let n = changes.pendingCount { pending.withLock { $0 = n } }
        followed.withLock { $0.seq = max($0.seq, changes.seq) }
        if !coded.isEmpty {
            lastWrite.withLock { $0 = .now }
            refreshListsIfStale()
        }
        DPQMetrics.setCollectionItems(current.count + pending.withLock { $0 }, collection: name)
        return changes.deleted.count + changes.upserted.count
    }

    /// Another server switched the model (or the changes since this server's last catch-up are
    /// no longer kept): load the model and its codes and publish them at once.
    private func reloadModel() throws {
        let snapshot = try Self.loadSnapshot(store)
        let keep = model.metric == .squaredL2 || current.keepsNorms
        let index = try Self.makeIndex(snapshot, config: config, keepNorms: keep, threads: threads)
        changeServed { $0 = Served(model: snapshot.model, index: index, info: nil) }
        adoptModelInfo(snapshot.status)
        try adoptStoredTraining(snapshot.status)
        pending.withLock { $0 = snapshot.loaded.uncoded.count }
        knownState.withLock { $0 = (try? store.state()) ?? $0 }
        followed.withLock { $0 = snapshot.followed }
        DPQMetrics.setCollectionItems(snapshot.loaded.ids.count, collection: name)
    }

    /// The model's description (job, time, digest) as the server that committed it saved it —
    /// after the commit, so it may come after the model: taken when its digest is the served
    /// model's. On the write queue.
    func adoptModelInfo(_ status: PersistedStatus) {
        guard let info = status.modelInfo, info.sha256 != current.info?.sha256, info.sha256 == current.digest else { return }
        // On the write queue, where every model switch happens too: still the same model.
        changeServed { $0.info = info }
    }

    /// The training another server runs or ran, as it last saved it: this server's copy of the
    /// job (for WatchTraining, CancelTraining and GetCollection here) follows it. A job this
    /// server runs itself is left alone.
    func adoptStoredTraining(_ status: PersistedStatus) throws {
        guard let data = status.lastProgress, let p = try? Dpq_V1_TrainingProgress(serializedBytes: data), !p.jobID.isEmpty else { return }
        job.withLock { job in
            if let j = job, !j.remote, j.id == p.jobID || !j.isFinished { return }
            if let j = job, j.remote, j.id == p.jobID { j.mirror(p) } else { job = TrainingJob(mirroring: p) }
        }
    }

    /// A copy of another server's training that still runs here although that server is gone
    /// (its lease is free): the store's state is repaired and the copy ends as failed. Called
    /// by the registry about once a second.
    func checkRemoteTraining() throws {
        guard let j = job.withLock({ $0 }), j.remote, !j.isFinished else { return }
        _ = try store.repairAbandonedTraining()
        if try store.state() != .training {
            // The training ended; its last report may not have been seen yet.
            try adoptStoredTraining(try PersistedStatus.load(store))
            if !j.isFinished {
                j.update {
                    $0.state = .failed
                    $0.error = "the server running this training stopped before it finished"
                    $0.finishedAtUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
                }
            }
            knownState.withLock { $0 = (try? store.state()) ?? $0 }
        }
    }

    /// True when another server deleted the collection from the shared store (never with SQLite).
    func deletedElsewhere() -> Bool {
        do {
            _ = try store.changeSequence()
            return false
        } catch StorageError.notFound {
            return true
        } catch {
            return false
        }
    }

    /// After this server committed a model: the generation it serves now (so that catching up
    /// does not load it again).
    func noteModelCommitted() throws {
        let generation = try store.modelGeneration()
        followed.withLock { $0.generation = generation }
    }
}
