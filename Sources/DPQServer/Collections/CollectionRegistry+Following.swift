// Several servers on one PostgreSQL store (issue 14): each server follows the others. A round of
// following starts when the store reports a commit (CollectionCatalog.watchChanges: PostgreSQL's
// LISTEN/NOTIFY), and at the latest `watchedInterval` (1 s) after the last one — or every
// `interval` (100 ms) while the watch is down. A round reads every collection's change sequence
// number with one query (CollectionCatalog.changeSequences); then
// - a collection this server does not have open was created elsewhere: it is opened;
// - one it has open that is no longer listed was deleted elsewhere: its training here (if any)
//   is cancelled and it is dropped;
// - one whose number moved past what its runtime applied is caught up
//   (CollectionRuntime+Following: the changes, or a new model loaded whole).
// Trainings: the server that trains saves its progress every second; the others keep a copy of
// the job from it (WatchTraining and CancelTraining work on any server), and about once a
// second check that a training they copy still has its server (its lease).
// So a write acknowledged by one server is searchable on another within a notification's round
// trip plus the time to read and apply it (measured in docs/operations.md); the server that took
// the write has it in its index before it answers (read-your-writes). With SQLite
// (changeSequences is nil) the task ends at once. Every `pruneInterval` each server also prunes the
// store's change history older than its retention (CollectionCatalog.pruneChangeHistory); a
// server cut off for longer than that loads the collection whole when it is back.

import DPQServerSupport
import DPQStorage
import Foundation
import Logging

extension CollectionRegistry {
    static let followInterval: Duration = .milliseconds(100)
    static let watchedInterval: Duration = .seconds(1)

    /// Starts following the other servers of the store (a no-op round for SQLite, then the task ends).
    func startFollowing(every interval: Duration = CollectionRegistry.followInterval) {
        let wake = WakeSignal()
        let watch = directory.watchChanges { wake.signal() }
        let task = Task { [self] in
            defer { watch?.stop() }
            var failing = false
            var trainingsChecked = ContinuousClock.now, pruned = ContinuousClock.now
            while !Task.isCancelled {
                if let every = directory.pruneInterval, ContinuousClock.now - pruned >= every {
                    pruned = .now
                    await pruneChangeHistory()
                }
                do {
                    // About once a second: copies of trainings whose server is gone end here too.
                    let checkTrainings = ContinuousClock.now - trainingsChecked >= .seconds(1)
                    if checkTrainings { trainingsChecked = .now }
                    guard try await followOnce(checkTrainings: checkTrainings) else { return }
                    if failing { logger.info("following the other servers again") }
                    failing = false
                } catch {
                    // Logged once per outage, not every round (PostgreSQL down: searches go on).
                    if !failing { logger.warning("cannot follow the other servers' writes", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                await wake.wait(timeout: watch?.isWatching() == true ? Self.watchedInterval : interval)
            }
        }
        follower.withLock { $0 = task }
    }

    /// One pruning of the store's change history (any server may; they do not coordinate, and
    /// a second pruning right after the first finds nothing). Failures are logged and retried
    /// at the next interval.
    func pruneChangeHistory() async {
        do {
            let rows = try await StorageThreads.run { [self] in try directory.pruneChangeHistory() }
            if rows > 0 { logger.debug("pruned the change history", metadata: ["rows": "\(rows)"]) }
        } catch {
            logger.debug("cannot prune the change history", metadata: ["error": "\(error)"])
        }
    }

    func stopFollowing() {
        follower.withLock { $0?.cancel(); $0 = nil }
    }

    /// One round of following; false when the store has no other writers. Throws when the
    /// store cannot be read (the next round tries again).
    @discardableResult
    func followOnce(checkTrainings: Bool = true) async throws -> Bool {
        // Under the registry lock, which creation and deletion here hold too: every runtime open
        // at the time of the query was committed before it, so one missing from the answer was
        // deleted by another server.
        let round = try await StorageThreads.run { [self] () throws -> (seqs: [String: Int64], gone: [CollectionRuntime])? in
            try open.withLock { open in
                guard let seqs = try directory.changeSequences() else { return nil }
                let gone = open.filter { seqs[$0.key] == nil }
                for name in gone.keys { open[name] = nil }
                return (seqs, Array(gone.values))
            }
        }
        guard let round else { return false }
        for runtime in round.gone {
            logger.info("collection deleted by another server", metadata: ["collection": "\(runtime.name)"])
            _ = runtime.cancelTraining()
            runtime.close()
            DPQMetrics.forgetCollection(runtime.name)
        }
        for (name, seq) in round.seqs.sorted(by: { $0.key < $1.key }) {
            if let runtime = open.withLock({ $0[name] }) {
                if seq > runtime.followedSeq { try await runtime.catchUp() }
                if checkTrainings { try await StorageThreads.run { try runtime.checkRemoteTraining() } }
            } else {
                try await openCreatedElsewhere(name)
            }
        }
        return true
    }

    /// Opens a collection another server created (loading its items off the lock), unless this
    /// server opened or deleted it meanwhile.
    private func openCreatedElsewhere(_ name: String) async throws {
        let runtime: CollectionRuntime
        do {
            runtime = try await StorageThreads.run { [self] in
                try CollectionRuntime(store: try directory.openCollection(name), limits: limits, threads: threads)
            }
        } catch StorageError.notFound {
            return  // deleted again before it could be opened
        }
        let added = open.withLock { open in
            guard open[name] == nil, open.count < limits.maxCollections else { return false }
            open[name] = runtime
            return true
        }
        if added {
            logger.info("opened collection created by another server",
                        metadata: ["collection": "\(name)", "items": "\(runtime.current.count)"])
        }
    }
}

