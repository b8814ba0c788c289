// Child processes for the tests (the `dpq` executable, python3, PostgreSQL's tools), with every
// wait bounded.
//
// Why not Foundation's Process: its waitUntilExit was seen to miss a child's exit and wait
// forever, and a test waiting forever on one of the cooperative pool's threads (one per core:
// two here) takes half of every other test's threads with it; two such waits stopped the whole
// run in CI. Here a child is started with posix_spawn and reaped with waitpid(pid, WNOHANG)
// polling, it inherits no descriptor but its stdin, stdout and stderr, output goes to files (a
// grandchild that keeps a pipe open cannot hold the reader), and a child that outlives its
// deadline is killed (SIGKILL) and reported, never waited on forever.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How a child ended: its exit code, or the signal that killed it.
public struct ChildExit: Sendable, Equatable, CustomStringConvertible {
    public var code: Int32?
    public var signal: Int32?
    /// The exit code, or the signal number when it was killed (what Foundation's
    /// terminationStatus gives).
    public var status: Int32 { code ?? signal ?? -1 }
    public var wasSignalled: Bool { signal != nil }
    public var description: String { code.map { "exit \($0)" } ?? "signal \(signal ?? -1)" }

    init(waitStatus s: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG spelled out: the macros are not imported.
        if s & 0x7f == 0 { code = (s >> 8) & 0xff } else { signal = s & 0x7f }
    }
}

public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    private let lock = NSLock()
    private var ended: ChildExit?

    /// Starts `argv` (argv[0] a path, or a name looked up on PATH through /usr/bin/env). stdin
    /// from `stdinPath` (default /dev/null); stdout and stderr appended to the given files
    /// (default /dev/null; the same path for both shares one file).
    public init(_ argv: [String], environment: [String: String]? = nil, directory: String? = nil,
                stdinPath: String = "/dev/null", stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null") throws {
        precondition(!argv.isEmpty)
        executable = argv[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if stderrPath == stdoutPath {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        // Nothing else of this process: its sockets (in-process servers, their clients) would
        // otherwise live on in the child, and a connection closed here would never end for its peer.
        guard closeFrom(&actions, 3) == 0 else { throw ChildProcessError("posix_spawn_file_actions_addclosefrom_np failed") }
        let full = ["/usr/bin/env"] + (directory.map { ["-C", $0] } ?? []) + argv
        let cArgs = full.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in env { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, nil, cArgs, env)
        guard rc == 0 else { throw ChildProcessError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// The exit, once the child has ended (reaping it if it just did).
    public var exit: ChildExit? {
        lock.withLock {
            if ended == nil {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { ended = ChildExit(waitStatus: status) }
            }
            return ended
        }
    }

    public var isRunning: Bool { exit == nil }
    /// The exit code, or the signal number when killed; -1 while running.
    public var terminationStatus: Int32 { exit?.status ?? -1 }
    public var processIdentifier: Int32 { pid }

    public func signal(_ sig: Int32) { if isRunning { _ = kill(pid, sig) } }
    public func interrupt() { signal(SIGINT) }
    public func terminate() { signal(SIGTERM) }

    /// Waits for the end, polling every 5 ms, at most `timeout` seconds; a child still running
    /// then is killed (SIGKILL) and the wait throws, naming it.
    @discardableResult
    public func wait(timeout: TimeInterval = 300) throws -> ChildExit {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let e = exit { return e }
            usleep(5_000)
        }
        return try killAfterTimeout(timeout)
    }

    /// The same wait without holding a thread: for async tests.
    @discardableResult
    public func exited(timeout: TimeInterval = 300) async throws -> ChildExit {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let e = exit { return e }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return try killAfterTimeout(timeout)
    }

    /// SIGKILL and reap.
    @discardableResult
    public func kill9() -> ChildExit {
        signal(SIGKILL)
        return (try? wait(timeout: 60)) ?? ChildExit(waitStatus: SIGKILL)
    }

    /// For `defer` and clean-up paths that cannot throw: waits like `wait`, and reports a child
    /// that had to be killed on stderr (the test's own checks then see signal 9).
    public func waitOrKill(timeout: TimeInterval = 300) {
        do { try wait(timeout: timeout) } catch { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
    }

    private func killAfterTimeout(_ timeout: TimeInterval) throws -> ChildExit {
        _ = kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        lock.withLock { if ended == nil { ended = ChildExit(waitStatus: status) } }
        throw ChildProcessError("\(executable) (pid \(pid)) was still running after \(Int(timeout)) s and was killed")
    }
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which its Swift module
/// does not import.
private let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
        fatalError("glibc 2.34 or later is needed (posix_spawn_file_actions_addclosefrom_np)")
    }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// What a program printed and how it ended.
public struct ChildRun: Sendable {
    public var exit: ChildExit
    public var out: Data
    public var err: Data
    public var status: Int32 { exit.status }
    public var stdout: String { String(decoding: out, as: UTF8.self) }
    public var stderr: String { String(decoding: err, as: UTF8.self) }
}

extension ChildProcess {
    /// Runs `argv` to its end (at most `timeout` seconds) with `stdin` as its input, and returns
    /// its output. Throws only when it cannot start or outlives the timeout.
    public static func run(_ argv: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                           directory: String? = nil, timeout: TimeInterval = 600) throws -> ChildRun {
        try withFiles(argv, stdin: stdin, environment: environment, directory: directory) { try $0.wait(timeout: timeout) }
    }

    /// `run` without holding a thread while the child runs: for async tests.
    public static func runAwaiting(_ argv: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                                   directory: String? = nil, timeout: TimeInterval = 600) async throws -> ChildRun {
        let files = RunFiles(stdin: stdin)
        defer { files.remove() }
        let child = try files.start(argv, environment: environment, directory: directory)
        return files.result(try await child.exited(timeout: timeout))
    }

    private static func withFiles(_ argv: [String], stdin: Data?, environment: [String: String]?, directory: String?,
                                  _ wait: (ChildProcess) throws -> ChildExit) throws -> ChildRun {
        let files = RunFiles(stdin: stdin)
        defer { files.remove() }
        return files.result(try wait(try files.start(argv, environment: environment, directory: directory)))
    }
}

/// The temporary stdin, stdout and stderr files of one run.
private struct RunFiles {
    let input: String, output: String, errors: String

    init(stdin: Data?) {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("dpq-child-\(UUID().uuidString)")
        (input, output, errors) = (base + ".in", base + ".out", base + ".err")
        _ = FileManager.default.createFile(atPath: input, contents: stdin ?? Data())
    }

    func start(_ argv: [String], environment: [String: String]?, directory: String?) throws -> ChildProcess {
        try ChildProcess(argv, environment: environment, directory: directory, stdinPath: input, stdoutPath: output, stderrPath: errors)
    }

    func result(_ exit: ChildExit) -> ChildRun {
        ChildRun(exit: exit, out: FileManager.default.contents(atPath: output) ?? Data(),
                 err: FileManager.default.contents(atPath: errors) ?? Data())
    }

    func remove() { for p in [input, output, errors] { unlink(p) } }
}

/// Runs blocking work (sockets, sleeps, child waits) on a thread of its own, so that it holds
/// none of the cooperative pool's threads.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }.start()
    }
}
