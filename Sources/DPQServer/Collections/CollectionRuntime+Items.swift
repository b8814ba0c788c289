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

/// A validated upsert batch: ids and labels, with vectors to encode or codes computed elsewhere.
struct UpsertBatch: Sendable {
    enum Payload: Sendable {
        case vectors(Matrix)
        /// Full codes, one per id, of the model whose sha256 (lowercase hex) is given.
        case codes(CodeMatrix, modelSHA256: String)
    }

    /// A batch ready for the write queue (CollectionRuntime.prepare).
    enum Prepared: Sendable {
        case vectors(PreparedVectors)
        /// The last occurrence of each id, and their inverted lists when the index has lists.
        case codes(ItemBatch, modelSHA256: String, lists: AssignedLists?)
    }

    var ids: [ItemID]
    var labels: [[Int]]
    var payload: Payload
}

/// Vectors made ready for the write queue: the last occurrence of each id, rounded to float16
/// where the collection stores that, and encoded with the model served when they were prepared
/// (`digest`; nil codes before the first model).
struct PreparedVectors: Sendable {
    var ids: [ItemID]
    var labels: [[Int]]
    var vectors: Matrix
    /// Each prepared row's position in the request (for error messages).
    var rows: [Int]
    var codes: CodeMatrix?
    var digest: String?
    /// The codes' inverted lists under the index's lists when they were prepared.
    var lists: AssignedLists?
}

extension CollectionRuntime {
    func upsert(_ batch: UpsertBatch) async throws -> UpsertResult {
        try await write(try await prepare(batch))
    }

    /// The part of an upsert of `batch` that runs before the write queue, on the worker pool:
    /// vectors validated, rounded and encoded, and the codes' inverted lists assigned, so that a
    /// stream's next batch is prepared while the queue stores the one before (UpsertItemsStream)
    /// and concurrent upserts into one collection prepare side by side.
    func prepare(_ batch: UpsertBatch) async throws -> UpsertBatch.Prepared {
        switch batch.payload {
        case .vectors(let v): return .vectors(try await prepare(ids: batch.ids, vectors: v, labels: batch.labels))
        case .codes(let c, let digest):
            let rows = Self.lastOccurrences(batch.ids)
            let unique = rows.count == batch.ids.count
            return try await onWorkerPool { [self] in
                let codes = unique ? c : c.items(rows)
                let items = ItemBatch(ids: unique ? batch.ids : rows.map { batch.ids[$0] },
                                      labels: unique ? batch.labels : rows.map { batch.labels[$0] }, codes: codes, vectors: nil)
                return .codes(items, modelSHA256: digest, lists: assignLists(codes))
            }
        }
    }

    /// The inverted lists of `codes` under the served index's lists (nil without lists): the
    /// nearest-centroid pass, the largest part of indexing a batch, done outside the write queue.
    private func assignLists(_ codes: CodeMatrix) -> AssignedLists? {
        guard codes.count > 0, let (coarse, codebooks) = served.read({ s in s.index?.lists.map { ($0.coarse, s.index!.codebooks) } }),
              codebooks.size == model.codebookSize, codes.blocks <= codebooks.blocks else { return nil }
        return AssignedLists(codes: codes, coarse: coarse, codebooks: codebooks, threads: 1)
    }

    /// Stores a prepared batch (on the write queue, in the order of the calls).
    func write(_ prepared: UpsertBatch.Prepared) async throws -> UpsertResult {
        switch prepared {
        case .vectors(let p): try await write(p)
        case .codes(let items, let digest, let lists):
            try await importCodes(items, modelSHA256: digest, lists: lists)
        }
    }

    private func prepare(ids: [ItemID], vectors: Matrix, labels: [[Int]]) async throws -> PreparedVectors {
        let model = current.model, digest = current.digest
        return try await onWorkerPool { [self] in
            let rows = Self.lastOccurrences(ids)
            var batch = rows.count == ids.count ? vectors : vectors.rows(rows)
            if config.halfVectors {
                // Rounded before anything uses them: the index, the codes and a later load from
                // disk all see the same values.
                if let bad = CollectionConfig.firstBeyondHalfRange(batch.values) {
                    let d = max(batch.cols, 1)
                    throw invalid("items[\(rows[bad.offset / d])].vector: value \(bad.offset % d) is \(bad.value), beyond float16's range (+-65504) of vector_precision float16")
                }
                batch.values = batch.values.map { Float(Float16($0)) }
            }
            let codes = try model.map { try Self.encode(batch, rows: rows, with: $0, threads: threads) }
            return PreparedVectors(ids: rows.map { ids[$0] }, labels: rows.map { labels[$0] }, vectors: batch, rows: rows,
                                   codes: codes, digest: codes == nil ? nil : digest, lists: codes.flatMap(assignLists))
        }
    }

    private static func encode(_ batch: Matrix, rows: [Int], with model: DPQModel, threads: Int) throws -> CodeMatrix {
        model.quantizer.encode(try model.checkedFeatures(batch, field: "items", threads: threads, row: { "items[\(rows[$0])].vector" }),
                               threads: threads)
    }

