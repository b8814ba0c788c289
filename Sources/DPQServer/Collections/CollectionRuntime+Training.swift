// Training data and training jobs. A job runs on its own thread; the collection keeps
// serving its previous model (if any) until the new one is committed, which happens in one
// storage transaction together with every item's new code, then is published atomically.

import DPQEngine
import DPQProto
import DPQStorage
import Foundation
import Synchronization

enum TrainingSource: Sendable {
    case dataset(String)
    case items(filter: Set<Int>?, sampleSize: Int)
}

extension CollectionRuntime {
    func datasets() throws -> [Dpq_V1_TrainingDataInfo] {
        try store.datasets().map { d in
            .with {
                $0.name = d.name
                $0.rows = UInt64(d.rows)
                $0.labelledRows = UInt64(d.labelledRows)
                $0.sizeBytes = UInt64(d.bytes)
                $0.updatedAtUnixMs = d.updatedAtUnixMs
            }
        }
    }

    /// Starts a job; FAILED_PRECONDITION while another runs on this collection.
    func startTraining(source: TrainingSource, training: TrainingConfig, slots: TrainingSlots) async throws -> TrainingJob {
        let (newJob, data, labels, lease) = try await writes.run { [self] () throws -> (TrainingJob, Matrix, [[Int]], any TrainingLease) in
            // (A copy of another server's job is judged by the lease below: its server may be gone.)
            if let j = self.job.withLock({ $0 }), !j.remote, !j.isFinished {
                throw precondition_("collection '\(name)' is already training (job \(j.id)); cancel it or wait")
            }
            let (data, labels) = try trainingRows(source)
            guard data.rows > 0 else { throw precondition_("the training source of '\(name)' has no usable rows") }
            let s = current
            if s.model != nil, !config.keepVectors, s.count > 0 {
                throw precondition_("retraining '\(name)' must re-encode its \(s.count) items, which needs their vectors: the collection was created with keep_vectors false")
            }
            // Among several servers on one store, one trains a collection at a time.
            guard let lease = try store.trainingLease() else {
                let other = self.job.withLock { $0.map { $0.remote && !$0.isFinished ? " (job \($0.id))" : "" } } ?? ""
                throw precondition_("collection '\(name)' is being trained by another server\(other); cancel it or wait")
            }
            guard slots.acquire() else {
                lease.release()
                throw exhausted("\(slots.limit) training(s) already running on this server (max_concurrent_trainings)")
            }
            let j = TrainingJob(collection: name, rows: data.rows)
            self.job.withLock { $0 = j }
            do {
                try setState(.training, error: nil)
                try saveStatus()
            } catch {
                lease.release()
                slots.release()
                throw error
            }
            return (j, data, labels, lease)
        }
        let model = self.model
        let job = newJob
        if shared { reportProgress(of: job) }
        Task.detached { [self] in
            defer { slots.release(); lease.release() }
            let outcome: Result<DPQModel, any Error>
            do {
                // OpenBLAS's threads for the training's length (the server keeps it at 1 otherwise).
                var held = training
                held.threads = training.threads ?? threads
                let trained = try await onThread { [held] in
                    try Trainer.train(data: data, labels: model.hasNetwork ? Labels(multi: labels, classCount: model.classCount) : nil,
                                      model: model, training: held) { p in job.record(p, training: training) }
                }
                outcome = .success(trained)
            } catch {
                outcome = .failure(error)
            }
            await finish(job: job, outcome: outcome, training: training, rows: data.rows, lease: lease)
        }
        return job
    }

    private func trainingRows(_ source: TrainingSource) throws -> (Matrix, [[Int]]) {
        var data: Matrix
        var labels: [[Int]]
        switch source {
        case .dataset(let name):
            guard try store.datasets().contains(where: { $0.name == name }) else {
                throw notFound("training dataset '\(name)' does not exist in collection '\(self.name)'")
            }
            (data, labels) = try store.trainingData(dataset: name)
        case .items(let filter, let sampleSize):
            let loaded = try store.loadAll()
            // Items that still have a vector: all of them when the collection keeps vectors,
            // otherwise those not encoded yet.
            var itemRows: [Int]
            var vectors: Matrix
            if let all = loaded.vectors {
                itemRows = Array(0..<loaded.ids.count)
                vectors = all
            } else {
                itemRows = loaded.uncoded
                vectors = loaded.pendingVectors ?? Matrix(rows: 0, cols: model.inputDimension)
            }
            guard !itemRows.isEmpty else {
                throw precondition_("training from the items of '\(name)' needs their vectors, and no item has one: upload a training dataset, or create the collection with keep_vectors true")
            }
            var picks = Array(0..<itemRows.count)
            if let f = filter, !f.isEmpty { picks = picks.filter { !f.isDisjoint(with: loaded.labels.labels(of: itemRows[$0])) } }
            if sampleSize > 0 && sampleSize < picks.count {
                var r = SeededRandom(seed: 0x5eed)
                picks = r.permutation(picks.count).prefix(sampleSize).map { picks[$0] }.sorted()
            }
            data = vectors.rows(picks)
            labels = picks.map { loaded.labels.labels(of: itemRows[$0]) }
        }
        if model.hasNetwork {
            // Rows without a label cannot teach the classifier; single-label mode needs exactly one.
            let keep = labels.indices.filter { model.labelMode == .single ? labels[$0].count == 1 : !labels[$0].isEmpty }
            if keep.count != labels.count {
                data = data.rows(keep)
                labels = keep.map { labels[$0] }
            }
        }
        return (data, labels)
    }

