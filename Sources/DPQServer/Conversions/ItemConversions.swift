// proto <-> storage item ids and items.

import DPQEngine
import DPQProto
import DPQStorage
import DPQServerSupport
import Foundation

extension ItemID {
    init(proto: Dpq_V1_ItemId, field: String, limits: ServerLimits) throws {
        switch proto.kind {
        case .num(let n)?: self = .number(n)
        case .str(let s)?: self = try ItemID(string: s, field: "\(field).str", limits: limits)
        case nil: throw invalid("\(field) is required: set num or str")
        }
    }

    /// A string id, checked: not empty, at most max_item_id_bytes, and the storage layer's rules.
    init(string s: String, field: @autoclosure () -> String, limits: ServerLimits) throws {
        guard !s.isEmpty else { throw invalid("\(field()) must not be empty") }
        guard s.utf8.count <= limits.maxItemIdBytes else {
            throw invalid("\(field()) is \(s.utf8.count) bytes, above max_item_id_bytes \(limits.maxItemIdBytes)")
        }
        self = .string(s)
        do { try ItemID.validate(self) } catch { throw invalid("\(field()): \(error)") }
    }

    var proto: Dpq_V1_ItemId {
        switch self {
        case .number(let n): return .with { $0.num = n }
        case .string(let s): return .with { $0.str = s }
        }
    }
}

enum ItemConversions {
    static func ids(_ ids: [Dpq_V1_ItemId], field: String, limits: ServerLimits) throws -> [ItemID] {
        guard !ids.isEmpty else { throw invalid("\(field) is empty: at least one id is required") }
        guard ids.count <= limits.maxBatchRows else {
            throw exhausted("\(field) has \(ids.count) ids, above the limit of \(limits.maxBatchRows) (max_batch_rows)")
        }
        return try ids.enumerated().map { try ItemID(proto: $1, field: "\(field)[\($0)]", limits: limits) }
    }

    static func proto(_ item: StoredItem, withVector: Bool, withCode: Bool) -> Dpq_V1_Item {
        .with {
            $0.id = item.id.proto
            $0.labels = item.labels.map(UInt32.init)
            if withVector, let v = item.vector { $0.vector = .with { $0.values = v } }
            if withCode { $0.code = Data(item.code) }
        }
    }

    /// - digest: the model file's sha256, set even when `info` (how the model came to be) is unknown.
    static func summary(_ model: DPQModel, info: ModelInfo?, digest: String?) -> Dpq_V1_ModelSummary {
        let c = model.config
        return .with {
            $0.inputDimension = UInt32(c.inputDimension)
            $0.quantizedDimension = UInt32(c.quantizedDimension)
            $0.blocks = UInt32(c.blocks)
            $0.codebookSize = UInt32(c.codebookSize)
            $0.bitsPerBlock = UInt32(c.bitsPerBlock)
            $0.maxBits = UInt32(c.maxBits)
            $0.supportedBits = (1...c.blocks).map { UInt32($0 * c.bitsPerBlock) }
            $0.bytesPerCode = UInt32(CodeMatrix.bytesPerCode(codebookSize: c.codebookSize))
            $0.parameterCount = UInt64(model.safeTensors().tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) })
            $0.config = ConfigConversions.protoModel(c)
            if let info {
                $0.trainedByJob = info.jobID
                $0.trainedAtUnixMs = info.trainedAtUnixMs
                $0.trainingRows = UInt64(info.trainingRows)
                if let t = info.training { $0.trainedWith = ConfigConversions.protoTraining(t) }
                if let l = info.finalLosses { $0.finalLosses = ConfigConversions.protoLosses(l) }
                $0.sha256 = info.sha256
            }
            if let digest { $0.sha256 = digest }
        }
    }
}

/// What is known about how a model came to be, kept next to it in the collection's metadata.
struct ModelInfo: Codable, Sendable {
    var jobID: String
    var trainedAtUnixMs: Int64
    var trainingRows: Int
    var training: TrainingConfig?
    var finalLosses: LossTerms?
    var sha256: String
}
