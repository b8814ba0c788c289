// Per-RPC Prometheus-style metrics, recorded through swift-metrics so the gRPC layer does not
// depend on the Prometheus backend (MetricsEndpoint bootstraps that), plus the few gauges the
// server sets from its own state.
//
// Metrics:
//   dpq_rpc_requests_total{method, code}   counter, one per finished RPC; code is the snake_case
//                                          gRPC status name ("ok", "invalid_argument", ...;
//                                          "cancelled" when the client went away first)
//   dpq_rpc_duration_seconds{method}       timer (a histogram in Prometheus), from the call
//                                          reaching the interceptor until the last response byte
//                                          or the error
//   dpq_collection_items{collection}, dpq_training_progress_ratio{collection},
//   dpq_training_samples_per_second{collection}   gauges, set through DPQMetrics
//
// Put this interceptor first (outermost) so calls rejected by later interceptors such as
// ConcurrencyLimiter are counted too. `method` is "package.Service/Method"; only registered
// methods reach interceptors, so its cardinality is bounded by the API.
import GRPCCore
import Metrics

public struct RPCMetricsInterceptor: ServerInterceptor {
    public static let requestsTotal = "dpq_rpc_requests_total"
    public static let durationSeconds = "dpq_rpc_duration_seconds"

    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        let start = ContinuousClock.now
        let completion = RPCCompletion { code in
            let elapsed = ContinuousClock.now - start
            // A handler that returns normally after the client went away (e.g. a Watch stream
            // ending on RPC cancellation) did not deliver an OK to anyone.
            let code = code == .ok && context.cancellation.isCancelled ? .cancelled : code
            Counter(label: Self.requestsTotal, dimensions: [("method", method), ("code", code.metricName)]).increment()
            Timer(label: Self.durationSeconds, dimensions: [("method", method)])
                .recordNanoseconds(elapsed.nanoseconds)
        }
        do {
            return try await next(request, context).finishing(with: completion)
        } catch {
            completion.finish(error: error)
            throw error
        }
    }
}

/// Gauges the server sets from its own state. Label values are collection names.
public enum DPQMetrics {
    public static let collectionItems = "dpq_collection_items"
    public static let trainingProgressRatio = "dpq_training_progress_ratio"
    public static let trainingSamplesPerSecond = "dpq_training_samples_per_second"

    /// Items currently stored in `collection`.
    public static func setCollectionItems(_ count: Int, collection: String) {
        Gauge(label: collectionItems, dimensions: [("collection", collection)]).record(count)
    }

    /// Fraction of the current training run done, 0...1.
    public static func setTrainingProgress(_ ratio: Double, collection: String) {
        Gauge(label: trainingProgressRatio, dimensions: [("collection", collection)]).record(min(max(ratio, 0), 1))
    }

    /// Training throughput of the current run (0 when idle).
    public static func setTrainingSamplesPerSecond(_ rate: Double, collection: String) {
        Gauge(label: trainingSamplesPerSecond, dimensions: [("collection", collection)]).record(rate)
    }

    /// Drops the collection's series, e.g. after the collection is deleted, so /metrics does not
    /// keep reporting a collection that no longer exists.
    public static func forgetCollection(_ collection: String) {
        for label in [collectionItems, trainingProgressRatio, trainingSamplesPerSecond] {
            Gauge(label: label, dimensions: [("collection", collection)]).destroy()
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (a timer never needs more than ~292 years).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns &+ attoseconds / 1_000_000_000
    }
}
