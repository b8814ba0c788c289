import DPQClient
import DPQServerSupport
import Foundation
import GRPCCore
import Testing

/// API keys: none or a wrong one is UNAUTHENTICATED, a read-only key cannot write, health needs no key.
@Suite(.serialized) struct AuthTests {
    static let writeKey = "w-0123456789abcdef-write"
    static let readKey = "r-0123456789abcdef-read"

    @Test func keysAreRequiredAndReadOnlyKeysCannotWrite() async throws {
        let keys = try APIKeys(parsing: "# keys\n\(Self.writeKey)\n\(Self.readKey) read\n")
        let f = try await ServerFixture.start(apiKeys: keys, clientKey: Self.writeKey)
        defer { f.removeData() }
        let writer = f.client
        try await writer.createCollection("secure", inputDimension: 16, model: smallModel())
        let q = Clusters.make(4, seed: 1)

        let anonymous = try DPQClient(host: "127.0.0.1", port: f.server.port)
        defer { anonymous.close() }
        #expect(try await anonymous.healthCheck() == .serving)
        await expectCode(.unauthenticated, "API key") { _ = try await anonymous.listCollections() }
        await expectCode(.unauthenticated) { _ = try await anonymous.serverInfo() }

        let wrong = try DPQClient(host: "127.0.0.1", port: f.server.port, apiKey: Self.writeKey + "x")
        defer { wrong.close() }
        await expectCode(.unauthenticated) { _ = try await wrong.collection("secure") }

        let reader = try DPQClient(host: "127.0.0.1", port: f.server.port, apiKey: Self.readKey)
        defer { reader.close() }
        #expect(try await reader.collection("secure").name == "secure")
        await expectCode(.permissionDenied, "read-only") {
            try await reader.upsert("secure", items: [NewItem(id: .number(1), vector: q.vectors[0], labels: [0])])
        }
        await expectCode(.permissionDenied) { try await reader.deleteCollection("secure") }
        await expectCode(.permissionDenied) { _ = try await reader.startTraining("secure") }
        // The write key may do both.
        let r = try await writer.upsert("secure", items: [NewItem(id: .number(1), vector: q.vectors[0], labels: [0])])
        #expect(r.inserted == 1)
        #expect(try await reader.count("secure") == 1)
        await f.stop()
    }

    @Test func keyFileErrorsNameTheLineNotTheKey() {
        #expect(throws: SettingsError.self) { try APIKeys(parsing: "short\n") }
        do { _ = try APIKeys(parsing: "\(Self.writeKey) admin\n"); Issue.record("accepted 'admin'") }
        catch { #expect("\(error)".contains("line 1") && !"\(error)".contains(Self.writeKey)) }
        #expect(throws: SettingsError.self) { try APIKeys(parsing: "# only a comment\n") }
    }
}
