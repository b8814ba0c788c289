// Where WorkerPool runs work: inline when it is small and nothing else runs, on the pool when it
// is large or another request is in flight; results and errors come back either way.
import DPQServerSupport
import Foundation
import Synchronization
import Testing

private struct Boom: Error, Equatable {}

/// The calling thread, as a number that can cross to another thread.
private func threadID() -> pthread_t { pthread_self() }

/// Each test has its own pool: the servers other suites run in this process use `shared`, and
/// their requests would count as "other work running".
@Suite struct WorkerPoolTests {
    let pool = WorkerPool()

    @Test func smallWorkRunsInlineWhenIdle() async throws {
        let here = threadID()
        let there = try await pool.run(operations: 10) { threadID() }
        #expect(there == here)
    }

    @Test func largeWorkGoesToThePool() async throws {
        let here = threadID()
        let there = try await pool.run(operations: WorkerPool.inlineOperationLimit) { threadID() }
        #expect(there != here)
        let unknown = try await pool.run { threadID() }  // no estimate: the pool
        #expect(unknown != here)
    }

    @Test func smallWorkGoesToThePoolWhileOtherWorkRuns() async throws {
        let started = Mutex(false), release = DispatchSemaphore(value: 0)
        let long = Task {
            try await pool.run { started.withLock { $0 = true }; release.wait(); return 1 }
        }
        // Awaited, not waited on: the task that starts the long request needs a thread of the
        // cooperative pool, and a semaphore wait here would hold one of the two it has.
        while !started.withLock({ $0 }) { try await Task.sleep(nanoseconds: 1_000_000) }
        let here = threadID()
        let there = try await pool.run(operations: 10) { threadID() }
        #expect(there != here, "a second request must not run inline beside a running one")
        release.signal()
        #expect(try await long.value == 1)
        // Idle again: inline again.
        let inline = try await pool.run(operations: 10) { threadID() }
        #expect(inline == threadID())
    }

    @Test func errorsComeBackFromBothPaths() async throws {
        await #expect(throws: Boom.self) { try await pool.run(operations: 1) { () throws -> Int in throw Boom() } }
        await #expect(throws: Boom.self) { try await pool.run { () throws -> Int in throw Boom() } }
        // A failed request gives its slot back: the next small one runs inline.
        let here = threadID()
        #expect(try await pool.run(operations: 1) { threadID() } == here)
    }
}
