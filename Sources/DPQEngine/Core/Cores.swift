// The cores this process may use, read once. Foundation's activeProcessorCount re-reads the cgroup
// CPU files on every call (strace: two file opens and reads per search when it was a default
// argument of the search functions).
import Foundation

public enum Cores {
    public static let available = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
