// Work sharing for the search and evaluation loops: W = min(threads, n) workers pull item
// indices 0..<n from one atomic counter, so uneven items (queries with different filter hit
// rates, a last short chunk) balance themselves. Each worker builds its own scratch state
// once; every item's result is a pure function of the item, so results never depend on W.

import Dispatch
import Synchronization

/// A base pointer that several workers write through, each to disjoint elements.
/// The caller guarantees disjointness; the join at the end of `concurrentPerform`
/// orders those writes before any read.
struct SharedMutablePointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

enum ParallelWork {
    /// Returns [body(&state, 0), ..., body(&state, n-1)], where each worker makes its own
    /// `state` once with `makeState` (scratch buffers reused between its items).
    /// threads < 1 means 1.
    static func map<State, T: Sendable>(count n: Int, threads: Int,
                                        state makeState: @Sendable () -> State,
                                        _ body: @Sendable (inout State, Int) -> T) -> [T] {
        guard n > 0 else { return [] }
        let workers = max(1, min(threads, n))
        let out = UnsafeMutablePointer<T>.allocate(capacity: n)
        defer { out.deallocate() }
        if workers == 1 {
            var state = makeState()
            for i in 0..<n { (out + i).initialize(to: body(&state, i)) }
        } else {
            let shared = SharedMutablePointer(base: out)
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                var state = makeState()
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= n { break }
                    (shared.base + i).initialize(to: body(&state, i))
                }
            }
        }
        let result = Array(UnsafeBufferPointer(start: out, count: n))
        out.deinitialize(count: n)
        return result
    }

    /// Returns [body(0), ..., body(n-1)] computed on up to `threads` workers.
    static func map<T: Sendable>(count n: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        map(count: n, threads: threads, state: {}, { _, i in body(i) })
    }

    /// Calls body(i) for i in 0..<n on up to `threads` workers; body must only touch
    /// state owned by item i.
    static func forEach(count n: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard n > 0 else { return }
        let workers = max(1, min(threads, n))
        if workers == 1 {
            for i in 0..<n { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= n { break }
                body(i)
            }
        }
    }
}
