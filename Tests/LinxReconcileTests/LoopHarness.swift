import LinxKernelSim
import LinxReconcile
import Logging
import Testing

/// The loop under test: the toy Source on virtual time.
typealias ToyLoop = ReconcileLoop<ToySource, VirtualClock>

/// A loop configuration for tests: a fixed jitter seed, so every run takes the
/// same schedule.
func toyConfiguration(
    interval: ReconcileLoopConfiguration.Interval = .every(.seconds(5)),
    monitor: Bool = true,
    debounce: Duration = .milliseconds(100),
    label: String = "toy"
) -> ReconcileLoopConfiguration {
    // Quiet: the default logger would print every test loop's passes.
    ReconcileLoopConfiguration(
        interval: interval, monitor: monitor, debounce: debounce, jitterSeed: 42, label: label,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

func makeToyLoop(
    kernel: ToyKernel,
    desired: [String: Int],
    lastApplied: Set<String> = [],
    configuration: ReconcileLoopConfiguration = toyConfiguration(),
    clock: VirtualClock
) -> ToyLoop {
    ReconcileLoop(
        source: ToySource(kernel: kernel), scope: "toy", desired: desired, options: ToyOptions(),
        lastApplied: lastApplied, configuration: configuration, clock: clock)
}

/// Runs `loop` for the duration of `body`, then stops it and waits for
/// `run()` to return, so no test leaves a task behind.
@discardableResult
func withRunningLoop<S: ReconcileSource, R: Sendable>(
    _ loop: ReconcileLoop<S, VirtualClock>,
    _ body: () async throws -> R
) async throws -> R {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await loop.run() }
        do {
            let result = try await body()
            loop.stop()
            try await group.waitForAll()
            return result
        } catch {
            loop.stop()
            try? await group.waitForAll()
            throw error
        }
    }
}

extension ReconcileLoop where C == VirtualClock {
    /// Waits until the loop has nothing to do at the clock's current instant.
    @discardableResult
    func settle() async -> ReconcileLoopProbe {
        await waitUntil { $0.isIdle }
    }

    /// Waits until `count` passes have completed and the loop is idle again.
    @discardableResult
    func settle(passes count: Int) async -> ReconcileLoopProbe {
        await waitUntil { $0.passesCompleted >= count && $0.isIdle }
    }
}

extension VirtualClock {
    /// Advances time and waits for `loop` to process whatever became due.
    @discardableResult
    func advance<S: ReconcileSource>(by duration: Duration, settling loop: ReconcileLoop<S, VirtualClock>) async
        -> ReconcileLoopProbe
    {
        advance(by: duration)
        return await loop.settle()
    }
}

/// Collects a loop's events as they come, for assertions on what the owner saw.
final class EventLog<Item: Sendable & Hashable, LastApplied: Sendable>: Sendable {
    typealias Event = ReconcileLoopEvent<Item, LastApplied>
    private let task: Task<[Event], Never>

    init(_ events: ReconcileLoopEvents<Item, LastApplied>) {
        task = Task {
            var seen: [Event] = []
            for await event in events { seen.append(event) }
            return seen
        }
    }

    /// Every event, once the loop has finished (its streams end with `run()`).
    var all: [Event] {
        get async { await task.value }
    }
}

extension ReconcileLoopEvent {
    var report: ReconcileReport<Item, LastApplied>? {
        if case .report(let report) = self { return report }
        return nil
    }

    var error: ReconcileError? {
        if case .error(let error) = self { return error }
        return nil
    }

    var isMonitorLost: Bool {
        if case .monitorLost = self { return true }
        return false
    }

    var isMonitorResubscribed: Bool {
        if case .monitorResubscribed = self { return true }
        return false
    }
}
