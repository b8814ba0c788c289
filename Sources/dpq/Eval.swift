// dpq eval: mAP@R and precision@k of the collection's codes for labelled queries, at every code length.
import ArgumentParser
import DPQClient
import Foundation

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate retrieval quality with labelled queries.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @OptionGroup var labelInput: LabelInput
    @Option(name: .customLong("map-r"), help: "R of mAP@R (0 = every item).") var mapR = 0
    @Option(name: .customLong("precision-at"), parsing: .singleValue, help: "k of a precision@k (repeatable).") var precisionAt: [Int] = [100]

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let rows = try input.rows()
            guard let labels = try labelInput.read(rows: rows.count) ?? (rows.allSatisfy { !$0.labels.isEmpty } ? rows.map(\.labels) : nil) else {
                throw ValidationError("eval needs labels: --labels FILE or \"labels\" in the JSON lines")
            }
            let r = try await dpq.evaluate(collection, queries: rows.map(\.vector), labels: labels, mapR: mapR, precisionAt: precisionAt)
            if client.json { printProto(r); return }
            print("| bits | mAP@\(r.mapR) | " + precisionAt.map { "P@\($0)" }.joined(separator: " | ") + " |")
            print("|---|---|" + precisionAt.map { _ in "---|" }.joined())
            for l in r.perLength {
                print("| \(l.bits) | \(String(format: "%.4f", l.map)) | " + l.precision.map { String(format: "%.4f", $0.precision) }.joined(separator: " | ") + " |")
            }
            print("\(r.queries) queries against \(r.databaseItems) items in \(String(format: "%.2f", r.seconds)) s")
        }
    }
}
