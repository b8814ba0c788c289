// Items upserted as codes computed elsewhere (issue 13's code loading): Encode on one collection,
// the model exported into another, the codes upserted there with the model's sha256 give the same
// items, codes and search answers as encoding there; every way to get it wrong is refused by name.
import DPQClient
import DPQEngine
@testable import DPQServer
import Foundation
import Testing

@Suite struct ImportCodesTests {
    @Test func codesEncodedElsewhereSearchLikeVectorsEncodedHere() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "a", items: 200)
        _ = try await dpq.importModel("b", data: try await dpq.exportModel("a"), createIfMissing: true)

        let db = Clusters.make(200, seed: 3)  // the items of "a"
        let (codes, digest) = try await dpq.encodeForUpsert("a", vectors: db.vectors)
        #expect(digest.count == 64 && codes.count == 200 && codes.allSatisfy { $0.count == 3 })
        #expect(try await dpq.collection("b").model.sha256 == digest)
        let items = codes.indices.map { NewItem(id: .number(UInt64($0)), code: codes[$0], labels: [db.labels[$0]]) }
        let first = try await dpq.upsert("b", items: Array(items[..<50]), modelSHA256: digest)
        #expect(first.inserted == 50 && first.encoded == 50 && first.itemCount == 50)
        let rest = try await dpq.upsertStream("b", items: Array(items[50...]), modelSHA256: digest, batchSize: 64)
        #expect(rest.inserted == 150 && rest.itemCount == 200)

        let ids = (0..<200).map { ItemKey.number(UInt64($0)) }
        let inA = try await dpq.getItems("a", ids: ids, withCodes: true).items.map(\.code)
        let inB = try await dpq.getItems("b", ids: ids, withCodes: true).items.map(\.code)
        #expect(inA == inB)
        let q = Clusters.make(10, seed: 8)
        var fromA: [[Hit]] = []
        for bits in [4, 12] {
            fromA = try await dpq.search("a", queries: q.vectors, k: 7, bits: bits)
            #expect(try await dpq.search("b", queries: q.vectors, k: 7, bits: bits) == fromA)
        }
        // Replacing by code keeps the count; the collection survives a restart with them.
        let again = try await dpq.upsert("b", items: Array(items[..<10]), modelSHA256: digest.uppercased())
        #expect(again.replaced == 10 && again.itemCount == 200)
        // An id named twice in one batch: the later code wins, as items and as columns.
        let twice = [NewItem(id: .number(5), code: codes[7], labels: [db.labels[7]]),
                     NewItem(id: .number(6), code: codes[6], labels: [db.labels[6]]),
                     NewItem(id: .number(5), code: codes[5], labels: [db.labels[5]])]
        let byItems = try await dpq.upsert("b", items: twice, modelSHA256: digest)
        #expect(byItems.replaced == 2 && byItems.itemCount == 200)
        let columns = ItemColumns(ids: .numbers([5, 6, 5]), payload: .codes([UInt8](codes[7]) + [UInt8](codes[6]) + [UInt8](codes[5])),
                                  labels: [db.labels[7], db.labels[6], db.labels[5]])
        let byColumns = try await dpq.upsertStream("b", columns: columns, modelSHA256: digest, batchSize: 3)
        #expect(byColumns.replaced == 2 && byColumns.itemCount == 200)
        #expect(try await dpq.getItems("b", ids: [.number(5), .number(6)], withCodes: true).items.map { [UInt8]($0.code) } == [[UInt8](codes[5]), [UInt8](codes[6])])
        await f.stop()
        let g = try await ServerFixture.start(dataDir: f.dataDir)
        #expect(try await g.client.search("b", queries: q.vectors, k: 7, bits: 12) == fromA)
        await g.stop()
    }

    @Test func wrongCodesAreRefusedByName() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "a", items: 20)
        let model = try await dpq.exportModel("a")
        _ = try await dpq.importModel("b", data: model, createIfMissing: true)
        let (codes, digest) = try await dpq.encodeForUpsert("a", vectors: Clusters.make(3, seed: 5).vectors)
        let good = codes.indices.map { NewItem(id: .number(UInt64($0)), code: codes[$0]) }

        await expectCode(.invalidArgument, "model_sha256 is required") { try await dpq.upsert("b", items: good) }
        await expectCode(.failedPrecondition, "model_sha256: the codes were computed with model") {
            try await dpq.upsert("b", items: good, modelSHA256: String(repeating: "0", count: 64))
        }
        await expectCode(.invalidArgument, "items[1].code has 2 bytes") {
            try await dpq.upsert("b", items: [good[0], NewItem(id: .number(9), code: [1, 2])], modelSHA256: digest)
        }
        await expectCode(.invalidArgument, "items[0].code: code word 2 is 16, not below codebook_size 16") {
            try await dpq.upsert("b", items: [NewItem(id: .number(9), code: [1, 2, 16])], modelSHA256: digest)
        }
        await expectCode(.invalidArgument, "a batch carries vectors or codes, not both") {
            try await dpq.upsert("b", items: [good[0], NewItem(id: .number(9), vector: [Float](repeating: 0, count: 16))], modelSHA256: digest)
        }
        await expectCode(.invalidArgument, "a batch carries vectors or codes, not both") {
            try await dpq.upsert("b", items: [NewItem(id: .number(9), vector: [Float](repeating: 0, count: 16)), good[0]], modelSHA256: digest)
        }
        // A collection without a model; one that keeps vectors.
        try await dpq.createCollection("empty", inputDimension: 16, model: smallModel())
        await expectCode(.failedPrecondition, "has no model") { try await dpq.upsert("empty", items: good, modelSHA256: digest) }
        _ = try await dpq.importModel("kept", data: model, createIfMissing: true, keepVectors: true)
        await expectCode(.failedPrecondition, "keep_vectors") { try await dpq.upsert("kept", items: good, modelSHA256: digest) }
        // Nothing was written by any of them.
        #expect(try await dpq.count("b") == 0)

        // A collection that is training: its new model would find the items with codes of the old one.
        let train = Clusters.make(240, seed: 2)
        try await dpq.uploadTrainingData("b", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        var long = quickTraining()
        long.epochs = 2000
        _ = try await dpq.startTraining("b", options: long)
        await expectCode(.failedPrecondition, "is training") { try await dpq.upsert("b", items: good, modelSHA256: digest) }
        try await dpq.cancelTraining("b")
        for try await _ in dpq.watchTraining("b") {}
        #expect(try await dpq.upsert("b", items: good, modelSHA256: digest).inserted == 3)
        await f.stop()
    }
}
