// dpq.v1.TrainingService: training datasets, jobs, progress streams, cancellation.
import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import GRPCCore
import Synchronization

struct TrainingService: Dpq_V1_TrainingService.SimpleServiceProtocol {
    let registry: CollectionRegistry
    var limits: ServerLimits { registry.limits }

    func uploadTrainingData(request: RPCAsyncSequence<Dpq_V1_UploadTrainingDataRequest, any Error>, context: ServerContext) async throws -> Dpq_V1_UploadTrainingDataResponse {
        try await RPCErrors.mapping {
            var collection: CollectionRuntime?
            var dataset = "default"
            var mode = Dpq_V1_UploadMode.replace
            var chunks: [(Matrix, [[Int]])] = []
            var rows = 0
            for try await chunk in request {
                if collection == nil {
                    collection = try registry.get(chunk.collection)
                    if !chunk.dataset.isEmpty { try Validate.collectionName(chunk.dataset, field: "dataset"); dataset = chunk.dataset }
                    switch chunk.mode {
                    case .unspecified: break
                    case .replace, .append, .create: mode = chunk.mode
                    case .UNRECOGNIZED(let v): throw invalid("mode: unknown value \(v)")
                    }
                } else {
                    // Later chunks may repeat the names; they must then be the same (documented).
                    if !chunk.collection.isEmpty && chunk.collection != collection!.name {
                        throw invalid("chunk \(chunks.count) names collection '\(chunk.collection)', the stream is for '\(collection!.name)'")
                    }
                    if !chunk.dataset.isEmpty && chunk.dataset != dataset {
                        throw invalid("chunk \(chunks.count) names dataset '\(chunk.dataset)', the stream is for '\(dataset)'")
                    }
                }
                let c = collection!
                guard chunk.hasVectors else { throw invalid("chunk \(chunks.count): vectors is required") }
                let m = try Validate.vectors(chunk.vectors, field: "chunks[\(chunks.count)].vectors", dimension: c.model.inputDimension,
                                             maxRows: limits.maxBatchRows)
                let labels = try Validate.rowLabels(chunk.hasLabels ? chunk.labels : nil, rows: m.rows,
                                                    field: "chunks[\(chunks.count)].labels", config: c.model, limits: limits,
                                                    required: c.model.hasNetwork) ?? [[Int]](repeating: [], count: m.rows)
                rows += m.rows
                guard rows <= limits.maxDatasetRows else {
                    throw exhausted("the dataset would exceed \(limits.maxDatasetRows) rows (max_dataset_rows)")
                }
                chunks.append((m, labels))
            }
            guard let c = collection else { throw invalid("the stream carried no chunk") }
            let store = c.store, upload = chunks, replace = mode != .append, received = rows, name = dataset
            let exists = try await StorageThreads.run { try store.datasets().contains { $0.name == name } }
            if mode == .create && exists { throw RPCErrors.alreadyExists("training dataset '\(dataset)' already exists (mode CREATE)") }
            // One write for the whole upload: a stream that fails midway leaves the dataset as it was.
            let total = try await StorageThreads.run {
                try store.writeTrainingData(dataset: name, chunks: upload, replace: replace)
                return try store.datasets().first { $0.name == name }?.rows ?? received
            }
            return .with {
                $0.collection = c.name
                $0.dataset = dataset
                $0.chunksReceived = UInt64(chunks.count)
                $0.rowsReceived = UInt64(rows)
                $0.datasetRows = UInt64(total)
            }
        }
    }

