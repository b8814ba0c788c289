import DPQEngine
import Testing

@Suite struct LookupTablesTests {
    @Test func matchesExplicitDotProducts() {
        let d = 9, k = 32
        let codebooks = SearchFixtures.codebooks(blocks: 4, size: k, dimension: d, seed: 91)
        let queries = SearchFixtures.integerMatrix(rows: 6, cols: d, seed: 92)
        for m in [1, 3, 4] {
            let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: m)
            #expect(tables.queries == 6 && tables.blocks == m && tables.size == k)
            #expect(tables.values.count == 6 * m * k)
            for q in 0..<6 {
                #expect(tables.table(query: q).count == m * k)
                for i in 0..<m {
                    for c in 0..<k {
                        var dot: Float = 0
                        let base = codebooks.offset(block: i, codeword: c)
                        for j in 0..<d { dot += queries[q, j] * codebooks.values[base + j] }
                        #expect(tables[query: q, block: i, codeword: c] == dot)
                        #expect(tables.values[(q * m + i) * k + c] == dot)
                    }
                }
            }
        }
        let none = LookupTables(queries: Matrix(rows: 0, cols: d), codebooks: codebooks, blocks: 2)
        #expect(none.queries == 0 && none.values.isEmpty)
    }

    @Test func floatDataWithinRounding() {
        var r = SearchTestRandom(seed: 101)
        let codebooks = Codebooks(blocks: 2, size: 8, dimension: 33, values: (0..<(2 * 8 * 33)).map { _ in r.float() })
        let queries = SearchFixtures.floatMatrix(rows: 3, cols: 33, seed: 102)
        let tables = LookupTables(queries: queries, codebooks: codebooks, blocks: 2)
        for q in 0..<3 {
            for i in 0..<2 {
                for c in 0..<8 {
                    var dot: Double = 0
                    let base = codebooks.offset(block: i, codeword: c)
                    for j in 0..<33 { dot += Double(queries[q, j]) * Double(codebooks.values[base + j]) }
                    #expect(abs(Double(tables[query: q, block: i, codeword: c]) - dot) < 1e-5)
                }
            }
        }
    }
}
