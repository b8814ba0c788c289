// A one-line progress bar on stderr for terminals; plain lines (at most one a second) otherwise.
import Foundation
import Synchronization

final class ProgressBar: Sendable {
    let enabled: Bool
    private let lastPlain = Mutex(Date.distantPast)

    init(enabled: Bool) { self.enabled = enabled }

    func update(fraction: Double, text: String) {
        let f = min(max(fraction, 0), 1)
        if enabled {
            let width = 30
            let filled = Int(f * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r[%@] %3.0f%% %@\u{1B}[K", bar, f * 100, text).utf8))
            return
        }
        let due = lastPlain.withLock { last in
            guard Date().timeIntervalSince(last) >= 1 || f >= 1 else { return false }
            last = Date()
            return true
        }
        if due { FileHandle.standardError.write(Data(String(format: "%3.0f%% %@\n", f * 100, text).utf8)) }
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
