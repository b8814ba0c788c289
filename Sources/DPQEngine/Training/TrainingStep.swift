// One mini-batch: the forward pass, every loss term and the gradients of the total,
//   L = lambda L_cls(z) + lambdaQ/(2M) sum_m [L_cls(S_m W_c + b_c) + L_cls(H_m W_c + b_c)]
//     + tau (sum_m ||f - S_m||^2 + mu sum_m ||f - H_m||^2 + nu ||S_M - H_M||^2)
// with respect to the network's parameters and the codebooks. The reconstruction terms
// need the classifier on the feature space, so they apply only when it is there.

import Dispatch

public struct LossTerms: Sendable, Codable, Equatable {
    public var classification: Float = 0
    public var quantizedClassification: Float = 0
    public var softDistortion: Float = 0
    public var hardDistortion: Float = 0
    public var match: Float = 0
    public var total: Float = 0

    public init() {}

    /// Running mean: after the n-th value x, m = m + (x - m) / n.
    mutating func updateMean(with x: LossTerms, count n: Int) {
        let w = 1 / Float(n)
        classification += (x.classification - classification) * w
        quantizedClassification += (x.quantizedClassification - quantizedClassification) * w
        softDistortion += (x.softDistortion - softDistortion) * w
        hardDistortion += (x.hardDistortion - hardDistortion) * w
        match += (x.match - match) * w
        total += (x.total - total) * w
    }
}

public enum TrainingPhase: String, Sendable, Codable {
    /// The network learns from the classification loss alone.
    case classification
    /// Network and codebooks learn from the whole loss.
    case joint
    /// Only the codebooks learn, from the quantization terms (network frozen or absent).
    case codebooks
}

public struct StepGradients: Sendable {
    public var network: FeatureNetwork.Gradient?
    public var codebooks: [Float]?
}

/// Seconds spent in each stage of training steps, summed (for benchmarks; see `run`).
public struct StepTimings: Sendable {
    public var forward = 0.0
    public var classification = 0.0
    public var assignment = 0.0
    public var quantizerBackward = 0.0
    public var networkBackward = 0.0

    public init() {}

    public var total: Double { forward + classification + assignment + quantizerBackward + networkBackward }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

public enum TrainingStep {
    /// Loss terms and gradients of one batch. `x` is standardised; `rows` are the batch's
    /// indices into `labels`. Dropout is drawn from `random` when given.
    public static func run(network: FeatureNetwork?, codebooks: Codebooks, assignment: Assignment,
                           x: Matrix, rows: [Int], labels: Labels?, multiLabel: Bool,
                           config: TrainingConfig, gamma: Float, phase: TrainingPhase,
                           random: inout SeededRandom?,
                           timings: UnsafeMutablePointer<StepTimings>? = nil) -> (LossTerms, StepGradients) {
        var clock = timings == nil ? 0 : StepTimings.now()
        func lap(_ stage: WritableKeyPath<StepTimings, Double>) {
            guard let timings else { return }
            let t = StepTimings.now()
            timings.pointee[keyPath: stage] += t - clock
            clock = t
        }
        var terms = LossTerms()
        var act: FeatureNetwork.Activations?
        if let network {
            if var r = random {
                act = network.forward(x, training: &r)
                random = r
            } else {
                act = network.forward(x)
            }
        }
        lap(\.forward)
        let f = act?.feature ?? x
        var dF = Matrix(rows: f.rows, cols: f.cols)
        var dLogits: Matrix?
        var classifierExtra: DenseLayer.Gradient?

        if phase != .codebooks, let act, let labels {
            let (loss, g) = Losses.classification(logits: act.logits, labels: labels, rows: rows,
                                                  multiLabel: multiLabel, weight: config.lambda,
                                                  smoothing: config.labelSmoothing)
            terms.classification = loss
            terms.total += config.lambda * loss
            dLogits = g
        }
        lap(\.classification)

        var dCodebooks: [Float]?
        if phase != .classification {
            let pass = QuantizerPass(features: f, codebooks: codebooks, gamma: gamma, assignment: assignment)
            let dist = Losses.distortion(features: f, pass: pass, tau: config.tau, mu: config.mu, nu: config.nu)
            terms.softDistortion = dist.soft
            terms.hardDistortion = dist.hard
            terms.match = dist.match
            terms.total += config.tau * (dist.soft + config.mu * dist.hard + config.nu * dist.match)
            lap(\.assignment)
            var dS = dist.softPrefixGradient
            var dH = dist.hardPrefixGradient
            if phase == .joint, let network, let labels, network.classifierInput == .feature, config.lambdaQuantized > 0 {
                // All 2M reconstructions through the classifier at once: one forward and one
                // backward GEMM of 2M x batch rows instead of 2M small ones. The loss over the
                // stacked rows is the mean of the 2M per-reconstruction losses, and a weight of
                // 2M * w gives each row the gradient its own call with weight w would.
                let blocks = codebooks.blocks, b = f.rows, d = f.cols
                var stacked = [Float]()
                stacked.reserveCapacity(2 * blocks * b * d)
                for m in 0..<blocks {
                    stacked += pass.softPrefix[m].values
                    stacked += pass.hardPrefix[m].values
                }
                let input = Matrix(rows: 2 * blocks * b, cols: d, values: stacked)
                let z = network.classifier.forward(input)
                let stackedRows = [[Int]](repeating: rows, count: 2 * blocks).flatMap { $0 }
                let w = config.lambdaQuantized / Float(2 * blocks)
                let (qLoss, g) = Losses.classification(logits: z, labels: labels, rows: stackedRows,
                                                      multiLabel: multiLabel, weight: w * Float(2 * blocks),
                                                      smoothing: config.labelSmoothing)
                let (extra, dIn) = network.classifier.backward(input: input, outputGradient: g, needInput: true)
                dIn!.values.withUnsafeBufferPointer { dx in
                    for m in 0..<blocks {
                        let soft = (2 * m) * b * d, hard = (2 * m + 1) * b * d
                        for i in 0..<(b * d) {
                            dS[m].values[i] += dx[soft + i]
                            dH[m].values[i] += dx[hard + i]
                        }
                    }
                }
                terms.quantizedClassification = qLoss
                terms.total += config.lambdaQuantized * qLoss
                classifierExtra = extra
            }
            let back = pass.backward(softPrefixGradient: dS, hardPrefixGradient: dH, codebooks: codebooks)
            dCodebooks = back.codebooks
            if phase == .joint && !config.stopGradientAtFeature {
                for i in dF.values.indices { dF.values[i] += dist.featureGradient.values[i] + back.feature.values[i] }
            }
            lap(\.quantizerBackward)
        }

        var netGrad: FeatureNetwork.Gradient?
        if phase != .codebooks, let network, let act {
            let dz = dLogits ?? Matrix(rows: act.logits.rows, cols: act.logits.cols)
            var g = network.backward(act, logitsGradient: dz, featureGradient: dF)
            if let extra = classifierExtra {
                for i in g.classifier.weight.values.indices { g.classifier.weight.values[i] += extra.weight.values[i] }
                for i in g.classifier.bias.indices { g.classifier.bias[i] += extra.bias[i] }
            }
            netGrad = g
        }
        lap(\.networkBackward)
        return (terms, StepGradients(network: netGrad, codebooks: dCodebooks))
    }
}
