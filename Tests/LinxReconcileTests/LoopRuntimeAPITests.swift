import LinxKernelSim
import LinxReconcile
import Testing

/// reconcileNow, setDesired, lastReport, stop and events, on the toy Source.
@Suite("ReconcileLoop runtime API", .timeLimit(.minutes(1)))
struct LoopRuntimeAPITests {
    @Test("nothing runs until run(): creating a loop neither subscribes, nor passes, nor sleeps")
    func zeroFootprint() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        _ = loop.events
        clock.advance(by: .seconds(3_600))
        #expect(kernel.passes == 0)
        #expect(kernel.subscribeCalls == 0)
        #expect(kernel.values.isEmpty)
        #expect(clock.sleeperCount == 0)
        #expect(await loop.probe.passesStarted == 0)
    }

    @Test("reconcileNow runs a pass even when the loop is not running, and reports it")
    func forcedPassWithoutRun() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel(["b": 5])
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1, "b": 2], clock: clock)
        #expect(await loop.lastReport == nil)
        let report = try await loop.reconcileNow()
        #expect(report.converged)
        #expect(Set(report.applied) == [
            .create(ToySetting(key: "a", value: 1)),
            .update(ToySetting(key: "b", value: 2), previous: ToySetting(key: "b", value: 5)),
        ])
        #expect(report.lastApplied == ["a", "b"])
        #expect(await loop.lastReport == report)
        #expect(await loop.lastApplied == ["a", "b"])
        let again = try await loop.reconcileNow()
        #expect(again.applied.isEmpty)
    }

    @Test("a forced pass that cannot run throws and keeps lastApplied")
    func forcedPassThrows() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], lastApplied: ["old"], clock: clock)
        kernel.failPasses(1)
        await #expect(throws: ReconcileError.observeFailed(resource: "toy toy", error: KernelError(.ioError, "injected"))) {
            try await loop.reconcileNow()
        }
        #expect(await loop.lastApplied == ["old"])
        #expect(await loop.lastReport == nil)
        let report = try await loop.reconcileNow()
        #expect(report.lastApplied == ["a"])
    }

    @Test("setDesired converges after the debounce and releases what the old state owned")
    func setDesiredReleasesOldState() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel(["foreign": 0])
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1, "b": 2], clock: clock)
        let log = EventLog(loop.events)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.isIdle }
            await loop.setDesired(["b": 3, "c": 4])
            await loop.settle()
            #expect(kernel.values == ["foreign": 0, "a": 1, "b": 2])
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(kernel.values == ["foreign": 0, "b": 3, "c": 4])
            #expect(await loop.lastApplied == ["b", "c"])
            #expect(await loop.desired == ["b": 3, "c": 4])
        }
        let last = await log.all.compactMap(\.report).last
        #expect(last?.applied.contains(.delete(ToySetting(key: "a", value: 1))) == true)
    }

    @Test("stop ends run, finishes the event streams and releases the monitor")
    func stopEndsRun() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        let log = EventLog(loop.events)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await loop.run() }
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            loop.stop()
            try await group.waitForAll()
        }
        #expect(await loop.probe.finished)
        #expect(await log.all.count == 1)
        #expect(kernel.liveMonitors == 0)
        #expect(clock.sleeperCount == 0)
        // A later subscriber gets an already-finished stream; a second run returns at once.
        var late = loop.events.makeAsyncIterator()
        #expect(await late.next() == nil)
        try await loop.run()
        #expect(kernel.passes == 1)
    }

    @Test("stop before run makes run return without a pass")
    func stopBeforeRun() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: toyConfiguration(monitor: false), clock: clock)
        loop.stop()
        try await loop.run()
        #expect(kernel.passes == 0)
    }
}

@Suite("ReconcileLoop probe", .timeLimit(.minutes(1)))
struct LoopProbeTests {
    @Test("a probe wait returns when the loop finishes or the waiter is cancelled")
    func probeWaitsEnd() async throws {
        let clock = VirtualClock()
        let loop = makeToyLoop(kernel: ToyKernel(), desired: ["a": 1], clock: clock)
        let cancelled = Task { await loop.waitUntil { $0.passesCompleted == 1_000 } }
        cancelled.cancel()
        #expect(await cancelled.value.passesCompleted == 0)
        let pending = Task { await loop.waitUntil { $0.passesCompleted == 1_000 } }
        try await withRunningLoop(loop) {
            await loop.settle(passes: 1)
        }
        let probe = await pending.value
        #expect(probe.finished)
        #expect(probe.passesCompleted == 1)
    }
}
