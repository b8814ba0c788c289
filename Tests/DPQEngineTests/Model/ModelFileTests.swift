import ChildProcesses
import Foundation
import Testing
import DPQEngine

@Suite struct ModelFileTests {
    static let trained: DPQModel = {
        let (x, y) = TestData.clusters(classes: 3, perClass: 40, dim: 10, spread: 1, seed: 8)
        let config = ModelConfig(inputDimension: 10, hiddenSizes: [12], featureDimension: 6, classCount: 3, blocks: 2, codebookSize: 16)
        return try! Trainer.train(data: x, labels: Labels(single: y, classCount: 3), model: config,
                                  training: TrainingConfig(pretrainEpochs: 1, epochs: 2, batchSize: 32, kmeansIterations: 3, threads: 1))
    }()

    func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dpq-model-\(UUID().uuidString)-\(name)").path
    }

    @Test func saveThenLoadGivesIdenticalCodes() throws {
        let model = Self.trained
        let path = tempPath("m.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded = try DPQModel.load(path)
        #expect(loaded == model)
        let x = TestData.matrix(rows: 50, cols: 10, seed: 9, scale: 3)
        #expect(try loaded.encode(x) == model.encode(x))
        // Same content, same bytes.
        #expect(loaded.serialized() == model.serialized())
    }

    @Test func unsupervisedModelRoundTrips() throws {
        let x = TestData.matrix(rows: 100, cols: 8, seed: 10)
        var config = ModelConfig(inputDimension: 8, blocks: 2, codebookSize: 16)
        config.labelMode = .none
        let model = try Trainer.train(data: x, labels: nil, model: config, training: TrainingConfig(epochs: 2, kmeansIterations: 3))
        let loaded = try DPQModel(serialized: model.serialized())
        #expect(loaded == model)
        #expect(loaded.safeTensors().tensors.keys.sorted() == ["quantizer.codebooks", "standardizer.deviation", "standardizer.mean"])
    }

    @Test func truncatedFileIsAClearError() throws {
        let data = Self.trained.serialized()
        for cut in [0, 4, 9, data.count / 2, data.count - 1] {
            #expect(throws: DataFileError.self) { try DPQModel(serialized: data.prefix(cut)) }
        }
    }

    @Test func corruptContentIsAClearError() throws {
        var st = Self.trained.safeTensors()
        st.metadata["format"] = "something-else"
        #expect(throws: DataFileError.self) { try DPQModel(safeTensors: st) }

        st = Self.trained.safeTensors()
        st.tensors["quantizer.codebooks"]!.shape = [2, 8, 12]
        do { _ = try DPQModel(safeTensors: st); Issue.record("accepted a wrong shape") }
        catch { #expect("\(error)".contains("quantizer.codebooks")) }

        st = Self.trained.safeTensors()
        st.tensors.removeValue(forKey: "network.feature.bias")
        do { _ = try DPQModel(safeTensors: st); Issue.record("accepted a missing tensor") }
        catch { #expect("\(error)".contains("network.feature.bias")) }

        st = Self.trained.safeTensors()
        var values = try st.tensors["standardizer.mean"]!.floats()
        values[0] = .nan
        st.tensors["standardizer.mean"] = .init(floats: values, shape: [10])
        #expect(throws: DataFileError.self) { try DPQModel(safeTensors: st) }

        st = Self.trained.safeTensors()
        st.metadata["config"] = "{not json"
        #expect(throws: DataFileError.self) { try DPQModel(safeTensors: st) }

        let path = tempPath("missing.safetensors")
        do { _ = try DPQModel.load(path); Issue.record("loaded a missing file") }
        catch { #expect("\(error)".contains(path)) }
    }

    /// numpy alone reads the file: the codebooks Python sees decode our codes to our reconstructions.
    @Test func numpyReadsTheModel() throws {
        let model = Self.trained
        let path = tempPath("py.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let x = TestData.matrix(rows: 5, cols: 10, seed: 11)
        let codes = try model.encode(x)
        let rec = try model.decode(codes, blocks: 2)
        let codeList = (0..<5).map { i in "[\(codes.code(item: i, block: 0)),\(codes.code(item: i, block: 1))]" }.joined(separator: ",")
        let script = """
        import json, struct, numpy as np
        raw = open('\(path)', 'rb').read()
        n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        meta = header.pop('__metadata__')
        assert meta['format'] == 'dpq-model', meta
        t = header['quantizer.codebooks']
        b, e = t['data_offsets']
        books = np.frombuffer(raw[8 + n + b:8 + n + e], dtype='<f4').reshape(t['shape'])
        codes = np.array([\(codeList)])
        rec = books[0][codes[:, 0]] + books[1][codes[:, 1]]
        print(' '.join(float(v).hex() for v in rec.ravel()))
        """
        let r = try ChildProcess.run(["python3", "-c", script], timeout: 300)
        try #require(r.status == 0 && !r.exit.wasSignalled, "python3 with numpy is required for this test: \(r.stderr)")
        let out = r.stdout
        let values = out.split(separator: " ").map { Float(Double(hexString: String($0.trimmingCharacters(in: .whitespacesAndNewlines)))!) }
        #expect(values.count == rec.values.count)
        for (a, b) in zip(values, rec.values) { #expect(abs(a - b) < 1e-5) }
    }
}

extension Double {
    /// Parses Python's float.hex() output, e.g. "-0x1.8000000000000p+1".
    init?(hexString s: String) {
        var str = s
        var sign = 1.0
        if str.hasPrefix("-") { sign = -1; str.removeFirst() }
        if str == "0x0.0p+0" { self = 0; return }
        guard str.hasPrefix("0x"), let pIdx = str.firstIndex(of: "p") else { return nil }
        let mant = str[str.index(str.startIndex, offsetBy: 2)..<pIdx]
        guard let exp = Int(str[str.index(after: pIdx)...]) else { return nil }
        let parts = mant.split(separator: ".", omittingEmptySubsequences: false)
        guard let ip = UInt64(parts[0], radix: 16) else { return nil }
        var v = Double(ip)
        if parts.count > 1 {
            var scale = 1.0 / 16
            for ch in parts[1] { guard let d = ch.hexDigitValue else { return nil }; v += Double(d) * scale; scale /= 16 }
        }
        self = sign * v * pow(2.0, Double(exp))
    }
}
