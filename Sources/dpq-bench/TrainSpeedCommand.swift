// `dpq-bench train-speed`: training throughput of the joint phase (network + quantizer +
// every loss, Adam) on Fashion-MNIST's training split with the default model (784 -> 1024 ->
// 512 -> 128, M = 4, K = 256, batch 256): samples per second, the GFLOP/s of its sgemm
// arithmetic next to the sgemm peak of the same OpenBLAS measured here, and the share of time
// per stage (forward, classification loss, assignment = quantizer forward + distortion,
// quantizer backward, network backward, optimizer, batch gathering).
// bench/pytorch_train_speed.py runs the same model, losses and steps in PyTorch. `--trunk cnn`
// times the convolutional trunk instead (28 x 28 x 1 input, no pixel dropout), as
// `bench/pytorch_train_speed.py --trunk cnn` does.

import ArgumentParser
import DPQEngine
import Foundation
import Synchronization

struct TrainSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time joint-phase training epochs; GFLOP/s against sgemm peak.")

    @Option(help: "Folder with the labelled splits (train.bvecs, train_labels.ivecs, ...).") var data: String
    @Option(help: "Timed epochs (after one warm-up epoch).") var epochs = 3
    @Option(help: "Thread counts, comma-separated; 0 means all cores.") var threads = "1,0"
    @Option(help: "Batch size.") var batchSize = 256
    @Option(help: "The trunk: a spec string or a preset name (cnn, vgg4); default the 1024-512 MLP.") var trunk: String?
    @Option(help: "Image shape HxWxC for a convolutional trunk (default 28x28x1 with --trunk).") var inputShape: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let splits = try LabelledSplits.load(folder: data)
        LargeAllocations.keepInHeap()  // as Trainer.train does
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var config = ModelConfig(inputDimension: splits.train.cols, classCount: splits.classCount)
        if let trunk {
            config.trunk = TrunkSpec.presets[trunk] ?? trunk
            guard let shape = TensorShape(parsing: inputShape ?? "28x28x1") else {
                throw ValidationError("--input-shape: expected HxWxC, got \(inputShape ?? "")")
            }
            config.inputShape = shape
            config.inputDropout = 0  // a convolutional trunk trains without pixel dropout (as dpq-bench quality)
        }
        if let p = config.problems().first { throw ValidationError("model: \(p)") }
        var training = TrainingConfig()
        training.batchSize = batchSize
        let x = Standardizer(fitting: splits.train, relativeFloor: config.deviationFloor).apply(splits.train)
        let labels = Labels(single: splits.trainLabels, classCount: splits.classCount)
        var cells: [[String: Any]] = []
        for t in try Scan.list(threads).map({ $0 == 0 ? cores : $0 }) {
            BLAS.setThreads(t)
            let peak = Self.sgemmPeak()
            var rng = SeededRandom(seed: 5)
            var network = FeatureNetwork(config: config, random: &rng)
            // Codebooks from random features (scaled): training speed does not depend on them.
            let f = network.features(x.rows(0..<(config.blocks * config.codebookSize)))
            var codebooks = Codebooks(blocks: config.blocks, size: config.codebookSize, dimension: config.featureDimension,
                                      values: f.values.map { $0 * 0.5 })
            var optimizer = Optimizer(kind: .adam)
            var epochStats: [[String: Any]] = []
            for epoch in 0...epochs {
                var timings = StepTimings()
                var optimizerSeconds = 0.0, gatherSeconds = 0.0
                var loss = 0.0
                let opsBefore = BLAS.gemmOperations.load(ordering: .relaxed)
                let started = Self.now()
                let order = rng.permutation(x.rows)
                let steps = (x.rows + batchSize - 1) / batchSize
                for s in 0..<steps {
                    let g0 = Self.now()
                    let rows = Array(order[(s * batchSize)..<min((s + 1) * batchSize, x.rows)])
                    let batch = x.rows(rows)
                    gatherSeconds += Self.now() - g0
                    var dropout: SeededRandom? = rng.fork()
                    let (terms, grads) = withUnsafeMutablePointer(to: &timings) { tp in
                        TrainingStep.run(network: network, codebooks: codebooks, assignment: config.assignment, x: batch,
                                         rows: rows, labels: labels, multiLabel: false, config: training, gamma: 5,
                                         phase: .joint, random: &dropout, timings: tp)
                    }
                    loss += Double(terms.total)
                    let o0 = Self.now()
                    if let g = grads.network {
                        let arrays = g.arrays
                        var slot = 0
                        network.visitNamedParameters { name, p in
                            optimizer.update(name, parameters: &p, gradient: arrays[slot], learningRate: 1e-3)
                            slot += 1
                        }
                        network.storeBuffers(g.buffers)
                    }
                    if let g = grads.codebooks {
                        optimizer.update("quantizer.codebooks", parameters: &codebooks.values, gradient: g, learningRate: 1e-3)
                    }
                    optimizerSeconds += Self.now() - o0
                }
                let seconds = Self.now() - started
                let ops = BLAS.gemmOperations.load(ordering: .relaxed) - opsBefore
                if epoch == 0 { continue }  // warm-up
                let other = max(0, seconds - timings.total - optimizerSeconds - gatherSeconds)
                epochStats.append([
                    "epoch": epoch, "seconds": seconds, "samples_per_second": Double(x.rows) / seconds,
                    "mean_loss": loss / Double(steps), "gemm_gflop": Double(ops) / 1e9,
                    "gemm_gflops_per_second": Double(ops) / seconds / 1e9,
                    "share": ["forward": timings.forward / seconds, "classification_loss": timings.classification / seconds,
                              "assignment": timings.assignment / seconds, "quantizer_backward": timings.quantizerBackward / seconds,
                              "network_backward": timings.networkBackward / seconds, "optimizer": optimizerSeconds / seconds,
                              "batch_gather": gatherSeconds / seconds, "other": other / seconds],
                ])
            }
            let mean = epochStats.map { $0["seconds"] as! Double }.reduce(0, +) / Double(epochStats.count)
            let gflops = epochStats.map { $0["gemm_gflops_per_second"] as! Double }.reduce(0, +) / Double(epochStats.count)
            cells.append(["threads": t, "epoch_seconds": mean, "samples_per_second": Double(x.rows) / mean,
                          "gemm_gflops_per_second": gflops, "sgemm_peak_gflops_per_second": peak,
                          "share_of_peak": gflops / peak, "epochs": epochStats])
            if !json {
                print(String(format: "threads %d: epoch %.3f s, %.0f samples/s, %.1f GFLOP/s of sgemm peak %.1f (%.0f%%)",
                             t, mean, Double(x.rows) / mean, gflops, peak, 100 * gflops / peak))
                if let share = epochStats.last?["share"] as? [String: Double] {
                    print("  " + share.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f%%", $0.key, 100 * $0.value) }
                        .joined(separator: ", "))
                }
            }
        }
        BLAS.setThreads(cores)
        if json {
            try printJSON(["engine": "dpq", "train_rows": x.rows, "batch": batchSize,
                           "model": (config.trunk.map { "\($0) -> 128, M=4, K=256" } ?? "784-1024-512-128, M=4, K=256"),
                           "cores": cores, "cells": cells])
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Best of 3 square 2048 sgemms with the current BLAS thread count, in GFLOP/s.
    static func sgemmPeak() -> Double {
        let n = 2048
        var rng = SeededRandom(seed: 9)
        let a = Matrix(rows: n, cols: n, values: (0..<(n * n)).map { _ in rng.normal() })
        var c = Matrix(rows: n, cols: n)
        var best = 0.0
        for _ in 0..<3 {
            let t0 = now()
            BLAS.gemm(a, a, into: &c)
            best = max(best, 2 * Double(n * n * n) / (now() - t0) / 1e9)
        }
        return best
    }
}
