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
    @Option(help: ArgumentHelp("Items as codes instead of vectors: a file of full-length hex codes, one per line, as `dpq encode` prints them.",
                               discussion: "For bulk loads of codes computed elsewhere with the collection's model; needs --model-sha256 and a collection created with keep_vectors false."))
    var codes: String?
    @Option(name: .customLong("model-sha256"), help: "With --codes: the sha256 of the model that computed them (`dpq info` prints it).")
    var modelSHA256: String?

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let items = try readItems()
            let modelSHA256 = self.modelSHA256
            let bar = ProgressBar(enabled: !client.json && isatty(STDERR_FILENO) == 1 && items.count > batchSize)
            let total = items.count
            guard batchSize >= 1, streamBatches >= 1 else {
                throw ValidationError("--batch-size and --stream-batches must be at least 1")
            }
            let perStream = batchSize * streamBatches
            var r = Dpq_V1_UpsertItemsResponse()
            for start in stride(from: 0, to: max(total, 1), by: perStream) {
                let part = Array(items[start..<min(start + perStream, total)])
                let progress: @Sendable (Int) -> Void = { sent in
                    bar.update(fraction: Double(start + sent) / Double(total), text: "\(start + sent)/\(total) items")
                }
                // As columns (a few arrays per message) unless the ids mix numbers and strings.
                let acked = if let columns = ItemColumns(items: part) {
                    try await dpq.upsertStream(collection, columns: columns, modelSHA256: modelSHA256, batchSize: batchSize, progress: progress)
                } else {
                    try await dpq.upsertStream(collection, items: part, modelSHA256: modelSHA256, batchSize: batchSize, progress: progress)
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

    private func readItems() throws -> [NewItem] {
        if let codes {
            guard !input.isGiven else { throw ValidationError("give --codes or vectors (--file, --images, --vector), not both") }
            guard modelSHA256 != nil else { throw ValidationError("--codes needs --model-sha256 (the model's sha256, as `dpq info` prints it)") }
            let text = try String(contentsOfFile: codes, encoding: .utf8)
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let labels = try labelInput.read(rows: lines.count)
            return try lines.enumerated().map { i, line in
                NewItem(id: .number(startID + UInt64(i)), code: try hexBytes(line, what: "\(codes) line \(i + 1)"), labels: labels?[i] ?? [])
            }
        }
        guard modelSHA256 == nil else { throw ValidationError("--model-sha256 applies to --codes only") }
        let rows = try input.rows()
        let labels = try labelInput.read(rows: rows.count)
        let bytes = byteRows(rows.map(\.vector))
        return rows.enumerated().map { i, r in
            let id = r.id.map { ItemKey.string($0) } ?? .number(startID + UInt64(i))
            return bytes.map { NewItem(id: id, pixels: $0[i], labels: labels?[i] ?? r.labels) }
                ?? NewItem(id: id, vector: r.vector, labels: labels?[i] ?? r.labels)
        }
    }
}
