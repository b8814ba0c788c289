import DPQEngine
import Foundation
import Testing

@Suite struct RetrievalMetricsTests {
    // Tiny database, D = 1, one codebook with codewords [4, 3, 2, 1], query q = [1].
    // Item codes [2, 0, 3, 1, 0, 2] reconstruct to [2, 4, 1, 3, 4, 2].
    //   inner product ranking (ties by index): [1, 4, 3, 0, 5, 2]
    //   squared L2 distances (1 - x)^2 = [1, 9, 0, 4, 9, 1] -> ranking [2, 0, 5, 3, 1, 4]
    // Database labels: items 0, 1, 5 have class 0; items 2, 3, 4 class 1.
    // Queries: q0 {0}, q1 {2} (nothing relevant), q2 {1, 3} (multi-label).
    static let tinyCodebooks = Codebooks(blocks: 1, size: 4, dimension: 1, values: [4, 3, 2, 1])
    static let tinyCodes = CodeMatrix(count: 6, blocks: 1, bytesPerCode: 1, bytes: [2, 0, 3, 1, 0, 2])
    static let tinyQueries = Matrix(rows: 3, cols: 1, values: [1, 1, 1])
    static let tinyQueryLabels = Labels(multi: [[0], [2], [1, 3]], classCount: 4)
    static let tinyDatabaseLabels = Labels(single: [0, 0, 1, 1, 1, 0], classCount: 4)

    static func tiny(_ metric: SearchMetric, mapAt r: Int?, exact: [[Int]]? = nil) -> CodeLengthReport {
        let reports = RetrievalEvaluator.evaluate(
            queries: tinyQueries, queryLabels: tinyQueryLabels, codes: tinyCodes,
            norms: PrefixNorms(codes: tinyCodes, codebooks: tinyCodebooks), codebooks: tinyCodebooks,
            databaseLabels: tinyDatabaseLabels, metric: metric, mapAt: r, precisionAt: [1, 4, 0, -3],
            recallAt: [1, 2, 3], exactNeighbours: exact, blocks: nil, threads: 2)
        #expect(reports.count == 1)
        return reports[0]
    }

    @Test func handComputedAveragePrecisionOfRankings() {
        let queryLabels = Labels(single: [0, 0, 2], classCount: 3)
        let databaseLabels = Labels(single: [0, 1, 0, 1], classCount: 3)
        // q0 ranking [0, 1, 2, 3]: relevance [1, 0, 1, 0] -> AP = (1/1 + 2/3) / 2 = 5/6
        // q1 ranking [3, 2, 1, 0]: relevance [0, 1, 0, 1] -> AP = (1/2 + 2/4) / 2 = 1/2
        // q2 has no relevant item                          -> AP = 0
        let rankings = [[0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 2, 3]]
        let all = RetrievalEvaluator.meanAveragePrecision(rankings: rankings, queryLabels: queryLabels,
                                                          databaseLabels: databaseLabels, R: nil)
        #expect(abs(all - (5.0 / 6 + 0.5 + 0) / 3) < 1e-12)
        // R = 2: q0 [1, 0] -> 1/1 = 1; q1 [0, 1] -> (1/2) / 1 = 1/2; q2 0
        let top2 = RetrievalEvaluator.meanAveragePrecision(rankings: rankings, queryLabels: queryLabels,
                                                           databaseLabels: databaseLabels, R: 2)
        #expect(abs(top2 - 1.5 / 3) < 1e-12)
    }

    @Test func tinyInnerProductReport() {
        // Relevance along [1, 4, 3, 0, 5, 2]:
        //   q0 {0}:    [1, 0, 0, 1, 1, 0] -> AP = (1/1 + 2/4 + 3/5) / 3 = 0.7
        //   q1 {2}:    nothing relevant   -> AP = 0
        //   q2 {1, 3}: [0, 1, 1, 0, 0, 1] -> AP = (1/2 + 2/3 + 3/6) / 3 = 5/9
        let all = Self.tiny(.innerProduct, mapAt: nil)
        #expect(all.blocks == 1 && all.bits == 2)
        #expect(abs(all.meanAveragePrecision - (0.7 + 0 + 5.0 / 9) / 3) < 1e-12)
        // P@1 = (1 + 0 + 0) / 3; P@4 = (2/4 + 0 + 2/4) / 3. Non-positive ks are ignored.
        #expect(all.precisionAtK.keys.sorted() == [1, 4])
        #expect(abs(all.precisionAtK[1]! - 1.0 / 3) < 1e-12)
        #expect(abs(all.precisionAtK[4]! - 1.0 / 3) < 1e-12)
        // No exact neighbours: no recall.
        #expect(all.recallAtK.isEmpty)

        // R = 3: q0 [1, 0, 0] -> 1; q1 0; q2 [0, 1, 1] -> (1/2 + 2/3) / 2 = 7/12
        let top3 = Self.tiny(.innerProduct, mapAt: 3)
        #expect(abs(top3.meanAveragePrecision - (1 + 0 + 7.0 / 12) / 3) < 1e-12)
        // R beyond N is the whole database.
        #expect(Self.tiny(.innerProduct, mapAt: 100) == all)
    }

