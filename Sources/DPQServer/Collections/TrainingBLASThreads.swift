// OpenBLAS's thread count is one setting per process. The server keeps it at 1 (DPQServer.build:
// its encodes and searches split their own work into pieces on the worker threads), and raises
// it while trainings run, whose large products gain from OpenBLAS's threads: to the largest
// count asked by the trainings running, back to 1 when the last one ends. Trainings set it here
// rather than in Trainer.train, whose save-and-restore would race between two trainings.

import DPQEngine
import Synchronization

enum TrainingBLASThreads {
    /// The thread counts of the trainings running now.
    private static let running = Mutex<[Int]>([])

    static func during<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        running.withLock {
            $0.append(max(1, threads))
            BLAS.setThreads($0.max()!)
        }
        defer {
            running.withLock {
                if let i = $0.firstIndex(of: max(1, threads)) { $0.remove(at: i) }
                BLAS.setThreads($0.max() ?? 1)
            }
        }
        return try body()
    }
}
