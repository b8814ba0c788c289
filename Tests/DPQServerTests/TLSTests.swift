import DPQClient
import DPQServer
import ChildProcesses
import Foundation
import GRPCCore
import Testing

/// TLS and mutual TLS with certificates made by openssl at test time.
@Suite(.serialized) struct TLSTests {
    /// A CA, a server certificate for 127.0.0.1 / localhost and a client certificate, in a fresh folder.
    static func makeCertificates() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dpq-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
        set -e
        cd '\(dir)'
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=dpq-test-ca 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=dpq-test-client 2>/dev/null
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
        """
        let r = try ChildProcess.run(["/bin/sh", "-c", script], timeout: 300)
        try #require(r.status == 0 && !r.exit.wasSignalled, "openssl is required to make test certificates: \(r.stderr)")
        return dir
    }

    @Test func tlsAndMutualTLS() async throws {
        let dir = try Self.makeCertificates()
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
