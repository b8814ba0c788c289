import Foundation
import Testing
import DPQEngine

// The loss terms and the quantizer pass: analytic gradients against finite differences.
@Suite struct LossGradientTests {
    @Test(arguments: [(false, 0), (true, 0), (false, 0.2), (true, 0.2)] as [(Bool, Float)])
    func classification(multi: Bool, smoothing: Float) {
        let z = TestData.matrix(rows: 4, cols: 5, seed: 20)
        let labels = multi ? Labels(multi: [[0, 2], [1], [], [3, 4]], classCount: 5) : Labels(single: [0, 3, 4, 1], classCount: 5)
        let rows = [0, 1, 2, 3]
        let (_, g) = Losses.classification(logits: z, labels: labels, rows: rows, multiLabel: multi, weight: 1, smoothing: smoothing)
        let n = TestData.numericGradient(z.values, indices: Array(0..<20), eps: 1e-2) { v in
            Losses.classification(logits: Matrix(rows: 4, cols: 5, values: v), labels: labels, rows: rows, multiLabel: multi,
                                  weight: 1, smoothing: smoothing).loss
        }
        #expect(TestData.relativeError(g.values, n) < 1e-2)
    }

    /// Smoothed targets: the loss is the cross-entropy against (1 - eps) onehot + eps / C, whose
    /// gradient vanishes where softmax equals that target (not at an infinitely confident logit).
    @Test func labelSmoothingTargets() {
        let labels = Labels(single: [2], classCount: 4)
        let eps: Float = 0.2
        let target: [Float] = [0.05, 0.05, 0.85, 0.05]
        let z = Matrix(rows: 1, cols: 4, values: target.map { logf($0) })
        let (loss, g) = Losses.classification(logits: z, labels: labels, rows: [0], multiLabel: false, weight: 1, smoothing: eps)
        #expect(g.values.allSatisfy { abs($0) < 1e-6 })
        let entropy = -target.reduce(Float(0)) { $0 + $1 * logf($1) }
        #expect(abs(loss - entropy) < 1e-5)
        // Unsmoothed, the same logits are pushed further toward the label.
        let (_, plain) = Losses.classification(logits: z, labels: labels, rows: [0], multiLabel: false, weight: 1)
        #expect(plain.values[2] < -0.1 && plain.values[0] > 0.01)
    }

    /// tau-weighted distortion of a pass built from (f, codebooks), as a function of both.
    func distortionLoss(_ f: Matrix, _ books: Codebooks, _ assignment: Assignment, gamma: Float) -> Float {
        let pass = QuantizerPass(features: f, codebooks: books, gamma: gamma, assignment: assignment)
        let d = Losses.distortion(features: f, pass: pass, tau: 1, mu: 0.7, nu: 0.3)
        return d.soft + 0.7 * d.hard + 0.3 * d.match
    }

    @Test(arguments: [Assignment.euclidean, .cosine])
    func quantizerPass(assignment: Assignment) {
        let f = TestData.matrix(rows: 6, cols: 4, seed: 30)
        let books = Codebooks(blocks: 3, size: 5, dimension: 4, values: TestData.matrix(rows: 15, cols: 4, seed: 31).values)
        let gamma: Float = assignment == .euclidean ? 0.8 : 3
        let pass = QuantizerPass(features: f, codebooks: books, gamma: gamma, assignment: assignment)
        let d = Losses.distortion(features: f, pass: pass, tau: 1, mu: 0.7, nu: 0.3)
        let back = pass.backward(softPrefixGradient: d.softPrefixGradient, hardPrefixGradient: d.hardPrefixGradient, codebooks: books)
        var df = back.feature
        for i in df.values.indices { df.values[i] += d.featureGradient.values[i] }
        let nf = TestData.numericGradient(f.values, indices: Array(0..<24), eps: 2e-3) { v in
            distortionLoss(Matrix(rows: 6, cols: 4, values: v), books, assignment, gamma: gamma)
        }
        // Float round-off in the loss is about 5e-4 here, so entries near zero get an absolute floor.
        #expect(TestData.relativeError(df.values, nf, floor: 0.1) < 3e-2)
        let nc = TestData.numericGradient(books.values, indices: Array(0..<60), eps: 2e-3) { v in
            distortionLoss(f, Codebooks(blocks: 3, size: 5, dimension: 4, values: v), assignment, gamma: gamma)
        }
        #expect(TestData.relativeError(back.codebooks, nc) < 3e-2)
    }

