import DPQClient
import DPQEngine
import DPQProto
import DPQServerSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

extension HostileInputTests {
    /// Semantic bad input that BadInputTests does not send.
    func semanticCases(_ run: Run, model: [UInt8], q: (vectors: [[Float]], labels: [UInt32])) async throws {
        let invalid: Set<Code?> = [.invalidArgument], exhausted: Set<Code?> = [.resourceExhausted]
        let search = Dpq_V1_SearchService.Method.Search.descriptor
        let evaluate = Dpq_V1_SearchService.Method.Evaluate.descriptor
        let encode = Dpq_V1_ModelService.Method.Encode.descriptor
        let decode = Dpq_V1_ModelService.Method.Decode.descriptor
        let upsert = Dpq_V1_ItemService.Method.UpsertItems.descriptor
        let get = Dpq_V1_ItemService.Method.GetItems.descriptor
        let delete = Dpq_V1_ItemService.Method.DeleteItems.descriptor
        let count = Dpq_V1_ItemService.Method.CountItems.descriptor
        let list = Dpq_V1_ItemService.Method.ListItems.descriptor
        let upload = Dpq_V1_TrainingService.Method.UploadTrainingData.descriptor
        let start = Dpq_V1_TrainingService.Method.StartTraining.descriptor
        let watch = Dpq_V1_TrainingService.Method.WatchTraining.descriptor
        let cancel = Dpq_V1_TrainingService.Method.CancelTraining.descriptor
        let create = Dpq_V1_CollectionService.Method.CreateCollection.descriptor
        let importModel = Dpq_V1_ModelService.Method.ImportModel.descriptor
        let export = Dpq_V1_ModelService.Method.ExportModel.descriptor
        let v0 = q.vectors[0]
        func queries(_ rows: [[Float]]) -> Dpq_V1_DenseVectors { Self.dense(rows) }
        func withValue(_ x: Float, at i: Int = 3) -> [Float] { var v = v0; v[i] = x; return v }

        // NaN and infinities wherever floats are taken.
        for (name, x) in [("NaN", Float.nan), ("+Inf", Float.infinity), ("-Inf", -Float.infinity), ("signalling NaN", Float.signalingNaN)] {
            try await run.expect("\(name) in a query", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([withValue(x)]); $0.k = 3 }, invalid, "finite")
            try await run.expect("\(name) in evaluate queries", evaluate, Dpq_V1_EvaluateRequest.with {
                $0.collection = "h"; $0.queries = queries([withValue(x)]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }
            }, invalid, "finite")
            try await run.expect("\(name) in encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([withValue(x)]) }, invalid, "finite")
            try await run.expect("\(name) in an upserted vector", upsert, Dpq_V1_UpsertItemsRequest.with {
                $0.collection = "h"; $0.items = [Self.item(1, v0, [0]), Self.item(2, withValue(x, at: 15), [0])]
            }, invalid, "items[1].vector[15]")
            await run.expect("\(name) in training data", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
                $0.collection = "u"; $0.vectors = queries([v0, withValue(x)]); $0.labels = .with { $0.classIds = .with { $0.ids = [0, 1] } }
            })], invalid, "finite")
            try await run.expect("\(name) dropout", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = "nan-dropout"; $0.config = .with { $0.inputDimension = 4; $0.model = .with { $0.dropout = x } }
            }, invalid, "dropout")
            try await run.expect("\(name) learning rate", start, Dpq_V1_StartTrainingRequest.with {
                $0.collection = "h"; $0.options = .with { $0.learningRate = x }
            }, invalid, "learning_rate")
            try await run.expect("\(name) loss weight tau", start, Dpq_V1_StartTrainingRequest.with {
                $0.collection = "h"; $0.options = .with { $0.lossWeights = .with { $0.tau = x } }
            }, invalid, "tau")
            try await run.expect("\(name) momentum", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = "nan-momentum"; $0.config = .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.momentum = x } }
            }, invalid, "momentum")
        }
        // Finite values so large that the network overflows: a clear INVALID_ARGUMENT, nothing stored.
        let huge = [Float](repeating: .greatestFiniteMagnitude, count: 16)
        try await run.expect("largest finite values in a query", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0, huge]); $0.k = 3
        }, invalid, "queries: row 1 is too large")
        try await run.expect("largest finite values to encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([huge]) }, invalid, "too large")
        try await run.expect("largest finite values in an upserted vector", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [Self.item(7777, v0), Self.item(7778, huge)]
        }, invalid, "items[1].vector is too large")
        let none7777 = try await run.dpq.getItems("h", ids: [.number(7777)])
        #expect(none7777.items.isEmpty, "a rejected batch was partly stored")
        try await run.expect("small finite values in a query", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([[Float](repeating: .leastNonzeroMagnitude, count: 16)]); $0.k = 3
        }, [nil])

        // Empty batches.
        try await run.expect("empty queries", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = .with { $0.dimension = 16 }; $0.k = 3 }, invalid, "empty")
        try await run.expect("queries without a dimension", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = .with { $0.values = v0 }; $0.k = 3 }, invalid, "dimension")
        try await run.expect("values not a multiple of the dimension", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = .with { $0.dimension = 16; $0.values = Array(v0.prefix(10)) }; $0.k = 3
        }, invalid, "multiple")
        try await run.expect("empty encode batch", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = .with { $0.dimension = 16 } }, invalid, "empty")
        try await run.expect("empty evaluate batch", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = .with { $0.dimension = 16 }; $0.queryLabels = .with { $0.classIds = .init() }
        }, invalid, "empty")
        await run.expect("empty training chunk", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = .with { $0.dimension = 16 }
        })], invalid, "empty")
        try await run.expect("item without a vector", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [.with { $0.id = .with { $0.num = 3 } }]
        }, invalid, "items[0].vector is required")
        try await run.expect("item without an id", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [.with { $0.vector = .with { $0.values = v0 } }]
        }, invalid, "items[0].id is required")

        // Oversized batches (limits: 100 rows, 8 queries, 8 evaluation queries, 1000 dataset rows, 1 MiB models).
        let many = Clusters.make(101, seed: 5)
        try await run.expect("101 items", upsert, Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = many.vectors.enumerated().map { Self.item(UInt64(7000 + $0), $1) }
        }, exhausted, "max_batch_rows")
        try await run.expect("101 ids to get", get, Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = (0..<101).map { i in .with { $0.num = UInt64(i) } } }, exhausted, "max_batch_rows")
        try await run.expect("101 ids to delete", delete, Dpq_V1_DeleteItemsRequest.with { $0.collection = "h"; $0.ids = (0..<101).map { i in .with { $0.num = UInt64(90_000 + i) } } }, exhausted, "max_batch_rows")
        try await run.expect("101 vectors to encode", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries(many.vectors) }, exhausted, "max_batch_rows")
        try await run.expect("101 codes to decode", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data](repeating: Data([1, 2, 3]), count: 101) }, exhausted, "max_batch_rows")
        try await run.expect("9 queries", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries(Array(many.vectors.prefix(9))); $0.k = 3 }, exhausted, "max_search_queries")
        try await run.expect("9 evaluation queries", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries(Array(many.vectors.prefix(9))); $0.queryLabels = .with { $0.classIds = .with { $0.ids = Array(many.labels.prefix(9)) } }
        }, exhausted, "max_evaluate_queries")
        await run.expect("a 101-row training chunk", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = queries(many.vectors); $0.labels = .with { $0.classIds = .with { $0.ids = many.labels } }
        })], exhausted, "max_batch_rows")
        let chunk = try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.dataset = "big"; $0.vectors = queries(Array(many.vectors.prefix(100))); $0.labels = .with { $0.classIds = .with { $0.ids = Array(many.labels.prefix(100)) } }
        })
        await run.expect("1100 rows over 11 chunks", upload, [[UInt8]](repeating: chunk, count: 11), exhausted, "max_dataset_rows")
        try await run.expect("filter of 2000 labels", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.filter = .with { $0.anyOf = (0..<2000).map(UInt32.init) }
        }, exhausted, "max_labels_per_item")
        try await run.expect("rescore oversampling 1000", search, Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.rescore = .with { $0.oversampling = 1000 }
        }, exhausted, "max_rescore_oversampling")
        try await run.expect("k = UInt32.max", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = .max }, exhausted, "max_k")
        try await run.expect("precision_at_k 10 million", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }; $0.precisionAtK = [10_000_000]
        }, exhausted, "max_k")
        try await run.expect("page_size 4 billion (clamped)", list, Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageSize = .max }, [nil])
        try await run.expect("k larger than the collection", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 5000 }, [nil])
        try await run.expect("export chunk_bytes 1 (clamped)", Dpq_V1_ModelService.Method.ExportModel.descriptor,
                             Dpq_V1_ExportModelRequest.with { $0.collection = "h"; $0.chunkBytes = 1 }, [nil])

        // Bits out of range.
        for bits: UInt32 in [1, 3, 13, 24, 64, .max] {
            try await run.expect("search bits \(bits)", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.bits = bits }, invalid, "bits")
            try await run.expect("encode bits \(bits)", encode, Dpq_V1_EncodeRequest.with { $0.collection = "h"; $0.vectors = queries([v0]); $0.bits = bits }, invalid, "bits")
            try await run.expect("decode bits \(bits)", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1])]; $0.bits = bits }, invalid, "bits")
        }
        try await run.expect("evaluate bits [8, 5]", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [0] } }; $0.bits = [8, 5]
        }, invalid, "bits[1]")
        // Code values at or above K (16) in a decode.
        try await run.expect("decode code value 200 with K 16", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([1, 200, 3])] }, invalid, "code")
        try await run.expect("decode code value 16 with K 16", decode, Dpq_V1_DecodeRequest.with { $0.collection = "h"; $0.codes = [Data([16, 0, 0])] }, invalid, "code")

        // Unknown enum values.
        try await run.expect("metric 99", search, Dpq_V1_SearchRequest.with { $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.metric = .UNRECOGNIZED(99) }, invalid, "metric")
        try await run.expect("label_mode 42", create, Dpq_V1_CreateCollectionRequest.with {
            $0.name = "enum42"; $0.config = .with { $0.inputDimension = 4; $0.model = .with { $0.labelMode = .UNRECOGNIZED(42) } }
        }, invalid, "label_mode")
        try await run.expect("optimizer 7", start, Dpq_V1_StartTrainingRequest.with { $0.collection = "h"; $0.options = .with { $0.optimizer = .UNRECOGNIZED(7) } }, invalid, "optimizer")
        await run.expect("upload mode 9", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.mode = .UNRECOGNIZED(9); $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } }
        })], invalid, "mode")

        // Out-of-range configuration numbers.
        for (name, config) in [
            ("input_dimension 2^31", Dpq_V1_CollectionConfig.with { $0.inputDimension = 1 << 31 }),
            ("hidden size 100000", .with { $0.inputDimension = 4; $0.model = .with { $0.hiddenSizes = .with { $0.sizes = [100_000] }; $0.numClasses = 2 } }),
            ("nine hidden layers", .with { $0.inputDimension = 4; $0.model = .with { $0.hiddenSizes = .with { $0.sizes = [UInt32](repeating: 4, count: 9) }; $0.numClasses = 2 } }),
            ("codebook_size 3", .with { $0.inputDimension = 4; $0.model = .with { $0.codebookSize = 3 } }),
            ("codebook_size 2^31", .with { $0.inputDimension = 4; $0.model = .with { $0.codebookSize = 1 << 31 } }),
            ("num_classes 4 billion", .with { $0.inputDimension = 4; $0.model = .with { $0.numClasses = .max } }),
            ("batch_size 0 in training defaults", .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.batchSize = 0 } }),
            ("epochs 4 billion in training defaults", .with { $0.inputDimension = 4; $0.trainingDefaults = .with { $0.epochs = .max } }),
        ] {
            try await run.expect(name, create, Dpq_V1_CreateCollectionRequest.with { $0.name = "cfg"; $0.config = config }, invalid)
        }

        // Names and ids.
        for name in ["a/b", "../../etc", ".hidden", "-dash", String(repeating: "n", count: 65), "nul\u{0}byte", "späce", "tab\tname", "/abs"] {
            try await run.expect("collection name \(name.debugDescription)", create, Dpq_V1_CreateCollectionRequest.with {
                $0.name = name; $0.config = .with { $0.inputDimension = 4 }
            }, invalid, "name")
            try await run.expect("search in collection \(name.debugDescription)", search, Dpq_V1_SearchRequest.with {
                $0.collection = name; $0.queries = queries([v0]); $0.k = 1
            }, invalid, "collection")
        }
        for (name, id) in [("a 257-byte string id", Dpq_V1_ItemId.with { $0.str = String(repeating: "x", count: 257) }),
                           ("a string id with a control character", .with { $0.str = "bad\u{7}id" }),
                           ("a string id with a newline", .with { $0.str = "two\nlines" }),
                           ("an unset id", Dpq_V1_ItemId())] {
            try await run.expect(name, upsert, Dpq_V1_UpsertItemsRequest.with {
                $0.collection = "h"; $0.items = [.with { $0.id = id; $0.vector = .with { $0.values = v0 } }]
            }, invalid, "items[0].id")
            try await run.expect("get \(name)", get, Dpq_V1_GetItemsRequest.with { $0.collection = "h"; $0.ids = [id] }, invalid, "ids[0]")
        }
        for token in ["-5", "99999999999999999999", "1e3", " 1"] {
            try await run.expect("page_token \(token.debugDescription)", list, Dpq_V1_ListItemsRequest.with { $0.collection = "h"; $0.pageToken = token }, invalid, "page_token")
        }

        // Duplicate ids in one batch: the last one wins (documented), counted once.
        let dup = await run.expect("duplicate ids in one upsert", upsert, [try Self.bytes(Dpq_V1_UpsertItemsRequest.with {
            $0.collection = "h"; $0.items = [Self.item(6000, v0, [0]), Self.item(6000, q.vectors[1], [2]), Self.item(6001, v0, [1])]
        })], [nil])
        if let r = dup.responses.first.flatMap({ try? Dpq_V1_UpsertItemsResponse(serializedBytes: $0) }) {
            #expect(r.inserted == 2 && r.replaced == 0, "\(r)")
        } else { Issue.record("no upsert response") }
        let got = try await run.dpq.getItems("h", ids: [.number(6000), .number(6000), .number(6001)], withVectors: true)
        #expect(got.items.count == 2, "a repeated id is returned once")
        #expect(got.items.first { $0.id.num == 6000 }?.labels == [2], "the last occurrence wins")
        #expect(got.items.first { $0.id.num == 6000 }?.vector.values == q.vectors[1])
        let del = await run.expect("duplicate ids in one delete", delete, [try Self.bytes(Dpq_V1_DeleteItemsRequest.with {
            $0.collection = "h"; $0.ids = [.with { $0.num = 6001 }, .with { $0.num = 6001 }]
        })], [nil])
        #expect(del.responses.first.flatMap { try? Dpq_V1_DeleteItemsResponse(serializedBytes: $0) }?.deleted == 1)
        await run.expect("duplicate ids in one get", get, [try Self.bytes(Dpq_V1_GetItemsRequest.with {
            $0.collection = "h"; $0.ids = [Dpq_V1_ItemId](repeating: .with { $0.num = 1 }, count: 100)
        })], [nil])

        // Labels out of range.
        try await run.expect("evaluate query label 99", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.classIds = .with { $0.ids = [99] } }
        }, invalid, "label 99")
        try await run.expect("evaluate label sets with 2 labels in SINGLE mode", evaluate, Dpq_V1_EvaluateRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.queryLabels = .with { $0.sets = .with { $0.rows = [.with { $0.labels = [0, 1] }] } }
        }, invalid, "at most one")
        try await run.expect("upsert label 4 billion", upsert, Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(1, v0, [.max])] }, invalid, "out of range")
        try await run.expect("training from items with a label nobody has", start, Dpq_V1_StartTrainingRequest.with {
            $0.collection = "h"; $0.items = .with { $0.filter = .with { $0.anyOf = [99] } }
        }, [.failedPrecondition], "no usable rows")
        await run.expect("training label count != row count", upload, [try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with {
            $0.collection = "u"; $0.vectors = queries([v0, v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } }
        })], invalid, "1 entries for 2 rows")
        // A filter on labels nobody has is a valid question with an empty answer.
        let none = await run.expect("search filter on label 4 billion", search, [try Self.bytes(Dpq_V1_SearchRequest.with {
            $0.collection = "h"; $0.queries = queries([v0]); $0.k = 3; $0.filter = .with { $0.anyOf = [.max] }
        })], [nil])
        let hits = none.responses.first.flatMap { try? Dpq_V1_SearchResponse(serializedBytes: $0) }
        #expect(hits?.results.first?.hits.isEmpty == true && hits?.searchedItems == 0)
        let counted = await run.expect("count filter on label 99", count, [try Self.bytes(Dpq_V1_CountItemsRequest.with {
            $0.collection = "h"; $0.filter = .with { $0.anyOf = [99] }
        })], [nil])
        #expect(counted.responses.first.flatMap { try? Dpq_V1_CountItemsResponse(serializedBytes: $0) }?.count == 0)

        // Training targets that do not exist.
        try await run.expect("watch job 'nope'", watch, Dpq_V1_WatchTrainingRequest.with { $0.jobID = "nope" }, [.notFound])
        try await run.expect("cancel job ''", cancel, Dpq_V1_CancelTrainingRequest.with { $0.jobID = "" }, [.notFound])
        try await run.expect("watch an untrained collection", watch, Dpq_V1_WatchTrainingRequest.with { $0.collection = "u" }, [.notFound])
        try await run.expect("export from an untrained collection", export, Dpq_V1_ExportModelRequest.with { $0.collection = "u" }, [.failedPrecondition])

        // Model imports: truncated, corrupt, mismatched, oversized (into "imp", which may legitimately
        // take any model that verifies; "h" must never change).
        func importChunk(_ collection: String, _ data: [UInt8], total: UInt64 = 0, sha: String = "") -> [UInt8] {
            (try? Self.bytes(Dpq_V1_ImportModelRequest.with {
                $0.collection = collection; $0.data = Data(data); $0.totalBytes = total; $0.sha256 = sha
            })) ?? []
        }
        let headerLength = Int(model[0]) | Int(model[1]) << 8 | Int(model[2]) << 16
        for cut in stride(from: 1, to: model.count, by: max(1, model.count / 24)) + [7, 8, 9, headerLength + 7, headerLength + 8, headerLength + 9, model.count - 1] {
            await run.expect("model truncated to \(cut) bytes", importModel, [importChunk("imp", Array(model.prefix(cut)))], invalid, "data")
        }
        var r = SeededRandom(seed: 77)
        for i in 0..<24 {
            var bad = model
            let at = i < 12 ? Int(r.next() % UInt64(headerLength + 8)) : headerLength + 8 + Int(r.next() % UInt64(model.count - headerLength - 8))
            bad[at] ^= UInt8(1 << (r.next() % 8))
            // A flip in the header breaks JSON or a number (INVALID_ARGUMENT) or, rarely, leaves a
            // valid equivalent; a flip in tensor data gives a different valid model or a non-finite
            // value. Never anything else.
            await run.expect("model with bit \(at) flipped", importModel, [importChunk("imp", bad)], [nil, .invalidArgument])
        }
        var nan = model
        for j in 0..<4 { nan[model.count - 4 + j] = [0x00, 0x00, 0xC0, 0x7F][j] }   // the last float is NaN
        await run.expect("model whose last weight is NaN", importModel, [importChunk("imp", nan)], invalid, "non-finite")
        var hugeHeader = model
        for j in 0..<8 { hugeHeader[j] = j == 4 ? 1 : 0 }   // 4 GiB header length
        await run.expect("model header declaring 4 GiB", importModel, [importChunk("imp", hugeHeader)], invalid, "header length")
        var maxHeader = model
        for j in 0..<8 { maxHeader[j] = 0xFF }
        await run.expect("model header declaring 2^64 - 1 bytes", importModel, [importChunk("imp", maxHeader)], invalid, "header length")
        let json = Array("{\"__metadata__\":{\"format\":\"dpq-model\",\"format_version\":\"1\",\"config\":\"{}\"},\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}}".utf8)
        let absurd = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + [UInt8](repeating: 0, count: 16)
        await run.expect("a tensor declaring 2^62 x 4 floats", importModel, [importChunk("imp", absurd)], invalid, "data")
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        let nested = withUnsafeBytes(of: UInt64(deep.count).littleEndian) { Array($0) } + deep
        await run.expect("a header of 100000 nested arrays", importModel, [importChunk("imp", nested)], invalid, "data")
        await run.expect("sha256 that does not match", importModel, [importChunk("imp", model, sha: String(repeating: "0", count: 64))], invalid, "sha256")
        await run.expect("total_bytes larger than what arrives", importModel, [importChunk("imp", model, total: UInt64(model.count + 1))], invalid, "total_bytes")
        await run.expect("the model twice in one stream", importModel, [importChunk("imp", model), importChunk("", model)], invalid, "data")
        await run.expect("a later chunk naming another collection", importModel,
                         [importChunk("imp", Array(model.prefix(100))), importChunk("h", Array(model.dropFirst(100)))], invalid, "collection")
        await run.expect("import into '../x'", importModel, [importChunk("../x", model)], invalid, "collection")
        await run.expect("a model over max_model_bytes", importModel,
                         [importChunk("imp", [UInt8](repeating: 0, count: 600_000)), importChunk("", [UInt8](repeating: 0, count: 600_000))], exhausted, "max_model_bytes")
        try await run.dpq.createCollection("dim8", inputDimension: 8, model: smallModel())
        try await run.dpq.createCollection("m2", inputDimension: 16, model: { var m = smallModel(); m.blocks = 2; return m }())
        try await run.dpq.createCollection("k32", inputDimension: 16, model: { var m = smallModel(); m.codebookSize = 32; return m }())
        try await run.dpq.createCollection("c5", inputDimension: 16, model: smallModel(classes: 5))
        await run.expect("a model for dimension 16 into a dimension-8 collection", importModel, [importChunk("dim8", model)], invalid, "input_dimension")
        await run.expect("a model with 3 blocks into a 2-block collection", importModel, [importChunk("m2", model)], invalid, "blocks")
        await run.expect("a model with K 16 into a K 32 collection", importModel, [importChunk("k32", model)], invalid, "codebook_size")
        await run.expect("a model for 4 classes into a 5-class collection", importModel, [importChunk("c5", model)], invalid, "num_classes")
        await run.expect("a valid model into imp", importModel, [importChunk("imp", model)], [nil])

        // Later stream messages naming another collection.
        await run.expect("upsert stream batch naming another collection", Dpq_V1_ItemService.Method.UpsertItemsStream.descriptor, [
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "h"; $0.items = [Self.item(6100, v0)] }),
            try Self.bytes(Dpq_V1_UpsertItemsRequest.with { $0.collection = "u"; $0.items = [Self.item(6101, v0)] }),
        ], invalid, "collection")
        await run.expect("upload chunk naming another collection", upload, [
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "mix"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "h"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
        ], invalid, "collection")
        await run.expect("upload chunk naming another dataset", upload, [
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.collection = "u"; $0.dataset = "mix"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
            try Self.bytes(Dpq_V1_UploadTrainingDataRequest.with { $0.dataset = "other"; $0.vectors = queries([v0]); $0.labels = .with { $0.classIds = .with { $0.ids = [0] } } }),
        ], invalid, "dataset")
        #expect(try await run.dpq.collection("u").datasets.contains { $0.name == "mix" } == false)
    }
}
