// Wakes the loop that follows the other servers (CollectionRegistry+Following) when the store
// reports a commit, or after a timeout.

import Synchronization

/// One waiter woken by `signal` or after a timeout; a signal with nobody waiting wakes the next
/// wait at once (signals do not count: several before a wait wake it once).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after a signal (one that came since the last wait counts) or `timeout`.
    func wait(timeout: Duration) async {
        let generation = state.withLock { s -> Int? in
            if s.pending { s.pending = false; return nil }
            s.generation += 1
            return s.generation
        }
        guard let generation else { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            expire(generation)
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.pending || s.generation != generation { s.pending = false; return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }

    /// The timeout of wait `generation`: wakes it if it still waits.
    private func expire(_ generation: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == generation, let w = s.waiter else {
                if s.generation == generation { s.generation += 1 }  // expired before it parked
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }
}
