import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

@Suite struct ValidationTests {
    @Test(arguments: ["../x", "", "a/b", String(repeating: "a", count: 65), ".", "..", "-a", "_a", "a b", "é", ".a", "a/.."])
    func invalidCollectionNamesAreRejected(_ name: String) {
        let e = Fixtures.storageError { try CollectionName.validate(name) }
        #expect(e?.kind == "invalidArgument")
    }

    @Test(arguments: ["a", "A9", "my-collection_2", String(repeating: "z", count: 64), "0"])
    func validCollectionNamesAreAccepted(_ name: String) throws {
        try CollectionName.validate(name)
    }

    @Test func itemIDs() throws {
        try ItemID.validate(.number(0))
        try ItemID.validate(.number(.max))
        try ItemID.validate(.string("x"))
        try ItemID.validate(.string(String(repeating: "é", count: 128)))       // 256 bytes
        #expect(Fixtures.storageError { try ItemID.validate(.string("")) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try ItemID.validate(.string(String(repeating: "é", count: 129))) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try ItemID.validate(.string("a\nb")) }?.kind == "invalidArgument")
        #expect(Fixtures.storageError { try ItemID.validate(.string("a\u{7f}")) }?.kind == "invalidArgument")
    }

    @Test func configValidationNamesTheField() {
        var c = Fixtures.config()
        c.model.codebookSize = 17
        let e = Fixtures.storageError { try c.validate() }
        #expect(e?.kind == "invalidArgument")
        #expect(e?.description.contains("codebook_size") == true)
    }

    @Test func configRoundTripsThroughJSON() throws {
        let c = Fixtures.config()
        let back = try CollectionConfig.decoder.decode(CollectionConfig.self, from: CollectionConfig.encoder.encode(c))
        #expect(back == c)
    }
}
