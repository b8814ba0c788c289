// Where vectors come from on the command line: a file (.npy, .fvecs, .bvecs), comma-separated
// values (--vector 0.1,0.2 repeated), or JSON lines on stdin ([0.1, 0.2] or {"vector": [...],
// "id": ..., "labels": [...]} per line).
import ArgumentParser
import DPQEngine
import Foundation

struct VectorInput: ParsableArguments {
    @Option(name: .long, help: "Vectors from a .npy, .fvecs or .bvecs file.")
    var file: String?

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "One vector as comma-separated values (repeatable; negative values are fine).")
    var vector: [String] = []

    @Option(name: .long, help: "Use only the first N rows.")
    var limit: Int?

    @Option(name: .long, help: "Multiply every value by this (e.g. 0.00392 for 0..255 pixels).")
    var scale: Float?

    struct Row { var vector: [Float]; var id: String?; var labels: [UInt32] }

    /// The rows; reads stdin as JSON lines when neither --file nor --vector is given.
    func rows() throws -> [Row] {
        guard let rows = try rowsIfAny() else { throw ValidationError("no vectors: give --file, --vector or JSON lines on stdin") }
        return rows
    }

    /// The rows, or nil when there are none.
    func rowsIfAny() throws -> [Row]? {
        var out: [Row] = []
        if let file {
            let m = try VectorFile.read(file)
            out = (0..<m.rows).map { Row(vector: Array(m.row($0)), id: nil, labels: []) }
        } else if !vector.isEmpty {
            for (i, text) in vector.enumerated() {
                let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let values = parts.compactMap(Float.init)
                guard values.count == parts.count, !values.isEmpty else { throw ValidationError("--vector \(i + 1): '\(text)' is not a list of numbers") }
                out.append(Row(vector: values, id: nil, labels: []))
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
                    out.append(Row(vector: arr.map { $0.floatValue }, id: nil, labels: []))
                } else if let dict = obj as? [String: Any], let v = dict["vector"] as? [NSNumber] {
                    let id = (dict["id"] as? String) ?? (dict["id"] as? NSNumber).map { $0.stringValue }
                    let labels = (dict["labels"] as? [NSNumber])?.map { $0.uint32Value } ?? []
                    out.append(Row(vector: v.map { $0.floatValue }, id: id, labels: labels))
                } else {
                    throw ValidationError("stdin line \(n): expected [numbers] or {\"vector\": [...]}")
                }
            }
        }
        if let limit { out = Array(out.prefix(limit)) }
        if let scale { for i in out.indices { out[i].vector = out[i].vector.map { $0 * scale } } }
        return out.isEmpty ? nil : out
    }
}

struct LabelInput: ParsableArguments {
    @Option(name: .long, help: "Labels, one per row, from an .ivecs or .npy file.")
    var labels: String?

    func read(rows: Int) throws -> [[UInt32]]? {
        guard let labels else { return nil }
        let l = labels.hasSuffix(".npy") ? try NumpyFile.readLabels(labels) : try VectorFile.readLabels(labels)
        guard l.count >= rows else { throw ValidationError("--labels has \(l.count) rows for \(rows) vectors") }
        return l.prefix(rows).map { [UInt32($0)] }
    }
}
