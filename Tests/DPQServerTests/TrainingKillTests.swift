import DPQClient
import DPQEngine
import DPQProto
import Foundation
import Testing

/// SIGKILL of `dpq serve` at random moments of a re-training (with upserts going on), then a
/// restart and a full check: the server starts; the collection is trained with either the old or
/// the new model and every item's stored code is the one the current model gives its vector
/// (never a mix); every acknowledged item is there with its labels and vector; no training is
/// shown as running. Odd rounds run short trainings and kill at a random moment after the job
/// reaches its end (the re-encoding and commit of the model switch; the window adapts so that
/// kills land before and after the commit); even rounds kill a long training at a random moment.
///
/// DPQ_KILL_ROUNDS (default 10) and DPQ_KILL_SEED change the rounds and the random delays.
@Suite(.serialized) struct TrainingKillTests {
    static let rounds = Int(ProcessInfo.processInfo.environment["DPQ_KILL_ROUNDS"] ?? "") ?? 10
    static let seed = UInt64(ProcessInfo.processInfo.environment["DPQ_KILL_SEED"] ?? "") ?? 0x4B11

    struct Acked { var labels: [UInt32]; var vector: [Float] }

    static func options(epochs: UInt32, seed: UInt64) -> TrainingOptions {
        .with { $0.epochs = epochs; $0.pretrainEpochs = 1; $0.batchSize = 1; $0.kmeansIterations = 2; $0.seed = seed; $0.threads = 1 }
    }

