// Shared fixtures: a fresh temporary data directory per test, a small collection
// configuration, deterministic items and models built without training.

import Foundation
import DPQEngine
@testable import DPQStorage

/// A temporary folder removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("dpq-storage-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Fixtures {
    static let dimension = 4

    /// Input 4-d, M = 4 blocks of K = 16 codewords (one byte per code), 10 classes.
    static func config(_ name: String = "c1", keepVectors: Bool = true, codebookSize: Int = 16, blocks: Int = 4) -> CollectionConfig {
        CollectionConfig(name: name,
                         model: ModelConfig(inputDimension: dimension, hiddenSizes: [8], featureDimension: dimension,
                                            labelMode: .none, classCount: 10, blocks: blocks, codebookSize: codebookSize),
                         keepVectors: keepVectors)
    }

    /// Item n: deterministic labels, code and vector (matches storage-crash-writer's items).
    static func item(_ n: UInt64, codeSeed: UInt64 = 0) -> StoredItem {
        StoredItem(id: n % 3 == 0 ? .string("item-\(n)") : .number(n),
                   labels: [Int(n % 10), Int((n / 10) % 10)],
                   code: (0..<4).map { UInt8((n &* 7 &+ UInt64($0) &* 3 &+ codeSeed) % 16) },
                   vector: (0..<4).map { Float(n) + Float($0) / 4 })
    }

    /// An unsupervised model with random codebooks (no training needed).
    static func model(_ config: CollectionConfig, seed: UInt64) -> DPQModel {
        var r = SeededRandom(seed: seed)
        let m = config.model
        let books = Codebooks(blocks: m.blocks, size: m.codebookSize, dimension: m.quantizedDimension,
                              values: (0..<(m.blocks * m.codebookSize * m.quantizedDimension)).map { _ in r.normal() })
        return DPQModel(config: m, standardizer: Standardizer(identity: m.inputDimension), network: nil,
                        quantizer: ProgressiveQuantizer(codebooks: books, assignment: m.assignment))
    }

    static func storageError(_ body: () throws -> Void) -> StorageError? {
        do { try body(); return nil } catch let e as StorageError { return e } catch { return .unavailable("not a StorageError: \(error)") }
    }
}

extension StorageError {
    /// The case name, e.g. "notFound".
    var kind: String { Mirror(reflecting: self).children.first?.label ?? "" }
}
