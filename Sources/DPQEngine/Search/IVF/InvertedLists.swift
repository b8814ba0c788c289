// Inverted lists (after faiss's InvertedLists): nlist lists, each a contiguous run of entries,
// entry e of list l being (ids[e], code e). An id is the caller's item number (a row of its
// CodeMatrix, below 2^32); the code is stored in one of two layouts:
//   .rows(bytes)        entry e's code is bytes [e*bytes, (e+1)*bytes), item-major as CodeMatrix;
//   .fastScan(blocks)   the 4-bit packed layout of CFastScan (blocks of 32 entries x groups of 4
//                       codebooks, two entries per byte), so the fast-scan kernels run per list.
// Lists are unordered: removal moves the list's last entry into the hole (O(code) per removal),
// so a scan reads one contiguous range per list. The protocol is what a search and an index's
// writes need; `ArrayInvertedLists` keeps everything in memory, and memory-mapped or on-disk
// lists can implement the same protocol.

public enum ListCodeLayout: Sendable, Equatable {
    /// Item-major bytes, `bytes` per entry.
    case rows(bytes: Int)
    /// CFastScan's packed layout of `blocks` 4-bit codes per entry.
    case fastScan(blocks: Int)

    public var isFastScan: Bool { if case .fastScan = self { true } else { false } }
}

