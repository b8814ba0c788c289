// An inverted-file (IVF) index over residual codes. Items are partitioned into nlist lists by a
// CoarseQuantizer; a search ranks the lists for the query and scans only the best `nprobe`,
// scoring each entry exactly as CodeScanner does:
//     inner product  s_m = sum_{i<m} T[i][b_i],    squared L2  (||q||^2 - 2 s_m) + ||x_hat_m||^2,
// summed in block order from block 0. With the first-block partition every entry of list j has
// b_0 = j, so its lists store codes b_1..b_{M-1} only and start the sum at T[0][j] (the same
// value, so the same float sum). Hence the contract: with nprobe = nlist the answer is
// CodeScanner's (same scores, same ties broken by the smaller id), for every prefix m, metric,
// filter and thread count; with fewer lists it is the best of the items in those lists.
// K = 16 codes can be kept in CFastScan's packed layout per list and scanned with the fast-scan
// kernels (inner product; `.exact` re-ranking keeps the same contract).
// Ids are the caller's item numbers (rows of its CodeMatrix): dense integers below 2^32,
// because the index keeps a direct map id -> list (DirectMap, with slots for fast-scan lists) as
// an array, for removal and re-ranking.

/// Which items a search may return, applied inside the list scans (to candidates only).
public enum ItemFilter: Sendable {
    /// Called from several threads, for items whose score could enter the top k: a pure function.
    case predicate(@Sendable (Int) -> Bool)
    /// Bit (id % 64) of words[id / 64] set: allowed. Ids past the words are not allowed.
    case bitmap([UInt64])

    @inline(__always)
    func allows(_ id: Int) -> Bool {
        switch self {
        case .predicate(let f): return f(id)
        case .bitmap(let w): return id >> 6 < w.count && (w[id >> 6] >> UInt64(id & 63)) & 1 != 0
        }
    }
}

public struct IVFIndex<Lists: InvertedLists>: Sendable {
    public let codebooks: Codebooks
    public let coarse: CoarseQuantizer
    /// Code length M of the items (any prefix 1...M can be searched).
    public let blocks: Int
    public let bytesPerCode: Int
    public private(set) var lists: Lists
    /// Per list, ||x_hat_m||^2 of each entry for m = 1...M (entry-major), when kept (squared L2).
    public private(set) var listNorms: [[Float]]?
    /// id -> list (and slot, for fast-scan lists).
    private(set) var directMap: DirectMap
    public private(set) var count = 0

    /// Lists of the first-block partition store codes from block 1 on (rows layout only).
    public var skipsFirstBlock: Bool {
        if case .rows = lists.layout { return coarse.kind == .firstBlock }
        return false
    }

    /// An empty index writing into `lists` (empty, nlist = coarse.listCount, layout .rows of
    /// (M - 1 for the first-block partition, else M) codes, or .fastScan(M) for K = 16).
    /// `keepsNorms` keeps prefix norms per entry for squared-L2 searches (4*M bytes per item).
    public init(codebooks: Codebooks, coarse: CoarseQuantizer, blocks: Int, lists: Lists, keepsNorms: Bool) {
        precondition(blocks >= 1 && blocks <= codebooks.blocks, "IVFIndex: blocks \(blocks) outside 1...\(codebooks.blocks)")
        precondition(lists.listCount == coarse.listCount && lists.totalSize == 0, "IVFIndex: lists must be empty, one per coarse list")
        precondition(coarse.centroids.cols == codebooks.dimension, "IVFIndex: coarse centroids of the wrong dimension")
        self.codebooks = codebooks
        self.coarse = coarse
        self.blocks = blocks
        self.bytesPerCode = CodeMatrix.bytesPerCode(codebookSize: codebooks.size)
        switch lists.layout {
        case .rows(let bytes):
            let stored = coarse.kind == .firstBlock ? blocks - 1 : blocks
            precondition(bytes == stored * bytesPerCode, "IVFIndex: list entries of \(bytes) bytes, expected \(stored * bytesPerCode)")
        case .fastScan(let b):
            precondition(codebooks.size == 16 && b == blocks, "IVFIndex: fast-scan lists need K = 16 and \(blocks) blocks")
        }
        // Fast-scan re-ranking reads each candidate's code in place: slots kept.
        directMap = DirectMap(listCount: lists.listCount, keepsSlots: lists.layout.isFastScan)
        self.lists = lists
        self.listNorms = keepsNorms ? [[Float]](repeating: [], count: lists.listCount) : nil
    }

    public var listCount: Int { lists.listCount }

    /// Whether `id` is in the index.
    public func contains(_ id: Int) -> Bool { directMap.contains(id) }

    /// The list of `id`, nil when absent.
    public func list(of id: Int) -> Int? { directMap.list(of: id) }

