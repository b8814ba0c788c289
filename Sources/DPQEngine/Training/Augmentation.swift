// Seeded data augmentation of image batches (NHWC rows, already standardised), in training only:
//   random crop with padding p: the image is padded by p zeros on every side and an H x W window
//     is cut at a uniform offset in 0...2p each way, i.e. a shift by up to p pixels whose vacated
//     border is 0 (the channel mean, once standardised per channel);
//   horizontal flip with probability 1/2 (x -> W - 1 - x), for data where a mirror image is the
//     same class (clothes, natural images; not digits or text, hence an option).
// Off unless TrainingConfig.augmentation is set, and only for models with an input shape.

public struct Augmentation: Sendable, Codable, Equatable {
    public var cropPadding: Int
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// Augments every row of `batch` in place; draws (for each item in order) the two offsets,
    /// then the flip, from `random`.
    public func apply(to batch: inout Matrix, shape: TensorShape, random: inout SeededRandom) {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        precondition(batch.cols == shape.count, "Augmentation: rows of \(batch.cols) values for \(shape)")
        let p = cropPadding
        var scratch = [Float](repeating: 0, count: shape.count)
        batch.values.withUnsafeMutableBufferPointer { values in
            scratch.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch.rows {
                    let dy = p > 0 ? Int(random.next() % UInt64(2 * p + 1)) - p : 0
                    let dx = p > 0 ? Int(random.next() % UInt64(2 * p + 1)) - p : 0
                    let flip = horizontalFlip && random.next() & 1 == 1
                    if dy == 0 && dx == 0 && !flip { continue }
                    let image = values.baseAddress! + n * shape.count
                    // out[y, x] = in[y + dy, x' + dx] with x' = x or W - 1 - x; 0 outside the image.
                    for y in 0..<h {
                        let sy = y + dy
                        for x in 0..<w {
                            let dst = out.baseAddress! + (y * w + x) * c
                            let sx = (flip ? w - 1 - x : x) + dx
                            if sy < 0 || sy >= h || sx < 0 || sx >= w { dst.update(repeating: 0, count: c) }
                            else { dst.update(from: image + (sy * w + sx) * c, count: c) }
                        }
                    }
                    image.update(from: out.baseAddress!, count: shape.count)
                }
            }
        }
    }
}
