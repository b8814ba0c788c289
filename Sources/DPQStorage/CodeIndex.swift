// The in-memory structure that searches run on: every searchable item's code, labels and
// (optionally) prefix norms and vector in contiguous row-major arrays, plus a map from id to row.
// Prefix norms ||x_hat_m||^2 (M floats per item, 4x the codes at K = 256) serve only squared-L2
// scores, so an index may go without them until the first L2 search asks (`addNorms`).
// It is a value: a server holds one, mutates a copy (or its own under a lock) and publishes
// it, and concurrent searches keep reading the version they started with. Rows are not
// stable: removal swaps the last row into the hole, so rows are only meaningful together
// with `ids` and `rows` of the same value.

import Foundation
import DPQEngine

public struct CodeIndex: Sendable {
    /// The id of every row, and the row of every id (`row(of:)`).
    public private(set) var ids: ItemIDTable
    public private(set) var codes: CodeMatrix
    /// Nil until kept (`keepNorms`, `addNorms`); kept in step with `codes` from then on.
    public private(set) var norms: PrefixNorms?
    public private(set) var labels: Labels
    public private(set) var vectors: Matrix?
    /// With K = 16: the codes again in the fast-scan layout (half a byte per code), kept in
    /// step with `codes`, so that inner-product searches use the SIMD fast scan.
    public private(set) var fastCodes: FastScanCodes?
    public let codebooks: Codebooks
    /// Inverted lists over the rows (IVF ids are rows), for searches with nprobe: nil for
    /// `.none` and while a k-means partition has too few items (see CodeIndex+Lists).
    public internal(set) var lists: IVFIndex<ArrayInvertedLists>?
    public let partition: ListPartition
    /// The item count the lists were built for (k-means lists are built again as it grows).
    public internal(set) var listsBuiltFor = 0
    /// Rows whose list came from the list cache when the index was built (the rest were assigned).
    public internal(set) var listsFromCache = 0

    public var count: Int { ids.count }

    /// Whether codes of these codebooks go in the 4-bit fast-scan layout (K = 16, one byte per code):
    /// `fastCodes`, and the inverted lists while no norms are kept.
    static func keepsFastCodes(codebooks: Codebooks, bytesPerCode: Int) -> Bool {
        codebooks.size == 16 && bytesPerCode == 1
    }

    /// The row of `id` in the arrays above, nil when absent.
    public func row(of id: ItemID) -> Int? { ids.row(of: id) }

    /// An index over `loaded` under `codebooks` (the model's). Items whose code is empty
    /// (`loaded.uncoded`) are left out: they are not searchable until re-encoded.
    /// `classCount` bounds the labels (the collection's model class count).
    /// `listCache`: the lists of the items as of an earlier start (ListCache), reused for the
    /// rows it matches when the saved `trainedLists` are reused. Consumed: it is released before
    /// the lists are built (20 B per item: 2 GB at 100M items, a third of a restart's peak).
    public init(_ loaded: LoadedItems, codebooks: Codebooks, classCount: Int, keepNorms: Bool = true,
                partition: ListPartition = .none, trainedLists: TrainedLists? = nil, listCache: consuming ListCache? = nil,
                threads: Int = Cores.available) throws {
        guard loaded.codes.blocks == codebooks.blocks else {
            throw StorageError.invalidArgument("index: codes have \(loaded.codes.blocks) blocks, the codebooks \(codebooks.blocks)")
        }
        var loaded = loaded
        if !loaded.uncoded.isEmpty {
            let skip = Set(loaded.uncoded)
            let keep = (0..<loaded.ids.count).filter { !skip.contains($0) }
            loaded = LoadedItems(ids: ItemIDTable(keep.map { loaded.ids[$0] }), codes: loaded.codes.items(keep),
                                 labels: loaded.labels.items(keep), vectors: loaded.vectors?.rows(keep), uncoded: [],
                                 rowids: loaded.codedRowids)
        }
        try Self.requireCodes(loaded.codes.bytes, bytesPerCode: loaded.codes.bytesPerCode, below: codebooks.size, what: "index")
        guard loaded.labels.classCount == max(classCount, 1) else {
            throw StorageError.invalidArgument("index: labels over \(loaded.labels.classCount) classes, the model has \(max(classCount, 1))")
        }
        self.ids = loaded.ids
        self.codes = loaded.codes
        self.norms = keepNorms ? PrefixNorms(codes: loaded.codes, codebooks: codebooks) : nil
        self.labels = loaded.labels
        self.vectors = loaded.vectors
        self.codebooks = codebooks
        self.fastCodes = Self.keepsFastCodes(codebooks: codebooks, bytesPerCode: loaded.codes.bytesPerCode)
            ? FastScanCodes(codes: loaded.codes) : nil
        self.partition = partition
        if let trainedLists, let reused = listsReusing(trainedLists, cache: consume listCache, rowids: loaded.rowids, threads: threads) {
            lists = reused
            listsBuiltFor = trainedLists.builtFor
        } else {
            installLists(builtLists(threads: threads))
        }
    }

