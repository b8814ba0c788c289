// How a collection's inverted lists (IVF) are formed, fixed at creation with its config:
//   .kmeans(lists)  k-means centroids over the items' reconstructions (CoarseQuantizer.centroids).
//                   lists = 0 lets the index choose: the power of two nearest sqrt(N) for the N
//                   items present when the lists are built (1,024 at 1M items, where the IVF
//                   benchmark measured k-means 1,024 lists 17x faster than the exhaustive scan at
//                   0.96 recall@10), and built again as the collection grows (see CodeIndex+Lists).
//   .firstBlock     the first code of each item is its list (nlist = K): nothing to train, but the
//                   lists are as uneven as C_0's cells, measured 7x slower than k-means at 1M.
//   .none           no lists: every search scans all codes, and the lists cost no memory.
// The default is .kmeans(0). The lists are a cache of the codes: rebuilt from them when the server
// starts or the model changes, kept current by upserts and deletes.

import Foundation

public enum ListPartition: Sendable, Equatable, Codable {
    case none
    case firstBlock
    case kmeans(lists: Int)

    public static let automatic = ListPartition.kmeans(lists: 0)
    /// At most this many k-means lists (the coarse assignment is one product per item and list).
    public static let maxLists = 65_536
    /// Below this many items a k-means partition is not trained (nprobe then scans everything).
    public static let minimumItems = 1_024

    public func validate() throws {
        if case .kmeans(let n) = self, n < 0 || n > Self.maxLists {
            throw StorageError.invalidArgument("index.nlist: \(n) is outside 0...\(Self.maxLists) (0 = chosen from the item count)")
        }
    }

    /// k-means lists for `items` items: the configured number, or the power of two nearest
    /// sqrt(items) for 0. Nil when there are too few items to train on.
    public func kmeansLists(items: Int) -> Int? {
        guard case .kmeans(let n) = self, items >= Self.minimumItems else { return nil }
        if n > 0 { return n }
        let root = (Double(items)).squareRoot()
        return min(Self.maxLists, 1 << Int((log2(root)).rounded()))
    }

    // A flat JSON form in config.json: {"partition": "kmeans", "lists": 0}.
    private enum CodingKeys: String, CodingKey { case partition, lists }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .partition) {
        case "none": self = .none
        case "first_block": self = .firstBlock
        case "kmeans": self = .kmeans(lists: try c.decode(Int.self, forKey: .lists))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .partition, in: c, debugDescription: "unknown partition '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none: try c.encode("none", forKey: .partition)
        case .firstBlock: try c.encode("first_block", forKey: .partition)
        case .kmeans(let n):
            try c.encode("kmeans", forKey: .partition)
            try c.encode(n, forKey: .lists)
        }
    }
}
