// The shape of a DPQ model: what it takes in, its network, its quantizer and how it scores.
// Stored in the model file's metadata, so everything here is Codable.

public enum LabelMode: String, Sendable, Codable, CaseIterable {
    /// No labels: the network is skipped and only the codebooks are learned (residual quantization).
    case none
    /// One class per item: softmax cross-entropy.
    case single
    /// Any number of classes per item: sigmoid cross-entropy; relevant when one is shared.
    case multi
}

public enum Assignment: String, Sendable, Codable, CaseIterable {
    /// Soft and hard assignment by squared Euclidean distance (the paper).
    case euclidean
    /// By cosine similarity (the authors' released code).
    case cosine
}

public enum ClassifierInput: String, Sendable, Codable, CaseIterable {
    /// On the last hidden layer of the trunk, as the paper's code has it.
    case trunk
    /// On the feature f, which also gives the feature layer a direct class signal.
    case feature
}

public struct ModelConfig: Sendable, Codable, Equatable {
    public var inputDimension: Int
    /// Height x width x channels of an item (its values in NHWC order); nil for a flat vector.
    /// Its count must equal inputDimension.
    public var inputShape: TensorShape?
    /// The trunk as a spec string (TrunkSpec's grammar, e.g. "conv3x3-32,bn,relu,maxpool2,gap");
    /// nil for the MLP of hiddenSizes, ReLU and `dropout`.
    public var trunk: String?
    /// Hidden layer sizes of the MLP trunk (used when `trunk` is nil).
    public var hiddenSizes: [Int]
    public var featureDimension: Int
    public var dropout: Float
    /// Dropout on the standardised input during training (a generic augmentation).
    public var inputDropout: Float
    public var classifierInput: ClassifierInput
    public var labelMode: LabelMode
    public var classCount: Int
    public var blocks: Int
    public var codebookSize: Int
    public var assignment: Assignment
    public var metric: SearchMetric
    /// Floor on the standardiser's deviation, as a fraction of the average deviation.
    public var deviationFloor: Float

    public init(inputDimension: Int, hiddenSizes: [Int] = [1024, 512], featureDimension: Int = 128,
                dropout: Float = 0, inputDropout: Float = 0.2, classifierInput: ClassifierInput = .feature, labelMode: LabelMode = .single,
                classCount: Int = 10, blocks: Int = 4, codebookSize: Int = 256, assignment: Assignment = .euclidean,
                metric: SearchMetric = .innerProduct, deviationFloor: Float = 0.1) {
        self.inputDimension = inputDimension
        self.hiddenSizes = hiddenSizes
        self.featureDimension = featureDimension
        self.dropout = dropout
        self.inputDropout = inputDropout
        self.classifierInput = classifierInput
        self.labelMode = labelMode
        self.classCount = classCount
        self.blocks = blocks
        self.codebookSize = codebookSize
        self.assignment = assignment
        self.metric = metric
        self.deviationFloor = deviationFloor
    }

    // inputShape and trunk are nil for every model written before they existed, and nil values
    // are left out of the JSON, so such models still write the same bytes.
    enum CodingKeys: String, CodingKey {
        case inputDimension, inputShape, trunk, hiddenSizes, featureDimension, dropout, inputDropout, classifierInput, labelMode, classCount
        case blocks, codebookSize, assignment, metric, deviationFloor
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(inputDimension: try c.decode(Int.self, forKey: .inputDimension))
        inputShape = try c.decodeIfPresent(TensorShape.self, forKey: .inputShape)
        trunk = try c.decodeIfPresent(String.self, forKey: .trunk)
        hiddenSizes = try c.decode([Int].self, forKey: .hiddenSizes)
        featureDimension = try c.decode(Int.self, forKey: .featureDimension)
        dropout = try c.decode(Float.self, forKey: .dropout)
        // Absent in files written before input dropout existed.
        inputDropout = try c.decodeIfPresent(Float.self, forKey: .inputDropout) ?? 0
        classifierInput = try c.decode(ClassifierInput.self, forKey: .classifierInput)
        labelMode = try c.decode(LabelMode.self, forKey: .labelMode)
        classCount = try c.decode(Int.self, forKey: .classCount)
        blocks = try c.decode(Int.self, forKey: .blocks)
        codebookSize = try c.decode(Int.self, forKey: .codebookSize)
        assignment = try c.decode(Assignment.self, forKey: .assignment)
        metric = try c.decode(SearchMetric.self, forKey: .metric)
        deviationFloor = try c.decode(Float.self, forKey: .deviationFloor)
    }

