// dpq.v1.ModelService: encode, decode, and the model file streamed out and in.
import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import GRPCCore

struct ModelService: Dpq_V1_ModelService.SimpleServiceProtocol {
    let registry: CollectionRegistry
    var limits: ServerLimits { registry.limits }

    func encode(request: Dpq_V1_EncodeRequest, context: ServerContext) async throws -> Dpq_V1_EncodeResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            guard request.hasVectors else { throw invalid("vectors is required") }
            let vectors = try Validate.vectors(request.vectors, field: "vectors", dimension: c.model.inputDimension, maxRows: limits.maxBatchRows)
            let blocks = try Validate.blocks(bits: request.bits, config: c.model)
            let include = request.includeFeatures
            let (codes, features, digest) = try await onWorkerPool { try c.encode(vectors, blocks: blocks, includeFeatures: include) }
            return .with {
                $0.bits = UInt32(blocks * c.model.bitsPerBlock)
                $0.bytesPerCode = UInt32(codes.bytesPerCode)
                $0.codes = (0..<codes.count).map { i in Data(codes.bytes[(i * codes.bytesPerItem)..<((i + 1) * codes.bytesPerItem)]) }
                if let f = features { $0.features = .with { $0.dimension = UInt32(f.cols); $0.values = f.values } }
                $0.modelSha256 = digest
            }
        }
    }

    func decode(request: Dpq_V1_DecodeRequest, context: ServerContext) async throws -> Dpq_V1_DecodeResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            guard !request.codes.isEmpty else { throw invalid("codes is empty: at least one code is required") }
            guard request.codes.count <= limits.maxBatchRows else {
                throw exhausted("codes has \(request.codes.count) entries, above the limit of \(limits.maxBatchRows) (max_batch_rows)")
            }
            let blocks = try Validate.blocks(bits: request.bits, config: c.model)
            let width = CodeMatrix.bytesPerCode(codebookSize: c.model.codebookSize)
            var bytes: [UInt8] = []
            for (i, code) in request.codes.enumerated() {
                guard code.count == blocks * width else {
                    throw invalid("codes[\(i)] has \(code.count) bytes; \(blocks * c.model.bitsPerBlock) bits need \(blocks * width)")
                }
                bytes.append(contentsOf: code)
            }
            let codes = CodeMatrix(count: request.codes.count, blocks: blocks, bytesPerCode: width, bytes: bytes)
            let out = try c.decode(codes, blocks: blocks)
            return .with {
                $0.bits = UInt32(blocks * c.model.bitsPerBlock)
                $0.vectors = .with { $0.dimension = UInt32(out.cols); $0.values = out.values }
            }
        }
    }

    func exportModel(request: Dpq_V1_ExportModelRequest, response: RPCWriter<Dpq_V1_ExportModelResponse>, context: ServerContext) async throws {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let (data, model) = try c.exportModel()
            let chunk = request.chunkBytes == 0 ? 1 << 20 : max(1024, min(Int(request.chunkBytes), 4 << 20))
            let header = Dpq_V1_ModelFileHeader.with {
                $0.format = "safetensors"
                $0.totalBytes = UInt64(data.count)
                $0.sha256 = Digest.sha256Hex(data)
                $0.summary = ItemConversions.summary(model, info: c.current.info, digest: $0.sha256)
            }
            var offset = 0
            repeat {
                let end = min(offset + chunk, data.count)
                try await response.write(.with {
                    if offset == 0 { $0.header = header }
                    $0.offset = UInt64(offset)
                    $0.data = data.subdata(in: offset..<end)
                })
                offset = end
            } while offset < data.count
        }
    }

    func importModel(request: RPCAsyncSequence<Dpq_V1_ImportModelRequest, any Error>, context: ServerContext) async throws -> Dpq_V1_ImportModelResponse {
        try await RPCErrors.mapping {
            var first: Dpq_V1_ImportModelRequest?
            var data = Data()
            var chunks = 0
            for try await chunk in request {
                if let head = first {
                    // Later chunks may repeat the collection; it must then be the same (documented).
                    if !chunk.collection.isEmpty && chunk.collection != head.collection {
                        throw invalid("chunk \(chunks) names collection '\(chunk.collection)', the stream is for '\(head.collection)'")
                    }
                } else {
                    first = chunk
                }
                chunks += 1
                data.append(chunk.data)
                guard data.count <= limits.maxModelBytes else {
                    throw exhausted("the model is larger than \(limits.maxModelBytes) bytes (max_model_bytes)")
                }
            }
            guard let head = first else { throw invalid("the stream carried no chunk") }
            try Validate.collectionName(head.collection, field: "collection")
            if head.totalBytes != 0 && head.totalBytes != UInt64(data.count) {
                throw invalid("total_bytes is \(head.totalBytes) but \(data.count) bytes arrived (truncated upload)")
            }
            if !head.sha256.isEmpty && head.sha256.lowercased() != Digest.sha256Hex(data) {
                throw invalid("sha256 does not match the received bytes (corrupt upload)")
            }
            let model: DPQModel
            do { model = try DPQModel(serialized: data) } catch { throw invalid("data: \(error)") }
            var created = false
            let c: CollectionRuntime
            if let existing = try? registry.get(head.collection) {
                c = existing
            } else {
                guard head.createIfMissing else { throw notFound("collection '\(head.collection)' does not exist (set create_if_missing)") }
                var config = model.config
                config.metric = try SearchMetric(proto: head.metric, default: config.metric)
                c = try await registry.create(CollectionConfig(name: head.collection, model: config, keepVectors: head.keepVectors))
                created = true
            }
            let encoded = try await c.importModel(model)
            return .with {
                $0.collection = c.name
                $0.created = created
                $0.bytesReceived = UInt64(data.count)
                $0.summary = ItemConversions.summary(model, info: c.current.info, digest: c.current.digest)
                $0.itemsEncoded = UInt64(encoded)
            }
        }
    }
}
