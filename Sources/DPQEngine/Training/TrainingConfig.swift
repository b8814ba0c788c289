// How a model is trained. The loss (per batch, averaged over its items) is
//   L = lambda * L_cls + lambdaQ * L_cls(reconstructions)
//     + tau * ( sum_m ||f - sum_{i<=m} s_i||^2 + mu * sum_m ||f - sum_{i<=m} h_i||^2
//               + nu * ||sum_i s_i - sum_i h_i||^2 )
// where the second term applies the feature-space classifier to every soft and hard prefix
// reconstruction (so the codes themselves carry the class, not only the feature).

public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    case adam
    case sgd
}

public enum LearningRateSchedule: String, Sendable, Codable, CaseIterable {
    case constant
    /// Cosine decay from the base rate to 1% of it over each phase.
    case cosine
    /// Divide by 10 at 2/3 of each phase.
    case step
}

public enum CodebookInit: String, Sendable, Codable, CaseIterable {
    /// Residual k-means on the current features (the default).
    case residualKMeans = "residual_kmeans"
    /// N(0, 0.01^2), as in the authors' released code.
    case random
}

public enum TrainingMode: String, Sendable, Codable, CaseIterable {
    /// Network and codebooks together (the paper).
    case endToEnd = "end_to_end"
    /// Ablation: the network with L_cls alone, then codebooks fitted on its frozen features.
    case twoStep = "two_step"
}

public struct TrainingConfig: Sendable, Codable, Equatable {
    public var mode: TrainingMode
    /// Epochs of classification alone before the codebooks are initialised.
    public var pretrainEpochs: Int
    /// Epochs of joint training after initialisation.
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Float
    /// Codebooks learn at learningRate * codebookLearningRateScale.
    public var codebookLearningRateScale: Float
    public var momentum: Float
    public var weightDecay: Float
    public var schedule: LearningRateSchedule
    public var seed: UInt64
    /// Soft-assignment temperature, annealed linearly from gammaStart to gammaEnd over the joint epochs.
    public var gammaStart: Float
    public var gammaEnd: Float
    public var lambda: Float
    public var lambdaQuantized: Float
    /// Label smoothing of the classification targets: (1 - eps) on the label, eps spread evenly
    /// over the classes (0: one-hot targets).
    public var labelSmoothing: Float
    public var tau: Float
    public var mu: Float
    public var nu: Float
    public var codebookInit: CodebookInit
    public var kmeansIterations: Int
    /// The authors' code: quantization losses train the codebooks only, not the network.
    public var stopGradientAtFeature: Bool
    /// Threads for BLAS and the engine's own loops; nil uses every core.
    public var threads: Int?
    /// Random crops and flips of image batches in training (needs the model's input_shape); nil: off.
    public var augmentation: Augmentation?

    public init(mode: TrainingMode = .endToEnd, pretrainEpochs: Int = 20, epochs: Int = 30, batchSize: Int = 256,
                optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3, codebookLearningRateScale: Float = 1,
                momentum: Float = 0.9, weightDecay: Float = 0, schedule: LearningRateSchedule = .cosine,
                seed: UInt64 = 1, gammaStart: Float = 1, gammaEnd: Float = 10, lambda: Float = 1,
                lambdaQuantized: Float = 0, tau: Float = 0.005, mu: Float = 1, nu: Float = 0.1,
                codebookInit: CodebookInit = .residualKMeans, kmeansIterations: Int = 20,
                stopGradientAtFeature: Bool = false, threads: Int? = nil, augmentation: Augmentation? = nil,
                labelSmoothing: Float = 0) {
        self.mode = mode
        self.pretrainEpochs = pretrainEpochs
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.codebookLearningRateScale = codebookLearningRateScale
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.seed = seed
        self.gammaStart = gammaStart
        self.gammaEnd = gammaEnd
        self.lambda = lambda
        self.lambdaQuantized = lambdaQuantized
        self.tau = tau
        self.mu = mu
        self.nu = nu
        self.codebookInit = codebookInit
        self.kmeansIterations = kmeansIterations
        self.stopGradientAtFeature = stopGradientAtFeature
        self.threads = threads
        self.augmentation = augmentation
        self.labelSmoothing = labelSmoothing
    }

