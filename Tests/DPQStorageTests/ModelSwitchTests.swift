import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct ModelSwitchTests {
    /// Per test: Swift Testing makes a new suite value for every test, alive until it ends.
    let tmp = TemporaryDirectory()

    func modelFiles(_ store: CollectionStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.directory).filter { $0.hasPrefix("model-") }.sorted()
    }

    @Test func commitSwitchesModelAndCodesTogether() throws {
        let dir = try DataDirectory(root: tmp.path)
        let config = Fixtures.config()
        let s = try dir.createCollection(config)
        let items = (0..<10).map { Fixtures.item(UInt64($0)) }
        try s.upsert(items)
        #expect(try s.currentModel() == nil)
        #expect(try s.modelGeneration() == 0)

        let m1 = Fixtures.model(config, seed: 1)
        try s.commitModel(m1, recodedItems: items.map { ($0.id, Fixtures.item(0, codeSeed: 1).code) })
        #expect(try s.currentModel() == m1)
        #expect(try s.modelGeneration() == 1)
        #expect(try s.state() == .ready)
        #expect(try modelFiles(s) == ["model-1.safetensors"])

        let m2 = Fixtures.model(config, seed: 2)
        try s.commitModel(m2, recodedItems: [(items[2].id, [9, 9, 9, 9]), (.number(777), [1, 1, 1, 1])])
        #expect(try s.currentModel() == m2)
        #expect(try modelFiles(s) == ["model-2.safetensors"])
        #expect(try s.get([items[2].id]).first?.code == [9, 9, 9, 9])
        #expect(try s.get([items[3].id]).first?.code == Fixtures.item(0, codeSeed: 1).code)
        #expect(try s.count() == 10)        // a recoded id that does not exist is not created

        // A model of another shape is refused, and nothing changes.
        var other = config
        other.model.blocks = 2
        #expect(Fixtures.storageError { try s.commitModel(Fixtures.model(other, seed: 3), recodedItems: []) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try s.commitModel(m1, recodedItems: [(items[0].id, [1, 2])]) }?.kind == "invalidArgument")
        #expect(try s.modelGeneration() == 2)
        #expect(try modelFiles(s) == ["model-2.safetensors"])
    }

    /// A crash after the new model file is written but before the transaction: the old model
    /// and the old codes stay, and the stray file is removed at the next open.
    @Test func crashBeforeTheTransactionKeepsTheOldModel() throws {
        let config = Fixtures.config()
        let m1 = Fixtures.model(config, seed: 1), m2 = Fixtures.model(config, seed: 2)
        let items = (0..<10).map { Fixtures.item(UInt64($0)) }
        let path: String
        do {
            let dir = try DataDirectory(root: tmp.path)
            let s = try dir.createCollection(config)
            try s.upsert(items)
            try s.commitModel(m1, recodedItems: [])
            path = s.directory
            // The first step of a switch to m2, then the "crash": the store goes away.
            try m2.save(to: s.modelPath(2))
            // ... and a temporary file of an interrupted model write.
            try Data("partial".utf8).write(to: URL(fileURLWithPath: s.directory + "/.model-3.safetensors.tmp-1-x"))
            try s.close()
        }
        let s = try CollectionStore(directory: path)
        #expect(try s.currentModel() == m1)
        #expect(try s.modelGeneration() == 1)
        #expect(try s.get(items.map(\.id)) == items)
        #expect(try modelFiles(s) == ["model-1.safetensors"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.contains("tmp") } == [])
        // The next switch reuses generation 2 without trouble.
        try s.commitModel(m2, recodedItems: [(items[0].id, [5, 5, 5, 5])])
        #expect(try s.currentModel() == m2)
        #expect(try s.get([items[0].id]).first?.code == [5, 5, 5, 5])
    }

    /// A crash after the transaction but before old files are deleted: the new model is
    /// current and the old file is removed at the next open.
    @Test func crashAfterTheTransactionKeepsTheNewModel() throws {
        let config = Fixtures.config()
        let m1 = Fixtures.model(config, seed: 1), m2 = Fixtures.model(config, seed: 2)
        let path: String
        do {
            let s = try DataDirectory(root: tmp.path).createCollection(config)
            try s.upsert([Fixtures.item(1)])
            try s.commitModel(m1, recodedItems: [])
            try s.commitModel(m2, recodedItems: [(.number(1), [3, 3, 3, 3])])
            // Put back the file the switch deleted, as if it had crashed just before.
            try m1.save(to: s.modelPath(1))
            path = s.directory
            try s.close()
        }
        let s = try CollectionStore(directory: path)
        #expect(try s.currentModel() == m2)
        #expect(try s.get([.number(1)]).first?.code == [3, 3, 3, 3])
        #expect(try modelFiles(s) == ["model-2.safetensors"])
    }

    @Test func interruptedTrainingWithoutModelBecomesUntrained() throws {
        do {
            let dir = try DataDirectory(root: tmp.path)
            let s = try dir.createCollection(Fixtures.config("t"))
            try s.setState(.training, error: nil)
            dir.close()
        }
        let s = try DataDirectory(root: tmp.path).openCollection("t")
        #expect(try s.state() == .untrained)
        #expect(try s.lastError() == "training was interrupted by a restart")
    }

    @Test func interruptedRetrainingWithModelBecomesReady() throws {
        let config = Fixtures.config("t")
        let m1 = Fixtures.model(config, seed: 1)
        do {
            let dir = try DataDirectory(root: tmp.path)
            let s = try dir.createCollection(config)
            try s.commitModel(m1, recodedItems: [])
            try s.setState(.training, error: nil)
            try s.saveProgress(Data("{}".utf8))
            dir.close()
        }
        let s = try DataDirectory(root: tmp.path).openCollection("t")
        #expect(try s.state() == .ready)
        #expect(try s.lastError() == "training was interrupted by a restart")
        #expect(try s.currentModel() == m1)
        // A later successful switch clears the error.
        try s.commitModel(m1, recodedItems: [])
        #expect(try s.lastError() == nil)
    }
}
