// Swift concurrency's global executor on NIO's event loops, each job run as the *generic* executor.
//
// Why not NIO's own NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor():
// it runs every global job "on" the loop's serial executor. To the runtime that is not the generic
// executor, so every nonisolated `await` that resumes (and every actor hop) is a switch of executor and
// goes back through the loop's task queue: perf counted about 160 such enqueues per no-op health RPC.
// Run as the generic executor, as Swift's own Dispatch-based executor runs them, those switches stay
// inline on the thread. Jobs still land on the current loop when enqueued from one (MTELG.any() is
// sticky), so an RPC's bytes and its handler share a thread without hops.
//
// Long CPU-bound work must never run here (it would stall I/O): the server sends searches, encodes,
// writes and trainings to Dispatch queues or threads of their own (but a small search when nothing
// else runs; see WorkerPool).
import Foundation
import NIOCore
import NIOPosix
import Synchronization

// The runtime's entry point for running a job on an executor; the generic executor is the all-zero
// reference (what SerialExecutorRef::generic() is).
@_silgen_name("swift_job_run")
private func _swiftJobRun(_ job: UnownedJob, _ executor: UnownedSerialExecutor)

public enum EventLoopConcurrency {
    private typealias Enqueue = @convention(thin) (UnownedJob) -> Void
    private typealias EnqueueHook = @convention(thin) (UnownedJob, Enqueue) -> Void

    private static let installed = Atomic<Bool>(false)
    private static let active = Atomic<Bool>(false)

    /// Whether this process runs Swift concurrency on the event loops (`install` succeeded).
    public static var isInstalled: Bool { active.load(ordering: .relaxed) }

    /// Installs the hook once per process. Returns false if the runtime lacks it or another
    /// executor was installed first (then Swift's default pool stays in charge).
    @discardableResult
    public static func install() -> Bool {
        guard MemoryLayout<UnownedSerialExecutor>.size == 2 * MemoryLayout<Int>.size,
              installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return false }
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let slot = symbol.assumingMemoryBound(to: UnsafeRawPointer?.self)
        guard slot.pointee == nil else { return false }
        _ = MultiThreadedEventLoopGroup.singleton  // start the loops before the first job arrives
        withUnsafeTemporaryAllocation(of: EnqueueHook.self, capacity: 1) { hook in
            hook.baseAddress!.initialize(to: { job, _ in
                MultiThreadedEventLoopGroup.singleton.any().execute { runAsGeneric(job) }
            })
            // A plain store: this runs first thing in main, before any other thread could set the hook.
            hook.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) { slot.pointee = $0.pointee }
        }
        active.store(true, ordering: .relaxed)
        return true
    }
}

private func runAsGeneric(_ job: UnownedJob) {
    _swiftJobRun(job, unsafeBitCast((0, 0), to: UnownedSerialExecutor.self))
}
