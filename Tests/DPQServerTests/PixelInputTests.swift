// 8-bit input (DenseVectors.uint8_values, Vector.uint8_values) over real loopback HTTP/2: bytes
// mean exactly the float values 0...255, so training, upserts, encodes and searches give the same
// answers either way; both forms at once, or a byte count that does not fit, is INVALID_ARGUMENT
// naming the field.
@testable import DPQClient
import DPQProto
import Foundation
import GRPCCore
import Testing

@Suite struct PixelInputTests {
    /// Clustered rows as whole numbers 0...255 (the same data as Clusters, scaled and clamped).
    static func pixels(_ n: Int, seed: UInt64) -> (rows: [[UInt8]], labels: [UInt32]) {
        let c = Clusters.make(n, seed: seed)
        return (c.vectors.map { $0.map { UInt8(max(0, min(255, ($0 * 20 + 128).rounded()))) } }, c.labels)
    }

    @Test func bytesAreTheSameValuesAsFloats() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("px", inputDimension: 16, model: smallModel(), keepVectors: true)
        let train = Self.pixels(240, seed: 2)
        try await dpq.uploadTrainingData("px", pixels: train.rows, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await dpq.startTraining("px", options: quickTraining())
        var last: TrainingProgress?
        for try await p in dpq.watchTraining("px") { last = p }
        #expect(last?.state == .succeeded)

        let db = Self.pixels(120, seed: 3)
        // Half the items as bytes, half as the same values in floats.
        try await dpq.upsert("px", items: (0..<60).map { NewItem(id: .number(UInt64($0)), pixels: db.rows[$0], labels: [db.labels[$0]]) })
        try await dpq.upsertStream("px", items: (60..<120).map {
            NewItem(id: .number(UInt64($0)), vector: db.rows[$0].map(Float.init), labels: [db.labels[$0]])
        }, batchSize: 16)
        let stored = try await dpq.getItems("px", ids: [.number(5), .number(70)], withVectors: true)
        #expect(stored.items.map { $0.vector.values } == [db.rows[5].map(Float.init), db.rows[70].map(Float.init)])

        let q = Self.pixels(6, seed: 8).rows
        let asFloats = q.map { $0.map(Float.init) }
        #expect(try await dpq.encode("px", pixels: q) == (try await dpq.encode("px", vectors: asFloats)))
        let hits = try await dpq.search("px", pixels: q, k: 10)
        #expect(hits == (try await dpq.search("px", queries: asFloats, k: 10)))
        #expect(hits.allSatisfy { $0.count == 10 })
        await f.stop()
    }

    @Test func badByteInputIsInvalidArgument() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "c", items: 20)
        func status(_ body: () async throws -> Void) async -> (RPCError.Code, String)? {
            do { try await body(); return nil } catch let e as DPQError { return (e.code, e.message) } catch { return nil }
        }
        let both = Dpq_V1_DenseVectors.with { $0.dimension = 16; $0.values = [Float](repeating: 1, count: 16); $0.uint8Values = Data(count: 16) }
        var s = await status { _ = try await dpq.call { try await dpq.searchService.search(.with { $0.collection = "c"; $0.queries = both; $0.k = 3 }) } }
        #expect(s?.0 == .invalidArgument && s?.1.contains("queries has both values and uint8_values") == true, "\(String(describing: s))")
        let odd = Dpq_V1_DenseVectors.with { $0.dimension = 16; $0.uint8Values = Data(count: 20) }
        s = await status { _ = try await dpq.call { try await dpq.models.encode(.with { $0.collection = "c"; $0.vectors = odd }) } }
        #expect(s?.0 == .invalidArgument && s?.1.contains("vectors.uint8_values has 20 values") == true, "\(String(describing: s))")
        let wrongDim = Dpq_V1_DenseVectors.with { $0.dimension = 8; $0.uint8Values = Data(count: 16) }
        s = await status { _ = try await dpq.call { try await dpq.searchService.search(.with { $0.collection = "c"; $0.queries = wrongDim; $0.k = 3 }) } }
        #expect(s?.0 == .invalidArgument && s?.1.contains("queries.dimension must be 16") == true, "\(String(describing: s))")

        func item(_ v: Dpq_V1_Vector) -> Dpq_V1_UpsertItemsRequest {
            .with { $0.collection = "c"; $0.items = [.with { $0.id = .with { $0.num = 1 }; $0.vector = v }] }
        }
        s = await status { _ = try await dpq.call { try await dpq.items.upsertItems(item(.with { $0.values = [Float](repeating: 1, count: 16); $0.uint8Values = Data(count: 16) })) } }
        #expect(s?.0 == .invalidArgument && s?.1.contains("items[0].vector has both values and uint8_values") == true, "\(String(describing: s))")
        s = await status { _ = try await dpq.call { try await dpq.items.upsertItems(item(.with { $0.uint8Values = Data(count: 15) })) } }
        #expect(s?.0 == .invalidArgument && s?.1.contains("items[0].vector has 15 uint8_values") == true, "\(String(describing: s))")
        await f.stop()
    }
}
