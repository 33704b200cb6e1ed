import LinxKernelSim
import LinxReconcile
import Testing

/// Timer resync, monitor hints, debounce, coalescing, and no overlap, on the toy Source.
@Suite("ReconcileLoop pacing", .timeLimit(.minutes(1)))
struct LoopPacingTests {
    @Test("with the monitor off, drift is healed within one interval, not before")
    func timerHealsDrift() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel(["foreign": 7])
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1, "b": 2], configuration: toyConfiguration(monitor: false), clock: clock)
        #expect(await loop.lastReport == nil)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            #expect(kernel.values == ["foreign": 7, "a": 1, "b": 2])
            #expect(await loop.lastApplied == ["a", "b"])
            #expect(await loop.lastReport?.converged == true)
            #expect(kernel.subscribeCalls == 0)

            kernel.drift("a", to: 9)
            await clock.advance(by: .seconds(5) - .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 1)
            #expect(kernel.values["a"] == 9)
            await clock.advance(by: .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 2)
            #expect(kernel.values == ["foreign": 7, "a": 1, "b": 2])
        }
        let reports = await log.all.compactMap(\.report)
        #expect(reports.count == 2)
        #expect(reports.last?.applied == [.update(ToySetting(key: "a", value: 1), previous: ToySetting(key: "a", value: 9))])
    }

    @Test("with the monitor on, drift is healed within the debounce")
    func hintHealsDrift() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            #expect(kernel.liveMonitors == 1)
            kernel.drift("a", to: nil)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.isIdle }
            await clock.advance(by: .milliseconds(99), settling: loop)
            #expect(kernel.values["a"] == nil)
            await clock.advance(by: .milliseconds(1), settling: loop)
            #expect(kernel.values["a"] == 1)
            #expect(kernel.passes == 2)
        }
    }

    @Test("a burst of 1,000 hints inside the debounce window produces one pass")
    func burstCoalesces() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.hint(.changed, count: 600)
            await loop.waitUntil { $0.hintsReceived == 600 && $0.isIdle }
            await clock.advance(by: .milliseconds(60), settling: loop)
            kernel.hint(.changed, count: 400)
            await loop.waitUntil { $0.hintsReceived == 1_000 && $0.isIdle }
            #expect(kernel.passes == 1)
            // The window opened by the first hint closes 100 ms after it, not after the last.
            await clock.advance(by: .milliseconds(40), settling: loop)
            #expect(kernel.passes == 2)
            await clock.advance(by: .seconds(1), settling: loop)
            #expect(kernel.passes == 2)
        }
    }

    @Test("a hint during a pass schedules exactly one more pass")
    func hintDuringPass() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let gate = PassGate()
            kernel.installGate(gate)
            kernel.hint(.changed)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.isIdle }
            clock.advance(by: .milliseconds(100))
            await gate.waitEntered(1)
            kernel.hint(.changed, count: 5)
            await loop.waitUntil { $0.hintsReceived == 6 }
            gate.open()
            await loop.settle(passes: 2)
            #expect(kernel.passes == 2)
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.passes == 3)
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.passes == 3)
            #expect(kernel.maxInFlight == 1)
        }
    }

    @Test("a forced pass waits for the pass in flight: passes never overlap")
    func noOverlap() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: toyConfiguration(monitor: false), clock: clock)
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
            let gate = PassGate()
            kernel.installGate(gate)
            clock.advance(by: .seconds(5))
            await gate.waitEntered(1)
            async let forced = loop.reconcileNow()
            await loop.waitUntil { $0.passesWaiting == 1 }
            #expect(kernel.passes == 2)
            gate.open()
            let report = try await forced
            #expect(report.converged)
            #expect(kernel.passes == 3)
            #expect(kernel.maxInFlight == 1)
        }
    }

    @Test("ENOBUFS (resync needed) runs a pass at once, without debounce")
    func overflowResyncsAtOnce() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.state.withLock { $0.values["a"] = 5 }  // lost event: no hint
            kernel.hint(.resyncNeeded)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.passesCompleted == 2 && $0.isIdle }
            #expect(kernel.values["a"] == 1)
            #expect(clock.now == .zero)
        }
    }

    @Test("interval .never with a live monitor: no timer passes, hints still heal")
    func monitorOnly() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1], configuration: toyConfiguration(interval: .never), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            await clock.advance(by: .seconds(3_600), settling: loop)
            #expect(kernel.passes == 1)
            kernel.drift("a", to: 2)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.isIdle }
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.passes == 2)
            #expect(kernel.values["a"] == 1)
        }
    }

    @Test("debounce 0 runs the pass as soon as the hint arrives")
    func zeroDebounce() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(
            kernel: kernel, desired: ["a": 1], configuration: toyConfiguration(debounce: .zero), clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.drift("a", to: 3)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.passesCompleted == 2 && $0.isIdle }
            #expect(kernel.values["a"] == 1)
        }
    }
}
