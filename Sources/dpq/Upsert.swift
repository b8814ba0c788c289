// dpq upsert: add or replace items (bulk loads go over one client stream with a progress bar).
import ArgumentParser
import DPQClient
import Foundation

struct Upsert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Insert or replace items.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @OptionGroup var labelInput: LabelInput
    @Option(name: .customLong("start-id"), help: "Numeric id of the first row (rows without an id get start-id + row).") var startID: UInt64 = 0
    @Option(name: .customLong("batch-size"), help: "Items per stream message.") var batchSize = 1024

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let rows = try input.rows()
            let labels = try labelInput.read(rows: rows.count)
            let items = rows.enumerated().map { i, r in
                NewItem(id: r.id.map { ItemKey.string($0) } ?? .number(startID + UInt64(i)), vector: r.vector,
                        labels: labels?[i] ?? r.labels)
            }
            let bar = ProgressBar(enabled: !client.json && isatty(STDERR_FILENO) == 1 && items.count > batchSize)
            let total = items.count
            let r = try await dpq.upsertStream(collection, items: items, batchSize: batchSize) { sent in
                bar.update(fraction: Double(sent) / Double(total), text: "\(sent)/\(total) items")
            }
            bar.finish()
            if client.json {
                printJSON(["inserted": r.inserted, "replaced": r.replaced, "encoded": r.encoded, "item_count": r.itemCount])
            } else {
                print("inserted \(r.inserted), replaced \(r.replaced), encoded \(r.encoded); \(r.itemCount) items in \(collection)")
            }
        }
    }
}
