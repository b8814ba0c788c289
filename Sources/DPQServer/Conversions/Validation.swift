// Request validation shared by every service. Each failure becomes an RPCError whose message
// names the field at fault, e.g. "queries.dimension must be 784 (the collection's input_dimension), got 64".

import DPQEngine
import DPQProto
import DPQServerSupport
import DPQStorage
import GRPCCore

func invalid(_ message: String) -> RPCError { RPCError(code: .invalidArgument, message: message) }
func exhausted(_ message: String) -> RPCError { RPCError(code: .resourceExhausted, message: message) }
func precondition_(_ message: String) -> RPCError { RPCError(code: .failedPrecondition, message: message) }
func notFound(_ message: String) -> RPCError { RPCError(code: .notFound, message: message) }

enum Validate {
    /// A DenseVectors batch as a Matrix: non-empty, of the expected dimension, finite, within limits.
    /// `limitName` is the setting `maxRows` comes from, named in the RESOURCE_EXHAUSTED message.
    static func vectors(_ v: Dpq_V1_DenseVectors, field: String, dimension expected: Int?, maxRows: Int,
                        limitName: String = "max_batch_rows", allowEmpty: Bool = false) throws -> Matrix {
        guard v.dimension > 0 else { throw invalid("\(field).dimension must be > 0") }
        let d = Int(v.dimension)
        let bytes = v.uint8Values
        if !bytes.isEmpty && !v.values.isEmpty {
            throw invalid("\(field) has both values and uint8_values: give one of them")
        }
        let (count, name) = bytes.isEmpty ? (v.values.count, "values") : (bytes.count, "uint8_values")
        guard count % d == 0 else {
            throw invalid("\(field).\(name) has \(count) values, not a multiple of \(field).dimension \(d)")
        }
        let rows = count / d
        guard rows > 0 || allowEmpty else { throw invalid("\(field) is empty: at least one row is required") }
        guard rows <= maxRows else { throw exhausted("\(field) has \(rows) rows, above the limit of \(maxRows) (\(limitName))") }
        if let expected, d != expected {
            throw invalid("\(field).dimension must be \(expected) (the collection's input_dimension), got \(d)")
        }
        if !bytes.isEmpty { return Matrix(rows: rows, cols: d, values: bytes.map { Float($0) }) }
        for (i, x) in v.values.enumerated() where !x.isFinite {
            throw invalid("\(field): row \(i / d) column \(i % d) is \(x); values must be finite")
        }
        return Matrix(rows: rows, cols: d, values: v.values)
    }

    /// Number of blocks for a bits value (0 = all), or INVALID_ARGUMENT naming `field`.
    static func blocks(bits: UInt32, field: String = "bits", config: ModelConfig) throws -> Int {
        let per = config.bitsPerBlock
        if bits == 0 { return config.blocks }
        guard Int(bits) % per == 0, Int(bits) <= config.maxBits else {
            throw invalid("\(field) must be a positive multiple of \(per) (log2 K) up to \(config.maxBits) (M * log2 K), got \(bits)")
        }
        return Int(bits) / per
    }

    /// Labels for `rows` rows, checked against the collection's label mode and class count.
    static func rowLabels(_ labels: Dpq_V1_RowLabels?, rows: Int, field: String, config: ModelConfig,
                          limits: ServerLimits, required: Bool) throws -> [[Int]]? {
        guard let labels, let form = labels.form else {
            if required { throw invalid("\(field) is required: one entry per row") }
            return nil
        }
        var out: [[Int]]
        switch form {
        case .classIds(let c): out = c.ids.map { [Int($0)] }
        case .sets(let s): out = s.rows.map { Array(Set($0.labels.map(Int.init))).sorted() }
        }
        guard out.count == rows else { throw invalid("\(field) has \(out.count) entries for \(rows) rows") }
        for (i, set) in out.enumerated() {
            try labelSet(set, field: "\(field)[\(i)]", config: config, limits: limits)
        }
        return out
    }

    /// `field` is built only for an error (bulk batches check a set per item).
    static func labelSet(_ set: [Int], field: @autoclosure () -> String, config: ModelConfig, limits: ServerLimits) throws {
        guard set.count <= limits.maxLabelsPerItem else {
            throw exhausted("\(field()) has \(set.count) labels, above max_labels_per_item \(limits.maxLabelsPerItem)")
        }
        if config.labelMode != .none {
            if let bad = set.first(where: { $0 >= config.classCount }) {
                throw invalid("\(field()): label \(bad) is out of range, num_classes is \(config.classCount)")
            }
            if config.labelMode == .single && set.count > 1 {
                throw invalid("\(field()) has \(set.count) labels; label_mode SINGLE allows at most one")
            }
        }
    }

    /// The storage layer's rule (names are folder names), reported against `field`.
    static func collectionName(_ name: String, field: String = "name") throws {
        guard !name.isEmpty else { throw invalid("\(field) is required") }
        do { try CollectionName.validate(name) } catch {
            throw invalid("\(field): \(error); names must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
        }
    }
}
