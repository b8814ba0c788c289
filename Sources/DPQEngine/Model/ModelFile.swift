// A model is one safetensors file, readable with numpy alone:
//   standardizer.mean [Din], standardizer.deviation [Din]            (F32)
//   network.<name> for every tensor of the network (F32, absent without labels):
//     network.trunk.<l>.weight [in, out], .bias [out]         dense layers
//     network.trunk.<l>.weight [kH, kW, C_in, C_out], .bias   convolutions (NHWC, y = cols W + b)
//     network.trunk.<l>.weight/bias/running_mean/running_var [C]   batch norm
//     network.feature.weight/bias, network.classifier.weight/bias
//   quantizer.codebooks [M, K, D]                                     (F32)
// Trunk layers are numbered by position in the spec (config.trunk), or, for the hidden-sizes
// MLP (no trunk in the config), by dense layer: network.trunk.0 is the first hidden layer, as in
// every file written before trunks were spec strings.
// Metadata: format = "dpq-model", format_version = "1", config = the ModelConfig as JSON
// (snake_case keys; input_shape [H, W, C] and trunk only when set). Weights are row-major with
// inputs on the first axis: y = x W + b.

import Foundation

extension DPQModel {
    public static let fileFormat = "dpq-model"
    public static let fileFormatVersion = 1

    static func configCoder() -> (JSONEncoder, JSONDecoder) {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return (e, d)
    }

    public func safeTensors() -> SafeTensors {
        var t: [String: SafeTensors.Tensor] = [:]
        t["standardizer.mean"] = .init(floats: standardizer.mean, shape: [standardizer.dimension])
        t["standardizer.deviation"] = .init(floats: standardizer.deviation, shape: [standardizer.dimension])
        if var network {
            network.visitTensors { name, tensor, values in t["network.\(name)"] = .init(floats: values, shape: tensor.shape) }
        }
        let c = codebooks
        t["quantizer.codebooks"] = .init(floats: c.values, shape: [c.blocks, c.size, c.dimension])
        let config = String(decoding: try! Self.configCoder().0.encode(self.config), as: UTF8.self)
        return SafeTensors(tensors: t, metadata: ["format": Self.fileFormat,
                                                  "format_version": String(Self.fileFormatVersion),
                                                  "config": config])
    }

    public init(safeTensors st: SafeTensors) throws {
        func fail(_ m: String) -> DataFileError { DataFileError("model file: \(m)") }
        guard st.metadata["format"] == Self.fileFormat else {
            throw fail("metadata 'format' is \(st.metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(Self.fileFormat)'")
        }
        guard let v = st.metadata["format_version"].flatMap(Int.init), v == Self.fileFormatVersion else {
            throw fail("unsupported format_version \(st.metadata["format_version"] ?? "missing") (this build reads \(Self.fileFormatVersion))")
        }
        guard let json = st.metadata["config"], let config = try? Self.configCoder().1.decode(ModelConfig.self, from: Data(json.utf8)) else {
            throw fail("metadata 'config' is missing or not a valid model configuration")
        }
        if let p = config.problems().first { throw fail("config: \(p)") }
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = st.tensors[name] else { throw fail("tensor '\(name)' is missing") }
            guard t.shape == shape else { throw fail("tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            guard t.dtype == .f32 else { throw fail("tensor '\(name)' has dtype \(t.dtype.rawValue), expected F32") }
            let v = try t.floats()
            if let bad = v.firstIndex(where: { !$0.isFinite }) { throw fail("tensor '\(name)' has a non-finite value at \(bad)") }
            return v
        }
        let din = config.inputDimension
        let standardizer = Standardizer(mean: try floats("standardizer.mean", [din]),
                                        deviation: try floats("standardizer.deviation", [din]))
        if standardizer.deviation.contains(where: { $0 <= 0 }) { throw fail("standardizer.deviation must be positive") }
        var network: FeatureNetwork?
        if config.hasNetwork {
            // The network's own list of named tensors says what the file must hold; the weights
            // drawn here are all overwritten.
            var random = SeededRandom(seed: 0)
            var net = try FeatureNetwork(validating: config, random: &random)
            var failure: (any Error)?
            net.visitTensors { name, tensor, values in
                guard failure == nil else { return }
                do {
                    values = try floats("network.\(name)", tensor.shape)
                    if name.hasSuffix("running_var"), let bad = values.firstIndex(where: { $0 < 0 }) {
                        throw fail("tensor 'network.\(name)' has a negative variance at \(bad)")
                    }
                } catch { failure = error }
            }
            if let failure { throw failure }
            network = net
        }
        let d = config.quantizedDimension
        let books = Codebooks(blocks: config.blocks, size: config.codebookSize, dimension: d,
                              values: try floats("quantizer.codebooks", [config.blocks, config.codebookSize, d]))
        let expected = Set(DPQModel(config: config, standardizer: standardizer, network: network,
                                    quantizer: ProgressiveQuantizer(codebooks: books, assignment: config.assignment))
            .safeTensors().tensors.keys)
        if let extra = Set(st.tensors.keys).subtracting(expected).sorted().first { throw fail("unexpected tensor '\(extra)'") }
        self.init(config: config, standardizer: standardizer, network: network,
                  quantizer: ProgressiveQuantizer(codebooks: books, assignment: config.assignment))
    }

    public func serialized() -> Data { safeTensors().serialized() }

    public init(serialized data: Data) throws {
        try self.init(safeTensors: SafeTensors(parsing: data))
    }

    /// Writes atomically (temporary file, fsync, rename).
    public func save(to path: String) throws { try safeTensors().write(to: path) }

    public static func load(_ path: String) throws -> DPQModel {
        do {
            return try DPQModel(safeTensors: SafeTensors.read(path))
        } catch var e as DataFileError {
            if e.path == nil { e.path = path }
            throw e
        }
    }
}
