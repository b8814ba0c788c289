// Images in through the `dpq` CLI against `dpq serve` in a child process: an image folder
// (class sub-folders of PNG and JPEG files) trained on, upserted with ids from the file names
// and labels from the folders, searched with one of its own files and evaluated; and N x H x W x C
// .npy images with multi-label 0/1 indicator rows, whose label sets reach the server.

import CImageTestEncoders
import DPQEngine
import ChildProcesses
import Foundation
import Testing

@Suite(.serialized) struct ImageCLITests {
    struct Result { var status: Int32; var out: String; var err: String }

    func dpq(_ args: [String]) throws -> Result {
        let r = try ChildProcess.run([ChildServer.binary] + args, timeout: 600)
        return Result(status: r.status, out: r.stdout, err: r.stderr)
    }

    static let classes = ["circle", "cross", "stripes"]

    /// An 8 x 8 gray picture of class c (or of several classes, summed), with noise from `seed`.
    static func picture(_ classes: [Int], seed: Int) -> [UInt8] {
        (0..<64).map { i in
            let (y, x) = (i / 8, i % 8)
            var v = 20
            for c in classes {
                let r2 = (Double(x) - 3.5) * (Double(x) - 3.5) + (Double(y) - 3.5) * (Double(y) - 3.5)
                let on = c == 0 ? (r2 >= 4 && r2 <= 12) : c == 1 ? (x == 3 || x == 4 || y == 3 || y == 4) : y % 2 == 0
                if on { v += 150 }
            }
            v += (i * 7919 + seed * 104_729) % 41 - 20
            return UInt8(max(0, min(255, v)))
        }
    }

    func writePNG(_ path: String, _ pixels: [UInt8], channels: Int = 1) throws {
        var error = [CChar](repeating: 0, count: 256)
        let rows = channels == 1 ? pixels : pixels.flatMap { [$0, $0, $0] }
        #expect(dpq_test_png_write(path, 8, 8, channels == 1 ? 0 : 2, 8, 0, rows, nil, 0, nil, 0, &error, 256) == 0, "\(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
    }

    @Test func imageFolderUpsertSearchEval() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-img-\(UUID().uuidString)").path
        let images = root + "-images"
        defer {
            for p in [root, root + ".server.log", images] { try? FileManager.default.removeItem(atPath: p) }
        }
        for (c, name) in Self.classes.enumerated() {
            try FileManager.default.createDirectory(atPath: "\(images)/\(name)", withIntermediateDirectories: true)
            for i in 0..<6 {
                let pixels = Self.picture([c], seed: c * 10 + i)
                if c == 1 && i == 5 {
                    var error = [CChar](repeating: 0, count: 256)
                    #expect(dpq_test_jpeg_write("\(images)/\(name)/\(i).jpg", 8, 8, 1, 95, pixels, &error, 256) == 0)
                } else {
                    // One RGB file among the gray ones: the folder needs --channels 1.
                    try writePNG("\(images)/\(name)/\(i).png", pixels, channels: c == 2 && i == 4 ? 3 : 1)
                }
            }
        }
        let server = try ChildServer(dataDir: root)
        defer { server.process.interrupt(); server.process.waitOrKill() }
        let a = ["--address", server.address]
        let pixels = ["--images", images, "--channels", "1", "--scale", "0.00392"]

