// The query / train / database splits a benchmark runs on: a folder of TEXMEX splits
// (train/query/database .fvecs or .bvecs with _labels.ivecs, plus meta.json), a folder of numpy
// splits with several labels per item (train/query/database .npy, N x H x W x C uint8, with
// _labels.npy N x classes 0/1 indicator rows: what bench/make_mosaics.py writes; relevance is then
// "shares at least one label"), or Debian's Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist)
// split here with a fixed seed in the same proportions.

import DPQEngine
import Foundation

struct LabelledSplits {
    var name: String
    var train: Matrix
    var trainLabels: [Int]
    var query: Matrix
    var queryLabels: [Int]
    var database: Matrix
    var databaseLabels: [Int]
    var classCount: Int
    /// Label sets per item for multi-label data (the single-label arrays above then hold each
    /// item's first label, for display only).
    var multi: (train: [[Int]], query: [[Int]], database: [[Int]])?
    /// H x W x C of the .npy images, when the folder had them.
    var imageShape: TensorShape?

    func labels(_ single: [Int], _ sets: [[Int]]?) -> Labels {
        if let sets { return Labels(multi: sets, classCount: classCount) }
        return Labels(single: single, classCount: classCount)
    }
    var trainSet: Labels { labels(trainLabels, multi?.train) }
    var querySet: Labels { labels(queryLabels, multi?.query) }
    var databaseSet: Labels { labels(databaseLabels, multi?.database) }

    /// A validation set carved from the training split alone, for choosing settings without looking
    /// at the query or database splits: the last `holdOut` training items are held out (the splits
    /// are shuffled when written), a quarter of them become the queries and the rest the database;
    /// the model trains on the others.
    func validation(holdOut: Int) throws -> LabelledSplits {
        guard holdOut >= 8, holdOut < train.rows / 2 else {
            throw EngineError.invalidArgument("--validation: hold out between 8 and half of the \(train.rows) training items, got \(holdOut)")
        }
        let kept = Array(0..<(train.rows - holdOut))
        let queries = Array((train.rows - holdOut)..<(train.rows - holdOut * 3 / 4))
        let base = Array((train.rows - holdOut * 3 / 4)..<train.rows)
        var s = LabelledSplits(name: name + " (validation: \(kept.count) train, \(queries.count) queries, \(base.count) database, all from the training split)",
                               train: train.rows(kept), trainLabels: kept.map { trainLabels[$0] },
                               query: train.rows(queries), queryLabels: queries.map { trainLabels[$0] },
                               database: train.rows(base), databaseLabels: base.map { trainLabels[$0] }, classCount: classCount)
        if let m = multi { s.multi = (kept.map { m.train[$0] }, queries.map { m.train[$0] }, base.map { m.train[$0] }) }
        s.imageShape = imageShape
        return s
    }

    /// {train,query,database}.npy with {split}_labels.npy indicator rows (several labels per item).
    static func loadMultiLabel(folder: String) throws -> LabelledSplits {
        let url = URL(fileURLWithPath: folder)
        var shape: TensorShape?
        func vectors(_ split: String) throws -> Matrix {
            let a = try NumpyFile.read(url.appendingPathComponent("\(split).npy").path)
            if let s = a.imageShape { shape = TensorShape(height: s.height, width: s.width, channels: s.channels) }
            return a.matrix()
        }
        var classes = 0
        func sets(_ split: String) throws -> [[Int]] {
            let m = try NumpyFile.readMatrix(url.appendingPathComponent("\(split)_labels.npy").path)
            classes = max(classes, m.cols)
            return (0..<m.rows).map { r in (0..<m.cols).filter { m[r, $0] != 0 } }
        }
        let (tr, q, db) = (try sets("train"), try sets("query"), try sets("database"))
        var s = LabelledSplits(name: url.lastPathComponent, train: try vectors("train"), trainLabels: tr.map { $0.first ?? 0 },
                               query: try vectors("query"), queryLabels: q.map { $0.first ?? 0 },
                               database: try vectors("database"), databaseLabels: db.map { $0.first ?? 0 }, classCount: classes)
        s.multi = (tr, q, db)
        s.imageShape = shape
        return s
    }