    /// Stored collection configurations written before label smoothing existed lack its key (0).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(mode: try c.decode(TrainingMode.self, forKey: .mode),
                  pretrainEpochs: try c.decode(Int.self, forKey: .pretrainEpochs),
                  epochs: try c.decode(Int.self, forKey: .epochs),
                  batchSize: try c.decode(Int.self, forKey: .batchSize),
                  optimizer: try c.decode(OptimizerKind.self, forKey: .optimizer),
                  learningRate: try c.decode(Float.self, forKey: .learningRate),
                  codebookLearningRateScale: try c.decode(Float.self, forKey: .codebookLearningRateScale),
                  momentum: try c.decode(Float.self, forKey: .momentum),
                  weightDecay: try c.decode(Float.self, forKey: .weightDecay),
                  schedule: try c.decode(LearningRateSchedule.self, forKey: .schedule),
                  seed: try c.decode(UInt64.self, forKey: .seed),
                  gammaStart: try c.decode(Float.self, forKey: .gammaStart),
                  gammaEnd: try c.decode(Float.self, forKey: .gammaEnd),
                  lambda: try c.decode(Float.self, forKey: .lambda),
                  lambdaQuantized: try c.decode(Float.self, forKey: .lambdaQuantized),
                  tau: try c.decode(Float.self, forKey: .tau),
                  mu: try c.decode(Float.self, forKey: .mu),
                  nu: try c.decode(Float.self, forKey: .nu),
                  codebookInit: try c.decode(CodebookInit.self, forKey: .codebookInit),
                  kmeansIterations: try c.decode(Int.self, forKey: .kmeansIterations),
                  stopGradientAtFeature: try c.decode(Bool.self, forKey: .stopGradientAtFeature),
                  threads: try c.decodeIfPresent(Int.self, forKey: .threads),
                  augmentation: try c.decodeIfPresent(Augmentation.self, forKey: .augmentation),
                  labelSmoothing: try c.decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? 0)
    }

    /// Every problem with this configuration, each naming its field; empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        if pretrainEpochs < 0 || pretrainEpochs > 10_000 { out.append("pretrain_epochs must be in 0...10000, got \(pretrainEpochs)") }
        if epochs < 0 || epochs > 10_000 { out.append("epochs must be in 0...10000, got \(epochs)") }
        if batchSize < 1 || batchSize > 65536 { out.append("batch_size must be in 1...65536, got \(batchSize)") }
        for (name, v) in [("learning_rate", learningRate), ("codebook_learning_rate_scale", codebookLearningRateScale),
                          ("gamma_start", gammaStart), ("gamma_end", gammaEnd), ("lambda", lambda),
                          ("lambda_quantized", lambdaQuantized), ("tau", tau), ("mu", mu), ("nu", nu),
                          ("weight_decay", weightDecay)] where !(v.isFinite && v >= 0) {
            out.append("\(name) must be finite and >= 0, got \(v)")
        }
        if !(learningRate > 0) { out.append("learning_rate must be > 0, got \(learningRate)") }
        if !(momentum >= 0 && momentum < 1) { out.append("momentum must be in [0, 1), got \(momentum)") }
        if kmeansIterations < 0 || kmeansIterations > 1000 { out.append("kmeans_iterations must be in 0...1000, got \(kmeansIterations)") }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { out.append("label_smoothing must be in [0, 1), got \(labelSmoothing)") }
        if let t = threads, t < 1 { out.append("threads must be >= 1, got \(t)") }
        if let a = augmentation, a.cropPadding < 0 || a.cropPadding > 64 {
            out.append("augmentation crop_padding must be in 0...64, got \(a.cropPadding)")
        }
        if let a = augmentation, !(a.erasing >= 0 && a.erasing <= 1) {
            out.append("augmentation erasing must be a probability in [0, 1], got \(a.erasing)")
        }
        return out
    }
}
