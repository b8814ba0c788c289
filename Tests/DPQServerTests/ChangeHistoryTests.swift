// A server cut off from the store's change history for longer than the store keeps it (issue
// 14): the tombstones of what was deleted meanwhile are gone, so catching up item by item would
// keep a deleted item in its index forever; the store tells it so and it loads the collection
// whole instead.

import ChildProcesses
import DPQClient
@testable import DPQServer
import Foundation
import PostgresTestSupport
import Testing

@Suite struct ChangeHistoryTests {
    @Test func aServerBehindThePrunedHistoryReloads() async throws {
        let (pg, db) = try await onOwnThread { () throws -> (PostgresServer, String) in
            let pg = try PostgresServer.shared()
            return (pg, try pg.makeDatabase())
        }
        // Node a prunes everything every second; node b keeps the default hour.
        let a = try await ServerFixture.start(store: pg.url(database: db) + "?change_retention=0")
        let b = try await ServerFixture.start(store: pg.url(database: db))
        defer { a.removeData(); b.removeData() }
        try await trainedCollection(a.client, name: "h", items: 200)
        func indexed(on node: ServerFixture) async throws -> Set<ItemKey> {
            let hits = try await node.client.search("h", queries: [Clusters.make(1, seed: 8).vectors[0]], k: 300)
            return Set(hits.first?.map(\.id) ?? [])
        }
        try await eventually("node b has the 200 items in its index") { try await indexed(on: b).count == 200 }

        // Cut off: node b stops following; node a deletes one item and adds another.
        b.server.parts.registry.stopFollowing()
        try await a.client.deleteItems("h", ids: [.number(7)])
        try await a.client.upsert("h", items: [NewItem(id: .string("late"), vector: Clusters.make(1, seed: 9).vectors[0], labels: [0])])
        let head = try await onOwnThread { try pg.psql(db, "SELECT seq FROM collections WHERE name = 'h'") }
        try await eventually("node a pruned the history up to its last write") {
            try await onOwnThread { try pg.psql(db, "SELECT pruned_seq FROM collections WHERE name = 'h'") } == head
        }
        #expect(try await onOwnThread { try pg.psql(db, "SELECT count(*) FROM item_tombstones") } == "0\n")
        #expect(try await indexed(on: b).contains(.number(7)), "node b has not followed yet")

        b.server.parts.registry.startFollowing()
        try await eventually("node b reloaded: the deletion it never saw is gone there, the new item is in") {
            let ids = try await indexed(on: b)
            return ids.count == 200 && !ids.contains(.number(7)) && ids.contains(.string("late"))
        }
        #expect(try await indexed(on: a) == indexed(on: b))
        await a.stop()
        await b.stop()
    }
}
