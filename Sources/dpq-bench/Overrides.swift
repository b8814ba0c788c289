// `--set key=value` overrides of model and training settings, for experiments from the shell.
import DPQEngine

enum Overrides {
    static func apply(_ items: [String], model: inout ModelConfig, training: inout TrainingConfig) throws {
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw EngineError.invalidArgument("--set \(item): expected key=value") }
            let (k, v) = (parts[0], parts[1])
            func float() throws -> Float { guard let f = Float(v) else { throw EngineError.invalidArgument("--set \(k): not a number: \(v)") }; return f }
            func int() throws -> Int { guard let i = Int(v) else { throw EngineError.invalidArgument("--set \(k): not an integer: \(v)") }; return i }
            switch k {
            case "tau": training.tau = try float()
            case "mu": training.mu = try float()
            case "nu": training.nu = try float()
            case "lambda": training.lambda = try float()
            case "lambda_quantized": training.lambdaQuantized = try float()
            case "gamma_start": training.gammaStart = try float()
            case "gamma_end": training.gammaEnd = try float()
            case "learning_rate": training.learningRate = try float()
            case "codebook_learning_rate_scale": training.codebookLearningRateScale = try float()
            case "weight_decay": training.weightDecay = try float()
            case "label_smoothing": training.labelSmoothing = try float()
            case "epochs": training.epochs = try int()
            case "pretrain_epochs": training.pretrainEpochs = try int()
            case "batch_size": training.batchSize = try int()
            case "schedule": guard let s = LearningRateSchedule(rawValue: v) else { throw EngineError.invalidArgument("--set schedule: \(v)") }; training.schedule = s
            case "codebook_init": guard let s = CodebookInit(rawValue: v) else { throw EngineError.invalidArgument("--set codebook_init: \(v)") }; training.codebookInit = s
            case "stop_gradient": training.stopGradientAtFeature = v == "true"
            case "dropout": model.dropout = try float()
            case "input_dropout": model.inputDropout = try float()
            case "feature_dimension": model.featureDimension = try int()
            case "hidden_sizes": model.hiddenSizes = try v.split(separator: ",").map { guard let i = Int($0) else { throw EngineError.invalidArgument("--set hidden_sizes: \(v)") }; return i }
            case "trunk": model.trunk = v.isEmpty || v == "mlp" ? nil : (TrunkSpec.presets[v] ?? v)
            case "input_shape": guard let shape = TensorShape(parsing: v) else { throw EngineError.invalidArgument("--set input_shape: expected HxWxC, got \(v)") }; model.inputShape = shape
            case "classifier_input": guard let c = ClassifierInput(rawValue: v) else { throw EngineError.invalidArgument("--set classifier_input: \(v)") }; model.classifierInput = c
            case "metric": guard let m = SearchMetric(rawValue: v) else { throw EngineError.invalidArgument("--set metric: \(v)") }; model.metric = m
            case "assignment": guard let a = Assignment(rawValue: v) else { throw EngineError.invalidArgument("--set assignment: \(v)") }; model.assignment = a
            case "deviation_floor": model.deviationFloor = try float()
            default: throw EngineError.invalidArgument("--set: unknown setting '\(k)'")
            }
        }
    }
}
