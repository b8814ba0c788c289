import Foundation
import Testing

/// `dpq serve` in a child process (the built executable), for tests that kill, restart or
/// measure the server. Its stderr goes to a log file kept next to the data directory.
final class ChildServer: @unchecked Sendable {
    static let binDir: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()
    static var binary: String { binDir + "/dpq" }

    let process: Process
    let address: String
    let logPath: String
    var pid: Int32 { process.processIdentifier }

    /// Starts the server and waits for its "listening on" line. Throws with the log's tail when
    /// it exits first.
    init(dataDir: String, extraArgs: [String] = [], environment: [String: String] = [:], logPath: String? = nil,
         timeout: TimeInterval = 60) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw ChildServerError("build the dpq product first (swift build): \(Self.binary) is missing")
        }
        let log = logPath ?? (dataDir + ".server.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--port", "0", "--data-dir", dataDir] + extraArgs
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        var line = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !line.contains("\n") && Date() < deadline {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        guard let r = line.range(of: "listening on ") else {
            p.terminate()
            p.waitPolling()
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            throw ChildServerError("dpq serve did not start (exit \(p.terminationStatus)): \(tail)")
        }
        process = p
        address = String(line[r.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        self.logPath = log
    }

    func kill9() {
        kill(pid, SIGKILL)
        process.waitPolling()
    }

    /// SIGTERM and wait (graceful stop).
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitPolling()
    }

    /// VmHWM (peak) and VmRSS (current) of the server, in bytes, from /proc/<pid>/status.
    func memory() -> (peak: Int, current: Int) {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = s.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmHWM"), field("VmRSS"))
    }
}

struct ChildServerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A fresh temporary directory path (not created).
func temporaryPath(_ prefix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
}

extension Process {
    /// Waits for the process to end, checking every 5 ms. Foundation's `waitUntilExit` spins a run
    /// loop without sources on Linux, a whole core for as long as it waits: a server that takes seconds
    /// to stop (a drain) then starves every other test running in parallel on the two cores.
    func waitPolling() {
        while isRunning { usleep(5_000) }
    }
}
