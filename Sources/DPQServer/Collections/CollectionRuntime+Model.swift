// Model export and import. An import is a model switch like the end of a training: every
// item is re-encoded with the imported model in the same storage transaction.

import DPQEngine
import DPQStorage
import Foundation

extension CollectionRuntime {
    func exportModel() throws -> (data: Data, model: DPQModel) {
        let model = try requireModel()
        return (model.serialized(), model)
    }

    /// Makes `model` current. INVALID_ARGUMENT when it does not fit the collection.
    func importModel(_ model: DPQModel) async throws -> Int {
        let mine = self.model, theirs = model.config
        var problems: [String] = []
        if theirs.inputDimension != mine.inputDimension { problems.append("input_dimension \(theirs.inputDimension) != \(mine.inputDimension)") }
        if theirs.blocks != mine.blocks { problems.append("blocks \(theirs.blocks) != \(mine.blocks)") }
        if theirs.codebookSize != mine.codebookSize { problems.append("codebook_size \(theirs.codebookSize) != \(mine.codebookSize)") }
        if theirs.labelMode != mine.labelMode { problems.append("label_mode \(theirs.labelMode.rawValue) != \(mine.labelMode.rawValue)") }
        if theirs.classCount != mine.classCount { problems.append("num_classes \(theirs.classCount) != \(mine.classCount)") }
        guard problems.isEmpty else {
            throw invalid("data: the model does not fit collection '\(name)': " + problems.joined(separator: ", "))
        }
        return try await writes.run { [self] in
            if let j = job.withLock({ $0 }), !j.isFinished {
                throw precondition_("collection '\(name)' is training (job \(j.id)); cancel it before importing a model")
            }
            let loaded = try store.loadAll()
            let encodedWithoutVectors = loaded.vectors == nil ? loaded.ids.count - loaded.uncoded.count : 0
            if encodedWithoutVectors > 0 {
                throw precondition_("importing a model into '\(name)' must re-encode its \(encodedWithoutVectors) items, which needs their vectors: the collection was created with keep_vectors false")
            }
            let recoded = try recode(loaded, with: model)
            try store.commitModel(model, recodedItems: recoded)
            knownState.withLock { $0 = .ready }
            try noteModelCommitted()
            let index = try makeIndex(model)
            let info = ModelInfo(jobID: "import", trainedAtUnixMs: Int64(Date().timeIntervalSince1970 * 1000),
                                 trainingRows: 0, training: nil, finalLosses: nil, sha256: Digest.sha256Hex(model.serialized()))
            changeServed { $0 = Served(model: model, index: index, info: info, digest: info.sha256) }
            pending.withLock { $0 = 0 }
            try saveStatus()
            return recoded.count
        }
    }
}
