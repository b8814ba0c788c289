// Cross-checks against numpy itself: numpy writes .npy files of every supported dtype and
// layout for Swift to read, and reads the .npy and .safetensors files Swift writes (the
// safetensors ones with json + numpy.frombuffer alone, as our Python clients do).
// python3 with numpy is a hard requirement: when it is missing these tests fail, not skip.

import DPQEngine
import Foundation
import Testing

@Suite struct PythonInteropTests {
    @Test func pythonAndNumpyAreAvailable() throws {
        let version = try IOTestSupport.runPython("import numpy; print(numpy.__version__)")
        #expect(!version.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    @Test func readsNumpyWrittenFiles() throws {
        let script = """
        import sys, numpy as np
        d = sys.argv[1]
        base = np.arange(12).reshape(3, 4)
        np.save(d + '/f4.npy', (base * 0.5 - 1).astype('<f4'))
        np.save(d + '/f8.npy', (base / 3.0).astype('<f8'))
        np.save(d + '/u1.npy', (base * 20).astype('u1'))
        np.save(d + '/i4.npy', ((base - 6) * 1000).astype('<i4'))
        np.save(d + '/i8.npy', ((base - 6) * 10**12).astype('<i8'))
        np.save(d + '/f4_be.npy', (base * 0.5 - 1).astype('>f4'))
        np.save(d + '/i4_be.npy', ((base - 6) * 1000).astype('>i4'))
        np.save(d + '/fortran.npy', np.asfortranarray((base * 0.5 - 1).astype('<f4')))
        np.save(d + '/labels_i8.npy', np.array([3, 1, 4, 1, 5], dtype='<i8'))
        np.save(d + '/labels_i4_col.npy', np.array([[2], [7], [1]], dtype='<i4'))
        np.save(d + '/empty.npy', np.zeros((0, 4), dtype='<f4'))
        for v in [(2, 0), (3, 0)]:
            with open(d + '/v%d.npy' % v[0], 'wb') as f:
                np.lib.format.write_array(f, (base * 0.5 - 1).astype('<f4'), version=v)
        np.save(d + '/c8.npy', np.zeros(2, dtype='<c8'))
        np.save(d + '/five_d.npy', np.zeros((1, 2, 2, 2, 1), dtype='<f4'))
        img = (np.arange(2 * 3 * 4 * 2) * 5 % 256).astype('u1').reshape(2, 3, 4, 2)
        np.save(d + '/images.npy', img)
        np.save(d + '/images_fortran.npy', np.asfortranarray(img))
        np.save(d + '/images_f4_be_fortran.npy', np.asfortranarray(img.astype('>f4')))
        np.save(d + '/gray_images.npy', img[..., 0])
        np.save(d + '/indicators_bool.npy', np.array([[True, False, True], [False, False, False]]))
        print('ok')
        """
        try IOTestSupport.withTemporaryDirectory { dir in
            let out = try IOTestSupport.runPython(script, arguments: [dir.path])
            #expect(out.contains("ok"))
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

            let base = (0..<12).map { $0 }
            let halves = base.map { Float($0) * 0.5 - 1 }
            for name in ["f4.npy", "f4_be.npy", "fortran.npy", "v2.npy", "v3.npy"] {
                let m = try NumpyFile.readMatrix(path(name))
                #expect(m == Matrix(rows: 3, cols: 4, values: halves), "\(name)")
            }
            let f8 = try NumpyFile.read(path("f8.npy"))
            #expect(f8.dtype == .float64 && f8.shape == [3, 4])
            #expect(f8.floats() == base.map { Float(Double($0) / 3.0) })

            let u1 = try NumpyFile.read(path("u1.npy"))
            #expect(u1.dtype == .uint8)
            #expect(try NumpyFile.readMatrix(path("u1.npy")).values == base.map { Float($0 * 20) })

            for name in ["i4.npy", "i4_be.npy"] {
                let a = try NumpyFile.read(path(name))
                #expect(a.dtype == .int32 && a.shape == [3, 4])
                #expect(try a.ints() == base.map { ($0 - 6) * 1000 }, "\(name)")
            }
            let i8 = try NumpyFile.read(path("i8.npy"))
            #expect(i8.dtype == .int64)
            #expect(try i8.ints() == base.map { ($0 - 6) * 1_000_000_000_000 })

            #expect(try NumpyFile.readLabels(path("labels_i8.npy")) == [3, 1, 4, 1, 5])
            #expect(try NumpyFile.readLabels(path("labels_i4_col.npy")) == [2, 7, 1])
            let empty = try NumpyFile.readMatrix(path("empty.npy"))
            #expect(empty.rows == 0 && empty.cols == 4)

            expectDataFileError("unsupported npy dtype '<c8'") { _ = try NumpyFile.read(path("c8.npy")) }
            expectDataFileError("only 1-D to 4-D") { _ = try NumpyFile.read(path("five_d.npy")) }

            // Images N x H x W x C, in C or Fortran order: one row of H * W * C values in HWC order each.
            let pixels = (0..<48).map { Float($0 * 5 % 256) }
            for name in ["images.npy", "images_fortran.npy", "images_f4_be_fortran.npy"] {
                let a = try NumpyFile.read(path(name))
                #expect(a.shape == [2, 3, 4, 2] && a.imageShape! == (3, 4, 2), "\(name)")
                #expect(a.matrix() == Matrix(rows: 2, cols: 24, values: pixels), "\(name)")
            }
            let gray = try NumpyFile.read(path("gray_images.npy"))
            #expect(gray.imageShape! == (3, 4, 1))
            #expect(gray.matrix() == Matrix(rows: 2, cols: 12, values: stride(from: 0, to: 48, by: 2).map { pixels[$0] }))
            let bools = try NumpyFile.read(path("indicators_bool.npy"))
            #expect(bools.dtype == .bool)
            #expect(try LabelFile.read(path("indicators_bool.npy")) == [[0, 2], []])
        }
    }

