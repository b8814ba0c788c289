// The connections of one PostgresStore, and the bridge from the storage interface's blocking
// calls to postgres-nio's futures.
//
// Why an event loop group of its own: a store call blocks its caller until PostgreSQL answers
// (CollectionStorage.swift says why the interface is synchronous). The answer arrives on the
// connection's event loop; if that loop were one the caller might be blocking — the
// process-wide NIO singleton that `dpq serve` also runs Swift concurrency and gRPC on — the
// wait could deadlock. On a private group the loops only ever run postgres-nio, no caller of
// ours runs there, and the wait always ends. (Swift concurrency is deliberately not used in
// the bridge: a Task started from a blocked event-loop thread would be queued on that very
// thread by `dpq serve`'s executor.) The server makes its store calls off event loops; a debug
// build asserts it.
//
// Connections are made on demand, each used by one call at a time, and kept for reuse (a
// few); a connection that failed is dropped, so the next call reconnects — a restarted
// PostgreSQL costs the calls made while it was down (unavailable), nothing more.
//
// Closing the store does not stop the event loop under a call still running: a connection's
// close (or connect) whose loop is gone never completes, and its promise leaks (a debug build
// traps on that). The group is shut down once the store is closed and every connection made
// has been closed and every connect has ended.

import DPQStorage
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

final class PostgresConnections: Sendable {
    let configuration: PostgresConnection.Configuration
    /// The URL without its password, for messages and logs.
    let location: String
    let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state = Mutex(State())
    private let nextID = Atomic<Int>(1)

    private struct State {
        var closed = false
        /// Connections kept for reuse.
        var idle: [PostgresConnection] = []
        /// The ids of the connections made and not dropped: each is dropped once.
        var open: Set<PostgresConnection.ID> = []
        /// Connects under way and closes not yet completed.
        var pending = 0
        var groupShutDown = false

        /// Whether the group is to be shut down now (true once).
        mutating func shutDownIfDone() -> Bool {
            guard closed && open.isEmpty && pending == 0 && !groupShutDown else { return false }
            groupShutDown = true
            return true
        }
    }
    /// Connections kept for reuse; more are made while more calls run at once.
    static let maxIdle = 8

    /// How long a new connection may take, TCP, TLS and startup (authentication) together.
    let connectTimeout: TimeAmount

    init(configuration: PostgresConnection.Configuration, location: String, connectTimeout: TimeAmount, logger: Logger) {
        self.configuration = configuration
        self.connectTimeout = connectTimeout
        self.location = location
        self.logger = logger
    }