    /// Checks the restarted server against what was acknowledged; returns (lost, inconsistent, model sha).
    static func verify(_ dpq: DPQClient, acked: [UInt64: Acked], round: Int) async throws -> (lost: Int, inconsistent: Int, sha: String) {
        let info = try await dpq.collection("k")
        #expect(info.state == .ready && info.hasModel_p, "round \(round): collection state \(info.state)")
        #expect(info.training.state != .running && info.training.state != .pending, "round \(round): training shown as \(info.training.state)")
        #expect(info.itemCount >= UInt64(acked.count), "round \(round): \(info.itemCount) items, \(acked.count) acknowledged")
        let model = try DPQModel(serialized: try await dpq.exportModel("k"))
        var lost = 0, inconsistent = 0
        let ids = acked.keys.sorted()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let got = try await dpq.getItems("k", ids: chunk.map { .number($0) }, withVectors: true, withCodes: true)
            lost += got.missingIds.count
            var vectors: [[Float]] = [], stored: [[UInt8]] = []
            for item in got.items {
                let a = acked[item.id.num]!
                if item.labels != a.labels || item.vector.values != a.vector { lost += 1; continue }
                vectors.append(item.vector.values)
                stored.append([UInt8](item.code))
            }
            guard !vectors.isEmpty else { continue }
            // The code the served model gives each vector now (the server's Encode).
            let fresh = try await dpq.encode("k", vectors: vectors)
            for i in vectors.indices where fresh[i] != stored[i] {
                // BLAS may round a batch differently from a single row; a different code is only
                // acceptable as a near-tie: the same reconstruction error under the current model.
                let x = Matrix(rows: 1, cols: 16, values: vectors[i])
                let f = try model.features(x)
                func error(_ code: [UInt8]) -> Float {
                    let rec = model.quantizer.decode(CodeMatrix(count: 1, blocks: code.count, bytesPerCode: 1, bytes: code), blocks: code.count)
                    return zip(f.values, rec.values).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                }
                let (a, b) = (error(stored[i]), error(fresh[i]))
                if abs(a - b) > 1e-4 * max(a, b, 1e-6) { inconsistent += 1 }
            }
        }
        #expect(lost == 0, "round \(round): \(lost) acknowledged items lost or changed")
        #expect(inconsistent == 0, "round \(round): \(inconsistent) items' codes are not the current model's")
        return (lost, inconsistent, info.model.sha256)
    }

    @Test func killNineDuringTraining() async throws {
        let dir = temporaryPath("dpq-killtrain")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: dir + ".server.log") }
        var r = SeededRandom(seed: Self.seed)
        var acked: [UInt64: Acked] = [:]
        var nextID: UInt64 = 0
        let data = Clusters.make(4000, seed: 31)
        func newItems(_ n: Int) -> [NewItem] {
            (0..<n).map { _ in
                let i = Int(nextID % 4000)
                defer { nextID += 1 }
                return NewItem(id: .number(nextID), vector: data.vectors[i], labels: [data.labels[i]])
            }
        }
        func ack(_ items: [NewItem]) {
            for it in items { if case .number(let n) = it.id { acked[n] = Acked(labels: it.labels, vector: it.vector) } }
        }

        // Set-up: a trained collection that keeps vectors, 200 items; and the time a short
        // re-training takes end to end (reported).
        var server = try ChildServer(dataDir: dir)
        var dpq = try DPQClient(address: server.address, timeout: .seconds(60))
        try await dpq.createCollection("k", inputDimension: 16, model: smallModel(), keepVectors: true)
        let train = Clusters.make(240, seed: 2)
        try await dpq.uploadTrainingData("k", vectors: train.vectors, labels: train.labels.map { [$0] }, chunkRows: 100)
        _ = try await dpq.startTraining("k", options: quickTraining())
        for try await _ in dpq.watchTraining("k", minInterval: .milliseconds(50)) {}
        let first = newItems(200)
        try await dpq.upsert("k", items: Array(first.prefix(100)))
        try await dpq.upsert("k", items: Array(first.suffix(100)))
        ack(first)
        let shortEpochs: UInt32 = 12
        let t0 = Date()
        _ = try await dpq.startTraining("k", options: Self.options(epochs: shortEpochs, seed: 1))
        for try await _ in dpq.watchTraining("k", minInterval: .milliseconds(50)) {}
        let shortSeconds = Date().timeIntervalSince(t0)
        var lastSHA = try await dpq.collection("k").model.sha256
        dpq.close()
        server.stop()

        var switchWindow = 100.0   // ms
        var killedDuring = 0, killedInSwitch = 0, newModelRounds = 0, totalLost = 0, totalInconsistent = 0
        let started = Date()
        for round in 0..<Self.rounds {
            server = try ChildServer(dataDir: dir)
            dpq = try DPQClient(address: server.address, timeout: .seconds(60))
            let short = round % 2 == 1
            let epochs: UInt32 = short ? shortEpochs : 10_000
            _ = try await dpq.startTraining("k", options: Self.options(epochs: epochs, seed: UInt64(100 + round)))
            // Upserts while the training runs; only acknowledged batches are remembered.
            let writer = try DPQClient(address: server.address, timeout: .seconds(10))
            let batches = (0..<300).map { _ in newItems(10) }
            let upserts = Task { () -> [[NewItem]] in
                var done: [[NewItem]] = []
                for b in batches where !Task.isCancelled {
                    do { try await writer.upsert("k", items: b); done.append(b) } catch { break }
                }
                return done
            }
            if short {
                // Aim at the model switch: wait until the job reaches its end (phase ENCODING: the
                // re-encoding and the commit), then kill a random time into a window that adapts
                // so that kills land on both sides of the commit.
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline {
                    let p = try? await dpq.collection("k", timeout: .seconds(2)).training
                    if p?.phase == .encoding || p?.state == .succeeded || (p?.percent ?? 0) >= 99 { break }
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await Task.sleep(for: .milliseconds(Int(switchWindow * Double(r.uniform()))))
            } else {
                try await Task.sleep(for: .milliseconds(Int(150 + 1200 * r.uniform())))
            }
            let seen = try? await dpq.collection("k", timeout: .seconds(2)).training
            if seen?.state == .running || seen?.state == .pending { killedDuring += 1 }
            if seen?.phase == .encoding && seen?.state == .running { killedInSwitch += 1 }
            server.kill9()
            upserts.cancel()
            for b in await upserts.value { ack(b) }
            writer.close()
            dpq.close()

            server = try ChildServer(dataDir: dir)
            dpq = try DPQClient(address: server.address, timeout: .seconds(60))
            let (lost, inconsistent, sha) = try await Self.verify(dpq, acked: acked, round: round)
            totalLost += lost
            totalInconsistent += inconsistent
            if sha != lastSHA { newModelRounds += 1 }
            if short { switchWindow = sha != lastSHA ? max(20, switchWindow * 0.7) : min(5000, switchWindow * 1.6) }
            lastSHA = sha
            // The collection keeps working: another upsert is acknowledged and searchable.
            let more = newItems(5)
            try await dpq.upsert("k", items: more)
            ack(more)
            let hits = try await dpq.search("k", queries: [more[0].vector], k: 3)
            #expect(hits.first?.isEmpty == false)
            dpq.close()
            server.stop()
        }
        print("training kill: \(Self.rounds) rounds in \(String(format: "%.1f", Date().timeIntervalSince(started))) s, "
              + "killed while training \(killedDuring) (of which in the model switch \(killedInSwitch)), rounds ending with the new model \(newModelRounds), "
              + "acknowledged items \(acked.count), lost \(totalLost), codes not of the current model \(totalInconsistent) "
              + "(short training \(String(format: "%.2f", shortSeconds)) s, final switch window \(Int(switchWindow)) ms)")
        #expect(killedDuring > 0, "no kill landed during a training")
    }
}
