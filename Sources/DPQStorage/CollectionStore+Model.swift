// The model switch. A model is the file model-<g>.safetensors where g is the
// model_generation committed in the database; the database is the single source of truth
// for which file is current. A switch writes the next generation's file first (atomically),
// then, in ONE transaction, stores every re-encoded code and advances the generation. A
// crash before that transaction leaves the old generation with the old codes (the stray
// new file is deleted at the next open); a crash after it leaves the new model with the new
// codes (old files are deleted at the next open). Never a mix.

import Foundation
import GRDB
import DPQEngine

extension CollectionStore {
    static let modelPrefix = "model-"
    static let modelSuffix = ".safetensors"

    func modelPath(_ generation: Int) -> String {
        (directory as NSString).appendingPathComponent("\(Self.modelPrefix)\(generation)\(Self.modelSuffix)")
    }

    /// The committed generation, 0 before the first model.
    public func modelGeneration() throws -> Int {
        try read("read the model generation of '\(config.name)'") { try Self.generation($0) }
    }

    /// The committed model, or nil before the first one. Loaded from disk once per generation.
    public func currentModel() throws -> DPQModel? {
        let generation = try modelGeneration()
        if generation == 0 { return nil }
        if let cached = loadedModel.withLock({ $0 }), cached.generation == generation { return cached.model }
        // Under the commit lock, so that a switch cannot delete the file between reading the
        // generation and loading it.
        return try commitLock.withLock { _ throws in
            let generation = try modelGeneration()
            if let cached = loadedModel.withLock({ $0 }), cached.generation == generation { return cached.model }
            let path = modelPath(generation)
            let model = try storage("cannot load the model of '\(config.name)'") { try DPQModel.load(path) }
            loadedModel.withLock { $0 = (generation, model) }
            return model
        }
    }

    /// Makes `model` current and gives the listed items their new codes, atomically (see the
    /// top of this file). Items not listed keep their codes; ids that no longer exist are
    /// skipped. Sets the state to ready and clears the last error.
    public func commitModel(_ model: DPQModel, recodedItems: [(ItemID, [UInt8])]) throws {
        try config.checkModel(model)
        for (id, code) in recodedItems { try config.checkCode(code, of: id) }
        try commitLock.withLock { _ throws in
            let old = try modelGeneration()
            let next = old + 1
            let path = modelPath(next)
            try storage("cannot write the model of '\(config.name)'") { try model.save(to: path) }
            do {
                try write("switch '\(config.name)' to its new model") { db in
                    guard try Self.generation(db) == old else {
                        throw StorageError.failedPrecondition("collection '\(config.name)': the model changed during the switch")
                    }
                    // Encoded items keep their vectors only when the collection keeps vectors.
                    let keep = config.keepVectors
                    try Self.extractFromSegments(recodedItems.lazy.map(\.0), db)
                    for (id, code) in recodedItems {
                        let (column, value) = Self.column(id)
                        let sql = keep ? "UPDATE items SET code = ? WHERE \(column) = ?" : "UPDATE items SET code = ?, vector = NULL WHERE \(column) = ?"
                        try db.cachedStatement(sql: sql).execute(arguments: [Data(code), value])
                    }
                    try Self.setMeta(db, CollectionSchema.Meta.modelGeneration, String(next))
                    try Self.setMeta(db, CollectionSchema.Meta.state, CollectionState.ready.rawValue)
                    try Self.setMeta(db, CollectionSchema.Meta.lastError, nil)
                }
            } catch {
                // Not committed: the old generation stays current, so its file must go.
                unlink(path)
                throw StorageError.from(error, "commit the model of '\(config.name)'")
            }
            loadedModel.withLock { $0 = (next, model) }
            // The switch is committed; failing to tidy up only leaves files the next open removes.
            try? removeModelFiles(except: next)
        }
    }

    /// Deletes every model file but generation `keep`'s.
    func removeModelFiles(except keep: Int) throws(StorageError) {
        var removed = false
        for name in try DurableFiles.list(directory) where name.hasPrefix(Self.modelPrefix) && name.hasSuffix(Self.modelSuffix) {
            let g = Int(name.dropFirst(Self.modelPrefix.count).dropLast(Self.modelSuffix.count))
            if g != keep {
                try DurableFiles.remove((directory as NSString).appendingPathComponent(name))
                removed = true
            }
        }
        if removed { try DurableFiles.syncDirectory(directory) }
    }
}
