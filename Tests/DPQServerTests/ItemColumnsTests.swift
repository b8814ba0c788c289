// Upserts given as columns (ItemColumns): the same items, codes, labels and search answers as the
// per-item form, for codes, float32 vectors and pixels, unary and streamed; every malformed
// column refused by name with nothing written.
@testable import DPQClient
import DPQEngine
import DPQProto
import Foundation
import GRPCCore
import Testing

@Suite struct ItemColumnsTests {
    @Test func columnsStoreWhatItemsStore() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "a", items: 300)  // vectors 0..<300 as item messages
        let db = Clusters.make(300, seed: 3)
        let ids = (0..<300).map { ItemKey.number(UInt64($0)) }
        let expected = try await dpq.getItems("a", ids: ids, withCodes: true).items

        // The same vectors as float32 columns, in one call and in a stream.
        _ = try await dpq.importModel("v", data: try await dpq.exportModel("a"), createIfMissing: true)
        let vectors = ItemColumns(ids: .numbers((0..<300).map { UInt64($0) }), payload: .vectors(db.vectors.flatMap { $0 }),
                                  labels: db.labels)
        let unary = try await dpq.upsert("v", columns: vectors.slice(0..<100))
        #expect(unary.inserted == 100 && unary.encoded == 100 && unary.itemCount == 100)
        let streamed = try await dpq.upsertStream("v", columns: vectors, batchSize: 64)
        #expect(streamed.inserted == 200 && streamed.replaced == 100 && streamed.itemCount == 300)
        #expect(try await dpq.getItems("v", ids: ids, withCodes: true).items == expected)

        // The codes of "a" as code columns into a third copy: same items, same answers.
        _ = try await dpq.importModel("c", data: try await dpq.exportModel("a"), createIfMissing: true)
        let digest = try await dpq.collection("c").model.sha256
        let codes = ItemColumns(ids: .numbers((0..<300).map { UInt64($0) }), payload: .codes(expected.flatMap { [UInt8]($0.code) }),
                                labels: db.labels)
        let loaded = try await dpq.upsertStream("c", columns: codes, modelSHA256: digest, batchSize: 128)
        #expect(loaded.inserted == 300 && loaded.encoded == 300)
        #expect(try await dpq.getItems("c", ids: ids, withCodes: true).items == expected)
        let q = Clusters.make(8, seed: 9)
        let answer = try await dpq.search("a", queries: q.vectors, k: 5, bits: 8)
        #expect(try await dpq.search("c", queries: q.vectors, k: 5, bits: 8) == answer)
        #expect(try await dpq.search("v", queries: q.vectors, k: 5, bits: 8) == answer)
    }

    @Test func pixelsStringIdsAndLabelLists() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        var model = smallModel(classes: 6)
        model.labelMode = .multi
        try await dpq.createCollection("m", inputDimension: 16, model: model, keepVectors: true)
        let pixels = (0..<(3 * 16)).map { UInt8($0 * 5 % 256) }
        // Repeated labels within an item count once; an item may have none.
        let columns = ItemColumns(ids: .strings(["x", "y", "z"]), payload: .pixels(pixels), labelLists: [[5, 1, 5], [], [2]])
        let r = try await dpq.upsert("m", columns: columns)
        #expect(r.inserted == 3 && r.encoded == 0)  // no model yet: stored pending
        let got = try await dpq.getItems("m", ids: [.string("x"), .string("y"), .string("z")], withVectors: true).items
        #expect(got.map(\.labels) == [[1, 5], [], [2]])
        #expect(got.map(\.vector.values) == (0..<3).map { i in pixels[(i * 16)..<((i + 1) * 16)].map { Float($0) } })
        #expect(try await dpq.count("m", anyOf: [5]) == 1)
    }

    @Test func columnsFromItemsAndSlices() throws {
        let items = (0..<5).map { NewItem(id: .number(UInt64($0)), vector: [Float($0), 1], labels: $0 == 2 ? [1, 3] : []) }
        let k = try #require(ItemColumns(items: items))
        #expect(k == ItemColumns(ids: .numbers([0, 1, 2, 3, 4]), payload: .vectors([0, 1, 1, 1, 2, 1, 3, 1, 4, 1]),
                                 labels: [1, 3], labelCounts: [0, 0, 2, 0, 0]))
        #expect(k.slice(2..<4) == ItemColumns(ids: .numbers([2, 3]), payload: .vectors([2, 1, 3, 1]), labels: [1, 3], labelCounts: [2, 0]))
        let single = try #require(ItemColumns(items: [NewItem(id: .string("a"), code: [1, 2], labels: [4]),
                                                      NewItem(id: .string("b"), code: [3, 4], labels: [5])]))
        #expect(single == ItemColumns(ids: .strings(["a", "b"]), payload: .codes([1, 2, 3, 4]), labels: [4, 5]))
        #expect(single.slice(1..<2) == ItemColumns(ids: .strings(["b"]), payload: .codes([3, 4]), labels: [5]))
        // Not one batch of columns: mixed id kinds, mixed payloads, vectors of different lengths.
        #expect(ItemColumns(items: [items[0], NewItem(id: .string("x"), vector: [0, 0])]) == nil)
        #expect(ItemColumns(items: [items[0], NewItem(id: .number(9), pixels: [1, 2])]) == nil)
        #expect(ItemColumns(items: [items[0], NewItem(id: .number(9), vector: [1])]) == nil)
        #expect(ItemColumns(items: []) == nil)
    }

    @Test func columnsThatCannotBeSplitAreRefusedBeforeSending() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await dpq.createCollection("c", inputDimension: 2, model: smallModel())
        let ids = ItemColumns.IDs.numbers([1, 2, 3])
        for bad in [ItemColumns(ids: ids, payload: .vectors([1, 2, 3, 4, 5, 6, 7])),
                    ItemColumns(ids: ids, payload: .vectors([1, 2, 3, 4, 5, 6]), labels: [1, 2]),
                    ItemColumns(ids: ids, payload: .vectors([1, 2, 3, 4, 5, 6]), labels: [1, 2], labelCounts: [1, 0, 2])] {
            await expectCode(.invalidArgument, "columns: ") { try await dpq.upsertStream("c", columns: bad, batchSize: 2) }
        }
        #expect(try await dpq.count("c") == 0)
        let good = try await dpq.upsertStream("c", columns: ItemColumns(ids: ids, payload: .vectors([1, 2, 3, 4, 5, 6]),
                                                                        labels: [1, 2], labelCounts: [1, 0, 1]), batchSize: 2)
        #expect(good.inserted == 3)
    }

    @Test func malformedColumnsAreRefusedByName() async throws {
        let f = try await ServerFixture.start()
        defer { f.removeData() }
        let dpq = f.client
        try await trainedCollection(dpq, name: "a", items: 10)
        _ = try await dpq.importModel("b", data: try await dpq.exportModel("a"), createIfMissing: true)
        let digest = try await dpq.collection("b").model.sha256
        let two = [Float](repeating: 0.5, count: 32)
        func send(_ k: Dpq_V1_ItemColumns, items: [Dpq_V1_Item] = [], sha: String = "") async throws {
            _ = try await dpq.rawUpsert(.with { $0.collection = "b"; $0.columns = k; $0.items = items; $0.modelSha256 = sha })
        }
        func floats(_ v: [Float]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }
        let cases: [(String, Dpq_V1_ItemColumns, [Dpq_V1_Item], String, RPCError.Code)] = [
            ("both items and columns", .with { $0.numericIds = [1]; $0.float32Vectors = floats(two.prefix(16).map { $0 }) },
             [.with { $0.id = .with { $0.num = 2 } }], "", .invalidArgument),
            ("both numeric_ids and string_ids", .with { $0.numericIds = [1]; $0.stringIds = ["a"] }, [], "", .invalidArgument),
            ("numeric_ids and columns.string_ids are empty", .with { $0.float32Vectors = floats(two) }, [], "", .invalidArgument),
            ("columns.string_ids[1] must not be empty", .with { $0.stringIds = ["a", ""]; $0.float32Vectors = floats(two) }, [], "", .invalidArgument),
            ("no codes, float32_vectors or uint8_vectors", .with { $0.numericIds = [1] }, [], "", .invalidArgument),
            ("more than one of codes, float32_vectors", .with { $0.numericIds = [1]; $0.float32Vectors = floats(Array(two.prefix(16))); $0.codes = Data([1, 2, 3]) },
             [], digest, .invalidArgument),
            ("columns.float32_vectors has 124 bytes", .with { $0.numericIds = [1, 2]; $0.float32Vectors = floats(Array(two.prefix(31))) }, [], "", .invalidArgument),
            ("columns.float32_vectors: item 1, value 3 is nan", .with {
                var v = two; v[19] = .nan
                $0.numericIds = [1, 2]; $0.float32Vectors = floats(v)
            }, [], "", .invalidArgument),
            ("columns.uint8_vectors has 15 bytes", .with { $0.numericIds = [1]; $0.uint8Vectors = Data(repeating: 1, count: 15) }, [], "", .invalidArgument),
            ("model_sha256 is required with codes", .with { $0.numericIds = [1]; $0.codes = Data([1, 2, 3]) }, [], "", .invalidArgument),
            ("columns.codes has 5 bytes", .with { $0.numericIds = [1, 2]; $0.codes = Data([1, 2, 3, 4, 5]) }, [], digest, .invalidArgument),
            ("columns.codes: item 1, code word 2 is 16", .with { $0.numericIds = [1, 2]; $0.codes = Data([1, 2, 3, 4, 5, 16]) }, [], digest, .invalidArgument),
            ("columns.labels has 1 entries for 2 items", .with { $0.numericIds = [1, 2]; $0.float32Vectors = floats(two); $0.labels = [1] }, [], "", .invalidArgument),
            ("columns.label_counts has 1 entries for 2 items", .with {
                $0.numericIds = [1, 2]; $0.float32Vectors = floats(two); $0.labels = [1]; $0.labelCounts = [1]
            }, [], "", .invalidArgument),
            ("columns.label_counts add up to 3", .with {
                $0.numericIds = [1, 2]; $0.float32Vectors = floats(two); $0.labels = [1, 2]; $0.labelCounts = [1, 2]
            }, [], "", .invalidArgument),
            ("columns.labels of item 1: label 9 is out of range", .with {
                $0.numericIds = [1, 2]; $0.float32Vectors = floats(two); $0.labels = [1, 9]
            }, [], "", .invalidArgument),
            ("columns.labels of item 0 has 2 labels; label_mode SINGLE", .with {
                $0.numericIds = [1, 2]; $0.float32Vectors = floats(two); $0.labels = [1, 2, 3]; $0.labelCounts = [2, 1]
            }, [], "", .invalidArgument),
            ("above the limit of", .with { $0.numericIds = Array(0..<100_001) }, [], "", .resourceExhausted),
        ]
        for (fragment, k, items, sha, code) in cases {
            await expectCode(code, fragment) { try await send(k, items: items, sha: sha) }
        }
        #expect(try await dpq.count("b") == 0)
    }
}

extension DPQClient {
    /// Any UpsertItems request, as built by the test.
    func rawUpsert(_ request: Dpq_V1_UpsertItemsRequest) async throws -> Dpq_V1_UpsertItemsResponse {
        try await call { try await items.upsertItems(request, options: options(nil)) }
    }
}
