// dpq.v1.ServerInfoService: version, build and limits.
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore

public enum BuildInfo {
    public static let version = "0.1.0"
    /// Filled in by scripts at build time when available; "unknown" otherwise.
    public static let commit = ProcessInfo.processInfo.environment["DPQ_BUILD_COMMIT"] ?? "unknown"
}

struct ServerInfoService: Dpq_V1_ServerInfoService.SimpleServiceProtocol {
    let settings: ServerSettings
    let services: [String]
    let startedAt: Date

    func getServerInfo(request: Dpq_V1_GetServerInfoRequest, context: ServerContext) async throws -> Dpq_V1_GetServerInfoResponse {
        .with {
            $0.version = BuildInfo.version
            $0.buildCommit = BuildInfo.commit
            $0.buildTime = ""
            $0.apiVersion = "dpq.v1"
            $0.services = services
            $0.limits = settings.limitsMessage
            $0.threads = UInt32(settings.threads ?? Cores.available)
            $0.startedAtUnixMs = Int64(startedAt.timeIntervalSince1970 * 1000)
        }
    }
}
