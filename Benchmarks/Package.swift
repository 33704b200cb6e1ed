// swift-tools-version: 6.1
// Performance targets for Linx, kept out of the main package so `swift build`
// and `swift test` there never build package-benchmark.
// Run: swift package --package-path Benchmarks benchmark  (see README.md)
import PackageDescription

let package = Package(
    name: "LinxBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Linx", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SimKernel",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LinxKernelSim", package: "Linx"),
                .product(name: "LinxReconcile", package: "Linx"),
            ],
            path: "Benchmarks/SimKernel",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ReconcileLoop",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LinxKernelSim", package: "Linx"),
                .product(name: "LinxReconcile", package: "Linx"),
            ],
            path: "Benchmarks/ReconcileLoop",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Fuzz",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LinxConformance", package: "Linx"),
                .product(name: "LinxKernelSim", package: "Linx"),
            ],
            path: "Benchmarks/Fuzz",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Reconcilers",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LinxKernelSim", package: "Linx"),
                .product(name: "LinxReconcile", package: "Linx"),
            ],
            path: "Benchmarks/Reconcilers",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
