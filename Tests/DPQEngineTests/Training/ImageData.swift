import DPQEngine

/// Generated 8 x 8 x 1 images in four classes, each a short stroke at a random place plus noise:
/// 0 horizontal, 1 vertical, 2 diagonal (\), 3 a 2 x 2 square. The class is in the shape, not in
/// any fixed pixel, which is what a convolution (shared weights, pooling) is for.
enum ImageData {
    static let shape = TensorShape(height: 8, width: 8, channels: 1)

    static func make(count: Int, seed: UInt64, noise: Float = 0.3) -> (Matrix, [Int]) {
        var r = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Int] = []
        for i in 0..<count {
            let c = i % 4
            var image = (0..<64).map { _ in r.normal() * noise }
            let y0 = Int(r.next() % 5), x0 = Int(r.next() % 5)
            let points: [(Int, Int)]
            switch c {
            case 0: points = (0..<4).map { (y0 + 1, x0 + $0) }
            case 1: points = (0..<4).map { (y0 + $0, x0 + 1) }
            case 2: points = (0..<4).map { (y0 + $0, x0 + $0) }
            default: points = [(y0 + 1, x0 + 1), (y0 + 1, x0 + 2), (y0 + 2, x0 + 1), (y0 + 2, x0 + 2)]
            }
            for (y, x) in points { image[y * 8 + x] += 2 }
            values += image
            labels.append(c)
        }
        return (Matrix(rows: count, cols: 64, values: values), labels)
    }

    static func config(trunk: String = "conv3x3-8,bn,relu,maxpool2,conv3x3-16,bn,relu,gap") -> ModelConfig {
        var c = ModelConfig(inputDimension: 64, featureDimension: 8, inputDropout: 0, classCount: 4, blocks: 2, codebookSize: 16)
        c.inputShape = shape
        c.trunk = trunk
        return c
    }

    static func training(seed: UInt64 = 3) -> TrainingConfig {
        TrainingConfig(pretrainEpochs: 8, epochs: 4, batchSize: 32, learningRate: 3e-3, seed: seed, kmeansIterations: 5, threads: 1)
    }

    static func accuracy(_ model: DPQModel, _ x: Matrix, _ y: [Int]) throws -> Double {
        guard let z = try model.logits(x) else { return 0 }
        var right = 0
        for i in 0..<x.rows {
            let row = Array(z.row(i))
            if row.firstIndex(of: row.max()!) == y[i] { right += 1 }
        }
        return Double(right) / Double(x.rows)
    }
}
