// max_items_per_collection: a write that would pass it is refused with RESOURCE_EXHAUSTED naming
// the setting, before anything of it is stored; replacing items at the limit is not growing. The
// setting itself may not exceed what a collection's id table holds.
import DPQClient
import DPQEngine
@testable import DPQServer
import DPQServerSupport
import DPQStorage
import Foundation
import Testing

@Suite struct CollectionSizeLimitTests {
    @Test func writesPastMaxItemsPerCollectionAreRefused() async throws {
        var limits = ServerLimits()
        limits.maxItemsPerCollection = 300
        let f = try await ServerFixture.start(limits: limits)
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "capped", items: 250)
        func items(_ ids: Range<Int>) -> [NewItem] {
            let data = Clusters.make(ids.count, seed: UInt64(ids.lowerBound))
            return (0..<ids.count).map { j in NewItem(id: .number(UInt64(ids.lowerBound + j)), vector: data.vectors[j], labels: [data.labels[j]]) }
        }
        // 40 new and 20 stored (ids 230..<290): 290 after it, allowed.
        var r = try await dpq.upsert("capped", items: items(230..<290))
        #expect(r.inserted == 40 && r.replaced == 20 && r.itemCount == 290)
        // 11 new would make 301: refused, and none of them stored.
        await expectCode(.resourceExhausted, "max_items_per_collection (300)") {
            try await dpq.upsert("capped", items: items(285..<301))
        }
        #expect(try await dpq.collection("capped").itemCount == 290)
        #expect(try await dpq.getItems("capped", ids: [.number(295)]).missingIds.count == 1)
        // The stream and exactly up to the limit: allowed; then every id a replacement: allowed.
        r = try await dpq.upsertStream("capped", items: items(290..<300), batchSize: 4)
        #expect(r.inserted == 10 && r.itemCount == 300)
        r = try await dpq.upsert("capped", items: items(0..<100))
        #expect(r.replaced == 100 && r.itemCount == 300)
        await expectCode(.resourceExhausted, "max_items_per_collection") {
            try await dpq.upsertStream("capped", items: items(300..<302), batchSize: 1)
        }
        #expect(try await dpq.collection("capped").itemCount == 300)
        await f.stop()
    }

    @Test func theSettingStopsAtWhatAnIDTableHolds() throws {
        #expect(ServerLimits.maxItemsPerCollectionCeiling == ItemIDTable.maxRows)
        func resolve(_ n: Int) throws -> ServerSettings {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-limit-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(#"{"limits": {"maxItemsPerCollection": \#(n)}}"#.utf8).write(to: URL(fileURLWithPath: path))
            return try ServerSettings.resolve(configFile: path, environment: [:], overrides: .init())
        }
        #expect(try resolve(ItemIDTable.maxRows).limits.maxItemsPerCollection == ItemIDTable.maxRows)
        #expect(throws: (any Error).self) { try resolve(ItemIDTable.maxRows + 1) }
    }
}
