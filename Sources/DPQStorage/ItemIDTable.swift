// The ids of an index's rows and the row of every id, in 14 to 17 bytes per item for number
// ids instead of the 80 or so of `[ItemID]` plus `[ItemID: Int]` (a 24-byte enum per row, and
// a dictionary entry of 32 bytes at a load factor of at most 3/4, plus its metadata).
//
//   row -> id   `keys[row]`: the number itself, or the offset of a string in `arena` (a 2-byte
//               little-endian length, then the UTF-8 bytes); one bit per row says which.
//   id -> row   an open-addressing table of UInt32 slots holding row + 1 (0 = empty) in the low
//               29 bits and 3 bits of the id's hash above them, linear probing from hash(id)
//               scaled onto the capacity, deletion by backward shift (no tombstones), load factor
//               kept between 0.47 and 0.7 (linear probing's expected probes for an absent id are
//               (1 + 1/(1 - load)^2) / 2: 6 at 0.7, 13 at 0.8): 5.7 to 8.5 bytes per item. A
//               probe compares an id only with the rows whose 3 hash bits match: 1 in 8 of the
//               others, each a read of `keys` at random (a cache miss at millions of rows).
//
// Consecutive numbers (how bulk loads number their items: row r holds first + r, no strings)
// need no hash table: while that holds, the table is `consecutive`, `slots` stays empty and an
// id's row is id - first. The first id that breaks the run (a gap, a string, removing a row
// other than the last) builds the hash table from the keys, once.
//
// Rows are dense, 0..<count. Removing a row moves the last row's id into it, as CodeIndex does
// with its code, label and norm rows, so the two stay aligned. A string's bytes stay in the arena
// until the dead bytes are more than half of it; then the arena is rewritten. At most 2^29 - 2
// rows (536,870,910: the slots' row bits).

