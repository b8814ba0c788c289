// ReadWriteLocked: readers share, a writer is alone, and a writer that waits goes before readers
// that arrive after it (so a stream of searches cannot starve a write).
import DPQServerSupport
import Foundation
import Synchronization
import Testing

@Suite struct ReadWriteLockedTests {
    /// Runs `body` on a thread of its own.
    private func thread(_ body: @escaping @Sendable () -> Void) {
        Thread { body() }.start()
    }

    private func waitUntil(_ what: String, _ condition: () -> Bool) {
        let start = Date()
        while !condition() {
            if Date().timeIntervalSince(start) > 10 { Issue.record("timed out waiting until \(what)"); return }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }

    @Test func readersShareAndAWriterIsAlone() {
        let lock = ReadWriteLocked([Int]())
        let inside = Mutex(0), most = Mutex(0), release = Mutex(false)
        let done = DispatchGroup()
        for _ in 0..<4 {
            done.enter()
            thread {
                lock.read { _ in
                    let n = inside.withLock { $0 += 1; return $0 }
                    most.withLock { $0 = max($0, n) }
                    while !release.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.001) }
                    inside.withLock { $0 -= 1 }
                }
                done.leave()
            }
        }
        waitUntil("four readers are inside together") { most.withLock { $0 } == 4 }
        // A writer waits for them.
        let wrote = Mutex(false)
        done.enter()
        thread {
            lock.write { v in
                #expect(inside.withLock { $0 } == 0, "a writer ran while readers were inside")
                v.append(1)
            }
            wrote.withLock { $0 = true }
            done.leave()
        }
        Thread.sleep(forTimeInterval: 0.05)
        #expect(!wrote.withLock { $0 }, "the writer did not wait for the readers")
        release.withLock { $0 = true }
        done.wait()
        #expect(lock.read { $0 } == [1])
    }

    @Test func aWaitingWriterGoesBeforeLaterReaders() {
        let lock = ReadWriteLocked([String]())
        let release = Mutex(false), firstInside = Mutex(false)
        let done = DispatchGroup()
        done.enter()
        thread {
            lock.read { _ in
                firstInside.withLock { $0 = true }
                while !release.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.001) }
            }
            done.leave()
        }
        waitUntil("the first reader is inside") { firstInside.withLock { $0 } }
        done.enter()
        thread {
            lock.write { $0.append("writer") }
            done.leave()
        }
        Thread.sleep(forTimeInterval: 0.2)  // the writer is waiting now
        done.enter()
        thread {
            // Arrives while the writer waits: it must see the writer's change.
            let seen = lock.read { $0 }
            #expect(seen == ["writer"], "a later reader went before the waiting writer: saw \(seen)")
            done.leave()
        }
        Thread.sleep(forTimeInterval: 0.05)
        release.withLock { $0 = true }
        done.wait()
    }
}
