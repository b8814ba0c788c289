// CPU-bound requests (search, evaluate, encode) leave the event loops for Dispatch's worker pool,
// so that a long scan never stalls the I/O of other connections. The one exception is a small
// request arriving while no other is running: it runs inline (see inlineOperationLimit).
//
// The answer comes back to the event loop the request was awaited on: resumed from a Dispatch
// thread, the job would go to whichever loop is next in the group and the response bytes would
// then hop again to the connection's own loop, one more thread wake-up per request (~50 µs on the
// 2-core machines here; docs/benchmarks.md).
import Dispatch
import NIOCore
import NIOPosix
import Synchronization

/// One pool per server process (`shared`); the count of running requests is what decides
/// "nothing else is running", so it must be the one every request of the process goes through.
public final class WorkerPool: Sendable {
    public static let shared = WorkerPool()

    /// Work below this many scalar operations (code-byte lookups, network multiply-adds) runs
    /// inline on the event loop that received it when nothing else is running: up to a search of
    /// 1M items at M = 8, about a millisecond here, saving the two thread wake-ups (~80 µs on
    /// these machines) of a trip to the pool. Under concurrent load everything goes to the pool,
    /// where the scans of many requests overlap with the I/O of the others (inline, throughput
    /// with 16 clients fell by 13%).
    public static let inlineOperationLimit = 8_000_001

    private let running = Atomic<Int>(0)

    public init() {}

    /// Runs `body` on the pool, or right here if `operations` (an estimate of its work) is below
    /// `inlineOperationLimit` and no other request is running.
    public func run<T: Sendable>(operations: Int = .max, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let others = running.wrappingAdd(1, ordering: .relaxed).oldValue
        if operations < Self.inlineOperationLimit && others == 0 {
            defer { running.wrappingSubtract(1, ordering: .relaxed) }
            return try body()
        }
        let origin = MultiThreadedEventLoopGroup.currentEventLoop
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                let result = Result { try body() }
                self.running.wrappingSubtract(1, ordering: .relaxed)
                if let origin {
                    origin.execute { continuation.resume(with: result) }
                } else {
                    continuation.resume(with: result)
                }
            }
        }
    }
}
