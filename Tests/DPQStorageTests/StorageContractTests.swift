// The storage contract (Sources/DPQStorage/CollectionStorage.swift), one body per behaviour,
// run against SQLite and PostgreSQL alike. SQLite's own tests (CollectionStoreTests,
// ModelSwitchTests, ...) keep checking what only files have: WAL settings, model files, crashes.

import DPQEngine
import DPQStorage
import Foundation
import Testing

extension StorageBackendTests {
    @Suite struct StorageContractTests {
        @Test(arguments: Backend.allCases)
        func itemsRoundTrip(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            let items = (0..<20).map { Fixtures.item(UInt64($0)) }
            try s.upsert(items)
            #expect(try s.count() == 20)
            // Request order, missing ids skipped, repeats repeated.
            let ids: [ItemID] = [items[5].id, .number(999), items[3].id, .string("nope"), items[5].id]
            #expect(try s.get(ids) == [items[5], items[3], items[5]])
            #expect(try s.get([]) == [])
            // Extremes of the id space; a number and a string that look alike are different ids.
            let edge = [StoredItem(id: .number(.max), labels: [], code: [], vector: [0, 0, 0, 0]),
                        StoredItem(id: .string(String(repeating: "é", count: 128)), labels: [9], code: [15, 15, 15, 15], vector: [1, 2, 3, 4]),
                        StoredItem(id: .string("1"), labels: [], code: [], vector: [0, 0, 0, 0]),
                        // Pixel-like values: stored one byte per value, read back exactly.
                        StoredItem(id: .string("pixels"), labels: [], code: [1, 2, 3, 4], vector: [0, 255, 7, 128])]
            try s.upsert(edge)
            #expect(try s.get(edge.map(\.id)) == edge)
            #expect(try s.get([.number(1)]) == [items[1]])
            #expect(try s.count() == 24)
        }

        @Test(arguments: Backend.allCases)
        func overwritesKeepTheirPlaceAndTheLastDuplicateWins(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            let items = (0..<10).map { Fixtures.item(UInt64($0)) }
            try s.upsert(items)
            try s.upsert(items)
            #expect(try s.count() == 10)
            var changed = items[4]
            changed.labels = [7]
            changed.code = [0, 0, 0, 0]
            try s.upsert([changed])
            #expect(try s.get([changed.id]) == [changed])
            #expect(try s.list(pageSize: 100, after: nil).items.map(\.id) == items.map(\.id))
            // One batch naming an id twice: the later entry wins, at the place of the first.
            var a = Fixtures.item(100), b = Fixtures.item(100)
            a.labels = [1]
            b.labels = [2]
            try s.upsert([a, Fixtures.item(101), b])
            #expect(try s.get([.number(100)]) == [b])
            #expect(try s.list(pageSize: 100, after: nil).items.suffix(2).map(\.id) == [.number(100), .number(101)])
        }

        @Test(arguments: Backend.allCases)
        func upsertCountsWhatItDid(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            let pending = StoredItem(id: .string("p"), labels: [], code: [], vector: [1, 2, 3, 4])
            #expect(try s.upsert((0..<5).map { Fixtures.item(UInt64($0)) } + [pending]) == UpsertCounts(inserted: 6))
            // Two existing ids (one of them pending) and two new ones, one new id named twice,
            // one existing id named twice: each id counts once, by its state before the batch.
            var coded = pending
            coded.code = [1, 1, 1, 1]
            let batch = [Fixtures.item(1), coded, Fixtures.item(7), Fixtures.item(8), Fixtures.item(7), Fixtures.item(1)]
            #expect(try s.upsert(batch) == UpsertCounts(inserted: 2, replaced: 2, replacedPending: 1))
            #expect(try s.count() == 8)
            #expect(try s.upsert([coded]) == UpsertCounts(replaced: 1))
        }

        @Test(arguments: Backend.allCases)
        func rowsOfDeletedItemsAreNotReused(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            let items = (0..<6).map { Fixtures.item(UInt64($0)) }
            try s.upsert(items)
            // A cursor just past item 4; then items 4 and 5, the last rows, go and a new item comes:
            // were their rows reused, it would sit at or before the cursor and never be listed.
            let cursor = try #require(try s.list(pageSize: 5, after: nil).next)
            #expect(try s.delete([items[4].id, items[5].id]) == 2)
            let new = Fixtures.item(10)
            try s.upsert([new])
            #expect(try s.list(pageSize: 10, after: cursor).items == [new])
            #expect(try s.list(pageSize: 10, after: nil).items.map(\.id) == items.prefix(4).map(\.id) + [new.id])
        }

