import DPQEngine
import Testing

/// The fast scan against the plain scan (CodeScanner) and brute force on decoded vectors.
/// Serialized: the kernel choice is process-wide, and these tests switch it.
@Suite(.serialized) struct FastScannerTests {
    /// Every kernel this CPU has, best first; selecting one returns what was set.
    static var kernels: [FastScanKernel] {
        let best = FastScanKernel.select(.avx512)
        return FastScanKernel.allCases.filter { $0.rawValue <= best.rawValue }.reversed()
    }

    @Test(arguments: [(1, 1), (31, 3), (32, 4), (100, 5), (1000, 13)])
    func packingRoundTrips(count: Int, blocks: Int) {
        let codes = SearchFixtures.codes(count: count, blocks: blocks, size: 16, seed: UInt64(count))
        let packed = FastScanCodes(codes: codes)
        #expect(packed.unpacked() == codes)
        #expect(packed.packed.count == ((count + 31) / 32) * ((blocks + 3) / 4) * 64)
    }

    /// Appends, overwrites and removals (as an index makes them) keep the packed codes equal
    /// to packing the resulting code matrix from scratch.
    @Test func inPlaceChangesMatchRepacking() {
        let blocks = 6
        var r = SearchTestRandom(seed: 71)
        var rows: [[UInt8]] = (0..<40).map { _ in (0..<blocks).map { _ in UInt8(r.below(16)) } }
        func matrix() -> CodeMatrix {
            CodeMatrix(count: rows.count, blocks: blocks, bytesPerCode: 1, bytes: rows.flatMap { $0 })
        }
        var packed = FastScanCodes(codes: matrix())
        for step in 0..<300 {
            switch r.below(3) {
            case 0:
                let row = (0..<blocks).map { _ in UInt8(r.below(16)) }
                rows.append(row)
                packed.append(codes: row)
            case 1 where !rows.isEmpty:
                let i = r.below(rows.count)
                rows[i] = (0..<blocks).map { _ in UInt8(r.below(16)) }
                packed.set(item: i, codes: rows[i])
            default:
                if !rows.isEmpty {
                    rows.removeLast()
                    packed.removeLast()
                }
            }
            #expect(packed == FastScanCodes(codes: matrix()), "step \(step)")
        }
    }