    /// An index over everything `store` holds, under `model`, with the store's list partition
    /// (reusing `trainedLists` when they fit it).
    public init(store: any CollectionStorage, model: DPQModel, keepNorms: Bool = true, trainedLists: TrainedLists? = nil,
                threads: Int = Cores.available) throws {
        try self.init(try store.loadAll(), codebooks: model.codebooks, classCount: store.config.model.classCount,
                      keepNorms: keepNorms, partition: store.config.partition, trainedLists: trainedLists, threads: threads)
    }

    /// The prefix norms of the current codes: the kept ones, or computed now (N * M * D
    /// multiply-adds for N items), which is what an L2 search of an index without them uses.
    public func prefixNorms(threads: Int = Cores.available) -> PrefixNorms {
        norms ?? PrefixNorms(codes: codes, codebooks: codebooks, threads: threads)
    }

    /// Keeps `computed` (`prefixNorms` of this same value, which a caller can compute without
    /// holding the index's lock) as the norms from now on. Inverted lists are built again with
    /// norms (same coarse quantizer), which costs an assignment pass: do it outside the lock too,
    /// on a copy that is then published.
    /// Precondition (programmer error): `computed` matches the codes' count and blocks.
    public mutating func addNorms(_ computed: PrefixNorms, threads: Int = Cores.available) {
        addNorms(computed, lists: listsWithNorms(computed, threads: threads))
    }

    /// The inverted lists built again with `computed` norms (same coarse quantizer), or nil without
    /// lists: the slow half of `addNorms`, which a server runs while searches go on.
    public func listsWithNorms(_ computed: PrefixNorms, threads: Int = Cores.available) -> IVFIndex<ArrayInvertedLists>? {
        lists.map { Self.makeLists(codes: codes, norms: computed, codebooks: codebooks, coarse: $0.coarse, threads: threads) }
    }

    /// Keeps `computed` norms and `rebuilt` lists (`listsWithNorms` of this same value).
    public mutating func addNorms(_ computed: PrefixNorms, lists rebuilt: IVFIndex<ArrayInvertedLists>?) {
        if norms != nil { return }
        precondition(computed.count == codes.count && computed.blocks == codes.blocks, "CodeIndex.addNorms: norms do not match the codes")
        precondition((rebuilt == nil) == (lists == nil), "CodeIndex.addNorms: lists do not match the index's")
        norms = computed
        lists = rebuilt
    }

    // MARK: - Mutations

