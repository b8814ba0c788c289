// The JSON log handler's lines parse as JSON and carry the documented fields.
import DPQServerSupport
import Foundation
import Logging
import Synchronization
import Testing

final class LineSink: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { self.lines.withLock { $0 } }
    func append(_ line: String) { self.lines.withLock { $0.append(line) } }
}

@Suite struct JSONLogHandlerTests {
    @Test func lineIsOneParsableJSONObject() throws {
        let sink = LineSink()
        var logger = Logger(label: "dpq.test") { label in
            JSONLogHandler(label: label, sink: { sink.append($0) })
        }
        logger.logLevel = .debug
        logger[metadataKey: "collection"] = "c1"
        logger.debug("trace me")
        logger.trace("dropped: below level")
        logger.info(
            "said \"hi\"\nnext line \u{1}",
            metadata: ["rpc": ["method": "dpq.v1.SearchService/Search", "code": "ok"], "level": "clash", "ids": ["a", "b"]]
        )
        let lines = sink.all
        try #require(lines.count == 2)
        #expect(!lines[1].contains("\n"))

        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "dpq.test")
        #expect(object["message"] as? String == "said \"hi\"\nnext line \u{1}")
        #expect(object["source"] as? String == "DPQServerSupportTests")
        #expect(object["collection"] as? String == "c1")
        #expect(object["rpc.method"] as? String == "dpq.v1.SearchService/Search")
        #expect(object["rpc.code"] as? String == "ok")
        #expect(object["metadata.level"] as? String == "clash")
        #expect(object["ids"] as? [String] == ["a", "b"])
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(parser.date(from: timestamp))
        #expect(abs(date.timeIntervalSinceNow) < 60)
    }
}
