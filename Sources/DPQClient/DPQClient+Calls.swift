// The calls, one method per RPC, grouped as the services are.

import DPQProto
import Foundation
import GRPCCore

extension DPQClient {
    // MARK: Collections

    @discardableResult
    /// `inputShape` (height, width, channels) declares image inputs; `inputDimension` may then be 0.
    public func createCollection(_ name: String, inputDimension: Int, inputShape: (height: Int, width: Int, channels: Int)? = nil,
                                 numClasses: Int = 0, labelMode: Dpq_V1_LabelMode = .unspecified,
                                 model: ModelConfig = ModelConfig(), metric: Metric = .unspecified, keepVectors: Bool = false,
                                 trainingDefaults: TrainingOptions? = nil, index: Dpq_V1_IndexConfig? = nil,
                                 vectorPrecision: Dpq_V1_VectorPrecision = .unspecified,
                                 timeout: Duration? = nil) async throws -> CollectionInfo {
        try await call {
            var m = model
            if numClasses > 0 { m.numClasses = UInt32(numClasses) }
            if labelMode != .unspecified { m.labelMode = labelMode }
            let request = Dpq_V1_CreateCollectionRequest.with {
                $0.name = name
                $0.config = .with {
                    $0.inputDimension = UInt32(inputDimension)
                    if let s = inputShape {
                        $0.inputShape = .with { $0.height = UInt32(s.height); $0.width = UInt32(s.width); $0.channels = UInt32(s.channels) }
                    }
                    $0.model = m
                    $0.metric = metric
                    $0.keepVectors = keepVectors
                    $0.vectorPrecision = vectorPrecision
                    if let trainingDefaults { $0.trainingDefaults = trainingDefaults }
                    if let index { $0.index = index }
                }
            }
            return try await collections.createCollection(request, options: options(timeout)).collection
        }
    }

    public func collection(_ name: String, timeout: Duration? = nil) async throws -> CollectionInfo {
        try await call { try await collections.getCollection(.with { $0.name = name }, options: options(timeout)).collection }
    }

    public func listCollections(timeout: Duration? = nil) async throws -> [CollectionInfo] {
        try await call { try await collections.listCollections(.init(), options: options(timeout)).collections }
    }

    @discardableResult
    public func deleteCollection(_ name: String, allowMissing: Bool = false, timeout: Duration? = nil) async throws -> Bool {
        try await call {
            try await collections.deleteCollection(.with { $0.name = name; $0.allowMissing = allowMissing }, options: options(timeout)).deleted
        }
    }

    // MARK: Training

    /// Uploads a training dataset in chunks of `chunkRows` rows (one client stream).
    @discardableResult
    public func uploadTrainingData(_ collection: String, dataset: String = "default", vectors: [[Float]], labels: [[UInt32]]? = nil,
                                   mode: Dpq_V1_UploadMode = .replace, chunkRows: Int = 4096,
                                   timeout: Duration? = nil) async throws -> Dpq_V1_UploadTrainingDataResponse {
        try await uploadTrainingData(collection, dataset: dataset, rows: vectors.count, dense: { try dense(Array(vectors[$0])) },
                                     labels: labels, mode: mode, chunkRows: chunkRows, timeout: timeout)
    }

    /// The same with 8-bit values (pixels), sent as bytes: a quarter of the bytes of floats.
    @discardableResult
    public func uploadTrainingData(_ collection: String, dataset: String = "default", pixels: [[UInt8]], labels: [[UInt32]]? = nil,
                                   mode: Dpq_V1_UploadMode = .replace, chunkRows: Int = 4096,
                                   timeout: Duration? = nil) async throws -> Dpq_V1_UploadTrainingDataResponse {
        try await uploadTrainingData(collection, dataset: dataset, rows: pixels.count, dense: { try dense(Array(pixels[$0])) },
                                     labels: labels, mode: mode, chunkRows: chunkRows, timeout: timeout)
    }

