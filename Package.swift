// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Linx",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LinxReconcile", targets: ["LinxReconcile"]),
        .library(name: "LinxKernelSim", targets: ["LinxKernelSim"]),
        .library(name: "LinxConformance", targets: ["LinxConformance"]),
        .library(name: "LinxConformanceKernel", targets: ["LinxConformanceKernel"]),
        .library(name: "LinxLinux", targets: ["LinxLinux"]),
        .library(name: "LinxFidelity", targets: ["LinxFidelity"]),
        .library(name: "LinxHost", targets: ["LinxHost"]),
        .library(name: "LinxTestSupport", targets: ["LinxTestSupport"]),
        .executable(name: "linx", targets: ["linx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // `swift package generate-documentation` (`make docs`): the DocC catalogs.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        .systemLibrary(
            name: "CNftables",
            pkgConfig: "libnftables",
            providers: [.apt(["libnftables-dev", "libnftnl-dev", "libmnl-dev", "nftables"])]
        ),
        .target(
            name: "LinxReconcile",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // The host document (every subsystem's desired state in one YAML or
        // JSON file, with the line of every entry) and the composite that
        // plans all its sections before applying any.
        .target(
            name: "LinxHost",
            dependencies: ["LinxReconcile", "CYAML"]
        ),
        .target(
            name: "LinxKernelSim",
            dependencies: [
                "LinxReconcile",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "LinxLinux",
            dependencies: [
                "LinxReconcile", "CNetlink", "CNftables",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Throwaway network namespaces and cgroups (and the process runner
        // that makes them) for tests on the real kernel: a testing product,
        // kept out of the backend a node agent links.
        .target(
            name: "LinxTestSupport",
            dependencies: ["LinxReconcile", "LinxLinux"]
        ),
        // The differential check of the simulator against the real kernel.
        .target(
            name: "LinxFidelity",
            dependencies: ["LinxReconcile", "LinxKernelSim", "LinxLinux", "LinxTestSupport"]
        ),
        // The suite a Source author runs needs no libnl and no root: it
        // stays off LinxLinux the way NIOEmbedded stays off NIOPosix.
        .target(
            name: "LinxConformance",
            dependencies: [
                "LinxReconcile", "LinxKernelSim",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The built-in Sources' subjects on the real kernel (root only).
        .target(
            name: "LinxConformanceKernel",
            dependencies: ["LinxConformance", "LinxReconcile", "LinxKernelSim", "LinxLinux", "LinxTestSupport"]
        ),
        // The template for a team writing its own Source: a subsystem Linx
        // does not cover, its Source, and its conformance subject.
        .target(
            name: "HostsSourceExample",
            dependencies: ["LinxReconcile", "LinxConformance"],
            path: "Examples/HostsSource",
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "linx",
            dependencies: [
                "LinxReconcile", "LinxHost", "LinxKernelSim", "LinxLinux", "LinxConformance", "LinxConformanceKernel",
                "LinxFidelity", "LinxTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "NodeAgentExample",
            dependencies: [
                "LinxReconcile", "LinxKernelSim",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/NodeAgent",
            exclude: ["README-snippet.md"]
        ),
        .testTarget(
            name: "LinxReconcileTests",
            dependencies: [
                "LinxReconcile",
                "LinxKernelSim",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "LinxKernelSimTests", dependencies: ["LinxKernelSim", "LinxLinux", "LinxTestSupport"]),
        .testTarget(name: "LinxHostTests", dependencies: ["LinxHost", "LinxReconcile", "LinxKernelSim"]),
        .testTarget(name: "LinxLinuxTests", dependencies: ["LinxLinux", "LinxKernelSim", "LinxTestSupport"]),
        .testTarget(name: "LinxFidelityTests", dependencies: ["LinxFidelity", "LinxKernelSim", "LinxLinux", "LinxReconcile", "LinxTestSupport"]),
        .testTarget(
            name: "LinxConformanceTests",
            dependencies: ["LinxConformance", "LinxKernelSim", "LinxReconcile", "HostsSourceExample"]
        ),
        .testTarget(
            name: "LinxConformanceKernelTests",
            dependencies: ["LinxConformanceKernel", "LinxConformance", "LinxReconcile"]
        ),
        .testTarget(name: "linxTests", dependencies: ["linx", "LinxLinux", "LinxTestSupport", "NodeAgentExample"]),
    ],
    swiftLanguageModes: [.v6]
)
