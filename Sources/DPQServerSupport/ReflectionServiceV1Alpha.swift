// grpc.reflection.v1alpha.ServerReflection, served beside v1 from the same embedded descriptors.
// grpcio-reflection's ProtoReflectionDescriptorDatabase, older grpcurl builds and several GUI
// clients speak only v1alpha; grpc-go and grpc-java servers register both versions.
//
// v1 was published as a copy of v1alpha with the package renamed: every message has the same
// fields with the same numbers, so a v1alpha request re-read as v1 bytes is the same request, and
// the v1 answer re-read as v1alpha is the same answer. One implementation (ReflectionService.answer)
// serves both.
import DPQProto
import GRPCCore
import SwiftProtobuf

public struct ReflectionServiceV1Alpha: Grpc_Reflection_V1alpha_ServerReflection.SimpleServiceProtocol {
    private let v1: ReflectionService

    public init(_ v1: ReflectionService) { self.v1 = v1 }

    public func answer(_ request: Grpc_Reflection_V1alpha_ServerReflectionRequest) throws
        -> Grpc_Reflection_V1alpha_ServerReflectionResponse
    {
        let asV1 = try Grpc_Reflection_V1_ServerReflectionRequest(serializedBytes: try request.serializedBytes() as [UInt8])
        let reply: [UInt8] = try v1.answer(asV1).serializedBytes()
        return try Grpc_Reflection_V1alpha_ServerReflectionResponse(serializedBytes: reply)
    }

    public func serverReflectionInfo(
        request: RPCAsyncSequence<Grpc_Reflection_V1alpha_ServerReflectionRequest, any Error>,
        response: RPCWriter<Grpc_Reflection_V1alpha_ServerReflectionResponse>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            try await response.write(self.answer(message))
        }
    }
}
