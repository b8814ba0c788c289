// Image collections through the API: CollectionConfig.input_shape and ModelConfig.trunk reach the
// engine (a convolutional trunk trains, encodes and searches), come back in GetCollection and after
// a restart, and bad shapes or specs are INVALID_ARGUMENT naming the field.

import DPQClient
import DPQProto
import Foundation
import Testing

@Suite struct ImageCollectionTests {
    static let spec = "conv3x3-4,relu,maxpool2,flatten"

    static func model() -> ModelConfig {
        var m = smallModel()
        m.clearHiddenSizes()
        m.trunk = spec
        return m
    }

    @Test func convolutionalTrunkEndToEnd() async throws {
        let f = try await ServerFixture.start()
        let info = try await f.client.createCollection("img", inputDimension: 0, inputShape: (8, 8, 1), model: Self.model())
        #expect(info.config.inputDimension == 64)
        #expect(info.config.inputShape.height == 8 && info.config.inputShape.width == 8 && info.config.inputShape.channels == 1)
        #expect(info.config.model.trunk == Self.spec)

        // 8 x 8 "images" of four classes (clustered vectors read as pixels): the trunk trains on them.
        let train = Clusters.make(240, dim: 64, seed: 2)
        try await f.client.uploadTrainingData("img", vectors: train.vectors, labels: train.labels.map { [$0] })
        _ = try await f.client.startTraining("img", options: quickTraining())
        var last: TrainingProgress?
        for try await p in f.client.watchTraining("img") { last = p }
        #expect(last?.state == .succeeded, "\(String(describing: last?.state)) \(last?.error ?? "")")
        let db = Clusters.make(100, dim: 64, seed: 3)
        _ = try await f.client.upsert("img", items: db.vectors.enumerated().map { NewItem(id: .number(UInt64($0)), vector: $1, labels: [db.labels[$0]]) })
        let hits = try await f.client.search("img", queries: [db.vectors[5]], k: 5)
        #expect(hits.first?.count == 5)
        let same = hits.first?.filter { $0.labels == [db.labels[5]] }.count ?? 0
        #expect(same >= 3, "\(same) of 5 hits share the query's class")
        await f.stop()

        // The shape and the spec survive a restart (stored with the collection and in the model file).
        let g = try await ServerFixture.start(dataDir: f.dataDir)
        defer { g.removeData() }
        let again = try await g.client.collection("img")
        #expect(again.config.inputShape.height == 8 && again.config.model.trunk == Self.spec)
        #expect(again.model.config.trunk == Self.spec)
        #expect(try await g.client.search("img", queries: [db.vectors[5]], k: 5) == hits)
        await g.stop()
    }

    @Test func badShapesAndSpecsNameTheField() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        await expectCode(.invalidArgument, "config.input_shape") {
            _ = try await f.client.createCollection("a", inputDimension: 65, inputShape: (8, 8, 1), model: Self.model())
        }
        await expectCode(.invalidArgument, "config.input_shape") {
            _ = try await f.client.createCollection("b", inputDimension: 0, inputShape: (0, 8, 1), model: Self.model())
        }
        await expectCode(.invalidArgument, "config.input_shape") {
            _ = try await f.client.createCollection("c", inputDimension: 0, inputShape: (100_000, 100_000, 3), model: Self.model())
        }
        await expectCode(.invalidArgument, "config.model") {
            // Convolution without an image shape.
            _ = try await f.client.createCollection("d", inputDimension: 64, model: Self.model())
        }
        var bogus = Self.model()
        bogus.trunk = "conv3x3-4,wobble"
        await expectCode(.invalidArgument, "wobble") {
            _ = try await f.client.createCollection("e", inputDimension: 0, inputShape: (8, 8, 1), model: bogus)
        }
        #expect(try await f.client.listCollections().isEmpty)
        await f.stop()
    }
}
