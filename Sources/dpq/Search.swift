// dpq search: the k nearest items of each query at a chosen code length.
import ArgumentParser
import DPQClient
import Foundation

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Search a collection.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @Option(help: "Results per query.") var k = 10
    @Option(help: "Code length in bits (0 = the full code).") var bits = 0
    @Option(help: "Metric: l2 or ip (default: the collection's).") var metric: String?
    @Option(name: .customLong("any-label"), parsing: .singleValue, help: "Only items with one of these labels (repeatable).") var anyLabel: [UInt32] = []
    @Option(help: "Re-score the best k*N candidates with stored originals.") var rescore: Int?
    @Option(help: "Inverted lists to scan per query (0 = every item, the exact answer).") var nprobe = 0

    func run() async throws {
        guard nprobe >= 0 else { throw ValidationError("--nprobe must be >= 0") }
        await DPQCLI.run(client) { dpq in
            let rows = try input.rows()
            let queries = rows.map(\.vector)
            let m: Metric = switch metric { case "ip", "inner_product": .innerProduct; case "l2", "squared_l2": .squaredL2; case nil: .unspecified; default: throw ValidationError("--metric must be l2 or ip") }
            let filter = anyLabel.isEmpty ? nil : anyLabel
            let results = if let bytes = byteRows(queries) {
                try await dpq.search(collection, pixels: bytes, k: k, bits: bits, metric: m, anyOf: filter,
                                     rescoreOversampling: rescore, nprobe: nprobe)
            } else {
                try await dpq.search(collection, queries: queries, k: k, bits: bits, metric: m, anyOf: filter,
                                     rescoreOversampling: rescore, nprobe: nprobe)
            }
            if client.json {
                printJSON(results.map { hits in hits.map { ["id": idJSON($0.id), "score": $0.score, "labels": $0.labels] as [String: Any] } })
                return
            }
            for (q, hits) in results.enumerated() {
                print(rows[q].id.map { "query \(q) (\($0)):" } ?? "query \(q):")
                for h in hits { print("  \(h.id)\t\(h.score)\tlabels \(h.labels.map(String.init).joined(separator: ","))") }
            }
        }
    }
}

func idJSON(_ id: ItemKey) -> Any {
    switch id {
    case .number(let n): return n
    case .string(let s): return s
    }
}
