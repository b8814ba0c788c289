// Where vectors come from on the command line: a file (.npy, .fvecs, .bvecs), images (--images:
// a folder of class sub-folders of PNG/JPEG files, or one image file), comma-separated values
// (--vector 0.1,0.2 repeated), or JSON lines on stdin ([0.1, 0.2] or {"vector": [...], "id": ...,
// "labels": [...]} per line).
//
// An image of H x W x C becomes a vector of H * W * C values in HWC order, pixel values as stored
// (0...255; --scale 0.00392 for 0...1), as a .bvecs row. The shape is kept (`Batch.imageShape`)
// for when the API takes input shapes.
import ArgumentParser
import DPQEngine
import Foundation
import ImageFiles

struct VectorInput: ParsableArguments {
    @Option(name: .long, help: "Vectors from a .npy (N x D, or images N x H x W x C / N x H x W), .fvecs or .bvecs file.")
    var file: String?

    @Option(name: .long, help: ArgumentHelp(
        "Images: a folder DIR/<class>/<file>.png|jpg|jpeg, or one image file.",
        discussion: "Classes (sub-folders, sorted by name) are labels 0..n-1; ids are <class>/<file name without extension>. Every image must have the same height x width x channels; each becomes H*W*C values in HWC order."))
    var images: String?

    @Option(name: .long, help: "With --images: decode to 1 (gray) or 3 (RGB) channels (default: as stored).")
    var channels: Int?

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "One vector as comma-separated values (repeatable; negative values are fine).")
    var vector: [String] = []

    @Option(name: .long, help: "Use only the first N rows.")
    var limit: Int?

    @Option(name: .long, help: "Multiply every value by this (e.g. 0.00392 for 0..255 pixels).")
    var scale: Float?

    struct Row { var vector: [Float]; var id: String?; var labels: [UInt32] }

    /// Rows, and what is known about them beyond the values.
    struct Batch {
        var rows: [Row]
        /// Height, width, channels of every row when the rows are images (--images, or a 3-D/4-D .npy).
        var imageShape: ImageShape?
        /// Label i's class name, for --images folders.
        var classNames: [String]?
    }

    /// True when --file, --images or --vector names the vectors (otherwise stdin may).
    var isGiven: Bool { file != nil || images != nil || !vector.isEmpty }

    /// The rows; reads stdin as JSON lines when neither --file, --images nor --vector is given.
    func rows() throws -> [Row] {
        guard let batch = try batchIfAny() else { throw ValidationError("no vectors: give --file, --images, --vector or JSON lines on stdin") }
        return batch.rows
    }

    /// The rows, or nil when there are none.
    func rowsIfAny() throws -> [Row]? {
        try batchIfAny()?.rows
    }

    /// The rows with their image shape and class names, or nil when there are none.
    func batchIfAny() throws -> Batch? {
        let sources = [file != nil, images != nil, !vector.isEmpty].filter { $0 }.count
        guard sources <= 1 else { throw ValidationError("give only one of --file, --images and --vector") }
        if channels != nil && images == nil { throw ValidationError("--channels applies to --images only") }
        var batch = Batch(rows: [])
        if let file {
            if URL(fileURLWithPath: file).pathExtension.lowercased() == "npy" {
                let array = try NumpyFile.read(file)
                let m = array.matrix()
                batch.rows = (0..<m.rows).map { Row(vector: Array(m.row($0)), id: nil, labels: []) }
                if let s = array.imageShape { batch.imageShape = ImageShape(height: s.height, width: s.width, channels: s.channels) }
            } else {
                let m = try VectorFile.read(file)
                batch.rows = (0..<m.rows).map { Row(vector: Array(m.row($0)), id: nil, labels: []) }
            }
        } else if let images {
            batch = try readImages(images)
        } else if !vector.isEmpty {
            for (i, text) in vector.enumerated() {
                let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let values = parts.compactMap(Float.init)
                guard values.count == parts.count, !values.isEmpty else { throw ValidationError("--vector \(i + 1): '\(text)' is not a list of numbers") }
                batch.rows.append(Row(vector: values, id: nil, labels: []))
            }
        } else {
            var n = 0
            while let line = readLine() {
                n += 1
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty { continue }
                guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed]) else {
                    throw ValidationError("stdin line \(n): not JSON")
                }
                if let arr = obj as? [NSNumber] {
                    batch.rows.append(Row(vector: arr.map { $0.floatValue }, id: nil, labels: []))
                } else if let dict = obj as? [String: Any], let v = dict["vector"] as? [NSNumber] {
                    let id = (dict["id"] as? String) ?? (dict["id"] as? NSNumber).map { $0.stringValue }
                    let labels = (dict["labels"] as? [NSNumber])?.map { $0.uint32Value } ?? []
                    batch.rows.append(Row(vector: v.map { $0.floatValue }, id: id, labels: labels))
                } else {
                    throw ValidationError("stdin line \(n): expected [numbers] or {\"vector\": [...]}")
                }
            }
        }
        if let limit { batch.rows = Array(batch.rows.prefix(limit)) }
        if let scale { for i in batch.rows.indices { batch.rows[i].vector = batch.rows[i].vector.map { $0 * scale } } }
        return batch.rows.isEmpty ? nil : batch
    }

    /// --images: a class-folder tree (labels and ids from it), or one image file (its id the
    /// file name without extension, no label). A note on stderr says what was read.
    private func readImages(_ path: String) throws -> Batch {
        var policy = ChannelPolicy.asStored
        if let channels {
            guard let p = ChannelPolicy(channels: channels) else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
            policy = p
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            let image = try ImageDecoder.read(path, channels: policy)
            let id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            note("read 1 image of \(image.shape) (height x width x channels) from \(path)")
            return Batch(rows: [Row(vector: image.pixels.map(Float.init), id: id, labels: [])], imageShape: image.shape, classNames: nil)
        }
        let folder: ImageFolder
        do {
            folder = try ImageFolder.read(path, channels: policy)
        } catch let e as ImageFileError where policy == .asStored && e.message.contains("same shape") {
            throw ImageFileError(e.message + "; --channels 1 or 3 makes gray and colour images agree", path: e.path)
        }
        let n = folder.shape.count
        let rows = folder.items.enumerated().map { i, item in
            Row(vector: folder.pixels[(i * n)..<((i + 1) * n)].map(Float.init), id: item.id, labels: [UInt32(item.label)])
        }
        let classes = folder.classNames.enumerated().map { "\($0)=\($1)" }.joined(separator: " ")
        note("read \(rows.count) images of \(folder.shape) (height x width x channels = \(n) values each) from \(path); "
             + "\(folder.classNames.count) classes (label=name): \(classes)")
        if !folder.skipped.isEmpty {
            note("skipped \(folder.skipped.count) entries that are not .png/.jpg/.jpeg images in a class folder, e.g. \(folder.skipped[0])")
        }
        return Batch(rows: rows, imageShape: folder.shape, classNames: folder.classNames)
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data(("dpq: " + text + "\n").utf8))
    }
}

