// Search, evaluation, encode and decode against the model being served. Searches and
// evaluations run under the served value's shared lock (`withServed`), so the queries' features
// come from the same model as the index's codes, and writes wait until they finish.

import DPQEngine
import DPQStorage
import Foundation

extension CollectionRuntime {
    /// - nprobe: inverted lists to scan (0 = every item); `probes` in the result is how many were
    ///   (0 when every item was scanned).
    func search(queries: Matrix, k: Int, blocks: Int, metric: SearchMetric, filter: Set<Int>?,
                rescoreOversampling: Int?, nprobe: Int = 0) throws -> (results: [[CodeIndex.Hit]], searched: Int, probes: Int) {
        try withServed { model, index in
            try search(model, index, queries: queries, k: k, blocks: blocks, metric: metric, filter: filter,
                       rescoreOversampling: rescoreOversampling, nprobe: nprobe)
        }
    }

    private func search(_ model: DPQModel, _ index: CodeIndex, queries: Matrix, k: Int, blocks: Int, metric: SearchMetric,
                        filter: Set<Int>?, rescoreOversampling: Int?, nprobe: Int) throws
        -> (results: [[CodeIndex.Hit]], searched: Int, probes: Int) {
        if nprobe > 0, config.partition == ListPartition.none {
            throw invalid("nprobe: collection '\(name)' has no inverted lists (created with index.partition NONE); use nprobe 0")
        }
        let features = try model.checkedFeatures(queries, field: "queries", threads: threads)
        let labelFilter = (filter?.isEmpty ?? true) ? nil : filter
        let probes = index.probes(nprobe, metric: metric)
        guard let over = rescoreOversampling else {
            let hits = try index.search(queries: features, k: k, blocks: blocks, metric: metric, labelFilter: labelFilter,
                                        nprobe: probes, threads: threads)
            return (hits, searchedCount(index, labelFilter), probes)
        }
        guard config.keepVectors, let vectors = index.vectors else {
            throw precondition_("rescore needs the items' original vectors: collection '\(name)' was created with keep_vectors false")
        }
        let candidates = try index.search(queries: features, k: k * over, blocks: blocks, metric: metric, labelFilter: labelFilter,
                                          nprobe: probes, threads: threads)
        var out: [[CodeIndex.Hit]] = []
        for (q, list) in candidates.enumerated() {
            // Exact scores against the candidates' unquantized features, by the engine's brute force.
            let exact = try model.features(vectors.rows(list.compactMap { index.row(of: $0.id) }), threads: threads)
            let best = CodeScanner.exactSearch(queries: features.rowRange(q..<(q + 1)), database: exact, k: k,
                                               metric: metric, threads: 1)[0]
            out.append(best.map { (list[$0.index].id, $0.score, list[$0.index].labels) })
        }
        return (out, searchedCount(index, labelFilter), probes)
    }

    /// A rough count of a plain search's scalar operations (network multiply-adds plus code
    /// bytes scanned), to decide whether it may run inline (WorkerPool.inlineOperationLimit).
    func searchOperations(queries: Int, blocks: Int) -> Int {
        let s = current
        guard let model = s.model else { return 0 }  // answers with an error at once
        let network = model.network?.multiplyAdds ?? 0
        let (perQuery, overflow) = (network + s.count * blocks).multipliedReportingOverflow(by: queries)
        return overflow ? .max : perQuery
    }

    private func searchedCount(_ index: CodeIndex, _ filter: Set<Int>?) -> Int {
        guard let filter else { return index.count }
        // One AND per label word and item on the index's bitsets, no per-item arrays.
        let carries = index.rows(carryingAnyOf: filter)
        return (0..<index.count).reduce(0) { $0 + (carries($1) ? 1 : 0) }
    }

    func evaluate(queries: Matrix, labels: [[Int]], blocks: [Int], mapAt r: Int?, precisionAt ks: [Int],
                  metric: SearchMetric) throws -> (reports: [CodeLengthReport], items: Int, r: Int) {
        try withServed { model, index in
            try evaluate(model, index, queries: queries, labels: labels, blocks: blocks, mapAt: r, precisionAt: ks, metric: metric)
        }
    }

    private func evaluate(_ model: DPQModel, _ index: CodeIndex, queries: Matrix, labels: [[Int]], blocks: [Int], mapAt r: Int?,
                          precisionAt ks: [Int], metric: SearchMetric) throws -> (reports: [CodeLengthReport], items: Int, r: Int) {
        guard index.count > 0, (0..<index.count).contains(where: { !index.labels.labels(of: $0).isEmpty }) else {
            throw precondition_("collection '\(name)' has no encoded item with a label to evaluate against")
        }
        let features = try model.checkedFeatures(queries, field: "queries", threads: threads)
        let queryLabels = Labels(multi: labels, classCount: index.labels.classCount)
        let reports = RetrievalEvaluator.evaluate(
            queries: features, queryLabels: queryLabels, codes: index.codes,
            norms: metric == .squaredL2 ? index.prefixNorms(threads: threads) : nil, codebooks: index.codebooks,
            databaseLabels: index.labels, metric: metric, mapAt: r, precisionAt: ks, recallAt: [], exactNeighbours: nil,
            blocks: blocks, threads: threads)
        return (reports, index.count, min(r ?? index.count, index.count))
    }

    /// Codes of `vectors`, and the digest of the model that computed them.
    func encode(_ vectors: Matrix, blocks: Int, includeFeatures: Bool) throws -> (codes: CodeMatrix, features: Matrix?, digest: String) {
        let s = current
        guard let model = s.model, let digest = s.digest else { throw noModel() }
        let f = try model.checkedFeatures(vectors, field: "vectors", threads: threads)
        return (model.quantizer.encode(f, threads: threads).prefix(blocks), includeFeatures ? f : nil, digest)
    }

    /// Reconstructions in feature space, or in input space without a network (the
    /// standardisation undone, so they compare with the original vectors).
    func decode(_ codes: CodeMatrix, blocks: Int) throws -> Matrix {
        let model = try requireModel()
        let out = try model.decode(codes, blocks: blocks)
        return model.network == nil ? model.standardizer.invert(out) : out
    }
}

extension DPQModel {
    /// The features of `x`, or INVALID_ARGUMENT naming the first row whose feature is not finite:
    /// finite inputs so large that the network overflows on them (found by the hostile-input
    /// suite: FLT_MAX values were reported as "value 3 is -nan", or encoded to a meaningless code).
    func checkedFeatures(_ x: Matrix, field: String, threads: Int, row name: (Int) -> String = { "row \($0)" }) throws -> Matrix {
        let f = try features(x, threads: threads)
        if let bad = f.values.firstIndex(where: { !$0.isFinite }) {
            throw invalid("\(field): \(name(bad / max(f.cols, 1))) is too large for the model (its feature overflows to \(f.values[bad])); scale the values down")
        }
        return f
    }
}