    /// Stores prepared vectors with their codes; encoded again here in the rare case that the
    /// served model changed since they were prepared (a training committed meanwhile), so that no
    /// item is stored with a code of another model.
    private func write(_ p: PreparedVectors) async throws -> UpsertResult {
        try await writes.run { [self] in
            var codes = p.codes, lists = p.lists
            let s = current
            if s.digest != p.digest || (codes == nil) != (s.model == nil) {
                codes = try s.model.map { try Self.encode(p.vectors, rows: p.rows, with: $0, threads: threads) }
                lists = nil
            }
            let keep = config.keepVectors || codes == nil
            return try write(ItemBatch(ids: p.ids, labels: p.labels, codes: codes, vectors: keep ? p.vectors : nil), lists: lists)
        }
    }

    /// Items whose codes were computed elsewhere with the served model (bulk loads): stored and
    /// indexed as they are, without vectors. FAILED_PRECONDITION unless the collection serves the
    /// model named by `modelSHA256`, keeps no vectors (they would be missing for these items) and
    /// is not training (its new model would find these items with codes of the old one).
    /// The ids are unique (`prepare` keeps the last occurrence of each).
    private func importCodes(_ items: ItemBatch, modelSHA256: String, lists: AssignedLists?) async throws -> UpsertResult {
        try await writes.run { [self] in
            let s = current
            guard let digest = s.digest else {
                throw precondition_("collection '\(name)' has no model: codes can only be upserted into a collection serving the model they were computed with")
            }
            guard digest == modelSHA256 else {
                throw precondition_("model_sha256: the codes were computed with model \(modelSHA256), collection '\(name)' serves \(digest)")
            }
            guard !config.keepVectors else {
                throw precondition_("collection '\(name)' keeps vectors (keep_vectors true): items upserted as codes would have none; create it with keep_vectors false for code loading")
            }
            if let j = job.withLock({ $0 }), !j.isFinished {
                throw precondition_("collection '\(name)' is training (job \(j.id)): upsert codes of the new model after it finishes")
            }
            return try write(items, lists: lists)
        }
    }

    /// The positions of a batch's ids that count: the last occurrence of each id wins.
    /// Ascending numbers (how bulk loads usually number their items) repeat nothing, which one
    /// pass shows; hashing every id of such a batch was a tenth of a code load's time.
    static func lastOccurrences(_ ids: [ItemID]) -> [Int] {
        if ItemID.ascendNumerically(ids) { return Array(ids.indices) }
        var last: [ItemID: Int] = [:]
        last.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { last[id] = i }
        return ids.indices.filter { last[ids[$0]] == $0 }
    }

    /// Stores `items` (coded, or pending when the batch has no codes) and applies them to the
    /// index; on the write queue.
    private func write(_ items: ItemBatch, lists: AssignedLists? = nil) throws -> UpsertResult {
        try checkRoom(for: items.ids)
        let counts = try store.upsert(items)
        let encoded = items.codes != nil
        lastWrite.withLock { $0 = .now }
        var result = UpsertResult()
        result.replaced = counts.replaced
        result.inserted = counts.inserted
        result.encoded = encoded ? items.count : 0
        let nowPending = encoded ? 0 : items.count
        pending.withLock { $0 += nowPending - counts.replacedPending }
        if encoded {
            try changeServed { try $0.index?.upsert(items, assigned: lists) }
            refreshListsIfStale()
        }
        storedCount.withLock { $0 += result.inserted }
        result.itemCount = try itemCount()
        DPQMetrics.setCollectionItems(result.itemCount, collection: name)
        return result
    }

    /// max_items_per_collection (at most ItemIDTable.maxRows, what the index's id table holds;
    /// ServerLimits caps the setting there): a batch that would pass it is refused before
    /// anything is stored. Replacements do not grow a collection, so near the limit the ids the
    /// store already holds are looked up.
    private func checkRoom(for ids: [ItemID]) throws {
        let held = storedCount.withLock { $0 }, limit = limits.maxItemsPerCollection
        guard held + ids.count > limit else { return }
        var seen = Set<ItemID>()
        let named = ids.filter { seen.insert($0).inserted }
        let adding = named.count - (try store.get(named).count)
        if held + adding > limit {
            throw StorageError.resourceExhausted("collection '\(name)' holds \(held) items; \(adding) new ones would pass max_items_per_collection (\(limit))")
        }
    }

    func delete(ids: [ItemID]) async throws -> (deleted: Int, itemCount: Int) {
        try await writes.run { [self] in
            let before = try store.get(ids)
            let n = try store.delete(ids)
            let wasPending = before.filter { $0.code.isEmpty }.count
            pending.withLock { $0 -= wasPending }
            changeServed { $0.index?.remove(ids) }
            storedCount.withLock { $0 -= n }
            let count = try itemCount()
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
        guard let filter, !filter.isEmpty else { return try itemCount() }
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