    /// The whole joint step, every term on, against finite differences of its total.
    @Test(arguments: [ClassifierInput.feature, .trunk])
    func jointStep(head: ClassifierInput) {
        let config = ModelConfig(inputDimension: 6, hiddenSizes: [5], featureDimension: 4, dropout: 0,
                                 classifierInput: head, classCount: 3, blocks: 2, codebookSize: 16)
        var training = TrainingConfig()
        training.lambda = 0.5; training.lambdaQuantized = 0.8; training.tau = 1.2; training.mu = 0.6; training.nu = 0.4
        var r = SeededRandom(seed: 40)
        let net = FeatureNetwork(config: config, random: &r)
        let books = Codebooks(blocks: 2, size: 16, dimension: 4, values: TestData.matrix(rows: 32, cols: 4, seed: 41, scale: 0.5).values)
        let x = TestData.matrix(rows: 5, cols: 6, seed: 42)
        let labels = Labels(single: [0, 1, 2, 1, 0], classCount: 3)
        let rows = Array(0..<5)
        func total(_ n: FeatureNetwork, _ b: Codebooks) -> Float {
            var none: SeededRandom? = nil
            return TrainingStep.run(network: n, codebooks: b, assignment: .euclidean, x: x, rows: rows, labels: labels,
                                    multiLabel: false, config: training, gamma: 1, phase: .joint, random: &none).0.total
        }
        var none: SeededRandom? = nil
        let (_, grads) = TrainingStep.run(network: net, codebooks: books, assignment: .euclidean, x: x, rows: rows,
                                          labels: labels, multiLabel: false, config: training, gamma: 1, phase: .joint, random: &none)
        let arrays = grads.network!.arrays
        for slot in 0..<net.parameterSlotCount {
            var params: [Float] = []
            var copy = net
            copy.visitParameters { s, p in if s == slot { params = p } }
            let idx = TestData.sampleIndices(params.count, min(params.count, 10), seed: UInt64(100 + slot))
            let numeric = TestData.numericGradient(params, indices: idx, eps: 2e-3) { v in
                var n = net
                n.visitParameters { s, p in if s == slot { p = v } }
                return total(n, books)
            }
            #expect(TestData.relativeError(idx.map { arrays[slot][$0] }, numeric) < 5e-2, "slot \(slot)")
        }
        let idx = TestData.sampleIndices(books.values.count, 40, seed: 7)
        let nc = TestData.numericGradient(books.values, indices: idx, eps: 2e-3) { v in
            total(net, Codebooks(blocks: 2, size: 16, dimension: 4, values: v))
        }
        #expect(TestData.relativeError(idx.map { grads.codebooks![$0] }, nc) < 5e-2)
    }

    /// With the gradient stopped at the feature, the network sees only the classification loss.
    @Test func stopGradientAtFeature() {
        let config = ModelConfig(inputDimension: 6, hiddenSizes: [5], featureDimension: 4, dropout: 0,
                                 classifierInput: .trunk, classCount: 3, blocks: 2, codebookSize: 16)
        var r = SeededRandom(seed: 50)
        let net = FeatureNetwork(config: config, random: &r)
        let books = Codebooks(blocks: 2, size: 16, dimension: 4, values: TestData.matrix(rows: 32, cols: 4, seed: 51).values)
        let x = TestData.matrix(rows: 5, cols: 6, seed: 52)
        let labels = Labels(single: [0, 1, 2, 1, 0], classCount: 3)
        var stopped = TrainingConfig(); stopped.stopGradientAtFeature = true
        var none: SeededRandom? = nil
        let a = TrainingStep.run(network: net, codebooks: books, assignment: .euclidean, x: x, rows: Array(0..<5), labels: labels,
                                 multiLabel: false, config: stopped, gamma: 1, phase: .joint, random: &none).1
        let b = TrainingStep.run(network: net, codebooks: books, assignment: .euclidean, x: x, rows: Array(0..<5), labels: labels,
                                 multiLabel: false, config: stopped, gamma: 1, phase: .classification, random: &none).1
        #expect(a.network!.arrays == b.network!.arrays)
        #expect(a.codebooks != nil)
        let c = TrainingStep.run(network: net, codebooks: books, assignment: .euclidean, x: x, rows: Array(0..<5), labels: labels,
                                 multiLabel: false, config: TrainingConfig(), gamma: 1, phase: .joint, random: &none).1
        #expect(c.network!.arrays != b.network!.arrays)
    }
}
