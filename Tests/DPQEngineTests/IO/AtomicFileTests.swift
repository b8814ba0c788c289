// AtomicFile: a replacement leaves the whole new file and no temporary behind; a failed one leaves
// the old file and no temporary, and names the failing step, its errno and path.

import DPQEngine
import Foundation
import Testing

@Suite struct AtomicFileTests {
    @Test func replacesWholeFileAndLeavesNoTemporary() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            let target = dir.appendingPathComponent("f.bin").path
            try AtomicFile.replace(target, with: Data([1, 2, 3]))
            try AtomicFile.replace(target, with: Data(repeating: 7, count: 1 << 20))
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(repeating: 7, count: 1 << 20))
            try AtomicFile.replace(target, with: Data())
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)).isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["f.bin"])
        }
    }

    @Test func failuresNameTheStepAndKeepTheOldFile() throws {
        try IOTestSupport.withTemporaryDirectory { dir in
            // No such directory: the temporary cannot be created.
            let missing = dir.appendingPathComponent("nope/f.bin").path
            do throws(AtomicFile.Failure) {
                try AtomicFile.replace(missing, with: Data([1]))
                Issue.record("replace into a missing directory succeeded")
            } catch {
                #expect(error.step == .createTemporary && error.code == ENOENT)
                #expect(error.path.hasPrefix(dir.appendingPathComponent("nope/\(AtomicFile.temporaryPrefix)f.bin-").path))
                #expect(error.reason.hasSuffix("(errno \(ENOENT))"))
            }
            // The target is a non-empty directory: the rename fails, the directory and its file stay.
            let target = dir.appendingPathComponent("d")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
            try Data([9]).write(to: target.appendingPathComponent("inside"))
            do throws(AtomicFile.Failure) {
                try AtomicFile.replace(target.path, with: Data([1]))
                Issue.record("replace of a directory succeeded")
            } catch {
                #expect(error.step == .rename && error.path == target.path)
            }
            #expect(try Data(contentsOf: target.appendingPathComponent("inside")) == Data([9]))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["d"])
            do throws(AtomicFile.Failure) {
                try AtomicFile.syncDirectory(missing)
                Issue.record("fsync of a missing directory succeeded")
            } catch {
                #expect(error.step == .openDirectory && error.code == ENOENT && error.path == missing)
            }
        }
    }
}
