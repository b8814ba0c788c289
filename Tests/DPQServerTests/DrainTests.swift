// SIGTERM under load: the listener closes, each connection gets GOAWAY NO_ERROR with the real
// last stream id, the calls in flight finish, and every acknowledged write is there after a
// restart.

import DPQClient
import DPQProto
import ChildProcesses
import Foundation
import GRPCCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DrainTests {
    static func port(_ address: String) -> Int { Int(address.split(separator: ":").last!)! }

    @Test func goAwayCarriesTheLastStreamAndOpenCallsFinish() async throws {
        let dir = temporaryPath("dpq-drain")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ChildServer(dataDir: dir, extraArgs: ["--drain-timeout", "20"])
        defer { server.stop() }
        let port = Self.port(server.address), pid = server.pid
        try await onOwnThread { try Self.drainRaw(port: port, pid: pid) }
        server.process.waitOrKill()
        #expect(server.process.terminationStatus == 0)
    }

    /// Blocking socket work, run off the cooperative pool.
    static func drainRaw(port: Int, pid: Int32) throws {
        let h2 = try RawHTTP2Connection(port: port)
        _ = try h2.readUntil { $0.type == RawFrame.settings && $0.flags & RawFrame.ack == 0 }
        try h2.sendFrame(type: RawFrame.settings, flags: RawFrame.ack, stream: 0, payload: [])
        let held: [UInt32] = [1, 3, 5]
        for s in held { try h2.sendRequestHeaders(stream: s, path: StreamLimitTests.upsertStream) }
        // Let the server see the streams before the signal.
        try h2.sendFrame(type: RawFrame.ping, flags: 0, stream: 0, payload: [UInt8](repeating: 7, count: 8))
        _ = try h2.readUntil { $0.type == RawFrame.ping && $0.flags & RawFrame.ack != 0 }

        kill(pid, SIGTERM)
        var goAways: [RawFrame] = []
        _ = try h2.readUntil({ $0.type == RawFrame.goAway && $0.lastStreamID != 0x7fff_ffff }) {
            if $0.type == RawFrame.goAway { goAways.append($0) }
        }
        #expect(goAways.allSatisfy { $0.errorCode == 0 }, "GOAWAY error codes: \(goAways.map(\.errorCode))")
        #expect(goAways.last?.lastStreamID == 5)
        // New connections are refused once the listener has closed.
        var refusedNewConnection = false
        for _ in 0..<50 where !refusedNewConnection {
            if (try? RawHTTP2Connection(port: port)) == nil { refusedNewConnection = true } else { usleep(100_000) }
        }
        #expect(refusedNewConnection)

        // The held calls, still open, are answered when they finish.
        for s in held { try h2.sendFrame(type: RawFrame.data, flags: RawFrame.endStream, stream: s, payload: []) }
        var ended: Set<UInt32> = []
        _ = try h2.readUntil({ _ in ended.count == held.count }) { f in
            if f.type == RawFrame.headers && f.flags & RawFrame.endStream != 0 { ended.insert(f.stream) }
            if f.type == RawFrame.rstStream { Issue.record("stream \(f.stream) reset with \(f.errorCode)") }
        }
        #expect(ended == Set(held))
    }

    @Test func thousandCallsInFlightAtSigterm() async throws {
        let dir = temporaryPath("dpq-drain-load")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ChildServer(dataDir: dir, extraArgs: ["--drain-timeout", "30"])
        let client = try DPQClient(address: server.address, timeout: .seconds(60))
        _ = try await client.createCollection("c", inputDimension: 16, numClasses: 4)
        let data = Clusters.make(20)
        let acked = Counter()
        let start = Date()
        let outcomes: [(Int, RPCError.Code?, TimeInterval)] = await withTaskGroup(of: (Int, RPCError.Code?, TimeInterval).self) { group in
            for call in 0..<1_000 {
                group.addTask {
                    let items = (0..<20).map { NewItem(id: .string("i\(call)-\($0)"), vector: data.vectors[$0], labels: [data.labels[$0]]) }
                    do {
                        _ = try await client.upsert("c", items: items)
                        if acked.increment() == 100 { kill(server.pid, SIGTERM) }
                        return (call, nil, Date().timeIntervalSince(start))
                    } catch let e as DPQError {
                        return (call, e.code, Date().timeIntervalSince(start))
                    } catch {
                        return (call, .unknown, Date().timeIntervalSince(start))
                    }
                }
            }
            var all: [(Int, RPCError.Code?, TimeInterval)] = []
            for await o in group { all.append(o) }
            return all
        }
        client.close()
        server.process.waitOrKill()
        #expect(server.process.terminationStatus == 0)
        let ok = outcomes.filter { $0.1 == nil }
        let failed = outcomes.filter { $0.1 != nil }
        // Calls the server had accepted finish; the rest never reached it and fail UNAVAILABLE.
        #expect(failed.allSatisfy { $0.1 == .unavailable }, "failures: \(Set(failed.compactMap { $0.1 }))")
        #expect(ok.count > 100, "\(ok.count) acknowledged: the calls in flight at SIGTERM must finish")

        let again = try ChildServer(dataDir: dir)
        defer { again.stop() }
        let check = try DPQClient(address: again.address, timeout: .seconds(60))
        defer { check.close() }
        #expect(try await check.collection("c").itemCount >= UInt64(ok.count * 20))
        let sample = ok.prefix(50).map { ItemKey.string("i\($0.0)-7") }
        #expect(try await check.getItems("c", ids: sample).items.count == sample.count)
    }
}

/// A thread-safe counter for the test's tasks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
