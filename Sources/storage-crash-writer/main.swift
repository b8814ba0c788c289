// Child process of the kill -9 durability test (DPQStorageTests/CrashDurabilityTests).
// Usage: storage-crash-writer <data-root> <collection> <batch-size>
// Creates the collection if needed, then upserts batches of deterministic items forever
// (well, up to 1,000,000 batches) and prints "acked <batch>" after each one has committed,
// flushing stdout at once, so everything the parent reads was acknowledged by the store.
// Batch b holds the ids b*size ..< (b+1)*size; item n's fields are given by `item(n)`,
// which the test recomputes to check what survived.

import Foundation
import DPQEngine
import DPQStorage

func item(_ n: UInt64) -> StoredItem {
    StoredItem(id: n % 3 == 0 ? .string("item-\(n)") : .number(n),
               labels: [Int(n % 10), Int((n / 10) % 10)],
               code: (0..<4).map { UInt8((n &* 7 &+ UInt64($0) &* 3) % 16) },
               vector: (0..<4).map { Float(n) + Float($0) / 4 })
}

let args = CommandLine.arguments
guard args.count == 4, let size = UInt64(args[3]), size > 0 else {
    FileHandle.standardError.write(Data("usage: storage-crash-writer <data-root> <collection> <batch-size>\n".utf8))
    exit(2)
}
do {
    let directory = try DataDirectory(root: args[1])
    let store: CollectionStore
    if try directory.listCollections().contains(args[2]) {
        store = try directory.openCollection(args[2])
    } else {
        store = try directory.createCollection(CollectionConfig(
            name: args[2],
            model: ModelConfig(inputDimension: 4, hiddenSizes: [8], featureDimension: 4, classCount: 10, blocks: 4, codebookSize: 16),
            keepVectors: true))
    }
    let start = UInt64(try store.count()) / size
    for batch in start..<(start + 1_000_000) {
        try store.upsert((batch * size..<(batch + 1) * size).map(item))
        // An unbuffered write(2): the line is in the pipe before the next batch starts.
        FileHandle.standardOutput.write(Data("acked \(batch)\n".utf8))
    }
} catch {
    FileHandle.standardError.write(Data("storage-crash-writer: \(error)\n".utf8))
    exit(1)
}