    @Test func numpyReadsSwiftWrittenNpy() throws {
        let m = Matrix([[1.5, -2, 0.25], [1e-3, 3e8, -0.0]])
        let labels = [0, 9, -1, 1 << 40]
        let script = """
        import sys, json, numpy as np
        m = np.load(sys.argv[1], allow_pickle=False)
        l = np.load(sys.argv[2], allow_pickle=False)
        with open(sys.argv[1], 'rb') as f:
            raw = f.read()
        hlen = int.from_bytes(raw[8:10], 'little')
        print(json.dumps({'m_dtype': m.dtype.str, 'm_shape': list(m.shape), 'm_fortran': bool(np.isfortran(m)),
                          'm_values': [float(x).hex() for x in m.ravel()], 'data_offset': 10 + hlen,
                          'l_dtype': l.dtype.str, 'l_shape': list(l.shape), 'l_values': [int(x) for x in l]}))
        """
        try IOTestSupport.withTemporaryDirectory { dir in
            let mPath = dir.appendingPathComponent("m.npy").path, lPath = dir.appendingPathComponent("l.npy").path
            try NumpyFile.write(m, to: mPath)
            try NumpyFile.writeLabels(labels, to: lPath)
            let result = try IOTestSupport.json(IOTestSupport.runPython(script, arguments: [mPath, lPath]))
            #expect(result["m_dtype"] as? String == "<f4")
            #expect(IOTestSupport.ints(result["m_shape"]) == [2, 3])
            #expect(result["m_fortran"] as? Bool == false)
            #expect(IOTestSupport.hexDoubles(result["m_values"]) == m.values.map(Double.init))
            #expect((result["data_offset"] as? Int).map { $0 % 64 } == 0)
            #expect(result["l_dtype"] as? String == "<i8")
            #expect(IOTestSupport.ints(result["l_shape"]) == [4])
            #expect(IOTestSupport.ints(result["l_values"]) == labels)
        }
    }

