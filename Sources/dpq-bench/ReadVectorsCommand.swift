// `dpq-bench read-vectors`: parsing speed of TEXMEX vector files (bvecs and fvecs) held in
// memory, in MB/s and rows/s. The CLI and the training-data upload read these files; a
// per-element slow path shows here as seconds instead of tens of milliseconds.
import ArgumentParser
import DPQEngine
import Foundation

struct ReadVectors: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read-vectors",
                                                    abstract: "Time parsing of .bvecs and .fvecs files held in memory.")

    @Option(help: "Rows per file.") var rows = 64_000
    @Option(help: "Dimension of every row.") var dimension = 784
    @Option(help: "Timed repetitions at least.") var repetitions = 5
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard rows > 0, dimension > 0 else { throw ValidationError("--rows and --dimension must be positive") }
        var rng = SeededRandom(seed: 5)
        let bytes = (0..<rows).map { _ in (0..<dimension).map { _ in UInt8(truncatingIfNeeded: Int(rng.next() >> 56)) } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-read-vectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bvecs = directory.appendingPathComponent("x.bvecs"), fvecs = directory.appendingPathComponent("x.fvecs")
        try VectorFile.writeBvecs(bytes, to: bvecs.path)
        try VectorFile.writeFvecs(Matrix(rows: rows, cols: dimension, values: bytes.flatMap { $0.map(Float.init) }), to: fvecs.path)

        let timing = Timing(repetitions: repetitions, minSeconds: 1)
        var cells: [[String: Any]] = []
        for (format, url, parse) in [("bvecs", bvecs, VectorFile.parseBvecs), ("fvecs", fvecs, VectorFile.parseFvecs)] {
            let data = try Data(contentsOf: url)
            var parsed = Matrix(rows: 0, cols: 0)
            let r = timing.measure(warmUp: { parsed = (try? parse(data)) ?? parsed }) { parsed = (try? parse(data)) ?? parsed }
            guard parsed.rows == rows, parsed.cols == dimension else {
                throw ValidationError("\(format): parsed \(parsed.rows) x \(parsed.cols), wrote \(rows) x \(dimension)")
            }
            let megabytes = Double(data.count) / 1e6
            cells.append(["format": format, "megabytes": megabytes, "seconds": r.median,
                          "megabytes_per_second": megabytes / r.median, "rows_per_second": Double(rows) / r.median])
        }
        if json {
            let out = try JSONSerialization.data(withJSONObject: ["read_vectors": cells], options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: out, as: UTF8.self))
        } else {
            print("format      MB   seconds      MB/s      rows/s")
            for c in cells {
                let format = (c["format"] as! String).padding(toLength: 6, withPad: " ", startingAt: 0)
                print(format + String(format: " %7.1f %9.4f %9.0f %11.0f", c["megabytes"] as! Double, c["seconds"] as! Double,
                                      c["megabytes_per_second"] as! Double, c["rows_per_second"] as! Double))
            }
        }
    }
}