    private func uploadTrainingData(_ collection: String, dataset: String, rows count: Int,
                                    dense: (Range<Int>) throws -> Dpq_V1_DenseVectors, labels: [[UInt32]]?,
                                    mode: Dpq_V1_UploadMode, chunkRows: Int,
                                    timeout: Duration?) async throws -> Dpq_V1_UploadTrainingDataResponse {
        try await call {
            let chunks = stride(from: 0, to: count, by: max(chunkRows, 1)).map { $0..<min($0 + chunkRows, count) }
            var requests: [Dpq_V1_UploadTrainingDataRequest] = []
            for (i, range) in chunks.enumerated() {
                var r = Dpq_V1_UploadTrainingDataRequest()
                if i == 0 { r.collection = collection; r.dataset = dataset; r.mode = mode }
                r.vectors = try dense(range)
                if let labels { r.labels = .with { $0.sets = .with { $0.rows = labels[range].map { l in .with { $0.labels = l } } } } }
                requests.append(r)
            }
            let all = requests
            return try await trainingService.uploadTrainingData(options: options(timeout), requestProducer: { writer in
                for r in all { try await writer.write(r) }
            })
        }
    }

    /// Starts a training job on a dataset (or, with nil, the default dataset or the items).
    public func startTraining(_ collection: String, dataset: String? = nil, options training: TrainingOptions = TrainingOptions(),
                              timeout: Duration? = nil) async throws -> Dpq_V1_StartTrainingResponse {
        try await call {
            try await trainingService.startTraining(.with {
                $0.collection = collection
                if let dataset { $0.dataset = dataset }
                $0.options = training
            }, options: options(timeout))
        }
    }

