import Benchmark
import LinxKernelSim
import LinxReconcile
import Synchronization

/// The loop's latency layer on the simulated kernel (issue #6): with
/// debounce 0, from an owned route being deleted (an operator's `ip route
/// del`) to the loop having put it back, in a namespace of 10,000 owned
/// routes. Target: under 2x one no-op pass over the same namespace, i.e. the
/// monitor, the hint plumbing and the loop add less than one pass on top of
/// the pass that heals.

let ownedRoutes = 10_000

/// The desired state: one address and 10,000 /32 routes through its gateway.
let desired: RtnlDesiredState = {
    var state: RtnlDesiredState = [.address("10.0.0.2/24", on: "v0")]
    for i in 0..<ownedRoutes {
        state.append(.route(to: "10.\(1 + i / 65_536).\(i / 256 % 256).\(i % 256)/32", via: "10.0.0.1"))
    }
    return state
}()

/// Counts the loop's reports, so a benchmark can wait for the next one.
final class ReportCounter: Sendable {
    private struct State {
        var count = 0
        var lastAppliedOps = 0
        var waiters: [(Int, CheckedContinuation<Int, Never>)] = []
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.count } }

    func record(appliedOps: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Int, Never>] in
            s.count += 1
            s.lastAppliedOps = appliedOps
            let ready = s.waiters.filter { $0.0 <= s.count }.map(\.1)
            s.waiters.removeAll { $0.0 <= s.count }
            return ready
        }
        for waiter in ready { waiter.resume(returning: appliedOps) }
    }

    /// Suspends until `count` reports have been seen; returns the ops the
    /// latest one applied.
    func wait(until count: Int) async -> Int {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Int? in
                if s.count >= count { return s.lastAppliedOps }
                s.waiters.append((count, continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}

/// A converged simulated namespace with a running loop over it.
struct Rig: Sendable {
    let kernel: SimKernel
    let loop: ReconcileLoop<RtnlSource, ContinuousClock>
    let runner: Task<Void, any Error>
    let listener: Task<Void, Never>
    let reports: ReportCounter
    let victim: Route

    static func make() async throws -> Rig {
        let kernel = SimKernel(seed: 1, eventBufferCapacity: 1 << 16, recordsHistory: false)
        try kernel.addLink("v0")
        let loop = ReconcileLoop(
            source: RtnlSource(backend: kernel), scope: .current, desired: desired, options: RtnlOptions(),
            lastApplied: .empty,
            configuration: ReconcileLoopConfiguration(interval: .every(.seconds(3_600)), debounce: .zero, label: "bench"))
        let reports = ReportCounter()
        let events = loop.events
        let listener = Task {
            for await event in events {
                if case .report(let report) = event { reports.record(appliedOps: report.applied.count) }
            }
        }
        let runner = Task { try await loop.run() }
        // The first pass creates everything; its own events cause one more
        // (no-op) pass. Wait until the loop has been quiet for a while.
        let created = await reports.wait(until: 1)
        precondition(created > ownedRoutes, "the first pass did not create the routes")
        var quietRounds = 0
        while quietRounds < 3 {
            let before = reports.count
            try await Task.sleep(for: .milliseconds(100))
            quietRounds = reports.count == before ? quietRounds + 1 : 0
        }
        let victim = try kernel.snapshot().routes.first { $0.proto == RouteProtocol.linx && $0.gateway != nil }!
        return Rig(kernel: kernel, loop: loop, runner: runner, listener: listener, reports: reports, victim: victim)
    }

    func tearDown() async {
        loop.stop()
        _ = try? await runner.value
        await listener.value
    }
}

let rig = Mutex<Rig?>(nil)

func setUpRig() async {
    let made = try! await Rig.make()
    rig.withLock { $0 = made }
}

func tearDownRig() async {
    let made = rig.withLock { r in
        defer { r = nil }
        return r
    }
    await made?.tearDown()
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(5), maxIterations: 200)

    Benchmark("no-op pass, 10k owned routes") { benchmark in
        let rig = rig.withLock { $0! }
        let source = RtnlSource(backend: rig.kernel)
        let lastApplied = await rig.loop.lastApplied
        benchmark.startMeasurement()
        let report = try await source.reconcile(
            scope: .current, desired: desired, lastApplied: lastApplied, options: RtnlOptions())
        benchmark.stopMeasurement()
        precondition(report.converged && report.applied.isEmpty, "not a no-op pass")
    } setup: {
        await setUpRig()
    } teardown: {
        await tearDownRig()
    }

    Benchmark("hint to converged, debounce 0, 10k owned routes, one deleted") { benchmark in
        let rig = rig.withLock { $0! }
        // Read the loop's events directly (no relay task on the measured path).
        var events = rig.loop.events.makeAsyncIterator()
        benchmark.startMeasurement()
        try rig.kernel.foreign.deleteRoute(rig.victim)
        var healed = 0
        while healed == 0, let event = await events.next() {
            if case .report(let report) = event { healed = report.applied.count }
        }
        benchmark.stopMeasurement()
        precondition(healed == 1, "the healing pass applied \(healed) ops, expected 1")
        // The heal's own event causes one more (no-op) pass: let it pass
        // outside the measurement.
        while let event = await events.next() {
            if case .report = event { break }
        }
    } setup: {
        await setUpRig()
    } teardown: {
        await tearDownRig()
    }
}
