// TLS for the server from PEM files: a certificate chain and its key, and optionally a CA whose
// client certificates are required (mutual TLS). Plaintext when absent.

import GRPCNIOTransportHTTP2

public struct TLSFiles: Sendable, Equatable {
    public var certificateChain: String
    public var privateKey: String
    /// When set, clients must present a certificate signed by this CA.
    public var clientCA: String?

    public init(certificateChain: String, privateKey: String, clientCA: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCA = clientCA
    }

    var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        let chain: [TLSConfig.CertificateSource] = [.file(path: certificateChain, format: .pem)]
        let key: TLSConfig.PrivateKeySource = .file(path: privateKey, format: .pem)
        guard let clientCA else { return .tls(certificateChain: chain, privateKey: key) }
        return .mTLS(certificateChain: chain, privateKey: key) { config in
            config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }
}
