// CollectionCatalog.watchChanges for PostgreSQL: LISTEN on the channel that migration 3's trigger
// notifies at every committed change of a collection (PostgresSchema.changeChannel), on a connection
// of its own, so that following servers wake up within a round trip of a commit instead of polling.
//
// A thread of its own holds the connection: it connects, listens, calls `wake` once (for anything
// committed while it was not listening), then waits for the connection to close. When PostgreSQL goes
// away it tries again every second until `stop`. Notifications are hints: the caller still reads the
// change sequences, and keeps polling (more slowly) as a fallback, so a notification lost with a
// connection costs delay, never a change.

import DPQStorage
import Foundation
import PostgresNIO
import Synchronization

final class PostgresChangeWatch: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var listening = false
        var stopped = false
    }

    private let db: PostgresConnections
    private let wake: @Sendable () -> Void
    private let state = Mutex(State())
    /// Signalled when the thread has returned (and then kept signalled for every later wait).
    private let finished = DispatchSemaphore(value: 0)
    /// Pause between attempts to connect while PostgreSQL cannot be reached.
    static let retryInterval: TimeInterval = 1

    init(db: PostgresConnections, wake: @escaping @Sendable () -> Void) {
        self.db = db
        self.wake = wake
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "dpq.postgres.listen"
        thread.start()
    }

    var isWatching: Bool { state.withLock { $0.listening } }

    /// Ends the watch. With `waiting`, returns once its thread has (within a connect timeout plus a
    /// second), so that the connections' event loop may be shut down after it: the store's close
    /// does that; callers on an event loop must not wait.
    func stop(waiting: Bool) {
        let connection = state.withLock { s -> PostgresConnection? in
            s.stopped = true
            s.listening = false
            return s.connection
        }
        if let connection { db.drop(connection) }
        if waiting, finished.wait(timeout: .now() + .seconds(15)) == .success { finished.signal() }
    }

    private func run() {
        defer { finished.signal() }
        while !state.withLock({ $0.stopped }) && !db.isClosed {
            do {
                let session = try db.dedicated("listen for changes")
                let connection = session.connection
                let stopped = state.withLock { s in
                    if !s.stopped { s.connection = connection }
                    return s.stopped
                }
                if stopped { db.drop(connection); return }
                connection.addListener(channel: PostgresSchema.changeChannel) { [wake] _, _ in wake() }
                // The LISTEN goes out before this query on the same connection, so once it answers
                // every later commit is notified here.
                try session.execute("SELECT 1")
                state.withLock { $0.listening = true }
                wake()
                try? connection.closeFuture.wait()
            } catch {
                // Unreachable or closed: try again below.
            }
            let connection = state.withLock { s -> PostgresConnection? in
                s.listening = false
                defer { s.connection = nil }
                return s.connection
            }
            if let connection { db.drop(connection) }
            if state.withLock({ $0.stopped }) { return }
            Thread.sleep(forTimeInterval: Self.retryInterval)
        }
    }
}

extension PostgresStore {
    public func watchChanges(_ wake: @escaping @Sendable () -> Void) -> ChangeWatch? {
        let watch = PostgresChangeWatch(db: db, wake: wake)
        watches.withLock { $0.append(watch) }
        watch.start()
        return ChangeWatch(isWatching: { watch.isWatching }, stop: { watch.stop(waiting: false) })
    }
}
