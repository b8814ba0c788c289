// Seeded data augmentation of image batches (NHWC rows, already standardised), in training only:
//   random crop with padding p: the image is padded by p pixels of `border` on every side and an
//     H x W window is cut at a uniform offset in 0...2p each way, i.e. a shift by up to p pixels.
//     The trainer's border is a raw 0 (black) after standardisation, as torchvision's RandomCrop
//     pads before normalising (a border of 0 in standardised units would be the channel mean,
//     grey, a frame black-background images such as Fashion-MNIST never have);
//   horizontal flip with probability 1/2 (x -> W - 1 - x), for data where a mirror image is the
//     same class (clothes, natural images; not digits or text, hence an option);
//   random erasing (Zhong et al., 2017) with probability e: a rectangle of a uniform 2% to 40% of
//     the image's area, aspect ratio log-uniform in [0.3, 1/0.3], placed uniformly where it fits
//     (up to 10 tries, else nothing), is filled with N(0, 1) noise (standardised units). Unlike a
//     crop it keeps the object where it was, which a trunk ending in flatten relies on.
// Off unless TrainingConfig.augmentation is set, and only for models with an input shape.

public struct Augmentation: Sendable, Codable, Equatable {
    public var cropPadding: Int
    public var horizontalFlip: Bool
    /// The probability of erasing a rectangle of each image (0: off).
    public var erasing: Float

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, erasing: Float = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.erasing = erasing
    }

    private enum CodingKeys: String, CodingKey { case cropPadding, horizontalFlip, erasing }

    /// Configurations written before random erasing existed lack its key (off).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(cropPadding: try c.decode(Int.self, forKey: .cropPadding),
                  horizontalFlip: try c.decode(Bool.self, forKey: .horizontalFlip),
                  erasing: try c.decodeIfPresent(Float.self, forKey: .erasing) ?? 0)
    }

    /// The standardised value of a raw 0 in each channel: what a black border becomes.
    public static func blackBorder(_ standardizer: Standardizer, shape: TensorShape) -> [Float] {
        (0..<shape.channels).map { ch in (0 - standardizer.mean[ch]) / standardizer.deviation[ch] }
    }

    /// Augments every row of `batch` in place; draws (for each item in order) the two offsets,
    /// the flip, then (when erasing) the rectangle, from `random`. Vacated pixels take `border` (one value per channel; nil: 0).
    public func apply(to batch: inout Matrix, shape: TensorShape, border: [Float]? = nil, random: inout SeededRandom) {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        precondition(batch.cols == shape.count, "Augmentation: rows of \(batch.cols) values for \(shape)")
        let fill = border ?? [Float](repeating: 0, count: c)
        precondition(fill.count == c, "Augmentation: a border of \(fill.count) values for \(c) channels")
        let p = cropPadding
        var scratch = [Float](repeating: 0, count: shape.count)
        batch.values.withUnsafeMutableBufferPointer { values in
          fill.withUnsafeBufferPointer { fill in
            scratch.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch.rows {
                    let dy = p > 0 ? Int(random.next() % UInt64(2 * p + 1)) - p : 0
                    let dx = p > 0 ? Int(random.next() % UInt64(2 * p + 1)) - p : 0
                    let flip = horizontalFlip && random.next() & 1 == 1
                    let image = values.baseAddress! + n * shape.count
                    defer { if erasing > 0 { erase(image, shape: shape, random: &random) } }
                    if dy == 0 && dx == 0 && !flip { continue }
                    // out[y, x] = in[y + dy, x' + dx] with x' = x or W - 1 - x; the border outside the image.
                    for y in 0..<h {
                        let sy = y + dy
                        for x in 0..<w {
                            let dst = out.baseAddress! + (y * w + x) * c
                            let sx = (flip ? w - 1 - x : x) + dx
                            if sy < 0 || sy >= h || sx < 0 || sx >= w { dst.update(from: fill.baseAddress!, count: c) }
                            else { dst.update(from: image + (sy * w + sx) * c, count: c) }
                        }
                    }
                    image.update(from: out.baseAddress!, count: shape.count)
                }
            }
          }
        }
    }

    /// Random erasing of one image (see the top of the file).
    private func erase(_ image: UnsafeMutablePointer<Float>, shape: TensorShape, random: inout SeededRandom) {
        guard random.uniform() < erasing else { return }
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let area = Float(h * w)
        for _ in 0..<10 {
            let target = area * (0.02 + 0.38 * random.uniform())
            let ratio = expf_(logf_(0.3) + (logf_(1 / 0.3) - logf_(0.3)) * random.uniform())
            let eh = Int((target * ratio).squareRoot().rounded()), ew = Int((target / ratio).squareRoot().rounded())
            guard eh >= 1, ew >= 1, eh < h, ew < w else { continue }
            let top = Int(random.next() % UInt64(h - eh + 1)), left = Int(random.next() % UInt64(w - ew + 1))
            for y in top..<(top + eh) {
                for i in ((y * w + left) * c)..<((y * w + left + ew) * c) { image[i] = random.normal() }
            }
            return
        }
    }
}
