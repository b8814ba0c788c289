import Testing
import DPQEngine

// Encoding on several threads (the server's encodes: OpenBLAS at one thread, chunks side by side)
// gives exactly the codes and features of one thread, for a convolutional trunk whose chunks are
// not a power of two of rows, an MLP, and 2-byte codes (K > 256).
@Suite struct ParallelEncodeTests {
    @Test(arguments: ["conv3x3-4,bn,relu,maxpool2,conv3x3-6,relu,gap", "conv3x3-48,relu,gap"])
    func convolutionalModelEncodesTheSameOnAnyThreadCount(trunk: String) throws {
        let (x, y) = ImageData.make(count: 600, seed: 3)
        var t = ImageData.training()
        t.pretrainEpochs = 1; t.epochs = 1; t.kmeansIterations = 2
        let model = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: ImageData.config(trunk: trunk), training: t)
        let (many, _) = ImageData.make(count: 9_500, seed: 4)
        let unit = try #require(model.network).chunkRows
        #expect(unit < 9_500 / 2)   // several chunks of the network, and of the quantizer
        let one = try model.features(many)
        let codes = try model.encode(many)
        for threads in [2, 3] {
            #expect(try model.features(many, threads: threads) == one)
            #expect(try model.encode(many, threads: threads) == codes)
        }
    }

    @Test func quantizerEncodesTheSameOnAnyThreadCount() {
        var r = SeededRandom(seed: 5)
        for size in [256, 300] {
            let codebooks = Codebooks(blocks: 3, size: size, dimension: 6, values: (0..<(3 * size * 6)).map { _ in r.normal() })
            let q = ProgressiveQuantizer(codebooks: codebooks, assignment: .euclidean)
            let f = Matrix(rows: 10_000, cols: 6, values: (0..<60_000).map { _ in r.normal() })
            let one = q.encode(f)
            #expect(one.bytesPerCode == (size > 256 ? 2 : 1))
            #expect(q.encode(f, threads: 3) == one)
            #expect(q.encode(Matrix(rows: 0, cols: 6), threads: 3).count == 0)
        }
    }
}
