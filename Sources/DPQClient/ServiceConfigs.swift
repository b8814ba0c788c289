// The gRPC service config a client of several servers uses: round-robin load balancing over the
// addresses, and retries on UNAVAILABLE (a node stopping or unreachable) for the methods whose
// repetition cannot change the outcome. Upserts and deletes by id are idempotent (the same ids
// end with the same state), so they are retried; creating a collection, starting or cancelling a
// training and importing a model are not (a second attempt could report ALREADY_EXISTS or start
// a second job), nor are streaming calls (their messages are not buffered for a replay).

import GRPCCore

enum ServiceConfigs {
    static let retryOnUnavailable = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(50), maxBackoff: .seconds(1),
                                                backoffMultiplier: 2, retryableStatusCodes: [.unavailable])

    static let idempotent: [MethodConfig.Name] = [
        .init(service: "dpq.v1.SearchService"),                 // Search, Evaluate
        .init(service: "dpq.v1.ServerInfoService"),
        .init(service: "grpc.health.v1.Health", method: "Check"),
        .init(service: "dpq.v1.CollectionService", method: "GetCollection"),
        .init(service: "dpq.v1.CollectionService", method: "ListCollections"),
        .init(service: "dpq.v1.ItemService", method: "UpsertItems"),
        .init(service: "dpq.v1.ItemService", method: "DeleteItems"),
        .init(service: "dpq.v1.ItemService", method: "GetItems"),
        .init(service: "dpq.v1.ItemService", method: "ListItems"),
        .init(service: "dpq.v1.ModelService", method: "Encode"),
        .init(service: "dpq.v1.ModelService", method: "Decode"),
        .init(service: "dpq.v1.ItemService", method: "CountItems"),
        .init(service: "dpq.v1.TrainingService", method: "ListTrainingData"),
    ]

    static var cluster: ServiceConfig {
        ServiceConfig(methodConfig: [MethodConfig(names: idempotent, executionPolicy: .retry(retryOnUnavailable))],
                      loadBalancingConfig: [.roundRobin])
    }
}
