// swift-tools-version: 6.1
// The real-kernel ReconcileLoop latency benchmark's driver (see
// bench-loop.sh): its own tiny package so it builds in release mode without
// touching the main build, and needs root, which package-benchmark runs don't have.
import PackageDescription

let package = Package(
    name: "LoopKernelBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Linx", path: "../.."),
        .package(name: "BenchSupport", path: "../lib"),
    ],
    targets: [
        .executableTarget(
            name: "LoopKernelBench",
            dependencies: [
                .product(name: "LinxLinux", package: "Linx"),
                .product(name: "LinxReconcile", package: "Linx"),
                .product(name: "BenchSupport", package: "BenchSupport"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
