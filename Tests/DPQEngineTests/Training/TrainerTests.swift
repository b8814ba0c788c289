import Testing
import DPQEngine

@Suite struct TrainerTests {
    static let data = TestData.clusters(classes: 4, perClass: 60, dim: 12, spread: 1.0, seed: 3)

    static func smallConfig(blocks: Int = 3) -> ModelConfig {
        ModelConfig(inputDimension: 12, hiddenSizes: [16], featureDimension: 8, dropout: 0.1, classCount: 4,
                    blocks: blocks, codebookSize: 16)
    }

    static func smallTraining(seed: UInt64 = 5) -> TrainingConfig {
        TrainingConfig(pretrainEpochs: 2, epochs: 4, batchSize: 32, seed: seed, kmeansIterations: 5, threads: 1)
    }

    @Test func sameSeedSameModel() throws {
        let (x, y) = Self.data
        let labels = Labels(single: y, classCount: 4)
        let a = try Trainer.train(data: x, labels: labels, model: Self.smallConfig(), training: Self.smallTraining())
        let b = try Trainer.train(data: x, labels: labels, model: Self.smallConfig(), training: Self.smallTraining())
        #expect(a == b)
        let c = try Trainer.train(data: x, labels: labels, model: Self.smallConfig(), training: Self.smallTraining(seed: 6))
        #expect(a != c)
    }

    @Test func trainingLowersTheLossAndReportsProgress() throws {
        let (x, y) = Self.data
        var reports: [TrainingProgress] = []
        _ = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: Self.smallConfig(),
                              training: Self.smallTraining()) { reports.append($0); return true }
        // 240 rows / 32 = 8 steps per epoch, 6 epochs.
        #expect(reports.count == 48)
        #expect(reports.last?.step == reports.last?.totalSteps)
        #expect(reports.map(\.step) == Array(1...48))
        let joint = reports.filter { $0.phase == .joint }
        #expect(joint.count == 32)
        #expect(joint.last!.losses.total < joint.first!.losses.total)
        let cls = reports.filter { $0.phase == .classification }
        #expect(cls.last!.losses.classification < cls.first!.losses.classification)
        #expect(reports.allSatisfy { $0.samplesPerSecond > 0 && $0.etaSeconds >= 0 })
    }

    @Test func cancellation() throws {
        let (x, y) = Self.data
        var calls = 0
        #expect(throws: EngineError.cancelled) {
            _ = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: Self.smallConfig(),
                                  training: Self.smallTraining()) { _ in calls += 1; return calls < 5 }
        }
        #expect(calls == 5)
    }

    /// The first m codes of the M-block model equal the codes of the same model cut to m blocks.
    @Test func truncationEqualsShorterModel() throws {
        let (x, y) = Self.data
        let model = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: Self.smallConfig(),
                                      training: Self.smallTraining())
        let codes = try model.encode(x)
        for m in 1...3 {
            var short = model
            short.config.blocks = m
            short.quantizer.codebooks = model.codebooks.prefix(m)
            #expect(try short.encode(x) == codes.prefix(m))
            // decode(m) is the sum of the first m chosen codewords.
            let rec = try model.decode(codes, blocks: m)
            let f = try model.features(x)
            var manual = Matrix(rows: x.rows, cols: 8)
            for i in 0..<x.rows { for b in 0..<m {
                let o = model.codebooks.offset(block: b, codeword: codes.code(item: i, block: b))
                for t in 0..<8 { manual.values[i * 8 + t] += model.codebooks.values[o + t] }
            } }
            #expect(rec == manual)
            #expect(f.rows == rec.rows)
        }
    }

    @Test func errorsNameTheField() {
        let (x, y) = Self.data
        let labels = Labels(single: y, classCount: 4)
        var bad = Self.smallConfig(); bad.codebookSize = 100
        #expect(throws: EngineError.invalidArgument("codebook_size (K) must be a power of two in 16...4096, got 100")) {
            try Trainer.train(data: x, labels: labels, model: bad, training: Self.smallTraining())
        }
        var wrongDim = Self.smallConfig(); wrongDim.inputDimension = 11
        #expect(throws: EngineError.self) { try Trainer.train(data: x, labels: labels, model: wrongDim, training: Self.smallTraining()) }
        var nan = x; nan.values[5] = .nan
        do {
            _ = try Trainer.train(data: nan, labels: labels, model: Self.smallConfig(), training: Self.smallTraining())
            Issue.record("NaN accepted")
        } catch {
            #expect("\(error)".contains("row 0 column 5"))
        }
        #expect(throws: EngineError.self) {
            try Trainer.train(data: x, labels: nil, model: Self.smallConfig(), training: Self.smallTraining())
        }
        #expect(throws: EngineError.self) {
            try Trainer.train(data: x.rowRange(0..<10), labels: labels, model: Self.smallConfig(), training: Self.smallTraining())
        }
        var zeroBatch = Self.smallTraining(); zeroBatch.batchSize = 0
        #expect(throws: EngineError.self) { try Trainer.train(data: x, labels: labels, model: Self.smallConfig(), training: zeroBatch) }
    }

    /// Without labels: residual k-means in growing principal subspaces, at least as good as plain residual k-means.
    @Test func unsupervisedRefinesResidualKMeans() throws {
        let x = TestData.matrix(rows: 400, cols: 10, seed: 70)
        var config = Self.smallConfig(); config.labelMode = .none; config.inputDimension = 10
        let model = try Trainer.train(data: x, labels: nil, model: config, training: Self.smallTraining())
        #expect(model.network == nil)
        let xs = model.standardizer.apply(x)
        var r = SeededRandom(seed: 5)
        let kmeans = ProgressiveQuantizer(codebooks: KMeans.residual(xs, blocks: 3, k: 16, iterations: 5, random: &r), assignment: .euclidean)
        let learned = model.quantizer.reconstructionErrors(xs)
        let baseline = kmeans.reconstructionErrors(xs)
        #expect(learned[2] <= baseline[2])
        // Every prefix lowers the error.
        #expect(learned[0] > learned[1] && learned[1] > learned[2])
    }

    @Test func standardizerFloorsConstantDimensions() {
        let x = Matrix([[1, 5, 0], [3, 5, 0], [5, 5, 0]])
        let s = Standardizer(fitting: x)
        #expect(s.deviation[1] > 0 && s.deviation[2] > 0)
        let y = s.apply(Matrix([[3, 5, 1]]))
        #expect(y[0, 0] == 0 && y[0, 1] == 0 && y[0, 2].isFinite)
        let back = s.invert(y)
        for (a, b) in zip(back.values, [Float(3), 5, 1]) { #expect(abs(a - b) < 1e-5) }
    }
}