public struct ItemIDTable: Sendable, RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    private var keys: [UInt64] = []
    private var stringRows: [UInt64] = []
    private var arena: [UInt8] = []
    private var deadArenaBytes = 0
    private var slots: [UInt32] = []
    /// Rows appended by `appendUnindexed` and not yet in `slots`.
    private var unindexed = false
    /// Row r holds the number keys[0] + r, for every row, and `slots` is empty (see the top).
    private var consecutive = true
    /// The sum of the slots `rowsAppendingIfAbsent` read ahead (kept only so that those reads stay).
    private var touchSink: UInt32 = 0

    public static let maxRows = (1 << 29) - 2
    private static let rowBits: UInt32 = 29
    private static let rowMask: UInt32 = (1 << 29) - 1

    /// The 3 hash bits kept in a slot: low bits, since `home` uses the high ones.
    @inline(__always) private static func tag(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h) & 7 }
    @inline(__always) private static func entry(row: Int, tag: UInt32) -> UInt32 { tag << rowBits | UInt32(row + 1) }
    @inline(__always) private static func row(_ slot: UInt32) -> Int { Int(slot & rowMask) - 1 }

    public init() {}

    /// A table of these ids in this order. Precondition (programmer error): no id twice.
    public init<S: Sequence>(_ ids: S) where S.Element == ItemID {
        self.init()
        reserveCapacity(ids.underestimatedCount)
        for id in ids { append(id) }
    }

    public init(arrayLiteral elements: ItemID...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }

    public subscript(row: Int) -> ItemID {
        isString(row) ? .string(string(at: keys[row])) : .number(keys[row])
    }

    public static func == (a: ItemIDTable, b: ItemIDTable) -> Bool { a.elementsEqual(b) }

    /// The row of `id`, or nil when absent.
    public func row(of id: ItemID) -> Int? {
        precondition(!unindexed, "ItemIDTable: indexAll() first")
        if consecutive { return consecutiveRow(id) }
        if slots.isEmpty { return nil }
        return probe(id, hash(id)).row
    }

    public func contains(_ id: ItemID) -> Bool { row(of: id) != nil }

    /// Makes room for `n` rows in all, so that loading them does not grow the table step by step.
    /// `indexing` false reserves the rows only, for a load through `appendUnindexed`.
    public mutating func reserveCapacity(_ n: Int, indexing: Bool = true) {
        keys.reserveCapacity(n)
        stringRows.reserveCapacity((n + 63) / 64)
        if indexing && !consecutive && Self.capacity(forLoad: n) > slots.count { rehash(capacity: Self.capacity(forLoad: n)) }
    }

    /// The row of `id` while the table is consecutive.
    @inline(__always) private func consecutiveRow(_ id: ItemID) -> Int? {
        guard case .number(let n) = id, let first = keys.first, n >= first, n - first < UInt64(keys.count) else { return nil }
        return Int(n - first)
    }

    /// Whether `id` extends a consecutive table (the number after its last row; any number when empty).
    @inline(__always) private func extendsRun(_ id: ItemID) -> Bool {
        guard case .number(let n) = id else { return false }
        guard let last = keys.last else { return true }
        return last != .max && n == last + 1
    }

    /// Appends `id` when it extends the run (see `extendsRun`) and returns its row; nil otherwise.
    private mutating func extendRun(_ id: ItemID) -> Int? {
        guard extendsRun(id) else { return nil }
        precondition(keys.count < Self.maxRows, "ItemIDTable: more than \(Self.maxRows) rows")
        return appendKey(id)
    }

    /// Leaves the consecutive form: the hash table is built from the keys.
    private mutating func leaveConsecutive() {
        guard consecutive else { return }
        consecutive = false
        // Room for the rows reserved, or half as many again as there are.
        rehash(capacity: Self.capacity(forLoad: Swift.max(keys.count * 3 / 2, keys.capacity)))
    }

    /// Appends `id` as the last row without entering it in the hash table: `row(of:)` and every
    /// change but another `appendUnindexed` wait for `indexAll()`. For a load of ids known to be
    /// unique (a store's), which then indexes them all in one cache-friendly pass instead of one
    /// random memory access per id (half of a 100M-item start-up).
    public mutating func appendUnindexed(_ id: ItemID) {
        precondition(keys.count < Self.maxRows, "ItemIDTable: more than \(Self.maxRows) rows")
        if consecutive && extendRun(id) != nil { return }
        // The rows so far go in the hash table with the others at indexAll.
        consecutive = false
        appendKey(id)
        unindexed = true
    }

    /// Enters every row appended by `appendUnindexed` in the hash table.
    public mutating func indexAll() {
        guard unindexed else { return }
        unindexed = false
        rehash(capacity: Swift.max(slots.count, Self.capacity(forLoad: keys.count)))
    }

    /// Appends `id` as the last row and returns that row.
    /// Precondition (programmer error): `id` is not in the table.
    @discardableResult
    public mutating func append(_ id: ItemID) -> Int {
        let (row, appended) = rowAppendingIfAbsent(id)
        precondition(appended, "ItemIDTable.append: \(id) is already present")
        return row
    }

    /// The row of `id`, appending it as the last row when absent (`appended` true): one probe
    /// where `row(of:)` then `append` took two, each comparing the ids it passes (a read of a
    /// row's key at random), which was most of indexing a batch of new ids.
    public mutating func rowAppendingIfAbsent(_ id: ItemID) -> (row: Int, appended: Bool) {
        if consecutive {
            if let row = consecutiveRow(id) { return (row, false) }
            if let row = extendRun(id) { return (row, true) }
            leaveConsecutive()
        }
        growForOneMore()
        let h = hash(id), found = probe(id, h)
        if let row = found.row { return (row, false) }
        return (place(id, hash: h, at: found.slot), true)
    }

    /// `rowAppendingIfAbsent` for each id of `batch` in turn (an id named twice finds the row its
    /// first occurrence got). The hash table grows once, first, so that every id's home is known
    /// up front, and the slot of the id 8 ahead is read while this one is probed: those cache
    /// misses overlap instead of coming one after another.
    public mutating func rowsAppendingIfAbsent(_ batch: [ItemID]) -> [(row: Int, appended: Bool)] {
        precondition(!unindexed, "ItemIDTable: indexAll() first")
        precondition(keys.count + batch.count <= Self.maxRows, "ItemIDTable: more than \(Self.maxRows) rows")
        var out = [(row: Int, appended: Bool)]()
        out.reserveCapacity(batch.count)
        var rest = batch[...]
        if consecutive {
            // While the run holds, nothing to probe; the ids after the first that breaks it go
            // through the hash table.
            while let id = rest.first {
                if let row = consecutiveRow(id) { out.append((row, false)) }
                else if let row = extendRun(id) { out.append((row, true)) }
                else { break }
                rest = rest.dropFirst()
            }
            if rest.isEmpty { return out }
            leaveConsecutive()
        }
        let n = keys.count + rest.count
        if n * 10 > slots.count * 7 { rehash(capacity: Self.capacity(forLoad: n * 3 / 2)) }
        let hashes = rest.map(hash)
        let ahead = 8
        var touched: UInt32 = 0
        for (b, id) in rest.enumerated() {
            if b + ahead < hashes.count { touched &+= slots[home(hashes[b + ahead])] }
            let found = probe(id, hashes[b])
            if let row = found.row {
                out.append((row, false))
            } else {
                out.append((place(id, hash: hashes[b], at: found.slot), true))
            }
        }
        // Stored, so that the reads ahead are not optimised away.
        touchSink = touched
        return out
    }

    /// `append` for ids known to be new (a load from a store whose ids are unique): the probe
    /// only looks for a free slot, without comparing the ids it passes, which at a load of
    /// millions of rows is most of the cost (each comparison reads a row's key at random).
    @discardableResult
    public mutating func appendUnique(_ id: ItemID) -> Int {
        if consecutive {
            if let row = extendRun(id) { return row }
            leaveConsecutive()
        }
        growForOneMore()
        let row = appendKey(id)
        let h = hash(id)
        insert(Self.entry(row: row, tag: Self.tag(h)), at: home(h))
        return row
    }

    /// The row of `id` if present, and the slot its probe ended at (the empty slot it would go
    /// in). Only rows whose slot carries the id's hash bits are compared.
    private func probe(_ id: ItemID, _ h: UInt64) -> (slot: Int, row: Int?) {
        let tag = Self.tag(h)
        var i = home(h)
        while slots[i] != 0 {
            if slots[i] >> Self.rowBits == tag, matches(Self.row(slots[i]), id) { return (i, Self.row(slots[i])) }
            i = next(i)
        }
        return (i, nil)
    }

    /// Appends `id` as the last row, entered at `slot` (empty: where its probe ended).
    private mutating func place(_ id: ItemID, hash h: UInt64, at slot: Int) -> Int {
        let row = appendKey(id)
        slots[slot] = Self.entry(row: row, tag: Self.tag(h))
        return row
    }

    /// Checks that a row may be added, and grows the hash table first when one more would pass
    /// the load factor (so that a probe after it finds the slot the new id goes in).
    private mutating func growForOneMore() {
        precondition(keys.count < Self.maxRows, "ItemIDTable: more than \(Self.maxRows) rows")
        precondition(!unindexed, "ItemIDTable: indexAll() first")
        if (keys.count + 1) * 10 > slots.count * 7 { rehash(capacity: Self.capacity(forLoad: (keys.count + 1) * 3 / 2)) }
    }

    /// Appends the row's key (and string bytes); returns the row.
    @discardableResult
    private mutating func appendKey(_ id: ItemID) -> Int {
        let row = keys.count
        if row % 64 == 0 { stringRows.append(0) }
        switch id {
        case .number(let n):
            keys.append(n)
        case .string(let s):
            keys.append(UInt64(arena.count))
            let bytes = Array(s.utf8)
            precondition(bytes.count <= UInt16.max, "ItemIDTable: string id of \(bytes.count) bytes")
            arena.append(UInt8(bytes.count & 0xff))
            arena.append(UInt8(bytes.count >> 8))
            arena.append(contentsOf: bytes)
            stringRows[row >> 6] |= 1 << UInt64(row & 63)
        }
        return row
    }

    /// Removes the id at `row`; the last row's id, if another, moves into `row`.
    public mutating func removeSwappingLast(row: Int) {
        precondition(!unindexed, "ItemIDTable: indexAll() first")
        precondition(row >= 0 && row < keys.count, "ItemIDTable.removeSwappingLast: row \(row) outside 0..<\(keys.count)")
        if consecutive {
            // The last row goes and the run holds; any other would leave a gap.
            if row == keys.count - 1 {
                keys.removeLast()
                if row % 64 == 0 { stringRows.removeLast() }
                return
            }
            leaveConsecutive()
        }
        deleteSlot(slot(ofRow: row))
        if isString(row) { deadArenaBytes += 2 + stringLength(at: keys[row]) }
        let last = keys.count - 1
        if row != last {
            let moved = slot(ofRow: last)
            slots[moved] = slots[moved] & ~Self.rowMask | UInt32(row + 1)
            keys[row] = keys[last]
            let bit: UInt64 = 1 << UInt64(row & 63)
            if isString(last) { stringRows[row >> 6] |= bit } else { stringRows[row >> 6] &= ~bit }
        }
        keys.removeLast()
        stringRows[last >> 6] &= ~(1 << UInt64(last & 63))
        if last % 64 == 0 { stringRows.removeLast() }
        if deadArenaBytes > 4096 && deadArenaBytes * 2 > arena.count { compactArena() }
        if keys.isEmpty { arena = []; deadArenaBytes = 0; slots = []; consecutive = true }
    }

    /// Bytes held by the table (capacity, not count), for memory reports.
    public var allocatedBytes: Int {
        keys.capacity * 8 + stringRows.capacity * 8 + arena.capacity + slots.capacity * 4
    }

    // MARK: - Rows

    private func isString(_ row: Int) -> Bool { stringRows[row >> 6] >> UInt64(row & 63) & 1 != 0 }

    private func stringLength(at offset: UInt64) -> Int {
        Int(arena[Int(offset)]) | Int(arena[Int(offset) + 1]) << 8
    }

    private func string(at offset: UInt64) -> String {
        let start = Int(offset) + 2
        return arena.withUnsafeBufferPointer { String(decoding: $0[start..<(start + stringLength(at: offset))], as: UTF8.self) }
    }

    private func matches(_ row: Int, _ id: ItemID) -> Bool {
        switch id {
        case .number(let n):
            return !isString(row) && keys[row] == n
        case .string(let s):
            guard isString(row) else { return false }
            let offset = keys[row], length = stringLength(at: offset)
            var s = s
            return s.withUTF8 { bytes in
                bytes.count == length && arena.withUnsafeBufferPointer { a in
                    bytes.elementsEqual(a[(Int(offset) + 2)..<(Int(offset) + 2 + length)])
                }
            }
        }
    }

    private func hash(ofRow row: Int) -> UInt64 {
        guard isString(row) else { return Self.mix(keys[row]) }
        let start = Int(keys[row]) + 2
        return arena.withUnsafeBufferPointer { Self.stringHash($0[start..<(start + stringLength(at: keys[row]))]) }
    }

    private mutating func compactArena() {
        var packed = [UInt8]()
        packed.reserveCapacity(arena.count - deadArenaBytes)
        for row in 0..<keys.count where isString(row) {
            let offset = Int(keys[row]), length = stringLength(at: keys[row])
            keys[row] = UInt64(packed.count)
            packed.append(contentsOf: arena[offset..<(offset + 2 + length)])
        }
        arena = packed
        deadArenaBytes = 0
    }

    // MARK: - Hash table

    private func hash(_ id: ItemID) -> UInt64 {
        switch id {
        case .number(let n): return Self.mix(n)
        case .string(let s):
            var s = s
            return s.withUTF8 { Self.stringHash($0[...]) }
        }
    }

    /// splitmix64's finaliser: numbers in sequence spread over the whole table.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a over the bytes, then mixed (FNV's low bits alone spread poorly).
    private static func stringHash(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return mix(h ^ 0x5354_5249_4E47)
    }

    /// The slot a hash starts probing at: the hash scaled onto 0..<capacity (no power-of-two
    /// capacity needed, so the table grows by half instead of doubling).
    private func home(_ h: UInt64) -> Int { Int(h.multipliedFullWidth(by: UInt64(slots.count)).high) }

    private func next(_ i: Int) -> Int { i + 1 == slots.count ? 0 : i + 1 }

    private static func capacity(forLoad n: Int) -> Int { Swift.max(16, n * 10 / 7 + 1) }

    private func slot(ofRow row: Int) -> Int {
        var i = home(hash(ofRow: row))
        while slots[i] & Self.rowMask != UInt32(row + 1) {
            precondition(slots[i] != 0, "ItemIDTable: row \(row) is missing from the hash table")
            i = next(i)
        }
        return i
    }

    /// Empties slot `i` and shifts later entries of the same probe run back, so that every
    /// entry stays reachable from its home without tombstones.
    private mutating func deleteSlot(_ start: Int) {
        var hole = start
        var j = start
        while true {
            j = next(j)
            if slots[j] == 0 { break }
            let h = home(hash(ofRow: Self.row(slots[j])))
            // Entry j may move into the hole unless its home lies cyclically in (hole, j].
            let homeInRun = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !homeInRun {
                slots[hole] = slots[j]
                hole = j
            }
        }
        slots[hole] = 0
    }

    /// Slots per region of `rehash`: 128 KB of the table, which stays in the cache while the
    /// region's rows go in.
    private static let regionSlots = 1 << 15

    /// A new table of `capacity` slots holding every row. Linear probing without deletions gives
    /// a valid table in any insertion order (each row's run from its home to its slot was full
    /// when it went in, and stays full), so large tables take the rows grouped by the region
    /// their home falls in (a counting sort of (home, row) pairs), region after region, instead of
    /// in row order, where each insertion would be a cache and TLB miss.
    private mutating func rehash(capacity: Int) {
        slots = [UInt32](repeating: 0, count: capacity)
        let n = keys.count
        let regions = (capacity + Self.regionSlots - 1) / Self.regionSlots
        guard n >= 1 << 16, regions > 1 else {
            for row in 0..<n {
                let h = hash(ofRow: row)
                insert(Self.entry(row: row, tag: Self.tag(h)), at: home(h))
            }
            return
        }
        var start = [Int](repeating: 0, count: regions + 1)
        for row in 0..<n { start[home(hash(ofRow: row)) / Self.regionSlots + 1] += 1 }
        for r in 0..<regions { start[r + 1] += start[r] }
        // (home << 32 | slot entry) per row, grouped by region.
        var next = start
        let grouped = [UInt64](unsafeUninitializedCapacity: n) { buffer, initialized in
            for row in 0..<n {
                let hash = hash(ofRow: row), h = home(hash)
                let r = h / Self.regionSlots
                buffer[next[r]] = UInt64(h) << 32 | UInt64(Self.entry(row: row, tag: Self.tag(hash)))
                next[r] += 1
            }
            initialized = n
        }
        for pair in grouped { insert(UInt32(truncatingIfNeeded: pair), at: Int(pair >> 32)) }
    }

    @inline(__always)
    private mutating func insert(_ entry: UInt32, at home: Int) {
        var i = home
        while slots[i] != 0 { i = next(i) }
        slots[i] = entry
    }
}
