// dpq.v1.ItemService: upsert (unary and client stream), get, delete, count, list.
import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import GRPCCore

struct ItemService: Dpq_V1_ItemService.SimpleServiceProtocol {
    /// Batches of an UpsertItemsStream encoded while an earlier one is stored (2 loaded 1M vectors
    /// 1.1x-1.4x faster than 1 and than 3 on 2 cores: docs/benchmarks.md).
    static let preparedAhead = 2
    let registry: CollectionRegistry
    var limits: ServerLimits { registry.limits }

    /// Validates a whole batch before anything is written.
    func parse(_ request: Dpq_V1_UpsertItemsRequest, collection c: CollectionRuntime) throws -> UpsertBatch {
        if request.hasColumns {
            guard request.items.isEmpty else { throw invalid("the batch has both items and columns: give one of them") }
            return try parse(columns: request.columns, modelSHA256: request.modelSha256, collection: c)
        }
        guard !request.items.isEmpty else { throw invalid("items is empty: at least one item is required (or columns)") }
        guard request.items.count <= limits.maxBatchRows else {
            throw exhausted("items has \(request.items.count) entries, above the limit of \(limits.maxBatchRows) (max_batch_rows)")
        }
        // The first item decides what the batch carries: vectors (encoded here) or codes.
        let first = request.items[0]
        let withCodes = !first.hasVector && !first.code.isEmpty
        let d = c.model.inputDimension
        let codeBytes = c.model.blocks * CodeMatrix.bytesPerCode(codebookSize: c.model.codebookSize)
        var ids: [ItemID] = []
        var values: [Float] = []
        var codes: [UInt8] = []  // one code after another
        var labels: [[Int]] = []
        if withCodes { codes.reserveCapacity(request.items.count * codeBytes) } else { values.reserveCapacity(request.items.count * d) }
        for (i, item) in request.items.enumerated() {
            ids.append(try ItemID(proto: item.id, field: "items[\(i)].id", limits: limits))
            if withCodes {
                guard !item.hasVector else {
                    throw invalid("items[\(i)] has a vector, items[0] a code and no vector: a batch carries vectors or codes, not both")
                }
                codes.append(contentsOf: try code(item.code, field: "items[\(i)].code", bytes: codeBytes, config: c.model))
            } else {
                guard item.hasVector else {
                    if !item.code.isEmpty {
                        throw invalid("items[\(i)] has a code and no vector, items[0] a vector: a batch carries vectors or codes, not both")
                    }
                    throw invalid("items[\(i)].vector is required (or, for the whole batch, code with model_sha256)")
                }
                try appendVector(item.vector, field: "items[\(i)].vector", dimension: d, to: &values)
            }
            let set = Array(Set(item.labels.map(Int.init))).sorted()
            try Validate.labelSet(set, field: "items[\(i)].labels", config: c.model, limits: limits)
            labels.append(set)
        }
        if withCodes {
            guard !request.modelSha256.isEmpty else {
                throw invalid("model_sha256 is required with codes: the sha256 of the model they were computed with (EncodeResponse.model_sha256)")
            }
            let matrix = CodeMatrix(count: ids.count, blocks: c.model.blocks,
                                    bytesPerCode: CodeMatrix.bytesPerCode(codebookSize: c.model.codebookSize), bytes: codes)
            return UpsertBatch(ids: ids, labels: labels, payload: .codes(matrix, modelSHA256: request.modelSha256.lowercased()))
        }
        return UpsertBatch(ids: ids, labels: labels, payload: .vectors(Matrix(rows: ids.count, cols: d, values: values)))
    }

    private func appendVector(_ vector: Dpq_V1_Vector, field: String, dimension d: Int, to values: inout [Float]) throws {
        let bytes = vector.uint8Values
        if !bytes.isEmpty {
            guard vector.values.isEmpty else { throw invalid("\(field) has both values and uint8_values: give one of them") }
            guard bytes.count == d else {
                throw invalid("\(field) has \(bytes.count) uint8_values, the collection's input_dimension is \(d)")
            }
            values.append(contentsOf: bytes.map { Float($0) })
        } else {
            guard vector.values.count == d else {
                throw invalid("\(field) has \(vector.values.count) values, the collection's input_dimension is \(d)")
            }
            if let bad = vector.values.firstIndex(where: { !$0.isFinite }) {
                throw invalid("\(field)[\(bad)] is \(vector.values[bad]); values must be finite")
            }
            values.append(contentsOf: vector.values)
        }
    }

    /// A full code of `bytes` bytes whose code words are below the codebook size.
    private func code(_ data: Data, field: String, bytes: Int, config: ModelConfig) throws -> [UInt8] {
        guard data.count == bytes else {
            throw invalid("\(field) has \(data.count) bytes, a full code of this collection has \(bytes) (max_bits \(config.maxBits))")
        }
        let code = [UInt8](data)
        if let (offset, word) = Self.firstCodeWordTooLarge(code, config: config) {
            throw invalid("\(field): code word \(offset / (bytes / config.blocks)) is \(word), not below codebook_size \(config.codebookSize)")
        }
        return code
    }