        @Test(arguments: Backend.allCases)
        func invalidItemsRejectTheWholeBatch(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            var bad: [StoredItem] = []
            var i = Fixtures.item(1); i.labels = [10]; bad.append(i)                      // label >= classCount
            i = Fixtures.item(1); i.code = [1, 2, 3]; bad.append(i)                        // wrong code length
            i = Fixtures.item(1); i.code = [1, 2, 3, 16]; bad.append(i)                    // code >= K
            i = Fixtures.item(1); i.vector = nil; bad.append(i)                            // keepVectors needs one
            i = Fixtures.item(1); i.vector = [1, 2, 3]; bad.append(i)                      // dimension
            i = Fixtures.item(1); i.vector = [1, .nan, 3, 4]; bad.append(i)                // finite
            i = Fixtures.item(1); i.id = .string(""); bad.append(i)                        // id
            for item in bad {
                #expect(Fixtures.storageError { try s.upsert([Fixtures.item(2), item]) }?.kind == "invalidArgument", "\(item)")
            }
            #expect(try s.count() == 0)
        }

        @Test(arguments: Backend.allCases)
        func vectorsDroppedWithoutKeepVectorsAndTwoByteCodes(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let catalog = try f.open()
            let s = try catalog.createCollection(Fixtures.config("nokeep", keepVectors: false))
            try s.upsert([Fixtures.item(1)])
            var expected = Fixtures.item(1)
            expected.vector = nil
            #expect(try s.get([.number(1)]) == [expected])
            #expect(try s.loadAll().vectors == nil)
            // An item without a code keeps its vector until it is encoded.
            let pending = StoredItem(id: .number(2), labels: [], code: [], vector: [1, 2, 3, 4])
            try s.upsert([pending])
            let loaded = try s.loadAll()
            #expect(loaded.uncoded == [1] && loaded.pendingVectors == Matrix([[1, 2, 3, 4]]))

            let wide = try catalog.createCollection(Fixtures.config("wide", codebookSize: 1024, blocks: 2))
            let item = StoredItem(id: .number(1), labels: [], code: [0xff, 0x03, 0x00, 0x02], vector: [0, 0, 0, 0])
            try wide.upsert([item])
            #expect(try wide.get([.number(1)]) == [item])
            #expect(try wide.loadAll().codes.code(item: 0, block: 0) == 1023)
            let tooBig = StoredItem(id: .number(2), labels: [], code: [0x00, 0x04, 0x00, 0x00], vector: [0, 0, 0, 0])
            #expect(Fixtures.storageError { try wide.upsert([tooBig]) }?.kind == "invalidArgument")
        }

        @Test(arguments: Backend.allCases)
        func deleteListAndLoadAll(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            var items = (0..<103).map { Fixtures.item(UInt64($0)) }
            items[7].code = []                  // added before a model: uncoded
            try s.upsert(items)
            #expect(try s.delete([items[50].id, items[51].id, .number(12345), items[51].id]) == 2)
            #expect(try s.delete([]) == 0)
            #expect(try s.count() == 101)
            let kept = items.enumerated().filter { $0.offset != 50 && $0.offset != 51 }.map(\.element)
            for pageSize in [1, 7, 101, 200] {
                var seen: [StoredItem] = []
                var cursor: Int64? = nil
                var pages = 0
                repeat {
                    let page = try s.list(pageSize: pageSize, after: cursor)
                    #expect(page.items.count <= pageSize)
                    seen += page.items
                    cursor = page.next
                    pages += 1
                } while cursor != nil
                #expect(seen == kept)
                #expect(pages == (101 + pageSize - 1) / pageSize)
            }
            #expect(Fixtures.storageError { _ = try s.list(pageSize: 0, after: nil) }?.kind == "invalidArgument")
            // A position is never reused: an item added after the last was deleted comes last.
            let last = try s.list(pageSize: 101, after: nil)
            #expect(last.next == nil)
            _ = try s.delete([items[102].id])
            try s.upsert([Fixtures.item(500)])
            #expect(try s.list(pageSize: 200, after: nil).items.last == Fixtures.item(500))

            let loaded = try s.loadAll()
            let now = try s.list(pageSize: 1000, after: nil).items
            #expect(Array(loaded.ids) == now.map(\.id))
            #expect((0..<loaded.labels.count).map { loaded.labels.labels(of: $0) } == now.map { Array(Set($0.labels)).sorted() })
            #expect(loaded.uncoded == [7])
            #expect(loaded.codes.count == now.count && loaded.codes.blocks == 4 && loaded.codes.bytesPerCode == 1)
            for (r, item) in now.enumerated() where r != 7 {
                #expect(Array(loaded.codes.bytes[(r * 4)..<(r * 4 + 4)]) == item.code)
            }
            #expect(loaded.vectors == Matrix(now.map { $0.vector! }))
            let other = try StoreFixture(backend)
            let empty = try other.collection().loadAll()
            #expect(empty.ids.isEmpty && empty.codes.count == 0 && empty.vectors?.rows == 0)
        }