    @Test func numpyReadsSwiftWrittenSafetensors() throws {
        let tensors = SafeTensors(
            tensors: [
                "w": .init(floats: [1.5, -2, 0.25, 8, 1e-3, -7], shape: [2, 3]),
                "d": .init(doubles: [0.1, -1e300], shape: [2]),
                "codes": .init(bytes: [0, 255, 3, 4], shape: [4, 1]),
                "wide": .init(uint16s: [65535, 1, 300], shape: [3]),
                "i": .init(int32s: [-5, .max], shape: [1, 2]),
                "labels": .init(int64s: [-1, 1 << 40], shape: [2]),
            ],
            metadata: ["format": "dpq", "note": "ünïcödé \"quoted\""])
        let script = """
        import sys, json, numpy as np
        raw = open(sys.argv[1], 'rb').read()
        n = int.from_bytes(raw[:8], 'little')
        header = json.loads(raw[8:8 + n].decode('utf-8'))
        buf = raw[8 + n:]
        kinds = {'F32': '<f4', 'F64': '<f8', 'U8': 'u1', 'U16': '<u2', 'I32': '<i4', 'I64': '<i8'}
        out = {'header_len_mod8': n % 8, 'metadata': header.pop('__metadata__', {}), 'tensors': {},
               'order': [k for k in header]}
        for name, t in header.items():
            b, e = t['data_offsets']
            a = np.frombuffer(buf[b:e], dtype=kinds[t['dtype']]).reshape(t['shape'])
            out['tensors'][name] = {'dtype': t['dtype'], 'shape': list(a.shape), 'begin': b,
                                    'values': [float(x).hex() if a.dtype.kind == 'f' else int(x) for x in a.ravel()]}
        print(json.dumps(out))
        """
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("t.safetensors").path
            try tensors.write(to: path)
            let result = try IOTestSupport.json(IOTestSupport.runPython(script, arguments: [path]))
            #expect(result["header_len_mod8"] as? Int == 0)
            #expect(result["metadata"] as? [String: String] == tensors.metadata)
            #expect(result["order"] as? [String] == tensors.tensors.keys.sorted())
            let read = try #require(result["tensors"] as? [String: [String: Any]])
            #expect(Set(read.keys) == Set(tensors.tensors.keys))
            var previousBegin = -1
            for name in tensors.tensors.keys.sorted() {
                let expected = try #require(tensors.tensors[name])
                let got = try #require(read[name])
                #expect(got["dtype"] as? String == expected.dtype.rawValue)
                #expect(IOTestSupport.ints(got["shape"]) == expected.shape, "\(name)")
                let begin = try #require(got["begin"] as? Int)
                #expect(begin > previousBegin, "data is laid out in name order")
                previousBegin = begin
                let values = expected.dtype == .f32 || expected.dtype == .f64
                    ? IOTestSupport.hexDoubles(got["values"]) : IOTestSupport.doubles(got["values"])
                let want: [Double]
                switch expected.dtype {
                case .f32: want = try expected.floats().map(Double.init)
                case .f64: want = try expected.doubles()
                case .u8: want = try expected.uint8s().map(Double.init)
                case .u16: want = try expected.uint16s().map(Double.init)
                case .i32: want = try expected.int32s().map(Double.init)
                case .i64: want = try expected.int64s().map(Double.init)
                }
                #expect(values == want, "\(name)")
            }
        }
    }

    @Test func readsPythonWrittenSafetensors() throws {
        // Written the way a numpy-only client would: json.dumps, unsorted, unpadded.
        let script = """
        import sys, json, numpy as np
        arrays = {'zeta': np.arange(6, dtype='<f4').reshape(2, 3) / 4, 'alpha': np.array([7, 65535], dtype='<u2'),
                  'mid': np.array([-3, 2**40], dtype='<i8')}
        kinds = {'float32': 'F32', 'uint16': 'U16', 'int64': 'I64'}
        header, blobs, off = {'__metadata__': {'source': 'python'}}, [], 0
        for name, a in arrays.items():
            b = a.tobytes()
            header[name] = {'dtype': kinds[str(a.dtype)], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
            blobs.append(b); off += len(b)
        h = json.dumps(header).encode('utf-8')
        with open(sys.argv[1], 'wb') as f:
            f.write(len(h).to_bytes(8, 'little') + h + b''.join(blobs))
        """
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("py.safetensors").path
            _ = try IOTestSupport.runPython(script, arguments: [path])
            let st = try SafeTensors.read(path)
            #expect(st.metadata == ["source": "python"])
            #expect(try st.tensors["zeta"]?.floats() == [0, 0.25, 0.5, 0.75, 1, 1.25])
            #expect(st.tensors["zeta"]?.shape == [2, 3])
            #expect(try st.tensors["alpha"]?.uint16s() == [7, 65535])
            #expect(try st.tensors["mid"]?.int64s() == [-3, 1 << 40])
        }
    }
}
