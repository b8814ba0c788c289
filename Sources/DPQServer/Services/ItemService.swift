// dpq.v1.ItemService: upsert (unary and client stream), get, delete, count, list.
import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import Foundation
import GRPCCore

struct ItemService: Dpq_V1_ItemService.SimpleServiceProtocol {
    let registry: CollectionRegistry
    var limits: ServerLimits { registry.limits }

    /// Validates a whole batch before anything is written.
    func parse(_ request: Dpq_V1_UpsertItemsRequest, collection c: CollectionRuntime) throws -> ([ItemID], Matrix, [[Int]]) {
        guard !request.items.isEmpty else { throw invalid("items is empty: at least one item is required") }
        guard request.items.count <= limits.maxBatchRows else {
            throw exhausted("items has \(request.items.count) entries, above the limit of \(limits.maxBatchRows) (max_batch_rows)")
        }
        let d = c.model.inputDimension
        var ids: [ItemID] = []
        var values: [Float] = []
        var labels: [[Int]] = []
        values.reserveCapacity(request.items.count * d)
        for (i, item) in request.items.enumerated() {
            ids.append(try ItemID(proto: item.id, field: "items[\(i)].id", limits: limits))
            guard item.hasVector else { throw invalid("items[\(i)].vector is required") }
            let bytes = item.vector.uint8Values
            if !bytes.isEmpty {
                guard item.vector.values.isEmpty else {
                    throw invalid("items[\(i)].vector has both values and uint8_values: give one of them")
                }
                guard bytes.count == d else {
                    throw invalid("items[\(i)].vector has \(bytes.count) uint8_values, the collection's input_dimension is \(d)")
                }
                values.append(contentsOf: bytes.map { Float($0) })
            } else {
                guard item.vector.values.count == d else {
                    throw invalid("items[\(i)].vector has \(item.vector.values.count) values, the collection's input_dimension is \(d)")
                }
                if let bad = item.vector.values.firstIndex(where: { !$0.isFinite }) {
                    throw invalid("items[\(i)].vector[\(bad)] is \(item.vector.values[bad]); values must be finite")
                }
                values.append(contentsOf: item.vector.values)
            }
            let set = Array(Set(item.labels.map(Int.init))).sorted()
            try Validate.labelSet(set, field: "items[\(i)].labels", config: c.model, limits: limits)
            labels.append(set)
        }
        return (ids, Matrix(rows: ids.count, cols: d, values: values), labels)
    }

    func upsertItems(request: Dpq_V1_UpsertItemsRequest, context: ServerContext) async throws -> Dpq_V1_UpsertItemsResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            let (ids, vectors, labels) = try parse(request, collection: c)
            let r = try await c.upsert(ids: ids, vectors: vectors, labels: labels)
            return .with {
                $0.inserted = UInt64(r.inserted); $0.replaced = UInt64(r.replaced)
                $0.encoded = UInt64(r.encoded); $0.itemCount = UInt64(r.itemCount)
            }
        }
    }

    func upsertItemsStream(request: RPCAsyncSequence<Dpq_V1_UpsertItemsRequest, any Error>, context: ServerContext) async throws -> Dpq_V1_UpsertItemsResponse {
        try await RPCErrors.mapping {
            var collection: CollectionRuntime?
            var total = UpsertResult()
            var batches = 0
            for try await batch in request {
                if collection == nil {
                    collection = try registry.get(batch.collection)
                } else if !batch.collection.isEmpty && batch.collection != collection!.name {
                    throw invalid("batch \(batches) names collection '\(batch.collection)', the stream is for '\(collection!.name)'")
                }
                let (ids, vectors, labels) = try parse(batch, collection: collection!)
                let r = try await collection!.upsert(ids: ids, vectors: vectors, labels: labels)
                total.inserted += r.inserted; total.replaced += r.replaced; total.encoded += r.encoded
                total.itemCount = r.itemCount
                batches += 1
            }
            guard batches > 0 else { throw invalid("the stream carried no batch") }
            return .with {
                $0.inserted = UInt64(total.inserted); $0.replaced = UInt64(total.replaced)
                $0.encoded = UInt64(total.encoded); $0.itemCount = UInt64(total.itemCount)
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
