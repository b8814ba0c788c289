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
        let border: [Float] = [-0.75, 0.5]
        Augmentation(cropPadding: 2).apply(to: &shifted, shape: shape, border: border, random: &r2)
        var moved = 0
        for n in 0..<64 {
            // Some shift (dy, dx) in [-2, 2]^2 explains the output: in[y + dy, x + dx], the border outside.
            let found = (-2...2).contains { dy in (-2...2).contains { dx in
                (0..<4).allSatisfy { y in (0..<5).allSatisfy { c in (0..<2).allSatisfy { ch in
                    let sy = y + dy, sx = c + dx
                    let expected: Float = sy < 0 || sy >= 4 || sx < 0 || sx >= 5 ? border[ch] : at(x, n, sy, sx, ch)
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
        Augmentation(cropPadding: 2).apply(to: &again, shape: shape, border: border, random: &r3)
        #expect(again == shifted)
    }

    /// Random erasing replaces one rectangle (2% to 40% of the image, every channel) of about the
    /// given share of images with noise, leaves everything else alone, and is seeded.
    @Test func erasingReplacesOneRectangle() {
        let shape = TensorShape(height: 12, width: 10, channels: 2)
        let x = TestData.matrix(rows: 200, cols: shape.count, seed: 11)
        var erased = x
        var r = SeededRandom(seed: 12)
        Augmentation(erasing: 0.5).apply(to: &erased, shape: shape, random: &r)
        var changed = 0
        for n in 0..<200 {
            var ys = Set<Int>(), xs = Set<Int>(), pixels = 0
            for y in 0..<12 { for c in 0..<10 {
                let i = n * shape.count + (y * 10 + c) * 2
                let differs = (0..<2).map { erased.values[i + $0] != x.values[i + $0] }
                #expect(differs[0] == differs[1], "both channels of a pixel are erased together")
                if differs[0] { ys.insert(y); xs.insert(c); pixels += 1 }
            } }
            guard pixels > 0 else { continue }
            changed += 1
            // One filled rectangle: its rows times its columns, contiguous.
            #expect(pixels == ys.count * xs.count && ys.max()! - ys.min()! + 1 == ys.count && xs.max()! - xs.min()! + 1 == xs.count)
            #expect(pixels >= 1 && pixels <= 60 && ys.count < 12 && xs.count < 10)
        }
        #expect(changed > 70 && changed < 130)
        var again = x
        var r2 = SeededRandom(seed: 12)
        Augmentation(erasing: 0.5).apply(to: &again, shape: shape, random: &r2)
        #expect(again == erased)
        var t = TrainingConfig()
        t.augmentation = Augmentation(erasing: 1.5)
        #expect(t.problems() == ["augmentation erasing must be a probability in [0, 1], got 1.5"])
        t.augmentation = nil; t.labelSmoothing = 1
        #expect(t.problems() == ["label_smoothing must be in [0, 1), got 1.0"])
    }

    /// Shifted images are framed in black: the border is what the standardiser makes of a raw 0 in each
    /// channel (as torchvision pads before normalising), not 0 in standardised units (the channel mean).
    @Test func theBorderIsARawZeroStandardised() {
        let shape = TensorShape(height: 3, width: 3, channels: 2)
        var raw = TestData.matrix(rows: 20, cols: shape.count, seed: 7)
        for i in raw.values.indices { raw.values[i] = 0.5 + abs(raw.values[i]) * (i % 2 == 0 ? 1 : 3) }
        let standardizer = Standardizer(fitting: raw, shape: shape)
        let border = Augmentation.blackBorder(standardizer, shape: shape)
        let black = standardizer.apply(Matrix(rows: 1, cols: shape.count, values: [Float](repeating: 0, count: shape.count)))
        #expect(border.count == 2)
        for ch in 0..<2 { #expect(abs(black.values[ch] - border[ch]) < 1e-5 && border[ch] < -0.5) }
        #expect(abs(border[0] - border[1]) > 0.01)
    }
}