    /// (list, slot) of `id`, nil when absent: O(1) where the direct map keeps slots, else a scan
    /// of the list's ids.
    public func location(of id: Int) -> (list: Int, slot: Int)? {
        guard let list = directMap.list(of: id) else { return nil }
        if let slot = directMap.slot(of: id) { return (list, slot) }
        let slot = lists.withList(list) { ids, _ in ids.firstIndex(of: UInt32(id)) }
        guard let slot else { preconditionFailure("IVFIndex: id \(id) is not in its list \(list)") }
        return (list, slot)
    }

    // MARK: - Writes

    /// Adds items `ids[i]` with codes row i of `codes` (M blocks); an id already present is
    /// replaced. `norms` (same rows, M blocks) are required when the index keeps norms.
    /// `assigned`, when given, is the list of each row (as `coarse.assign` would give it, e.g. kept
    /// from an earlier run), so that only rows marked -1 are assigned here.
    public mutating func add(codes: CodeMatrix, ids: [Int], norms: PrefixNorms? = nil, assigned known: [Int32]? = nil,
                             threads: Int = Cores.available) {
        precondition(codes.blocks == blocks && codes.bytesPerCode == bytesPerCode && ids.count == codes.count,
                     "IVFIndex.add: \(codes.count) codes of \(codes.blocks) blocks for \(ids.count) ids; the index has \(blocks)")
        precondition(listNorms == nil || (norms?.count == codes.count && norms?.blocks == blocks),
                     "IVFIndex.add: this index keeps norms; pass PrefixNorms of the codes")
        precondition(ids.allSatisfy { $0 >= 0 && $0 < Int(UInt32.max) }, "IVFIndex.add: ids must be in 0..<2^32-1")
        CodeValidation.requireCodes(codes, below: codebooks.size, caller: "IVFIndex.add")
        let assigned = lists(of: codes, known: known, threads: threads)
        // A bulk add (building the index) reserves each list's exact size. Only where the add at
        // least doubles the list: exact reservations on small batches would copy every list on
        // every batch instead of letting arrays grow geometrically.
        if codes.count >= 1_024 {
            var counts = [Int](repeating: 0, count: listCount)
            for l in assigned { counts[l] += 1 }
            for (l, c) in counts.enumerated() where c > 0 && c >= lists.size(l) {
                lists.reserve(list: l, additional: c)
                if let held = listNorms?[l].count { listNorms![l].reserveCapacity(held + c * blocks) }
            }
        }
        if let top = ids.max() { directMap.extend(to: top + 1) }
        let width = codes.bytesPerItem
        var fastCode = [UInt8](repeating: 0, count: blocks)
        codes.bytes.withUnsafeBytes { all in
            for (row, id) in ids.enumerated() {
                if contains(id) { remove(id) }
                let list = assigned[row]
                let slot: Int
                switch lists.layout {
                case .rows:
                    let skip = skipsFirstBlock ? bytesPerCode : 0
                    slot = lists.append(list: list, id: UInt32(id),
                                        code: UnsafeRawBufferPointer(rebasing: all[(row * width + skip)..<((row + 1) * width)]))
                case .fastScan:
                    for b in 0..<blocks { fastCode[b] = all[row * width + b] }
                    slot = fastCode.withUnsafeBytes { lists.append(list: list, id: UInt32(id), code: $0) }
                }
                if let norms {
                    let m = blocks
                    let values = norms.values[(row * m)..<((row + 1) * m)]
                    listNorms?[list].append(contentsOf: values)
                }
                directMap.set(id, list: list, slot: slot)
                count += 1
            }
        }
    }

    /// The list of each row of `codes`: `known[i]` where given (>= 0), else the coarse quantizer's.
    private func lists(of codes: CodeMatrix, known: [Int32]?, threads: Int) -> [Int] {
        guard let known else { return coarse.assign(codes, codebooks: codebooks, threads: threads) }
        precondition(known.count == codes.count && known.allSatisfy { $0 < Int32(listCount) },
                     "IVFIndex: \(known.count) known lists for \(codes.count) codes, or a list outside 0..<\(listCount)")
        var lists = known.map { Int($0) }
        let missing = known.indices.filter { known[$0] < 0 }
        if !missing.isEmpty {
            for (j, list) in coarse.assign(codes.items(missing), codebooks: codebooks, threads: threads).enumerated() { lists[missing[j]] = list }
        }
        return lists
    }

