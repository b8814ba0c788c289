// Trains a DPQ model. With labels:
//   1. standardise the inputs; initialise the network from the seed;
//   2. pretrainEpochs of classification alone (features worth quantizing first);
//   3. codebooks from residual k-means on the current features (or random, as the authors' code);
//   4. epochs of joint training (end to end), or, in the two-step ablation, the network keeps
//      training on L_cls alone and the codebooks are fitted afterwards on its frozen features.
// Without labels there is no network: the codebooks are fitted on the standardised inputs by
// residual k-means in growing principal subspaces (progressive residual quantization).
// The same seed and thread count give the same model.

import Dispatch

public enum Trainer {
    public static func train(data: Matrix, labels: Labels?, model config: ModelConfig, training: TrainingConfig,
                             progress: ProgressHandler? = nil) throws -> DPQModel {
        try validate(data: data, labels: labels, model: config, training: training)
        LargeAllocations.keepInHeap()
        // OpenBLAS's thread count is per process: held for this training (BLAS.hold).
        let hold = training.threads.map { BLAS.hold(threads: $0) }
        defer { hold?.release() }
        var random = SeededRandom(seed: training.seed)
        let standardizer = Standardizer(fitting: data, shape: config.inputShape, relativeFloor: config.deviationFloor)
        let x = standardizer.apply(data)
        var clock = TrainingClock(config: config, training: training, rows: data.rows, progress: progress)

        guard config.hasNetwork, let labels else {
            // Least-squares refinement lowers the training error but raised the held-out error
            // in the reconstruction benchmark, so it is not applied here (docs/benchmarks.md).
            let books = try initialCodebooks(x, config: config, training: training, random: &random, clock: &clock,
                                             progressiveDimensions: true)
            return DPQModel(config: config, standardizer: standardizer, network: nil,
                            quantizer: ProgressiveQuantizer(codebooks: books, assignment: config.assignment))
        }

        var network = FeatureNetwork(config: config, random: &random)
        var optimizer = Optimizer(kind: training.optimizer, momentum: training.momentum, weightDecay: training.weightDecay)
        let multi = config.labelMode == .multi
        let twoStep = training.mode == .twoStep
        let classificationEpochs = training.pretrainEpochs + (twoStep ? training.epochs : 0)
        var books = Codebooks(blocks: config.blocks, size: config.codebookSize, dimension: config.featureDimension)
        // Shifted images are framed in black (a raw 0), not in the channel mean.
        let border = config.inputShape.flatMap { $0.isFlat ? nil : Augmentation.blackBorder(standardizer, shape: $0) }

        try runEpochs(classificationEpochs, phase: .classification, x: x, border: border, labels: labels, multi: multi,
                      network: &network, codebooks: &books, optimizer: &optimizer,
                      config: config, training: training, random: &random, clock: &clock)

        let features = network.features(x)
        books = try initialCodebooks(features, config: config, training: training, random: &random, clock: &clock)
        if twoStep {
            books = CodebookRefinement.refine(features, codebooks: books, rounds: 10)
        } else {
            try runEpochs(training.epochs, phase: .joint, x: x, border: border, labels: labels, multi: multi,
                          network: &network, codebooks: &books, optimizer: &optimizer,
                          config: config, training: training, random: &random, clock: &clock)
        }
        return DPQModel(config: config, standardizer: standardizer, network: network,
                        quantizer: ProgressiveQuantizer(codebooks: books, assignment: config.assignment))
    }

    static func initialCodebooks(_ features: Matrix, config: ModelConfig, training: TrainingConfig,
                                 random: inout SeededRandom, clock: inout TrainingClock,
                                 progressiveDimensions: Bool = false) throws -> Codebooks {
        try clock.check()
        switch training.codebookInit {
        case .residualKMeans:
            return KMeans.residual(features, blocks: config.blocks, k: config.codebookSize,
                                   iterations: training.kmeansIterations, random: &random,
                                   progressiveDimensions: progressiveDimensions)
        case .random:
            let n = config.blocks * config.codebookSize * features.cols
            return Codebooks(blocks: config.blocks, size: config.codebookSize, dimension: features.cols,
                             values: (0..<n).map { _ in 0.01 * random.normal() })
        }
    }

