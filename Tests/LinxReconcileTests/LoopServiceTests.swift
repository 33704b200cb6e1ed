import LinxKernelSim
import LinxReconcile
import Logging
import MetricsTestKit
import ServiceLifecycle
import Testing

/// Running inside a ServiceGroup, and what the loop records in metrics.
@Suite("ReconcileLoop as a Service", .timeLimit(.minutes(1)))
struct LoopServiceTests {
    func group(_ services: [any Service]) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
    }

    @Test("graceful shutdown ends the loops of a ServiceGroup promptly, leaving nothing behind")
    func gracefulShutdown() async throws {
        let clock = VirtualClock()
        let kernels = [ToyKernel(), ToyKernel()]
        let loops = kernels.map { makeToyLoop(kernel: $0, desired: ["a": 1], clock: clock) }
        let serviceGroup = group(loops)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            for loop in loops {
                await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            }
            await serviceGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        for loop in loops { #expect(await loop.probe.finished) }
        #expect(kernels.allSatisfy { $0.liveMonitors == 0 })
        #expect(clock.sleeperCount == 0)
        #expect(kernels.allSatisfy { $0.passes == 1 })
    }

    @Test("graceful shutdown during a pass lets the pass finish, then returns")
    func shutdownDuringPass() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let gate = PassGate()
        kernel.installGate(gate)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        let serviceGroup = group([loop])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            await gate.waitEntered(1)
            await serviceGroup.triggerGracefulShutdown()
            gate.open()
            try await tasks.waitForAll()
        }
        #expect(await loop.lastReport?.converged == true)
        #expect(kernel.values == ["a": 1])
        #expect(kernel.passes == 1)
        #expect(clock.sleeperCount == 0)
    }

    @Test("cancelling run ends the loop too")
    func cancellation() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        let run = Task { try await loop.run() }
        await loop.waitUntil { $0.passesCompleted == 1 && $0.isIdle }
        run.cancel()
        try await run.value
        #expect(await loop.probe.finished)
        #expect(kernel.liveMonitors == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test("failures and monitor losses are logged with the loop's label and durations in ms; no-op passes only at debug")
    func logging() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let store = LoopLogCapture.Store()
        var configuration = toyConfiguration(label: "logged")
        configuration.logger = Logger(label: "test") { _ in LoopLogCapture(store: store) }
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        kernel.failPasses(1)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            await clock.advance(by: .milliseconds(250), settling: loop)
            kernel.killMonitors()
            await loop.waitUntil { $0.monitorLosses == 1 && $0.isIdle }
        }
        let entries = store.all
        let warnings = entries.filter { $0.level == .warning }
        #expect(warnings.count == 2)
        #expect(warnings.allSatisfy { $0.metadata["loop"] == "logged" })
        #expect(warnings.first?.metadata["error"]?.description.contains("injected") == true)
        // Default retry backoff: 250 ms less at most 20 % jitter, in ms with three decimals.
        let retryIn = try #require(warnings.first?.metadata["retryInMs"]?.description)
        let retryMs = try #require(Double(retryIn))
        #expect((200...250).contains(retryMs), "\(retryIn)")
        #expect(retryIn.split(separator: ".").last?.count == 3)
        // The pass that set a=1 is news; the resync after the monitor loss changed nothing.
        let converged = entries.filter { $0.message == "pass converged" }
        #expect(converged.map(\.level) == [.info, .debug])
        #expect(converged.allSatisfy { $0.metadata["durationMs"].flatMap { Double($0.description) } != nil })
        #expect(!entries.contains { $0.level > .warning })
    }

    @Test("by default the loop logs through the application's LoggingSystem as linx.reconcile")
    func defaultLogger() {
        let configuration = ReconcileLoopConfiguration()
        #expect(configuration.logger.label == "linx.reconcile")
        #expect(!(configuration.logger.handler is SwiftLogNoOpLogHandler))
    }


    @Test("passes, ops, duration, convergence and resubscribes are recorded with the loop's label")
    func metrics() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let metrics = TestMetrics()
        var configuration = toyConfiguration(label: "metered")
        configuration.metricsFactory = metrics
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1, "b": 2], configuration: configuration, clock: clock)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            kernel.failPasses(1)
            _ = try? await loop.reconcileNow()
            kernel.refuse(["c"])
            await loop.setDesired(["a": 1, "b": 2, "c": 3])
            await clock.advance(by: .milliseconds(250), settling: loop)
            #expect(await loop.lastReport?.converged == false)
            kernel.refuse([])
            await clock.advance(by: .milliseconds(500), settling: loop)
            #expect(await loop.lastReport?.converged == true)
            kernel.killMonitors()
            await loop.waitUntil { $0.monitorLosses == 1 && $0.isIdle }
            clock.advance(by: .milliseconds(100))
            await loop.waitUntil { $0.subscriptions == 2 && $0.isIdle }
        }
        #expect(kernel.values == ["a": 1, "b": 2, "c": 3])
        let loopDim = ("loop", "metered")
        #expect(try metrics.expectCounter("linx_reconcile_passes_total", [loopDim, ("result", "converged")]).totalValue >= 2)
        #expect(try metrics.expectCounter("linx_reconcile_passes_total", [loopDim, ("result", "error")]).totalValue == 1)
        #expect(try metrics.expectCounter("linx_reconcile_passes_total", [loopDim, ("result", "partial")]).totalValue >= 1)
        #expect(try metrics.expectCounter("linx_reconcile_ops_total", [loopDim, ("outcome", "applied")]).totalValue == 3)
        #expect(try metrics.expectCounter("linx_reconcile_ops_total", [loopDim, ("outcome", "failed")]).totalValue >= 1)
        #expect(try metrics.expectCounter("linx_reconcile_monitor_resubscribes_total", [loopDim]).totalValue == 1)
        let passes = await loop.probe.passesCompleted
        #expect(try metrics.expectTimer("linx_reconcile_pass_duration_seconds", [loopDim]).values.count == passes)
        let converged = try metrics.expectGauge("linx_reconcile_converged", [loopDim])
        #expect(converged.values.contains(0) && converged.values.contains(1))
    }
}
