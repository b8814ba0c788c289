@testable import DPQEngine
import Testing

/// K = 16 lists in the packed fast-scan layout: `.exact` with every list probed is CodeScanner's
/// answer on every kernel, with and without filters; fewer lists give the best of those lists.
@Suite(.serialized) struct IVFFastScanTests {
    typealias Index = IVFIndex<ArrayInvertedLists>

    static func data(blocks: Int, n: Int, d: Int, seed: UInt64) -> (Codebooks, CodeMatrix) {
        let cb = SearchFixtures.floatMatrix(rows: blocks * 16, cols: d, seed: seed)
        return (Codebooks(blocks: blocks, size: 16, dimension: d, values: cb.values),
                SearchFixtures.codes(count: n, blocks: blocks, size: 16, seed: seed + 1))
    }

    @Test(arguments: ["first", "kmeans"])
    func exactEqualsExhaustiveOnEveryKernel(kind: String) {
        let d = 8, n = 3000, blocks = 6
        let (codebooks, codes) = Self.data(blocks: blocks, n: n, d: d, seed: 91)
        let coarse: CoarseQuantizer = kind == "first" ? .firstBlock(codebooks)
            : .trainCentroids(sample: codes, codebooks: codebooks, lists: 20, iterations: 5)
        let index = Index(codes: codes, codebooks: codebooks, coarse: coarse, fastScan: true)
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 5, cols: d, seed: 93)
        let filter: @Sendable (Int) -> Bool = { $0 % 4 != 2 }
        var bitmap = [UInt64](repeating: 0, count: (n + 63) / 64)
        for i in 0..<n where filter(i) { bitmap[i / 64] |= 1 << UInt64(i % 64) }
        let best = FastScanKernel.current
        defer { FastScanKernel.select(best) }
        for kernel in FastScanKernel.allCases where kernel.rawValue <= best.rawValue {
            FastScanKernel.select(kernel)
            for m in [1, 4, 6] {
                for (rows, threads) in [(5, 2), (1, 2), (5, 1)] {
                    let qs = queries.rowRange(0..<rows)
                    let expected = scanner.search(queries: qs, k: 12, blocks: m, metric: .innerProduct, threads: threads)
                    #expect(index.search(queries: qs, k: 12, blocks: m, metric: .innerProduct, nprobe: index.listCount,
                                         threads: threads) == expected, "\(kernel) \(kind) m=\(m)")
                    let filtered = scanner.search(queries: qs, k: 12, blocks: m, metric: .innerProduct, filter: filter, threads: threads)
                    #expect(index.search(queries: qs, k: 12, blocks: m, metric: .innerProduct, nprobe: index.listCount,
                                         filter: .bitmap(bitmap), threads: threads) == filtered, "bitmap \(kernel) \(kind) m=\(m)")
                    #expect(index.search(queries: qs, k: 12, blocks: m, metric: .innerProduct, nprobe: index.listCount,
                                         filter: .predicate(filter), threads: threads) == filtered, "predicate \(kernel) \(kind) m=\(m)")
                }
            }
        }
    }

    /// Many queries at D = 64, m = 16 (16 rows per sgemm call: the batch is cut into chunks, and
    /// each list is scanned for up to 4 of a chunk's queries at once): with every list probed,
    /// `.exact` is CodeScanner's answer and `.none` is the exhaustive fast scan's byte ranking,
    /// on every kernel; with fewer lists, `.exact` is the best of the probed lists' items.
    @Test func listMajorBatchesEqualExhaustive() {
        let d = 64, n = 2500, blocks = 16
        let (codebooks, codes) = Self.data(blocks: blocks, n: n, d: d, seed: 97)
        let coarse = CoarseQuantizer.trainCentroids(sample: codes, codebooks: codebooks, lists: 12, iterations: 5)
        let index = Index(codes: codes, codebooks: codebooks, coarse: coarse, fastScan: true)
        #expect(index.queryChunks(0..<256, workers: 2, blocks: blocks).count == 4)
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let fast = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 290, cols: d, seed: 98)
        let best = FastScanKernel.current
        defer { FastScanKernel.select(best) }
        for kernel in FastScanKernel.allCases where kernel.rawValue <= best.rawValue {
            FastScanKernel.select(kernel)
            for threads in [1, 2] {
                #expect(index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: 12, threads: threads)
                        == scanner.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, threads: threads), "\(kernel)")
                #expect(index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: 12, rerank: .none,
                                     threads: threads)
                        == fast.search(queries: queries, k: 10, blocks: blocks, rerank: .none, threads: threads), "none \(kernel)")
            }
        }
        let got = index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: 4, threads: 2)
        let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: blocks)
        let probed = coarse.probe(queries: queries, rows: 0..<290, tables: tables, metric: .innerProduct, nprobe: 4)
        let listOf = (0..<n).map { index.location(of: $0)!.list }
        for qi in stride(from: 0, to: 290, by: 29) {
            let lists = Set(probed[qi])
            // The whole batch, so that the tables are computed in the same sgemm calls.
            #expect(got[qi] == scanner.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct,
                                              filter: { lists.contains(listOf[$0]) }, threads: 2)[qi], "query \(qi)")
        }
    }

    /// nprobe < nlist: the exact answer over the probed lists' items; the approximate re-rank
    /// modes return k items of those lists.
    @Test func probedListsOnly() {
        let d = 8, n = 3000, blocks = 8
        let (codebooks, codes) = Self.data(blocks: blocks, n: n, d: d, seed: 95)
        let coarse = CoarseQuantizer.trainCentroids(sample: codes, codebooks: codebooks, lists: 25, iterations: 5)
        let index = Index(codes: codes, codebooks: codebooks, coarse: coarse, fastScan: true)
        let scanner = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 3, cols: d, seed: 96)
        let listOf = (0..<n).map { index.location(of: $0)!.list }
        for nprobe in [1, 5] {
            let got = index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: nprobe)
            let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: blocks)
            let probed = coarse.probe(queries: queries, rows: 0..<3, tables: tables, metric: .innerProduct, nprobe: nprobe)
            for qi in 0..<3 {
                let lists = Set(probed[qi])
                #expect(got[qi] == scanner.search(queries: queries.rowRange(qi..<(qi + 1)), k: 10, blocks: blocks,
                                                  metric: .innerProduct, filter: { lists.contains(listOf[$0]) })[0])
            }
            for rerank in [FastScanRerank.none, .top(30)] {
                let approx = index.search(queries: queries, k: 10, blocks: blocks, metric: .innerProduct, nprobe: nprobe, rerank: rerank)
                for qi in 0..<3 {
                    #expect(approx[qi].count == 10)
                    #expect(approx[qi].allSatisfy { Set(probed[qi]).contains(listOf[$0.index]) })
                }
            }
        }
    }
}