struct LabelInput: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Labels from an .npy or .ivecs file: one class id per row, or 0/1 indicator rows for several labels per item.",
        discussion: ".npy of shape (n,) or (n, 1), or .ivecs with d = 1: a class id per row. .npy (n, classes) of 0/1 (integers or bool), or .ivecs with d = classes: label j when column j is 1 (multi-label). Overrides labels from --images folders and JSON lines."))
    var labels: String?

    func read(rows: Int) throws -> [[UInt32]]? {
        guard let labels else { return nil }
        let sets = try LabelFile.read(labels)
        guard sets.count >= rows else { throw ValidationError("--labels has \(sets.count) rows for \(rows) vectors") }
        return try sets.prefix(rows).enumerated().map { i, set in
            try set.map { label in
                guard let l = UInt32(exactly: label) else { throw ValidationError("--labels row \(i): label \(label) is not a class index (0 or more)") }
                return l
            }
        }
    }
}

/// The rows as bytes when every value is a whole number 0...255 (8-bit images and .npy/.bvecs
/// bytes without --scale): sent as uint8_values, a quarter of the bytes of floats, with the same
/// meaning (byte b is the value b). Nil when any value is not a byte.
func byteRows(_ vectors: [[Float]]) -> [[UInt8]]? {
    for row in vectors where !row.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded(.towardZero) }) { return nil }
    return vectors.map { $0.map { UInt8($0) } }
}