        var r = try dpq(["collections", "create", "img", "--dimension", "64", "--classes", "3", "--blocks", "2",
                         "--codebook-size", "16", "--feature-dimension", "8", "--hidden", "32", "--keep-vectors"] + a)
        #expect(r.status == 0, "\(r.err)")
        // Without a channel policy the RGB file is an error naming it, both shapes and the way out.
        r = try dpq(["upsert", "img", "--images", images] + a)
        #expect(r.status != 0 && r.err.contains("stripes/4.png") && r.err.contains("8 x 8 x 3") && r.err.contains("8 x 8 x 1")
                && r.err.contains("--channels"), "\(r.err)")

        r = try dpq(["train", "img", "--epochs", "3", "--pretrain-epochs", "2", "--batch-size", "6", "--seed", "1", "--json"] + pixels + a)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("18 images of 8 x 8 x 1") && r.err.contains("0=circle 1=cross 2=stripes"), "\(r.err)")
        r = try dpq(["upsert", "img", "--json"] + pixels + a)
        #expect(r.status == 0 && r.out.contains("\"inserted\":18"), "\(r.out) \(r.err)")

        // One of the folder's own files as the query (decoded the same way): itself first, with its
        // folder's label; every item is a candidate of the exact re-scoring.
        r = try dpq(["search", "img", "--images", "\(images)/cross/5.jpg", "--channels", "1", "--scale", "0.00392",
                     "--k", "3", "--rescore", "6", "--metric", "l2", "--json"] + a)
        #expect(r.status == 0, "\(r.err)")
        let hits = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[[String: Any]]]
        #expect(hits?.first?.first?["id"] as? String == "cross/5", "\(r.out)")
        #expect((hits?.first?.first?["labels"] as? [NSNumber])?.map(\.intValue) == [1], "\(r.out)")
        r = try dpq(["search", "img", "--images", "\(images)/stripes/4.png", "--channels", "1", "--scale", "0.00392", "--k", "2",
                     "--rescore", "9", "--metric", "l2"] + a)
        #expect(r.status == 0 && r.out.contains("query 0 (4):") && r.out.contains("stripes/4\t"), "\(r.out) \(r.err)")

        r = try dpq(["eval", "img"] + pixels + a)
        #expect(r.status == 0 && r.out.contains("| 8 |") && r.out.contains("18 queries"), "\(r.out) \(r.err)")
    }

    @Test func npyImagesWithMultiLabelIndicators() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-npy-\(UUID().uuidString)").path
        defer {
            for p in [root, root + ".server.log", root + "-x.npy", root + "-y.npy", root + "-q.npy"] { try? FileManager.default.removeItem(atPath: p) }
        }
        // 30 images of 8 x 8 x 1: each shows one or two of the three patterns; labels their union.
        let sets: [[Int]] = (0..<30).map { i in i % 3 == 0 ? [i % 3, (i / 3) % 2 + 1] : [i % 3] }
        let pixels = sets.enumerated().flatMap { i, s in Self.picture(s, seed: i) }
        try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [30, 8, 8, 1], data: pixels), to: root + "-x.npy")
        let indicators = sets.flatMap { s in (0..<3).map { s.contains($0) ? UInt8(1) : 0 } }
        try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [30, 3], data: indicators), to: root + "-y.npy")
        try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [1, 8, 8, 1], data: Array(pixels[(3 * 64)..<(4 * 64)])), to: root + "-q.npy")

        let server = try ChildServer(dataDir: root)
        defer { server.process.interrupt(); server.process.waitOrKill() }
        let a = ["--address", server.address]
        let input = ["--file", root + "-x.npy", "--labels", root + "-y.npy", "--scale", "0.00392"]
        var r = try dpq(["collections", "create", "multi", "--dimension", "64", "--classes", "3", "--multi-label", "--blocks", "2",
                         "--codebook-size", "16", "--feature-dimension", "8", "--hidden", "32", "--keep-vectors"] + a)
        #expect(r.status == 0, "\(r.err)")
        r = try dpq(["train", "multi", "--epochs", "3", "--pretrain-epochs", "2", "--batch-size", "10", "--seed", "1", "--json"] + input + a)
        #expect(r.status == 0, "\(r.err)")
        r = try dpq(["upsert", "multi", "--json"] + input + a)
        #expect(r.status == 0 && r.out.contains("\"inserted\":30"), "\(r.out) \(r.err)")

        // Row 3 (labels 0 and 2) as a 1 x 8 x 8 x 1 query: itself first, with both labels.
        r = try dpq(["search", "multi", "--file", root + "-q.npy", "--scale", "0.00392", "--k", "30", "--rescore", "1",
                     "--metric", "l2", "--json"] + a)
        #expect(r.status == 0, "\(r.err)")
        let hits = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[[String: Any]]])
        #expect((hits.first?.first?["id"] as? NSNumber)?.intValue == 3, "\(r.out)")
        var stored: [Int: [Int]] = [:]
        for h in hits.first ?? [] {
            if let id = (h["id"] as? NSNumber)?.intValue { stored[id] = (h["labels"] as? [NSNumber])?.map(\.intValue).sorted() }
        }
        #expect(stored.count == 30 && stored.allSatisfy { $0.value == sets[$0.key] }, "\(stored)")

        // A labels file of class ids in two columns is not silently taken as indicators.
        try NumpyFile.write(NumpyArray(dtype: .uint8, shape: [30, 2], data: [UInt8](repeating: 2, count: 60)), to: root + "-y.npy")
        r = try dpq(["upsert", "multi"] + input + a)
        #expect(r.status != 0 && r.err.contains("0/1 indicator rows"), "\(r.err)")
    }
}
