import Testing
import DPQEngine

// A small convolutional trunk, end to end: it learns generated 8 x 8 images, trains to the same
// model from the same seed, and its augmentation does what it says.
@Suite struct ImageTrainingTests {
    static let train = ImageData.make(count: 400, seed: 1)
    static let test = ImageData.make(count: 200, seed: 2)

    @Test func tinyCNNLearnsImages() throws {
        let (x, y) = Self.train
        let model = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: ImageData.config(),
                                      training: ImageData.training())
        let (tx, ty) = Self.test
        let accuracy = try ImageData.accuracy(model, tx, ty)
        #expect(accuracy > 0.85, "held-out accuracy \(accuracy), chance is 0.25")
        // Batch norm's running statistics were learned (they start at mean 0, variance 1).
        let bn = try #require(model.network?.trunk[1] as? BatchNorm)
        #expect(bn.runningMean.contains { $0 != 0 } && bn.runningVariance.contains { $0 != 1 })
        // The codes carry the class: each held-out item's nearest database item (by its 16-bit code)
        // mostly has its class.
        let codes = try model.encode(x)
        let q = try model.features(tx)
        let rec = try model.decode(codes, blocks: 2)
        var right = 0
        for i in 0..<tx.rows {
            var best = -Float.infinity, label = -1
            for j in 0..<x.rows {
                var s: Float = 0
                for d in 0..<8 { s += q[i, d] * rec[j, d] }
                if s > best { best = s; label = y[j] }
            }
            if label == ty[i] { right += 1 }
        }
        #expect(Double(right) / Double(tx.rows) > 0.8)
    }

    @Test func sameSeedSameModelWithAugmentation() throws {
        let (x, y) = Self.train
        let labels = Labels(single: y, classCount: 4)
        var t = ImageData.training()
        t.pretrainEpochs = 2; t.epochs = 1
        t.augmentation = Augmentation(cropPadding: 1, horizontalFlip: true)
        let a = try Trainer.train(data: x, labels: labels, model: ImageData.config(trunk: "conv3x3-4,bn,relu,dropout-0.2,gap"), training: t)
        let b = try Trainer.train(data: x, labels: labels, model: ImageData.config(trunk: "conv3x3-4,bn,relu,dropout-0.2,gap"), training: t)
        #expect(a == b)
        t.augmentation = nil
        let c = try Trainer.train(data: x, labels: labels, model: ImageData.config(trunk: "conv3x3-4,bn,relu,dropout-0.2,gap"), training: t)
        #expect(a != c)
    }

    @Test func augmentationNeedsAnImageShape() {
        let (x, y) = TestData.clusters(classes: 2, perClass: 20, dim: 6, spread: 1, seed: 1)
        var t = TrainingConfig(pretrainEpochs: 1, epochs: 1, threads: 1)
        t.augmentation = Augmentation(cropPadding: 1)
        #expect(throws: EngineError.invalidArgument("augmentation needs images: set the model's input_shape (H x W x C)")) {
            try Trainer.train(data: x, labels: Labels(single: y, classCount: 2),
                              model: ModelConfig(inputDimension: 6, hiddenSizes: [4], classCount: 2, blocks: 1, codebookSize: 16), training: t)
        }
    }

    @Test func flipMirrorsRowsAndCropShifts() {
        let shape = TensorShape(height: 4, width: 5, channels: 2)
        let x = TestData.matrix(rows: 64, cols: shape.count, seed: 3)
        func at(_ m: Matrix, _ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Float { m.values[n * shape.count + (y * 5 + x) * 2 + c] }

        var flipped = x
        var r = SeededRandom(seed: 4)
        Augmentation(cropPadding: 0, horizontalFlip: true).apply(to: &flipped, shape: shape, random: &r)
        var mirrored = 0
        for n in 0..<64 {
            let same = flipped.row(n) == x.row(n)
            let mirror = (0..<4).allSatisfy { y in (0..<5).allSatisfy { c in (0..<2).allSatisfy { ch in at(flipped, n, y, c, ch) == at(x, n, y, 4 - c, ch) } } }
            #expect(same || mirror)
            if mirror { mirrored += 1 }
        }
        #expect(mirrored > 16 && mirrored < 48)

        var shifted = x
        var r2 = SeededRandom(seed: 5)
        Augmentation(cropPadding: 2).apply(to: &shifted, shape: shape, random: &r2)
        var moved = 0
        for n in 0..<64 {
            // Some shift (dy, dx) in [-2, 2]^2 explains the output: in[y + dy, x + dx], 0 outside.
            let found = (-2...2).contains { dy in (-2...2).contains { dx in
                (0..<4).allSatisfy { y in (0..<5).allSatisfy { c in (0..<2).allSatisfy { ch in
                    let sy = y + dy, sx = c + dx
                    let expected: Float = sy < 0 || sy >= 4 || sx < 0 || sx >= 5 ? 0 : at(x, n, sy, sx, ch)
                    return at(shifted, n, y, c, ch) == expected
                } } }
            } }
            #expect(found)
            if shifted.row(n) != x.row(n) { moved += 1 }
        }
        #expect(moved > 40)
        // Seeded: the same stream gives the same batch.
        var again = x
        var r3 = SeededRandom(seed: 5)
        Augmentation(cropPadding: 2).apply(to: &again, shape: shape, random: &r3)
        #expect(again == shifted)
    }
}
