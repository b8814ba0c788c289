// Tests of the safetensors reader and writer: round trips of every dtype, deterministic
// output, crash-safe writing, and every malformed header the parser must reject.

import DPQEngine
import Foundation
import Testing

/// A safetensors file with the given header text (unpadded) and data buffer.
func safetensorsFile(header: String, buffer: [UInt8]) -> Data {
    let text = Array(header.utf8)
    return Data(leBytes(UInt64(text.count)) + text + buffer)
}

@Suite struct SafeTensorsTests {
    static func sample() -> SafeTensors {
        SafeTensors(
            tensors: [
                "codebooks": .init(floats: [1.5, -2, 0, 3.25, 1e-7, -0.0], shape: [2, 3]),
                "norms": .init(doubles: [0.1, -1e300], shape: [2]),
                "codes": .init(bytes: [0, 255, 7, 9], shape: [2, 2]),
                "wide_codes": .init(uint16s: [0, 65535, 300], shape: [3, 1]),
                "layer.0.index": .init(int32s: [-7, .max], shape: [2]),
                "labels": .init(int64s: [-1, 1 << 40, 3], shape: [3]),
                "empty": .init(floats: [], shape: [0, 4]),
                "scalar": .init(floats: [42], shape: []),
            ],
            metadata: ["format": "dpq-model", "version": "1", "note": "quotes \" and \\ and\nnewline, ünïcödé"])
    }

    @Test func roundTripsEveryDType() throws {
        let original = Self.sample()
        let bytes = original.serialized()
        let parsed = try SafeTensors(parsing: bytes)
        #expect(parsed == original)
        #expect(try parsed.tensors["codebooks"]?.floats() == [1.5, -2, 0, 3.25, 1e-7, -0.0])
        #expect(try parsed.tensors["norms"]?.doubles() == [0.1, -1e300])
        #expect(try parsed.tensors["codes"]?.uint8s() == [0, 255, 7, 9])
        #expect(try parsed.tensors["wide_codes"]?.uint16s() == [0, 65535, 300])
        #expect(try parsed.tensors["layer.0.index"]?.int32s() == [-7, .max])
        #expect(try parsed.tensors["labels"]?.int64s() == [-1, 1 << 40, 3])
        #expect(parsed.tensors["scalar"]?.shape == [])
        #expect(parsed.metadata["note"] == "quotes \" and \\ and\nnewline, ünïcödé")
        #expect(Set(SafeTensors.Tensor.DType.allCases.map(\.rawValue)) == ["F32", "F64", "U8", "U16", "I32", "I64"])
    }

    @Test func headerIsPaddedAndOutputDeterministic() throws {
        let a = Self.sample().serialized()
        let headerLength = a.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        #expect(headerLength % 8 == 0)
        // The same content built in another order serializes to the same bytes.
        var b = SafeTensors(metadata: Self.sample().metadata)
        for (name, tensor) in Self.sample().tensors.sorted(by: { $0.key > $1.key }) { b.tensors[name] = tensor }
        #expect(b.serialized() == a)
        #expect(try SafeTensors(parsing: a).serialized() == a)
        // Empty content is still a valid file.
        #expect(try SafeTensors(parsing: SafeTensors().serialized()) == SafeTensors())
    }

    @Test func writeReplacesAtomicallyAndLeavesNoTemporaries() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("model.safetensors").path
            try SafeTensors(tensors: ["x": .init(floats: [1], shape: [1])]).write(to: path)
            let sample = Self.sample()
            try sample.write(to: path)
            #expect(try SafeTensors.read(path) == sample)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

            // Invalid content is rejected before anything is written.
            let bad = SafeTensors(tensors: ["x": .init(floats: [1, 2, 3], shape: [2, 2])])
            expectDataFileError("tensor 'x'", "12 data bytes do not match shape [2, 2] of F32 (16 bytes)") { try bad.write(to: path) }
            expectDataFileError("reserved") {
                try SafeTensors(tensors: ["__metadata__": .init(bytes: [1], shape: [1])]).write(to: path)
            }
            #expect(try SafeTensors.read(path) == sample)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