    /// Whether there is a network at all (not in unsupervised mode).
    public var hasNetwork: Bool { labelMode != .none }

    /// Dimension of what the codebooks quantize: the feature, or the standardised input.
    public var quantizedDimension: Int { hasNetwork ? featureDimension : inputDimension }

    public var bitsPerBlock: Int { codebookSize.trailingZeroBitCount }
    public var maxBits: Int { blocks * bitsPerBlock }

    /// Every problem with this configuration, each naming its field; empty when valid.
    public func problems() -> [String] {
        var out: [String] = []
        if inputDimension < 1 || inputDimension > 1 << 20 { out.append("input_dimension must be in 1...1048576, got \(inputDimension)") }
        if let shape = inputShape {
            if shape.height < 1 || shape.width < 1 || shape.channels < 1 {
                out.append("input_shape must have every size >= 1, got \(shape.height)x\(shape.width)x\(shape.channels)")
            } else if shape.count != inputDimension {
                out.append("input_shape \(shape) has \(shape.count) values, input_dimension is \(inputDimension)")
            }
        }
        if hasNetwork {
            if trunk == nil {
                if hiddenSizes.contains(where: { $0 < 1 || $0 > 65536 }) { out.append("hidden_sizes must each be in 1...65536, got \(hiddenSizes)") }
                if hiddenSizes.count > 8 { out.append("hidden_sizes may have at most 8 layers, got \(hiddenSizes.count)") }
            } else if out.isEmpty, let problem = trunkProblem() {
                out.append(problem)
            }
            if featureDimension < 1 || featureDimension > 65536 { out.append("feature_dimension must be in 1...65536, got \(featureDimension)") }
            if classCount < 2 && labelMode == .single { out.append("class_count must be at least 2 for single-label data, got \(classCount)") }
            if classCount < 1 || classCount > 100_000 { out.append("class_count must be in 1...100000, got \(classCount)") }
            if classifierInput == .trunk && (trunk == nil ? hiddenSizes.isEmpty : trunk!.isEmpty) {
                out.append("classifier_input trunk needs at least one hidden layer")
            }
        }
        if !(dropout >= 0 && dropout < 1) { out.append("dropout must be in [0, 1), got \(dropout)") }
        if !(inputDropout >= 0 && inputDropout < 1) { out.append("input_dropout must be in [0, 1), got \(inputDropout)") }
        if blocks < 1 || blocks > 32 { out.append("blocks (M) must be in 1...32, got \(blocks)") }
        if codebookSize < 16 || codebookSize > 4096 || codebookSize & (codebookSize - 1) != 0 {
            out.append("codebook_size (K) must be a power of two in 16...4096, got \(codebookSize)")
        }
        if !(deviationFloor >= 0 && deviationFloor.isFinite) { out.append("deviation_floor must be finite and >= 0, got \(deviationFloor)") }
        return out
    }

    /// Why the trunk spec does not parse or does not fit the input shape, or nil.
    func trunkProblem() -> String? {
        guard let trunk else { return nil }
        do {
            _ = try TrunkSpec(parsing: trunk).shapes(input: inputShape ?? TensorShape(flat: inputDimension))
            return nil
        } catch {
            return "\(error)"
        }
    }
}