    /// Progress of a collection's training until it ends (the stream ends with the final state).
    /// No deadline applies unless one is given: trainings can be long.
    public func watchTraining(_ collection: String, minInterval: Duration = .milliseconds(250),
                              timeout: Duration? = nil) -> AsyncThrowingStream<TrainingProgress, any Error> {
        let service = trainingService
        var o = options(timeout)
        if timeout == nil { o.timeout = nil }
        let callOptions = o
        let ms = UInt32(minInterval.components.seconds * 1000 + minInterval.components.attoseconds / 1_000_000_000_000_000)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await service.watchTraining(.with { $0.collection = collection; $0.minIntervalMs = ms }, options: callOptions) { response in
                        for try await m in response.messages { continuation.yield(m.progress) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: DPQError(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    @discardableResult
    public func cancelTraining(_ collection: String, timeout: Duration? = nil) async throws -> TrainingProgress {
        try await call { try await trainingService.cancelTraining(.with { $0.collection = collection }, options: options(timeout)).progress }
    }

    // MARK: Items

    /// - modelSHA256: with items given as codes, the sha256 of the model that computed them
    ///   (`encodeForUpsert`); the server takes them only if it serves that model.
    @discardableResult
    public func upsert(_ collection: String, items batch: [NewItem], modelSHA256: String? = nil,
                       timeout: Duration? = nil) async throws -> Dpq_V1_UpsertItemsResponse {
        try await call {
            try await items.upsertItems(Self.upsertRequest(collection, batch, modelSHA256), options: options(timeout))
        }
    }

    /// Bulk load over one client stream, `batchSize` items per message; `progress` gets the items sent.
    @discardableResult
    public func upsertStream(_ collection: String, items all: [NewItem], modelSHA256: String? = nil, batchSize: Int = 1024,
                             timeout: Duration? = nil,
                             progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> Dpq_V1_UpsertItemsResponse {
        try await upsertBatches(count: all.count, batchSize: batchSize, timeout: timeout, progress: progress) { range in
            Self.upsertRequest(range.lowerBound == 0 ? collection : "", Array(all[range]), modelSHA256)
        }
    }

    /// One UpsertItemsStream of `count` items, `batchSize` per message (`request` makes the message of
    /// the items in a range; only the first names the collection); `progress` gets the items sent.
    func upsertBatches(count: Int, batchSize: Int, timeout: Duration?, progress: @escaping @Sendable (Int) -> Void,
                       request: @escaping @Sendable (Range<Int>) -> Dpq_V1_UpsertItemsRequest) async throws -> Dpq_V1_UpsertItemsResponse {
        try await call {
            try await items.upsertItemsStream(options: options(timeout), requestProducer: { writer in
                let step = max(batchSize, 1)
                for start in stride(from: 0, to: count, by: step) {
                    let range = start..<min(start + step, count)
                    try await writer.write(request(range))
                    progress(range.upperBound)
                }
            })
        }
    }

    static func upsertRequest(_ collection: String, _ batch: [NewItem], _ modelSHA256: String?) -> Dpq_V1_UpsertItemsRequest {
        .with {
            $0.collection = collection
            $0.items = batch.map { item in .with {
                $0.id = item.id.proto
                if let code = item.code {
                    $0.code = Data(code)
                } else {
                    $0.vector = .with {
                        if let pixels = item.pixels { $0.uint8Values = Data(pixels) } else { $0.values = item.vector }
                    }
                }
                $0.labels = item.labels
            } }
            if let modelSHA256 { $0.modelSha256 = modelSHA256 }
        }
    }

    public func getItems(_ collection: String, ids: [ItemKey], withVectors: Bool = false, withCodes: Bool = false,
                         timeout: Duration? = nil) async throws -> Dpq_V1_GetItemsResponse {
        try await call {
            try await items.getItems(.with {
                $0.collection = collection; $0.ids = ids.map(\.proto); $0.withVectors = withVectors; $0.withCodes = withCodes
            }, options: options(timeout))
        }
    }

    @discardableResult
    public func deleteItems(_ collection: String, ids: [ItemKey], timeout: Duration? = nil) async throws -> UInt64 {
        try await call { try await items.deleteItems(.with { $0.collection = collection; $0.ids = ids.map(\.proto) }, options: options(timeout)).deleted }
    }

    public func count(_ collection: String, anyOf labels: [UInt32]? = nil, timeout: Duration? = nil) async throws -> UInt64 {
        try await call {
            try await items.countItems(.with {
                $0.collection = collection
                if let labels { $0.filter = .with { $0.anyOf = labels } }
            }, options: options(timeout)).count
        }
    }

    public func listItems(_ collection: String, pageSize: Int = 100, pageToken: String = "", timeout: Duration? = nil) async throws -> Dpq_V1_ListItemsResponse {
        try await call {
            try await items.listItems(.with { $0.collection = collection; $0.pageSize = UInt32(pageSize); $0.pageToken = pageToken }, options: options(timeout))
        }
    }

    // MARK: Search

    /// The k best items for each query, best first.
    public func search(_ collection: String, queries: [[Float]], k: Int, bits: Int = 0, metric: Metric = .unspecified,
                       anyOf labels: [UInt32]? = nil, rescoreOversampling: Int? = nil, nprobe: Int = 0,
                       timeout: Duration? = nil) async throws -> [[Hit]] {
        try await search(collection, dense: { try dense(queries) }, k: k, bits: bits, metric: metric, anyOf: labels,
                         rescoreOversampling: rescoreOversampling, nprobe: nprobe, timeout: timeout)
    }

    /// The same with 8-bit queries (pixels), sent as bytes.
    public func search(_ collection: String, pixels: [[UInt8]], k: Int, bits: Int = 0, metric: Metric = .unspecified,
                       anyOf labels: [UInt32]? = nil, rescoreOversampling: Int? = nil, nprobe: Int = 0,
                       timeout: Duration? = nil) async throws -> [[Hit]] {
        try await search(collection, dense: { try dense(pixels) }, k: k, bits: bits, metric: metric, anyOf: labels,
                         rescoreOversampling: rescoreOversampling, nprobe: nprobe, timeout: timeout)
    }

    private func search(_ collection: String, dense queries: () throws -> Dpq_V1_DenseVectors, k: Int, bits: Int, metric: Metric,
                        anyOf labels: [UInt32]?, rescoreOversampling: Int?, nprobe: Int,
                        timeout: Duration?) async throws -> [[Hit]] {
        try await call {
            let response = try await searchService.search(.with {
                $0.collection = collection
                $0.queries = try queries()
                $0.k = UInt32(clamping: k)
                $0.bits = UInt32(clamping: bits)
                $0.metric = metric
                if let labels { $0.filter = .with { $0.anyOf = labels } }
                if let rescoreOversampling { $0.rescore = .with { $0.oversampling = UInt32(rescoreOversampling) } }
                $0.nprobe = UInt32(clamping: nprobe)
            }, options: options(timeout))
            return response.results.map { $0.hits.map { Hit(id: ItemKey($0.id), score: $0.score, labels: $0.labels) } }
        }
    }

    public func evaluate(_ collection: String, queries: [[Float]], labels: [[UInt32]], bits: [Int] = [], mapR: Int = 0,
                         precisionAt ks: [Int] = [], timeout: Duration? = nil) async throws -> Dpq_V1_EvaluateResponse {
        try await call {
            try await searchService.evaluate(.with {
                $0.collection = collection
                $0.queries = try dense(queries)
                $0.queryLabels = .with { $0.sets = .with { $0.rows = labels.map { l in .with { $0.labels = l } } } }
                $0.bits = bits.map { UInt32($0) }
                $0.mapR = UInt32(mapR)
                $0.precisionAtK = ks.map { UInt32($0) }
            }, options: options(timeout))
        }
    }

    // MARK: Models

    /// Codes (bits / log2 K code words each) of each vector.
    public func encode(_ collection: String, vectors: [[Float]], bits: Int = 0, timeout: Duration? = nil) async throws -> [[UInt8]] {
        try await call {
            try await models.encode(.with { $0.collection = collection; $0.vectors = try dense(vectors); $0.bits = UInt32(bits) },
                                    options: options(timeout)).codes.map { [UInt8]($0) }
        }
    }

    /// Codes of 8-bit inputs (pixels), sent as bytes.
    public func encode(_ collection: String, pixels: [[UInt8]], bits: Int = 0, timeout: Duration? = nil) async throws -> [[UInt8]] {
        try await call {
            try await models.encode(.with { $0.collection = collection; $0.vectors = try dense(pixels); $0.bits = UInt32(bits) },
                                    options: options(timeout)).codes.map { [UInt8]($0) }
        }
    }

    /// Full codes of `vectors` and the sha256 of the model that computed them: what `upsert` with
    /// `NewItem(id:code:)` items and `modelSHA256` needs on any server serving the same model.
    public func encodeForUpsert(_ collection: String, vectors: [[Float]],
                                timeout: Duration? = nil) async throws -> (codes: [[UInt8]], modelSHA256: String) {
        try await call {
            let r = try await models.encode(.with { $0.collection = collection; $0.vectors = try dense(vectors) }, options: options(timeout))
            return (r.codes.map { [UInt8]($0) }, r.modelSha256)
        }
    }

    public func decode(_ collection: String, codes: [[UInt8]], bits: Int = 0, timeout: Duration? = nil) async throws -> [[Float]] {
        try await call {
            rows(try await models.decode(.with { $0.collection = collection; $0.codes = codes.map { Data($0) }; $0.bits = UInt32(bits) },
                                         options: options(timeout)).vectors)
        }
    }

    /// The trained model as safetensors bytes.
    public func exportModel(_ collection: String, timeout: Duration? = nil) async throws -> Data {
        try await call {
            try await models.exportModel(.with { $0.collection = collection }, options: options(timeout)) { response in
                var data = Data()
                var expected: String?
                for try await chunk in response.messages {
                    if chunk.hasHeader { expected = chunk.header.sha256 }
                    data.append(chunk.data)
                }
                _ = expected
                return data
            }
        }
    }

    @discardableResult
    public func importModel(_ collection: String, data: Data, createIfMissing: Bool = false, keepVectors: Bool = false,
                            chunkBytes: Int = 1 << 20, timeout: Duration? = nil) async throws -> Dpq_V1_ImportModelResponse {
        try await call {
            try await models.importModel(options: options(timeout), requestProducer: { writer in
                var offset = 0
                repeat {
                    let end = min(offset + chunkBytes, data.count)
                    try await writer.write(.with {
                        if offset == 0 {
                            $0.collection = collection; $0.createIfMissing = createIfMissing; $0.keepVectors = keepVectors
                            $0.totalBytes = UInt64(data.count)
                        }
                        $0.data = data.subdata(in: offset..<end)
                    })
                    offset = end
                } while offset < data.count
            })
        }
    }

    // MARK: Server

    public func serverInfo(timeout: Duration? = nil) async throws -> Dpq_V1_GetServerInfoResponse {
        try await call { try await info.getServerInfo(.init(), options: options(timeout)) }
    }

    /// The standard health check ("" = the whole server).
    public func healthCheck(service: String = "", timeout: Duration? = nil) async throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        try await call { try await health.check(.with { $0.service = service }, options: options(timeout)).status }
    }
}
