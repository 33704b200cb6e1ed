import Benchmark
import LinxKernelSim
import LinxReconcile
import Synchronization

/// Simulated-kernel speed on a namespace holding 100,000 routes: the
/// simulator is the engine under fuzzing. Targets (issue #3): at least
/// 1,000,000 route adds or deletes per second in release, a dump of 100,000
/// routes under 20 ms, 100,000 routes in under 64 MiB.

/// Routes already in the namespace.
let resident = 100_000
/// Requests per batch in the add/delete benchmark.
let batch = 1_000

/// `count` /32 routes via 192.168.0.1 starting at `base` (host order).
func hostRoutes(_ count: Int, base: UInt32) -> [Route] {
    (0..<count).map { i in
        Route(destination: try! IPPrefix(.v4(base + UInt32(i)), length: 32), gateway: .v4(0xC0A8_0001))
    }
}

/// A kernel with v0 (192.168.0.2/24) and `resident` routes through it,
/// history off as a fuzzer runs it.
func loadedKernel() async -> SimKernel {
    let kernel = SimKernel(seed: 1, recordsHistory: false)
    let v0 = try! kernel.addLink("v0")
    _ = await kernel.execute(
        [.addAddress(InterfaceAddress(ifindex: v0, address: .v4(0xC0A8_0002), prefixLength: 24))], in: .current, stopOnError: true)
    // In batches, so the peak-memory figure is the routes, not a 100k-request array.
    for start in stride(from: 0, to: resident, by: batch) {
        let requests = hostRoutes(batch, base: 0x0A00_0000 + UInt32(start)).map(RtnlRequest.addRoute)
        _ = await kernel.execute(requests, in: .current, stopOnError: true)
    }
    precondition(kernel.routeCount() >= resident, "setup failed")
    return kernel
}

/// The loaded kernel, built once per benchmark in its setup hook so the
/// measured runs do not pay for it.
let loaded = Mutex<SimKernel?>(nil)

func setUpLoaded() async {
    let kernel = await loadedKernel()
    loaded.withLock { $0 = kernel }
}

func tearDownLoaded() async {
    loaded.withLock { $0 = nil }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 1_000)

    Benchmark(
        "route add then delete, \(batch) each, 100k routes resident",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .one)
    ) { benchmark in
        let kernel = loaded.withLock { $0! }
        let routes = hostRoutes(batch, base: 0x0B00_0000)
        let adds = routes.map(RtnlRequest.addRoute)
        let deletes = routes.map(RtnlRequest.deleteRoute)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(await kernel.execute(adds, in: .current, stopOnError: true))
            blackHole(await kernel.execute(deletes, in: .current, stopOnError: true))
        }
        benchmark.stopMeasurement()
        precondition(kernel.routeCount() < resident + batch, "deletes did not apply")
    } setup: {
        await setUpLoaded()
    } teardown: {
        await tearDownLoaded()
    }

    Benchmark("route dump, 100k routes", configuration: .init(metrics: [.wallClock, .mallocCountTotal])) { benchmark in
        let kernel = loaded.withLock { $0! }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try! await kernel.routes(in: .current, matching: .all))
        }
    } setup: {
        await setUpLoaded()
    } teardown: {
        await tearDownLoaded()
    }

    Benchmark("route dump filtered by protocol, 100k routes", configuration: .init(metrics: [.wallClock])) { benchmark in
        let kernel = loaded.withLock { $0! }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try! await kernel.routes(in: .current, matching: RouteFilter(proto: RouteProtocol.linx)))
        }
    } setup: {
        await setUpLoaded()
    } teardown: {
        await tearDownLoaded()
    }

    Benchmark(
        "memory of 100k routes (peak resident)",
        configuration: .init(metrics: [.peakMemoryResident, .peakMemoryResidentDelta, .mallocCountTotal], maxIterations: 5)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(await loadedKernel())
        }
    }
}
