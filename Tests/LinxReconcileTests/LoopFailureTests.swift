import LinxKernelSim
import LinxReconcile
import Testing

/// The failure model: throwing passes, partial passes, monitor death and ENOBUFS.
@Suite("ReconcileLoop failure model", .timeLimit(.minutes(1)))
struct LoopFailureTests {
    @Test("failing passes keep lastApplied, back off exponentially, and converge once faults stop")
    func backoffThenConverge() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1], lastApplied: ["old"],
            configuration: toyConfiguration(monitor: false), clock: clock)
        let log = EventLog(loop.events)
        kernel.failPasses(4)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(await loop.probe.failures == 1)
            // Default retry backoff: 250 ms doubling, at most 20 % jitter off.
            for (attempt, ceiling) in [Duration.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2)].enumerated() {
                await clock.advance(by: ceiling * 0.8 - .nanoseconds(1), settling: loop)
                #expect(kernel.passes == attempt + 1, "retry \(attempt + 1) came too early")
                await clock.advance(by: ceiling * 0.2 + .nanoseconds(1), settling: loop)
                #expect(kernel.passes == attempt + 2, "retry \(attempt + 1) did not come by its ceiling")
                #expect(await loop.lastApplied == (attempt < 3 ? ["old"] : ["a"]))
            }
            #expect(await loop.probe.failures == 0)
            #expect(kernel.values == ["a": 1])
            // Back on the regular rhythm.
            await clock.advance(by: .seconds(5), settling: loop)
            #expect(kernel.passes == 6)
        }
        let events = await log.all
        #expect(events.compactMap(\.error).count == 4)
        #expect(events.compactMap(\.report).count == 2)
    }

    @Test("the backoff is capped")
    func backoffCapAndHints() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        var configuration = toyConfiguration()
        configuration.retryBackoff = Backoff(initial: .seconds(1), maximum: .seconds(3), jitter: 0)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        kernel.failPasses(100)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            for (index, delay) in [1, 2, 3, 3, 3].enumerated() {
                await clock.advance(by: .seconds(delay) - .nanoseconds(1), settling: loop)
                #expect(kernel.passes == index + 1)
                await clock.advance(by: .nanoseconds(1), settling: loop)
                #expect(kernel.passes == index + 2)
            }
            kernel.failPasses(0)
            await clock.advance(by: .seconds(3), settling: loop)
            #expect(await loop.lastReport?.converged == true)
        }
    }

    @Test("setDesired while passes fail: the new state is tried after the debounce, not after the backoff")
    func setDesiredDuringBackoff() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        var configuration = toyConfiguration(monitor: false)
        configuration.retryBackoff = Backoff(initial: .seconds(10), maximum: .seconds(60), jitter: 0)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        kernel.failPasses(2)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            await clock.advance(by: .seconds(10), settling: loop)
            #expect(kernel.passes == 2)
            #expect(await loop.probe.failures == 2)
            await loop.setDesired(["a": 2])
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.passes == 3)
            #expect(kernel.values == ["a": 2])
            #expect(await loop.probe.failures == 0)
        }
    }

    @Test("a partial pass (refused ops) is retried with backoff, not only on the next tick")
    func partialRetries() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1, "b": 2],
            configuration: toyConfiguration(interval: .never, monitor: false), clock: clock)
        kernel.refuse(["b"])
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            let report = try #require(await loop.lastReport)
            #expect(!report.converged)
            #expect(report.failed.map(\.error.errno) == [.permissionDenied])
            #expect(report.lastApplied == ["a"])
            kernel.refuse([])
            await clock.advance(by: .milliseconds(250), settling: loop)
            #expect(await loop.lastReport?.converged == true)
            #expect(kernel.values == ["a": 1, "b": 2])
        }
    }

    struct MonitorDied: Error {}

    @Test("a dead monitor: resync at once, fallback timer, resubscribe with backoff, resync again")
    func monitorDeath() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1], configuration: toyConfiguration(interval: .never), clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.state.withLock { $0.values["a"] = 2 }  // changed while the hint is lost
            kernel.killMonitors(MonitorDied())
            await loop.waitUntil { $0.monitorLosses == 1 && $0.passesCompleted == 2 && $0.isIdle }
            #expect(kernel.values["a"] == 1)
            #expect(clock.now == .zero)
            // Deaf: a change now leaves no hint; the resubscription (<= 100 ms) resyncs.
            kernel.state.withLock { $0.values["a"] = 3 }
            clock.advance(by: .milliseconds(100))
            await loop.waitUntil { $0.subscriptions == 2 && $0.passesCompleted == 3 && $0.isIdle }
            #expect(kernel.values["a"] == 1)
            #expect(kernel.liveMonitors == 1)
            // Hints work again.
            kernel.drift("a", to: 4)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.isIdle }
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.values["a"] == 1)
        }
        let events = await log.all
        #expect(events.filter(\.isMonitorLost).count == 1)
        #expect(events.filter(\.isMonitorResubscribed).count == 1)
    }

    @Test("a monitor that cannot resubscribe leaves the loop on the fallback timer, never deaf")
    func resubscribeKeepsFailing() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        var configuration = toyConfiguration(interval: .never)
        configuration.fallbackInterval = .seconds(2)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        kernel.failSubscribes(1_000)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(await loop.probe.monitorUp == false)
            kernel.state.withLock { $0.values["a"] = 2 }
            await clock.advance(by: .seconds(2) - .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 1)
            await clock.advance(by: .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 2)
            #expect(kernel.values["a"] == 1)
            // It keeps trying to resubscribe, with growing gaps; once it can, it resyncs.
            #expect(kernel.subscribeCalls >= 2)
            #expect(await loop.probe.subscriptions == 0)
            kernel.failSubscribes(0)
            clock.advance(by: .seconds(30))
            await loop.waitUntil { $0.subscriptions == 1 && $0.passesCompleted >= 3 && $0.isIdle }
            #expect(await loop.probe.monitorUp)
        }
        let events = await log.all
        #expect(events.filter(\.isMonitorLost).count == 1)
        #expect(events.filter(\.isMonitorResubscribed).count == 1)
    }

    @Test("a Source without a monitor falls back to the timer silently")
    func unsupportedMonitor() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        kernel.setMonitorSupported(false)
        var configuration = toyConfiguration(interval: .never)
        configuration.fallbackInterval = .seconds(10)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            kernel.state.withLock { $0.values["a"] = 2 }
            await clock.advance(by: .seconds(10), settling: loop)
            #expect(kernel.values["a"] == 1)
            #expect(kernel.subscribeCalls == 1)
        }
        let events = await log.all
        #expect(events.allSatisfy { $0.report != nil })
    }
}
