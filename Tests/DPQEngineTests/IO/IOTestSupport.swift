// Shared helpers for the data-file tests: temporary directories, running python3 for
// numpy cross-checks, locating the committed fixtures, and matching DataFileError messages.

import DPQEngine
import ChildProcesses
import Foundation
import Testing

enum IOTestSupport {
    /// Runs `body` with a fresh directory under the system temporary directory, then removes it.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("dpq-io-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    /// The package root: this file is <root>/Tests/DPQEngineTests/IO/IOTestSupport.swift.
    static func packageRoot(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Data files committed with the tests: <package root>/Tests/DPQEngineTests/Fixtures.
    static var fixtures: URL {
        packageRoot().appendingPathComponent("Tests/DPQEngineTests/Fixtures", isDirectory: true)
    }

    struct PythonError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `python3 -c script args...` and returns its stdout. Throws (so the calling test
    /// fails, never skips) when python3 or numpy is missing or the script fails.
    static func runPython(_ script: String, arguments: [String] = []) throws -> String {
        let r: ChildRun
        do {
            r = try ChildProcess.run(["python3", "-c", script] + arguments, timeout: 300)
        } catch {
            throw PythonError(description: "python3 with numpy is required for this test but could not be run: \(error)")
        }
        guard r.status == 0, !r.exit.wasSignalled else {
            if r.stderr.contains("No module named 'numpy'") || r.status == 127 {
                throw PythonError(description: "python3 with numpy is required for this test and is not available: \(r.stderr)")
            }
            throw PythonError(description: "python3 ended with \(r.exit): \(r.stderr)")
        }
        return r.stdout
    }

    /// The JSON object a Python snippet printed.
    static func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "python did not print a JSON object: \(text)")
    }

    static func doubles(_ value: Any?) -> [Double]? {
        (value as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }
    }

    /// Floats printed by Python as float.hex() strings: Foundation's JSON number parsing is not
    /// correctly rounded, hex is exact.
    static func hexDoubles(_ value: Any?) -> [Double]? {
        (value as? [Any])?.compactMap { ($0 as? String).flatMap(Double.init) }
    }

    static func ints(_ value: Any?) -> [Int]? {
        (value as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue }
    }
}

/// Expects `body` to throw a DataFileError whose message contains every fragment.
func expectDataFileError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a DataFileError mentioning \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DataFileError {
        for fragment in fragments where !error.message.contains(fragment) {
            Issue.record("error \"\(error.message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a DataFileError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Little-endian bytes of fixed-width values, for crafting files.
func leBytes<T: FixedWidthInteger>(_ values: T...) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

func leBytes(floats values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}
