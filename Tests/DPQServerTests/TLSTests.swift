import DPQClient
import DPQServer
import Foundation
import GRPCCore
import PostgresTestSupport
import Testing

/// TLS and mutual TLS with certificates made by openssl at test time.
@Suite(.serialized) struct TLSTests {
    @Test func tlsAndMutualTLS() async throws {
        let dir = try TestCertificates.make()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ca = dir + "/ca.pem"

        // TLS: a client trusting the CA works; a plaintext client does not get through.
        let f = try await ServerFixture.start(tls: TLSFiles(certificateChain: dir + "/server.pem", privateKey: dir + "/server.key"),
                                              clientTLS: ClientTLS(trustedCA: ca))
        #expect(try await f.client.healthCheck() == .serving)
        try await f.client.createCollection("tls", inputDimension: 4)
        #expect(try await f.client.listCollections().map(\.name) == ["tls"])
        let plain = try DPQClient(host: "127.0.0.1", port: f.server.port, timeout: .seconds(5))
        await #expect(throws: DPQError.self) { _ = try await plain.listCollections() }
        plain.close()
        await f.stop()
        f.removeData()

        // Mutual TLS: without a client certificate the handshake fails; with one signed by the CA it works.
        let g = try await ServerFixture.start(
            tls: TLSFiles(certificateChain: dir + "/server.pem", privateKey: dir + "/server.key", clientCA: ca),
            clientTLS: ClientTLS(trustedCA: ca, certificate: dir + "/client.pem", privateKey: dir + "/client.key"))
        defer { g.removeData() }
        #expect(try await g.client.healthCheck() == .serving)
        let anonymous = try DPQClient(host: "127.0.0.1", port: g.server.port, timeout: .seconds(5), tls: ClientTLS(trustedCA: ca))
        await #expect(throws: DPQError.self) { _ = try await anonymous.listCollections() }
        anonymous.close()
        await g.stop()
    }
}
