// A trained DPQ model: standardiser, network (absent without labels) and quantizer.
//   x -> x' = standardise(x) -> f = network(x') (or x' without labels) -> codes b_1..b_M
// Everything a service needs at query time: features, encode, decode, classify.

public struct DPQModel: Sendable, Equatable {
    public var config: ModelConfig
    public var standardizer: Standardizer
    public var network: FeatureNetwork?
    public var quantizer: ProgressiveQuantizer

    public init(config: ModelConfig, standardizer: Standardizer, network: FeatureNetwork?, quantizer: ProgressiveQuantizer) {
        self.config = config
        self.standardizer = standardizer
        self.network = network
        self.quantizer = quantizer
    }

    public var codebooks: Codebooks { quantizer.codebooks }

    func checkInput(_ x: Matrix, _ name: String) throws {
        guard x.cols == config.inputDimension else {
            throw EngineError.invalidArgument("\(name): vectors have dimension \(x.cols), the model expects \(config.inputDimension)")
        }
        try requireFinite(x, name)
    }

    /// The features that the codebooks quantize, computed in chunks to bound memory.
    public func features(_ x: Matrix) throws -> Matrix {
        try checkInput(x, "vectors")
        return featuresUnchecked(x)
    }

    func featuresUnchecked(_ x: Matrix) -> Matrix {
        let chunk = 4096
        if x.rows <= chunk { return network.map { $0.features(standardizer.apply(x)) } ?? standardizer.apply(x) }
        var out = Matrix(rows: x.rows, cols: config.quantizedDimension)
        var start = 0
        while start < x.rows {
            let end = min(start + chunk, x.rows)
            let part = featuresUnchecked(x.rowRange(start..<end))
            out.values.replaceSubrange((start * out.cols)..<(end * out.cols), with: part.values)
            start = end
        }
        return out
    }

    /// M codes per vector.
    public func encode(_ x: Matrix) throws -> CodeMatrix {
        quantizer.encode(try features(x))
    }

    /// Reconstructions (in feature space) from the first m codes.
    public func decode(_ codes: CodeMatrix, blocks m: Int) throws -> Matrix {
        guard codes.blocks >= m, m >= 1, m <= config.blocks else {
            throw EngineError.invalidArgument("blocks: \(m) is outside 1...\(min(codes.blocks, config.blocks))")
        }
        guard codes.bytesPerCode == CodeMatrix.bytesPerCode(codebookSize: config.codebookSize) else {
            throw EngineError.invalidArgument("codes: \(codes.bytesPerCode) bytes per code, the model uses \(CodeMatrix.bytesPerCode(codebookSize: config.codebookSize))")
        }
        for i in 0..<codes.count { for b in 0..<m where codes.code(item: i, block: b) >= config.codebookSize {
            throw EngineError.invalidArgument("codes: item \(i) block \(b) has code \(codes.code(item: i, block: b)), K is \(config.codebookSize)")
        } }
        return quantizer.decode(codes, blocks: m)
    }

    /// Class logits (nil without a network).
    public func logits(_ x: Matrix) throws -> Matrix? {
        try checkInput(x, "vectors")
        guard let network else { return nil }
        return network.forward(standardizer.apply(x)).logits
    }
}
