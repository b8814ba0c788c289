import Foundation
import Testing
import DPQEngine

// Model files of convolutional models: they round-trip, carry the trunk spec and input shape in
// their config, and numpy alone (no DPQ code) rebuilds the network from the spec and computes the
// same features. MLP files keep their tensor names and config keys.
@Suite struct ImageModelFileTests {
    static let trunk = "conv3x3-4,bn,relu,maxpool2/s2/p0,conv3x3-6/s2/p1,bn,relu,dropout-0.1,avgpool2/s1/p1,conv1x1-5,relu,gap,dense-7,relu"

    static let trained: DPQModel = {
        let (x, y) = ImageData.make(count: 120, seed: 8)
        var t = ImageData.training()
        t.pretrainEpochs = 1; t.epochs = 1; t.kmeansIterations = 2
        t.augmentation = Augmentation(cropPadding: 1, horizontalFlip: true)
        return try! Trainer.train(data: x, labels: Labels(single: y, classCount: 4), model: ImageData.config(trunk: trunk), training: t)
    }()

    @Test func roundTripKeepsEverything() throws {
        let model = Self.trained
        let loaded = try DPQModel(serialized: model.serialized())
        #expect(loaded == model)
        #expect(loaded.serialized() == model.serialized())
        let (x, _) = ImageData.make(count: 30, seed: 9)
        #expect(try loaded.encode(x) == model.encode(x))
        let st = model.safeTensors()
        #expect(st.tensors["network.trunk.0.weight"]?.shape == [3, 3, 1, 4])
        #expect(st.tensors["network.trunk.1.running_var"]?.shape == [4])
        #expect(st.tensors["network.trunk.9.weight"]?.shape == [1, 1, 6, 5])
        #expect(st.tensors["network.trunk.12.weight"]?.shape == [5, 7])
        let config = st.metadata["config"]!
        #expect(config.contains("\"input_shape\":[8,8,1]"))
        #expect(config.contains("\"trunk\":\"\(Self.trunk)\""))
    }