    private func finish(job: TrainingJob, outcome: Result<DPQModel, any Error>, training: TrainingConfig, rows: Int,
                        lease: any TrainingLease) async {
        switch outcome {
        case .success(let model):
            job.update { $0.phase = .encoding }
            do {
                try await writes.run { [self] in
                    let loaded = try store.loadAll()
                    let recoded = try recode(loaded, with: model)
                    try lease.check()
                    try store.commitModel(model, recodedItems: recoded)
                    knownState.withLock { $0 = .ready }
                    try noteModelCommitted()
                    let index = try makeIndex(model)
                    let info = ModelInfo(jobID: job.id, trainedAtUnixMs: Self.nowMs(), trainingRows: rows, training: training,
                                         finalLosses: nil, sha256: Digest.sha256Hex(model.serialized()))
                    changeServed { $0 = Served(model: model, index: index, info: info, digest: info.sha256) }
                    pending.withLock { $0 = 0 }
                    job.update {
                        $0.state = .succeeded; $0.phase = .done; $0.percent = 100; $0.etaSeconds = 0
                        $0.finishedAtUnixMs = Self.nowMs()
                    }
                    try saveStatus()
                }
            } catch {
                await fail(job, "could not commit the trained model: \(error)")
            }
        case .failure(EngineError.cancelled):
            // On the write queue: the store blocks, and this runs on the concurrency executor.
            _ = try? await writes.run { [self] in
                // The collection's state first: a watcher that sees the job end must see it too.
                try? setState(current.model != nil ? .ready : .untrained, error: nil)
                job.update { $0.state = .cancelled; $0.finishedAtUnixMs = Self.nowMs() }
                try? saveStatus()
            }
        case .failure(let error):
            await fail(job, "\(error)")
        }
    }

    private func fail(_ job: TrainingJob, _ message: String) async {
        _ = try? await writes.run { [self] in
            try? setState(current.model != nil ? .ready : .failed, error: message)
            job.update { $0.state = .failed; $0.error = message; $0.finishedAtUnixMs = Int64(Date().timeIntervalSince1970 * 1000) }
            try? saveStatus()
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// New codes for every item that still has a vector (all with keep_vectors, else the pending ones).
    func recode(_ loaded: LoadedItems, with model: DPQModel) throws -> [(ItemID, [UInt8])] {
        let rows: [Int]
        let vectors: Matrix
        if let all = loaded.vectors { rows = Array(0..<loaded.ids.count); vectors = all }
        else if let pending = loaded.pendingVectors { rows = loaded.uncoded; vectors = pending }
        else { return [] }
        guard !rows.isEmpty else { return [] }
        let codes = try model.encode(vectors, threads: threads)
        let w = codes.bytesPerItem
        return rows.enumerated().map { j, r in (loaded.ids[r], Array(codes.bytes[(j * w)..<((j + 1) * w)])) }
    }

    func saveStatus() throws {
        // Another server's training: its progress is that server's to save.
        if job.withLock({ $0?.remote }) == true { return }
        let last = job.withLock { $0 }.map { try? $0.snapshot().serializedBytes() as Data } ?? nil
        let generation = try store.modelGeneration()
        let lists = served.read { $0.index?.trainedLists }.map { PersistedStatus.SavedLists($0, generation: generation) }
        try PersistedStatus(lastProgress: last, modelInfo: current.info, lists: lists).save(store)
    }

    /// With a shared store: saves the job's progress every second while it runs, so that the
    /// other servers can report it (WatchTraining, GetCollection on any server).
    private func reportProgress(of job: TrainingJob) {
        Task.detached { [self] in
            while !job.isFinished {
                try? await Task.sleep(for: .seconds(1))
                if job.isFinished { break }
                _ = try? await writes.run { [self] in try saveStatus() }
            }
        }
    }

    /// Requests cancellation of the job this server runs; returns it (nil when none ever ran
    /// here: another server's training is cancelled through the store, TrainingService).
    func cancelTraining() -> TrainingJob? {
        guard let j = job.withLock({ $0 }), !j.remote else { return nil }
        j.cancel()
        return j
    }
}

/// Server-wide count of running trainings, against max_concurrent_trainings.
final class TrainingSlots: Sendable {
    let limit: Int
    private let running = Mutex(0)
    init(limit: Int) { self.limit = limit }
    func acquire() -> Bool { running.withLock { n in guard n < limit else { return false }; n += 1; return true } }
    func release() { running.withLock { $0 -= 1 } }
}
