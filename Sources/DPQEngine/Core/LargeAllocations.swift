// Keeps large blocks in the C heap once they have been freed. A training step allocates and frees
// activations and im2col matrices of 10-60 MB per layer (a 28 x 28 x 32 map at batch 256 is 25 MB).
// glibc serves blocks above its mmap threshold (dynamic, at most 32 MB) with fresh mmaps and
// returns freed heap tops above its trim threshold to the kernel, so every step page-faults and
// zero-fills the same memory again: measured on the Fashion-MNIST CNN at 1 thread, an epoch took
// 4.8 s and 3.5 s with these two limits raised (perf: ~10% of the time in the kernel's page-fault
// path before). The cost is memory the process keeps after a training: up to `trim` of freed
// heap stays resident until reused.

import CBLAS
import Synchronization

public enum LargeAllocations {
    /// Blocks up to this size come from the heap (reused) rather than from mmap.
    public static let mmapThreshold: Int32 = 256 << 20
    /// Freed heap tops are returned to the kernel only above this.
    public static let trim: Int32 = 512 << 20
    private static let done = Atomic<Bool>(false)

    /// Raises glibc's mmap and trim thresholds once per process (elsewhere: nothing to do).
    public static func keepInHeap() {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
        _ = mallopt(M_TRIM_THRESHOLD, trim)
        #endif
    }
}
