// Many calls on one HTTP/2 connection: the server advertises its stream limit, conforming
// clients queue beyond it, a client that ignores it has only the extra streams refused, and the
// calls over the server's RPC limit are rejected one by one, never the connection.

import DPQClient
import DPQProto
import DPQServer
import DPQServerSupport
import ChildProcesses
import Foundation
import GRPCCore
import Testing

@Suite struct StreamLimitTests {
    static let upsertStream = "/dpq.v1.ItemService/UpsertItemsStream"
    static let healthCheck = "/grpc.health.v1.Health/Check"

    @Test func advertisedLimitAndRefusedStreams() async throws {
        var connection = ConnectionSettings()
        connection.maxConcurrentStreams = 4
        let f = try await ServerFixture.start(connection: connection)
        defer { f.removeData() }
        let port = f.server.port
        try await onOwnThread { try Self.overshoot(port: port) }
        await f.stop()
    }

    /// Blocking socket work, run off the cooperative pool.
    static func overshoot(port: Int) throws {
        let h2 = try RawHTTP2Connection(port: port)
        let settings = try h2.readUntil { $0.type == RawFrame.settings && $0.flags & RawFrame.ack == 0 }
        #expect(settings.settings[3] == 4, "SETTINGS_MAX_CONCURRENT_STREAMS: \(settings.settings)")
        try h2.sendFrame(type: RawFrame.settings, flags: RawFrame.ack, stream: 0, payload: [])

        // Four client-streaming calls held open (no END_STREAM), then 100 more calls: all their
        // HEADERS first, then their messages, as h2load sends them (more refused streams than
        // swift-nio-http2 remembers as reset, so a reset sent too early would make the later DATA
        // frames a connection error).
        let held: [UInt32] = [1, 3, 5, 7], extra = (0..<100).map { UInt32(9 + 2 * $0) }
        for s in held { try h2.sendRequestHeaders(stream: s, path: Self.upsertStream) }
        for s in extra { try h2.sendRequestHeaders(stream: s, path: Self.healthCheck) }
        for s in extra { try h2.sendMessage(stream: s, [], endStream: true) }
        var refused: [UInt32: UInt32] = [:]
        var goAway = false
        _ = try h2.readUntil({ _ in refused.count == extra.count || goAway }) { f in
            if f.type == RawFrame.rstStream { refused[f.stream] = f.errorCode }
            if f.type == RawFrame.goAway { goAway = true }
        }
        #expect(!goAway)
        #expect(Set(refused.keys) == Set(extra) && refused.values.allSatisfy { $0 == 7 },
                "RST_STREAM codes by stream (7 = REFUSED_STREAM): \(refused.filter { $0.value != 7 })")

        // The held calls still finish: each ends its stream with trailers, none is reset.
        for s in held { try h2.sendFrame(type: RawFrame.data, flags: RawFrame.endStream, stream: s, payload: []) }
        var ended: Set<UInt32> = [], reset: Set<UInt32> = []
        _ = try h2.readUntil({ _ in ended.count + reset.count == held.count }) { f in
            if f.type == RawFrame.headers && f.flags & RawFrame.endStream != 0 { ended.insert(f.stream) }
            if f.type == RawFrame.rstStream && held.contains(f.stream) { reset.insert(f.stream) }
            if f.type == RawFrame.goAway { goAway = true }
        }
        #expect(ended == Set(held) && reset.isEmpty && !goAway)

        // Their slots are free again: a new call on the same connection is answered.
        try h2.sendRequestHeaders(stream: 215, path: Self.healthCheck)
        try h2.sendMessage(stream: 215, [], endStream: true)
        var gotData = false
        let last = try h2.readUntil({ ($0.stream == 215 && $0.flags & RawFrame.endStream != 0 && $0.type == RawFrame.headers)
                                       || ($0.stream == 215 && $0.type == RawFrame.rstStream) || $0.type == RawFrame.goAway }) {
            if $0.stream == 215 && $0.type == RawFrame.data { gotData = true }
        }
        #expect(last.type == RawFrame.headers && gotData, "stream 215 ended with \(last)")
    }

    /// 1,000 calls at once from the Swift client on its one connection.
    @Test(arguments: [nil, 16] as [Int?]) func thousandConcurrentCalls(rpcLimit: Int?) async throws {
        var limits = ServerLimits()
        var connection = ConnectionSettings()
        if let rpcLimit {
            // More streams than RPCs: the calls over the RPC limit must be refused one by one.
            limits.maxConcurrentRPCs = rpcLimit
            connection.maxConcurrentStreams = 1_000
        }
        let f = try await ServerFixture.start(limits: limits, connection: connection)
        defer { f.removeData() }
        try await f.client.createCollection("c", inputDimension: 16, numClasses: 4, model: smallModel())
        let outcomes = await withTaskGroup(of: RPCError.Code?.self) { group in
            for i in 0..<1_000 {
                group.addTask {
                    do {
                        if i % 2 == 0 { _ = try await f.client.serverInfo() } else { _ = try await f.client.collection("c") }
                        return nil
                    } catch let e as DPQError {
                        return e.code
                    } catch {
                        return .unknown
                    }
                }
            }
            var codes: [RPCError.Code?] = []
            for await c in group { codes.append(c) }
            return codes
        }
        let ok = outcomes.filter { $0 == nil }.count
        let exhausted = outcomes.filter { $0 == .resourceExhausted }.count
        #expect(ok + exhausted == 1_000, "other outcomes: \(outcomes.compactMap { $0 }.filter { $0 != .resourceExhausted }.prefix(5))")
        if rpcLimit == nil { #expect(exhausted == 0, "the stream limit equals the RPC limit: calls queue instead") }
        #expect(ok > 0)
        // The connection and the server are still there.
        _ = try await f.client.serverInfo()
        await f.stop()
    }
}
