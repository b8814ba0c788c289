// grpc.reflection.v1 (and v1alpha) over a real HTTP/2 loopback connection: list_services, file_containing_symbol
// (service, method, message, nested enum), file_by_filename, and NOT_FOUND answers.
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

@Suite struct ReflectionServiceTests {
    static let served = [
        "dpq.v1.CollectionService", "dpq.v1.TrainingService", "dpq.v1.ItemService", "dpq.v1.SearchService",
        "dpq.v1.ModelService", "dpq.v1.ServerInfoService", "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ]

    @Test func listServicesAndFileContainingSymbolOverHTTP2() async throws {
        let reflection = try ReflectionService(services: Self.served)
        let answers = try await withLoopbackServer(services: [reflection]) { client in
            let r = Grpc_Reflection_V1_ServerReflection.Client(wrapping: client)
            return try await r.serverReflectionInfo(requestProducer: { writer in
                try await writer.write(.with { $0.host = "localhost"; $0.listServices = "*" })
                try await writer.write(.with { $0.fileContainingSymbol = "dpq.v1.SearchService" })
                try await writer.write(.with { $0.fileContainingSymbol = "dpq.v1.SearchService.Search" })
                try await writer.write(.with { $0.fileByFilename = "dpq/v1/search.proto" })
                try await writer.write(.with { $0.fileContainingSymbol = "dpq.v1.NoSuchThing" })
                try await writer.write(.with { $0.fileByFilename = "nope.proto" })
            }, onResponse: { response in
                var out: [Grpc_Reflection_V1_ServerReflectionResponse] = []
                for try await message in response.messages { out.append(message) }
                return out
            })
        }
        try #require(answers.count == 6)

        #expect(answers[0].validHost == "localhost")
        #expect(Set(answers[0].listServicesResponse.service.map(\.name)) == Set(Self.served))

        for answer in answers[1...3] {
            let files = try answer.fileDescriptorResponse.fileDescriptorProto.map {
                try Google_Protobuf_FileDescriptorProto(serializedBytes: $0)
            }
            #expect(files.first?.name == "dpq/v1/search.proto")
            #expect(files.first?.service.map(\.name).contains("SearchService") == true)
            // Imports come along, so a client can build a complete pool.
            #expect(files.map(\.name).contains("dpq/v1/common.proto"))
            #expect(Set(files.map(\.name)).count == files.count)
        }

        #expect(answers[4].errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
        #expect(answers[4].errorResponse.errorMessage.contains("dpq.v1.NoSuchThing"))
        #expect(answers[5].errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
    }

    /// v1alpha, served beside v1 from the same descriptors, answers the same.
    @Test func v1alphaOverHTTP2() async throws {
        let reflection = try ReflectionService(services: Self.served)
        let answers = try await withLoopbackServer(services: [reflection, ReflectionServiceV1Alpha(reflection)]) { client in
            let r = Grpc_Reflection_V1alpha_ServerReflection.Client(wrapping: client)
            return try await r.serverReflectionInfo(requestProducer: { writer in
                try await writer.write(.with { $0.host = "h"; $0.listServices = "*" })
                try await writer.write(.with { $0.fileContainingSymbol = "dpq.v1.SearchService.Search" })
                try await writer.write(.with { $0.fileContainingSymbol = "grpc.reflection.v1alpha.ServerReflection" })
                try await writer.write(.with { $0.fileContainingSymbol = "dpq.v1.NoSuchThing" })
            }, onResponse: { response in
                var out: [Grpc_Reflection_V1alpha_ServerReflectionResponse] = []
                for try await message in response.messages { out.append(message) }
                return out
            })
        }
        try #require(answers.count == 4)
        #expect(answers[0].validHost == "h" && answers[0].originalRequest.listServices == "*")
        #expect(Set(answers[0].listServicesResponse.service.map(\.name)) == Set(Self.served))
        let search = try answers[1].fileDescriptorResponse.fileDescriptorProto.map {
            try Google_Protobuf_FileDescriptorProto(serializedBytes: $0)
        }
        #expect(search.first?.name == "dpq/v1/search.proto" && search.map(\.name).contains("dpq/v1/common.proto"))
        let own = try answers[2].fileDescriptorResponse.fileDescriptorProto.map {
            try Google_Protobuf_FileDescriptorProto(serializedBytes: $0)
        }
        #expect(own.first?.name == "grpc/reflection/v1alpha/reflection.proto")
        #expect(answers[3].errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
    }

    @Test func everyDescribedSymbolResolves() throws {
        let reflection = try ReflectionService(services: Self.served)
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: DPQDescriptorSet.bytes)
        var checked = 0
        for file in set.file where file.package == "dpq.v1" {
            for message in file.messageType {
                let answer = reflection.answer(.with { $0.fileContainingSymbol = "dpq.v1." + message.name })
                let first = try Google_Protobuf_FileDescriptorProto(
                    serializedBytes: try #require(answer.fileDescriptorResponse.fileDescriptorProto.first))
                #expect(first.name == file.name)
                for nested in message.enumType {
                    let a = reflection.answer(.with { $0.fileContainingSymbol = "dpq.v1.\(message.name).\(nested.name)" })
                    #expect(!a.fileDescriptorResponse.fileDescriptorProto.isEmpty)
                }
                checked += 1
            }
            for e in file.enumType {
                let a = reflection.answer(.with { $0.fileContainingSymbol = "dpq.v1." + e.name })
                #expect(!a.fileDescriptorResponse.fileDescriptorProto.isEmpty, "enum \(e.name)")
            }
        }
        #expect(checked > 10)
        let ext = reflection.answer(.with { $0.allExtensionNumbersOfType = "dpq.v1.SearchRequest" })
        #expect(ext.allExtensionNumbersResponse.baseTypeName == "dpq.v1.SearchRequest")
        #expect(throws: ReflectionService.ReflectionError.self) {
            _ = try ReflectionService(services: ["dpq.v1.Missing"])
        }
    }
}
