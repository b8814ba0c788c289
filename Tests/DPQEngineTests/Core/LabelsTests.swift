import Testing
@testable import DPQEngine

/// Labels at every stride (1, 2, 4 bytes and 64-bit words) against plain sets.
@Suite struct LabelsTests {
    static let classCounts = [1, 3, 8, 9, 10, 16, 17, 32, 33, 64, 65, 130]

    private func randomSets(_ n: Int, classCount: Int, seed: UInt64) -> [[Int]] {
        var r = SeededRandom(seed: seed)
        return (0..<n).map { _ in
            let k = Int(r.next() % 4)
            return Array(Set((0..<k).map { _ in Int(r.next() % UInt64(classCount)) })).sorted()
        }
    }

    @Test(arguments: classCounts)
    func strideAndRoundTrip(classCount: Int) {
        let sets = randomSets(200, classCount: classCount, seed: UInt64(classCount))
        let labels = Labels(multi: sets, classCount: classCount)
        let expected = classCount <= 8 ? 1 : classCount <= 16 ? 2 : classCount <= 32 ? 4 : (classCount + 63) / 64 * 8
        #expect(labels.stride == expected)
        #expect(labels.storage.count == 200 * expected)
        #expect(labels.words == (classCount + 63) / 64)
        for (i, s) in sets.enumerated() {
            #expect(labels.labels(of: i) == s)
            for c in 0..<classCount { #expect(labels.has(i, c) == s.contains(c)) }
            for w in 0..<labels.words {
                let bits = s.filter { $0 / 64 == w }.reduce(UInt64(0)) { $0 | 1 << UInt64($1 % 64) }
                #expect(labels.word(i, w) == bits)
            }
        }
        for i in 0..<50 {
            for j in 0..<50 {
                #expect(labels.shares(i, with: labels, j) == !Set(sets[i]).isDisjoint(with: sets[j]))
            }
        }
        let picked = [5, 0, 5, 199]
        #expect(labels.items(picked) == Labels(multi: picked.map { sets[$0] }, classCount: classCount))
    }

    @Test(arguments: classCounts)
    func changesInPlace(classCount: Int) {
        var sets = randomSets(60, classCount: classCount, seed: 7 + UInt64(classCount))
        var labels = Labels(classCount: classCount)
        for s in sets { #expect(labels.append(s) == nil) }
        var r = SeededRandom(seed: 3)
        for step in 0..<200 {
            let i = Int(r.next() % UInt64(sets.count))
            if step % 3 == 0 {
                labels.removeSwappingLast(i)
                sets.swapAt(i, sets.count - 1)
                sets.removeLast()
            } else {
                let s = randomSets(1, classCount: classCount, seed: UInt64(step))[0]
                labels.replace(i, with: s)
                sets[i] = s
            }
            if sets.isEmpty { break }
        }
        #expect(labels == Labels(multi: sets, classCount: classCount))
        // The storage layer's blob form: little-endian UInt32s.
        var fromBlobs = Labels(classCount: classCount)
        for s in sets {
            let raw = s.flatMap { withUnsafeBytes(of: UInt32($0).littleEndian, Array.init) }
            #expect(raw.withUnsafeBytes { fromBlobs.append(uint32LittleEndian: $0) } == nil)
        }
        #expect(fromBlobs == labels)
        let outside = withUnsafeBytes(of: UInt32(classCount).littleEndian, Array.init)
        #expect(outside.withUnsafeBytes { fromBlobs.append(uint32LittleEndian: $0) } == classCount)
        // A label outside the classes is reported and left out.
        #expect(labels.append([0, classCount, -1]) == classCount)
        #expect(labels.labels(of: labels.count - 1) == [0])
    }

    @Test func relevanceMatchesSharedLabels() {
        // Ranking's relevance reads the database's storage at its stride, the query's by word.
        for (qc, dc) in [(10, 10), (3, 10), (70, 70), (20, 130)] {
            let q = randomSets(5, classCount: min(qc, dc), seed: 11), d = randomSets(300, classCount: min(qc, dc), seed: 12)
            let ql = Labels(multi: q, classCount: qc), dl = Labels(multi: d, classCount: dc)
            var rel = [UInt8](repeating: 9, count: d.count)
            for i in 0..<q.count {
                rel.withUnsafeMutableBufferPointer { RankingMeasure.relevance(query: i, queryLabels: ql, databaseLabels: dl, into: $0.baseAddress!) }
                #expect(rel == d.map { Set(q[i]).isDisjoint(with: $0) ? 0 : 1 })
            }
        }
    }
}
