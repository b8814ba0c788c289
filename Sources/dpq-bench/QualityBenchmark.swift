// `dpq-bench quality`: trains ONE progressive model (M = 4, K = 256) and reports mAP over the
// whole database at 8, 16, 24 and 32 bits, against the two-step ablation (network on L_cls
// alone, codebooks fitted afterwards on its frozen features), the network's own float
// features (the ceiling) and four fixed-length models trained one after another.

import DPQEngine
import Foundation

struct QualityRun: Codable {
    var seed: UInt64
    var mapDPQ: [Double]
    var mapTwoStep: [Double]
    var mapSeparate: [Double]
    var mapFloat: Double
    var mapFloatTwoStep: Double
    var precisionAt100: [Double]
    var trainSecondsProgressive: Double
    var trainSecondsSeparate: Double
    var trainSecondsTwoStep: Double
}

struct QualityBenchmark {
    var splits: LabelledSplits
    var model: ModelConfig
    var training: TrainingConfig
    var seeds: Int
    var verbose: Bool
    var ablations = true
    /// With ablations: also the M - 1 fixed-length models (off: the two-step ablation only).
    var fixedLength = true

    func evaluate(_ m: DPQModel, blocks: [Int]? = nil) throws -> (codes: [CodeLengthReport], float: Double) {
        let q = try m.features(splits.query)
        let db = try m.features(splits.database)
        let codes = m.quantizer.encode(db)
        let norms = PrefixNorms(codes: codes, codebooks: m.codebooks)
        let ql = splits.querySet
        let dl = splits.databaseSet
        let reports = RetrievalEvaluator.evaluate(queries: q, queryLabels: ql, codes: codes, norms: norms,
                                                  codebooks: m.codebooks, databaseLabels: dl, metric: m.config.metric,
                                                  mapAt: nil, precisionAt: [100], recallAt: [], exactNeighbours: nil,
                                                  blocks: blocks, threads: ProcessInfo.processInfo.activeProcessorCount)
        let float = RetrievalEvaluator.evaluateFloat(queries: q, queryLabels: ql, database: db, databaseLabels: dl,
                                                     metric: m.config.metric, mapAt: nil, precisionAt: [],
                                                     threads: ProcessInfo.processInfo.activeProcessorCount)
        return (reports, float.map)
    }

    func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = Date()
        let v = try body()
        return (v, Date().timeIntervalSince(start))
    }

    func train(_ config: ModelConfig, _ training: TrainingConfig, label: String) throws -> (DPQModel, Double) {
        let labels = splits.trainSet
        return try timed {
            try Trainer.train(data: splits.train, labels: labels, model: config, training: training) { p in
                if verbose && p.step % 50 == 0 {
                    FileHandle.standardError.write("  [\(label)] \(p.phase.rawValue) epoch \(p.epoch)/\(p.epochs) step \(p.step)/\(p.totalSteps) loss \(p.losses.total)\n".data(using: .utf8)!)
                }
                return true
            }
        }
    }

    func runSeed(_ seed: UInt64, inspect: (DPQModel) throws -> Void = { _ in }) throws -> QualityRun {
        var t = training
        t.seed = seed
        let (model, secs) = try train(self.model, t, label: "dpq seed \(seed)")
        try inspect(model)
        let (reports, float) = try evaluate(model)
        guard ablations else {
            let n = reports.count
            return QualityRun(seed: seed, mapDPQ: reports.map(\.meanAveragePrecision), mapTwoStep: [Double](repeating: 0, count: n),
                              mapSeparate: [Double](repeating: 0, count: n), mapFloat: float, mapFloatTwoStep: 0,
                              precisionAt100: reports.map { $0.precisionAtK[100] ?? 0 }, trainSecondsProgressive: secs,
                              trainSecondsSeparate: 0, trainSecondsTwoStep: 0)
        }
        var two = t
        two.mode = .twoStep
        let (twoModel, twoSecs) = try train(self.model, two, label: "two-step seed \(seed)")
        let (twoReports, twoFloat) = try evaluate(twoModel)
        // Fixed-length models for 1...M-1 blocks; the M-block one is the progressive model itself.
        var separate: [Double] = []
        var separateSecs = secs
        for m in 1..<self.model.blocks where fixedLength {
            var c = self.model
            c.blocks = m
            let (fixed, s) = try train(c, t, label: "fixed \(m) blocks seed \(seed)")
            separateSecs += s
            separate.append(try evaluate(fixed, blocks: [m]).codes[0].meanAveragePrecision)
        }
        if fixedLength { separate.append(reports.last!.meanAveragePrecision) } else { separate = [Double](repeating: 0, count: reports.count) }
        return QualityRun(seed: seed, mapDPQ: reports.map(\.meanAveragePrecision), mapTwoStep: twoReports.map(\.meanAveragePrecision),
                          mapSeparate: separate, mapFloat: float, mapFloatTwoStep: twoFloat,
                          precisionAt100: reports.map { $0.precisionAtK[100] ?? 0 },
                          trainSecondsProgressive: secs, trainSecondsSeparate: separateSecs, trainSecondsTwoStep: twoSecs)
    }
}
