// Upserted vectors are encoded before the write queue (CollectionRuntime.prepare) and stored
// there (write). A model committed in between must not leave items with codes of the old model:
// the write encodes them again. And a stream's batches, encoded ahead of the one being stored,
// are stored in order, up to a batch that fails.
import DPQClient
import DPQEngine
@testable import DPQServer
import DPQStorage
import Foundation
import Testing

@Suite struct PreparedUpsertTests {
    @Test func vectorsPreparedUnderAnEarlierModelAreEncodedAgain() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "p", items: 50, keepVectors: true)
        let runtime = try f.server.parts.registry.get("p")
        let v = Clusters.make(20, seed: 9)
        let ids = (0..<20).map { ItemID.number(UInt64(1_000 + $0)) }
        let batch = UpsertBatch(ids: ids, labels: v.labels.map { [Int($0)] }, payload: .vectors(Matrix(v.vectors)))

        let same = try await runtime.prepare(batch)
        let first = runtime.current.digest
        _ = try await runtime.write(same)
        try await expectCodesOfServedModel(dpq, ids: ids, vectors: v.vectors)

        let early = try await runtime.prepare(batch)
        // Another model: trained again with another seed.
        _ = try await dpq.startTraining("p", options: { var o = quickTraining(); o.seed = 8; return o }())
        for try await _ in dpq.watchTraining("p") {}
        #expect(runtime.current.digest != first, "the second training committed a new model")
        guard case .vectors(let p) = early else { Issue.record("vectors prepared as vectors"); return }
        #expect(p.digest == first)
        _ = try await runtime.write(early)
        try await expectCodesOfServedModel(dpq, ids: ids, vectors: v.vectors)
    }

    @Test func streamBatchesAreStoredInOrder() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "s", items: 10, keepVectors: true)
        // The same 30 ids in each of 8 batches with other vectors: the last batch must win.
        let sets = (0..<8).map { Clusters.make(30, seed: UInt64(20 + $0)) }
        let items = sets.flatMap { set in set.vectors.enumerated().map { NewItem(id: .number(UInt64(500 + $0)), vector: $1, labels: [set.labels[$0]]) } }
        let r = try await dpq.upsertStream("s", items: items, batchSize: 30)
        #expect(r.inserted == 30 && r.replaced == 210 && r.itemCount == 40)
        let got = try await dpq.getItems("s", ids: (0..<30).map { .number(UInt64(500 + $0)) }, withVectors: true)
        #expect(got.items.map(\.vector.values) == sets[7].vectors)
    }

    /// A batch that parses but fails to encode (values so large that the network overflows) is
    /// found while later batches are being encoded: the batches before it are stored, it and
    /// those after it are not, and the stream answers INVALID_ARGUMENT naming the problem.
    @Test func aBatchThatFailsToEncodeEndsTheStreamAfterTheBatchesBefore() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "e", items: 10)
        let v = Clusters.make(100, seed: 31)
        var items = v.vectors.enumerated().map { NewItem(id: .number(UInt64(700 + $0)), vector: $1, labels: [v.labels[$0]]) }
        items[45].vector = [Float](repeating: .greatestFiniteMagnitude, count: 16)   // in batch 2 of 0...4
        await expectCode(.invalidArgument, "too large") { _ = try await dpq.upsertStream("e", items: items, batchSize: 20) }
        let before = try await dpq.getItems("e", ids: (0..<40).map { .number(UInt64(700 + $0)) })
        let from = try await dpq.getItems("e", ids: (40..<100).map { .number(UInt64(700 + $0)) })
        #expect(before.items.count == 40 && from.items.isEmpty)
        #expect(try await dpq.collection("e").itemCount == 50)
    }

    private func expectCodesOfServedModel(_ dpq: DPQClient, ids: [ItemID], vectors: [[Float]],
                                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let want = try await dpq.encode("p", vectors: vectors)
        let keys: [ItemKey] = ids.map { if case .number(let n) = $0 { .number(n) } else { .string("\($0)") } }
        let got = try await dpq.getItems("p", ids: keys, withCodes: true)
        #expect(got.items.map { [UInt8]($0.code) } == want, sourceLocation: sourceLocation)
    }

    /// The entries of a batch that count: the last of each id. Ascending numbers take a shortcut
    /// (no id repeats); anything else goes through the dictionary, including a repeat right after
    /// an ascending run.
    @Test func theLastOccurrenceOfEachIdCounts() {
        func rows(_ ids: [ItemID]) -> [Int] { CollectionRuntime.lastOccurrences(ids) }
        #expect(rows([]) == [])
        #expect(rows((0..<5).map { .number(UInt64($0 * 3)) }) == [0, 1, 2, 3, 4])
        #expect(rows([.number(1), .number(2), .number(2)]) == [0, 2])
        #expect(rows([.number(1), .number(5), .number(3), .number(1)]) == [1, 2, 3])
        #expect(rows([.number(9), .number(8)]) == [0, 1])
        #expect(rows([.string("a"), .string("b"), .string("a")]) == [1, 2])
        #expect(rows([.number(1), .string("1"), .number(1)]) == [1, 2])
    }
}
