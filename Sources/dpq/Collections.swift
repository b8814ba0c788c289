// dpq collections create|list|info|delete
import ArgumentParser
import DPQClient
import DPQProto
import Foundation
import SwiftProtobuf

struct Collections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage collections.",
                                                    subcommands: [Create.self, List.self, Info.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Collection name.") var name: String
        @Option(help: "Input vector dimension (may be left out with --input-shape).") var dimension: Int?
        @Option(name: .customLong("input-shape"), help: "Image inputs: HxWxC, e.g. 28x28x1 (vectors hold the pixels in HWC order).")
        var inputShape: String?
        @Option(help: "The network trunk as a layer spec instead of --hidden, e.g. conv3x3-32,bn,relu,maxpool2,flatten.")
        var trunk: String?
        @Option(help: "Number of classes (0 = no labels: unsupervised).") var classes: Int = 0
        @Flag(help: "Items may carry several labels.") var multiLabel = false
        @Option(help: "Blocks M (bits = M * log2 K).") var blocks: Int?
        @Option(help: "Codewords per block K.") var codebookSize: Int?
        @Option(help: "Feature dimension D.") var featureDimension: Int?
        @Option(help: "Hidden layer sizes, comma-separated (e.g. 1024,512).") var hidden: String?
        @Option(help: "Default metric: l2 or ip.") var metric: String?
        @Flag(help: "Keep original vectors (re-scoring, retraining).") var keepVectors = false
        @Option(help: "With --keep-vectors: float32 (default) or float16 (half the disk, about 3 significant digits).")
        var vectorPrecision: String?
        @Option(help: "Default training epochs.") var epochs: Int?
        @Option(help: "Inverted lists for searches with --nprobe: kmeans (default), first-block or none.") var partition: String?
        @Option(help: "k-means lists (0 = chosen from the item count).") var nlist: Int?

        func run() async throws {
            var model = ModelConfig()
            if let blocks { model.blocks = UInt32(blocks) }
            if let codebookSize { model.codebookSize = UInt32(codebookSize) }
            if let featureDimension { model.featureDimension = UInt32(featureDimension) }
            if let hidden {
                let sizes = hidden.split(separator: ",").compactMap { UInt32($0) }
                model.hiddenSizes = .with { $0.sizes = sizes }
            }
            if let trunk { model.trunk = trunk }
            var shape: (height: Int, width: Int, channels: Int)?
            if let inputShape {
                let parts = inputShape.lowercased().split(separator: "x").map { Int($0) }
                guard parts.count == 3, let h = parts[0], let w = parts[1], let c = parts[2] else {
                    throw ValidationError("--input-shape must be HxWxC, e.g. 28x28x1; got '\(inputShape)'")
                }
                shape = (h, w, c)
            }
            guard dimension != nil || shape != nil else { throw ValidationError("give --dimension or --input-shape") }
            if classes > 0 { model.labelMode = multiLabel ? .multi : .single; model.numClasses = UInt32(classes) } else { model.labelMode = .none }
            let m: Metric = switch metric { case "ip", "inner_product": .innerProduct; case "l2", "squared_l2": .squaredL2; default: .unspecified }
            var defaults: TrainingOptions?
            if let epochs { defaults = .with { $0.epochs = UInt32(epochs) } }
            var index: Dpq_V1_IndexConfig?
            if partition != nil || nlist != nil {
                let p: Dpq_V1_ListPartition = switch partition {
                case nil, "kmeans": .kmeans
                case "first-block", "first_block": .firstBlock
                case "none": .none
                default: throw ValidationError("--partition must be kmeans, first-block or none; got '\(partition!)'")
                }
                guard (nlist ?? 0) >= 0 else { throw ValidationError("--nlist must be >= 0") }
                index = .with { $0.partition = p; $0.nlist = UInt32(clamping: nlist ?? 0) }
            }
            let indexConfig = index
            let precision: Dpq_V1_VectorPrecision = switch vectorPrecision {
            case nil: .unspecified
            case "float32": .float32
            case "float16": .float16
            default: throw ValidationError("--vector-precision must be float32 or float16; got '\(vectorPrecision!)'")
            }
            await DPQCLI.run(client) { dpq in
                let info = try await dpq.createCollection(name, inputDimension: dimension ?? 0, inputShape: shape, model: model, metric: m,
                                                          keepVectors: keepVectors, trainingDefaults: defaults, index: indexConfig,
                                                          vectorPrecision: precision)
                if client.json { printProto(info) } else { print("created \(info.name): \(describe(info))") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List collections.")
        @OptionGroup var client: ClientOptions
        func run() async throws {
            await DPQCLI.run(client) { dpq in
                let all = try await dpq.listCollections()
                if client.json { printProtos(all); return }
                if all.isEmpty { print("no collections") }
                for c in all { print("\(c.name)\t\(describe(c))") }
            }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a collection.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        func run() async throws {
            await DPQCLI.run(client) { dpq in
                let c = try await dpq.collection(name)
                if client.json { printProto(c); return }
                print("\(c.name): \(describe(c))")
                if c.hasModel {
                    print("model: \(c.model.blocks) blocks x \(c.model.codebookSize) codewords, bits \(c.model.supportedBits.map(String.init).joined(separator: "/")), D = \(c.model.quantizedDimension), sha256 \(c.model.sha256)")
                }
                if c.hasTraining {
                    let t = c.training
                    print("last training: \(t.jobID) \(t.state) \(String(format: "%.0f", t.percent))% loss \(t.losses.total)\(t.error.isEmpty ? "" : " error: \(t.error)")")
                }
                if !c.lastError.isEmpty { print("last error: \(c.lastError)") }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a collection and everything in it.")
        @OptionGroup var client: ClientOptions
        @Argument var name: String
        @Flag(help: "Succeed when it does not exist.") var allowMissing = false
        func run() async throws {
            await DPQCLI.run(client) { dpq in
                let deleted = try await dpq.deleteCollection(name, allowMissing: allowMissing)
                if client.json { printJSON(["deleted": deleted]) } else { print(deleted ? "deleted \(name)" : "\(name) did not exist") }
            }
        }
    }
}

func describe(_ c: CollectionInfo) -> String {
    let state = switch c.state { case .untrained: "untrained"; case .training: "training"; case .ready: "ready"; case .failed: "failed"; default: "unknown" }
    let lists = (c.indexLists > 0 ? ", \(c.indexLists) inverted lists" : "") + (c.indexListsBuilding ? " (new lists building)" : "")
    return "\(state), \(c.itemCount) items (\(c.pendingItems) pending), dimension \(c.config.inputDimension)\(lists)"
}

func printProto(_ m: some SwiftProtobuf.Message) {
    var o = JSONEncodingOptions()
    o.preserveProtoFieldNames = true
    print((try? m.jsonString(options: o)) ?? "{}")
}

func printProtos(_ ms: [some SwiftProtobuf.Message]) {
    var o = JSONEncodingOptions()
    o.preserveProtoFieldNames = true
    print("[" + ms.compactMap { try? $0.jsonString(options: o) }.joined(separator: ",") + "]")
}
