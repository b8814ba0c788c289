// grpc.reflection.v1 ServerReflection, answered from the descriptor set embedded in DPQProto
// (DPQDescriptorSet.bytes), so tools like grpcurl and Postman can discover the API without the
// .proto files. grpc-swift-extras (which has a reflection service) is not in the package mirror.
//
// Design notes:
// - Everything is indexed once in init into immutable dictionaries, so the service is a plain
//   Sendable struct and each request is a couple of lookups.
// - Every file answer carries the file plus its transitive imports (first the file itself), as
//   clients need them to build a descriptor pool; resending a file on the same stream is harmless.
// - Lookup failures are answered in-band as ErrorResponse NOT_FOUND, as the protocol requires,
//   rather than failing the whole bidi stream.
import DPQProto
import Foundation
import GRPCCore
import SwiftProtobuf

public struct ReflectionService: Grpc_Reflection_V1_ServerReflection.SimpleServiceProtocol {
    public enum ReflectionError: Error, CustomStringConvertible {
        case unknownService(String)
        public var description: String {
            switch self {
            case .unknownService(let name): "served service '\(name)' is not in the descriptor set"
            }
        }
    }

    private let files: [String: Data]           // file name -> serialized FileDescriptorProto
    private let dependencies: [String: [String]]
    private let symbols: [String: String]       // fully-qualified symbol -> file name
    private let messageTypes: Set<String>
    private let services: [String]

    /// - Parameters:
    ///   - services: fully-qualified names of the services the server serves, as listed by
    ///     list_services (e.g. "dpq.v1.SearchService"). Each must be described in the set.
    ///   - descriptorSet: a serialized google.protobuf.FileDescriptorSet including imports.
    public init(services: [String], descriptorSet: [UInt8] = DPQDescriptorSet.bytes) throws {
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: descriptorSet)
        var files: [String: Data] = [:]
        var deps: [String: [String]] = [:]
        var symbols: [String: String] = [:]
        var messageTypes: Set<String> = []

        func addEnum(_ e: Google_Protobuf_EnumDescriptorProto, _ prefix: String, _ file: String) {
            symbols[prefix + e.name] = file
        }
        func addMessage(_ m: Google_Protobuf_DescriptorProto, _ prefix: String, _ file: String) {
            let name = prefix + m.name
            symbols[name] = file
            messageTypes.insert(name)
            for nested in m.nestedType { addMessage(nested, name + ".", file) }
            for e in m.enumType { addEnum(e, name + ".", file) }
        }
        for f in set.file {
            let bytes: Data = try f.serializedBytes()
            files[f.name] = bytes
            deps[f.name] = f.dependency
            let prefix = f.package.isEmpty ? "" : f.package + "."
            for m in f.messageType { addMessage(m, prefix, f.name) }
            for e in f.enumType { addEnum(e, prefix, f.name) }
            for s in f.service {
                symbols[prefix + s.name] = f.name
                for m in s.method { symbols[prefix + s.name + "." + m.name] = f.name }
            }
        }
        for name in services where symbols[name] == nil {
            throw ReflectionError.unknownService(name)
        }
        self.files = files
        self.dependencies = deps
        self.symbols = symbols
        self.messageTypes = messageTypes
        self.services = services
    }

    /// The file first, then its transitive imports, each once.
    private func closure(of name: String) -> [Data] {
        var seen: Set<String> = []
        var order: [String] = []
        var stack = [name]
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            order.append(next)
            stack.append(contentsOf: (self.dependencies[next] ?? []).reversed())
        }
        return order.compactMap { self.files[$0] }
    }

    /// The answer to one reflection request (exposed for tests and in-process use).
    public func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest)
        -> Grpc_Reflection_V1_ServerReflectionResponse
    {
        var out = Grpc_Reflection_V1_ServerReflectionResponse()
        out.validHost = request.host
        out.originalRequest = request
        func error(_ code: RPCError.Code, _ message: String) {
            out.errorResponse = .with {
                $0.errorCode = Int32(code.rawValue)
                $0.errorMessage = message
            }
        }
        switch request.messageRequest {
        case .listServices:
            out.listServicesResponse = .with { r in r.service = self.services.map { n in .with { $0.name = n } } }
        case .fileByFilename(let name):
            if self.files[name] != nil {
                out.fileDescriptorResponse = .with { $0.fileDescriptorProto = self.closure(of: name) }
            } else {
                error(.notFound, "file not found: \(name)")
            }
        case .fileContainingSymbol(let symbol):
            if let file = self.symbols[symbol] {
                out.fileDescriptorResponse = .with { $0.fileDescriptorProto = self.closure(of: file) }
            } else {
                error(.notFound, "symbol not found: \(symbol)")
            }
        case .fileContainingExtension(let e):
            // The DPQ protos declare no extensions.
            error(.notFound, "extension \(e.extensionNumber) of \(e.containingType) not found")
        case .allExtensionNumbersOfType(let type):
            if self.messageTypes.contains(type) {
                out.allExtensionNumbersResponse = .with { $0.baseTypeName = type }
            } else {
                error(.notFound, "message type not found: \(type)")
            }
        case nil:
            error(.invalidArgument, "empty reflection request")
        }
        return out
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            try await response.write(self.answer(message))
        }
    }
}
