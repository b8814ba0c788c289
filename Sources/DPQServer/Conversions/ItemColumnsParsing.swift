// An upsert batch given as columns (dpq.v1.ItemColumns), validated whole before anything is
// written, with the rules and messages of the per-item form. Field names in errors are only
// built for the error: at bulk-load rates a string per item is measurable.

import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation

extension ItemService {
    func parse(columns k: Dpq_V1_ItemColumns, modelSHA256: String, collection c: CollectionRuntime) throws -> UpsertBatch {
        guard k.numericIds.isEmpty || k.stringIds.isEmpty else {
            throw invalid("columns has both numeric_ids and string_ids: give one id column")
        }
        let n = max(k.numericIds.count, k.stringIds.count)
        guard n > 0 else { throw invalid("columns.numeric_ids and columns.string_ids are empty: at least one item is required") }
        guard n <= limits.maxBatchRows else {
            throw exhausted("columns has \(n) ids, above the limit of \(limits.maxBatchRows) (max_batch_rows)")
        }
        let ids: [ItemID] = k.stringIds.isEmpty
            ? k.numericIds.map { .number($0) }
            : try k.stringIds.enumerated().map { try ItemID(string: $1, field: "columns.string_ids[\($0)]", limits: limits) }
        let labels = try parseLabels(k, count: n, config: c.model)

        let given = [!k.codes.isEmpty, !k.float32Vectors.isEmpty, !k.uint8Vectors.isEmpty].filter { $0 }.count
        guard given == 1 else {
            throw invalid(given == 0 ? "columns has no codes, float32_vectors or uint8_vectors: give one of them"
                                     : "columns has more than one of codes, float32_vectors and uint8_vectors: give one of them")
        }
        let m = c.model
        if !k.codes.isEmpty {
            guard !modelSHA256.isEmpty else {
                throw invalid("model_sha256 is required with codes: the sha256 of the model they were computed with (EncodeResponse.model_sha256)")
            }
            let width = m.blocks * CodeMatrix.bytesPerCode(codebookSize: m.codebookSize)
            guard k.codes.count == n * width else {
                throw invalid("columns.codes has \(k.codes.count) bytes: \(n) items of \(width) bytes each (max_bits \(m.maxBits)) need \(n * width)")
            }
            let bytes = [UInt8](k.codes)
            if let (offset, word) = Self.firstCodeWordTooLarge(bytes, config: m) {
                throw invalid("columns.codes: item \(offset / width), code word \((offset % width) / (width / m.blocks)) is \(word), not below codebook_size \(m.codebookSize)")
            }
            let codes = CodeMatrix(count: n, blocks: m.blocks, bytesPerCode: CodeMatrix.bytesPerCode(codebookSize: m.codebookSize),
                                   bytes: bytes)
            return UpsertBatch(ids: ids, labels: labels, payload: .codes(codes, modelSHA256: modelSHA256.lowercased()))
        }
        let d = m.inputDimension
        var values: [Float]
        if !k.float32Vectors.isEmpty {
            guard k.float32Vectors.count == n * d * 4 else {
                throw invalid("columns.float32_vectors has \(k.float32Vectors.count) bytes: \(n) vectors of input_dimension \(d) need \(n * d * 4)")
            }
            values = [Float](repeating: 0, count: n * d)
            values.withUnsafeMutableBytes { _ = k.float32Vectors.copyBytes(to: $0) }
            #if _endian(big)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw invalid("columns.float32_vectors: item \(bad / d), value \(bad % d) is \(values[bad]); values must be finite")
            }
        } else {
            guard k.uint8Vectors.count == n * d else {
                throw invalid("columns.uint8_vectors has \(k.uint8Vectors.count) bytes: \(n) vectors of input_dimension \(d) need \(n * d)")
            }
            values = k.uint8Vectors.map { Float($0) }
        }
        return UpsertBatch(ids: ids, labels: labels, payload: .vectors(Matrix(rows: n, cols: d, values: values)))
    }

    /// Each item's label set (sorted, without repeats), checked as UpsertItems checks `labels`.
    private func parseLabels(_ k: Dpq_V1_ItemColumns, count n: Int, config: ModelConfig) throws -> [[Int]] {
        let all = k.labels
        func check(_ set: [Int], item i: Int) throws {
            try Validate.labelSet(set, field: "columns.labels of item \(i)", config: config, limits: limits)
        }
        if k.labelCounts.isEmpty {
            if all.isEmpty { return Array(repeating: [], count: n) }
            guard all.count == n else {
                throw invalid("columns.labels has \(all.count) entries for \(n) items: give one label per item, or label_counts")
            }
            return try all.enumerated().map { i, l in
                let set = [Int(l)]
                try check(set, item: i)
                return set
            }
        }
        guard k.labelCounts.count == n else {
            throw invalid("columns.label_counts has \(k.labelCounts.count) entries for \(n) items: give one per item")
        }
        let total = k.labelCounts.reduce(0) { $0 + Int($1) }
        guard total == all.count else {
            throw invalid("columns.label_counts add up to \(total), columns.labels has \(all.count) entries")
        }
        var out: [[Int]] = []
        out.reserveCapacity(n)
        var next = 0
        for (i, count) in k.labelCounts.enumerated() {
            let slice = all[next..<(next + Int(count))]
            next += Int(count)
            let set = count <= 1 ? slice.map(Int.init) : Array(Set(slice.map(Int.init))).sorted()
            try check(set, item: i)
            out.append(set)
        }
        return out
    }

    /// The byte offset and value of the first code word not below the codebook size, if any.
    static func firstCodeWordTooLarge(_ bytes: [UInt8], config m: ModelConfig) -> (Int, Int)? {
        let k = m.codebookSize
        if CodeMatrix.bytesPerCode(codebookSize: k) == 1 {
            guard k < 256, let bad = bytes.firstIndex(where: { Int($0) >= k }) else { return nil }
            return (bad, Int(bytes[bad]))
        }
        for w in stride(from: 0, to: bytes.count, by: 2) where Int(bytes[w]) | Int(bytes[w + 1]) << 8 >= k {
            return (w, Int(bytes[w]) | Int(bytes[w + 1]) << 8)
        }
        return nil
    }
}