    func listTrainingData(request: Dpq_V1_ListTrainingDataRequest, context: ServerContext) async throws -> Dpq_V1_ListTrainingDataResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let datasets = (try? await StorageThreads.run { try c.datasets() }) ?? []
            return .with { $0.datasets = datasets }
        }
    }

    func deleteTrainingData(request: Dpq_V1_DeleteTrainingDataRequest, context: ServerContext) async throws -> Dpq_V1_DeleteTrainingDataResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            guard !request.dataset.isEmpty else { throw invalid("dataset is required") }
            let store = c.store, dataset = request.dataset
            let deleted = try await StorageThreads.run { try store.deleteTrainingData(dataset: dataset) }
            if !deleted && !request.allowMissing { throw notFound("training dataset '\(request.dataset)' does not exist") }
            return .with { $0.deleted = deleted }
        }
    }

    func startTraining(request: Dpq_V1_StartTrainingRequest, context: ServerContext) async throws -> Dpq_V1_StartTrainingResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let source: TrainingSource
            switch request.source {
            case .dataset(let d)?:
                guard !d.isEmpty else { throw invalid("dataset must not be empty") }
                source = .dataset(d)
            case .items(let s)?:
                source = .items(filter: s.hasFilter ? Set(s.filter.anyOf.map(Int.init)) : nil, sampleSize: Int(s.sampleSize))
            case nil:
                let store = c.store
                let hasDefault = try await StorageThreads.run { try store.datasets().contains { $0.name == "default" } }
                source = hasDefault ? .dataset("default") : .items(filter: nil, sampleSize: 0)
            }
            var training = try ConfigConversions.training(request.options, over: c.config.training, field: "options")
            // No more threads than the server's setting; effective_options reports what runs.
            if let t = training.threads, t > registry.threads { training.threads = registry.threads }
            let job = try await c.startTraining(source: source, training: training, slots: registry.slots)
            return .with {
                $0.jobID = job.id
                $0.effectiveOptions = ConfigConversions.protoTraining(training)
                $0.trainingRows = job.snapshot().trainingRows
            }
        }
    }

    /// The job a WatchTraining or CancelTraining names. With several servers on one store, this
    /// server first catches up with the others (one query when nothing changed), so that a training
    /// started through another server a moment ago — the CLI's StartTraining then WatchTraining, sent
    /// round robin — is found here rather than NOT_FOUND or an older job.
    func job(_ target: Dpq_V1_WatchTrainingRequest.OneOf_Target?) async throws -> TrainingJob {
        // When the store cannot be read, what this server knows still answers.
        _ = try? await registry.followOnce(checkTrainings: false)
        switch target {
        case .jobID(let id)?:
            guard let j = registry.job(id: id) else { throw notFound("training job '\(id)' does not exist") }
            return j
        case .collection(let name)?:
            let c = try registry.get(name)
            guard let j = c.job.withLock({ $0 }) else { throw notFound("collection '\(name)' has never been trained") }
            return j
        case nil:
            throw invalid("set job_id or collection")
        }
    }

    func watchTraining(request: Dpq_V1_WatchTrainingRequest, response: RPCWriter<Dpq_V1_WatchTrainingResponse>, context: ServerContext) async throws {
        try await RPCErrors.mapping {
            let j = try await job(request.target)
            // As the proto says: 0 means 1000 ms, less than 100 is raised to 100.
            let interval = Duration.milliseconds(request.minIntervalMs == 0 ? 1_000 : max(Int(request.minIntervalMs), 100))
            // A client that goes away does not cancel this task in grpc-swift 2; it trips the
            // RPC's cancellation handle, which ends the loop within one tick.
            let gone = Atomic<Bool>(false)
            try await withRPCCancellationHandler {
                var (seen, _) = j.milestones(after: .max)
                var last = j.snapshot()
                var sentAt = ContinuousClock.now
                try await response.write(.with { $0.progress = last })
                // Ticks of 100 ms whatever the interval: each tick sends the milestones (state,
                // phase and epoch changes) that happened since the last, then the latest snapshot
                // if the interval has passed; a watcher that left (or a server shutting down) is
                // noticed within a tick too.
                while !isTerminal(last.state) && !gone.load(ordering: .relaxed) {
                    try await Task.sleep(for: .milliseconds(100))
                    let (count, new) = j.milestones(after: seen)
                    seen = count
                    for m in new where m != last {
                        last = m
                        sentAt = ContinuousClock.now
                        try await response.write(.with { $0.progress = m })
                    }
                    let now = j.snapshot()
                    if now != last && (isTerminal(now.state) || ContinuousClock.now - sentAt >= interval) {
                        last = now
                        sentAt = ContinuousClock.now
                        try await response.write(.with { $0.progress = now })
                    }
                }
            } onCancelRPC: {
                gone.store(true, ordering: .relaxed)
            }
        }
    }

    func isTerminal(_ s: Dpq_V1_TrainingJobState) -> Bool { s == .succeeded || s == .failed || s == .cancelled }

    func cancelTraining(request: Dpq_V1_CancelTrainingRequest, context: ServerContext) async throws -> Dpq_V1_CancelTrainingResponse {
        try await RPCErrors.mapping {
            let target: Dpq_V1_WatchTrainingRequest.OneOf_Target? = switch request.target {
            case .jobID(let id)?: .jobID(id)
            case .collection(let c)?: .collection(c)
            case nil: nil
            }
            let j = try await job(target)
            guard !j.isFinished else {
                throw precondition_("training job \(j.id) has already ended (\(j.snapshot().state)); there is nothing to cancel")
            }
            if j.remote {
                // Another server runs it: ask through the store; the copy here follows its end.
                guard let c = registry.all().first(where: { $0.job.withLock { $0 } === j }) else { throw notFound("training job '\(j.id)' does not exist") }
                let store = c.store
                try await StorageThreads.run { try store.requestTrainingCancel() }
            } else {
                j.cancel()
            }
            // Wait briefly so the reply usually reports the final state.
            for _ in 0..<250 where !j.isFinished { try await Task.sleep(for: .milliseconds(20)) }
            return .with { $0.progress = j.snapshot() }
        }
    }
}