    func upsertItems(request: Dpq_V1_UpsertItemsRequest, context: ServerContext) async throws -> Dpq_V1_UpsertItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let r = try await c.upsert(try parse(request, collection: c))
            return .with {
                $0.inserted = UInt64(r.inserted); $0.replaced = UInt64(r.replaced)
                $0.encoded = UInt64(r.encoded); $0.itemCount = UInt64(r.itemCount)
            }
        }
    }

    func upsertItemsStream(request: RPCAsyncSequence<Dpq_V1_UpsertItemsRequest, any Error>, context: ServerContext) async throws -> Dpq_V1_UpsertItemsResponse {
        try await RPCErrors.mapping {
            // A pipeline: while batch n is stored, the next `preparedAhead` batches are encoded side
            // by side (each batch is parsed and checked as it arrives).
            // Batches are stored in order, each only after the one before succeeded. When a batch
            // fails (parsing, encoding or storing), the batches before it are stored first and those
            // after it are dropped, so what the stream stored is always the prefix of its batches
            // before the failing one, as without the pipeline.
            try await withThrowingTaskGroup(of: UpsertResult.self) { writing in
                var collection: CollectionRuntime?
                var total = UpsertResult()
                var batches = 0
                var preparing: [Task<UpsertBatch.Prepared, any Error>] = []  // oldest first
                defer { preparing.forEach { $0.cancel() } }
                func add(_ r: UpsertResult) {
                    total.inserted += r.inserted; total.replaced += r.replaced; total.encoded += r.encoded
                    total.itemCount = r.itemCount
                }
                // A batch failed to prepare or to store: nothing after it is stored.
                var batchFailed = false
                // The oldest prepared batch goes to the write queue once the one before it is stored.
                func storeOldest(_ c: CollectionRuntime) async throws {
                    do {
                        let prepared = try await preparing.removeFirst().value
                        if let r = try await writing.next() { add(r) }
                        writing.addTask { try await c.write(prepared) }
                    } catch {
                        batchFailed = true
                        throw error
                    }
                }
                do {
                    for try await batch in request {
                        if collection == nil {
                            collection = try registry.get(batch.collection)
                        } else if !batch.collection.isEmpty && batch.collection != collection!.name {
                            throw invalid("batch \(batches) names collection '\(batch.collection)', the stream is for '\(collection!.name)'")
                        }
                        let c = collection!
                        // Parsed here, so that a malformed batch ends the stream at once.
                        let parsed = try parse(batch, collection: c)
                        preparing.append(Task { try await c.prepare(parsed) })
                        if preparing.count > Self.preparedAhead { try await storeOldest(c) }
                        batches += 1
                    }
                    while let c = collection, !preparing.isEmpty { try await storeOldest(c) }
                    if let r = try await writing.next() { add(r) }
                } catch {
                    // When the failure came from the stream (a batch that does not parse or names
                    // another collection, the client gone), the batches before it are stored, in
                    // order, up to the first that fails; the batch being stored finishes before the
                    // error is answered.
                    if let c = collection {
                        while !batchFailed, !preparing.isEmpty, (try? await storeOldest(c)) != nil {}
                    }
                    _ = try? await writing.next()
                    throw error
                }
                guard batches > 0 else { throw invalid("the stream carried no batch") }
                return Dpq_V1_UpsertItemsResponse.with {
                    $0.inserted = UInt64(total.inserted); $0.replaced = UInt64(total.replaced)
                    $0.encoded = UInt64(total.encoded); $0.itemCount = UInt64(total.itemCount)
                }
            }
        }
    }

    func getItems(request: Dpq_V1_GetItemsRequest, context: ServerContext) async throws -> Dpq_V1_GetItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let ids = try ItemConversions.ids(request.ids, field: "ids", limits: limits)
            if request.withVectors && !c.config.keepVectors {
                throw precondition_("with_vectors: collection '\(c.name)' was created with keep_vectors false")
            }
            let (items, missing) = try await c.get(ids: ids)
            return .with {
                $0.items = items.map { ItemConversions.proto($0, withVector: request.withVectors, withCode: request.withCodes) }
                $0.missingIds = missing.map(\.proto)
            }
        }
    }

    func deleteItems(request: Dpq_V1_DeleteItemsRequest, context: ServerContext) async throws -> Dpq_V1_DeleteItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let ids = try ItemConversions.ids(request.ids, field: "ids", limits: limits)
            let (n, count) = try await c.delete(ids: ids)
            return .with { $0.deleted = UInt64(n); $0.itemCount = UInt64(count) }
        }
    }

    func countItems(request: Dpq_V1_CountItemsRequest, context: ServerContext) async throws -> Dpq_V1_CountItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let filter = request.hasFilter ? Set(request.filter.anyOf.map(Int.init)) : nil
            let count = (try? await c.count(filter: filter)) ?? 0
            return .with { $0.count = UInt64(count) }
        }
    }

    func listItems(request: Dpq_V1_ListItemsRequest, context: ServerContext) async throws -> Dpq_V1_ListItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            if request.withVectors && !c.config.keepVectors {
                throw precondition_("with_vectors: collection '\(c.name)' was created with keep_vectors false")
            }
            let size = request.pageSize == 0 ? limits.defaultPageSize : min(Int(request.pageSize), limits.maxPageSize)
            let filter = request.hasFilter ? Set(request.filter.anyOf.map(Int.init)) : nil
            let (items, next) = try await c.list(pageSize: size, token: request.pageToken, filter: filter)
            return .with {
                $0.items = items.map { ItemConversions.proto($0, withVector: request.withVectors, withCode: request.withCodes) }
                $0.nextPageToken = next
            }
        }
    }
}
