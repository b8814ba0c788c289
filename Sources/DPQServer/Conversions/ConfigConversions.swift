// proto <-> engine configuration. Unset proto fields (enum UNSPECIFIED, an empty oneof) take the
// engine's defaults, which docs/benchmarks.md justifies by measurement; the resolved values are
// what GetCollection reports.

import DPQEngine
import DPQProto
import DPQStorage

extension SearchMetric {
    init(proto: Dpq_V1_Metric, default d: SearchMetric) throws {
        switch proto {
        case .unspecified: self = d
        case .innerProduct: self = .innerProduct
        case .squaredL2: self = .squaredL2
        case .UNRECOGNIZED(let v): throw invalid("metric: unknown value \(v)")
        }
    }
    var proto: Dpq_V1_Metric { self == .innerProduct ? .innerProduct : .squaredL2 }
}

enum ConfigConversions {
    /// The engine model configuration of a CreateCollection request.
    static func model(_ c: Dpq_V1_CollectionConfig) throws -> ModelConfig {
        let p = c.model
        var m = ModelConfig(inputDimension: Int(c.inputDimension))
        if c.hasInputShape {
            let s = c.inputShape
            m.inputShape = TensorShape(height: Int(s.height), width: Int(s.width), channels: Int(s.channels))
        }
        if p.hasHiddenSizes { m.hiddenSizes = p.hiddenSizes.sizes.map(Int.init) }
        if !p.trunk.isEmpty { m.trunk = p.trunk }
        if p.featureDimension != 0 { m.featureDimension = Int(p.featureDimension) }
        if p.blocks != 0 { m.blocks = Int(p.blocks) }
        if p.codebookSize != 0 { m.codebookSize = Int(p.codebookSize) }
        switch p.assignment {
        case .unspecified, .euclidean: m.assignment = .euclidean
        case .cosine: m.assignment = .cosine
        case .UNRECOGNIZED(let v): throw invalid("config.model.assignment: unknown value \(v)")
        }
        switch p.labelMode {
        case .unspecified: m.labelMode = p.numClasses > 0 ? .single : .none
        case .none: m.labelMode = .none
        case .single: m.labelMode = .single
        case .multi: m.labelMode = .multi
        case .UNRECOGNIZED(let v): throw invalid("config.model.label_mode: unknown value \(v)")
        }
        m.classCount = Int(p.numClasses)
        if m.labelMode == .none { m.classCount = max(m.classCount, 1) }
        switch p.classifierInput {
        case .unspecified, .feature: m.classifierInput = .feature
        case .trunk: m.classifierInput = .trunk
        case .UNRECOGNIZED(let v): throw invalid("config.model.classifier_input: unknown value \(v)")
        }
        if p.dropoutOpt != nil { m.dropout = p.dropout }
        if p.inputDropoutOpt != nil { m.inputDropout = p.inputDropout }
        m.metric = try SearchMetric(proto: c.metric, default: .innerProduct)
        if m.labelMode != .none && p.numClasses == 0 {
            throw invalid("config.model.num_classes is required for label_mode \(m.labelMode == .single ? "SINGLE" : "MULTI")")
        }
        let problems = m.problems().map { "config.model: \($0)" }
        if !problems.isEmpty { throw invalid(problems.joined(separator: "; ")) }
        return m
    }

    /// The list partition of config.index (unset: k-means with nlist chosen from the item count).
    static func partition(_ c: Dpq_V1_CollectionConfig) throws -> ListPartition {
        guard c.hasIndex else { return .automatic }
        let n = c.index.nlist
        switch c.index.partition {
        case .unspecified, .kmeans:
            guard n <= UInt32(ListPartition.maxLists) else {
                throw invalid("config.index.nlist \(n) is above \(ListPartition.maxLists) (0 = chosen from the item count)")
            }
            return .kmeans(lists: Int(n))
        case .firstBlock, .none:
            guard n == 0 else {
                throw invalid("config.index.nlist must be 0 for partition \(c.index.partition == .none ? "NONE" : "FIRST_BLOCK") (only KMEANS takes a list count), got \(n)")
            }
            return c.index.partition == .none ? .none : .firstBlock
        case .UNRECOGNIZED(let v):
            throw invalid("config.index.partition \(v) is not a ListPartition value")
        }
    }

