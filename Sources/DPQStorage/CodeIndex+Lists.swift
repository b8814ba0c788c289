// The inverted lists of a CodeIndex: an IVFIndex whose ids are the index's rows, built from the
// codes under the collection's ListPartition and kept in step with every upsert and removal
// (a removal's row swap renumbers the moved entry). Searches with nprobe > 0 scan the best
// nprobe lists; nprobe >= nlist gives exactly the exhaustive answer (IVFIndex's contract).
// k-means lists are trained on up to 64 items per list, evenly spaced over the rows (a fixed
// seed, so the same items give the same lists), and built again each time the item count has
// doubled since they were built while more items can still improve them: automatic lists
// follow sqrt(N), and a fixed nlist stops once it was trained on 64 items per list. A build
// costs one decode and nearest-centroid pass over all items (seconds at 1M, tens at 10M), so the
// server runs it off its write queue on a snapshot (`listsAreStale`, `listBuild`, ListBuild.run)
// and installs the result brought up to date with the writes made meanwhile (`installLists(_:builtFrom:)`).

import DPQEngine
import Foundation

/// k-means lists as they were trained, for keeping across restarts: a server that rebuilds its
/// index from the stored codes reuses them instead of training again, so a search with the same
/// nprobe scans the same items before and after (a sample drawn from rows in another order would
/// give other centroids).
public struct TrainedLists: Sendable, Equatable {
    /// nlist x D.
    public var centroids: Matrix
    /// The item count they were built for (which decides when they are built again).
    public var builtFor: Int

    public init(centroids: Matrix, builtFor: Int) {
        self.centroids = centroids
        self.builtFor = builtFor
    }
}

extension CodeIndex {
    /// k-means training rows per list (faiss warns below 39).
    static let sampleRowsPerList = 64

    /// The k-means centroids in use, to keep across restarts (nil for other partitions).
    public var trainedLists: TrainedLists? {
        guard let lists, lists.coarse.kind == .centroids else { return nil }
        return TrainedLists(centroids: lists.coarse.centroids, builtFor: listsBuiltFor)
    }