            expectDataFileError("cannot create temporary file") {
                try sample.write(to: dir.appendingPathComponent("no-such-dir/model.safetensors").path)
            }
            expectDataFileError("does not exist") { _ = try SafeTensors.read(dir.appendingPathComponent("nope").path) }
        }
    }

    @Test func accessorsCheckTheDType() {
        let t = SafeTensors.Tensor(floats: [1, 2], shape: [2])
        expectDataFileError("tensor has dtype F32, expected U16") { _ = try t.uint16s() }
        expectDataFileError("tensor has dtype F32, expected I64") { _ = try t.int64s() }
        expectDataFileError("tensor has dtype F32, expected U8") { _ = try t.uint8s() }
        let u = SafeTensors.Tensor(bytes: [1, 2, 3], shape: [3])
        expectDataFileError("tensor has dtype U8, expected F32") { _ = try u.floats() }
        let ragged = SafeTensors.Tensor(dtype: .f32, shape: [1], data: [1, 2, 3])
        expectDataFileError("not a multiple") { _ = try ragged.floats() }
    }

    @Test func rejectsMalformedFiles() {
        let entry = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        let eight = leBytes(floats: [1, 2])
        func parse(_ header: String, _ buffer: [UInt8]) throws { _ = try SafeTensors(parsing: safetensorsFile(header: header, buffer: buffer)) }

        #expect(throws: Never.self) { try parse("{\(entry)}", eight) }
        expectDataFileError("shorter than the 8-byte header length") { _ = try SafeTensors(parsing: Data([1, 2, 3])) }
        expectDataFileError("header length 100", "larger than the 4 bytes") {
            _ = try SafeTensors(parsing: Data(leBytes(UInt64(100)) + [0x7B, 0x7D, 0x20, 0x20]))
        }
        expectDataFileError("exceeds the limit") { _ = try SafeTensors(parsing: Data(leBytes(UInt64.max) + [0x7B, 0x7D])) }
        expectDataFileError("exceeds the limit") { _ = try SafeTensors(parsing: Data(leBytes(UInt64(200_000_000)) + [0x7B, 0x7D])) }
        expectDataFileError("not valid JSON") { try parse("{\"a\": ", []) }
        expectDataFileError("not valid JSON") { try parse("", []) }
        expectDataFileError("not valid UTF-8") { _ = try SafeTensors(parsing: Data(leBytes(UInt64(2)) + [0xFF, 0xFE])) }
        expectDataFileError("not a JSON object") { try parse("[1, 2]", []) }
        expectDataFileError("tensor 'a'", "not a JSON object") { try parse(#"{"a": 3}"#, []) }
        expectDataFileError("tensor 'a'", "missing 'dtype'") { try parse(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'dtype' is not a string") { try parse(#"{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "unsupported dtype 'BF16'") { try parse(#"{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "missing 'shape'") { try parse(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'shape' is not an array") { try parse(#"{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'shape' is not an array of non-negative integers") { try parse(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'shape'") { try parse(#"{"a":{"dtype":"F32","shape":[true, 2],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'shape'") { try parse(#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'shape'") { try parse(#"{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}"#, eight) }
        expectDataFileError("tensor 'a'", "missing 'data_offsets'") { try parse(#"{"a":{"dtype":"F32","shape":[2]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'data_offsets' is not an array of two") { try parse(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'data_offsets'") { try parse(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, eight) }
        expectDataFileError("tensor 'a'", "'data_offsets'") { try parse(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}"#, eight) }
        expectDataFileError("tensor 'a'", "begin 8 is after end 0") { try parse(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, eight) }
        expectDataFileError("tensor 'a'", "data_offsets [0, 16] out of range of the 8-byte data buffer") {
            try parse(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, eight)
        }
        expectDataFileError("tensor 'a'", "byte count 8 does not match shape [3] of F32 (12 bytes)") {
            try parse(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight)
        }
        expectDataFileError("tensor 'a'", "too large") {
            try parse(#"{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, eight)
        }
        expectDataFileError("tensors 'a' and 'b' overlap") {
            try parse(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight)
        }
        expectDataFileError("overlap") {
            try parse(#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, eight)
        }
        expectDataFileError("4 unused bytes (gap) at offsets [0, 4]") {
            try parse(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight)
        }
        expectDataFileError("4 unused bytes after the last tensor") {
            try parse(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, eight)
        }
        expectDataFileError("4 unused bytes after the last tensor") { try parse("{}", [0, 0, 0, 0]) }
        expectDataFileError("metadata value for key 'n' is not a string") {
            try parse(#"{"__metadata__":{"n":1},\#(entry)}"#, eight)
        }
        expectDataFileError("'__metadata__' is not a JSON object") { try parse(#"{"__metadata__":"x",\#(entry)}"#, eight) }
    }
}
