// Options every client subcommand shares: where the server is, the deadline, JSON output.
import ArgumentParser
import DPQClient
import Foundation

struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Server address host:port, or several separated by commas (calls spread round robin; reads, searches, upserts and deletes retried on UNAVAILABLE) (default: $DPQ_ADDRESS or 127.0.0.1:50051).")
    var address: String?

    @Option(help: "Deadline of each call, in seconds.")
    var timeout: Double = 60

    @Flag(help: "Machine-readable JSON output.")
    var json = false

    @Option(name: .customLong("api-key"), help: "API key, when the server requires one (default: $DPQ_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("tls-ca"), help: "Connect with TLS, trusting this PEM CA.") var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "Client certificate (PEM) for mutual TLS.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Private key (PEM) of --tls-cert.") var tlsKey: String?

    var resolvedAddress: String { address ?? ProcessInfo.processInfo.environment["DPQ_ADDRESS"] ?? "127.0.0.1:50051" }

    func connect() throws -> DPQClient {
        try DPQClient(address: resolvedAddress, timeout: .milliseconds(Int64(timeout * 1000)),
                      apiKey: apiKey ?? ProcessInfo.processInfo.environment["DPQ_API_KEY"],
                      tls: tlsCA.map { ClientTLS(trustedCA: $0, certificate: tlsCert, privateKey: tlsKey) })
    }
}

/// Prints `value` as one line of JSON.
func printJSON(_ value: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])) ?? Data("null".utf8)
    print(String(decoding: data, as: UTF8.self))
}

/// Writes an error to stderr and exits non-zero (gRPC status code + 1, so scripts can tell them apart).
func fail(_ error: any Error) -> Never {
    if let e = error as? DPQError {
        FileHandle.standardError.write(Data("error: \(e.code): \(e.message)\n".utf8))
        exit(Int32(e.code.rawValue) + 1 > 1 ? Int32(e.code.rawValue) + 1 : 1)
    }
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

/// Runs a client body, reporting failures the CLI way.
enum DPQCLI {
    static func run(_ options: ClientOptions, _ body: (DPQClient) async throws -> Void) async {
        do {
            let client = try options.connect()
            defer { client.close() }
            try await body(client)
        } catch {
            fail(error)
        }
    }
}