    /// A folder with {train,query,database}.{bvecs|fvecs} and *_labels.ivecs.
    static func load(folder: String) throws -> LabelledSplits {
        let url = URL(fileURLWithPath: folder)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("train_labels.npy").path) {
            return try loadMultiLabel(folder: folder)
        }
        var scale: Float = 1
        var classes = 0
        if let meta = try? JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("meta.json"))) as? [String: Any] {
            if let s = meta["suggested_scale"] as? String, s.hasPrefix("x/"), let d = Float(s.dropFirst(2)) { scale = 1 / d }
            classes = meta["num_classes"] as? Int ?? 0
        }
        func vectors(_ split: String) throws -> Matrix {
            let f = url.appendingPathComponent("\(split).fvecs").path
            var m = FileManager.default.fileExists(atPath: f) ? try VectorFile.readFvecs(f)
                : try VectorFile.readBvecs(url.appendingPathComponent("\(split).bvecs").path)
            if scale != 1 { for i in m.values.indices { m.values[i] *= scale } }
            return m
        }
        func labels(_ split: String) throws -> [Int] {
            try VectorFile.readLabels(url.appendingPathComponent("\(split)_labels.ivecs").path)
        }
        var s = LabelledSplits(name: url.lastPathComponent, train: try vectors("train"), trainLabels: try labels("train"),
                               query: try vectors("query"), queryLabels: try labels("query"),
                               database: try vectors("database"), databaseLabels: try labels("database"), classCount: classes)
        if s.classCount == 0 { s.classCount = (s.trainLabels + s.queryLabels + s.databaseLabels).max()! + 1 }
        return s
    }

    /// Debian's Fashion-MNIST: the 70,000 images pooled, then per class 100 queries and 500
    /// training images drawn with a fixed seed; the other 64,000 form the database.
    static func loadFashionMNIST(idxFolder: String, seed: UInt64 = 2019) throws -> LabelledSplits {
        func gunzip(_ name: String) throws -> Data {
            let path = URL(fileURLWithPath: idxFolder).appendingPathComponent(name).path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-dc", path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw EngineError.invalidArgument("cannot decompress \(path)") }
            return data
        }
        var images: [Float] = []
        var labels: [Int] = []
        for part in ["train", "t10k"] {
            let img = try gunzip("\(part)-images-idx3-ubyte.gz")
            let lab = try gunzip("\(part)-labels-idx1-ubyte.gz")
            guard img.count > 16, lab.count > 8 else { throw EngineError.invalidArgument("\(part): truncated IDX file") }
            images.append(contentsOf: img.dropFirst(16).map { Float($0) / 255 })
            labels.append(contentsOf: lab.dropFirst(8).map { Int($0) })
        }
        let all = Matrix(rows: labels.count, cols: 784, values: images)
        var random = SeededRandom(seed: seed)
        var byClass = [[Int]](repeating: [], count: 10)
        for i in random.permutation(labels.count) { byClass[labels[i]].append(i) }
        var q: [Int] = [], t: [Int] = [], d: [Int] = []
        for c in 0..<10 {
            q += byClass[c].prefix(100)
            t += byClass[c].dropFirst(100).prefix(500)
            d += byClass[c].dropFirst(600)
        }
        q = random.permutation(q.count).map { q[$0] }
        t = random.permutation(t.count).map { t[$0] }
        d = random.permutation(d.count).map { d[$0] }
        return LabelledSplits(name: "fashion-mnist (Debian package)", train: all.rows(t), trainLabels: t.map { labels[$0] },
                              query: all.rows(q), queryLabels: q.map { labels[$0] },
                              database: all.rows(d), databaseLabels: d.map { labels[$0] }, classCount: 10)
    }

    /// Gaussian clusters, for machines without the data: `classes` classes in `dim` dimensions.
    static func synthetic(classes: Int = 10, dim: Int = 64, seed: UInt64 = 7) -> LabelledSplits {
        var r = SeededRandom(seed: seed)
        let centres = (0..<classes).map { _ in (0..<dim).map { _ in r.normal() } }
        func make(_ n: Int) -> (Matrix, [Int]) {
            var v: [Float] = [], l: [Int] = []
            for i in 0..<n {
                let c = i % classes
                v += centres[c].map { $0 + 1.2 * r.normal() }
                l.append(c)
            }
            return (Matrix(rows: n, cols: dim, values: v), l)
        }
        let (tr, trl) = make(2000), (qu, qul) = make(500), (db, dbl) = make(10000)
        return LabelledSplits(name: "synthetic clusters", train: tr, trainLabels: trl, query: qu, queryLabels: qul,
                              database: db, databaseLabels: dbl, classCount: classes)
    }
}
