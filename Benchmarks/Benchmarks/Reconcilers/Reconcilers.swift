import Benchmark
import LinxKernelSim
import LinxReconcile
import Synchronization

/// The rtnl reconciler's speed targets (issue #4), on the simulated kernel:
/// - a no-op pass over 10,000 routes and 1,000 addresses costs at most 2x
///   one dump of the same state (links, addresses, routes tagged 76);
/// - a cold pass that creates them costs at most 1.5x the sum of the
///   simulated adds (the same requests sent straight to the backend).

let routeCount = 10_000
let addressCount = 1_000
let interfaces = 10

/// 10.0.0.2/16 on eth0 (the gateway's subnet), 999 /32s spread over
/// eth1...eth10, and 10,000 /24 routes via 10.0.0.1.
let desired: RtnlDesiredState = {
    var state: RtnlDesiredState = [.address("10.0.0.2/16", on: "eth0")]
    for i in 0..<(addressCount - 1) {
        state.append(.address("172.16.\(i / 250).\(1 + i % 250)/32", on: "eth\(1 + i % interfaces)"))
    }
    for i in 0..<routeCount {
        state.append(.route(to: "10.\(100 + i / 256).\(i % 256).0/24", via: "10.0.0.1"))
    }
    return state
}()

/// A booted host with eth0...eth10 and nothing configured.
func bareHost() -> SimKernel {
    let kernel = SimKernel(seed: 1, recordsHistory: false)
    for i in 0...interfaces { try! kernel.addLink("eth\(i)") }
    return kernel
}

/// A host converged on `desired`, and the reconciler (with its pass cache)
/// that converged it.
struct Converged: Sendable {
    let kernel: SimKernel
    let reconciler: RtnlReconciler
    let lastApplied: RtnlLastApplied
}

let converged = Mutex<Converged?>(nil)

func setUpConverged() async {
    let kernel = bareHost()
    let reconciler = RtnlReconciler(backend: kernel)
    let report = try! await reconciler.reconcile(in: .current, desired: desired)
    precondition(report.converged && report.applied.count == routeCount + addressCount)
    converged.withLock { $0 = Converged(kernel: kernel, reconciler: reconciler, lastApplied: report.lastApplied) }
}

/// The requests a cold pass sends, computed once on a bare host (link
/// indices are deterministic, so they are valid on every bare host).
let coldRequests: [RtnlRequest] = {
    let kernel = bareHost()
    let links = try! kernel.snapshot().links
    let resolved = try! RtnlNormalizer.resolve(desired, links: links)
    return resolved.addresses.map { .addAddress($0) } + resolved.routes.map { .addRoute($0) }
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 200)

    Benchmark("rtnl reference: one dump (links, addresses, routes proto 76), 10k routes + 1k addresses") { benchmark in
        let host = converged.withLock { $0! }
        let filter = RouteFilter(proto: RouteProtocol.linx)
        benchmark.startMeasurement()
        blackHole(try await host.kernel.links(in: .current))
        blackHole(try await host.kernel.addresses(in: .current))
        blackHole(try await host.kernel.routes(in: .current, matching: filter))
        benchmark.stopMeasurement()
    } setup: {
        await setUpConverged()
    }

    Benchmark("rtnl no-op pass, steady state (same reconciler), 10k routes + 1k addresses") { benchmark in
        let host = converged.withLock { $0! }
        benchmark.startMeasurement()
        let report = try await host.reconciler.reconcile(in: .current, desired: desired, lastApplied: host.lastApplied)
        benchmark.stopMeasurement()
        precondition(report.planned.isEmpty, "not a no-op pass")
    } setup: {
        await setUpConverged()
    }

    Benchmark("rtnl no-op pass, fresh reconciler (validate + diff), 10k routes + 1k addresses") { benchmark in
        let host = converged.withLock { $0! }
        let reconciler = RtnlReconciler(backend: host.kernel)
        benchmark.startMeasurement()
        let report = try await reconciler.reconcile(in: .current, desired: desired, lastApplied: host.lastApplied)
        benchmark.stopMeasurement()
        precondition(report.planned.isEmpty, "not a no-op pass")
    } setup: {
        await setUpConverged()
    }

    Benchmark(
        "rtnl cold pass: create 10k routes + 1k addresses",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 60)
    ) { benchmark in
        let kernel = bareHost()
        let reconciler = RtnlReconciler(backend: kernel)
        benchmark.startMeasurement()
        let report = try await reconciler.reconcile(in: .current, desired: desired)
        benchmark.stopMeasurement()
        precondition(report.converged && report.applied.count == routeCount + addressCount)
    }

    Benchmark(
        "rtnl reference: the same 11k adds sent straight to the simulated kernel",
        configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 60)
    ) { benchmark in
        let kernel = bareHost()
        let requests = coldRequests
        benchmark.startMeasurement()
        let results = await kernel.execute(requests, in: .current, stopOnError: true)
        benchmark.stopMeasurement()
        precondition(results.count == requests.count)
    }
}
