import Foundation
import Testing
import DPQEngine

// Back-compat with model files written before trunks became layer lists (Fixtures/legacy-mlp,
// written by the engine at commit 4ae69bc): they load, encode as they did, and write back byte for
// byte; and the hidden-sizes MLP, now a layer list, trains to the same model from the same seed.
@Suite struct LegacyModelTests {
    static let folder = IOTestSupport.fixtures.appendingPathComponent("legacy-mlp", isDirectory: true)
    static let data = TestData.clusters(classes: 4, perClass: 60, dim: 12, spread: 1.0, seed: 3)

    static func fixture() throws -> (Data, DPQModel) {
        let bytes = try Data(contentsOf: folder.appendingPathComponent("model.safetensors"))
        return (bytes, try DPQModel(serialized: bytes))
    }

    @Test func oldFileLoadsEncodesAndWritesTheSameBytes() throws {
        let (bytes, model) = try Self.fixture()
        #expect(model.config.trunk == nil && model.config.inputShape == nil)
        #expect(model.network?.trunk.map(\.token) == ["dense-16", "relu", "dropout-0.1", "dense-8", "relu", "dropout-0.1"])
        #expect(model.serialized() == bytes)
        let text = try String(contentsOf: Self.folder.appendingPathComponent("codes.txt"), encoding: .utf8)
        let expected = text.split(separator: "\n").map { $0.split(separator: " ").map { Int($0)! } }
        let codes = try model.encode(Self.data.0)
        #expect(expected.count == 240)
        let same = (0..<240).filter { i in (0..<3).allSatisfy { codes.code(item: i, block: $0) == expected[i][$0] } }.count
        #expect(same == 240)
    }

    /// Same configuration and seed as the fixture (input dropout, hidden dropout, Adam): the same
    /// model. Bit for bit on the machine that wrote the fixture; OpenBLAS picks its kernels by CPU,
    /// so elsewhere the last bits of a GEMM may differ, hence the tolerance.
    @Test func sameSeedTrainsTheSameMLPAsBefore() throws {
        let (_, old) = try Self.fixture()
        let (x, y) = Self.data
        let model = try Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: old.config,
                                      training: TrainingConfig(pretrainEpochs: 2, epochs: 4, batchSize: 32, seed: 5,
                                                               kmeansIterations: 5, threads: 1))
        let a = model.safeTensors().tensors, b = old.safeTensors().tensors
        #expect(a.keys.sorted() == b.keys.sorted())
        var worst: Float = 0
        for (name, t) in a {
            for (u, v) in zip(try t.floats(), try b[name]!.floats()) { worst = max(worst, abs(u - v)) }
        }
        #expect(worst < 1e-4, "largest difference \(worst)")
    }
}
