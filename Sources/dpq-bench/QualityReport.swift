// Summaries of the quality runs: means and spreads over seeds, a markdown table and JSON.
import DPQEngine
import Foundation

struct Baselines {
    /// Best faiss mAP (map_all) on raw pixels, and the MLP-probability + PQ two-step, per bit length.
    var bestRaw: [Int: (String, Double)] = [:]
    var mlpProbPQ: [Int: Double] = [:]

    static func load(explicit: String?, dataFolder: String?, name: String) -> Baselines? {
        var path = explicit
        if path == nil, let dataFolder {
            path = URL(fileURLWithPath: dataFolder).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("baselines/\(name).json").path
        }
        guard let path, let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let results = obj["results"] as? [[String: Any]] else { return nil }
        var b = Baselines()
        for r in results {
            guard let bits = r["bits"] as? Int, let map = r["map_all"] as? Double,
                  let method = r["method"] as? String, let features = r["features"] as? String, method != "flat" else { continue }
            if features == "raw", map > (b.bestRaw[bits]?.1 ?? -1) { b.bestRaw[bits] = (method, map) }
            if features == "mlpprob", method == "pq" { b.mlpProbPQ[bits] = map }
        }
        return b
    }
}

struct QualityReport {
    var splits: LabelledSplits
    var model: ModelConfig
    var training: TrainingConfig
    var runs: [QualityRun]
    var baseline: Baselines?

    var bits: [Int] { (1...model.blocks).map { $0 * model.bitsPerBlock } }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
    static func spread(_ v: [Double]) -> Double { (v.max() ?? 0) - (v.min() ?? 0) }
    func column(_ key: (QualityRun) -> [Double], _ i: Int) -> [Double] { runs.map { key($0)[i] } }

    func json() -> String {
        let n = bits.count
        let obj: [String: Any] = [
            "dataset": splits.name,
            "seeds": runs.map(\.seed),
            "bits": bits,
            "map_dpq": (0..<n).map { Self.mean(column(\.mapDPQ, $0)) },
            "map_dpq_spread": (0..<n).map { Self.spread(column(\.mapDPQ, $0)) },
            "map_two_step": (0..<n).map { Self.mean(column(\.mapTwoStep, $0)) },
            "map_two_step_spread": (0..<n).map { Self.spread(column(\.mapTwoStep, $0)) },
            "map_separate": (0..<n).map { Self.mean(column(\.mapSeparate, $0)) },
            "map_float": Self.mean(runs.map(\.mapFloat)),
            "map_float_two_step": Self.mean(runs.map(\.mapFloatTwoStep)),
            "precision_at_100": (0..<n).map { Self.mean(column(\.precisionAt100, $0)) },
            "train_seconds_progressive": Self.mean(runs.map(\.trainSecondsProgressive)),
            "train_seconds_separate": Self.mean(runs.map(\.trainSecondsSeparate)),
            "train_seconds_two_step": Self.mean(runs.map(\.trainSecondsTwoStep)),
            "metric": model.metric.rawValue,
            "runs": runs.map { r in [
                "seed": r.seed, "map_dpq": r.mapDPQ, "map_two_step": r.mapTwoStep, "map_separate": r.mapSeparate,
                "map_float": r.mapFloat, "train_seconds_progressive": r.trainSecondsProgressive,
                "train_seconds_separate": r.trainSecondsSeparate] as [String: Any] },
        ]
        let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }

    func f(_ x: Double) -> String { String(format: "%.4f", x) }

    func table() -> String {
        var out = "DPQ quality on \(splits.name): \(splits.train.rows) train, \(splits.query.rows) queries, \(splits.database.rows) database items\n"
        out += "mAP over the whole database, metric \(model.metric.rawValue), mean (spread) over \(runs.count) seed(s)\n\n"
        var header = "| bits | DPQ (one model) | two-step ablation | fixed-length models |"
        var rule = "|---|---|---|---|"
        if baseline != nil { header += " best faiss on pixels | MLP probs + faiss PQ |"; rule += "---|---|" }
        out += header + "\n" + rule + "\n"
        for (i, b) in bits.enumerated() {
            var line = "| \(b) | \(f(Self.mean(column(\.mapDPQ, i)))) (\(f(Self.spread(column(\.mapDPQ, i))))) | "
            line += "\(f(Self.mean(column(\.mapTwoStep, i)))) (\(f(Self.spread(column(\.mapTwoStep, i))))) | "
            line += "\(f(Self.mean(column(\.mapSeparate, i)))) |"
            if let baseline {
                let raw = baseline.bestRaw[b].map { "\(f($0.1)) (\($0.0))" } ?? "-"
                let mlp = baseline.mlpProbPQ[b].map(f) ?? "-"
                line += " \(raw) | \(mlp) |"
            }
            out += line + "\n"
        }
        out += "\nfloat features of the same network (ceiling): \(f(Self.mean(runs.map(\.mapFloat))))"
        out += "; two-step network's float features: \(f(Self.mean(runs.map(\.mapFloatTwoStep))))\n"
        out += "training seconds: one progressive model \(String(format: "%.1f", Self.mean(runs.map(\.trainSecondsProgressive))))"
        out += ", four fixed-length models one after another \(String(format: "%.1f", Self.mean(runs.map(\.trainSecondsSeparate))))"
        out += ", two-step \(String(format: "%.1f", Self.mean(runs.map(\.trainSecondsTwoStep))))\n"
        return out
    }
}
