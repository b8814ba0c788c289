import Testing
import DPQEngine

@Suite struct PCATests {
    @Test func axesAreOrthonormalAndOrderedByVariance() {
        // Variance 9 along (1,1)/sqrt2, 1 along (1,-1)/sqrt2, tiny along z.
        var r = SeededRandom(seed: 3)
        var rows: [[Float]] = []
        for _ in 0..<2000 {
            let a = 3 * r.normal(), b = r.normal(), c = 0.01 * r.normal()
            rows.append([(a + b) / Float(2).squareRoot() + 5, (a - b) / Float(2).squareRoot() - 2, c])
        }
        let x = Matrix(rows)
        let pca = PCA(fitting: x)
        let rr = BLAS.product(pca.rotation, pca.rotation, transposeB: true)
        for i in 0..<3 { for j in 0..<3 { #expect(abs(rr[i, j] - (i == j ? 1 : 0)) < 1e-4) } }
        #expect(abs(abs(pca.rotation[0, 0]) - Float(0.5).squareRoot()) < 0.02)
        #expect(abs(pca.rotation[2, 2]) > 0.99)
        let z = pca.project(x)
        let back = pca.unproject(z)
        for i in x.values.indices { #expect(abs(back.values[i] - x.values[i]) < 1e-3) }
        // Variance of the projected coordinates decreases.
        let v = (0..<3).map { t in (0..<z.rows).map { z[$0, t] * z[$0, t] }.reduce(0, +) / Float(z.rows) }
        #expect(v[0] > v[1] && v[1] > v[2])
        #expect(abs(v[0] - 9) < 1 && abs(v[1] - 1) < 0.2)
    }

    @Test func progressiveKMeansFitsAsWellAsPlainKMeans() {
        let x = TestData.matrix(rows: 600, cols: 24, seed: 12)
        var r1 = SeededRandom(seed: 1), r2 = SeededRandom(seed: 1)
        let plain = ProgressiveQuantizer(codebooks: KMeans.residual(x, blocks: 2, k: 16, iterations: 20, random: &r1), assignment: .euclidean)
        let prog = ProgressiveQuantizer(codebooks: KMeans.residual(x, blocks: 2, k: 16, iterations: 20, random: &r2, progressiveDimensions: true), assignment: .euclidean)
        let a = plain.reconstructionErrors(x).last!, b = prog.reconstructionErrors(x).last!
        #expect(b <= a * 1.02, "progressive \(b) vs plain \(a)")
    }
}
