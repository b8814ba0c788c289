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

    /// The features that the codebooks quantize, computed in chunks to bound memory. `threads`
    /// > 1 runs chunks side by side (FeatureNetwork.features): the same answer.
    public func features(_ x: Matrix, threads: Int = 1) throws -> Matrix {
        try checkInput(x, "vectors")
        return featuresUnchecked(x, threads: threads)
    }

    func featuresUnchecked(_ x: Matrix, threads: Int = 1) -> Matrix {
        // Pieces of about 4,096 rows per thread (the standardised copy stays small), each a
        // whole number of the network's chunks, so that the chunks, and so the answer, are the
        // same for every thread count.
        let unit = network?.chunkRows ?? 4096
        let piece = unit * max(1, 4096 / unit) * max(1, threads)
        func featuresOfPiece(_ p: Matrix) -> Matrix {
            network.map { $0.features(standardizer.apply(p), threads: threads) } ?? standardizer.apply(p)
        }
        if x.rows <= piece { return featuresOfPiece(x) }
        var out = Matrix(rows: x.rows, cols: config.quantizedDimension)
        for start in stride(from: 0, to: x.rows, by: piece) {
            let end = min(start + piece, x.rows)
            out.values.replaceSubrange((start * out.cols)..<(end * out.cols), with: featuresOfPiece(x.rowRange(start..<end)).values)
        }
        return out
    }

    /// M codes per vector; `threads` as for `features`.
    public func encode(_ x: Matrix, threads: Int = 1) throws -> CodeMatrix {
        quantizer.encode(try features(x, threads: threads), threads: threads)
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
