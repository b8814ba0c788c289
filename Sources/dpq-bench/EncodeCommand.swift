// `dpq-bench encode`: encoding throughput (vectors per second) of a DPQ model with the
// Fashion-MNIST shape (784 -> 1024 -> 512 -> D, M codebooks of K), whole (standardiser +
// network + M greedy assignments) and quantizer alone, on 1 thread and on all cores (chunks side by
// side with OpenBLAS at one thread, as the server encodes; also one call with OpenBLAS on every core). With
// --data the features and codebooks are written as .npy for bench/faiss_encode.py, which
// times faiss ResidualQuantizer (beam 1) on the same features and codebooks.
// Weights are random: the arithmetic, not the values, sets the speed.

import ArgumentParser
import DPQEngine
import Foundation

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time DPQ encoding (network + assignments, and assignments alone).")

    @Option(help: "Vectors encoded per timed run.") var count = 65_536
    @Option(help: "Input dimension.") var inputDimension = 784
    @Option(help: "Hidden sizes, comma-separated.") var hidden = "1024,512"
    @Option(help: "Feature dimension D.") var dimension = 128
    @Option(help: "Codebook counts M to time, comma-separated.") var blocks = "4,8"
    @Option(help: "Codewords per codebook K.") var codebookSize = 256
    @Option(help: "Thread counts, comma-separated; 0 means all cores.") var threads = "1,0"
    @Option(help: "Timed repetitions per cell at least.") var repetitions = 3
    @Option(help: "Folder for features.npy and codebooks-m<M>.npy (for faiss).") var data: String?
    @Option(help: "A convolutional trunk instead of --hidden: a spec or preset (cnn), on --input-shape images.") var trunk: String?
    @Option(help: "Image shape HxWxC with --trunk (its product must be --input-dimension).") var inputShape = "28x28x1"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rng = SeededRandom(seed: 3)
        let x = Matrix(rows: count, cols: inputDimension, values: (0..<(count * inputDimension)).map { _ in rng.normal() })
        let timing = Timing(repetitions: repetitions, minSeconds: 1)
        var cells: [[String: Any]] = []
        var featuresWritten = false
        // One network for every M, so that features.npy serves every faiss run.
        var base = ModelConfig(inputDimension: inputDimension, hiddenSizes: try Scan.list(hidden),
                               featureDimension: dimension, codebookSize: codebookSize)
        if let trunk {
            base.trunk = TrunkSpec.presets[trunk] ?? trunk
            guard let shape = TensorShape(parsing: inputShape) else { throw ValidationError("--input-shape: expected HxWxC, got \(inputShape)") }
            base.inputShape = shape
        }
        if let p = base.problems().first { throw ValidationError("model: \(p)") }
        let network = FeatureNetwork(config: base, random: &rng)
        for m in try Scan.list(blocks) {
            var config = base
            config.blocks = m
            let codebooks = Codebooks(blocks: m, size: codebookSize, dimension: dimension,
                                      values: (0..<(m * codebookSize * dimension)).map { _ in rng.normal() * 0.3 })
            let model = DPQModel(config: config, standardizer: Standardizer(identity: inputDimension), network: network,
                                 quantizer: ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean))
            let features = try model.features(x)
            if let data {
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                if !featuresWritten { try NumpyFile.write(features, to: "\(data)/features.npy"); featuresWritten = true }
                try NumpyFile.write(Matrix(rows: m * codebookSize, cols: dimension, values: codebooks.values),
                                    to: "\(data)/codebooks-m\(m).npy")
                let codes = model.quantizer.encode(features)
                try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [count, m], data: codes.bytes), to: "\(data)/dpq-codes-m\(m).npy")
            }
            for t in try Scan.list(threads).map({ $0 == 0 ? cores : $0 }) {
                // The engine's encode on t threads: chunks side by side, OpenBLAS at one thread (as
                // the server runs it); and, for reference, one call with OpenBLAS on t threads.
                BLAS.setThreads(1)
                let whole = timing.measure(warmUp: { _ = try? model.encode(x.rowRange(0..<1024), threads: t) }) {
                    _ = try? model.encode(x, threads: t)
                }
                let quantizer = timing.measure(warmUp: { _ = model.quantizer.encode(features.rowRange(0..<1024), threads: t) }) {
                    _ = model.quantizer.encode(features, threads: t)
                }
                var forms = [("dpq_encode_whole", whole), ("dpq_encode_quantizer", quantizer)]
                if t > 1 {
                    BLAS.setThreads(t)
                    forms.append(("dpq_encode_openblas_threads", timing.measure(warmUp: { _ = try? model.encode(x.rowRange(0..<1024)) }) {
                        _ = try? model.encode(x)
                    }))
                }
                for (name, r) in forms {
                    cells.append(["method": name, "M": m, "threads": t, "seconds": r.median,
                                  "vectors_per_second": Double(count) / r.median, "repetitions": r.runs])
                    if !json {
                        print(String(format: "M %d threads %d %@: %.0f vectors/s", m, t, name, Double(count) / r.median))
                    }
                }
            }
        }
        BLAS.setThreads(cores)
        if json {
            try printJSON(["engine": "dpq", "N": count, "D": dimension, "K": codebookSize, "input_dimension": inputDimension,
                           "hidden": hidden, "trunk": base.trunk ?? "", "cores": cores, "cells": cells])
        }
    }
}
