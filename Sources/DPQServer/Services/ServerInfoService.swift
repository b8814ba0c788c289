// dpq.v1.ServerInfoService: version, build and limits.
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

    static func limits(_ s: ServerSettings) -> Dpq_V1_Limits {
        let l = s.limits
        return .with {
            $0.maxMessageBytes = UInt32(clamping: s.maxMessageBytes)
            $0.maxBatchRows = UInt32(clamping: l.maxBatchRows)
            $0.maxSearchQueries = UInt32(clamping: l.maxSearchQueries)
            $0.maxK = UInt32(clamping: l.maxK)
            $0.maxRescoreOversampling = UInt32(clamping: l.maxRescoreOversampling)
            $0.maxEvaluateQueries = UInt32(clamping: l.maxEvaluateQueries)
            $0.defaultPageSize = UInt32(clamping: l.defaultPageSize)
            $0.maxPageSize = UInt32(clamping: l.maxPageSize)
            $0.maxInputDimension = UInt32(clamping: l.maxInputDimension)
            $0.maxCollections = UInt32(clamping: l.maxCollections)
            $0.maxItemsPerCollection = UInt64(l.maxItemsPerCollection)
            $0.maxDatasetRows = UInt64(l.maxDatasetRows)
            $0.maxItemIDBytes = UInt32(clamping: l.maxItemIdBytes)
            $0.maxLabelsPerItem = UInt32(clamping: l.maxLabelsPerItem)
            $0.maxModelBytes = UInt64(l.maxModelBytes)
            $0.maxConcurrentTrainings = UInt32(clamping: l.maxConcurrentTrainings)
            $0.maxBlocks = UInt32(clamping: l.maxBlocks)
            $0.minCodebookSize = UInt32(clamping: l.minCodebookSize)
            $0.maxCodebookSize = UInt32(clamping: l.maxCodebookSize)
        }
    }

    func getServerInfo(request: Dpq_V1_GetServerInfoRequest, context: ServerContext) async throws -> Dpq_V1_GetServerInfoResponse {
        .with {
            $0.version = BuildInfo.version
            $0.buildCommit = BuildInfo.commit
            $0.buildTime = ""
            $0.apiVersion = "dpq.v1"
            $0.services = services
            $0.limits = Self.limits(settings)
            $0.threads = UInt32(settings.threads ?? ProcessInfo.processInfo.activeProcessorCount)
            $0.startedAtUnixMs = Int64(startedAt.timeIntervalSince1970 * 1000)
        }
    }
}
