import Testing
@testable import DPQEngine

/// DirectMap with and without slots against a dictionary, and the fallback to slots when list
/// numbers do not fit 16 bits.
@Suite struct DirectMapTests {
    @Test(arguments: [false, true])
    func matchesADictionary(keepsSlots: Bool) {
        var map = DirectMap(listCount: 300, keepsSlots: keepsSlots)
        #expect(map.keepsSlots == keepsSlots)
        var truth: [Int: (Int, Int)] = [:]
        var r = SeededRandom(seed: 5)
        map.extend(to: 100)
        for _ in 0..<2_000 {
            let id = Int(r.next() % 150)
            switch r.next() % 4 {
            case 0:
                map.extend(to: id + 1)
                let (l, s) = (Int(r.next() % 300), Int(r.next() % 100_000))
                map.set(id, list: l, slot: s)
                truth[id] = (l, s)
            case 1:
                if id < map.count { map.clear(id) }
                truth[id] = nil
            case 2:
                let to = Int(r.next() % 150)
                if let t = truth[id], truth[to] == nil, to != id {
                    map.renumber(id, to: to)
                    truth[to] = t
                    truth[id] = nil
                }
            default:
                if let (l, _) = truth[id] {
                    let s = Int(r.next() % 100)
                    map.moved(id, list: l, slot: s)
                    truth[id] = (l, s)
                }
            }
            for i in 0..<160 {
                #expect(map.contains(i) == (truth[i] != nil))
                #expect(map.list(of: i) == truth[i]?.0)
                #expect(map.slot(of: i) == (keepsSlots ? truth[i]?.1 : nil))
            }
        }
        var bulk = DirectMap(listCount: 300, keepsSlots: keepsSlots)
        bulk.extend(to: 10)
        bulk.set([7, 2, 9], list: 299, firstSlot: 40)
        #expect([7, 2, 9].map { bulk.list(of: $0) } == [299, 299, 299])
        #expect([7, 2, 9].map { bulk.slot(of: $0) } == (keepsSlots ? [40, 41, 42] : [nil, nil, nil]))
        #expect(!bulk.contains(0) && !bulk.contains(10) && !bulk.contains(-1))
    }

    @Test func manyListsKeepSlots() {
        var map = DirectMap(listCount: 70_000, keepsSlots: false)
        #expect(map.keepsSlots)
        map.extend(to: 1)
        map.set(0, list: 69_999, slot: 3)
        #expect(map.list(of: 0) == 69_999 && map.slot(of: 0) == 3)
    }
}
