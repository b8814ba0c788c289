// vector_precision FLOAT16 over loopback HTTP/2 (issue 13: kept vectors on half the disk): the
// collection reports it, GetItems with_vectors returns the values rounded to half precision
// (what re-scoring and retraining use too, before and after a restart), a value beyond float16's
// range is INVALID_ARGUMENT naming the item, and FLOAT16 without keep_vectors is refused.

import DPQClient
import DPQEngine
import Foundation
import GRPCCore
import Testing

@Suite struct VectorPrecisionTests {
    @Test func halfPrecisionKeptVectors() async throws {
        let dir = temporaryPath("dpq-half")
        var f = try await ServerFixture.start(dataDir: dir)
        defer { f.removeData() }
        try await f.client.createCollection("h", inputDimension: 16, model: smallModel(), keepVectors: true, vectorPrecision: .float16)
        #expect(try await f.client.collection("h").config.vectorPrecision == .float16)
        try await trainToCompletion(f.client, "h")
        let data = Clusters.make(100, seed: 3)
        let vectors = data.vectors.map { $0.map { $0 + 0.123_456_7 } }   // not exact in half precision
        try await f.client.upsert("h", items: vectors.enumerated().map { NewItem(id: .number(UInt64($0)), vector: $1, labels: [data.labels[$0]]) })
        let rounded = vectors.map { $0.map { Float(Float16($0)) } }
        #expect(rounded != vectors)
        let got = try await f.client.getItems("h", ids: [.number(0), .number(99)], withVectors: true)
        #expect(got.items.map(\.vector.values) == [rounded[0], rounded[99]])
        let q = Clusters.make(3, seed: 8).vectors
        let rescored = try await f.client.search("h", queries: q, k: 5, rescoreOversampling: 4)
        #expect(rescored.allSatisfy { $0.count == 5 })

        await expectCode(.invalidArgument, "float16") {
            var big = vectors[0]
            big[3] = 1e6
            try await f.client.upsert("h", items: [NewItem(id: .number(500), vector: big, labels: [0])])
        }
        await expectCode(.invalidArgument, "config.vector_precision") {
            try await f.client.createCollection("u", inputDimension: 16, model: smallModel(), keepVectors: false, vectorPrecision: .float16)
        }

        // After a restart: the same rounded vectors, the same re-scored answer.
        await f.stop()
        f = try await ServerFixture.start(dataDir: dir)
        let again = try await f.client.getItems("h", ids: [.number(0), .number(99)], withVectors: true)
        #expect(again.items.map(\.vector.values) == [rounded[0], rounded[99]])
        #expect(try await f.client.search("h", queries: q, k: 5, rescoreOversampling: 4) == rescored)
        #expect(try await f.client.collection("h").config.vectorPrecision == .float16)
        await f.stop()
    }
}