        @Test(arguments: Backend.allCases)
        func modelCommitSwitchesModelAndCodesTogether(_ backend: Backend) throws {
            let config = Fixtures.config()
            let f = try StoreFixture(backend)
            let s = try f.collection(config)
            let items = (0..<10).map { Fixtures.item(UInt64($0)) }
            try s.upsert(items)
            #expect(try s.currentModel() == nil)
            #expect(try s.modelGeneration() == 0)

            let m1 = Fixtures.model(config, seed: 1)
            try s.commitModel(m1, recodedItems: items.map { ($0.id, Fixtures.item(0, codeSeed: 1).code) })
            #expect(try s.currentModel() == m1)
            #expect(try s.modelGeneration() == 1)
            #expect(try s.state() == .ready)

            let m2 = Fixtures.model(config, seed: 2)
            try s.setState(.failed, error: "an earlier training failed")
            try s.commitModel(m2, recodedItems: [(items[2].id, [9, 9, 9, 9]), (.number(777), [1, 1, 1, 1])])
            #expect(try s.currentModel() == m2)
            #expect(try s.modelGeneration() == 2)
            #expect(try s.state() == .ready && s.lastError() == nil)
            #expect(try s.get([items[2].id]).first?.code == [9, 9, 9, 9])
            #expect(try s.get([items[3].id]).first?.code == Fixtures.item(0, codeSeed: 1).code)
            #expect(try s.get([items[3].id]).first?.vector == items[3].vector)   // kept: the collection keeps vectors
            #expect(try s.count() == 10)        // a recoded id that does not exist is not created

            // A model of another shape, or a code that does not fit, is refused, and nothing changes.
            var other = config
            other.model.blocks = 2
            #expect(Fixtures.storageError { try s.commitModel(Fixtures.model(other, seed: 3), recodedItems: []) }?.kind == "invalidArgument")
            #expect(Fixtures.storageError { try s.commitModel(m1, recodedItems: [(items[0].id, [1, 2])]) }?.kind == "invalidArgument")
            #expect(try s.modelGeneration() == 2)
            #expect(try s.currentModel() == m2)
        }

        @Test(arguments: Backend.allCases)
        func encodingDropsVectorsWithoutKeepVectors(_ backend: Backend) throws {
            let config = Fixtures.config(keepVectors: false)
            let f = try StoreFixture(backend)
            let s = try f.collection(config)
            let pending = StoredItem(id: .number(1), labels: [], code: [], vector: [1, 2, 3, 4])
            try s.upsert([pending])
            try s.commitModel(Fixtures.model(config, seed: 1), recodedItems: [(.number(1), [1, 2, 3, 4])])
            #expect(try s.get([.number(1)]) == [StoredItem(id: .number(1), labels: [], code: [1, 2, 3, 4], vector: nil)])
            #expect(try s.loadAll().uncoded.isEmpty)
        }

