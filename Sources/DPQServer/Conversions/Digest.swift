// SHA-256 of model files, reported in exports and summaries so clients can verify transfers.
import Crypto
import Foundation

enum Digest {
    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