    /// The precision of kept vectors (unset: float32); FLOAT16 needs keep_vectors.
    static func vectorPrecision(_ c: Dpq_V1_CollectionConfig) throws -> CollectionConfig.VectorPrecision {
        switch c.vectorPrecision {
        case .unspecified, .float32: return .float32
        case .float16:
            guard c.keepVectors else {
                throw invalid("config.vector_precision: FLOAT16 applies to kept vectors; set config.keep_vectors too (or leave vector_precision unset)")
            }
            return .float16
        case .UNRECOGNIZED(let v): throw invalid("config.vector_precision \(v) is not a VectorPrecision value")
        }
    }

    static func protoIndex(_ p: ListPartition) -> Dpq_V1_IndexConfig {
        .with {
            switch p {
            case .none: $0.partition = .none
            case .firstBlock: $0.partition = .firstBlock
            case .kmeans(let n):
                $0.partition = .kmeans
                $0.nlist = UInt32(n)
            }
        }
    }

    /// input_dimension of a config with input_shape: the shape's product, which a nonzero
    /// input_dimension must equal.
    static func inputDimension(of c: Dpq_V1_CollectionConfig, limit: Int) throws -> UInt32 {
        let s = c.inputShape
        guard s.height >= 1, s.width >= 1, s.channels >= 1 else {
            throw invalid("config.input_shape: height, width and channels must each be at least 1, got \(s.height) x \(s.width) x \(s.channels)")
        }
        let product = UInt64(s.height) * UInt64(s.width) * UInt64(s.channels)
        guard product <= UInt64(limit) else {
            throw invalid("config.input_shape: \(s.height) x \(s.width) x \(s.channels) = \(product) values is above max_input_dimension \(limit)")
        }
        guard c.inputDimension == 0 || UInt64(c.inputDimension) == product else {
            throw invalid("config.input_shape: \(s.height) x \(s.width) x \(s.channels) = \(product) values, but config.input_dimension is \(c.inputDimension)")
        }
        return UInt32(product)
    }

    static func protoModel(_ m: ModelConfig) -> Dpq_V1_ModelConfig {
        var p = Dpq_V1_ModelConfig()
        p.trunk = m.trunk ?? ""
        p.hiddenSizes = .with { $0.sizes = m.hiddenSizes.map(UInt32.init) }
        p.featureDimension = UInt32(m.featureDimension)
        p.blocks = UInt32(m.blocks)
        p.codebookSize = UInt32(m.codebookSize)
        p.assignment = m.assignment == .cosine ? .cosine : .euclidean
        p.labelMode = [.none: .none, .single: .single, .multi: .multi][m.labelMode]!
        p.numClasses = m.labelMode == .none ? 0 : UInt32(m.classCount)
        p.classifierInput = m.classifierInput == .trunk ? .trunk : .feature
        p.dropout = m.dropout
        p.inputDropout = m.inputDropout
        return p
    }

