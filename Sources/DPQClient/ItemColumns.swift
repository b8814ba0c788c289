// Items as columns (dpq.v1.ItemColumns): the compact form for bulk loads. A batch of n items is
// a handful of arrays instead of n messages, on the wire and on both sides of it.

import DPQProto
import Foundation

public struct ItemColumns: Sendable, Equatable {
    public enum IDs: Sendable, Equatable {
        case numbers([UInt64])
        case strings([String])
    }

    public enum Payload: Sendable, Equatable {
        /// Full codes back to back (ModelSummary.max_bits / 8 bytes each), computed with the
        /// collection's model: the upsert needs its sha256.
        case codes([UInt8])
        /// input_dimension values per item, back to back.
        case vectors([Float])
        /// input_dimension 8-bit values (pixels) per item: a quarter of the bytes of `vectors`.
        case pixels([UInt8])
    }

    public var ids: IDs
    public var payload: Payload
    /// Every item's labels, in turn: one each when `labelCounts` is nil (or none when empty).
    public var labels: [UInt32]
    /// How many of `labels` each item has; nil when every item has exactly one (or none).
    public var labelCounts: [UInt32]?

    public init(ids: IDs, payload: Payload, labels: [UInt32] = [], labelCounts: [UInt32]? = nil) {
        self.ids = ids
        self.payload = payload
        self.labels = labels
        self.labelCounts = labelCounts
    }

    /// Each item's own list of labels.
    public init(ids: IDs, payload: Payload, labelLists: [[UInt32]]) {
        self.init(ids: ids, payload: payload, labels: labelLists.flatMap { $0 }, labelCounts: labelLists.map { UInt32($0.count) })
    }

    /// `items` as columns, or nil when they cannot be one batch of columns: ids of both kinds, or
    /// items of different payloads (vectors, pixels, codes) or lengths.
    public init?(items: [NewItem]) {
        guard let first = items.first else { return nil }
        var numbers: [UInt64] = [], strings: [String] = []
        for item in items {
            switch item.id {
            case .number(let n): numbers.append(n)
            case .string(let s): strings.append(s)
            }
        }
        guard numbers.isEmpty || strings.isEmpty else { return nil }
        if let code = first.code {
            guard items.allSatisfy({ $0.code?.count == code.count }) else { return nil }
            payload = .codes(items.flatMap { $0.code! })
        } else if let pixels = first.pixels {
            guard items.allSatisfy({ $0.code == nil && $0.pixels?.count == pixels.count }) else { return nil }
            payload = .pixels(items.flatMap { $0.pixels! })
        } else {
            let d = first.vector.count
            guard items.allSatisfy({ $0.code == nil && $0.pixels == nil && $0.vector.count == d }) else { return nil }
            payload = .vectors(items.flatMap(\.vector))
        }
        ids = strings.isEmpty ? .numbers(numbers) : .strings(strings)
        if items.allSatisfy({ $0.labels.count == 1 }) {
            labels = items.map { $0.labels[0] }
        } else if items.allSatisfy({ $0.labels.isEmpty }) {
            labels = []
        } else {
            labels = items.flatMap(\.labels)
            labelCounts = items.map { UInt32($0.labels.count) }
        }
    }

    public var count: Int {
        switch ids {
        case .numbers(let n): n.count
        case .strings(let s): s.count
        }
    }

    /// Throws INVALID_ARGUMENT, before anything is sent, when the columns cannot be split into
    /// batches item by item: a payload or labels of a length that is not per item.
    func checkSplittable() throws {
        let n = count
        let values: Int
        switch payload {
        case .codes(let v): values = v.count
        case .vectors(let v): values = v.count
        case .pixels(let v): values = v.count
        }
        if n == 0 || values % n != 0 {
            throw DPQError(code: .invalidArgument, message: "columns: the payload has \(values) values, not a whole number per item for \(n) items")
        }
        if let counts = labelCounts {
            let total = counts.reduce(0) { $0 + Int($1) }
            guard counts.count == n, total == labels.count else {
                throw DPQError(code: .invalidArgument,
                               message: "columns: \(counts.count) label counts adding up to \(total) for \(n) items and \(labels.count) labels")
            }
        } else if !labels.isEmpty && labels.count != n {
            throw DPQError(code: .invalidArgument, message: "columns: \(labels.count) labels for \(n) items: give one per item, or labelCounts")
        }
    }

    /// Items `range` (positions), as their own columns (`checkSplittable` passed).
    public func slice(_ range: Range<Int>) -> ItemColumns {
        let n = count
        func part<T>(_ values: [T]) -> [T] {
            let per = n == 0 ? 0 : values.count / n
            return Array(values[(range.lowerBound * per)..<(range.upperBound * per)])
        }
        var out = self
        switch ids {
        case .numbers(let v): out.ids = .numbers(Array(v[range]))
        case .strings(let v): out.ids = .strings(Array(v[range]))
        }
        switch payload {
        case .codes(let v): out.payload = .codes(part(v))
        case .vectors(let v): out.payload = .vectors(part(v))
        case .pixels(let v): out.payload = .pixels(part(v))
        }
        if let counts = labelCounts {
            let start = counts[..<range.lowerBound].reduce(0) { $0 + Int($1) }
            let length = counts[range].reduce(0) { $0 + Int($1) }
            out.labels = Array(labels[start..<(start + length)])
            out.labelCounts = Array(counts[range])
        } else {
            out.labels = labels.isEmpty ? [] : Array(labels[range])
        }
        return out
    }

    var proto: Dpq_V1_ItemColumns {
        .with {
            switch ids {
            case .numbers(let v): $0.numericIds = v
            case .strings(let v): $0.stringIds = v
            }
            switch payload {
            case .codes(let v): $0.codes = Data(v)
            case .vectors(let v): $0.float32Vectors = v.withUnsafeBufferPointer { Data(buffer: $0) }
            case .pixels(let v): $0.uint8Vectors = Data(v)
            }
            $0.labels = labels
            if let labelCounts { $0.labelCounts = labelCounts }
        }
    }
}

extension DPQClient {
    /// Upserts one batch given as columns (codes need the model's sha256, as `upsert(_:items:modelSHA256:)`).
    public func upsert(_ collection: String, columns: ItemColumns, modelSHA256: String? = nil,
                       timeout: Duration? = nil) async throws -> Dpq_V1_UpsertItemsResponse {
        try await call {
            try await items.upsertItems(.with {
                $0.collection = collection
                $0.columns = columns.proto
                if let modelSHA256 { $0.modelSha256 = modelSHA256 }
            }, options: options(timeout))
        }
    }

    /// Bulk load of columns over one client stream, `batchSize` items per message; `progress` gets the items sent.
    @discardableResult
    public func upsertStream(_ collection: String, columns all: ItemColumns, modelSHA256: String? = nil, batchSize: Int = 10_000,
                             timeout: Duration? = nil,
                             progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> Dpq_V1_UpsertItemsResponse {
        try all.checkSplittable()
        return try await upsertBatches(count: all.count, batchSize: batchSize, timeout: timeout, progress: progress) { range in
            .with {
                $0.collection = range.lowerBound == 0 ? collection : ""
                $0.columns = all.slice(range).proto
                if let modelSHA256 { $0.modelSha256 = modelSHA256 }
            }
        }
    }
}
