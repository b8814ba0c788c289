import DPQEngine
import Testing

@Suite struct CodeScannerTests {
    /// Every prefix length, both metrics, with and without a filter, against a plain-loop
    /// ranking of the explicitly decoded vectors. Integer data makes scores exact, so ids
    /// must match including the index tie-break.
    @Test(arguments: [(16, 4), (256, 4), (1024, 3)])
    func matchesBruteForceOnDecodedVectors(size: Int, blocks: Int) {
        let d = 8, n = 600
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: size, dimension: d, seed: 11)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: size, seed: 12)
        #expect(codes.bytesPerCode == (size > 256 ? 2 : 1))
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 5, cols: d, seed: 13)
        let filter: @Sendable (Int) -> Bool = { $0 % 3 != 1 }
        for m in 1...blocks {
            let decoded = SearchFixtures.decode(codes, codebooks, blocks: m)
            for metric in SearchMetric.allCases {
                let expected = SearchFixtures.bruteForce(queries: queries, database: decoded, k: 25, metric: metric)
                let got = scanner.search(queries: queries, k: 25, blocks: m, metric: metric, threads: 1)
                #expect(got == expected, "K=\(size) m=\(m) \(metric)")
                let expectedFiltered = SearchFixtures.bruteForce(queries: queries, database: decoded, k: 25,
                                                                 metric: metric, filter: { $0 % 3 != 1 })
                let gotFiltered = scanner.search(queries: queries, k: 25, blocks: m, metric: metric,
                                                 filter: filter, threads: 1)
                #expect(gotFiltered == expectedFiltered, "filtered K=\(size) m=\(m) \(metric)")
            }
        }
    }

    /// The generic (non-unrolled) loop for m > 4.
    @Test func longCodes() {
        let codebooks = SearchFixtures.codebooks(blocks: 7, size: 16, dimension: 6, seed: 21)
        let codes = SearchFixtures.codes(count: 300, blocks: 7, size: 16, seed: 22)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 3, cols: 6, seed: 23)
        for m in [5, 7] {
            let decoded = SearchFixtures.decode(codes, codebooks, blocks: m)
            for metric in SearchMetric.allCases {
                #expect(scanner.search(queries: queries, k: 12, blocks: m, metric: metric, threads: 2)
                        == SearchFixtures.bruteForce(queries: queries, database: decoded, k: 12, metric: metric))
            }
        }
    }

    /// The one-byte m = 8 fast path (a 64-bit load per item), with codes longer than 8 blocks
    /// so the item stride differs from the bytes read, and every shorter prefix around it.
    @Test(arguments: [8, 10])
    func eightByteCodes(blocks: Int) {
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: 256, dimension: 6, seed: 31)
        let codes = SearchFixtures.codes(count: 500, blocks: blocks, size: 256, seed: 32)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 4, cols: 6, seed: 33)
        for m in 1...blocks {
            let decoded = SearchFixtures.decode(codes, codebooks, blocks: m)
            for metric in SearchMetric.allCases {
                #expect(scanner.search(queries: queries, k: 15, blocks: m, metric: metric, threads: 2)
                        == SearchFixtures.bruteForce(queries: queries, database: decoded, k: 15, metric: metric),
                        "M=\(blocks) m=\(m) \(metric)")
            }
        }
    }

    /// One query over a database big enough to be split into chunks, and many queries split
    /// between workers: any thread count gives the same hits as one thread and brute force.
    @Test func threadCountDoesNotChangeResults() {
        let d = 8, n = 40_000
        let codebooks = SearchFixtures.codebooks(blocks: 4, size: 256, dimension: d, seed: 31)
        let codes = SearchFixtures.codes(count: n, blocks: 4, size: 256, seed: 32)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 6, cols: d, seed: 33)
        let single = queries.rowRange(0..<1)
        let filter: @Sendable (Int) -> Bool = { $0 % 5 != 0 }
        for metric in SearchMetric.allCases {
            let one = scanner.search(queries: single, k: 50, blocks: 3, metric: metric, threads: 1)
            for threads in [2, 3, 8] {
                #expect(scanner.search(queries: single, k: 50, blocks: 3, metric: metric, threads: threads) == one)
            }
            let decoded = SearchFixtures.decode(codes, codebooks, blocks: 3)
            #expect(one == SearchFixtures.bruteForce(queries: single, database: decoded, k: 50, metric: metric))

            let many = scanner.search(queries: queries, k: 20, blocks: 4, metric: metric, filter: filter, threads: 1)
            #expect(scanner.search(queries: queries, k: 20, blocks: 4, metric: metric, filter: filter, threads: 4) == many)
            // Per-query scans (many queries) and chunked scans (one query) agree.
            let firstAlone = scanner.search(queries: single, k: 20, blocks: 4, metric: metric, filter: filter, threads: 3)
            #expect(firstAlone[0] == many[0])
        }
    }

    @Test func kBeyondCountReturnsEveryItem() {
        let codebooks = SearchFixtures.codebooks(blocks: 2, size: 16, dimension: 4, seed: 41)
        let codes = SearchFixtures.codes(count: 37, blocks: 2, size: 16, seed: 42)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 2, cols: 4, seed: 43)
        let decoded = SearchFixtures.decode(codes, codebooks, blocks: 2)
        for metric in SearchMetric.allCases {
            let got = scanner.search(queries: queries, k: 1000, blocks: 2, metric: metric)
            #expect(got.map(\.count) == [37, 37])
            #expect(got == SearchFixtures.bruteForce(queries: queries, database: decoded, k: 1000, metric: metric))
            let filtered = scanner.search(queries: queries, k: 1000, blocks: 2, metric: metric, filter: { $0 < 10 })
            #expect(filtered.map(\.count) == [10, 10])
        }
        #expect(scanner.search(queries: queries, k: 0, blocks: 1, metric: .innerProduct) == [[], []])
        #expect(scanner.search(queries: Matrix(rows: 0, cols: 4), k: 5, blocks: 1, metric: .innerProduct).isEmpty)
    }

    /// Squared L2 scores are true distances ||q - x_hat||^2 (with the ||q||^2 term), also for
    /// non-integer data where only a tolerance applies.
    @Test func squaredL2ScoresAreTrueDistances() {
        var r = SearchTestRandom(seed: 51)
        let d = 12
        let codebooks = Codebooks(blocks: 3, size: 32, dimension: d, values: (0..<(3 * 32 * d)).map { _ in r.float() })
        let codes = SearchFixtures.codes(count: 400, blocks: 3, size: 32, seed: 52)
        let scanner = CodeScanner(codes: codes, norms: PrefixNorms(codes: codes, codebooks: codebooks), codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 4, cols: d, seed: 53)
        let decoded = SearchFixtures.decode(codes, codebooks, blocks: 3)
        let hits = scanner.search(queries: queries, k: 10, blocks: 3, metric: .squaredL2)
        for (q, list) in hits.enumerated() {
            for hit in list {
                #expect(abs(hit.score - SearchFixtures.squaredDistance(queries, q, decoded, hit.index)) < 1e-4)
            }
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.score <= $1.score })
            // Only near-ties (within rounding) may differ from the reference order.
            let reference = SearchFixtures.bruteForce(queries: queries, database: decoded, k: 10, metric: .squaredL2)[q]
            for (a, b) in zip(list, reference) { #expect(abs(a.score - b.score) < 1e-4) }
        }
    }

    @Test func exactSearchMatchesPlainLoops() {
        let queries = SearchFixtures.integerMatrix(rows: 7, cols: 5, seed: 61)
        let database = SearchFixtures.integerMatrix(rows: 5000, cols: 5, seed: 62)
        for metric in SearchMetric.allCases {
            let expected = SearchFixtures.bruteForce(queries: queries, database: database, k: 30, metric: metric)
            #expect(CodeScanner.exactSearch(queries: queries, database: database, k: 30, metric: metric, threads: 1) == expected)
            #expect(CodeScanner.exactSearch(queries: queries, database: database, k: 30, metric: metric, threads: 3) == expected)
        }
        let small = database.rowRange(0..<9)
        #expect(CodeScanner.exactSearch(queries: queries, database: small, k: 50, metric: .innerProduct).allSatisfy { $0.count == 9 })
    }
}
