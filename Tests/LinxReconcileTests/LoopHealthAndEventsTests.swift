import LinxKernelSim
import LinxReconcile
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// An events consumer written as swift-service-lifecycle users write one: a
/// Service that reads a stream it was handed once, until graceful shutdown.
struct EventCounter: Service {
    let events: ToyLoop.Events
    let seen: Counted

    final class Counted: Sendable {
        let reports = Mutex(0)
        var count: Int { reports.withLock { $0 } }
    }

    func run() async throws {
        for await event in events {
            if case .report = event { seen.reports.withLock { $0 += 1 } }
        }
    }
}

@Suite("ReconcileLoop health, description and events in a ServiceGroup", .timeLimit(.minutes(1)))
struct LoopHealthAndEventsTests {
    @Test("the loop describes itself by its label, which is what a ServiceGroup names it by")
    func description() {
        let loop = makeToyLoop(kernel: ToyKernel(), desired: [:], configuration: toyConfiguration(label: "host-network"), clock: VirtualClock())
        #expect("\(loop)" == "host-network")
        #expect(ServiceGroupConfiguration.ServiceConfiguration(service: loop).serviceName == "host-network")
    }

    @Test("health: not started, then each pass's time and outcome, failures and the retry deadline, then finished")
    func health() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        var configuration = toyConfiguration(label: "h")
        configuration.retryBackoff = Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: 0)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        let before = await loop.health
        #expect(before.run == .notStarted && before.monitor == .off && before.lastPass == nil && before.passes == 0)
        #expect(!before.converged)
        kernel.failPasses(1)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            let failed = await loop.health
            #expect(failed.label == "h" && failed.run == .running && failed.monitor == .up)
            let pass = try #require(failed.lastPass)
            guard case .failed(let error) = pass.outcome else {
                Issue.record("expected a failed pass, got \(pass.outcome)")
                return
            }
            #expect(error.description.contains("injected"))
            #expect(failed.consecutiveFailures == 1)
            #expect(failed.nextRetry == pass.ended.advanced(by: .seconds(1)))
            await clock.advance(by: .seconds(1), settling: loop)
            let healed = await loop.health
            #expect(healed.converged && healed.consecutiveFailures == 0 && healed.nextRetry == nil)
            #expect(healed.passes == 2 && healed.lastPass?.ended == healed.takenAt)
            kernel.refuse(["b"])
            await loop.setDesired(["a": 1, "b": 2])
            await clock.advance(by: .milliseconds(100), settling: loop)
            #expect(await loop.health.lastPass?.outcome == .partial(failed: 1, pending: 0))
        }
        let after = await loop.health
        #expect(after.run == .finished && after.monitor == .off)
    }

    @Test(
        "an events consumer Service ends cleanly at graceful shutdown, listed before or after the loop",
        arguments: [false, true])
    func consumerInGroup(consumerFirst: Bool) async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], clock: clock)
        let consumer = EventCounter(events: loop.events(until: .gracefulShutdown), seen: .init())
        let services: [any Service] = consumerFirst ? [consumer, loop] : [loop, consumer]
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await loop.waitUntil { $0.passesCompleted == 1 && $0.isIdle }
            while consumer.seen.count < 1 { await Task.yield() }
            await group.triggerGracefulShutdown()
            // Throws serviceFinishedUnexpectedly if either ended out of turn.
            try await tasks.waitForAll()
        }
        #expect(await loop.probe.finished)
        #expect(consumer.seen.count == 1)
    }

    @Test("a .loopFinished stream ends when run() returns; a .gracefulShutdown one outside a group only when cancelled")
    func endings() async throws {
        let clock = VirtualClock()
        let loop = makeToyLoop(kernel: ToyKernel(), desired: ["a": 1], clock: clock)
        let plain = loop.events
        let guarded = loop.events(until: .gracefulShutdown)
        let plainReader = Task { var n = 0; for await _ in plain { n += 1 }; return n }
        let guardedReader = Task { var n = 0; for await _ in guarded { n += 1 }; return n }
        try await withRunningLoop(loop) { await loop.settle(passes: 1) }
        #expect(await plainReader.value == 1)
        guardedReader.cancel()
        #expect(await guardedReader.value == 1)
    }
}