    /// Overwrites the rows of ids already present and appends the others; the later entry
    /// wins for an id given twice. Items with an empty code are removed instead (they cannot
    /// be searched). Nothing changes when any item is invalid.
    /// - assigned: the inverted list of every item, computed beforehand (off the write path) by
    ///   `AssignedLists(codes:of:threads:)`; used only when the index still has those lists and
    ///   every item has a code, otherwise the lists are assigned here.
    public mutating func upsert(_ items: [StoredItem], assigned: AssignedLists? = nil) throws {
        let width = codes.bytesPerItem
        for item in items where !item.code.isEmpty {
            guard item.code.count == width else {
                throw StorageError.invalidArgument("item \(item.id): code has \(item.code.count) bytes, the index has \(width)")
            }
            if let v = vectors, item.vector?.count != v.cols {
                throw StorageError.invalidArgument("item \(item.id): the index keeps vectors of dimension \(v.cols), got \(item.vector.map { String($0.count) } ?? "none")")
            }
        }
        let coded = items.filter { !$0.code.isEmpty }
        let batch = ItemBatch(ids: coded.map(\.id), labels: coded.map(\.labels),
                              codes: CodeMatrix(count: coded.count, blocks: codes.blocks, bytesPerCode: codes.bytesPerCode,
                                                bytes: coded.flatMap(\.code)),
                              vectors: vectors.map { v in Matrix(rows: coded.count, cols: v.cols, values: coded.flatMap { $0.vector! }) })
        try check(batch)
        remove(items.filter { $0.code.isEmpty }.map(\.id))
        apply(batch, assigned: coded.count == items.count ? assigned : nil)
    }

    /// `upsert` of a batch given as columns. A batch without codes removes its ids instead.
    public mutating func upsert(_ batch: ItemBatch, assigned: AssignedLists? = nil) throws {
        guard batch.codes != nil else { return remove(batch.ids) }
        try check(batch)
        apply(batch, assigned: assigned)
    }

    /// Throws invalidArgument naming the first item of `batch` (which has codes) that does not fit.
    private func check(_ batch: ItemBatch) throws {
        guard let batchCodes = batch.codes else { return }
        guard batchCodes.bytesPerItem == codes.bytesPerItem, batchCodes.bytesPerCode == codes.bytesPerCode else {
            throw StorageError.invalidArgument("item \(batch.ids.first.map { "\($0)" } ?? ""): code has \(batchCodes.bytesPerItem) bytes, the index has \(codes.bytesPerItem)")
        }
        if let bad = CodeMatrix.firstCodeNotBelow(codebooks.size, in: batchCodes.bytes, bytesPerCode: batchCodes.bytesPerCode) {
            throw StorageError.invalidArgument("item \(batch.ids[bad.offset / batchCodes.bytesPerItem]): code \(bad.code) is not below the codebook size \(codebooks.size)")
        }
        for (id, itemLabels) in zip(batch.ids, batch.labels) {
            if let bad = itemLabels.first(where: { $0 < 0 || $0 >= labels.classCount }) {
                throw StorageError.invalidArgument("item \(id): label \(bad) is outside 0..<\(labels.classCount)")
            }
        }
        if let v = vectors, batch.count > 0, batch.vectors?.cols != v.cols {
            throw StorageError.invalidArgument("item \(batch.ids[0]): the index keeps vectors of dimension \(v.cols), got \(batch.vectors.map { String($0.cols) } ?? "none")")
        }
    }

