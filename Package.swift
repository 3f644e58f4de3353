// swift-tools-version:6.0
import PackageDescription

// Layers (../shared/DESIGN.md): CUmk and UmkHost alone talk to the host kernel; UmkKernel is the guest kernel
// and reaches the host only through UmkHost; `umk` is the command line. CLinuxABI declares the guest's structs
// (types and constants, no functions), the one C module the guest kernel imports.
let package = Package(
    name: "umk",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "umk", targets: ["umk"]),
        .library(name: "UmkKernel", targets: ["UmkKernel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        .target(name: "CUmk"),
        .target(name: "CLinuxABI"),
        .target(
            name: "UmkHost",
            dependencies: ["CUmk", "CLinuxABI", .product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "UmkKernel",
            dependencies: ["UmkHost", "CLinuxABI", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "umk",
            dependencies: ["UmkKernel", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "UmkKernelTests", dependencies: ["UmkKernel", "UmkHost", "CLinuxABI"]),
        .testTarget(name: "UmkSystemTests", dependencies: ["umk", "UmkKernel"]),
    ],
    swiftLanguageModes: [.v6]
)
