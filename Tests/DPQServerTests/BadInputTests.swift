import DPQClient
import DPQProto
import Foundation
import GRPCCore
import Testing

/// Bad input on every RPC gets the right status code and a message naming the field.
@Suite(.serialized) struct BadInputTests {
    @Test func everyRPCRejectsBadInput() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        let q = Clusters.make(4, seed: 9)

        // Collections
        await expectCode(.invalidArgument, "name") { try await dpq.createCollection("../escape", inputDimension: 4) }
        await expectCode(.invalidArgument, "name") { try await dpq.createCollection("", inputDimension: 4) }
        await expectCode(.invalidArgument, "input_dimension") { try await dpq.createCollection("zero", inputDimension: 0) }
        await expectCode(.invalidArgument, "codebook_size") {
            try await dpq.createCollection("k100", inputDimension: 4, model: .with { $0.codebookSize = 100 })
        }
        await expectCode(.invalidArgument, "blocks") {
            try await dpq.createCollection("m40", inputDimension: 4, model: .with { $0.blocks = 40 })
        }
        await expectCode(.invalidArgument, "num_classes") {
            try await dpq.createCollection("nolabels", inputDimension: 4, labelMode: .single)
        }
        await expectCode(.notFound, "nope") { _ = try await dpq.collection("nope") }
        await expectCode(.notFound, "nope") { try await dpq.deleteCollection("nope") }
        #expect(try await dpq.deleteCollection("nope", allowMissing: true) == false)

        try await dpq.createCollection("c", inputDimension: 16, model: smallModel())
        await expectCode(.alreadyExists, "c") { try await dpq.createCollection("c", inputDimension: 16) }

        // Untrained: search, encode, decode, evaluate, export need a model.
        await expectCode(.failedPrecondition) { _ = try await dpq.search("c", queries: q.vectors, k: 3) }
        await expectCode(.failedPrecondition) { _ = try await dpq.encode("c", vectors: q.vectors) }
        await expectCode(.failedPrecondition) { _ = try await dpq.decode("c", codes: [[1, 2, 3]]) }
        await expectCode(.failedPrecondition) { _ = try await dpq.evaluate("c", queries: q.vectors, labels: q.labels.map { [$0] }) }
        await expectCode(.failedPrecondition) { _ = try await dpq.exportModel("c") }
        await expectCode(.notFound) { _ = try await dpq.watchTraining("c").first { _ in true } }

        // Training data and training
        await expectCode(.invalidArgument, "dimension") {
            try await dpq.uploadTrainingData("c", vectors: [[1, 2, 3]], labels: [[0]])
        }
        await expectCode(.invalidArgument, "finite") {
            try await dpq.uploadTrainingData("c", vectors: [[Float](repeating: .nan, count: 16)], labels: [[0]])
        }
        await expectCode(.invalidArgument, "label 9") {
            try await dpq.uploadTrainingData("c", vectors: [q.vectors[0]], labels: [[9]])
        }
        await expectCode(.notFound) { try await dpq.uploadTrainingData("missing", vectors: q.vectors) }
        await expectCode(.notFound, "dataset") { _ = try await dpq.startTraining("c", dataset: "nothing-here") }
        await expectCode(.invalidArgument, "batch_size") {
            _ = try await dpq.startTraining("c", options: .with { $0.batchSize = 0 })
        }

        try await trainedCollection(dpq, name: "t", items: 100)
        // Items
        await expectCode(.invalidArgument, "items[0].vector") {
            try await dpq.upsert("t", items: [NewItem(id: .number(1), vector: [1, 2])])
        }
        await expectCode(.invalidArgument, "finite") {
            try await dpq.upsert("t", items: [NewItem(id: .number(1), vector: [Float](repeating: .infinity, count: 16))])
        }
        await expectCode(.invalidArgument, "items is empty") { try await dpq.upsert("t", items: []) }
        await expectCode(.invalidArgument, "out of range") {
            try await dpq.upsert("t", items: [NewItem(id: .number(1), vector: q.vectors[0], labels: [17])])
        }
        await expectCode(.invalidArgument, "at most one") {
            try await dpq.upsert("t", items: [NewItem(id: .number(1), vector: q.vectors[0], labels: [1, 2])])
        }
        await expectCode(.invalidArgument, "str") {
            try await dpq.upsert("t", items: [NewItem(id: .string(""), vector: q.vectors[0])])
        }
        await expectCode(.invalidArgument, "ids") { _ = try await dpq.getItems("t", ids: []) }
        await expectCode(.failedPrecondition, "keep_vectors") { _ = try await dpq.getItems("t", ids: [.number(1)], withVectors: true) }
        await expectCode(.invalidArgument, "ids") { try await dpq.deleteItems("t", ids: []) }
        await expectCode(.invalidArgument, "page_token") { _ = try await dpq.listItems("t", pageToken: "garbage") }
        await expectCode(.notFound) { _ = try await dpq.count("missing") }

