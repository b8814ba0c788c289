// One item as the store keeps it: its id, labels, code under the current model, and, when
// the collection keeps vectors, its input vector. An empty code means "not encoded yet"
// (an item added before the first model); such items are stored but not searchable.

import DPQEngine

public struct StoredItem: Sendable, Equatable {
    public var id: ItemID
    public var labels: [Int]
    /// M codes of 1 or 2 little-endian bytes each (as in CodeMatrix), or empty.
    public var code: [UInt8]
    /// Present only when the collection keeps vectors.
    public var vector: [Float]?

    public init(id: ItemID, labels: [Int], code: [UInt8], vector: [Float]? = nil) {
        self.id = id
        self.labels = labels
        self.code = code
        self.vector = vector
    }
}

/// Every item's fields, read in one pass at start-up, in rowid (insertion) order.
public struct LoadedItems: Sendable {
    public var ids: [ItemID]
    /// One row per item, with the collection's M blocks; rows listed in `uncoded` are zeros.
    public var codes: CodeMatrix
    public var labels: [[Int]]
    /// Present when the collection keeps vectors: one row per item.
    public var vectors: Matrix?
    /// Rows whose stored code was empty (added before a model existed).
    public var uncoded: [Int]
    /// When the collection does not keep vectors: the vectors of the `uncoded` rows, in that
    /// order (pending items keep theirs until they are encoded).
    public var pendingVectors: Matrix?

    public init(ids: [ItemID], codes: CodeMatrix, labels: [[Int]], vectors: Matrix?, uncoded: [Int], pendingVectors: Matrix? = nil) {
        self.ids = ids
        self.codes = codes
        self.labels = labels
        self.vectors = vectors
        self.uncoded = uncoded
        self.pendingVectors = pendingVectors
    }
}
