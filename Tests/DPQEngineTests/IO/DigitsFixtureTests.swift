// Reads a real data set committed under Tests/DPQEngineTests/Fixtures/digits (the digits query
// split): the same 100 x 64 query vectors as .fvecs and .bvecs (raw counts 0...16), and labels.

import DPQEngine
import Foundation
import Testing

@Suite struct DigitsFixtureTests {
    static let digits = IOTestSupport.fixtures.appendingPathComponent("digits", isDirectory: true)

    @Test func queryVectorsAgreeAcrossFormats() throws {
        let fvecs = try VectorFile.readFvecs(Self.digits.appendingPathComponent("query.fvecs").path)
        let bvecs = try VectorFile.readBvecs(Self.digits.appendingPathComponent("query.bvecs").path)
        #expect(fvecs.rows == 100 && fvecs.cols == 64)
        #expect(bvecs == fvecs)
        #expect(fvecs.values.allSatisfy { $0 >= 0 && $0 <= 16 && $0 == $0.rounded() })
        #expect(try VectorFile.read(Self.digits.appendingPathComponent("query.bvecs").path) == fvecs)
    }

    @Test func queryLabels() throws {
        let labels = try VectorFile.readLabels(Self.digits.appendingPathComponent("query_labels.ivecs").path)
        #expect(labels.count == 100)
        #expect(labels.allSatisfy { (0...9).contains($0) })
        #expect(Set(labels).count == 10)
        _ = Labels(single: labels, classCount: 10)
    }
}