    static func runEpochs(_ epochs: Int, phase: TrainingPhase, x: Matrix, border: [Float]?, labels: Labels, multi: Bool,
                          network: inout FeatureNetwork, codebooks: inout Codebooks, optimizer: inout Optimizer,
                          config: ModelConfig, training: TrainingConfig, random: inout SeededRandom,
                          clock: inout TrainingClock) throws {
        guard epochs > 0 else { return }
        let n = x.rows
        let batch = min(training.batchSize, n)
        let stepsPerEpoch = (n + batch - 1) / batch
        let totalSteps = epochs * stepsPerEpoch
        for epoch in 0..<epochs {
            let order = random.permutation(n)
            var running = LossTerms()
            for s in 0..<stepsPerEpoch {
                let rows = Array(order[(s * batch)..<min((s + 1) * batch, n)])
                let done = epoch * stepsPerEpoch + s
                let t = Float(done) / Float(max(totalSteps - 1, 1))
                let gamma = training.gammaStart + (training.gammaEnd - training.gammaStart) * t
                let lr = learningRate(training, progress: Float(done) / Float(totalSteps))
                var batch = x.rows(rows)
                if let augmentation = training.augmentation, let shape = config.inputShape {
                    // Its own fork, drawn only when augmenting: runs without it keep their streams.
                    var r = random.fork()
                    augmentation.apply(to: &batch, shape: shape, border: border, random: &r)
                }
                var dropoutRandom: SeededRandom? = random.fork()
                let (terms, grads) = TrainingStep.run(
                    network: network, codebooks: codebooks, assignment: config.assignment,
                    x: batch, rows: rows, labels: labels, multiLabel: multi,
                    config: training, gamma: gamma, phase: phase, random: &dropoutRandom)
                guard terms.total.isFinite else {
                    throw EngineError.invalidArgument("training diverged (loss \(terms.total)) in the \(phase.rawValue) phase at epoch \(epoch + 1); lower learning_rate or gamma")
                }
                if let g = grads.network {
                    let arrays = g.arrays
                    var slot = 0
                    network.visitNamedParameters { name, p in
                        optimizer.update(name, parameters: &p, gradient: arrays[slot], learningRate: lr)
                        slot += 1
                    }
                    network.storeBuffers(g.buffers)
                }
                if let g = grads.codebooks {
                    optimizer.update("quantizer.codebooks", parameters: &codebooks.values, gradient: g,
                                     learningRate: lr * training.codebookLearningRateScale)
                }
                running.updateMean(with: terms, count: s + 1)
                try clock.step(phase: phase, epoch: epoch + 1, epochs: epochs, samples: rows.count, losses: running)
            }
        }
    }

    static func learningRate(_ t: TrainingConfig, progress p: Float) -> Float {
        switch t.schedule {
        case .constant: return t.learningRate
        case .cosine: return t.learningRate * (0.01 + 0.99 * 0.5 * (1 + Float(Foundation_cos(Double.pi * Double(p)))))
        case .step: return p < 2.0 / 3.0 ? t.learningRate : t.learningRate / 10
        }
    }

    static func validate(data: Matrix, labels: Labels?, model: ModelConfig, training: TrainingConfig) throws {
        let problems = model.problems() + training.problems()
        if let first = problems.first { throw EngineError.invalidArgument(first) }
        guard data.rows > 0 else { throw EngineError.invalidArgument("vectors: the training set is empty") }
        guard data.cols == model.inputDimension else {
            throw EngineError.invalidArgument("vectors: dimension \(data.cols), the model expects input_dimension \(model.inputDimension)")
        }
        try requireFinite(data, "vectors")
        if let a = training.augmentation {
            guard let shape = model.inputShape, !shape.isFlat else {
                throw EngineError.invalidArgument("augmentation needs images: set the model's input_shape (H x W x C)")
            }
            if a.cropPadding >= min(shape.height, shape.width) {
                throw EngineError.invalidArgument("augmentation crop_padding \(a.cropPadding) must be smaller than the \(shape) image")
            }
        }
        if model.hasNetwork {
            guard let labels else { throw EngineError.invalidArgument("labels: label_mode \(model.labelMode.rawValue) needs labels for every training vector") }
            guard labels.count == data.rows else {
                throw EngineError.invalidArgument("labels: \(labels.count) label sets for \(data.rows) vectors")
            }
            guard labels.classCount <= model.classCount else {
                throw EngineError.invalidArgument("labels: \(labels.classCount) classes, the model has class_count \(model.classCount)")
            }
            if model.labelMode == .single {
                for i in 0..<labels.count where labels.labels(of: i).count != 1 {
                    throw EngineError.invalidArgument("labels: vector \(i) has \(labels.labels(of: i).count) labels, single-label mode needs exactly one")
                }
            }
        }
    }
}

/// Step counting, timing, progress reports and cancellation for one training run.
struct TrainingClock {
    let totalSteps: Int
    var step = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var samples = 0
    let progress: ProgressHandler?

    init(config: ModelConfig, training: TrainingConfig, rows: Int, progress: ProgressHandler?) {
        let batch = max(1, min(training.batchSize, rows))
        let steps = (rows + batch - 1) / batch
        let epochs = config.hasNetwork ? training.pretrainEpochs + training.epochs : 0
        totalSteps = epochs * steps
        self.progress = progress
    }

    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    func check() throws {
        if Task.isCancelled { throw EngineError.cancelled }
    }

    mutating func step(phase: TrainingPhase, epoch: Int, epochs: Int, samples n: Int, losses: LossTerms) throws {
        step += 1
        samples += n
        try check()
        guard let progress else { return }
        let t = elapsed
        let rate = Double(samples) / max(t, 1e-9)
        let eta = step > 0 ? t / Double(step) * Double(max(totalSteps - step, 0)) : 0
        let report = TrainingProgress(phase: phase, epoch: epoch, epochs: epochs, step: step, totalSteps: totalSteps,
                                      losses: losses, samplesPerSecond: rate, elapsedSeconds: t, etaSeconds: eta)
        if !progress(report) { throw EngineError.cancelled }
    }
}
