// A batch of items to write, as columns: ids and labels, and the codes and vectors as one
// matrix each. Bulk writes arrive this way (an encoded stream batch, a batch of imported codes).
// One StoredItem per item costs three arrays per item, made and freed on the write queue.
// In a 1M-item vector load that was most of the server's own share outside encoding and HTTP/2.
//
// Either every item has a code (`codes`) or none has (pending items, before the first model,
// which the store keeps with their vectors).

import DPQEngine

public struct ItemBatch: Sendable {
    public var ids: [ItemID]
    public var labels: [[Int]]
    /// One code per item, or nil when no item is encoded.
    public var codes: CodeMatrix?
    /// One row per item when given: required without codes and by collections keeping vectors.
    public var vectors: Matrix?

    public var count: Int { ids.count }

    /// Precondition (programmer error): labels, codes and vectors have one entry per id.
    public init(ids: [ItemID], labels: [[Int]], codes: CodeMatrix?, vectors: Matrix?) {
        precondition(labels.count == ids.count, "ItemBatch: \(labels.count) label lists for \(ids.count) ids")
        precondition(codes.map { $0.count == ids.count } ?? true, "ItemBatch: \(codes?.count ?? 0) codes for \(ids.count) ids")
        precondition(vectors.map { $0.rows == ids.count } ?? true, "ItemBatch: \(vectors?.rows ?? 0) vectors for \(ids.count) ids")
        self.ids = ids
        self.labels = labels
        self.codes = codes
        self.vectors = vectors
    }

    /// Item i as the store returns it (an empty code when the batch has none).
    public func item(_ i: Int) -> StoredItem {
        StoredItem(id: ids[i], labels: labels[i], code: codes.map { Array($0.code(of: i)) } ?? [],
                   vector: vectors.map { Array($0.row(i)) })
    }

    /// Every item, for the paths that take them one by one.
    public var items: [StoredItem] { ids.indices.map(item) }

    /// Whether the ids are ascending numbers below 2^63, as bulk loads number their items.
    public var idsAscendNumerically: Bool { ItemID.ascendNumerically(ids, below: 1 << 63) }
}

extension CodeMatrix {
    /// The bytes of item i's code.
    public func code(of i: Int) -> ArraySlice<UInt8> {
        bytes[(i * bytesPerItem)..<((i + 1) * bytesPerItem)]
    }

    /// The first code in `bytes` (codes of `bytesPerCode` little-endian bytes) that is not below
    /// `k`: its byte offset and value; nil when all are.
    static func firstCodeNotBelow(_ k: Int, in bytes: [UInt8], bytesPerCode: Int) -> (offset: Int, code: Int)? {
        if bytesPerCode == 1 {
            if k >= 256 { return nil }
            return bytes.firstIndex { Int($0) >= k }.map { ($0, Int(bytes[$0])) }
        }
        for i in stride(from: 0, to: bytes.count - 1, by: 2) where Int(bytes[i]) | Int(bytes[i + 1]) << 8 >= k {
            return (i, Int(bytes[i]) | Int(bytes[i + 1]) << 8)
        }
        return nil
    }
}