    /// Every row of `codes` (ids 0..<n) into this empty index, list by list: a counting sort of the
    /// rows by list, then each list's ids and codes appended in one piece. The same entries in the
    /// same slots as `add` gives; per-entry appends were a third of a restart at 100M items.
    mutating func fill(codes: CodeMatrix, assigned known: [Int32]?, threads: Int) {
        precondition(count == 0 && codes.blocks == blocks && codes.bytesPerCode == bytesPerCode, "IVFIndex.fill: not an empty index of these codes")
        guard case .rows(let stored) = lists.layout else { preconditionFailure("IVFIndex.fill: rows layout only") }
        CodeValidation.requireCodes(codes, below: codebooks.size, caller: "IVFIndex.fill")
        let assigned = lists(of: codes, known: known, threads: threads)
        let n = codes.count, nlist = listCount
        var start = [Int](repeating: 0, count: nlist + 1)
        for l in assigned { start[l + 1] += 1 }
        for l in 0..<nlist { start[l + 1] += start[l] }
        var order = [UInt32](repeating: 0, count: n)
        var next = start
        for (row, l) in assigned.enumerated() { order[next[l]] = UInt32(row); next[l] += 1 }
        directMap.extend(to: n)
        let width = codes.bytesPerItem, skip = width - stored
        codes.bytes.withUnsafeBytes { all in
            for l in 0..<nlist where start[l + 1] > start[l] {
                let members = Array(order[start[l]..<start[l + 1]])
                let entryCodes = [UInt8](unsafeUninitializedCapacity: members.count * stored) { buffer, initialized in
                    if stored > 0 {
                        for (j, row) in members.enumerated() {
                            UnsafeMutableRawPointer(buffer.baseAddress! + j * stored)
                                .copyMemory(from: all.baseAddress! + Int(row) * width + skip, byteCount: stored)
                        }
                    }
                    initialized = members.count * stored
                }
                let first = lists.append(list: l, ids: members, codes: entryCodes)
                directMap.set(members, list: l, firstSlot: first)
            }
        }
        count = n
    }

    /// Removes the items with these ids (absent ids are ignored).
    public mutating func remove(_ ids: [Int]) {
        for id in ids where contains(id) { remove(id) }
    }

    /// Moves the entry of `id` to the number `newID` (which must be absent), keeping its list,
    /// code and norms: for callers that renumber items, as a row-compacting store does when
    /// its last row fills a removed row's place.
    public mutating func renumber(_ id: Int, to newID: Int) {
        guard id != newID, let (list, slot) = location(of: id) else { return }
        precondition(newID >= 0 && newID < Int(UInt32.max) && !contains(newID), "IVFIndex.renumber: \(newID) is taken or out of range")
        lists.setID(list: list, slot: slot, id: UInt32(newID))
        directMap.renumber(id, to: newID)
    }

    private mutating func remove(_ id: Int) {
        guard let (list, slot) = location(of: id) else { return }
        let moved = lists.remove(list: list, slot: slot)
        if listNorms != nil {
            let last = lists.size(list)  // the entry that moved was at the old last slot
            let m = blocks
            listNorms![list].withUnsafeMutableBufferPointer { p in
                if moved != nil { for j in 0..<m { p[slot * m + j] = p[last * m + j] } }
            }
            listNorms![list].removeLast(blocks)
        }
        if let moved { directMap.moved(Int(moved), list: list, slot: slot) }
        directMap.clear(id)
        count -= 1
    }
}

extension IVFIndex where Lists == ArrayInvertedLists {
    /// An empty in-memory index: `fastScan` keeps K = 16 codes in the packed fast-scan layout.
    public init(codebooks: Codebooks, coarse: CoarseQuantizer, blocks: Int, fastScan: Bool = false, keepsNorms: Bool = false) {
        let layout: ListCodeLayout
        if fastScan {
            layout = .fastScan(blocks: blocks)
        } else {
            let stored = coarse.kind == .firstBlock ? blocks - 1 : blocks
            layout = .rows(bytes: stored * CodeMatrix.bytesPerCode(codebookSize: codebooks.size))
        }
        self.init(codebooks: codebooks, coarse: coarse, blocks: blocks,
                  lists: ArrayInvertedLists(lists: coarse.listCount, layout: layout), keepsNorms: keepsNorms)
    }

    /// An in-memory index of every row of `codes`, item i under id i (as CodeScanner numbers
    /// them); `norms` given means kept (squared L2).
    public init(codes: CodeMatrix, norms: PrefixNorms? = nil, codebooks: Codebooks, coarse: CoarseQuantizer,
                fastScan: Bool = false, assigned: [Int32]? = nil, threads: Int = Cores.available) {
        self.init(codebooks: codebooks, coarse: coarse, blocks: codes.blocks, fastScan: fastScan, keepsNorms: norms != nil)
        if case .rows = lists.layout, norms == nil, codes.count >= 1_024 {
            fill(codes: codes, assigned: assigned, threads: threads)
        } else {
            add(codes: codes, ids: Array(0..<codes.count), norms: norms, assigned: assigned, threads: threads)
        }
    }
}