    /// Applies a checked batch with codes (`upsert`).
    private mutating func apply(_ batch: ItemBatch, assigned: AssignedLists?) {
        guard let batchCodes = batch.codes, batch.count > 0 else { return }
        let width = codes.bytesPerItem, m = codes.blocks
        // The norms of the whole batch in one pass, then placed row by row.
        let batchNorms = norms == nil ? nil : PrefixNorms(codes: batchCodes, codebooks: codebooks, threads: 1)
        var (codeBytes, normValues) = takeArrays()
        let rows = ids.rowsAppendingIfAbsent(batch.ids)
        let listRows = rows.map(\.row)
        if rows.allSatisfy(\.appended) {
            // New ids only (bulk loads): every column appended whole.
            codeBytes.append(contentsOf: batchCodes.bytes)
            if fastCodes != nil { for b in 0..<batch.count { fastCodes!.append(codes: batchCodes.code(of: b)) } }
            if let batchNorms { normValues?.append(contentsOf: batchNorms.values) }
            for l in batch.labels { labels.append(l) }
            if let v = batch.vectors, vectors != nil {
                vectors!.values.append(contentsOf: v.values)
                vectors!.rows += v.rows
            }
        } else {
            for (b, (r, appended)) in rows.enumerated() {
                let code = batchCodes.code(of: b)
                if !appended {
                    codeBytes.replaceSubrange((r * width)..<((r + 1) * width), with: code)
                    fastCodes?.set(item: r, codes: code)
                    if let batchNorms { normValues?.replaceSubrange((r * m)..<((r + 1) * m), with: batchNorms.values[(b * m)..<((b + 1) * m)]) }
                    labels.replace(r, with: batch.labels[b])
                    if let v = batch.vectors, vectors != nil {
                        vectors!.values.replaceSubrange((r * v.cols)..<((r + 1) * v.cols), with: v.row(b))
                    }
                } else {
                    codeBytes.append(contentsOf: code)
                    fastCodes?.append(codes: code)
                    if let batchNorms { normValues?.append(contentsOf: batchNorms.values[(b * m)..<((b + 1) * m)]) }
                    labels.append(batch.labels[b])
                    if let v = batch.vectors, vectors != nil {
                        vectors!.values.append(contentsOf: v.row(b))
                        vectors!.rows += 1
                    }
                }
            }
        }
        rebuild(codeBytes: codeBytes, normValues: normValues)
        let listNorms = lists?.listNorms == nil ? nil : batchNorms
        let known = assigned.flatMap { a in a.lists.count == batch.count && lists?.coarse == a.coarse ? a.lists : nil }
        lists?.add(codes: batchCodes, ids: listRows, norms: listNorms, assigned: known, threads: 1)
    }

    /// Removes the items with these ids (absent ids are ignored); each hole is filled by the
    /// last row so that the arrays stay contiguous.
    public mutating func remove(_ removed: [ItemID]) {
        let present = removed.filter { ids.contains($0) }
        if present.isEmpty { return }
        let width = codes.bytesPerItem, m = codes.blocks
        var (codeBytes, normValues) = takeArrays()
        for id in present {
            guard let r = ids.row(of: id) else { continue }
            let last = ids.count - 1
            lists?.remove([r])
            ids.removeSwappingLast(row: r)
            if r != last {
                lists?.renumber(last, to: r)
                for j in 0..<width { codeBytes[r * width + j] = codeBytes[last * width + j] }
                fastCodes?.set(item: r, codes: codeBytes[(last * width)..<((last + 1) * width)])
                if normValues != nil { for j in 0..<m { normValues![r * m + j] = normValues![last * m + j] } }
                if let d = vectors?.cols {
                    for j in 0..<d { vectors!.values[r * d + j] = vectors!.values[last * d + j] }
                }
            }
            codeBytes.removeLast(width)
            fastCodes?.removeLast()
            normValues?.removeLast(m)
            labels.removeSwappingLast(r)
            if let d = vectors?.cols {
                vectors!.values.removeLast(d)
                vectors!.rows -= 1
            }
        }
        rebuild(codeBytes: codeBytes, normValues: normValues)
    }

    /// The arrays behind codes and norms, which are left empty so that the caller
    /// holds the only reference and can change them in place instead of copying N rows.
    private mutating func takeArrays() -> ([UInt8], [Float]?) {
        let taken = (codes.bytes, norms?.values)
        codes = CodeMatrix(count: 0, blocks: codes.blocks, bytesPerCode: codes.bytesPerCode, bytes: [])
        norms = norms.map { PrefixNorms(count: 0, blocks: $0.blocks, values: []) }
        return taken
    }

