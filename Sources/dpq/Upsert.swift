// dpq upsert: add or replace items. Bulk loads go over client streams of `--stream-batches`
// messages each, with a progress bar: `--timeout` is the deadline of each stream, so a load of
// any size never runs into one deadline for the whole of it (a 64,000-item load used to take
// its whole 60 s on a busy 2-core machine and fail at the end).
import ArgumentParser
import DPQClient
import DPQProto
import Foundation

struct Upsert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Insert or replace items.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @OptionGroup var labelInput: LabelInput
    @Option(name: .customLong("start-id"), help: "Numeric id of the first row (rows without an id get start-id + row).") var startID: UInt64 = 0
    @Option(name: .customLong("batch-size"), help: "Items per stream message.") var batchSize = 1024
    @Option(name: .customLong("stream-batches"), help: "Messages per stream; each stream has its own --timeout deadline.")
    var streamBatches = 8

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let rows = try input.rows()
            let labels = try labelInput.read(rows: rows.count)
            let bytes = byteRows(rows.map(\.vector))
            let items = rows.enumerated().map { i, r in
                let id = r.id.map { ItemKey.string($0) } ?? .number(startID + UInt64(i))
                return bytes.map { NewItem(id: id, pixels: $0[i], labels: labels?[i] ?? r.labels) }
                    ?? NewItem(id: id, vector: r.vector, labels: labels?[i] ?? r.labels)
            }
            let bar = ProgressBar(enabled: !client.json && isatty(STDERR_FILENO) == 1 && items.count > batchSize)
            let total = items.count
            guard batchSize >= 1, streamBatches >= 1 else {
                throw ValidationError("--batch-size and --stream-batches must be at least 1")
            }
            let perStream = batchSize * streamBatches
            var r = Dpq_V1_UpsertItemsResponse()
            for start in stride(from: 0, to: max(total, 1), by: perStream) {
                let part = Array(items[start..<min(start + perStream, total)])
                let acked = try await dpq.upsertStream(collection, items: part, batchSize: batchSize) { sent in
                    bar.update(fraction: Double(start + sent) / Double(total), text: "\(start + sent)/\(total) items")
                }
                r.inserted += acked.inserted
                r.replaced += acked.replaced
                r.encoded += acked.encoded
                r.itemCount = acked.itemCount
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
