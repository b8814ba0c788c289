// Resident memory of a process from /proc/<pid>/status (Linux; 0 elsewhere or when the process
// is gone), for the benchmark and load tools. VmRSS is the current resident set, VmHWM its peak.
import Foundation

public enum ProcessMemory {
    /// VmRSS in bytes; `pid` nil means this process.
    public static func residentBytes(pid: Int32? = nil) -> Int { field("VmRSS", pid: pid) }
    /// VmHWM in bytes; `pid` nil means this process.
    public static func peakBytes(pid: Int32? = nil) -> Int { field("VmHWM", pid: pid) }

    private static func field(_ name: String, pid: Int32?) -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return 0
    }
}
