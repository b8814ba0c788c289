// Optional API-key authentication. Clients send `authorization: Bearer <key>`; every RPC but
// health checks needs a valid key (UNAUTHENTICATED otherwise), and a read-only key may call only
// the methods that change nothing (PERMISSION_DENIED otherwise). Keys are compared in constant
// time (every key, every byte) and never logged.
//
// Key file: one key per line, optionally followed by a space and `read` (read-only) or `write`
// (the default); blank lines and lines starting with '#' are ignored.

import DPQProto
import GRPCCore

public struct APIKeys: Sendable, Equatable {
    public enum Access: String, Sendable { case read, write }
    public struct Key: Sendable, Equatable {
        let bytes: [UInt8]
        public let access: Access
        public init(_ key: String, access: Access) { bytes = Array(key.utf8); self.access = access }
    }
    public var keys: [Key]

    public init(keys: [Key]) { self.keys = keys }

    /// Parses a key file's text; errors name the line, never the key.
    public init(parsing text: String) throws {
        var keys: [Key] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count <= 2, parts[0].count >= 16 else {
                throw SettingsError("API key file, line \(n + 1): expected '<key> [read|write]' with a key of at least 16 characters")
            }
            let access: Access
            if parts.count == 2 {
                guard let a = Access(rawValue: String(parts[1])) else {
                    throw SettingsError("API key file, line \(n + 1): access must be 'read' or 'write'")
                }
                access = a
            } else {
                access = .write
            }
            keys.append(Key(String(parts[0]), access: access))
        }
        guard !keys.isEmpty else { throw SettingsError("API key file: no key in it") }
        self.keys = keys
    }

    /// The access of `presented`, or nil; looks at every key and every byte whatever matches.
    func access(of presented: [UInt8]) -> Access? {
        var found: Access?
        for key in keys {
            var diff = UInt8(key.bytes.count == presented.count ? 0 : 1)
            for i in 0..<key.bytes.count {
                diff |= key.bytes[i] ^ (i < presented.count ? presented[i] : 0)
            }
            if diff == 0 { found = found ?? key.access }
        }
        return found
    }
}

public struct APIKeyAuth: ServerInterceptor {
    public let keys: APIKeys

    /// Methods a read-only key may call: everything that changes nothing.
    static let writeMethods: Set<String> = [
        "dpq.v1.CollectionService/CreateCollection", "dpq.v1.CollectionService/DeleteCollection",
        "dpq.v1.TrainingService/UploadTrainingData", "dpq.v1.TrainingService/DeleteTrainingData",
        "dpq.v1.TrainingService/StartTraining", "dpq.v1.TrainingService/CancelTraining",
        "dpq.v1.ItemService/UpsertItems", "dpq.v1.ItemService/UpsertItemsStream", "dpq.v1.ItemService/DeleteItems",
        "dpq.v1.ModelService/ImportModel",
    ]

    public init(keys: APIKeys) { self.keys = keys }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if context.descriptor.service.fullyQualifiedService == Grpc_Health_V1_Health.descriptor.fullyQualifiedService {
            return try await next(request, context)
        }
        var presented: [UInt8] = []
        for value in request.metadata[stringValues: "authorization"] {
            let bytes = Array(value.utf8)
            let prefix = Array("Bearer ".utf8)
            if bytes.count > prefix.count && Array(bytes[0..<prefix.count]) == prefix {
                presented = Array(bytes[prefix.count...])
            }
        }
        guard !presented.isEmpty, let access = keys.access(of: presented) else {
            throw RPCError(code: .unauthenticated, message: "missing or invalid API key: send 'authorization: Bearer <key>'")
        }
        let method = "\(context.descriptor.service.fullyQualifiedService)/\(context.descriptor.method)"
        if access == .read && Self.writeMethods.contains(method) {
            throw RPCError(code: .permissionDenied, message: "\(method) changes data and the API key is read-only")
        }
        return try await next(request, context)
    }
}
