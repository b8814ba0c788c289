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