        @Test(arguments: Backend.allCases)
        func trainingData(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            #expect(try s.trainingDataCount() == 0)
            #expect(try s.datasets().isEmpty)
            let a = Matrix(rows: 3, cols: 4, values: (0..<12).map { Float($0) * 0.5 })
            let b = Matrix(rows: 2, cols: 4, values: (0..<8).map { -Float($0) })
            try s.appendTrainingData(vectors: a, labels: [[1], [], [2, 3, 9]])
            try s.appendTrainingData(vectors: b, labels: [])
            #expect(try s.trainingDataCount() == 5)
            let (m, l) = try s.trainingData()
            #expect(m == Matrix(rows: 5, cols: 4, values: a.values + b.values))
            #expect(l == [[1], [], [2, 3, 9], [], []])
            #expect(Fixtures.storageError { try s.appendTrainingData(vectors: Matrix(rows: 1, cols: 3), labels: []) }?.kind == "invalidArgument")
            #expect(Fixtures.storageError { try s.appendTrainingData(vectors: a, labels: [[1]]) }?.kind == "invalidArgument")
            #expect(Fixtures.storageError { try s.appendTrainingData(vectors: a, labels: [[1], [10], [0]]) }?.kind == "invalidArgument")

            // Named datasets; replace drops the earlier rows in the same transaction.
            try s.writeTrainingData(dataset: "Zeta", chunks: [(b, [[4], [5]])], replace: true)
            try s.writeTrainingData(dataset: "alpha", chunks: [(a, []), (b, [])], replace: false)
            try s.writeTrainingData(dataset: "alpha", chunks: [(b, [])], replace: true)
            let infos = try s.datasets()
            #expect(infos.map(\.name) == ["Zeta", "alpha", "default"])
            #expect(infos.map(\.rows) == [2, 2, 5])
            #expect(infos.map(\.labelledRows) == [2, 0, 2])
            #expect(infos[1].bytes == 2 * 4 * 4 + 2 * 4)
            #expect(infos.allSatisfy { $0.updatedAtUnixMs > 0 })
            #expect(try s.trainingData(dataset: "alpha").0 == b)
            #expect(try s.deleteTrainingData(dataset: "alpha"))
            #expect(try !s.deleteTrainingData(dataset: "alpha"))
            try s.clearTrainingData()
            #expect(try s.trainingDataCount() == 0)
            #expect(try s.trainingData().0.rows == 0)
            #expect(try s.datasets().isEmpty)
        }