    /// Runs `body` on a connection of its own. Errors come out as StorageError, prefixed with
    /// "cannot <what>".
    func withConnection<T>(_ what: @autoclosure () -> String, _ body: (Session) throws -> T) throws(StorageError) -> T {
        assert(MultiThreadedEventLoopGroup.currentEventLoop == nil,
               "a PostgreSQL store call on an event loop thread (blocks it); call the store from StorageThreads.run")
        let connection: PostgresConnection
        do { connection = try acquire() } catch { throw connectError(error, what()) }
        do {
            let result = try body(Session(connection: connection, logger: logger))
            release(connection)
            return result
        } catch {
            // A statement's error leaves the connection usable; anything else may have broken it.
            if PostgresErrors.connectionSurvives(error) && !connection.isClosed { release(connection) } else { drop(connection) }
            throw PostgresErrors.map(error, "cannot \(what())")
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// `begin` may set the isolation level and access mode.
    func transaction<T>(_ what: @autoclosure () -> String, begin: PostgresQuery = "BEGIN",
                        _ body: (Session) throws -> T) throws(StorageError) -> T {
        try withConnection(what()) { session in
            try session.execute(begin)
            let result: T
            do {
                result = try body(session)
            } catch {
                // Leaves the connection out of the aborted transaction; if even that fails the
                // connection is closed, so that it is not reused.
                do { try session.execute("ROLLBACK") } catch { drop(session.connection) }
                throw error
            }
            try session.execute("COMMIT")
            return result
        }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Whether the event loop has been told to stop (for tests).
    var isShutDown: Bool { state.withLock { $0.groupShutDown } }

    /// A connection outside the pool, for the caller to keep (a training lease, a listener)
    /// and end with `drop`.
    func dedicated(_ what: @autoclosure () -> String) throws(StorageError) -> Session {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        do {
            return Session(connection: try connect(id: id), logger: logger)
        } catch {
            throw connectError(error, what())
        }
    }

    /// Thrown by `connect` once the store is closed.
    private struct StoreClosed: Error {}

    private func connectError(_ error: any Error, _ what: String) -> StorageError {
        if error is StoreClosed { return .unavailable("cannot \(what): the PostgreSQL store is closed") }
        return PostgresErrors.map(error, "cannot \(what): cannot connect to PostgreSQL at \(location)")
    }

    private func acquire() throws -> PostgresConnection {
        while let c = state.withLock({ $0.idle.popLast() }) {
            if !c.isClosed { return c }
            drop(c)
        }
        return try connect(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
    }

    /// A new connection, or an error after `connectTimeout`. postgres-nio's own connect timeout
    /// covers the TCP connect only; a server that accepts and then never answers the startup
    /// (seen with one stopping or starting at that moment) would otherwise hold the caller until
    /// PostgreSQL's authentication_timeout (60 s) — a store call, and with it a write queue.
    private func connect(id: Int) throws -> PostgresConnection {
        try state.withLock { s in
            guard !s.closed else { throw StoreClosed() }
            s.pending += 1
        }
        let loop = group.next()
        let result = loop.makePromise(of: PostgresConnection.self)
        let connecting = PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger)
        let timeout = loop.scheduleTask(in: self.connectTimeout) {
            result.fail(StorageError.unavailable("PostgreSQL at \(self.location) accepted the connection but did not complete its startup (TLS, authentication) within \(self.connectTimeout.nanoseconds / 1_000_000_000) s"))
        }
        connecting.whenComplete { outcome in
            timeout.cancel()
            self.update { s in
                s.pending -= 1
                if case .success(let c) = outcome { s.open.insert(c.id) }
            }
            switch outcome {
            case .success(let c): result.succeed(c)
            case .failure(let e): result.fail(e)
            }
        }
        do {
            return try result.futureResult.wait()
        } catch {
            // Late: close the connection when it comes (failing a completed promise is a no-op).
            connecting.whenSuccess { self.drop($0) }
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        let keep = state.withLock { s in
            guard !s.closed, s.idle.count < Self.maxIdle, s.open.contains(connection.id) else { return false }
            s.idle.append(connection)
            return true
        }
        if !keep { drop(connection) }
    }

    /// Closes a connection without waiting (the future-returning close, not the async one);
    /// a connection already dropped is left alone. The callback holds the connection until the
    /// close completes: postgres-nio asserts that a connection is closed before it is
    /// deinitialised.
    func drop(_ connection: PostgresConnection) {
        let first = state.withLock { s in
            guard s.open.remove(connection.id) != nil else { return false }
            s.pending += 1
            return true
        }
        guard first else { return }
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in
            withExtendedLifetime(connection) {}
            self.update { $0.pending -= 1 }
        }
    }

    /// Applies `change` to the state, then shuts the group down if that was the last thing it
    /// waited for (State.shutDownIfDone).
    private func update(_ change: (inout State) -> Void) {
        let shutDown = state.withLock { s in
            change(&s)
            return s.shutDownIfDone()
        }
        if shutDown { group.shutdownGracefully { _ in } }
    }

    /// Closes the idle connections; later calls fail with unavailable. Does not wait, so it
    /// may be called from any thread, an event loop included. The event loop stops once the
    /// connections still in use have been dropped too.
    func close() {
        var connections: [PostgresConnection] = []
        update { s in
            guard !s.closed else { return }
            s.closed = true
            swap(&connections, &s.idle)
        }
        for c in connections { drop(c) }
    }
}

/// One connection, used by one call: statements run one after another, each waited for.
struct Session {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement and returns its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try connection.query(query, logger: logger).wait()
    }

    /// Runs a statement and returns how many rows it affected (INSERT, UPDATE, DELETE).
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        try connection.query(query, logger: logger).wait().metadata.rows ?? 0
    }

    /// Runs a statement, handing each row to `onRow` as it arrives (on the connection's event
    /// loop, one row at a time), so a large result is never held as rows.
    func forEachRow(_ query: PostgresQuery, _ onRow: @escaping @Sendable (PostgresRow) throws -> Void) throws {
        _ = try connection.query(query, logger: logger, onRow).wait()
    }

    /// The single value of a one-row, one-column result; nil when there is no row.
    func scalar<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type) throws -> T? {
        guard let row = try self.query(query).first else { return nil }
        return try row.decode(T.self)
    }
}
