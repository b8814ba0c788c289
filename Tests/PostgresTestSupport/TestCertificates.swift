// Certificates made by openssl at test time, in a fresh folder: a CA (ca.pem, ca.key), a server
// certificate for 127.0.0.1 and localhost signed by it (server.pem, server.key), and a client
// certificate signed by it (client.pem, client.key). For the gRPC server's TLS tests and for
// TLS to PostgreSQL.

import ChildProcesses
import Foundation

public enum TestCertificates {
    /// Makes the files and returns the folder; the caller removes it.
    public static func make() throws -> String {
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
        guard r.status == 0, !r.exit.wasSignalled else {
            throw PostgresServer.Failure("openssl is required to make test certificates (\(r.exit)): \(r.stderr)")
        }
        return dir
    }
}
