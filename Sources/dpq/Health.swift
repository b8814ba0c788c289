// dpq health: the standard gRPC health check plus the server's version.
import ArgumentParser
import DPQClient
import Foundation

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the server is serving.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Service to check (default: the whole server).") var service = ""

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let status = try await dpq.healthCheck(service: service)
            let info = try await dpq.serverInfo()
            if client.json { printJSON(["status": "\(status)", "version": info.version, "api": info.apiVersion]) }
            else { print("\(status) (dpq \(info.version), \(info.apiVersion))") }
            if status != .serving { throw DPQError(code: .unavailable, message: "not serving") }
        }
    }
}