    /// Integer data: every score is exact, so `.exact` must give brute force's ids and scores,
    /// tie-break included, for every prefix and every kernel.
    @Test func exactMatchesBruteForceOnDecodedVectors() {
        let d = 8, n = 700, blocks = 6
        let codebooks = SearchFixtures.codebooks(blocks: blocks, size: 16, dimension: d, seed: 31)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: 16, seed: 32)
        let scanner = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 5, cols: d, seed: 33)
        defer { FastScanKernel.select(.avx512) }
        for kernel in Self.kernels {
            #expect(FastScanKernel.select(kernel) == kernel)
            for m in 1...blocks {
                let decoded = SearchFixtures.decode(codes, codebooks, blocks: m)
                let expected = SearchFixtures.bruteForce(queries: queries, database: decoded, k: 25, metric: .innerProduct)
                for threads in [1, 2] {
                    let got = scanner.search(queries: queries, k: 25, blocks: m, rerank: .exact, threads: threads)
                    #expect(got == expected, "kernel \(kernel) m=\(m) threads \(threads)")
                }
            }
        }
    }

    /// Random float data, both driver modes (one query split over chunks; batches of queries
    /// in groups), every prefix: `.exact` equals CodeScanner exactly, and so does `.top(n)`.
    @Test func exactMatchesPlainScanOnRandomData() {
        let d = 16, n = 140_000, blocks = 7
        let codebooks = Codebooks(blocks: blocks, size: 16, dimension: d,
                                  values: SearchFixtures.floatMatrix(rows: blocks * 16, cols: d, seed: 41).values)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: 16, seed: 42)
        let fast = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let plain = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 37, cols: d, seed: 43)
        defer { FastScanKernel.select(.avx512) }
        for kernel in Self.kernels {
            FastScanKernel.select(kernel)
            for m in [1, 4, 5, 7] {
                let expected = plain.search(queries: queries, k: 10, blocks: m, metric: .innerProduct, threads: 1)
                // 37 queries on 2 threads: batch mode; 1 query on 2 threads: split into chunks.
                #expect(fast.search(queries: queries, k: 10, blocks: m, rerank: .exact, threads: 2) == expected,
                        "kernel \(kernel) m=\(m) batch")
                // (A one-row sgemm may round the tables differently from a 37-row one.)
                let one = queries.rowRange(0..<1)
                let expectedOne = plain.search(queries: one, k: 10, blocks: m, metric: .innerProduct, threads: 1)
                #expect(fast.search(queries: one, k: 10, blocks: m, rerank: .exact, threads: 2) == expectedOne,
                        "kernel \(kernel) m=\(m) chunks")
            }
        }
        let small = FastScanner(codes: FastScanCodes(codes: SearchFixtures.codes(count: 300, blocks: 3, size: 16, seed: 44)),
                                codebooks: codebooks)
        let smallPlain = CodeScanner(codes: small.codes.unpacked(), norms: nil, codebooks: codebooks)
        #expect(small.search(queries: queries, k: 10, blocks: 3, rerank: .top(300), threads: 1)
                == smallPlain.search(queries: queries, k: 10, blocks: 3, metric: .innerProduct, threads: 1))
    }

    /// The byte sums are the same on every kernel, so `.none` and `.top(R)` agree across kernels
    /// and thread counts; `.none` scores are within m/2 table units of the exact ones.
    @Test func kernelsAgreeAndApproximateScoresAreClose() {
        let d = 12, n = 9_999, blocks = 8
        let codebooks = Codebooks(blocks: blocks, size: 16, dimension: d,
                                  values: SearchFixtures.floatMatrix(rows: blocks * 16, cols: d, seed: 51).values)
        let codes = SearchFixtures.codes(count: n, blocks: blocks, size: 16, seed: 52)
        let fast = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let plain = CodeScanner(codes: codes, norms: nil, codebooks: codebooks)
        let queries = SearchFixtures.floatMatrix(rows: 9, cols: d, seed: 53)
        defer { FastScanKernel.select(.avx512) }
        var reference: [[SearchHit]]?, referenceTop: [[SearchHit]]?
        for kernel in Self.kernels {
            FastScanKernel.select(kernel)
            for threads in [1, 2] {
                let none = fast.search(queries: queries, k: 20, blocks: blocks, rerank: .none, threads: threads)
                let top = fast.search(queries: queries, k: 20, blocks: blocks, rerank: .top(50), threads: threads)
                if let reference, let referenceTop {
                    #expect(none == reference, "kernel \(kernel) threads \(threads)")
                    #expect(top == referenceTop, "kernel \(kernel) threads \(threads)")
                } else {
                    reference = none
                    referenceTop = top
                }
            }
        }
        let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: blocks)
        for (qi, hits) in (reference ?? []).enumerated() {
            #expect(hits.count == 20)
            var lo = Float.infinity, hi = -Float.infinity
            for b in 0..<blocks {
                for c in 0..<16 { lo = min(lo, tables[query: qi, block: b, codeword: c]); hi = max(hi, tables[query: qi, block: b, codeword: c]) }
            }
            // One table unit is at most (max - min) / 255 of the widest table.
            let unit = (hi - lo) / 255
            for h in hits {
                var exact: Float = 0
                for b in 0..<blocks { exact += tables[query: qi, block: b, codeword: codes.code(item: h.index, block: b)] }
                #expect(abs(h.score - exact) <= Float(blocks) / 2 * unit + 1e-4, "query \(qi) item \(h.index)")
            }
            // Re-ranking the top 50 of 10k random items finds most of the true top 20.
            let truth = Set(plain.search(queries: queries.rowRange(qi..<(qi + 1)), k: 20, blocks: blocks,
                                         metric: .innerProduct, threads: 1)[0].map(\.index))
            #expect(Set((referenceTop ?? [])[qi].map(\.index)).intersection(truth).count >= 16)
        }
    }

    @Test func edgeCases() {
        let codebooks = SearchFixtures.codebooks(blocks: 2, size: 16, dimension: 4, seed: 61)
        let codes = SearchFixtures.codes(count: 5, blocks: 2, size: 16, seed: 62)
        let fast = FastScanner(codes: FastScanCodes(codes: codes), codebooks: codebooks)
        let queries = SearchFixtures.integerMatrix(rows: 2, cols: 4, seed: 63)
        let expected = SearchFixtures.bruteForce(queries: queries, database: SearchFixtures.decode(codes, codebooks, blocks: 2),
                                                 k: 5, metric: .innerProduct)
        for rerank in [FastScanRerank.exact, .top(1), .top(100)] {
            #expect(fast.search(queries: queries, k: 50, blocks: 2, rerank: rerank, threads: 1) == expected, "\(rerank)")
        }
        #expect(fast.search(queries: queries, k: 0, blocks: 2) == [[], []])
        #expect(fast.search(queries: Matrix(rows: 0, cols: 4), k: 3, blocks: 2).isEmpty)
        var nan = queries
        nan[1, 2] = .nan
        let withNaN = fast.search(queries: nan, k: 3, blocks: 2)
        #expect(withNaN[0] == Array(expected[0].prefix(3)))
        #expect(withNaN[1].isEmpty)
    }
}
