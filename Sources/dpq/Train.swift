// dpq train: upload a training set (optional), start a job and follow it with a progress bar
// on a terminal (plain lines otherwise), or --detach to leave it running.
import ArgumentParser
import DPQClient
import Foundation

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a collection's model.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @OptionGroup var labelInput: LabelInput
    @Option(help: "Training dataset name.") var dataset = "default"
    @Flag(help: "Train from the collection's stored items instead of uploaded vectors.") var fromItems = false
    @Option(help: "Joint epochs.") var epochs: Int?
    @Option(name: .customLong("pretrain-epochs"), help: "Classification-only epochs first.") var pretrainEpochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Learning rate.") var learningRate: Float?
    @Option(help: "Seed.") var seed: UInt64?
    @Flag(name: .customLong("stop-gradient-at-feature"),
          help: "The quantization losses train the codebooks only, not the network (as the authors' code does).")
    var stopGradientAtFeature = false
    @Flag(help: "Start the job and return at once.") var detach = false
    @Flag(help: "Cancel the collection's running training instead.") var cancel = false

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            if cancel {
                let p = try await dpq.cancelTraining(collection)
                if client.json { printProto(p) } else { print("job \(p.jobID): \(p.state)") }
                return
            }
            var source: String? = nil
            // Vectors to upload: --file, --images, --vector, or JSON lines piped on stdin.
            let given = input.isGiven || isatty(STDIN_FILENO) == 0
            if !fromItems && given, let rows = try input.rowsIfAny() {
                let labels = try labelInput.read(rows: rows.count) ?? (rows.contains { !$0.labels.isEmpty } ? rows.map(\.labels) : nil)
                let vectors = rows.map(\.vector)
                let r = if let bytes = byteRows(vectors) {
                    try await dpq.uploadTrainingData(collection, dataset: dataset, pixels: bytes, labels: labels)
                } else {
                    try await dpq.uploadTrainingData(collection, dataset: dataset, vectors: vectors, labels: labels)
                }
                if !client.json { print("uploaded \(r.rowsReceived) rows to dataset '\(r.dataset)'") }
                source = dataset
            }
            var options = TrainingOptions()
            if let epochs { options.epochs = UInt32(epochs) }
            if let pretrainEpochs { options.pretrainEpochs = UInt32(pretrainEpochs) }
            if let batchSize { options.batchSize = UInt32(batchSize) }
            if let learningRate { options.learningRate = learningRate }
            if let seed { options.seed = seed }
            if stopGradientAtFeature { options.stopGradientAtFeature = true }
            let started = try await dpq.startTraining(collection, dataset: fromItems ? nil : source, options: options)
            if detach {
                if client.json { printJSON(["job_id": started.jobID, "training_rows": started.trainingRows]) }
                else { print("started \(started.jobID) on \(started.trainingRows) rows (detached)") }
                return
            }
            let bar = ProgressBar(enabled: !client.json && isatty(STDERR_FILENO) == 1)
            var last: TrainingProgress?
            for try await p in dpq.watchTraining(collection) {
                last = p
                if client.json { continue }
                let line = String(format: "%@ epoch %d/%d step %llu/%llu loss %.4f %.0f samples/s ETA %.0fs",
                                  "\(p.phase)", p.epoch, p.epochs, p.step, p.totalSteps, p.losses.total, p.samplesPerSecond, p.etaSeconds)
                bar.update(fraction: Double(p.percent) / 100, text: line)
            }
            bar.finish()
            guard let p = last else { return }
            if client.json { printProto(p) } else { print("job \(p.jobID): \(p.state)\(p.error.isEmpty ? "" : " (\(p.error))")") }
            if p.state != .succeeded { throw DPQError(code: p.state == .cancelled ? .cancelled : .aborted, message: p.error.isEmpty ? "training \(p.state)" : p.error) }
        }
    }
}
