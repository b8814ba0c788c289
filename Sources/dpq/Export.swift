// dpq export / dpq import: the model as a safetensors file.
import ArgumentParser
import DPQClient
import Foundation

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Save a collection's model to a safetensors file.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @Argument(help: "Output file.") var output: String

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let data = try await dpq.exportModel(collection)
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
            if client.json { printJSON(["bytes": data.count, "path": output]) } else { print("wrote \(data.count) bytes to \(output)") }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a safetensors model into a collection.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "Collection name.") var collection: String
    @Argument(help: "Model file.") var input: String
    @Flag(help: "Create the collection when missing.") var create = false
    @Flag(help: "Keep original vectors (with --create).") var keepVectors = false

    func run() async throws {
        await DPQCLI.run(client) { dpq in
            let data = try Data(contentsOf: URL(fileURLWithPath: input))
            let r = try await dpq.importModel(collection, data: data, createIfMissing: create, keepVectors: keepVectors)
            if client.json { printProto(r) } else { print("imported \(r.bytesReceived) bytes into \(r.collection)\(r.created ? " (created)" : ""); \(r.itemsEncoded) items re-encoded") }
        }
    }
}