    @Test func tinySquaredL2Report() {
        // Ranking [2, 0, 5, 3, 1, 4]:
        //   q0 {0}:    [0, 1, 1, 0, 1, 0] -> AP = (1/2 + 2/3 + 3/5) / 3 = 53/90
        //   q1:        0
        //   q2 {1, 3}: [1, 0, 0, 1, 0, 1] -> AP = (1/1 + 2/4 + 3/6) / 3 = 2/3
        let all = Self.tiny(.squaredL2, mapAt: nil)
        #expect(abs(all.meanAveragePrecision - (53.0 / 90 + 0 + 2.0 / 3) / 3) < 1e-12)
        // P@1 = (0 + 0 + 1) / 3
        #expect(abs(all.precisionAtK[1]! - 1.0 / 3) < 1e-12)
    }

    @Test func tinyRecall() {
        // Code top-k (inner product) = [1, 4, 3, ...]. Exact lists:
        //   q0 [4, 1, 0]: R@1 {1}∩{4} = 0;   R@2 {1,4}∩{4,1} = 2/2; R@3 {1,4,3}∩{4,1,0} = 2/3
        //   q1 [2, 3, 5]: R@1 0;             R@2 0;                 R@3 {3} -> 1/3
        //   q2 [1, 3, 0]: R@1 {1} -> 1;      R@2 {1} -> 1/2;        R@3 {1,3} -> 2/3
        let report = Self.tiny(.innerProduct, mapAt: nil, exact: [[4, 1, 0], [2, 3, 5], [1, 3, 0]])
        #expect(report.recallAtK.keys.sorted() == [1, 2, 3])
        #expect(abs(report.recallAtK[1]! - 1.0 / 3) < 1e-12)
        #expect(abs(report.recallAtK[2]! - 1.5 / 3) < 1e-12)
        #expect(abs(report.recallAtK[3]! - (2.0 / 3 + 1.0 / 3 + 2.0 / 3) / 3) < 1e-12)
    }

    struct Setup {
        let queries: Matrix, queryLabels: Labels, codes: CodeMatrix, codebooks: Codebooks
        let norms: PrefixNorms, databaseLabels: Labels, exact: [[Int]]
    }

    static func setup(size: Int, count n: Int = 3000) -> Setup {
        let d = 6, bM = 4, q = 20
        let codebooks = SearchFixtures.codebooks(blocks: bM, size: size, dimension: d, seed: 201)
        let codes = SearchFixtures.codes(count: n, blocks: bM, size: size, seed: 202)
        let queries = SearchFixtures.integerMatrix(rows: q, cols: d, seed: 203)
        var r = SearchTestRandom(seed: 204)
        let databaseLabels = Labels(multi: (0..<n).map { _ in r.below(4) == 0 ? [r.below(6), r.below(6)] : [r.below(6)] },
                                    classCount: 6)
        let queryLabels = Labels(multi: (0..<q).map { i in i == 0 ? [] : [r.below(6)] }, classCount: 6)
        let features = SearchFixtures.floatMatrix(rows: n, cols: d, seed: 205)
        let exact = CodeScanner.exactSearch(queries: queries, database: features, k: 50, metric: .innerProduct)
            .map { $0.map(\.index) }
        return Setup(queries: queries, queryLabels: queryLabels, codes: codes, codebooks: codebooks,
                     norms: PrefixNorms(codes: codes, codebooks: codebooks), databaseLabels: databaseLabels,
                     exact: exact)
    }

    static func evaluate(_ s: Setup, codes: CodeMatrix, codebooks: Codebooks, norms: PrefixNorms,
                         metric: SearchMetric, mapAt r: Int?, blocks: [Int]? = nil, threads: Int = 2) -> [CodeLengthReport] {
        RetrievalEvaluator.evaluate(queries: s.queries, queryLabels: s.queryLabels, codes: codes, norms: norms,
                                    codebooks: codebooks, databaseLabels: s.databaseLabels, metric: metric,
                                    mapAt: r, precisionAt: [1, 10, 100], recallAt: [1, 10, 50],
                                    exactNeighbours: s.exact, blocks: blocks, threads: threads)
    }

