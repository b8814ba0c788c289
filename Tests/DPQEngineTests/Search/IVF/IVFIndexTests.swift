@testable import DPQEngine
import Testing

/// The IVF contract: nprobe = nlist gives exactly CodeScanner's answer (scores and ties), and
/// fewer lists give exactly the best of the probed lists' items.
@Suite struct IVFIndexTests {
    typealias Index = IVFIndex<ArrayInvertedLists>

    static func coarse(_ kind: String, codes: CodeMatrix, codebooks: Codebooks, lists: Int = 12) -> CoarseQuantizer {
        kind == "first" ? .firstBlock(codebooks)
            : CoarseQuantizer.trainCentroids(sample: codes, codebooks: codebooks, lists: lists, iterations: 5, seed: 3)
    }

    /// Every prefix, both metrics, with and without a filter, 1 or several queries and threads,
    /// integer data (many tied scores): IVF with every list probed == CodeScanner.
    @Test(arguments: [("first", 16, 4), ("first", 256, 3), ("kmeans", 256, 4), ("kmeans", 1024, 3), ("first", 1024, 2)])
    func allListsEqualExhaustive(kind: String, size: Int, blocks: Int) {
        let d = 6, n = 1500
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: size, dimension: d, seed: 41)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: size, seed: 42)
        let norms = PrefixNorms(codes: codes, codebooks: codebooks)
        let scanner = CodeScanner(codes: codes, norms: norms, codebooks: codebooks)
        let index = Index(codes: codes, norms: norms, codebooks: codebooks, coarse: Self.coarse(kind, codes: codes, codebooks: codebooks))
        #expect(index.count == n && index.lists.totalSize == n)
        let queries = SearchFixtures.integerMatrix(rows: 5, cols: d, seed: 43)
        let filter: @Sendable (Int) -> Bool = { $0 % 3 != 1 }
        for m in 1...blocks {
            for metric in SearchMetric.allCases {
                for (rows, threads) in [(5, 1), (5, 2), (1, 3)] {
                    let qs = queries.rowRange(0..<rows)
                    let expected = scanner.search(queries: qs, k: 20, blocks: m, metric: metric, threads: threads)
                    let got = index.search(queries: qs, k: 20, blocks: m, metric: metric, nprobe: index.listCount, threads: threads)
                    #expect(got == expected, "\(kind) K=\(size) m=\(m) \(metric) threads=\(threads)")
                    let expectedFiltered = scanner.search(queries: qs, k: 20, blocks: m, metric: metric, filter: filter, threads: threads)
                    let gotFiltered = index.search(queries: qs, k: 20, blocks: m, metric: metric, nprobe: index.listCount,
                                                   filter: .predicate(filter), threads: threads)
                    #expect(gotFiltered == expectedFiltered, "filtered \(kind) K=\(size) m=\(m) \(metric)")
                }
            }
        }
    }

    /// A batch wide enough to be cut into several query chunks (each building its own tables and
    /// probes on a worker: 2 rows per sgemm call at D = 64, m = 8, K = 256), over two 256-query
    /// batches: still exactly CodeScanner's answer with every list probed, and exactly the best
    /// of the probed lists' items with fewer.
    @Test func chunkedBatchesEqualExhaustive() {
        let d = 64, n = 2000, blocks = 8
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: 256, dimension: d, seed: 71)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: 256, seed: 72)
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let index = Index(codes: codes, codebooks: codebooks, coarse: Self.coarse("kmeans", codes: codes, codebooks: codebooks, lists: 16))
        #expect(index.queryChunks(0..<256, workers: 2, blocks: blocks).count == 4)
        let queries = SearchFixtures.floatMatrix(rows: 300, cols: d, seed: 73)
        for threads in [1, 2] {
            let expected = scanner.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, threads: threads)
            #expect(index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: 16, threads: threads) == expected)
        }
        let got = index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: 3, threads: 2)
        let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: blocks)
        let probed = index.coarse.probe(queries: queries, rows: 0..<300, tables: tables, metric: .innerProduct, nprobe: 3)
        let listOf = (0..<n).map { index.location(of: $0)!.list }
        for qi in stride(from: 0, to: 300, by: 37) {
            let lists = Set(probed[qi])
            // The whole batch, so that the tables are computed in the same sgemm calls.
            #expect(got[qi] == scanner.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct,
                                              filter: { lists.contains(listOf[$0]) }, threads: 2)[qi], "query \(qi)")
        }
    }

    /// nprobe < nlist: exactly the exhaustive answer restricted to the probed lists' items, for
    /// float data and the one-byte m = 8 path (7 stored codes under the first-block partition).
    @Test(arguments: ["first", "kmeans"])
    func probedListsOnly(kind: String) {
        let d = 8, n = 4000, blocks = 8
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: 256, dimension: d, seed: 51)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: 256, seed: 52)
        let norms = PrefixNorms(codes: codes, codebooks: codebooks)
        let scanner = CodeScanner(codes: codes, norms: norms, codebooks: codebooks)
        let index = Index(codes: codes, norms: norms, codebooks: codebooks, coarse: Self.coarse(kind, codes: codes, codebooks: codebooks, lists: 30))
        let queries = SearchFixtures.floatMatrix(rows: 4, cols: d, seed: 53)
        for metric in SearchMetric.allCases {
            for m in [1, 5, 8] {
                for nprobe in [1, 3, 10] {
                    let got = index.search(queries: queries, k: 15, blocks: m, metric: metric, nprobe: nprobe, threads: 2)
                    let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: m)
                    let probed = index.coarse.probe(queries: queries, rows: 0..<4, tables: tables, metric: metric, nprobe: nprobe)
                    for qi in 0..<4 {
                        let lists = Set(probed[qi])
                        let listOf = (0..<n).map { index.location(of: $0)!.list }
                        let expected = scanner.search(queries: queries.rowRange(qi..<(qi + 1)), k: 15, blocks: m, metric: metric,
                                                      filter: { lists.contains(listOf[$0]) }, threads: 1)[0]
                        #expect(got[qi] == expected, "\(kind) \(metric) m=\(m) nprobe=\(nprobe) query \(qi)")
                    }
                }
            }
        }
    }

    /// Clustered data, codebooks and coarse centroids trained on it: a few lists already find
    /// almost all of the exhaustive top 10.
    @Test func recallOnClusteredData() {
        let (data, _) = TestData.clusters(classes: 24, perClass: 150, dim: 12, spread: 0.4, seed: 61)
        var random = SeededRandom(seed: 62)
        let codebooks = KMeans.residual(data, blocks: 4, k: 64, iterations: 8, random: &random)
        let codes = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean).encode(data)
        let (queryData, _) = TestData.clusters(classes: 24, perClass: 2, dim: 12, spread: 0.4, seed: 61)
        let exact = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
            .search(queries: queryData, k: 10, blocks: 4, metric: .innerProduct)
        for coarse in [CoarseQuantizer.firstBlock(codebooks),
                       CoarseQuantizer.trainCentroids(sample: codes, codebooks: codebooks, lists: 24, iterations: 10)] {
            let index = Index(codes: codes, codebooks: codebooks, coarse: coarse)
            var previous = 0.0
            for nprobe in [1, 4, 12, coarse.listCount] {
                let got = index.search(queries: queryData, k: 10, blocks: 4, metric: .innerProduct, nprobe: nprobe)
                let recall = zip(got, exact).map { Double(Set($0.map(\.index)).intersection($1.map(\.index)).count) / 10 }
                    .reduce(0, +) / Double(exact.count)
                #expect(recall >= previous, "\(coarse.kind) recall fell at nprobe \(nprobe)")
                if nprobe == 4 { #expect(recall >= 0.9, "\(coarse.kind) recall@10 at nprobe 4: \(recall)") }
                previous = recall
            }
            #expect(previous == 1)
        }
    }

    /// Removing, replacing and re-adding items: the index answers as CodeScanner over the new
    /// codes restricted to present items, and the direct map points at every entry.
    @Test(arguments: [(false, "first"), (false, "kmeans"), (true, "first"), (true, "kmeans")])
    func addRemoveConsistency(fastScan: Bool, kind: String) {
        let d = 6, n = 2000, blocks = 4, size = fastScan ? 16 : 256
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: size, dimension: d, seed: 71)
        var codes = SearchFixtures.codes(count: n, blocks: blocks, size: size, seed: 72)
        var index = Index(codebooks: codebooks, coarse: Self.coarse(kind, codes: codes, codebooks: codebooks),
                          blocks: blocks, fastScan: fastScan, keepsNorms: !fastScan)
        index.add(codes: codes, ids: Array(0..<n), norms: fastScan ? nil : PrefixNorms(codes: codes, codebooks: codebooks))
        var random = SearchTestRandom(seed: 73)
        var present = Set(0..<n)
        for round in 0..<3 {
            let removed = (0..<300).map { _ in random.below(n) }
            index.remove(removed)
            present.subtract(removed)
            // Replace some present items' codes and re-add some removed ones with new codes.
            let changed = Array(Set((0..<200).map { _ in random.below(n) })).sorted()
            let fresh = SearchFixtures.codes(count: changed.count, blocks: blocks, size: size, seed: 74 + UInt64(round))
            for (r, id) in changed.enumerated() { for b in 0..<blocks { codes.setCode(item: id, block: b, fresh.code(item: r, block: b)) } }
            index.add(codes: fresh, ids: changed, norms: fastScan ? nil : PrefixNorms(codes: fresh, codebooks: codebooks))
            present.formUnion(changed)
            #expect(index.count == present.count && index.lists.totalSize == present.count)
            for list in 0..<index.listCount {
                index.lists.withList(list) { ids, _ in
                    for (slot, id) in ids.enumerated() { #expect(index.location(of: Int(id))! == (list, slot)) }
                }
            }
            let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
            let queries = SearchFixtures.integerMatrix(rows: 3, cols: d, seed: 75)
            let alive = present
            for metric in fastScan ? [SearchMetric.innerProduct] : SearchMetric.allCases {
                for m in [1, blocks] {
                    let expected = scanner.search(queries: queries, k: 25, blocks: m, metric: metric, filter: { alive.contains($0) })
                    #expect(index.search(queries: queries, k: 25, blocks: m, metric: metric, nprobe: index.listCount) == expected,
                            "round \(round) \(kind) fastScan=\(fastScan) \(metric) m=\(m)")
                }
            }
        }
        index.remove(Array(0..<n))
        #expect(index.count == 0 && index.lists.totalSize == 0)
        #expect(index.search(queries: SearchFixtures.integerMatrix(rows: 2, cols: d, seed: 76), k: 5, blocks: blocks,
                             metric: .innerProduct, nprobe: 3) == [[], []])
    }

    /// More lists than items (most lists empty), a single block under the first-block partition
    /// (entries store no code at all), and an empty index.
    /// Building from all rows at once (the counting-sort fill a start-up uses) gives the same
    /// entries in the same slots as adding the rows, with or without known lists for some rows.
    @Test(arguments: ["first", "kmeans"])
    func fillEqualsAdd(kind: String) {
        let codebooks = SearchFixtures.codebooks(blocks: 3, size: 256, dimension: 5, seed: 51)
        let codes = SearchFixtures.codes(count: 3_000, blocks: 3, size: 256, seed: 52)
        let coarse = Self.coarse(kind, codes: codes, codebooks: codebooks)
        var added = Index(codebooks: codebooks, coarse: coarse, blocks: 3)
        added.add(codes: codes, ids: Array(0..<codes.count))
        let truth = coarse.assign(codes, codebooks: codebooks, threads: 1)
        let someKnown = truth.enumerated().map { i, l in i % 3 == 0 ? Int32(-1) : Int32(l) }
        for known in [nil, someKnown] {
            let filled = Index(codes: codes, codebooks: codebooks, coarse: coarse, assigned: known, threads: 2)
            #expect(filled.count == added.count)
            for l in 0..<coarse.listCount {
                let a = added.lists.withList(l) { (Array($0), Array($1)) }
                let f = filled.lists.withList(l) { (Array($0), Array($1)) }
                #expect(a.0 == f.0 && a.1 == f.1, "list \(l)")
            }
            #expect((0..<codes.count).allSatisfy { added.location(of: $0)! == filled.location(of: $0)! })
        }
    }

    @Test func emptyListsAndShortCodes() {
        let d = 5
        let codebooks = SearchFixtures.codebooks(blocks: 3, size: 256, dimension: d, seed: 81)
        let codes = SearchFixtures.codes(count: 40, blocks: 3, size: 256, seed: 82)
        let norms = PrefixNorms(codes: codes, codebooks: codebooks)
        let scanner = CodeScanner(codes: codes, norms: norms, codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 3, cols: d, seed: 83)
        let sparse = Index(codes: codes, norms: norms, codebooks: codebooks,
                           coarse: Self.coarse("kmeans", codes: codes, codebooks: codebooks, lists: 64))
        #expect((0..<64).contains { sparse.lists.size($0) == 0 })
        for metric in SearchMetric.allCases {
            #expect(sparse.search(queries: queries, k: 50, blocks: 3, metric: metric, nprobe: 64)
                    == scanner.search(queries: queries, k: 50, blocks: 3, metric: metric))
        }
        let one = codes.prefix(1)
        let oneNorms = PrefixNorms(codes: one, codebooks: codebooks)
        let single = Index(codes: one, norms: oneNorms, codebooks: codebooks, coarse: .firstBlock(codebooks))
        if case .rows(let bytes) = single.lists.layout { #expect(bytes == 0) }
        for metric in SearchMetric.allCases {
            #expect(single.search(queries: queries, k: 7, blocks: 1, metric: metric, nprobe: 256)
                    == CodeScanner(codes: one, norms: oneNorms, codebooks: codebooks).search(queries: queries, k: 7, blocks: 1, metric: metric))
        }
        let empty = Index(codebooks: codebooks, coarse: .firstBlock(codebooks), blocks: 3)
        #expect(empty.search(queries: queries, k: 5, blocks: 2, metric: .innerProduct, nprobe: 8) == [[], [], []])
        #expect(empty.search(queries: queries.rowRange(0..<0), k: 5, blocks: 2, metric: .innerProduct, nprobe: 8).isEmpty)
    }
}