    /// Lists over the current codes under `trained` centroids, when they fit this index's
    /// k-means partition (dimension, and the list count of a fixed nlist); nil otherwise.
    /// Rows that `cache` matches (by `rowids`, one per row, and code) keep its lists; the others are assigned.
    mutating func listsReusing(_ trained: TrainedLists, cache: consuming ListCache?, rowids: [Int64], threads: Int) -> IVFIndex<ArrayInvertedLists>? {
        guard case .kmeans(let fixed) = partition, trained.centroids.cols == codebooks.dimension,
              trained.centroids.rows >= 1, fixed == 0 || trained.centroids.rows == fixed,
              trained.centroids.values.allSatisfy(\.isFinite) else { return nil }
        var known: [Int32]?
        if let cache, rowids.count == count {
            known = cache.lists(rowids: rowids, codes: codes.bytes, width: codes.bytesPerItem,
                                digest: ListCache.digest(codebooks: codebooks, centroids: trained.centroids))
            if let k = known, k.contains(where: { $0 >= Int32(trained.centroids.rows) }) { known = nil }  // not these lists after all
        }
        listsFromCache = known?.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } ?? 0
        _ = consume cache  // released before the lists are built, not after
        return Self.makeLists(codes: codes, norms: norms, codebooks: codebooks, coarse: CoarseQuantizer(centroids: trained.centroids),
                              assigned: known, threads: threads)
    }

    /// The list of every row under the current k-means lists, as a ListCache keyed by `rowids`
    /// (one per row, ascending: the rows as loaded, before any write). Nil without k-means lists.
    public func listCache(rowids: [Int64]) -> ListCache? {
        guard let lists, lists.coarse.kind == .centroids, rowids.count == count else { return nil }
        return ListCache(digest: ListCache.digest(codebooks: codebooks, centroids: lists.coarse.centroids), width: codes.bytesPerItem,
                         rowids: rowids, codes: codes.bytes, lists: (0..<count).map { UInt32(lists.list(of: $0)!) })
    }

    /// Lists over every row of `codes` under `coarse`. K = 16 codes of an index without norms go in
    /// the fast-scan layout, so that inner-product searches scan the probed lists with the SIMD
    /// kernels (exact re-ranking: the same answer); an L2 search of such an index scans every code,
    /// as it does whenever the lists keep no norms, and adding norms builds item-major lists again.
    static func makeLists(codes: CodeMatrix, norms: PrefixNorms?, codebooks: Codebooks, coarse: CoarseQuantizer,
                          assigned: [Int32]? = nil, threads: Int) -> IVFIndex<ArrayInvertedLists> {
        IVFIndex(codes: codes, norms: norms, codebooks: codebooks, coarse: coarse,
                 fastScan: keepsFastCodes(codebooks: codebooks, bytesPerCode: codes.bytesPerCode) && norms == nil,
                 assigned: assigned, threads: threads)
    }

    /// The number of lists a search with `nprobe` scans: 0 when it scans every code instead
    /// (nprobe 0, no lists, or squared L2 on lists without norms), else min(nprobe, nlist).
    public func probes(_ nprobe: Int, metric: SearchMetric) -> Int {
        guard nprobe > 0, let lists else { return 0 }
        if metric == .squaredL2 && lists.listNorms == nil { return 0 }
        return min(nprobe, lists.listCount)
    }

    /// nlist of the current lists (0 without lists).
    public var listCount: Int { lists?.listCount ?? 0 }

    /// Whether the partition wants lists built again for the current item count.
    public var listsAreStale: Bool {
        guard case .kmeans(let fixed) = partition else { return false }
        guard let lists else { return partition.kmeansLists(items: count) != nil }
        guard count >= 2 * listsBuiltFor else { return false }
        return fixed == 0 || listsBuiltFor < Self.sampleRowsPerList * lists.listCount
    }

    /// Lists over the current codes (and norms, when kept) under the partition, trained anew
    /// for k-means; nil when the partition has none for this many items.
    public func builtLists(threads: Int = Cores.available) -> IVFIndex<ArrayInvertedLists>? {
        listBuild.run(threads: threads)
    }

    /// What a list build reads, taken now: see ListBuild.
    public var listBuild: ListBuild {
        ListBuild(codes: codes, norms: norms, codebooks: codebooks, partition: partition)
    }

    /// Makes `built` (from `builtLists` of this same value: same rows and codes) the lists.
    public mutating func installLists(_ built: IVFIndex<ArrayInvertedLists>?) {
        precondition(built == nil || built!.count == count, "CodeIndex.installLists: lists of another version of the index")
        lists = built
        listsBuiltFor = count
    }

    /// Makes lists that `build` (taken from an earlier version of this index) gave the lists,
    /// brought up to date: rows whose code is what the build read keep their entries (a list
    /// depends on the code alone), rows written or moved since are assigned again, rows gone are
    /// dropped and rows appended are added. Returns false, changing nothing, when they no longer
    /// fit this index (another model's codebooks or partition, or no lists were built).
    @discardableResult
    public mutating func installLists(_ built: IVFIndex<ArrayInvertedLists>?, builtFrom build: ListBuild,
                                      threads: Int = Cores.available) -> Bool {
        guard var built, build.codebooks == codebooks, build.partition == partition, build.codes.blocks == codes.blocks,
              build.codes.bytesPerCode == codes.bytesPerCode, built.count == build.codes.count else { return false }
        let old = build.codes.count, n = count, width = codes.bytesPerItem
        var changed: [Int] = []
        let shared = min(n, old) * width
        codes.bytes.withUnsafeBytes { now in
            build.codes.bytes.withUnsafeBytes { then in
                // One comparison in the usual case (a bulk load only appends), row by row otherwise.
                guard shared > 0, memcmp(now.baseAddress!, then.baseAddress!, shared) != 0 else { return }
                for r in 0..<min(n, old) where memcmp(now.baseAddress! + r * width, then.baseAddress! + r * width, width) != 0 {
                    changed.append(r)
                }
            }
        }
        if (built.listNorms != nil) != (norms != nil) {
            // Norms were added meanwhile (an L2 search): the entries again with them, under the built
            // centroids, the unchanged rows in the lists the build gave them.
            var known = [Int32](repeating: -1, count: n)
            for r in 0..<min(n, old) { known[r] = Int32(built.list(of: r) ?? -1) }
            for r in changed { known[r] = -1 }
            built = Self.makeLists(codes: codes, norms: norms, codebooks: codebooks, coarse: built.coarse, assigned: known,
                                   threads: threads)
        } else {
            built.remove(changed + (n < old ? Array(n..<old) : []))
            let added = changed + (n > old ? Array(old..<n) : [])
            if !added.isEmpty {
                let m = codes.blocks
                let addedNorms = norms.map { all in
                    PrefixNorms(count: added.count, blocks: m, values: added.flatMap { all.values[($0 * m)..<(($0 + 1) * m)] })
                }
                built.add(codes: codes.items(added), ids: added, norms: addedNorms, threads: threads)
            }
        }
        lists = built
        listsBuiltFor = old
        return true
    }
}

