import ArgumentParser
import DPQEngine
import Foundation

struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one progressive model and report mAP at every code length against the ablations.")

    @Option(help: "A folder of TEXMEX splits: train/query/database .fvecs or .bvecs and _labels.ivecs (dpq-bench prepare writes one).")
    var data: String?

    @Option(help: "A folder with Fashion-MNIST IDX files (Debian: /usr/share/datasets/fashion-mnist).")
    var idx: String?

    @Flag(help: "Use generated clustered data.")
    var synthetic = false

    @Option(help: "Choose settings on a validation set carved from the training split: hold out this many training items (a quarter queries, the rest the database) and never read the query and database splits' labels.")
    var validation: Int?

    @Option(help: "Seeds to repeat every training over.")
    var seeds = 3

    @Option(help: "The first seed (the runs use first-seed ..< first-seed + seeds), so that seeds can run as separate processes.")
    var firstSeed = 1

    @Option(help: "Joint epochs.") var epochs: Int?
    @Option(help: "Classification-only epochs before the codebooks are initialised.") var pretrainEpochs: Int?
    @Option(help: "Feature dimension D.") var featureDimension: Int?
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "The trunk: a spec string (conv3x3-32,bn,relu,maxpool2,...,gap), a preset name (cnn), or mlp for the hidden-sizes MLP (the default).")
    var trunk: String?
    @Option(help: "Items are images of this shape, HxWxC (e.g. 28x28x1), NHWC values; needed by a convolutional trunk.")
    var inputShape: String?
    @Option(help: "Training augmentation for image inputs: random crops with this much padding (0: none).") var cropPadding = 0
    @Flag(help: "Training augmentation for image inputs: random horizontal flips.") var flip = false
    @Option(help: "Training augmentation for image inputs: random erasing with this probability (0: none).") var erasing: Float = 0
    @Option(help: "Override a training or model setting, e.g. --set tau=0.1 (repeatable).") var set: [String] = []
    @Flag(help: "Train only the progressive model (no ablations), for quick experiments.") var onlyDpq = false
    @Flag(help: "Skip the fixed-length models of the ablations (keep the two-step one).") var noFixedLength = false
    @Option(help: "faiss baselines JSON to compare with (default: <data>/../../baselines/<name>.json when present).")
    var baselines: String?

    @Option(help: "Print the top neighbours of this many queries (first seed's model).") var examples = 0
    @Flag(help: "Print one JSON object instead of tables.") var json = false
    @Flag(help: "Progress on stderr.") var verbose = false

    func run() throws {
        var splits: LabelledSplits
        if let data { splits = try LabelledSplits.load(folder: data) }
        else if let idx { splits = try LabelledSplits.loadFashionMNIST(idxFolder: idx) }
        else { splits = LabelledSplits.synthetic() }
        if let validation { splits = try splits.validation(holdOut: validation) }
        var model = Defaults.model(inputDimension: splits.train.cols, classCount: splits.classCount)
        if splits.multi != nil { model.labelMode = .multi }
        if let featureDimension { model.featureDimension = featureDimension }
        if let inputShape {
            guard let shape = TensorShape(parsing: inputShape) else { throw ValidationError("--input-shape: expected HxWxC, got \(inputShape)") }
            model.inputShape = shape
        }
        if let trunk, trunk != "mlp" {
            model.trunk = TrunkSpec.presets[trunk] ?? trunk
            // Pixel dropout is the MLP's augmentation; a convolutional trunk gets crops and flips instead.
            model.inputDropout = 0
        }
        var training = Defaults.training
        if let epochs { training.epochs = epochs }
        if let pretrainEpochs { training.pretrainEpochs = pretrainEpochs }
        training.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        if cropPadding > 0 || flip || erasing > 0 {
            training.augmentation = Augmentation(cropPadding: cropPadding, horizontalFlip: flip, erasing: erasing)
        }
        try Overrides.apply(set, model: &model, training: &training)
        let bench = QualityBenchmark(splits: splits, model: model, training: training, seeds: seeds, verbose: verbose,
                                     ablations: !onlyDpq, fixedLength: !noFixedLength)
        var runs: [QualityRun] = []
        var exampleText = ""
        guard firstSeed >= 0 else { throw ValidationError("--first-seed: must be >= 0, got \(firstSeed)") }
        for s in 0..<seeds {
            let run = try bench.runSeed(UInt64(firstSeed + s)) { model in
                if s == 0 && examples > 0 { exampleText = try Examples.describe(model: model, splits: splits, count: examples) }
            }
            if verbose { FileHandle.standardError.write("seed \(firstSeed + s): dpq \(run.mapDPQ) two-step \(run.mapTwoStep) float \(run.mapFloat)\n".data(using: .utf8)!) }
            runs.append(run)
        }
        let baseline = Baselines.load(explicit: baselines, dataFolder: data, name: splits.name)
        let report = QualityReport(splits: splits, model: model, training: training, runs: runs, baseline: baseline)
        print(json ? report.json() : report.table() + exampleText)
    }
}

/// The defaults the quality benchmark and the service use, chosen by measurement (docs/benchmarks.md).
enum Defaults {
    static func model(inputDimension: Int, classCount: Int) -> ModelConfig {
        ModelConfig(inputDimension: inputDimension, classCount: classCount)
    }
    static var training: TrainingConfig { TrainingConfig() }
}
