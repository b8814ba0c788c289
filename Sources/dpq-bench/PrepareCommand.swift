// `dpq-bench prepare`: writes a labelled split (Debian's Fashion-MNIST IDX files, or generated
// clusters) as TEXMEX files the `dpq` CLI reads: {train,query,database}.bvecs|fvecs and *_labels.ivecs.
import ArgumentParser
import DPQEngine
import Foundation

struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write Fashion-MNIST (or synthetic) splits as .fvecs/.ivecs files.")

    @Option(help: "Folder with Fashion-MNIST IDX files (Debian: /usr/share/datasets/fashion-mnist).") var idx: String?
    @Option(help: "Output folder.") var out: String

    func run() throws {
        let s = try idx.map { try LabelledSplits.loadFashionMNIST(idxFolder: $0) } ?? LabelledSplits.synthetic()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for (name, m, l) in [("train", s.train, s.trainLabels), ("query", s.query, s.queryLabels), ("database", s.database, s.databaseLabels)] {
            try VectorFile.writeFvecs(m, to: "\(out)/\(name).fvecs")
            try VectorFile.writeLabels(l, to: "\(out)/\(name)_labels.ivecs")
        }
        print("wrote \(s.train.rows) train, \(s.query.rows) query and \(s.database.rows) database rows of dimension \(s.train.cols) (\(s.name)) to \(out)")
    }
}