/// What building k-means lists reads, taken from a CodeIndex on its writer's queue: the codes and
/// norms as they were then (copy-on-write arrays: the index's next write copies them once). A
/// build (a k-means training and a nearest-centroid pass over every item: tens of seconds at 10M
/// items) then runs off that queue while writes go on, and `CodeIndex.installLists(_:builtFrom:)`
/// brings its lists up to date with the writes made meanwhile.
public struct ListBuild: Sendable {
    let codes: CodeMatrix
    let norms: PrefixNorms?
    let codebooks: Codebooks
    let partition: ListPartition

    /// Items the build covers.
    public var itemCount: Int { codes.count }

    /// Items assigned between two looks at `shouldStop` (about a second of a build's work).
    static let assignedPerStep = 1 << 19

    /// Lists over the codes under the partition, trained anew for k-means; nil when the
    /// partition has none for this many items, or when `shouldStop` said so (it is asked before
    /// the training and between steps of the assignment, so that a build whose collection went
    /// away stops within about a second instead of running on for tens).
    public func run(threads: Int = Cores.available, shouldStop: () -> Bool = { false }) -> IVFIndex<ArrayInvertedLists>? {
        run(threads: threads, assignedPerStep: Self.assignedPerStep, shouldStop: shouldStop)
    }

    func run(threads: Int, assignedPerStep: Int, shouldStop: () -> Bool) -> IVFIndex<ArrayInvertedLists>? {
        let coarse: CoarseQuantizer
        let count = codes.count
        switch partition {
        case .none:
            return nil
        case .firstBlock:
            return CodeIndex.makeLists(codes: codes, norms: norms, codebooks: codebooks, coarse: .firstBlock(codebooks), threads: threads)
        case .kmeans:
            guard !shouldStop(), let nlist = partition.kmeansLists(items: count) else { return nil }
            let sampled = min(count, CodeIndex.sampleRowsPerList * nlist)
            let step = Double(count) / Double(sampled)
            let rows = (0..<sampled).map { Int(Double($0) * step) }
            coarse = CoarseQuantizer.trainCentroids(sample: codes.items(rows), codebooks: codebooks, lists: nlist)
        }
        var assigned = [Int32]()
        assigned.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: assignedPerStep) {
            if shouldStop() { return nil }
            let step = codes.rowRange(start..<min(count, start + assignedPerStep))
            assigned += coarse.assign(step, codebooks: codebooks, threads: threads).lazy.map { Int32($0) }
        }
        return CodeIndex.makeLists(codes: codes, norms: norms, codebooks: codebooks, coarse: coarse,
                                   assigned: assigned, threads: threads)
    }
}

/// The inverted list of each code of a batch under one coarse quantizer, computed before the
/// batch reaches the index (a server does it while the previous batch is written):
/// `CodeIndex.upsert` takes them when its lists still have that quantizer.
public struct AssignedLists: Sendable {
    public let coarse: CoarseQuantizer
    public let lists: [Int32]

    /// The lists of `codes` under `coarse` (a CodeIndex's `lists?.coarse`, read under the lock that
    /// guards the index; the assignment itself needs no lock).
    public init(codes: CodeMatrix, coarse: CoarseQuantizer, codebooks: Codebooks, threads: Int) {
        self.init(coarse: coarse, lists: coarse.assign(codes, codebooks: codebooks, threads: threads).map { Int32($0) })
    }

    /// Lists as they are (each below `coarse`'s list count).
    public init(coarse: CoarseQuantizer, lists: [Int32]) {
        self.coarse = coarse
        self.lists = lists
    }
}
