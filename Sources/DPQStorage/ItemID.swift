// The identity of an item inside a collection: a number or a string, never both.
// Strings are bounded and free of control characters so that every id can be shown in a
// log line or an error message as is, and stored in a SQLite TEXT column without surprises.

public enum ItemID: Hashable, Sendable, Codable, CustomStringConvertible {
    case number(UInt64)
    case string(String)

    public static let maxStringBytes = 256

    /// Throws invalidArgument unless `id` is acceptable (strings: 1...256 bytes of UTF-8, no
    /// control characters). Numbers are always acceptable.
    public static func validate(_ id: ItemID) throws {
        guard case .string(let s) = id else { return }
        let bytes = s.utf8.count
        guard bytes >= 1 else { throw StorageError.invalidArgument("id: a string id must not be empty") }
        guard bytes <= maxStringBytes else {
            throw StorageError.invalidArgument("id: string id of \(bytes) bytes is longer than \(maxStringBytes) bytes")
        }
        if let bad = s.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            throw StorageError.invalidArgument("id: string id contains control character U+\(String(bad.value, radix: 16, uppercase: true))")
        }
    }

    /// Whether `ids` are numbers in strictly ascending order (below `limit` when given), as bulk
    /// loads number their items: such a batch repeats no id and, above every stored id, is new.
    public static func ascendNumerically(_ ids: some Sequence<ItemID>, below limit: UInt64? = nil) -> Bool {
        var previous: UInt64?
        for id in ids {
            guard case .number(let n) = id, limit.map({ n < $0 }) ?? true, previous.map({ n > $0 }) ?? true else { return false }
            previous = n
        }
        return true
    }

    /// For messages: numbers bare, strings quoted, so 42 and "42" stay distinguishable.
    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .string(let s): return "\"\(s)\""
        }
    }
}
