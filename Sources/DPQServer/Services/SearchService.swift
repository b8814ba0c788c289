// dpq.v1.SearchService: batched top-k search at any code length, and evaluation.
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore

struct SearchService: Dpq_V1_SearchService.SimpleServiceProtocol {
    let registry: CollectionRegistry
    var limits: ServerLimits { registry.limits }

    func search(request: Dpq_V1_SearchRequest, context: ServerContext) async throws -> Dpq_V1_SearchResponse {
        try await RPCErrors.mapping {
            let c = try registry.get(request.collection)
            guard request.hasQueries else { throw invalid("queries is required") }
            let queries = try Validate.vectors(request.queries, field: "queries", dimension: c.model.inputDimension,
                                               maxRows: limits.maxSearchQueries, limitName: "max_search_queries")
            guard request.k > 0 else { throw invalid("k must be > 0") }
            guard request.k <= limits.maxK else { throw exhausted("k \(request.k) is above the limit of \(limits.maxK) (max_k)") }
            let blocks = try Validate.blocks(bits: request.bits, config: c.model)
            let metric = try SearchMetric(proto: request.metric, default: c.model.metric)
            var filter: Set<Int>?
            if request.hasFilter {
                guard request.filter.anyOf.count <= limits.maxLabelsPerItem else {
                    throw exhausted("filter.any_of has \(request.filter.anyOf.count) labels, above max_labels_per_item \(limits.maxLabelsPerItem)")
                }
                filter = Set(request.filter.anyOf.map(Int.init))
            }
            var over: Int?
            if request.hasRescore {
                let o = request.rescore.oversampling == 0 ? 4 : Int(request.rescore.oversampling)
                guard o <= limits.maxRescoreOversampling else {
                    throw exhausted("rescore.oversampling \(o) is above the limit of \(limits.maxRescoreOversampling) (max_rescore_oversampling)")
                }
                over = o
            }
            let k = Int(request.k)
            let labelFilter = filter, oversampling = over, nprobe = Int(request.nprobe)
            try await c.prepare(for: metric)
            let work = over == nil && nprobe == 0 ? c.searchOperations(queries: queries.rows, blocks: blocks) : .max
            let (results, searched, probes) = try await onWorkerPool(operations: work) {
                try c.search(queries: queries, k: k, blocks: blocks, metric: metric, filter: labelFilter,
                             rescoreOversampling: oversampling, nprobe: nprobe)
            }
            return .with {
                $0.results = results.map { hits in
                    .with { $0.hits = hits.map { h in .with {
                        $0.id = h.id.proto
                        $0.score = h.score
                        if !request.omitLabels { $0.labels = h.labels.map(UInt32.init) }
                    } } }
                }
                $0.bits = UInt32(blocks * c.model.bitsPerBlock)
                $0.metric = metric.proto
                $0.searchedItems = UInt64(searched)
                $0.nprobe = UInt32(probes)
            }
        }
    }

    func evaluate(request: Dpq_V1_EvaluateRequest, context: ServerContext) async throws -> Dpq_V1_EvaluateResponse {
        try await RPCErrors.mapping {
            let start = Date()
            let c = try registry.get(request.collection)
            guard request.hasQueries else { throw invalid("queries is required") }
            let queries = try Validate.vectors(request.queries, field: "queries", dimension: c.model.inputDimension,
                                               maxRows: limits.maxEvaluateQueries, limitName: "max_evaluate_queries")
            guard let labels = try Validate.rowLabels(request.hasQueryLabels ? request.queryLabels : nil, rows: queries.rows,
                                                      field: "query_labels", config: c.model, limits: limits, required: true) else {
                throw invalid("query_labels is required")
            }
            if let empty = labels.firstIndex(where: { $0.isEmpty }) { throw invalid("query_labels[\(empty)] is empty: every query needs a label") }
            let bits = request.bits.isEmpty ? [UInt32(0)] + [] : request.bits
            var blocks = try bits.enumerated().map { try Validate.blocks(bits: $1, field: "bits[\($0)]", config: c.model) }
            if request.bits.isEmpty { blocks = Array(1...c.model.blocks) }
            blocks = Array(Set(blocks)).sorted()
            for (i, k) in request.precisionAtK.enumerated() {
                guard k > 0 else { throw invalid("precision_at_k[\(i)] must be > 0") }
                guard k <= limits.maxK else { throw exhausted("precision_at_k[\(i)] = \(k) is above the limit of \(limits.maxK) (max_k)") }
            }
            let metric = try SearchMetric(proto: request.metric, default: c.model.metric)
            let ks = request.precisionAtK.map(Int.init)
            let r = request.mapR == 0 ? nil : Int(request.mapR)
            let blocksToRun = blocks
            try await c.prepare(for: metric)
            let (reports, items, usedR) = try await onWorkerPool {
                try c.evaluate(queries: queries, labels: labels, blocks: blocksToRun, mapAt: r, precisionAt: ks, metric: metric)
            }
            return .with {
                $0.perLength = reports.map { rep in .with {
                    $0.bits = UInt32(rep.bits)
                    $0.map = rep.meanAveragePrecision
                    $0.precision = ks.map { k in .with { $0.k = UInt32(k); $0.precision = rep.precisionAtK[k] ?? 0 } }
                } }
                $0.mapR = UInt64(usedR)
                $0.databaseItems = UInt64(items)
                $0.queries = UInt32(queries.rows)
                $0.metric = metric.proto
                $0.seconds = Date().timeIntervalSince(start)
            }
        }
    }
}
