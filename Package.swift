// swift-tools-version:6.1
import PackageDescription

// The engine is compiled with optimisation even in debug builds: its tests train small
// networks and scan codes, which is 10-50x slower unoptimised.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

let grpc: [Target.Dependency] = [
    .product(name: "GRPCCore", package: "grpc-swift-2"),
    .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
    .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
    .product(name: "SwiftProtobuf", package: "swift-protobuf"),
]

let package = Package(
    name: "dpq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DPQEngine", targets: ["DPQEngine"]),
        .library(name: "DPQClient", targets: ["DPQClient"]),
        .executable(name: "dpq", targets: ["dpq"]),
        .executable(name: "dpq-bench", targets: ["dpq-bench"]),
        .executable(name: "dpq-grpc-bench", targets: ["dpq-grpc-bench"]),
        .executable(name: "dpq-load", targets: ["dpq-load"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        // traits: [] keeps SwiftPM from recompiling SwiftProtobuf on every re-plan.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // Tracing (off unless an OTLP endpoint is configured): the API, and swift-otel's OTLP exporter.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0"),
        // The PostgreSQL store (`dpq serve --store postgres://...`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS to PostgreSQL (already under grpc-swift-nio-transport and postgres-nio).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // 1. engine
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // Fast-scan kernels for 4-bit codes (AVX-512BW / AVX2 / portable C, chosen at run time).
        .target(name: "CFastScan", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "DPQEngine", dependencies: ["CBLAS", "CFastScan"], swiftSettings: optimised),
        // 2. storage
        .target(name: "DPQStorage", dependencies: [
            "DPQEngine",
            .product(name: "GRDB", package: "GRDB.swift"),
            // The raw SQLite API, for the bulk load that reads blobs without copying them.
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        // The same storage interface over PostgreSQL, apart so that SQLite-only users of DPQStorage
        // (the crash writer, the engine's tools) do not link a network database driver.
        .target(name: "DPQPostgresStorage", dependencies: ["DPQStorage", "DPQEngine",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Child process for the kill -9 durability test: upserts batches and prints "acked <n>".
        .executableTarget(name: "storage-crash-writer", dependencies: ["DPQStorage"]),
        // API (generated from proto/ by scripts/gen-proto.sh)
        .target(name: "DPQProto", dependencies: grpc),
        // 3. server
        .target(name: "DPQServerSupport", dependencies: ["DPQProto",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "OTel", package: "swift-otel"),
        ] + grpc),
        .target(name: "DPQServer", dependencies: ["DPQEngine", "DPQStorage", "DPQPostgresStorage", "DPQProto", "DPQServerSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ] + grpc),
        // 4. client
        .target(name: "DPQClient", dependencies: ["DPQProto",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
        ] + grpc),
        // Image files in (I/O, not engine math): libpng and libjpeg-turbo from Debian, driven by a
        // small C shim that catches their errors with setjmp (libjpeg's default error_exit exits).
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"]),
        .target(name: "ImageFiles", dependencies: ["CImageCodecs"]),
        // 5. CLI
        .executableTarget(name: "dpq", dependencies: ["DPQClient", "DPQServer", "DPQServerSupport", "DPQEngine", "ImageFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // /proc memory and latency percentiles for the benchmark and load tools below.
        .target(name: "BenchSupport"),
        .executableTarget(name: "dpq-bench", dependencies: [
            "DPQEngine", "DPQStorage", "BenchSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Search latency and throughput over gRPC against the same search in process.
        .executableTarget(name: "dpq-grpc-bench", dependencies: ["DPQClient", "DPQServer", "DPQServerSupport", "DPQEngine", "BenchSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Load test on demand: concurrent searches, upserts and a training against `dpq serve`; JSON out.
        .executableTarget(name: "dpq-load", dependencies: ["DPQClient", "DPQProto", "DPQEngine", "BenchSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "DPQEngineTests", dependencies: ["DPQEngine", "ChildProcesses"], exclude: ["Fixtures"]),
        // libpng's and libjpeg's encoders, for the image tests to write every kind of file.
        .target(name: "CImageTestEncoders", dependencies: ["CPNG", "CJPEG"], path: "Tests/CImageTestEncoders"),
        .testTarget(name: "ImageFilesTests", dependencies: ["ImageFiles", "CImageTestEncoders"]),
        // Starts a throwaway PostgreSQL server (initdb in a temporary folder) for the tests.
        .target(name: "PostgresTestSupport", dependencies: ["ChildProcesses"], path: "Tests/PostgresTestSupport"),
        // Child processes with every wait bounded (posix_spawn and waitpid), for every test target.
        .target(name: "ChildProcesses", path: "Tests/ChildProcesses"),
        .testTarget(name: "DPQStorageTests", dependencies: ["DPQStorage", "DPQPostgresStorage", "DPQEngine", "PostgresTestSupport",
                                                            "ChildProcesses", "storage-crash-writer"]),
        .testTarget(name: "DPQServerSupportTests", dependencies: ["DPQServerSupport", "DPQProto", "ChildProcesses",
            .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            .product(name: "OTel", package: "swift-otel"),
        ] + grpc),
        .testTarget(name: "DPQServerTests", dependencies: ["DPQServer", "DPQClient", "DPQServerSupport", "DPQEngine", "DPQProto",
            "CImageTestEncoders", "PostgresTestSupport", "ChildProcesses",
            .product(name: "Tracing", package: "swift-distributed-tracing"),
            // The in-process OTLP/HTTP receiver of the export test.
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ] + grpc),
    ]
)
