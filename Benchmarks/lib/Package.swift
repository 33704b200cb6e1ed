// swift-tools-version: 6.1
// What the real-kernel benchmark drivers (kernel/, nftables/, loop-kernel/)
// share: timing, medians, running a reference command. A package of its own
// so each driver's tiny package can depend on it by path.
import PackageDescription

let package = Package(
    name: "BenchSupport",
    platforms: [.macOS(.v15)],
    products: [.library(name: "BenchSupport", targets: ["BenchSupport"])],
    targets: [.target(name: "BenchSupport")],
    swiftLanguageModes: [.v6]
)
