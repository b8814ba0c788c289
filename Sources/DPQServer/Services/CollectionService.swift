// dpq.v1.CollectionService: create, get, list, delete.
import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import GRPCCore

struct CollectionService: Dpq_V1_CollectionService.SimpleServiceProtocol {
    let registry: CollectionRegistry

    func createCollection(request: Dpq_V1_CreateCollectionRequest, context: ServerContext) async throws -> Dpq_V1_CreateCollectionResponse {
        try await RPCErrors.mapping {
            try Validate.collectionName(request.name)
            let limits = registry.limits
            guard request.hasConfig else { throw invalid("config is required (at least config.input_dimension)") }
            var c = request.config
            if c.hasInputShape { c.inputDimension = try ConfigConversions.inputDimension(of: c, limit: limits.maxInputDimension) }
            guard c.inputDimension > 0 else { throw invalid("config.input_dimension is required and must be > 0 (or set config.input_shape)") }
            guard c.inputDimension <= limits.maxInputDimension else {
                throw invalid("config.input_dimension \(c.inputDimension) is above max_input_dimension \(limits.maxInputDimension)")
            }
            let model = try ConfigConversions.model(c)
            let training = try ConfigConversions.training(c.trainingDefaults, over: TrainingConfig(), field: "config.training_defaults")
            let config = CollectionConfig(name: request.name, model: model, training: training, keepVectors: c.keepVectors,
                                          index: try ConfigConversions.partition(c),
                                          vectorPrecision: try ConfigConversions.vectorPrecision(c))
            let runtime = try await registry.create(config)
            let info = (try? await runtime.info()) ?? Dpq_V1_CollectionInfo()
            return .with { $0.collection = info }
        }
    }

    func getCollection(request: Dpq_V1_GetCollectionRequest, context: ServerContext) async throws -> Dpq_V1_GetCollectionResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.name, field: "name")
            let info = (try? await c.info()) ?? Dpq_V1_CollectionInfo()
            return .with { $0.collection = info }
        }
    }

    func listCollections(request: Dpq_V1_ListCollectionsRequest, context: ServerContext) async throws -> Dpq_V1_ListCollectionsResponse {
        try await RPCErrors.mapping {
            var infos: [Dpq_V1_CollectionInfo] = []
            for c in registry.all() {
                do { infos.append(try await c.info()) } catch StorageError.notFound {
                    // Deleted by another server on the same store, and not yet followed here.
                }
            }
            return .with { $0.collections = infos }
        }
    }

    func deleteCollection(request: Dpq_V1_DeleteCollectionRequest, context: ServerContext) async throws -> Dpq_V1_DeleteCollectionResponse {
        try await RPCErrors.mapping {
            guard !request.name.isEmpty else { throw invalid("name is required") }
            let deleted = try await registry.delete(request.name)
            if !deleted && !request.allowMissing { throw notFound("collection '\(request.name)' does not exist") }
            return .with { $0.deleted = deleted }
        }
    }
}
