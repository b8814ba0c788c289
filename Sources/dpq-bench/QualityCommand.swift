import ArgumentParser
import DPQEngine
import Foundation

struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one progressive model and report mAP at every code length against the ablations.")

    @Option(help: "A folder in the layout of ../shared/data (train/query/database TEXMEX files).")
    var data: String?

    @Option(help: "A folder with Fashion-MNIST IDX files (Debian: /usr/share/datasets/fashion-mnist).")
    var idx: String?

    @Flag(help: "Use generated clustered data.")
    var synthetic = false

    @Option(help: "Seeds to repeat every training over.")
    var seeds = 3

    @Option(help: "Joint epochs.") var epochs: Int?
    @Option(help: "Classification-only epochs before the codebooks are initialised.") var pretrainEpochs: Int?
    @Option(help: "Feature dimension D.") var featureDimension: Int?
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Override a training or model setting, e.g. --set tau=0.1 (repeatable).") var set: [String] = []
    @Flag(help: "Train only the progressive model (no ablations), for quick experiments.") var onlyDpq = false
    @Option(help: "faiss baselines JSON to compare with (default: <data>/../../baselines/<name>.json when present).")
    var baselines: String?

    @Option(help: "Print the top neighbours of this many queries (first seed's model).") var examples = 0
    @Flag(help: "Print one JSON object instead of tables.") var json = false
    @Flag(help: "Progress on stderr.") var verbose = false

    func run() throws {
        let splits: LabelledSplits
        if let data { splits = try LabelledSplits.load(folder: data) }
        else if let idx { splits = try LabelledSplits.loadFashionMNIST(idxFolder: idx) }
        else { splits = LabelledSplits.synthetic() }
        var model = Defaults.model(inputDimension: splits.train.cols, classCount: splits.classCount)
        if let featureDimension { model.featureDimension = featureDimension }
        var training = Defaults.training
        if let epochs { training.epochs = epochs }
        if let pretrainEpochs { training.pretrainEpochs = pretrainEpochs }
        training.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        try Overrides.apply(set, model: &model, training: &training)
        let bench = QualityBenchmark(splits: splits, model: model, training: training, seeds: seeds, verbose: verbose,
                                     ablations: !onlyDpq)
        var runs: [QualityRun] = []
        var exampleText = ""
        for s in 0..<seeds {
            let run = try bench.runSeed(UInt64(s + 1)) { model in
                if s == 0 && examples > 0 { exampleText = try Examples.describe(model: model, splits: splits, count: examples) }
            }
            if verbose { FileHandle.standardError.write("seed \(s + 1): dpq \(run.mapDPQ) two-step \(run.mapTwoStep) float \(run.mapFloat)\n".data(using: .utf8)!) }
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
