// A throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `postgres` on a
// free loopback port with its Unix socket in that folder, trust authentication for the
// `postgres` role. One server per test process, started on first use (`shared`) and stopped
// when the process exits; each test makes a database of its own (`makeDatabase`), so tests
// run in parallel without seeing each other.
//
// PostgreSQL refuses to run as root, and tests here run as root: then the binaries run as the
// unprivileged `postgres` user (created by Debian's postgresql-15 package) through runuser,
// and the folder is handed to that user. A watchdog shell outlives nothing: it stops the
// server (immediate shutdown) and removes the folder as soon as the test process is gone,
// even after a crash or kill -9 of the tests. The binaries are those of postgresql-15
// (scripts/install-deps.sh installs it); without them `shared` fails, and so do the tests —
// they are not skipped.

import ChildProcesses
import Foundation

public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: String
    let hasTLS: Bool
    public static let user = "postgres"
    let bin: String

    /// The process-wide server, started on first use.
    public static func shared() throws -> PostgresServer {
        try lock.withLock {
            if let s = started { return s }
            let s = try PostgresServer()
            started = s
            atexit { PostgresServer.started?.stop() }
            return s
        }
    }

    nonisolated(unsafe) private static var started: PostgresServer?
    private static let lock = NSLock()

    /// A server of the caller's own, for a test that stops and starts it (`pause`, `resume`);
    /// the caller stops it (its watchdog does when the process ends first).
    /// With `tlsFrom`, a folder of TestCertificates, it also accepts TLS (ssl=on with server.pem
    /// and server.key).
    public static func dedicated(tlsFrom certificates: String? = nil) throws -> PostgresServer {
        try PostgresServer(tlsFrom: certificates)
    }

    /// Stops the server (fast shutdown: sessions are ended, as in a restart or failover); the
    /// folder and port stay for `resume`.
    public func pause() throws {
        try Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "60", "stop"], asPostgres: true)
    }

    /// Starts the server again after `pause`, on the same port.
    public func resume() throws {
        try Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "60", "-o", options, "start"],
                     asPostgres: true)
    }

    private var options: String {
        // The tests kill dpq, never PostgreSQL, so its fsyncs would only cost time (2 shared cores).
        "-p \(port) -k \(directory) -h 127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200"
            + (hasTLS ? " -c ssl=on -c ssl_cert_file=\(directory)/server.pem -c ssl_key_file=\(directory)/server.key" : "")
    }

    /// A URL for `dpq serve --store` and PostgresStore.
    public func url(database: String) -> String { "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)" }

    /// Creates a new empty database and returns its name.
    public func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Self.run(bin + "/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", Self.user, "-d", "postgres",
                                     "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"], asPostgres: false)
        return name
    }

    /// Runs one SQL statement in `database` with psql and returns its unaligned output.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run(bin + "/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", Self.user, "-d", database,
                                     "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], asPostgres: false)
    }

    private init(tlsFrom certificates: String? = nil) throws {
        bin = try Self.findBinaries()
        // As root the folder is handed to `postgres`, who must be able to reach it: /tmp always
        // lets it, a $TMPDIR under a private home may not.
        let base = getuid() == 0 ? "/tmp" : NSTemporaryDirectory()
        let dir = (base as NSString).appendingPathComponent("dpq-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        directory = dir
        hasTLS = certificates != nil
        if let certificates {
            // PostgreSQL wants its key readable by its own user only.
            for f in ["server.pem", "server.key"] {
                try FileManager.default.copyItem(atPath: certificates + "/" + f, toPath: dir + "/" + f)
            }
            chmod(dir + "/server.key", 0o600)
            if getuid() == 0 { try Self.run("/bin/chown", [Self.user, dir + "/server.pem", dir + "/server.key"], asPostgres: false) }
        }
        if getuid() == 0 { try Self.run("/bin/chown", [Self.user, dir], asPostgres: false) }
        try Self.run(bin + "/initdb", ["-D", dir + "/data", "-U", Self.user, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"],
                     asPostgres: true)
        port = try Self.freePort()
        try resume()
        try startWatchdog()
    }

    /// Stops the server and removes its folder.
    public func stop() {
        _ = try? Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"], asPostgres: true)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A detached shell that waits for this process to end, then stops the server: the last
    /// word when atexit handlers do not run (a crash, a kill -9, a timeout).
    private func startWatchdog() throws {
        let stop = Self.command(bin + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"], asPostgres: true)
        let script = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop.map(Self.quote).joined(separator: " ")) >/dev/null 2>&1; rm -rf \(Self.quote(directory))"
        _ = try ChildProcess(["/usr/bin/setsid", "/bin/sh", "-c", script], directory: "/")
    }

    static func findBinaries() throws -> String {
        for v in ["17", "16", "15"] {
            let dir = "/usr/lib/postgresql/\(v)/bin"
            if FileManager.default.isExecutableFile(atPath: dir + "/postgres") { return dir }
        }
        throw Failure("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run scripts/install-deps.sh (it installs postgresql-15)")
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Failure("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func command(_ tool: String, _ args: [String], asPostgres: Bool) -> [String] {
        asPostgres && getuid() == 0 ? ["/sbin/runuser", "-u", user, "--", tool] + args : [tool] + args
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a tool to completion (at most 5 minutes) in "/" (the unprivileged user may not be
    /// able to read the caller's folder); throws with its output when it fails.
    @discardableResult
    static func run(_ tool: String, _ args: [String], asPostgres: Bool) throws -> String {
        let argv = command(tool, args, asPostgres: asPostgres)
        let r = try ChildProcess.run(argv, directory: "/", timeout: 300)
        let text = r.stdout + r.stderr
        guard r.exit.code == 0 else { throw Failure("\(argv.joined(separator: " ")) failed (\(r.exit)): \(text)") }
        return text
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }
}