    private mutating func rebuild(codeBytes: [UInt8], normValues: [Float]?) {
        let n = ids.count
        codes = CodeMatrix(count: n, blocks: codes.blocks, bytesPerCode: codes.bytesPerCode, bytes: codeBytes)
        norms = normValues.map { PrefixNorms(count: n, blocks: codes.blocks, values: $0) }
    }

    // MARK: - Search

    public typealias Hit = (id: ItemID, score: Float, labels: [Int])

    /// The k best items for each query row, best first (see CodeScanner for scores and ties).
    /// - queries: features (the model's `features(_:)` of the query vectors), one per row.
    /// - blocks: code prefix length m in 1...M.
    /// - labelFilter: when given, only items carrying at least one of these labels.
    /// - nprobe: 0 scans every code; otherwise the best `nprobe` inverted lists only (clamped
    ///   to nlist, where the answer is the exhaustive one), when the index has lists (`probes`).
    ///
    /// Inner-product searches without a filter over K = 16 codes run on the fast scan with
    /// exact re-ranking (the same answer as CodeScanner); with nprobe, over K = 16 lists without
    /// norms, on the fast-scan IVF (filters too); everything else on CodeScanner or the byte kernel.
    /// An L2 search of an index without norms computes them for this search alone (see addNorms).
    /// Codes were validated on insertion, so neither checks them again per search.
    public func search(queries: Matrix, k: Int, blocks m: Int, metric: SearchMetric,
                       labelFilter: Set<Int>? = nil, nprobe: Int = 0,
                       threads: Int = Cores.available) throws -> [[Hit]] {
        guard m >= 1 && m <= codes.blocks else {
            throw StorageError.invalidArgument("blocks: \(m) is outside 1...\(codes.blocks)")
        }
        guard queries.rows == 0 || queries.cols == codebooks.dimension else {
            throw StorageError.invalidArgument("queries have dimension \(queries.cols), the index's features have \(codebooks.dimension)")
        }
        if let bad = queries.values.firstIndex(where: { !$0.isFinite }) {
            throw StorageError.invalidArgument("queries: value \(bad) is \(queries.values[bad]), values must be finite")
        }
        let filter = labelFilter.map(rows(carryingAnyOf:))
        let results: [[SearchHit]]
        if let lists, probes(nprobe, metric: metric) > 0 {
            results = lists.search(queries: queries, k: k, blocks: m, metric: metric, nprobe: nprobe,
                                   filter: filter.map { .predicate($0) }, threads: threads)
        } else if let fastCodes, metric == .innerProduct, filter == nil {
            results = FastScanner(codes: fastCodes, codebooks: codebooks)
                .search(queries: queries, k: k, blocks: m, rerank: .exact, threads: threads)
        } else {
            let l2Norms = metric == .squaredL2 ? prefixNorms(threads: threads) : nil
            results = CodeScanner(validCodes: codes, norms: l2Norms, codebooks: codebooks)
                .search(queries: queries, k: k, blocks: m, metric: metric, filter: filter, threads: threads)
        }
        return results.map { hits in hits.map { (ids[$0.index], $0.score, labels.labels(of: $0.index)) } }
    }

    /// Whether row i carries at least one of `wanted` (labels outside the classes match nothing).
    public func rows(carryingAnyOf wanted: Set<Int>) -> @Sendable (Int) -> Bool {
        let held = labels
        let mask = Labels(multi: [wanted.filter { $0 >= 0 && $0 < held.classCount }.sorted()], classCount: held.classCount)
        if held.words == 1 {
            let word = mask.word(0, 0)
            return { i in held.word(i, 0) & word != 0 }
        }
        return { i in held.shares(i, with: mask, 0) }
    }

    static func requireCodes(_ bytes: [UInt8], bytesPerCode: Int, below k: Int, what: @autoclosure () -> String) throws {
        if let bad = CodeMatrix.firstCodeNotBelow(k, in: bytes, bytesPerCode: bytesPerCode) {
            throw StorageError.invalidArgument("\(what()): code \(bad.code) is not below the codebook size \(k)")
        }
    }
}
