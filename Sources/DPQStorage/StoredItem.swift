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

/// What an upsert did. A batch that names an id twice counts the id once, as replaced or
/// inserted by its state before the batch.
public struct UpsertCounts: Sendable, Equatable {
    /// Ids that did not exist before.
    public var inserted = 0
    /// Ids that existed before.
    public var replaced = 0
    /// Of `replaced`, those that had no code (pending items; the server counts them).
    public var replacedPending = 0

    public init(inserted: Int = 0, replaced: Int = 0, replacedPending: Int = 0) {
        self.inserted = inserted
        self.replaced = replaced
        self.replacedPending = replacedPending
    }
}

/// Every item's fields, read in one pass at start-up, in rowid (insertion) order.
public struct LoadedItems: Sendable {
    public var ids: ItemIDTable
    /// One row per item, with the collection's M blocks; rows listed in `uncoded` are zeros.
    public var codes: CodeMatrix
    /// Bitsets over the collection's classes (max(classCount, 1)): 1 to 8 bytes per item up to
    /// 64 classes (Labels.stride), where a list per item would cost an allocation each.
    public var labels: Labels
    /// Present when the collection keeps vectors: one row per item.
    public var vectors: Matrix?
    /// Rows whose stored code was empty (added before a model existed).
    public var uncoded: [Int]
    /// When the collection does not keep vectors: the vectors of the `uncoded` rows, in that
    /// order (pending items keep theirs until they are encoded).
    public var pendingVectors: Matrix?
    /// Each row's storage row number (SQLite rowid: ascending, never reused), when the store has
    /// them; empty otherwise. Keys of the list cache (ListCache).
    public var rowids: [Int64]

    /// `rowids` of the rows that have a code (the rows an index keeps, in order).
    public var codedRowids: [Int64] {
        if uncoded.isEmpty || rowids.isEmpty { return rowids }
        let skip = Set(uncoded)
        return rowids.indices.filter { !skip.contains($0) }.map { rowids[$0] }
    }

    public init(ids: ItemIDTable, codes: CodeMatrix, labels: Labels, vectors: Matrix?, uncoded: [Int], pendingVectors: Matrix? = nil,
                rowids: [Int64] = []) {
        self.ids = ids
        self.codes = codes
        self.labels = labels
        self.vectors = vectors
        self.uncoded = uncoded
        self.pendingVectors = pendingVectors
        self.rowids = rowids
    }
}
