import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct DataDirectoryTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    @Test func createOpenListDelete() throws {
        let dir = try DataDirectory(root: tmp.path)
        #expect(try dir.listCollections() == [])
        let b = try dir.createCollection(Fixtures.config("b"))
        _ = try dir.createCollection(Fixtures.config("a"))
        #expect(try dir.listCollections() == ["a", "b"])
        #expect(try dir.openCollection("b") === b)
        #expect(b.config == Fixtures.config("b").withDate(b.config.createdAt))
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/collections/b/config.json"))
        #expect(FileManager.default.fileExists(atPath: tmp.path + "/collections/b/items.sqlite"))

        #expect(Fixtures.storageError { _ = try dir.createCollection(Fixtures.config("b")) }?.kind == "alreadyExists")
        #expect(Fixtures.storageError { _ = try dir.openCollection("zz") }?.kind == "notFound")
        #expect(Fixtures.storageError { _ = try dir.openCollection("../x") }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try dir.deleteCollection("zz") }?.kind == "notFound")

        try dir.deleteCollection("b")
        #expect(try dir.listCollections() == ["a"])
        #expect(Fixtures.storageError { _ = try dir.openCollection("b") }?.kind == "notFound")
        // The deleted store's handle is closed: it reports unavailable, it does not crash.
        #expect(Fixtures.storageError { _ = try b.count() }?.kind == "unavailable")
        // No trash left behind, and the name can be used again.
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted() == ["collections"])
        _ = try dir.createCollection(Fixtures.config("b"))
        #expect(try dir.openCollection("b").count() == 0)
    }

    @Test func invalidConfigIsNotCreated() throws {
        let dir = try DataDirectory(root: tmp.path)
        for name in ["../x", "", "a/b", String(repeating: "a", count: 65), "."] {
            #expect(Fixtures.storageError { _ = try dir.createCollection(Fixtures.config(name)) }?.kind == "invalidArgument")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path + "/collections") == [])
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/x"))
    }

    @Test func crashLeftoversAreRemovedAtStartUp() throws {
        do {
            let dir = try DataDirectory(root: tmp.path)
            _ = try dir.createCollection(Fixtures.config("keep"))
            dir.close()
        }
        // A delete that crashed after its rename, and a create that crashed before its rename.
        for leftover in [".trash-1234", ".creating-5678"] {
            try FileManager.default.createDirectory(atPath: "\(tmp.path)/\(leftover)/sub", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(tmp.path)/\(leftover)/sub/f"))
        }
        // A collection folder without config.json is not a collection.
        try FileManager.default.createDirectory(atPath: "\(tmp.path)/collections/half", withIntermediateDirectories: true)
        let dir = try DataDirectory(root: tmp.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted() == ["collections"])
        #expect(try dir.listCollections() == ["keep"])
    }

    @Test func reopenAfterCloseKeepsEverything() throws {
        let config = Fixtures.config("persist")
        let model = Fixtures.model(config, seed: 3)
        let items = (0..<50).map { Fixtures.item(UInt64($0)) }
        do {
            let dir = try DataDirectory(root: tmp.path)
            let store = try dir.createCollection(config)
            try store.upsert(items)
            try store.appendTrainingData(vectors: Matrix(rows: 2, cols: 4, values: (0..<8).map(Float.init)), labels: [[1], [2, 3]])
            try store.commitModel(model, recodedItems: [(items[0].id, [1, 2, 3, 4])])
            try store.saveProgress(Data(#"{"epoch":3}"#.utf8))
            dir.close()
        }
        let dir = try DataDirectory(root: tmp.path)
        let store = try dir.openCollection("persist")
        #expect(store.config == config)
        #expect(try store.count() == 50)
        var expected = items
        expected[0].code = [1, 2, 3, 4]
        #expect(try store.get(items.map(\.id)) == expected)
        #expect(try store.currentModel() == model)
        #expect(try store.state() == .ready)
        #expect(try store.trainingDataCount() == 2)
        #expect(try store.trainingData().1 == [[1], [2, 3]])
        #expect(try store.progress() == Data(#"{"epoch":3}"#.utf8))
    }
}

extension CollectionConfig {
    func withDate(_ d: Date) -> CollectionConfig {
        var c = self
        c.createdAt = d
        return c
    }
}
