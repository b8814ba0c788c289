// The validation both stores apply before writing, so that SQLite and PostgreSQL accept and
// refuse exactly the same input with the same messages: items (id, labels, code, vector),
// codes of a model switch, training data, and the shape of a model.

import DPQEngine

extension CollectionConfig {
    /// Throws invalidArgument naming the first item that does not fit this collection.
    package func check(_ item: StoredItem) throws(StorageError) {
        try checkIDAndLabels(item.id, item.labels)
        if !item.code.isEmpty { try checkCode(item.code, of: item.id) }
        if keepVectors || item.code.isEmpty {
            guard let v = item.vector else { throw missingVector(item.id, coded: !item.code.isEmpty) }
            try checkVector(v, of: item.id)
        }
    }

    /// `check` of every item of `batch`, column by column: the same errors, ids and labels first.
    package func check(_ batch: ItemBatch) throws(StorageError) {
        for (id, labels) in zip(batch.ids, batch.labels) { try checkIDAndLabels(id, labels) }
        if let codes = batch.codes {
            guard codes.bytesPerItem == codeBytes else {
                throw StorageError.invalidArgument("item \(batch.ids.first.map { "\($0)" } ?? ""): code has \(codes.bytesPerItem) bytes, the collection's codes have \(codeBytes)")
            }
            // One pass over the whole matrix rather than a check per code.
            if let bad = CodeMatrix.firstCodeNotBelow(model.codebookSize, in: codes.bytes, bytesPerCode: codes.bytesPerCode) {
                throw StorageError.invalidArgument("item \(batch.ids[bad.offset / codes.bytesPerItem]): code \(bad.code) is not below the codebook size \(model.codebookSize)")
            }
        }
        guard (keepVectors || batch.codes == nil), let first = batch.ids.first else { return }
        guard let v = batch.vectors else { throw missingVector(first, coded: batch.codes != nil) }
        for (i, id) in batch.ids.enumerated() { try checkVector(v.row(i), of: id) }
    }

    private func checkIDAndLabels(_ id: ItemID, _ labels: [Int]) throws(StorageError) {
        do { try ItemID.validate(id) } catch let e as StorageError { throw e } catch { throw .from(error, "id") }
        let classes = max(model.classCount, 1)
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw StorageError.invalidArgument("item \(id): label \(bad) is outside 0..<\(classes)")
        }
    }

    private func missingVector(_ id: ItemID, coded: Bool) -> StorageError {
        .invalidArgument("item \(id): \(coded ? "the collection keeps vectors and this item has none" : "an item without a code must keep its vector")")
    }

    private func checkVector(_ v: some Collection<Float>, of id: ItemID) throws(StorageError) {
        guard v.count == model.inputDimension else {
            throw StorageError.invalidArgument("item \(id): vector has dimension \(v.count), the collection expects \(model.inputDimension)")
        }
        if let bad = v.enumerated().first(where: { !$0.element.isFinite }) {
            throw StorageError.invalidArgument("item \(id): vector value \(bad.offset) is \(bad.element), values must be finite")
        }
        if halfVectors, let bad = Self.firstBeyondHalfRange(v) {
            throw StorageError.invalidArgument("item \(id): vector value \(bad.offset) is \(bad.value), beyond float16's range (+-65504) of vector_precision float16")
        }
    }

    /// Throws invalidArgument unless `code` has the collection's length and every code is below K.
    package func checkCode(_ code: [UInt8], of id: ItemID) throws(StorageError) {
        guard code.count == codeBytes else {
            throw StorageError.invalidArgument("item \(id): code has \(code.count) bytes, the collection's codes have \(codeBytes)")
        }
        if let bad = CodeMatrix.firstCodeNotBelow(model.codebookSize, in: code, bytesPerCode: CodeMatrix.bytesPerCode(codebookSize: model.codebookSize)) {
            throw StorageError.invalidArgument("item \(id): code \(bad.code) is not below the codebook size \(model.codebookSize)")
        }
    }

    /// Throws invalidArgument unless a chunk of training data fits this collection.
    package func checkTrainingChunk(_ vectors: Matrix, _ labels: [[Int]]) throws {
        let d = model.inputDimension
        guard vectors.cols == d || vectors.rows == 0 else {
            throw StorageError.invalidArgument("training vectors have dimension \(vectors.cols), the collection expects \(d)")
        }
        guard labels.isEmpty || labels.count == vectors.rows else {
            throw StorageError.invalidArgument("training data has \(vectors.rows) vectors but \(labels.count) label lists")
        }
        if let bad = vectors.values.firstIndex(where: { !$0.isFinite }) {
            throw StorageError.invalidArgument("training vectors: row \(bad / d) column \(bad % d) is \(vectors.values[bad]), values must be finite")
        }
        let classes = max(model.classCount, 1)
        for (r, row) in labels.enumerated() {
            if let bad = row.first(where: { $0 < 0 || $0 >= classes }) {
                throw StorageError.invalidArgument("training labels: row \(r) has label \(bad), outside 0..<\(classes)")
            }
        }
    }

    /// Throws invalidArgument unless `model` has this collection's input dimension, blocks and codebook size.
    package func checkModel(_ model: DPQModel) throws(StorageError) {
        let c = model.config, mine = self.model
        guard c.inputDimension == mine.inputDimension, c.blocks == mine.blocks, c.codebookSize == mine.codebookSize else {
            throw StorageError.invalidArgument("model of '\(name)': the model takes \(c.inputDimension)-dimensional input with \(c.blocks) blocks of \(c.codebookSize) codewords, the collection is configured for \(mine.inputDimension), \(mine.blocks) and \(mine.codebookSize)")
        }
    }
}
