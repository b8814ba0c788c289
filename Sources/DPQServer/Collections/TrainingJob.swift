// A training job's shared state: the latest progress snapshot (what WatchTraining streams and
// GetCollection reports), the recent milestones (a snapshot at each change of state, phase or
// epoch, which WatchTraining sends however fast the epochs go), and the cooperative cancel flag
// the trainer polls after every step.

import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import Synchronization

final class TrainingJob: Sendable {
    let id: String
    let collection: String
    private let progress: Mutex<Dpq_V1_TrainingProgress>
    /// Milestone snapshots numbered from 1, the latest `milestonesKept` of them (a watcher more
    /// than that many behind, e.g. one stalled by flow control, skips the oldest; about 1 MB).
    private let milestoneLog = Mutex<(count: UInt64, recent: [Dpq_V1_TrainingProgress])>((0, []))
    static let milestonesKept = 4_096
    private let cancelFlag = Atomic<Bool>(false)
    /// A copy of a job another server runs (a shared store): its progress comes from the store
    /// (`mirror`), and cancelling it is a request through the store.
    let remote: Bool

    init(collection: String, rows: Int) {
        let jobID = "job-" + UUID().uuidString.lowercased().prefix(13)
        id = jobID
        self.collection = collection
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        progress = Mutex(.with {
            $0.jobID = jobID
            $0.collection = collection
            $0.state = .pending
            $0.phase = .preparing
            $0.trainingRows = UInt64(rows)
            $0.startedAtUnixMs = now
            $0.updatedAtUnixMs = now
        })
        remote = false
    }

    /// A job another server runs, from the progress it saved (CollectionRuntime+Following).
    init(mirroring p: Dpq_V1_TrainingProgress) {
        id = p.jobID
        collection = p.collection
        progress = Mutex(p)
        remote = true
    }

    /// The latest progress another server saved for this job.
    func mirror(_ p: Dpq_V1_TrainingProgress) {
        update(stamp: false) { $0 = p }
    }

    /// A job known only from its last saved snapshot (after a restart). One that was still
    /// running when the server stopped is reported as failed.
    init(restored data: Data) {
        var p = (try? Dpq_V1_TrainingProgress(serializedBytes: data)) ?? Dpq_V1_TrainingProgress()
        if p.state == .running || p.state == .pending {
            p.state = .failed
            p.error = "training was interrupted by a server restart"
            p.finishedAtUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        }
        id = p.jobID
        collection = p.collection
        progress = Mutex(p)
        cancelFlag.store(true, ordering: .relaxed)
        remote = false
    }

    func snapshot() -> Dpq_V1_TrainingProgress { progress.withLock { $0 } }

    func update(stamp: Bool = true, _ body: (inout Dpq_V1_TrainingProgress) -> Void) {
        let milestone: Dpq_V1_TrainingProgress? = progress.withLock {
            let before = $0
            body(&$0)
            if stamp { $0.updatedAtUnixMs = Int64(Date().timeIntervalSince1970 * 1000) }
            let changed = $0.state != before.state || $0.phase != before.phase || $0.epoch != before.epoch
            return changed ? $0 : nil
        }
        if let milestone {
            milestoneLog.withLock {
                $0.count += 1
                $0.recent.append(milestone)
                if $0.recent.count > Self.milestonesKept { $0.recent.removeFirst($0.recent.count - Self.milestonesKept) }
            }
        }
    }

    /// The milestones after the first `seen` (as many as are still kept), and the new count.
    func milestones(after seen: UInt64) -> (count: UInt64, new: [Dpq_V1_TrainingProgress]) {
        milestoneLog.withLock { log in
            let missing = Int(min(log.count - min(seen, log.count), UInt64(log.recent.count)))
            return (log.count, Array(log.recent.suffix(missing)))
        }
    }

    var isFinished: Bool {
        let s = snapshot().state
        return s == .succeeded || s == .failed || s == .cancelled
    }

    func cancel() { cancelFlag.store(true, ordering: .relaxed) }
    var cancelRequested: Bool { cancelFlag.load(ordering: .relaxed) }

    /// Records an engine progress report; returns false once cancellation was requested.
    func record(_ p: TrainingProgress, training: TrainingConfig) -> Bool {
        update {
            $0.state = .running
            $0.phase = switch p.phase {
            case .classification: .classification
            case .joint: .joint
            case .codebooks: .codebooks
            }
            // The engine counts epochs within a phase; the API counts the whole job.
            let before = p.phase == .joint ? training.pretrainEpochs : 0
            $0.epoch = UInt32(before + p.epoch)
            $0.epochs = UInt32(training.pretrainEpochs + training.epochs)
            $0.step = UInt64(p.step)
            $0.totalSteps = UInt64(p.totalSteps)
            $0.losses = ConfigConversions.protoLosses(p.losses)
            $0.samplesPerSecond = Float(p.samplesPerSecond)
            $0.percent = Float(100 * p.fraction)
            $0.etaSeconds = Float(p.etaSeconds)
            $0.elapsedSeconds = Float(p.elapsedSeconds)
            $0.gamma = training.gammaStart + (training.gammaEnd - training.gammaStart) * Float(p.fraction)
            $0.learningRate = training.learningRate
        }
        DPQMetrics.setTrainingProgress(p.fraction, collection: collection)
        DPQMetrics.setTrainingSamplesPerSecond(p.samplesPerSecond, collection: collection)
        return !cancelRequested
    }
}

/// Runs a CPU-bound request (search, evaluate, encode) on Dispatch's worker pool, or inline when
/// `operations` estimates it below WorkerPool.inlineOperationLimit.
func onWorkerPool<T: Sendable>(operations: Int = .max, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await WorkerPool.shared.run(operations: operations, body)
}

/// Runs long CPU-bound work (a training) on its own thread with a large stack, so the
/// cooperative pool keeps serving RPCs.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 16 << 20
        thread.start()
    }
}
