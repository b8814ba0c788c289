import ChildProcesses
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

    let process: ChildProcess
    let address: String
    let logPath: String
    var pid: Int32 { process.pid }

    /// Starts the server and waits (at most `timeout` seconds) for its "listening on" line.
    /// Throws with the log's tail when it exits first or does not start in time.
    init(dataDir: String, extraArgs: [String] = [], environment: [String: String] = [:], logPath: String? = nil,
         timeout: TimeInterval = 60) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw ChildServerError("build the dpq product first (swift build): \(Self.binary) is missing")
        }
        let log = logPath ?? (dataDir + ".server.log")
        let stdout = log + ".stdout"
        FileManager.default.createFile(atPath: log, contents: nil)
        FileManager.default.createFile(atPath: stdout, contents: nil)
        defer { unlink(stdout) }  // the server keeps it open; only the one line is wanted
        let env = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let p = try ChildProcess([Self.binary, "serve", "--port", "0", "--data-dir", dataDir] + extraArgs,
                                 environment: env, stdoutPath: stdout, stderrPath: log)
        let deadline = Date().addingTimeInterval(timeout)
        var line = ""
        while Date() < deadline {
            line = (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
            if line.contains("\n") || !p.isRunning { break }
            usleep(10_000)
        }
        guard let r = line.range(of: "listening on "), line.contains("\n") else {
            p.terminate()
            p.waitOrKill(timeout: 30)
            let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
            throw ChildServerError("dpq serve did not start within \(Int(timeout)) s (\(p.exit.map { "\($0)" } ?? "killed")): \(tail)")
        }
        process = p
        address = String(line[r.upperBound...].prefix { $0 != "\n" }).trimmingCharacters(in: .whitespaces)
        self.logPath = log
    }

    func kill9() {
        process.kill9()
    }

    /// SIGTERM and wait (graceful stop; killed after 120 s).
    func stop() {
        process.terminate()
        process.waitOrKill(timeout: 120)
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
