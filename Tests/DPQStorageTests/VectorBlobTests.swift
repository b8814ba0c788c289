// Vector blobs: whole numbers 0...255 (8-bit pixels) take one byte per value on disk, anything
// else four; both read back as the same floats, through every read path (get, list, loadAll with
// and without kept vectors, training data), and a blob of neither length is reported as damage.

import Foundation
import GRDB
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct VectorBlobTests {
    let tmp = TemporaryDirectory()

    func store(keepVectors: Bool = true) throws -> CollectionStore {
        try DataDirectory(root: tmp.path + "/" + UUID().uuidString).createCollection(Fixtures.config(keepVectors: keepVectors))
    }

    func blobLengths(_ s: CollectionStore, _ sql: String) throws -> [Int] {
        try s.pool.read { try Int.fetchAll($0, sql: sql) }
    }

    @Test func bytesWhenEveryValueIsAByte() throws {
        #expect(Blobs.vector([0, 1, 255, 17] as [Float]).count == 4)
        for notBytes in [[0, 1, 256, 3], [0, 1.5, 2, 3], [-1, 0, 0, 0], [0, 0, .nan, 0]] as [[Float]] {
            #expect(Blobs.vector(notBytes).count == 16, "\(notBytes)")
        }
        #expect(Blobs.vector(Data([0, 1, 255, 17]), count: 4) == [0, 1, 255, 17])
        #expect(Blobs.vector(Blobs.floats([0.5, 2, 3, 4] as [Float]), count: 4) == [0.5, 2, 3, 4])
        #expect(Blobs.vector(Data(count: 5), count: 4) == nil)

        for keep in [true, false] {
            let s = try store(keepVectors: keep)
            let pixels = StoredItem(id: .number(1), labels: [1], code: [], vector: [0, 12, 255, 7])
            let floats = StoredItem(id: .string("f"), labels: [2], code: [], vector: [0.25, 12, 255, 7])
            try s.upsert([pixels, floats])
            #expect(try blobLengths(s, "SELECT length(vector) FROM items ORDER BY rowid") == [4, 16])
            #expect(try s.get([.number(1), .string("f")]).map(\.vector) == [pixels.vector, floats.vector])
            #expect(try s.list(pageSize: 10, after: nil).items.map(\.vector) == [pixels.vector, floats.vector])
            // Pending items (no code yet) come back through loadAll either way.
            let loaded = try s.loadAll()
            #expect((loaded.vectors ?? loaded.pendingVectors)?.values == pixels.vector! + floats.vector!)
        }

        let s = try store()
        let rows = Matrix([[1, 2, 3, 4], [200, 0, 9, 255]])
        try s.appendTrainingData(vectors: rows, labels: [[1], [2]])
        try s.appendTrainingData(vectors: Matrix([[0.5, 1, 2, 3]]), labels: [[3]])
        #expect(try blobLengths(s, "SELECT length(vectors) FROM training_data ORDER BY chunk") == [8, 16])
        let (back, labels) = try s.trainingData()
        #expect(back.values == rows.values + [0.5, 1, 2, 3] && labels == [[1], [2], [3]])
    }

    @Test func aBlobOfNeitherLengthIsDamage() throws {
        let s = try store()
        try s.upsert([StoredItem(id: .number(1), labels: [1], code: [1, 2, 3, 4], vector: [1, 2, 3, 4])])
        try s.pool.write { try $0.execute(sql: "UPDATE items SET vector = x'0102030405'") }
        #expect(Fixtures.storageError { _ = try s.loadAll() }?.kind == "failedPrecondition")
        try s.appendTrainingData(vectors: Matrix([[1, 2, 3, 4]]), labels: [[1]])
        try s.pool.write { try $0.execute(sql: "UPDATE training_data SET vectors = x'010203'") }
        #expect(Fixtures.storageError { _ = try s.trainingData() }?.kind == "failedPrecondition")
    }
}