    @Test func badTensorsAreClearErrors() throws {
        var st = Self.trained.safeTensors()
        st.tensors["network.trunk.0.weight"]!.shape = [3, 3, 4, 1]
        do { _ = try DPQModel(safeTensors: st); Issue.record("accepted a wrong shape") }
        catch { #expect("\(error)".contains("tensor 'network.trunk.0.weight' has shape [3, 3, 4, 1], expected [3, 3, 1, 4]")) }

        st = Self.trained.safeTensors()
        st.tensors.removeValue(forKey: "network.trunk.5.running_mean")
        do { _ = try DPQModel(safeTensors: st); Issue.record("accepted a missing buffer") }
        catch { #expect("\(error)".contains("network.trunk.5.running_mean")) }

        st = Self.trained.safeTensors()
        st.tensors["network.trunk.5.running_var"] = .init(floats: [1, 1, -1, 1, 1, 1], shape: [6])
        #expect(throws: DataFileError.self) { try DPQModel(safeTensors: st) }

        st = Self.trained.safeTensors()
        st.metadata["config"] = st.metadata["config"]!.replacingOccurrences(of: "conv3x3-4,", with: "conv3x3-4,dense-3,")
        do { _ = try DPQModel(safeTensors: st); Issue.record("accepted a trunk that does not fit") }
        catch { #expect("\(error)".contains("layer 1 'dense-3': needs a flat input, got 8x8x4")) }
    }

    /// An MLP model keeps the tensor names and config keys it always had.
    @Test func mlpFilesAreUnchanged() throws {
        let st = ModelFileTests.trained.safeTensors()
        #expect(st.tensors.keys.sorted() == ["network.classifier.bias", "network.classifier.weight", "network.feature.bias",
                                             "network.feature.weight", "network.trunk.0.bias", "network.trunk.0.weight",
                                             "quantizer.codebooks", "standardizer.deviation", "standardizer.mean"])
        let config = try IOTestSupport.json(st.metadata["config"]!)
        #expect(config.keys.sorted() == ["assignment", "blocks", "class_count", "classifier_input", "codebook_size",
                                         "deviation_floor", "dropout", "feature_dimension", "hidden_sizes",
                                         "input_dimension", "input_dropout", "label_mode", "metric"])
    }

    /// numpy rebuilds the trunk from the spec string in the file and computes our features.
    @Test func numpyRebuildsTheNetworkFromTheSpec() throws {
        let model = Self.trained
        let (x, _) = ImageData.make(count: 5, seed: 10)
        let features = try model.features(x)
        let script = """
        import json, re, struct, sys, numpy as np
        raw = open(sys.argv[1], 'rb').read()
        n = struct.unpack('<Q', raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        meta = header.pop('__metadata__')
        def T(name):
            t = header[name]; b, e = t['data_offsets']
            return np.frombuffer(raw[8 + n + b:8 + n + e], dtype='<f4').reshape(t['shape']).astype(np.float64)
        config = json.loads(meta['config'])
        H, W, C = config['input_shape']
        x = np.array(json.loads(sys.argv[2]), dtype=np.float64).reshape(-1, H * W * C)
        a = ((x - T('standardizer.mean')) / T('standardizer.deviation')).reshape(-1, H, W, C)
        def windows(a, kh, kw, s, p, fill):
            a = np.pad(a, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=fill)
            oh, ow = (a.shape[1] - kh) // s + 1, (a.shape[2] - kw) // s + 1
            return [((ky, kx), a[:, ky:ky + s * (oh - 1) + 1:s, kx:kx + s * (ow - 1) + 1:s, :]) for ky in range(kh) for kx in range(kw)]
        for i, tok in enumerate(config['trunk'].split(',')):
            pre = 'network.trunk.%d.' % i
            opts = dict((o[0], int(o[1:])) for o in tok.split('/')[1:])
            m = re.fullmatch(r'conv(\\d+)(?:x(\\d+))?-(\\d+)', tok.split('/')[0])
            if m:
                kh = int(m.group(1)); kw = int(m.group(2) or kh)
                w = T(pre + 'weight')
                a = sum(win @ w[ky, kx] for (ky, kx), win in windows(a, kh, kw, opts.get('s', 1), opts.get('p', kh // 2), 0)) + T(pre + 'bias')
            elif tok == 'bn':
                a = (a - T(pre + 'running_mean')) / np.sqrt(T(pre + 'running_var') + 1e-5) * T(pre + 'weight') + T(pre + 'bias')
            elif tok == 'relu':
                a = np.maximum(a, 0)
            elif tok.startswith('maxpool') or tok.startswith('avgpool'):
                k = int(tok.split('/')[0][7:])
                ws = [win for _, win in windows(a, k, k, opts.get('s', k), opts.get('p', 0), -np.inf if tok[0] == 'm' else 0)]
                a = np.max(ws, axis=0) if tok[0] == 'm' else np.sum(ws, axis=0) / (k * k)
            elif tok == 'gap':
                a = a.mean(axis=(1, 2))
            elif tok == 'flatten':
                a = a.reshape(a.shape[0], -1)
            elif tok.startswith('dense-'):
                a = a.reshape(a.shape[0], -1) @ T(pre + 'weight') + T(pre + 'bias')
            elif not tok.startswith('dropout'):
                raise SystemExit('unknown token ' + tok)
        f = np.tanh(a.reshape(a.shape[0], -1) @ T('network.feature.weight') + T('network.feature.bias'))
        print(json.dumps(f.ravel().tolist()))
        """
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("cnn.safetensors").path
            try model.save(to: path)
            let input = "[" + x.values.map { "\($0)" }.joined(separator: ",") + "]"
            let out = try IOTestSupport.runPython(script, arguments: [path, input])
            let values = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [Double])
            #expect(values.count == features.values.count)
            for (a, b) in zip(values, features.values) { #expect(abs(Float(a) - b) < 1e-4) }
        }
    }
}
