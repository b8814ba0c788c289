// An HTTP/2 client written frame by frame over a blocking socket: it does what a conforming
// client would not (open streams past the advertised limit) and shows every frame the server
// sends, which no gRPC library exposes. Header blocks use HPACK literals without indexing, so
// no encoder state is needed; the server's header blocks are not decoded (tests look at frame
// types, flags, stream ids and error codes).

import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct RawFrame: CustomStringConvertible {
    static let data: UInt8 = 0, headers: UInt8 = 1, rstStream: UInt8 = 3, settings: UInt8 = 4
    static let ping: UInt8 = 6, goAway: UInt8 = 7, windowUpdate: UInt8 = 8
    static let endStream: UInt8 = 0x1, ack: UInt8 = 0x1, endHeaders: UInt8 = 0x4

    var type: UInt8
    var flags: UInt8
    var stream: UInt32
    var payload: [UInt8]

    func u32(at i: Int) -> UInt32 { payload[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
    /// RST_STREAM's error code; GOAWAY's is at offset 4, after the last stream id.
    var errorCode: UInt32 { type == Self.goAway ? u32(at: 4) : u32(at: 0) }
    var lastStreamID: UInt32 { u32(at: 0) & 0x7fff_ffff }
    /// SETTINGS entries, identifier -> value.
    var settings: [UInt16: UInt32] {
        var out: [UInt16: UInt32] = [:]
        for i in stride(from: 0, to: payload.count - 5, by: 6) {
            out[UInt16(payload[i]) << 8 | UInt16(payload[i + 1])] = u32(at: i + 2)
        }
        return out
    }
    var description: String { "frame(type \(type), flags \(flags), stream \(stream), \(payload.count) bytes)" }
}

struct RawHTTP2Error: Error, CustomStringConvertible {
    var description: String
}

final class RawHTTP2Connection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeout: TimeInterval = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTP2Error(description: "socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            throw RawHTTP2Error(description: "connect to port \(port) failed: errno \(errno)")
        }
        var tv = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
        try sendFrame(type: RawFrame.settings, flags: 0, stream: 0, payload: [])
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawHTTP2Error(description: "send failed: errno \(errno)") }
            sent += n
        }
    }

    func sendFrame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) throws {
        let n = payload.count
        var frame: [UInt8] = [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags]
        frame += withUnsafeBytes(of: stream.bigEndian, Array.init)
        try send(frame + payload)
    }

    /// HEADERS for a gRPC call to `path`: one block, literal fields without indexing.
    func sendRequestHeaders(stream: UInt32, path: String, endStream: Bool = false) throws {
        let fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                      ("content-type", "application/grpc"), ("te", "trailers")]
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            block.append(UInt8(name.utf8.count)); block += Array(name.utf8)
            block.append(UInt8(value.utf8.count)); block += Array(value.utf8)
        }
        try sendFrame(type: RawFrame.headers, flags: RawFrame.endHeaders | (endStream ? RawFrame.endStream : 0),
                      stream: stream, payload: block)
    }

    /// One gRPC message (uncompressed, length-prefixed) in a DATA frame.
    func sendMessage(stream: UInt32, _ message: [UInt8], endStream: Bool) throws {
        let n = UInt32(message.count)
        try sendFrame(type: RawFrame.data, flags: endStream ? RawFrame.endStream : 0, stream: stream,
                      payload: [0] + withUnsafeBytes(of: n.bigEndian, Array.init) + message)
    }

    /// The next frame; throws on timeout or when the server closes the connection.
    func readFrame() throws -> RawFrame {
        try fill(9)
        let length = Int(buffer[0]) << 16 | Int(buffer[1]) << 8 | Int(buffer[2])
        try fill(9 + length)
        let stream = buffer[5..<9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
        let frame = RawFrame(type: buffer[3], flags: buffer[4], stream: stream, payload: Array(buffer[9..<9 + length]))
        buffer.removeFirst(9 + length)
        return frame
    }

    /// Reads frames until `done` returns true for one (returned); PINGs are answered on the way,
    /// as a conforming peer must.
    func readUntil(_ done: (RawFrame) -> Bool, seen: (RawFrame) -> Void = { _ in }) throws -> RawFrame {
        while true {
            let f = try readFrame()
            seen(f)
            if f.type == RawFrame.ping && f.flags & RawFrame.ack == 0 {
                try sendFrame(type: RawFrame.ping, flags: RawFrame.ack, stream: 0, payload: f.payload)
            }
            if done(f) { return f }
        }
    }

    private func fill(_ count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while buffer.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw RawHTTP2Error(description: "the server closed the connection") }
            guard n > 0 else { throw RawHTTP2Error(description: "recv failed or timed out: errno \(errno)") }
            buffer += chunk[0..<n]
        }
    }
}