        // Search
        await expectCode(.invalidArgument, "k must be > 0") { _ = try await dpq.search("t", queries: q.vectors, k: 0) }
        await expectCode(.resourceExhausted, "max_k") { _ = try await dpq.search("t", queries: q.vectors, k: 10_000_000) }
        await expectCode(.invalidArgument, "bits") { _ = try await dpq.search("t", queries: q.vectors, k: 3, bits: 5) }
        await expectCode(.invalidArgument, "bits") { _ = try await dpq.search("t", queries: q.vectors, k: 3, bits: 16) }
        await expectCode(.invalidArgument, "queries.dimension") { _ = try await dpq.search("t", queries: [[1, 2]], k: 3) }
        await expectCode(.invalidArgument, "finite") {
            _ = try await dpq.search("t", queries: [[Float](repeating: .nan, count: 16)], k: 3)
        }
        await expectCode(.failedPrecondition, "keep_vectors") {
            _ = try await dpq.search("t", queries: q.vectors, k: 3, rescoreOversampling: 2)
        }
        await expectCode(.notFound) { _ = try await dpq.search("missing", queries: q.vectors, k: 3) }

        // Evaluate
        await expectCode(.invalidArgument, "query_labels") {
            _ = try await dpq.evaluate("t", queries: q.vectors, labels: [[0]])
        }
        await expectCode(.invalidArgument, "precision_at_k") {
            _ = try await dpq.evaluate("t", queries: q.vectors, labels: q.labels.map { [$0] }, precisionAt: [0])
        }

        // Encode / decode
        await expectCode(.invalidArgument, "vectors.dimension") { _ = try await dpq.encode("t", vectors: [[1]]) }
        await expectCode(.invalidArgument, "bits") { _ = try await dpq.encode("t", vectors: q.vectors, bits: 7) }
        await expectCode(.invalidArgument, "codes[0]") { _ = try await dpq.decode("t", codes: [[1, 2]], bits: 12) }
        await expectCode(.invalidArgument, "codes") { _ = try await dpq.decode("t", codes: [], bits: 4) }

        // Models
        await expectCode(.invalidArgument, "data") { try await dpq.importModel("t", data: Data("not a model".utf8)) }
        let model = try await dpq.exportModel("t")
        await expectCode(.invalidArgument, "data") { try await dpq.importModel("t", data: model.prefix(model.count / 2)) }
        await expectCode(.notFound, "create_if_missing") { try await dpq.importModel("ghost", data: model) }
        try await dpq.createCollection("other-dim", inputDimension: 8)
        await expectCode(.invalidArgument, "input_dimension") { try await dpq.importModel("other-dim", data: model) }

        // Retraining needs the items' vectors, which "t" did not keep.
        await expectCode(.failedPrecondition, "keep_vectors") { _ = try await dpq.startTraining("t") }
        // A second training while one runs.
        let train = Clusters.make(200, seed: 2)
        try await dpq.uploadTrainingData("c", vectors: train.vectors, labels: train.labels.map { [$0] })
        _ = try await dpq.startTraining("c", options: .with { $0.epochs = 10_000; $0.batchSize = 1 })
        await expectCode(.failedPrecondition, "already training") { _ = try await dpq.startTraining("c") }
        let p = try await dpq.cancelTraining("c")
        #expect(p.state == .cancelled)

        // The server still answers.
        #expect(try await dpq.healthCheck() == .serving)
        await f.stop()
    }

    /// A message over max_message_bytes is RESOURCE_EXHAUSTED naming the limit; the server goes on.
    @Test func oversizedMessageIsResourceExhausted() async throws {
        let f = try await ServerFixture.start(maxMessageBytes: 1 << 20)
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("big", inputDimension: 1000)
        let items = (0..<400).map { NewItem(id: .number(UInt64($0)), vector: [Float](repeating: 0.5, count: 1000)) }
        await expectCode(.resourceExhausted, "max_message_bytes") { try await dpq.upsert("big", items: items) }
        // Split into messages under the limit, the same items go in.
        let r = try await dpq.upsertStream("big", items: items, batchSize: 100)
        #expect(r.inserted == 400)
        #expect(try await dpq.healthCheck() == .serving)
        await f.stop()
    }
}
