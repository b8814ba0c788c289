import DPQClient
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

extension HostileInputTests {
    /// Clients that give up half way through a client stream: the stream is reset, nothing from it
    /// is acknowledged, and what is visible afterwards follows the documented semantics.
    func midStreamCases(_ run: Run, model: [UInt8]) async throws {
        let dpq = run.dpq
        // What the client sees when its own request stream fails: grpc-swift resets the HTTP/2
        // stream and reports UNAVAILABLE "Stream unexpectedly closed" (or the producer's error).
        let aborted: Set<Code?> = [.unavailable, .aborted, .cancelled]
        let upsertStream = Dpq_V1_ItemService.Method.UpsertItemsStream.descriptor
        let data = Clusters.make(200, seed: 21)
        func batch(_ b: Int, collection: String = "") throws -> [UInt8] {
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
                $0.collection = collection
                $0.items = (0..<40).map { i in Self.item(UInt64(20_000 + b * 40 + i), data.vectors[b * 40 + i], [data.labels[b * 40 + i]]) }
            })
        }
        func present(_ b: Int) async throws -> Int {
            try await dpq.getItems("h", ids: (0..<40).map { .number(UInt64(20_000 + b * 40 + $0)) }).items.count
        }
        // (a) UpsertItemsStream: 3 of 5 batches sent, then the client aborts. Each batch is all or nothing
        // (applied as it arrives, documented); the unsent batches are absent; no response was received.
        let upsertOut = await run.expect("upsert stream aborted after 3 of 5 batches", upsertStream,
                                         [try batch(0, collection: "h"), try batch(1), try batch(2)], aborted,
                                         abortAfter: .milliseconds(500))
        #expect(upsertOut.responses.isEmpty)
        for b in 0..<5 {
            let n = try await present(b)
            if b < 3 { #expect(n == 0 || n == 40, "batch \(b) half applied: \(n) of 40") } else { #expect(n == 0, "unsent batch \(b) visible: \(n)") }
        }
        // (b) A stream whose third batch is invalid: the first two stay, the third is not applied at all.
        let bad = try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
            var items: [Dpq_V1_Item] = []
            for i in 0..<40 {
                let v: [Float] = i == 39 ? [Float](repeating: .nan, count: 16) : data.vectors[120 + i]
                items.append(Self.item(UInt64(20_120 + i), v))
            }
            $0.items = items
        })
        await run.expect("upsert stream with an invalid third batch", upsertStream, [try batch(0, collection: "h"), try batch(1), bad, try batch(4)], [.invalidArgument], "items[39]")
        let p0 = try await present(0), p1 = try await present(1), p3 = try await present(3), p4 = try await present(4)
        #expect(p0 == 40 && p1 == 40)
        #expect(p3 == 0, "the invalid batch is all-or-nothing")
        #expect(p4 == 0, "nothing after the failing batch")
        // (c) A client task cancelled while it streams (the RPC is cancelled from outside).
        let batch4 = try batch(4, collection: "h")
        let task = Task {
            await run.caller.call(upsertStream, [batch4], abortAfter: .seconds(30))
        }
        try await Task.sleep(for: .milliseconds(500))
        task.cancel()
        let cancelled = await task.value
        run.cases += 1
        #expect(cancelled.code != nil && cancelled.responses.isEmpty, "\(cancelled)")
        let n4 = try await present(4)
        #expect(n4 == 0 || n4 == 40)
        await run.alive(after: "a cancelled upsert stream")

        // (d) UploadTrainingData aborted after 3 chunks: atomic, the dataset stays as it was.
        let upload = Dpq_V1_TrainingService.Method.UploadTrainingData.descriptor
        try await dpq.uploadTrainingData("u", dataset: "keep", vectors: Array(data.vectors.prefix(10)), labels: data.labels.prefix(10).map { [$0] })
        let chunk = try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "keep"; $0.mode = .append
            $0.vectors = Self.dense(Array(data.vectors.prefix(50))); $0.labels = .with { $0.classIds = .with { $0.ids = Array(data.labels.prefix(50)) } }
        })
        await run.expect("upload aborted after 3 chunks", upload, [chunk, chunk, chunk], aborted, abortAfter: .milliseconds(500))
        let keep = try await dpq.collection("u").datasets.first { $0.name == "keep" }
        #expect(keep?.rows == 10, "an aborted upload changed the dataset: \(String(describing: keep))")
        await run.expect("new dataset upload aborted", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "never"; $0.vectors = Self.dense([data.vectors[0]]); $0.labels = .with { $0.classIds = .with { $0.ids = [data.labels[0]] } }
        })], aborted, abortAfter: .milliseconds(300))
        #expect(try await dpq.collection("u").datasets.contains { $0.name == "never" } == false)

        // (e) ImportModel aborted after half the file: the model does not change.
        let importModel = Dpq_V1_ModelService.Method.ImportModel.descriptor
        let before = [UInt8](try await dpq.exportModel("imp"))
        var other = model
        other[other.count - 8] ^= 0x01   // a different valid model (a weight's low bit)
        await run.expect("import aborted half way", importModel, [try Self.bytes(Dpq_V1_ImportModelRequest.with {
            $0.collection = "imp"; $0.data = Data(other.prefix(other.count / 2))
        })], aborted, abortAfter: .milliseconds(300))
        #expect([UInt8](try await dpq.exportModel("imp")) == before, "an aborted import changed the model")
        await run.expect("import into a new collection aborted", importModel, [try Self.bytes(Dpq_V1_ImportModelRequest.with {
            $0.collection = "fresh"; $0.createIfMissing = true; $0.data = Data(other)
        })], aborted, abortAfter: .milliseconds(300))
        #expect(try await dpq.listCollections().contains { $0.name == "fresh" } == false)
    }
}
