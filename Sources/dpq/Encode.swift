// dpq encode / dpq decode: vectors to codes (hex) at a code length, and back.
import ArgumentParser
import DPQClient
import Foundation

struct Encode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encode vectors into codes (printed as hex).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @OptionGroup var input: VectorInput
    @Option(help: "Code length in bits (0 = the full code).") var bits = 0

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let vectors = try input.rows().map(\.vector)
            let codes = if let bytes = byteRows(vectors) {
                try await dpq.encode(collection, pixels: bytes, bits: bits)
            } else {
                try await dpq.encode(collection, vectors: vectors, bits: bits)
            }
            let hex = codes.map { $0.map { String(format: "%02x", $0) }.joined() }
            if client.json { printJSON(hex) } else { hex.forEach { print($0) } }
        }
    }
}

/// The bytes of a hex string (as `dpq encode` prints codes).
func hexBytes(_ h: String, what: String) throws -> [UInt8] {
    guard h.count % 2 == 0 else { throw ValidationError("\(what): odd number of hex digits") }
    var out: [UInt8] = []
    out.reserveCapacity(h.count / 2)
    var idx = h.startIndex
    while idx < h.endIndex {
        let next = h.index(idx, offsetBy: 2)
        guard let b = UInt8(h[idx..<next], radix: 16) else { throw ValidationError("\(what): '\(h)' is not hex") }
        out.append(b)
        idx = next
    }
    return out
}

struct Decode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode hex codes (arguments or stdin lines) into vectors.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @Argument(help: "Codes in hex; read from stdin when none.") var codes: [String] = []
    @Option(help: "Code length in bits (0 = the full code).") var bits = 0

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            var hex = codes
            if hex.isEmpty { while let line = readLine() { if !line.isEmpty { hex.append(line.trimmingCharacters(in: .whitespaces)) } } }
            let bytes = try hex.enumerated().map { i, h in try hexBytes(h, what: "code \(i + 1)") }
            let vectors = try await dpq.decode(collection, codes: bytes, bits: bits)
            if client.json { printJSON(vectors) } else { vectors.forEach { print($0.map { String($0) }.joined(separator: ",")) } }
        }
    }
}
