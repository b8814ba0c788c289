// Item writes and reads. Upserts encode with the model being served (or store the item
// pending, vector kept, when there is none yet); the write is on disk before the index
// sees it, so an acknowledged upsert survives a crash.

import DPQEngine
import DPQStorage
import DPQServerSupport
import Foundation

struct UpsertResult: Sendable {
    var inserted = 0
    var replaced = 0
    var encoded = 0
    var itemCount = 0
}

extension CollectionRuntime {
    func upsert(ids: [ItemID], vectors: Matrix, labels: [[Int]]) async throws -> UpsertResult {
        try await writes.run { [self] in
            // The last occurrence of an id in a batch wins.
            var last: [ItemID: Int] = [:]
            for (i, id) in ids.enumerated() { last[id] = i }
            let rows = (0..<ids.count).filter { last[ids[$0]] == $0 }
            let batch = rows.count == ids.count ? vectors : vectors.rows(rows)
            var codes: CodeMatrix?
            if let m = current.model { codes = m.quantizer.encode(try m.checkedFeatures(batch, field: "items", row: { "items[\(rows[$0])].vector" })) }
            let keep = config.keepVectors || codes == nil
            var items: [StoredItem] = []
            items.reserveCapacity(rows.count)
            for (j, r) in rows.enumerated() {
                let code = codes.map { Array($0.bytes[(j * $0.bytesPerItem)..<((j + 1) * $0.bytesPerItem)]) } ?? []
                items.append(StoredItem(id: ids[r], labels: labels[r], code: code,
                                        vector: keep ? Array(batch.row(j)) : nil))
            }
            let before = try store.get(items.map(\.id))
            try store.upsert(items)
            var result = UpsertResult()
            result.replaced = before.count
            result.inserted = items.count - before.count
            result.encoded = codes == nil ? 0 : items.count
            let wasPending = before.filter { $0.code.isEmpty }.count
            let nowPending = codes == nil ? items.count : 0
            pending.withLock { $0 += nowPending - wasPending }
            if codes != nil {
                try changeServed { try $0.index?.upsert(items) }
                refreshListsIfStale()
            }
            result.itemCount = try store.count()
            DPQMetrics.setCollectionItems(result.itemCount, collection: name)
            return result
        }
    }

    func delete(ids: [ItemID]) async throws -> (deleted: Int, itemCount: Int) {
        try await writes.run { [self] in
            let before = try store.get(ids)
            let n = try store.delete(ids)
            let wasPending = before.filter { $0.code.isEmpty }.count
            pending.withLock { $0 -= wasPending }
            changeServed { $0.index?.remove(ids) }
            let count = try store.count()
            DPQMetrics.setCollectionItems(count, collection: name)
            return (n, count)
        }
    }

    /// Found items in request order (each once), and the ids not found.
    func get(ids: [ItemID]) async throws -> (items: [StoredItem], missing: [ItemID]) {
        var seen = Set<ItemID>()
        let unique = ids.filter { seen.insert($0).inserted }
        let found = try await StorageThreads.run { [store] in try store.get(unique) }
        let foundIDs = Set(found.map(\.id))
        return (found, unique.filter { !foundIDs.contains($0) })
    }

    func count(filter: Set<Int>?) async throws -> Int {
        try await StorageThreads.run { [self] in try countFromStore(filter: filter) }
    }

    private func countFromStore(filter: Set<Int>?) throws -> Int {
        guard let filter, !filter.isEmpty else { return try store.count() }
        var n = 0
        var cursor: Int64?
        repeat {
            let page = try store.list(pageSize: 10_000, after: cursor)
            n += page.items.filter { !filter.isDisjoint(with: $0.labels) }.count
            cursor = page.next
        } while cursor != nil
        return n
    }

    /// One page of items after `token` (empty for the first), filtered by label when asked.
    func list(pageSize: Int, token: String, filter: Set<Int>?) async throws -> (items: [StoredItem], next: String) {
        try await StorageThreads.run { [self] in try listFromStore(pageSize: pageSize, token: token, filter: filter) }
    }

    private func listFromStore(pageSize: Int, token: String, filter: Set<Int>?) throws -> (items: [StoredItem], next: String) {
        var cursor: Int64?
        if !token.isEmpty {
            guard let c = Int64(token), c >= 0 else { throw invalid("page_token '\(token)' was not returned by ListItems") }
            cursor = c
        }
        var out: [StoredItem] = []
        while out.count < pageSize {
            let page = try store.list(pageSize: pageSize - out.count, after: cursor)
            let matching = filter.map { f in page.items.filter { !f.isDisjoint(with: $0.labels) } } ?? page.items
            out.append(contentsOf: matching)
            cursor = page.next
            if cursor == nil { break }
        }
        return (out, cursor.map(String.init) ?? "")
    }
}