        @Test(arguments: Backend.allCases)
        func stateAndProgress(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let s = try f.collection()
            #expect(try s.state() == .untrained)
            #expect(try s.lastError() == nil)
            #expect(try s.progress() == nil)
            try s.setState(.training, error: nil)
            try s.saveProgress(Data(#"{"epoch":1}"#.utf8))
            try s.saveProgress(Data(#"{"epoch":2}"#.utf8))
            #expect(try s.progress() == Data(#"{"epoch":2}"#.utf8))
            #expect(Fixtures.storageError { try s.saveProgress(Data([0xff, 0xfe])) }?.kind == "invalidArgument")
            try s.setState(.failed, error: "loss became NaN")
            #expect(try s.state() == .failed)
            #expect(try s.lastError() == "loss became NaN")
            #expect(Fixtures.storageError { try s.setState(.ready, error: nil) }?.kind == "failedPrecondition")
            #expect(try s.state() == .failed)
        }

        @Test(arguments: Backend.allCases)
        func catalogCreatesListsOpensAndDeletes(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let catalog = try f.open()
            #expect(try catalog.listCollections() == [])
            let b = try catalog.createCollection(Fixtures.config("b"))
            _ = try catalog.createCollection(Fixtures.config("a-1"))
            _ = try catalog.createCollection(Fixtures.config("Z"))
            #expect(try catalog.listCollections() == ["Z", "a-1", "b"])
            #expect(Fixtures.storageError { _ = try catalog.createCollection(Fixtures.config("b")) }?.kind == "alreadyExists")
            #expect(Fixtures.storageError { _ = try catalog.createCollection(Fixtures.config("../x")) }?.kind == "invalidArgument")
            #expect(Fixtures.storageError { _ = try catalog.openCollection("nope") }?.kind == "notFound")
            #expect(Fixtures.storageError { _ = try catalog.openCollection("") }?.kind == "invalidArgument")
            #expect(try catalog.openCollection("b") === b)
            #expect(try catalog.openCollection("b").config == Fixtures.config("b").withDate(b.config.createdAt))

            try b.upsert([Fixtures.item(1)])
            try catalog.deleteCollection("b")
            #expect(try catalog.listCollections() == ["Z", "a-1"])
            #expect(Fixtures.storageError { _ = try b.count() }?.kind == "unavailable")
            #expect(Fixtures.storageError { try catalog.deleteCollection("b") }?.kind == "notFound")
            // The name can be used again, for a new, empty collection.
            let again = try catalog.createCollection(Fixtures.config("b"))
            #expect(try again.count() == 0)
            // A second catalog over the same data sees the same collections.
            #expect(try f.open().listCollections() == ["Z", "a-1", "b"])
        }

        @Test(arguments: Backend.allCases)
        func reopeningAfterCloseKeepsEverything(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            let config = Fixtures.config("kept")
            let items = (0..<30).map { Fixtures.item(UInt64($0)) }
            let model = Fixtures.model(config, seed: 4)
            let training = Matrix(rows: 2, cols: 4, values: (0..<8).map(Float.init))
            do {
                let catalog = try f.open()
                let s = try catalog.createCollection(config)
                try s.upsert(items)
                try s.commitModel(model, recodedItems: [(items[0].id, [3, 3, 3, 3])])
                _ = try s.delete([items[1].id])
                try s.appendTrainingData(dataset: "set", vectors: training, labels: [[1], [2]])
                try s.saveProgress(Data(#"{"epoch":3}"#.utf8))
                try s.setState(.training, error: nil)      // a training the "restart" interrupts
                try s.close()
                #expect(Fixtures.storageError { _ = try s.count() }?.kind == "unavailable")
                catalog.close()
            }
            let catalog = try f.open()
            #expect(try catalog.listCollections() == ["kept"])
            let s = try catalog.openCollection("kept")
            #expect(s.config == config)
            var expected = items
            expected[0].code = [3, 3, 3, 3]
            expected.remove(at: 1)
            #expect(try s.list(pageSize: 100, after: nil).items == expected)
            #expect(try s.currentModel() == model)
            #expect(try s.modelGeneration() == 1)
            let (vectors, labels) = try s.trainingData(dataset: "set")
            #expect(vectors == training && labels == [[1], [2]])
            #expect(try s.progress() == Data(#"{"epoch":3}"#.utf8))
            // The interrupted training is repaired at the open: the last good state, and why.
            #expect(try s.state() == .ready)
            #expect(try s.lastError() == "training was interrupted by a restart")
        }

        /// vector_precision float16: kept vectors are written as half floats (2 bytes a value, read
        /// back rounded to nearest), 8-bit pixels still take one byte, a value beyond float16's
        /// range is refused naming it; the config keeps the choice across a reopen, and float16
        /// without keep_vectors is refused.
        @Test(arguments: Backend.allCases)
        func halfPrecisionVectors(_ backend: Backend) throws {
            let f = try StoreFixture(backend)
            var config = Fixtures.config("half")
            config.vectorPrecision = .float16
            let s = try f.collection(config)
            let exact: [Float] = [0.1, -1.0 / 3, 1234.567, 60_000]
            let pixels: [Float] = [0, 17, 128, 255]
            try s.upsert([StoredItem(id: .number(1), labels: [1], code: [1, 2, 3, 4], vector: exact),
                          StoredItem(id: .number(2), labels: [2], code: [4, 3, 2, 1], vector: pixels)])
            let rounded = exact.map { Float(Float16($0)) }
            #expect(rounded != exact, "the test values are not all exact in half precision")
            #expect(try s.get([.number(1)]).first?.vector == rounded)
            #expect(try s.get([.number(2)]).first?.vector == pixels)
            let loaded = try s.loadAll()
            #expect(loaded.vectors?.values == rounded + pixels)
            let tooLarge = Fixtures.storageError {
                try s.upsert([StoredItem(id: .number(3), labels: [], code: [1, 1, 1, 1], vector: [1, 2, 70_000, 4])])
            }
            #expect(tooLarge?.kind == "invalidArgument" && tooLarge?.description.contains("float16") == true,
                    "\(tooLarge.map { "\($0)" } ?? "accepted")")
            #expect(try f.open().openCollection("half").config.vectorPrecision == .float16)
            var unkept = Fixtures.config("unkept", keepVectors: false)
            unkept.vectorPrecision = .float16
            let refused = Fixtures.storageError { _ = try f.collection(unkept) }
            #expect(refused?.kind == "invalidArgument" && refused?.description.contains("vector_precision") == true)
            // A float32 collection's config is written as before (no new key) and reads back float32.
            #expect(!String(decoding: try CollectionConfig.encoder.encode(Fixtures.config("plain")), as: UTF8.self).contains("precision"))
            #expect(Fixtures.config("plain").halfVectors == false && config.halfVectors)
        }
    }
}
