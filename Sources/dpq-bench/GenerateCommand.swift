// `dpq-bench generate`: writes a large collection straight into a data directory, for measuring
// what a server holding it costs (load and restart time, resident memory, disk, search latency)
// without waiting for the items to go through the API. Everything is synthetic and seeded: a model
// with random codebooks (no network, inner product; 32-d input), uniform random codes of M bytes,
// number ids 0..<N and one label in 0..<10 per item. Stored by the same storage code the server
// uses (one transaction per batch), so the files are what `dpq serve --data-dir` opens.

import ArgumentParser
import DPQEngine
import DPQStorage
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a synthetic collection of N items into a data directory.")

    @Option(help: "Data directory (created when missing; `dpq serve --data-dir` opens it).") var dataDir: String
    @Option(help: "Collection name.") var name = "large"
    @Option(help: "Items.") var items = 1_000_000
    @Option(help: "Codebooks M (K = 256).") var blocks = 8
    @Option(help: "Input (and feature) dimension.") var dimension = 32
    @Option(help: "Inverted lists: 0 = chosen from the item count (k-means), none, first-block, or a k-means list count.")
    var nlist = "0"
    @Option(help: "Items per storage transaction.") var batch = 100_000
    @Option(help: "Seed of the model and the codes.") var seed: UInt64 = 1
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let partition: ListPartition
        switch nlist {
        case "none": partition = .none
        case "first-block": partition = .firstBlock
        default:
            guard let n = Int(nlist), n >= 0 else { throw ValidationError("--nlist: expected none, first-block or a count, got \(nlist)") }
            partition = .kmeans(lists: n)
        }
        guard items >= 0, blocks >= 1, dimension >= 1, batch >= 1 else { throw ValidationError("--items, --blocks, --dimension, --batch must be positive") }

        let model = ModelConfig(inputDimension: dimension, hiddenSizes: [], featureDimension: dimension,
                                labelMode: .none, classCount: 10, blocks: blocks, codebookSize: 256)
        var r = SeededRandom(seed: seed)
        let books = Codebooks(blocks: blocks, size: 256, dimension: model.quantizedDimension,
                              values: (0..<(blocks * 256 * model.quantizedDimension)).map { _ in r.normal() * 0.3 })
        let dpq = DPQModel(config: model, standardizer: Standardizer(identity: dimension), network: nil,
                           quantizer: ProgressiveQuantizer(codebooks: books, assignment: model.assignment))

        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let directory = try DataDirectory(root: dataDir)
        defer { directory.close() }
        let store = try directory.createCollection(CollectionConfig(name: name, model: model, keepVectors: false, index: partition))
        try store.commitModel(dpq, recodedItems: [])

        let start = Date()
        var next = 0
        var lastReport = start
        while next < items {
            let n = min(batch, items - next)
            let first = next
            let chunk = (0..<n).map { i -> StoredItem in
                let id = UInt64(first + i)
                return StoredItem(id: .number(id), labels: [Int(id % 10)], code: (0..<blocks).map { _ in UInt8(truncatingIfNeeded: r.next()) })
            }
            try store.upsert(chunk)
            next += n
            if Date().timeIntervalSince(lastReport) > 10 {
                lastReport = Date()
                FileHandle.standardError.write(Data("dpq-bench generate: \(next) of \(items) items, \(Int(Double(next) / lastReport.timeIntervalSince(start))) items/s\n".utf8))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let bytes = Self.diskBytes(dataDir)
        if json {
            let out: [String: Any] = ["items": items, "blocks": blocks, "seconds": seconds, "items_per_second": Double(items) / max(seconds, 1e-9),
                                      "disk_bytes": bytes, "disk_bytes_per_item": Double(bytes) / Double(max(items, 1)), "name": name, "nlist": nlist]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(items) items of M = \(blocks) in '\(name)': \(String(format: "%.1f", seconds)) s, \(Int(Double(items) / max(seconds, 1e-9))) items/s, \(bytes / 1_048_576) MiB on disk")
        }
    }

    /// Bytes of the files under `path`.
    static func diskBytes(_ path: String) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        for case let file as String in walker {
            let attributes = try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(file))
            if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
        }
        return total
    }
}
