import DPQEngine
import Testing

@Suite struct PrefixNormsTests {
    @Test(arguments: [16, 300])
    func matchesExplicitReconstructions(size: Int) {
        let codebooks = SearchFixtures.codebooks(blocks: 5, size: size, dimension: 7, seed: 71)
        let codes = SearchFixtures.codes(count: 9000, blocks: 5, size: size, seed: 72)
        let norms = PrefixNorms(codes: codes, codebooks: codebooks, threads: 3)
        #expect(norms.count == 9000 && norms.blocks == 5 && norms.values.count == 9000 * 5)
        for m in 1...5 {
            let decoded = SearchFixtures.decode(codes, codebooks, blocks: m)
            for i in stride(from: 0, to: 9000, by: 7) {
                // Integer codewords: every sum is exact, so equality is expected.
                #expect(norms.norm(item: i, blocks: m) == SearchFixtures.dot(decoded, i, decoded, i))
            }
        }
        #expect(PrefixNorms(codes: codes, codebooks: codebooks, threads: 1) == norms)
    }

    @Test func codesMayUseFewerBlocksThanTheCodebooks() {
        let codebooks = SearchFixtures.codebooks(blocks: 4, size: 16, dimension: 3, seed: 81)
        let codes = SearchFixtures.codes(count: 50, blocks: 4, size: 16, seed: 82)
        let full = PrefixNorms(codes: codes, codebooks: codebooks)
        let short = PrefixNorms(codes: codes.prefix(2), codebooks: codebooks)
        for i in 0..<50 {
            for m in 1...2 { #expect(short.norm(item: i, blocks: m) == full.norm(item: i, blocks: m)) }
        }
        let empty = PrefixNorms(codes: CodeMatrix(count: 0, blocks: 4, codebookSize: 16), codebooks: codebooks)
        #expect(empty.values.isEmpty)
    }
}
