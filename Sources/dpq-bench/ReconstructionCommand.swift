// `dpq-bench reconstruction`: without labels DPQ is progressive residual quantization of the
// standardised inputs. This compares its reconstruction error with faiss's ResidualQuantizer
// (beam size 1, same M and K) trained on the same standardised training split.

import ArgumentParser
import DPQEngine
import Foundation

struct Reconstruction: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unsupervised DPQ against faiss ResidualQuantizer (beam 1): reconstruction error.")

    @Option(help: "A folder of TEXMEX splits, as dpq-bench prepare writes.") var data: String?
    @Option(help: "Blocks M.") var blocks = 4
    @Option(help: "Codebook size K.") var codebookSize = 256
    @Option(help: "k-means iterations (half of them per dimension step; faiss runs 10 per step).") var kmeansIterations = 50
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "The faiss script.") var faissScript = "bench/faiss_rq.py"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let splits = try data.map { try LabelledSplits.load(folder: $0) } ?? LabelledSplits.synthetic()
        var config = ModelConfig(inputDimension: splits.train.cols, blocks: blocks, codebookSize: codebookSize)
        config.labelMode = .none
        let training = TrainingConfig(seed: seed, kmeansIterations: kmeansIterations,
                                      threads: ProcessInfo.processInfo.activeProcessorCount)
        let start = Date()
        let model = try Trainer.train(data: splits.train, labels: nil, model: config, training: training)
        let seconds = Date().timeIntervalSince(start)
        let xt = model.standardizer.apply(splits.train)
        let xb = model.standardizer.apply(splits.database)
        let dpqTrain = model.quantizer.reconstructionErrors(xt)
        let dpqBase = model.quantizer.reconstructionErrors(xb)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-rq-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try NumpyFile.write(xt, to: dir.appendingPathComponent("train.npy").path)
        try NumpyFile.write(xb, to: dir.appendingPathComponent("database.npy").path)
        var faiss: [String: Any]?
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", faissScript, "--train", dir.appendingPathComponent("train.npy").path,
                       "--database", dir.appendingPathComponent("database.npy").path,
                       "--M", String(blocks), "--nbits", String(codebookSize.trailingZeroBitCount)]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 0 { faiss = try JSONSerialization.jsonObject(with: out) as? [String: Any] }

        let result: [String: Any] = [
            "dataset": splits.name, "M": blocks, "K": codebookSize,
            "dpq_mse_train_by_prefix": dpqTrain, "dpq_mse_database_by_prefix": dpqBase, "dpq_train_seconds": seconds,
            "faiss": faiss ?? "unavailable (pip install faiss-cpu)",
        ]
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            return
        }
        print("Reconstruction error (sum of squares per item, standardised inputs), \(splits.name), M = \(blocks), K = \(codebookSize)")
        print("| method | train | database | train seconds |")
        print("|---|---|---|---|")
        print(String(format: "| DPQ without labels (progressive-dimension residual k-means) | %.3f | %.3f | %.1f |", dpqTrain.last!, dpqBase.last!, seconds))
        if let f = faiss, let t = f["mse_train"] as? Double, let b = f["mse_database"] as? Double, let s = f["train_seconds"] as? Double {
            print(String(format: "| faiss ResidualQuantizer, beam 1 | %.3f | %.3f | %.1f |", t, b, s))
        } else {
            print("| faiss ResidualQuantizer | unavailable: pip install faiss-cpu | | |")
        }
        print("DPQ error by prefix (database): " + dpqBase.map { String(format: "%.3f", $0) }.joined(separator: ", "))
    }
}
