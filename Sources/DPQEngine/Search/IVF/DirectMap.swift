// The direct map of an IVF index (after faiss's DirectMap): for each id, the list that holds
// it, and optionally its slot in that list. With slots (8 bytes per id) an entry is found in
// O(1); without (2 bytes per id, nlist < 2^16) the slot is found by scanning the list's ids,
// which only removals and renumbering need: a search never asks, except the fast-scan re-ranking
// of K = 16 lists, which therefore keeps slots. At 100M items that is 200 MB instead of 800.

public struct DirectMap: Sendable, Equatable {
    private enum Storage: Sendable, Equatable {
        /// list << 32 | slot, or UInt64.max.
        case slots([UInt64])
        /// list, or UInt16.max.
        case lists([UInt16])
    }

    private var storage: Storage

    /// Whether slots are kept (else `slot(of:)` answers nil and callers scan the list).
    public var keepsSlots: Bool { if case .slots = storage { return true } else { return false } }

    /// Keeps slots when asked, or when list numbers do not fit the compact form.
    public init(listCount: Int, keepsSlots: Bool) {
        storage = keepsSlots || listCount >= Int(UInt16.max) ? .slots([]) : .lists([])
    }

    /// Ids covered: the largest id ever set, plus one.
    public var count: Int {
        switch storage {
        case .slots(let a): return a.count
        case .lists(let a): return a.count
        }
    }

    @inline(__always)
    public func contains(_ id: Int) -> Bool {
        guard id >= 0 && id < count else { return false }
        switch storage {
        case .slots(let a): return a[id] != .max
        case .lists(let a): return a[id] != .max
        }
    }

    /// The list holding `id`, nil when absent.
    @inline(__always)
    public func list(of id: Int) -> Int? {
        guard contains(id) else { return nil }
        switch storage {
        case .slots(let a): return Int(a[id] >> 32)
        case .lists(let a): return Int(a[id])
        }
    }

    /// The slot of `id` in its list when slots are kept; nil when absent or not kept.
    @inline(__always)
    public func slot(of id: Int) -> Int? {
        guard contains(id), case .slots(let a) = storage else { return nil }
        return Int(a[id] & 0xFFFF_FFFF)
    }

    /// Covers ids 0..<n (new ones absent).
    public mutating func extend(to n: Int) {
        guard n > count else { return }
        switch storage {
        case .slots(var a):
            storage = .lists([])  // so that `a` is the only reference
            a.append(contentsOf: repeatElement(.max, count: n - a.count))
            storage = .slots(a)
        case .lists(var a):
            storage = .lists([])
            a.append(contentsOf: repeatElement(.max, count: n - a.count))
            storage = .lists(a)
        }
    }

    /// Records `id` (below `count`) at (list, slot).
    @inline(__always)
    public mutating func set(_ id: Int, list: Int, slot: Int) {
        switch storage {
        case .slots(var a):
            storage = .lists([])
            a[id] = UInt64(list) << 32 | UInt64(slot)
            storage = .slots(a)
        case .lists(var a):
            storage = .lists([])
            a[id] = UInt16(list)
            storage = .lists(a)
        }
    }

    /// Records `ids[j]` (each below `count`) at (list, firstSlot + j).
    public mutating func set(_ ids: [UInt32], list: Int, firstSlot: Int) {
        switch storage {
        case .slots(var a):
            storage = .lists([])
            for (j, id) in ids.enumerated() { a[Int(id)] = UInt64(list) << 32 | UInt64(firstSlot + j) }
            storage = .slots(a)
        case .lists(var a):
            storage = .lists([])
            for id in ids { a[Int(id)] = UInt16(list) }
            storage = .lists(a)
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
        switch storage {
        case .slots(var a):
            storage = .lists([])
            a[id] = .max
            storage = .slots(a)
        case .lists(var a):
            storage = .lists([])
            a[id] = .max
            storage = .lists(a)
        }
    }

    /// Gives `newID` the entry of `id` and marks `id` absent (the caller changes the list's id).
    public mutating func renumber(_ id: Int, to newID: Int) {
        extend(to: newID + 1)
        switch storage {
        case .slots(var a):
            storage = .lists([])
            (a[newID], a[id]) = (a[id], .max)
            storage = .slots(a)
        case .lists(var a):
            storage = .lists([])
            (a[newID], a[id]) = (a[id], .max)
            storage = .lists(a)
        }
    }
}
