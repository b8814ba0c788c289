// What a collection is, fixed when it is created and stored as its config.json: its name,
// the shape of its model, how it trains, and whether raw vectors are kept (needed to
// re-encode items after a retraining). Validation happens here so that a collection on disk
// always has a valid configuration.

import Foundation
import DPQEngine

public struct CollectionConfig: Codable, Sendable, Equatable {
    public var name: String
    public var model: ModelConfig
    /// Defaults for the collection's trainings; a training request may override them.
    public var training: TrainingConfig
    /// Whether items keep their input vectors, which retraining needs to re-encode them.
    public var keepVectors: Bool
    public var createdAt: Date
    /// The inverted lists searches with nprobe use; nil (configs written before they existed)
    /// means `ListPartition.automatic`.
    public var index: ListPartition?
    /// How kept vectors are written (Blobs.vector); nil (configs written before it existed) is
    /// float32. Readers take every layout whatever this says.
    public var vectorPrecision: VectorPrecision?

    public init(name: String, model: ModelConfig, training: TrainingConfig = TrainingConfig(),
                keepVectors: Bool = true, createdAt: Date = Date(), index: ListPartition = .automatic,
                vectorPrecision: VectorPrecision = .float32) {
        self.name = name
        self.model = model
        self.training = training
        self.keepVectors = keepVectors
        self.createdAt = createdAt
        self.index = index
        self.vectorPrecision = vectorPrecision == .float32 ? nil : vectorPrecision
    }

    /// Whether kept vectors are written in half precision.
    public var halfVectors: Bool { keepVectors && vectorPrecision == .float16 }

    /// The index of the first value that half precision cannot hold (beyond +-65504), if any.
    public static func firstBeyondHalfRange(_ values: some Collection<Float>) -> (offset: Int, value: Float)? {
        let limit = Float(Float16.greatestFiniteMagnitude)
        return values.enumerated().first { $0.element.isFinite && abs($0.element) > limit }.map { ($0.offset, $0.element) }
    }

    /// The partition in force (the default for configs that do not name one).
    public var partition: ListPartition { index ?? .automatic }

    /// Throws invalidArgument naming the first problem: the name, the model or the training.
    public func validate() throws {
        try CollectionName.validate(name)
        if let p = model.problems().first { throw StorageError.invalidArgument("model: \(p)") }
        if let p = training.problems().first { throw StorageError.invalidArgument("training: \(p)") }
        try partition.validate()
        if vectorPrecision == .float16 && !keepVectors {
            throw StorageError.invalidArgument("vector_precision: float16 applies to kept vectors; set keep_vectors too (or leave vector_precision unset)")
        }
    }

    /// The precision of kept vectors on disk.
    public enum VectorPrecision: String, Codable, Sendable {
        case float32, float16
    }

    /// Bytes of one item's code under this configuration.
    public var codeBytes: Int { model.blocks * CodeMatrix.bytesPerCode(codebookSize: model.codebookSize) }

    // The date is stored as seconds since 2001 (Foundation's native form) so that a config
    // read back is equal to the one written, to the last bit.
    package static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }()

    package static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()
}

/// Collection names are also folder names. The API's rule, ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$,
/// can never form '.', '..' or a path separator (the first character is a letter or digit),
/// nor start like an option or like the storage layer's own hidden folders.
public enum CollectionName {
    public static let maxLength = 64

    /// Throws invalidArgument unless `name` is 1...64 characters of [A-Za-z0-9_.-] starting
    /// with a letter or digit.
    public static func validate(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw StorageError.invalidArgument("collection name must not be empty") }
        guard bytes.count <= maxLength else {
            throw StorageError.invalidArgument("collection name is \(bytes.count) characters long, at most \(maxLength) are allowed")
        }
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        guard alnum(bytes[0]) else {
            throw StorageError.invalidArgument("collection name '\(name)' must start with a letter or a digit")
        }
        guard bytes.allSatisfy({ alnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }) else {
            throw StorageError.invalidArgument("collection name '\(name)' may only contain letters, digits, '_', '.' and '-'")
        }
    }
}
