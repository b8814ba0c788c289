// A few queries and their nearest database items at the shortest and the full code length,
// to show what the numbers mean.
import DPQEngine
import Foundation

enum Examples {
    static let fashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    static func describe(model: DPQModel, splits: LabelledSplits, count: Int) throws -> String {
        let names = splits.classCount == 10 && splits.name.contains("fashion") ? fashionNames : (0..<splits.classCount).map { "class \($0)" }
        let codes = try model.encode(splits.database)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: model.codebooks), codebooks: model.codebooks)
        let n = min(count, splits.query.rows)
        let queries = try model.features(splits.query.rowRange(0..<n))
        var out = "\nExample searches (top 5 database items; label of each):\n"
        for m in [1, model.config.blocks] {
            let hits = scanner.search(queries: queries, k: 5, blocks: m, metric: model.config.metric)
            out += "\(m * model.config.bitsPerBlock)-bit codes:\n"
            for q in 0..<n {
                let labels = hits[q].map { names[splits.databaseLabels[$0.index]] }
                out += "  query \(q) (\(names[splits.queryLabels[q]])): " + labels.joined(separator: ", ") + "\n"
            }
        }
        return out
    }
}
