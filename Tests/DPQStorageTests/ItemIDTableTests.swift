// ItemIDTable against the structures it replaces ([ItemID] plus [ItemID: Int]): after every
// step of a long random mix of appends (`append`, `rowAppendingIfAbsent`, `rowsAppendingIfAbsent`) and swap-removals, of numbers and strings (including
// strings that look like numbers, empty-looking prefixes and non-ASCII), both must agree on
// every row and every lookup, absent ids included.

import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct ItemIDTableTests {
    static func randomID(_ r: inout SeededRandom) -> ItemID {
        switch r.next() % 4 {
        case 0: return .number(r.next() % 2_000)
        case 1: return .number(r.next())  // spread over the whole range
        case 2: return .string(String(r.next() % 2_000))  // "42" is not 42
        default: return .string("item-é-\(r.next() % 500)-" + String(repeating: "x", count: Int(r.next() % 40)))
        }
    }

    static func expectSame(_ table: ItemIDTable, _ ids: [ItemID], _ rows: [ItemID: Int]) {
        #expect(table.count == ids.count)
        #expect(Array(table) == ids)
        for (id, row) in rows { #expect(table.row(of: id) == row) }
    }

    @Test func agreesWithArrayAndDictionaryThroughAppendsAndRemovals() {
        var r = SeededRandom(seed: 5)
        var table = ItemIDTable()
        var ids: [ItemID] = [], rows: [ItemID: Int] = [:]
        for step in 0..<20_000 {
            // Grow for a while, then shrink to nothing, then grow again: rehashes, arena
            // compaction and the empty table are all crossed.
            let removing = (step / 4_000) % 2 == 1 ? r.next() % 4 != 0 : r.next() % 4 == 0
            if removing, !ids.isEmpty {
                let row = Int(r.next() % UInt64(ids.count))
                table.removeSwappingLast(row: row)
                rows[ids[row]] = nil
                let last = ids.removeLast()
                if row < ids.count { ids[row] = last; rows[last] = row }
            } else if step % 50 == 0 {
                // The batch form: ids present, absent and named twice, each as one probe would give.
                var batch = (0..<(1 + Int(r.next() % 40))).map { _ in Self.randomID(&r) }
                if batch.count > 2 { batch[batch.count - 1] = batch[0] }
                let got = table.rowsAppendingIfAbsent(batch)
                for (id, g) in zip(batch, got) {
                    #expect(g.row == rows[id] ?? ids.count && g.appended == (rows[id] == nil), "step \(step): \(id)")
                    if g.appended { rows[id] = ids.count; ids.append(id) }
                }
            } else {
                let id = Self.randomID(&r)
                if step % 2 == 1 {
                    // The one-probe form: the row of a present id, a new last row for an absent one.
                    let got = table.rowAppendingIfAbsent(id)
                    #expect(got.row == rows[id] ?? ids.count && got.appended == (rows[id] == nil))
                    if got.appended { rows[id] = ids.count; ids.append(id) }
                } else if rows[id] != nil {
                    #expect(table.row(of: id) == rows[id])
                    continue
                } else {
                    #expect(table.append(id) == ids.count)
                    rows[id] = ids.count
                    ids.append(id)
                }
            }
            if step % 997 == 0 { Self.expectSame(table, ids, rows) }
            let probe = Self.randomID(&r)
            #expect(table.row(of: probe) == rows[probe])
        }
        Self.expectSame(table, ids, rows)
    }

    /// Runs of consecutive numbers, the shape of bulk loads, are held without a hash table until an
    /// id breaks the run. A random walk that mostly extends the run (through every append form),
    /// removes the last row, and now and then breaks it (a gap, a number before the run, a string,
    /// removing another row) or empties the table (which may start a new run), against the model.
    @Test func consecutiveRunsAgreeWithArrayAndDictionary() {
        var r = SeededRandom(seed: 21)
        var table = ItemIDTable()
        var ids: [ItemID] = [], rows: [ItemID: Int] = [:]
        var next: UInt64 = 1_000
        func add(_ id: ItemID, _ got: (row: Int, appended: Bool)) {
            #expect(got.row == rows[id] ?? ids.count && got.appended == (rows[id] == nil), "\(id)")
            if got.appended { rows[id] = ids.count; ids.append(id) }
        }
        func removeRow(_ row: Int) {
            table.removeSwappingLast(row: row)
            rows[ids[row]] = nil
            let last = ids.removeLast()
            if row < ids.count { ids[row] = last; rows[last] = row }
        }
        var broken = 0, emptied = 0
        for step in 0..<6_000 {
            if case .number(let n)? = ids.last { next = n + 1 }
            let roll = r.next() % 100
            switch roll {
            case 0..<40:
                let id = ItemID.number(next)
                // After a break the number after the last row may be taken already.
                switch rows[id] != nil ? 1 : step % 4 {
                case 0: #expect(table.append(id) == ids.count); rows[id] = ids.count; ids.append(id)
                case 1: add(id, table.rowAppendingIfAbsent(id))
                case 2: #expect(table.appendUnique(id) == ids.count); rows[id] = ids.count; ids.append(id)
                default: add(id, table.rowAppendingIfAbsent(id))
                }
            case 40..<60:
                // A batch: the next numbers, some present ones and repeats, rarely a break inside.
                var batch: [ItemID] = []
                var n = next
                for _ in 0..<(1 + Int(r.next() % 30)) {
                    switch r.next() % 10 {
                    case 0 where !ids.isEmpty: batch.append(ids[Int(r.next() % UInt64(ids.count))])
                    case 1 where !batch.isEmpty: batch.append(batch[0])
                    default: batch.append(.number(n)); n += 1
                    }
                }
                if r.next() % 8 == 0 { batch.insert(.number(n + 5), at: Int(r.next() % UInt64(batch.count + 1))); broken += 1 }
                for (id, got) in zip(batch, table.rowsAppendingIfAbsent(batch)) { add(id, got) }
            case 60..<80:
                if !ids.isEmpty { removeRow(ids.count - 1) }
            case 80..<83:
                if !ids.isEmpty { removeRow(Int(r.next() % UInt64(ids.count))); broken += 1 }
            case 83..<85:
                let id: ItemID = r.next() % 2 == 0 ? .number(next + 1 + r.next() % 50) : .string(String(next))
                add(id, table.rowAppendingIfAbsent(id))
                broken += 1
            case 85..<87:
                if case .number(let first)? = ids.first, first > 0 {
                    add(.number(first - 1), table.rowAppendingIfAbsent(.number(first - 1)))
                    broken += 1
                }
            case 87:
                while !ids.isEmpty { removeRow(ids.count - 1) }
                emptied += 1
                next = r.next() % 2 == 0 ? 0 : r.next() % 1_000_000
            default:
                if !ids.isEmpty { #expect(table.row(of: ids[Int(r.next() % UInt64(ids.count))]) != nil) }
            }
            // Absent ids around the run, and a string spelling a present number.
            for probe: ItemID in [.number(next), .number(next + 1), .number(next &- 1), .string(String(next &- 1)),
                                  .number(ids.first.flatMap { if case .number(let n) = $0 { return n &- 1 } else { return nil } } ?? 7)] {
                #expect(table.row(of: probe) == rows[probe], "step \(step): \(probe)")
            }
            if step % 499 == 0 { Self.expectSame(table, ids, rows) }
        }
        Self.expectSame(table, ids, rows)
        #expect(broken > 50 && emptied > 20)
    }

    /// A consecutive load (the store's start-up) holds no hash table: about 8 bytes per id; the
    /// first gap builds it and every lookup still agrees.
    @Test func consecutiveLoadNeedsNoHashTable() {
        let n = 200_000
        var table = ItemIDTable()
        table.reserveCapacity(n, indexing: false)
        for i in 0..<n { table.appendUnindexed(.number(5_000 + UInt64(i))) }
        table.indexAll()
        #expect(Double(table.allocatedBytes) / Double(n) < 8.5)
        #expect(table.row(of: .number(5_000)) == 0 && table.row(of: .number(5_000 + UInt64(n) - 1)) == n - 1)
        #expect(table.row(of: .number(4_999)) == nil && table.row(of: .number(5_000 + UInt64(n))) == nil)
        #expect(table.row(of: .string("5000")) == nil)
        #expect(table.rowsAppendingIfAbsent([.number(5_000 + UInt64(n)), .number(10), .number(5_001)]).map(\.row) == [n, n + 1, 1])
        #expect(table.allocatedBytes / (n + 2) > 12)
        for i in stride(from: 0, to: n, by: 997) { #expect(table.row(of: .number(5_000 + UInt64(i))) == i) }
        #expect(table.row(of: .number(10)) == n + 1 && table.row(of: .number(11)) == nil)
        // A load whose run breaks part-way is indexed at indexAll, as before.
        var mixed = ItemIDTable()
        for i in 0..<1_000 { mixed.appendUnindexed(.number(UInt64(i))) }
        mixed.appendUnindexed(.string("a"))
        for i in 2_000..<3_000 { mixed.appendUnindexed(.number(UInt64(i))) }
        mixed.indexAll()
        #expect(mixed.row(of: .number(999)) == 999 && mixed.row(of: .string("a")) == 1_000 && mixed.row(of: .number(2_000)) == 1_001)
        #expect(mixed.row(of: .number(1_000)) == nil)
    }

    @Test func numbersAndStringsThatSpellThemAreDifferentIDs() {
        var table: ItemIDTable = [.number(42), .string("42"), .string("")]
        #expect(table.row(of: .number(42)) == 0)
        #expect(table.row(of: .string("42")) == 1)
        #expect(table.row(of: .string("")) == 2)
        #expect(table.row(of: .number(0)) == nil)
        #expect(table.row(of: .string("4")) == nil)
        table.removeSwappingLast(row: 0)
        #expect(Array(table) == [.string(""), .string("42")])
        #expect(table.row(of: .number(42)) == nil)
        #expect(table.row(of: .string("42")) == 1)
    }

    @Test func reservedTableHoldsNumberIDsInUnderFifteenBytesEach() {
        let n = 100_000
        var table = ItemIDTable()
        table.reserveCapacity(n)
        for i in 0..<n { table.append(.number(UInt64(i) * 7_919)) }
        // 8 bytes of key, 1/8 of a bit word, and a 4-byte slot at a load factor of 0.7.
        #expect(Double(table.allocatedBytes) / Double(n) < 15)
        #expect(table.row(of: .number(7_919 * 99_999)) == 99_999)
        #expect(table.row(of: .number(1)) == nil)
    }

    @Test func appendUniqueBuildsTheSameTable() {
        var r = SeededRandom(seed: 8)
        var ids: [ItemID] = [], seen = Set<ItemID>()
        while ids.count < 5_000 {
            let id = Self.randomID(&r)
            if seen.insert(id).inserted { ids.append(id) }
        }
        var unchecked = ItemIDTable()
        for id in ids { unchecked.appendUnique(id) }
        let checked = ItemIDTable(ids)
        #expect(unchecked == checked)
        for (row, id) in ids.enumerated() { #expect(unchecked.row(of: id) == row) }
    }

    /// A load through appendUnindexed then indexAll, large enough for the region-by-region
    /// rehash (over 2^16 rows, several regions), finds every id, none that is absent, and goes on
    /// through removals and appends (which rehash again as the table grows) like a table built
    /// one append at a time.
    @Test(arguments: [1_000, 300_000])
    func unindexedLoadThenIndexAll(count: Int) {
        var r = SeededRandom(seed: 9)
        var ids: [ItemID] = [], seen = Set<ItemID>()
        while ids.count < count {
            let id: ItemID = r.next() % 8 == 0 ? .string("s\(r.next() % 10_000_000)") : .number(r.next() % 50_000_000)
            if seen.insert(id).inserted { ids.append(id) }
        }
        var loaded = ItemIDTable()
        loaded.reserveCapacity(count, indexing: false)
        for id in ids { loaded.appendUnindexed(id) }
        loaded.indexAll()
        #expect(Array(loaded) == ids)
        for (row, id) in ids.enumerated() where row % 7 == 0 || count <= 1_000 { #expect(loaded.row(of: id) == row) }
        #expect(ids.indices.allSatisfy { loaded.row(of: ids[$0]) == $0 })
        for _ in 0..<1_000 {
            let absent: ItemID = .number(50_000_000 + r.next() % 1_000_000)
            #expect(loaded.row(of: absent) == nil)
        }
        var rows = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        for step in 0..<2_000 {
            if step % 2 == 0 {
                let row = Int(r.next() % UInt64(ids.count))
                loaded.removeSwappingLast(row: row)
                rows[ids[row]] = nil
                let last = ids.removeLast()
                if row < ids.count { ids[row] = last; rows[last] = row }
            } else {
                let id: ItemID = .number(60_000_000 + UInt64(step))
                rows[id] = loaded.append(id)
                ids.append(id)
            }
        }
        // Growth past the reserved size rehashes region by region too.
        for j in 0..<(count / 2) {
            let id: ItemID = .number(70_000_000 + UInt64(j))
            rows[id] = loaded.append(id)
            ids.append(id)
        }
        Self.expectSame(loaded, ids, rows)
    }

    @Test func longStringIDsRoundTrip() {
        let long = String(repeating: "ü", count: ItemID.maxStringBytes / 2)
        var table = ItemIDTable([.string(long), .number(.max)])
        #expect(table[0] == .string(long))
        #expect(table[1] == .number(.max))
        table.removeSwappingLast(row: 0)
        #expect(Array(table) == [.number(.max)])
        #expect(table.row(of: .string(long)) == nil)
    }
}
