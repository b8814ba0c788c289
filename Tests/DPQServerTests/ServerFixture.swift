import DPQClient
import DPQProto
import DPQEngine
import DPQServer
import DPQServerSupport
import Foundation
import Testing

/// A real server on an ephemeral loopback port over a fresh data directory, and a client.
struct ServerFixture {
    let dataDir: String
    let server: RunningServer
    let client: DPQClient

    static func start(dataDir: String? = nil, maxMessageBytes: Int? = nil, apiKeys: APIKeys? = nil,
                      clientKey: String? = nil, tls: TLSFiles? = nil, clientTLS: ClientTLS? = nil,
                      limits: ServerLimits? = nil, connection: ConnectionSettings? = nil, store: String? = nil) async throws -> ServerFixture {
        let dir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("dpq-test-\(UUID().uuidString)").path
        var settings = ServerSettings()
        settings.host = "127.0.0.1"
        settings.port = 0
        settings.dataDir = dir
        if let maxMessageBytes { settings.maxMessageBytes = maxMessageBytes }
        if let limits { settings.limits = limits }
        if let connection { settings.connection = connection }
        settings.store = store
        let server = try await DPQServer.start(settings: settings, apiKeys: apiKeys, tls: tls)
        let client = try DPQClient(host: "127.0.0.1", port: server.port, timeout: .seconds(120), apiKey: clientKey, tls: clientTLS)
        return ServerFixture(dataDir: dir, server: server, client: client)
    }

    func stop() async {
        client.close()
        await server.stop()
    }

    func removeData() { try? FileManager.default.removeItem(atPath: dataDir) }
}

/// Labelled clusters: `classes` classes in `dim` dimensions, row i in class i % classes.
enum Clusters {
    static func make(_ n: Int, classes: Int = 4, dim: Int = 16, seed: UInt64 = 1) -> (vectors: [[Float]], labels: [UInt32]) {
        var centres = SeededRandom(seed: 99)
        let c = (0..<classes).map { _ in (0..<dim).map { _ in centres.normal() * 3 } }
        var r = SeededRandom(seed: seed)
        var v: [[Float]] = [], l: [UInt32] = []
        for i in 0..<n {
            v.append(c[i % classes].map { $0 + r.normal() })
            l.append(UInt32(i % classes))
        }
        return (v, l)
    }
}

/// Fast training options for tests.
func quickTraining() -> TrainingOptions {
    .with {
        $0.epochs = 3
        $0.pretrainEpochs = 2
        $0.batchSize = 64
        $0.kmeansIterations = 4
        $0.seed = 7
    }
}

/// A small model: 16 -> 32 -> D 8, M = 3 blocks of K = 16.
func smallModel(classes: Int = 4) -> Dpq_V1_ModelConfig {
    .with {
        $0.hiddenSizes = .with { $0.sizes = [32] }
        $0.featureDimension = 8
        $0.blocks = 3
        $0.codebookSize = 16
        $0.labelMode = .single
        $0.numClasses = UInt32(classes)
    }
}

/// Creates, uploads, trains (waiting for the end) and fills a collection of `items` clusters.
func trainedCollection(_ dpq: DPQClient, name: String, items: Int = 200, keepVectors: Bool = false) async throws {
    try await dpq.createCollection(name, inputDimension: 16, model: smallModel(), keepVectors: keepVectors)
    try await trainToCompletion(dpq, name)
    let db = Clusters.make(items, seed: 3)
    let batch = db.vectors.enumerated().map { NewItem(id: .number(UInt64($0)), vector: $1, labels: [db.labels[$0]]) }
    try await dpq.upsertStream(name, items: batch, batchSize: 64)
}

/// Uploads 240 clustered rows to `name` (a smallModel collection) and trains it with
/// quickTraining(), waiting for the end, which must be a success.
func trainToCompletion(_ dpq: DPQClient, _ name: String) async throws {
    let train = Clusters.make(240, seed: 2)
    try await dpq.uploadTrainingData(name, vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
    _ = try await dpq.startTraining(name, options: quickTraining())
    var last: Dpq_V1_TrainingProgress?
    for try await p in dpq.watchTraining(name) { last = p }
    #expect(last?.state == .succeeded, "training ended \(String(describing: last?.state)) \(last?.error ?? "")")
}

func expectCode(_ code: RPCError.Code, _ fragment: String = "", _ body: () async throws -> Void,
                sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch let e as DPQError {
        #expect(e.code == code, "got \(e.code): \(e.message)", sourceLocation: sourceLocation)
        if !fragment.isEmpty { #expect(e.message.contains(fragment), "message '\(e.message)' lacks '\(fragment)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

import GRPCCore
