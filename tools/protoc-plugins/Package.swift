// swift-tools-version:6.1
// Wrapper package that only pins and builds the two protoc plugins used by scripts/gen-proto.sh:
//   protoc-gen-swift (swift-protobuf) and protoc-gen-grpc-swift-2 (grpc-swift-protobuf).
// Not part of the product build. Its .build/ folder is gitignored.
import PackageDescription

let package = Package(
    name: "protoc-plugins",
    dependencies: [
        // traits: [] keeps SwiftPM from recompiling SwiftProtobuf when alternating --product builds.
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0", traits: []),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: []
)