    /// `base` with every field that `o` sets overridden; validated, naming `field`.
    static func training(_ o: Dpq_V1_TrainingOptions, over base: TrainingConfig, field: String) throws -> TrainingConfig {
        var t = base
        switch o.mode {
        case .unspecified: break
        case .endToEnd: t.mode = .endToEnd
        case .twoStep: t.mode = .twoStep
        case .UNRECOGNIZED(let v): throw invalid("\(field).mode: unknown value \(v)")
        }
        if o.pretrainEpochsOpt != nil { t.pretrainEpochs = Int(o.pretrainEpochs) }
        if o.epochsOpt != nil { t.epochs = Int(o.epochs) }
        if o.batchSizeOpt != nil { t.batchSize = Int(o.batchSize) }
        switch o.optimizer {
        case .unspecified: break
        case .adam: t.optimizer = .adam
        case .sgd: t.optimizer = .sgd
        case .UNRECOGNIZED(let v): throw invalid("\(field).optimizer: unknown value \(v)")
        }
        if o.learningRateOpt != nil { t.learningRate = o.learningRate }
        if o.codebookLearningRateScaleOpt != nil { t.codebookLearningRateScale = o.codebookLearningRateScale }
        if o.momentumOpt != nil { t.momentum = o.momentum }
        if o.weightDecayOpt != nil { t.weightDecay = o.weightDecay }
        switch o.schedule {
        case .unspecified: break
        case .constant: t.schedule = .constant
        case .cosine: t.schedule = .cosine
        case .step: t.schedule = .step
        case .UNRECOGNIZED(let v): throw invalid("\(field).schedule: unknown value \(v)")
        }
        if o.seedOpt != nil { t.seed = o.seed }
        if o.gammaStartOpt != nil { t.gammaStart = o.gammaStart }
        if o.gammaEndOpt != nil { t.gammaEnd = o.gammaEnd }
        if o.hasLossWeights {
            let w = o.lossWeights
            if w.lambdaClsOpt != nil { t.lambda = w.lambdaCls }
            if w.lambdaQuantizedOpt != nil { t.lambdaQuantized = w.lambdaQuantized }
            if w.tauOpt != nil { t.tau = w.tau }
            if w.muOpt != nil { t.mu = w.mu }
            if w.nuOpt != nil { t.nu = w.nu }
        }
        switch o.codebookInit {
        case .unspecified: break
        case .residualKmeans: t.codebookInit = .residualKMeans
        case .random: t.codebookInit = .random
        case .UNRECOGNIZED(let v): throw invalid("\(field).codebook_init: unknown value \(v)")
        }
        if o.kmeansIterationsOpt != nil { t.kmeansIterations = Int(o.kmeansIterations) }
        if o.stopGradientAtFeatureOpt != nil { t.stopGradientAtFeature = o.stopGradientAtFeature }
        if o.threadsOpt != nil { t.threads = Int(o.threads) }
        let problems = t.problems().map { "\(field): \($0)" }
        if !problems.isEmpty { throw invalid(problems.joined(separator: "; ")) }
        return t
    }

    static func protoTraining(_ t: TrainingConfig) -> Dpq_V1_TrainingOptions {
        var o = Dpq_V1_TrainingOptions()
        o.mode = t.mode == .twoStep ? .twoStep : .endToEnd
        o.pretrainEpochs = UInt32(t.pretrainEpochs)
        o.epochs = UInt32(t.epochs)
        o.batchSize = UInt32(t.batchSize)
        o.optimizer = t.optimizer == .sgd ? .sgd : .adam
        o.learningRate = t.learningRate
        o.codebookLearningRateScale = t.codebookLearningRateScale
        o.momentum = t.momentum
        o.weightDecay = t.weightDecay
        o.schedule = [.constant: .constant, .cosine: .cosine, .step: .step][t.schedule]!
        o.seed = t.seed
        o.gammaStart = t.gammaStart
        o.gammaEnd = t.gammaEnd
        o.lossWeights = .with {
            $0.lambdaCls = t.lambda; $0.lambdaQuantized = t.lambdaQuantized
            $0.tau = t.tau; $0.mu = t.mu; $0.nu = t.nu
        }
        o.codebookInit = t.codebookInit == .random ? .random : .residualKmeans
        o.kmeansIterations = UInt32(t.kmeansIterations)
        o.stopGradientAtFeature = t.stopGradientAtFeature
        if let th = t.threads { o.threads = UInt32(th) }
        return o
    }

    static func protoLosses(_ l: LossTerms) -> Dpq_V1_LossTerms {
        .with {
            $0.classification = l.classification
            $0.quantizedClassification = l.quantizedClassification
            $0.softDistortion = l.softDistortion
            $0.hardDistortion = l.hardDistortion
            $0.match = l.match
            $0.total = l.total
        }
    }
}
