// The direct map of an IVF index (after faiss's DirectMap): for each id, the list that holds
// it, and optionally its slot in that list. With slots (8 bytes per id) an entry is found in
// O(1); without (2 bytes per id, nlist < 2^16) the slot is found by scanning the list's ids,
// which only removals and renumbering need: a search never asks, except the fast-scan re-ranking
// of K = 16 lists, which therefore keeps slots. At 100M items that is 200 MB instead of 800.

public struct DirectMap: Sendable, Equatable {
    /// With slots: list << 32 | slot per id, or UInt64.max. Empty otherwise.
    private var wide: [UInt64] = []
    /// Without slots: the list per id, or UInt16.max. Empty otherwise.
    private var narrow: [UInt16] = []

    /// Whether slots are kept (else `slot(of:)` answers nil and callers scan the list).
    public let keepsSlots: Bool

    /// Keeps slots when asked, or when list numbers do not fit the compact form.
    public init(listCount: Int, keepsSlots: Bool) {
        self.keepsSlots = keepsSlots || listCount >= Int(UInt16.max)
    }

    /// Ids covered: the largest id ever set, plus one.
    public var count: Int { keepsSlots ? wide.count : narrow.count }

    @inline(__always)
    public func contains(_ id: Int) -> Bool {
        guard id >= 0 && id < count else { return false }
        return keepsSlots ? wide[id] != .max : narrow[id] != .max
    }

    /// The list holding `id`, nil when absent.
    @inline(__always)
    public func list(of id: Int) -> Int? {
        guard contains(id) else { return nil }
        return keepsSlots ? Int(wide[id] >> 32) : Int(narrow[id])
    }

    /// The slot of `id` in its list when slots are kept; nil when absent or not kept.
    @inline(__always)
    public func slot(of id: Int) -> Int? {
        guard keepsSlots, contains(id) else { return nil }
        return Int(wide[id] & 0xFFFF_FFFF)
    }

    /// Covers ids 0..<n (new ones absent).
    public mutating func extend(to n: Int) {
        guard n > count else { return }
        if keepsSlots { wide.append(contentsOf: repeatElement(.max, count: n - wide.count)) }
        else { narrow.append(contentsOf: repeatElement(.max, count: n - narrow.count)) }
    }

    /// Records `id` (below `count`) at (list, slot).
    @inline(__always)
    public mutating func set(_ id: Int, list: Int, slot: Int) {
        if keepsSlots { wide[id] = UInt64(list) << 32 | UInt64(slot) } else { narrow[id] = UInt16(list) }
    }

    /// Records `ids[j]` (each below `count`) at (list, firstSlot + j).
    public mutating func set(_ ids: [UInt32], list: Int, firstSlot: Int) {
        if keepsSlots {
            for (j, id) in ids.enumerated() { wide[Int(id)] = UInt64(list) << 32 | UInt64(firstSlot + j) }
        } else {
            for id in ids { narrow[Int(id)] = UInt16(list) }
        }
    }

    /// A moved entry's new slot (same list); nothing to do without slots.
    @inline(__always)
    public mutating func moved(_ id: Int, list: Int, slot: Int) {
        if keepsSlots { set(id, list: list, slot: slot) }
    }

    /// Marks `id` absent.
    @inline(__always)
    public mutating func clear(_ id: Int) {
        if keepsSlots { wide[id] = .max } else { narrow[id] = .max }
    }

    /// Gives `newID` the entry of `id` and marks `id` absent (the caller changes the list's id).
    public mutating func renumber(_ id: Int, to newID: Int) {
        extend(to: newID + 1)
        if keepsSlots { (wide[newID], wide[id]) = (wide[id], .max) } else { (narrow[newID], narrow[id]) = (narrow[id], .max) }
    }
}