public protocol InvertedLists: Sendable {
    /// nlist.
    var listCount: Int { get }
    var layout: ListCodeLayout { get }
    /// Entries in `list`.
    func size(_ list: Int) -> Int
    /// The list's ids and code bytes (`layout`), valid only inside `body`.
    func withList<R>(_ list: Int, _ body: (UnsafeBufferPointer<UInt32>, UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Appends an entry; `code` has the layout's bytes per entry (.rows) or `blocks` values below
    /// 16, one per byte (.fastScan). Returns its slot.
    mutating func append(list: Int, id: UInt32, code: UnsafeRawBufferPointer) -> Int
    /// Removes the entry at `slot` by moving the list's last entry into it; returns the id of the
    /// entry that moved (nil when the removed entry was the last).
    mutating func remove(list: Int, slot: Int) -> UInt32?
    /// Gives the entry at `slot` the id `id` (its code stays): for callers whose item numbers move.
    mutating func setID(list: Int, slot: Int, id: UInt32)
    /// Makes room for `additional` more entries in `list` (a hint before many appends).
    mutating func reserve(list: Int, additional: Int)
    /// Appends entries `ids[j]` with codes `codes[j * bytes ..< (j + 1) * bytes]` (`.rows(bytes)`
    /// layout only); returns the first one's slot (the others follow).
    mutating func append(list: Int, ids: [UInt32], codes: [UInt8]) -> Int
}

extension InvertedLists {
    /// Entries over all lists.
    public var totalSize: Int { (0..<listCount).reduce(0) { $0 + size($1) } }

    public mutating func reserve(list: Int, additional: Int) {}

    public mutating func append(list: Int, ids: [UInt32], codes: [UInt8]) -> Int {
        guard case .rows(let bytes) = layout else { preconditionFailure("InvertedLists.append(ids:codes:): rows layout only") }
        precondition(codes.count == ids.count * bytes, "InvertedLists.append: \(codes.count) code bytes for \(ids.count) entries")
        let first = size(list)
        codes.withUnsafeBytes { c in
            for (j, id) in ids.enumerated() {
                _ = append(list: list, id: id, code: UnsafeRawBufferPointer(rebasing: c[(j * bytes)..<((j + 1) * bytes)]))
            }
        }
        return first
    }
}

/// Inverted lists held in Swift arrays, one pair (ids, codes) per list.
public struct ArrayInvertedLists: InvertedLists, Equatable {
    public let listCount: Int
    public let layout: ListCodeLayout
    private var ids: [[UInt32]]
    private var codes: [[UInt8]]

    public init(lists: Int, layout: ListCodeLayout) {
        precondition(lists >= 1, "ArrayInvertedLists: at least one list")
        if case .fastScan(let blocks) = layout { precondition(blocks >= 1, "ArrayInvertedLists: fast scan needs blocks >= 1") }
        if case .rows(let bytes) = layout { precondition(bytes >= 0, "ArrayInvertedLists: negative code size") }
        listCount = lists
        self.layout = layout
        ids = [[UInt32]](repeating: [], count: lists)
        codes = [[UInt8]](repeating: [], count: lists)
    }

    public func size(_ list: Int) -> Int { ids[list].count }

    public func withList<R>(_ list: Int, _ body: (UnsafeBufferPointer<UInt32>, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try ids[list].withUnsafeBufferPointer { i in
            try codes[list].withUnsafeBytes { c in try body(i, c) }
        }
    }

    public mutating func append(list: Int, id: UInt32, code: UnsafeRawBufferPointer) -> Int {
        let slot = ids[list].count
        ids[list].append(id)
        switch layout {
        case .rows(let bytes):
            precondition(code.count == bytes, "ArrayInvertedLists.append: code of \(code.count) bytes, layout \(bytes)")
            codes[list].append(contentsOf: code)
        case .fastScan(let blocks):
            precondition(code.count == blocks, "ArrayInvertedLists.append: \(code.count) codes, layout \(blocks)")
            if slot % 32 == 0 { codes[list].append(contentsOf: repeatElement(0, count: PackedNibbles.blockBytes(blocks: blocks))) }
            codes[list].withUnsafeMutableBytes { p in
                for b in 0..<blocks {
                    precondition(code[b] < 16, "ArrayInvertedLists.append: code \(code[b]) is not below 16")
                    PackedNibbles.set(p, blocks: blocks, entry: slot, block: b, code[b])
                }
            }
        }
        return slot
    }

    public mutating func setID(list: Int, slot: Int, id: UInt32) {
        ids[list][slot] = id
    }

    public mutating func append(list: Int, ids newIDs: [UInt32], codes newCodes: [UInt8]) -> Int {
        guard case .rows(let bytes) = layout else { preconditionFailure("ArrayInvertedLists.append(ids:codes:): rows layout only") }
        precondition(newCodes.count == newIDs.count * bytes, "ArrayInvertedLists.append: \(newCodes.count) code bytes for \(newIDs.count) entries")
        let first = ids[list].count
        ids[list].append(contentsOf: newIDs)
        codes[list].append(contentsOf: newCodes)
        return first
    }

    /// Exact capacity for a bulk add, so that building lists of millions of entries neither
    /// copies them as the arrays double nor leaves up to half of each array unused.
    public mutating func reserve(list: Int, additional: Int) {
        guard additional > 0 else { return }
        let entries = ids[list].count + additional
        ids[list].reserveCapacity(entries)
        switch layout {
        case .rows(let bytes): codes[list].reserveCapacity(entries * bytes)
        case .fastScan(let blocks): codes[list].reserveCapacity((entries + 31) / 32 * PackedNibbles.blockBytes(blocks: blocks))
        }
    }

    public mutating func remove(list: Int, slot: Int) -> UInt32? {
        let last = ids[list].count - 1
        precondition(slot >= 0 && slot <= last, "ArrayInvertedLists.remove: slot \(slot) outside the list")
        var moved: UInt32?
        if slot != last {
            moved = ids[list][last]
            ids[list][slot] = ids[list][last]
        }
        ids[list].removeLast()
        switch layout {
        case .rows(let bytes):
            if slot != last {
                codes[list].withUnsafeMutableBytes { p in
                    for j in 0..<bytes { p[slot * bytes + j] = p[last * bytes + j] }
                }
            }
            codes[list].removeLast(bytes)
        case .fastScan(let blocks):
            codes[list].withUnsafeMutableBytes { p in
                for b in 0..<blocks {
                    if slot != last {
                        PackedNibbles.set(p, blocks: blocks, entry: slot, block: b,
                                          PackedNibbles.get(UnsafeRawBufferPointer(p), blocks: blocks, entry: last, block: b))
                    }
                    // Cleared, so padding entries of a partial block stay code 0 as the kernels expect.
                    PackedNibbles.set(p, blocks: blocks, entry: last, block: b, 0)
                }
            }
            if last % 32 == 0 { codes[list].removeLast(PackedNibbles.blockBytes(blocks: blocks)) }
        }
        return moved
    }
}

/// Addressing in CFastScan's packed layout (fastscan.h): entry j of a block of 32 sits in byte
/// j % 16 of its codebook's 16-byte row, low nibble for j < 16, high nibble otherwise.
enum PackedNibbles {
    static func groups(_ blocks: Int) -> Int { (blocks + 3) / 4 }
    static func blockBytes(blocks: Int) -> Int { groups(blocks) * 64 }

    @inline(__always)
    static func offset(blocks: Int, entry: Int, block: Int) -> (Int, UInt8) {
        let j = entry & 31
        return ((entry >> 5) * groups(blocks) * 64 + (block >> 2) * 64 + (block & 3) * 16 + (j & 15), j < 16 ? 0 : 4)
    }

    @inline(__always)
    static func get(_ p: UnsafeRawBufferPointer, blocks: Int, entry: Int, block: Int) -> UInt8 {
        let (o, shift) = offset(blocks: blocks, entry: entry, block: block)
        return (p[o] >> shift) & 0x0F
    }

    @inline(__always)
    static func set(_ p: UnsafeMutableRawBufferPointer, blocks: Int, entry: Int, block: Int, _ value: UInt8) {
        let (o, shift) = offset(blocks: blocks, entry: entry, block: block)
        p[o] = p[o] & ~(0x0F << shift) | (value & 0x0F) << shift
    }
}