    /// One pass over the codes reports every m exactly as evaluating the m-block codes alone.
    @Test(arguments: [16, 1024])
    func everyPrefixEqualsSeparateEvaluation(size: Int) {
        let s = Self.setup(size: size)
        for metric in SearchMetric.allCases {
            for r in [nil, 100, 500] as [Int?] {
                let joint = Self.evaluate(s, codes: s.codes, codebooks: s.codebooks, norms: s.norms, metric: metric, mapAt: r)
                #expect(joint.map(\.blocks) == [1, 2, 3, 4])
                #expect(joint.map(\.bits) == [1, 2, 3, 4].map { $0 * (size == 16 ? 4 : 10) })
                for m in 1...4 {
                    let codes = s.codes.prefix(m)
                    let alone = Self.evaluate(s, codes: codes, codebooks: s.codebooks.prefix(m),
                                              norms: PrefixNorms(codes: codes, codebooks: s.codebooks),
                                              metric: metric, mapAt: r, blocks: [m])
                    #expect(alone == [joint[m - 1]], "m=\(m) \(metric) R=\(String(describing: r))")
                }
                let subset = Self.evaluate(s, codes: s.codes, codebooks: s.codebooks, norms: s.norms, metric: metric,
                                           mapAt: r, blocks: [4, 2, 9, 2, 0])
                #expect(subset == [joint[1], joint[3]])
                let oneThread = Self.evaluate(s, codes: s.codes, codebooks: s.codebooks, norms: s.norms,
                                              metric: metric, mapAt: r, threads: 1)
                #expect(oneThread == joint)
            }
        }
    }

    /// evaluate() agrees with metrics computed from CodeScanner's full rankings.
    @Test func agreesWithScannerRankings() {
        let s = Self.setup(size: 256, count: 2000)
        let scanner = CodeScanner(codes: s.codes, norms: s.norms, codebooks: s.codebooks)
        for metric in SearchMetric.allCases {
            for r in [nil, 60, 900] as [Int?] {
                let reports = Self.evaluate(s, codes: s.codes, codebooks: s.codebooks, norms: s.norms, metric: metric, mapAt: r)
                for m in 1...4 {
                    let rankings = scanner.search(queries: s.queries, k: 2000, blocks: m, metric: metric)
                        .map { $0.map(\.index) }
                    let map = RetrievalEvaluator.meanAveragePrecision(rankings: rankings, queryLabels: s.queryLabels,
                                                                      databaseLabels: s.databaseLabels, R: r)
                    #expect(reports[m - 1].meanAveragePrecision == map)
                    for k in [1, 10, 100] {
                        let p = rankings.enumerated().reduce(0.0) { sum, e in
                            sum + Double(e.element.prefix(k).filter { s.queryLabels.shares(e.offset, with: s.databaseLabels, $0) }.count) / Double(k)
                        } / Double(rankings.count)
                        #expect(abs(reports[m - 1].precisionAtK[k]! - p) < 1e-12)
                    }
                    for k in [1, 10, 50] {
                        let recall = rankings.enumerated().reduce(0.0) { sum, e in
                            sum + Double(Set(e.element.prefix(k)).intersection(s.exact[e.offset].prefix(k)).count) / Double(k)
                        } / Double(rankings.count)
                        #expect(abs(reports[m - 1].recallAtK[k]! - recall) < 1e-12)
                    }
                }
            }
        }
    }

    @Test func floatFeaturesAgreeWithExactSearchRankings() {
        let s = Self.setup(size: 16, count: 1500)
        let features = SearchFixtures.integerMatrix(rows: 1500, cols: 6, seed: 301)
        for metric in SearchMetric.allCases {
            for r in [nil, 100] as [Int?] {
                let result = RetrievalEvaluator.evaluateFloat(queries: s.queries, queryLabels: s.queryLabels,
                                                              database: features, databaseLabels: s.databaseLabels,
                                                              metric: metric, mapAt: r, precisionAt: [5, 50], threads: 3)
                let rankings = CodeScanner.exactSearch(queries: s.queries, database: features, k: 1500, metric: metric)
                    .map { $0.map(\.index) }
                #expect(result.map == RetrievalEvaluator.meanAveragePrecision(
                    rankings: rankings, queryLabels: s.queryLabels, databaseLabels: s.databaseLabels, R: r))
                #expect(result.precisionAtK.keys.sorted() == [5, 50])
            }
        }
    }

    @Test func emptyInputsAndCodableReports() throws {
        let s = Self.setup(size: 16, count: 100)
        let noQueries = RetrievalEvaluator.evaluate(
            queries: Matrix(rows: 0, cols: 6), queryLabels: Labels(multi: [], classCount: 6), codes: s.codes,
            norms: nil, codebooks: s.codebooks, databaseLabels: s.databaseLabels, metric: .innerProduct,
            mapAt: nil, precisionAt: [10], recallAt: [], exactNeighbours: nil, blocks: [2])
        #expect(noQueries == [CodeLengthReport(blocks: 2, bits: 8, meanAveragePrecision: 0,
                                               precisionAtK: [10: 0], recallAtK: [:])])
        let reports = Self.evaluate(s, codes: s.codes, codebooks: s.codebooks, norms: s.norms, metric: .squaredL2, mapAt: nil)
        let decoded = try JSONDecoder().decode([CodeLengthReport].self, from: JSONEncoder().encode(reports))
        #expect(decoded == reports)
    }
}
