// A value behind a readers-writer lock: many readers at once, or one writer.
//
// Why not a Mutex around a copy-on-write value (read = copy out, write = mutate and publish)? Because a
// reader's copy shares the arrays, and a writer that mutates while any copy is alive copies every array
// first: with a large in-memory index, each small write would copy the whole index while a search runs.
// Here readers work on the value in place under the read lock, so the writer finds its arrays unshared
// and changes them in place.
//
// Writers are preferred (glibc's PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): a steady stream of
// readers cannot starve a write, and a reader that arrives while a writer waits waits too. The price of
// that policy: a thread must not take the read lock again while it holds it (a writer waiting between the
// two would deadlock it), so bodies must not call back into the same lock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ReadWriteLocked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched with `lock` held (shared for reads, exclusive for writes).
    private var value: Value
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    public init(_ value: Value) {
        self.value = value
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        let rc = pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with shared access; other readers may run at the same time, writers wait.
    public func read<T>(_ body: (Value) throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(value)
    }

    /// Runs `body` with exclusive access.
    public func write<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&value)
    }
}
