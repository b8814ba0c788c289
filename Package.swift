// swift-tools-version:6.1
import PackageDescription

// The engine is compiled with optimisation even in debug builds: its tests train small
// networks and scan codes, which is 10-50x slower unoptimised.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "dpq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DPQEngine", targets: ["DPQEngine"]),
        .executable(name: "dpq-bench", targets: ["dpq-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(name: "DPQEngine", dependencies: ["CBLAS"], swiftSettings: optimised),
        .executableTarget(name: "dpq-bench", dependencies: [
            "DPQEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "DPQEngineTests", dependencies: ["DPQEngine"]),
    ]
)
