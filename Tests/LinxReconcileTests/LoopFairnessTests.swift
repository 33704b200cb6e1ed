import LinxKernelSim
import LinxReconcile
import Logging
import Synchronization
import Testing

/// Lets passes through one at a time, on the test's word.
final class StepGate: Sendable {
    private struct State {
        var permits = 0
        var held: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Called by the pass: waits for a permit.
    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.permits > 0 {
                    s.permits -= 1
                    return true
                }
                s.held.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets one pass through (the one held, or the next to arrive).
    func release() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.held.isEmpty {
                s.permits += 1
                return nil
            }
            return s.held.removeFirst()
        }
        waiter?.resume()
    }
}

/// A task executor that runs each job at once, on the thread that enqueues
/// it. A task started on it from synchronous code runs up to its first
/// suspension before that code goes on, so the test can make a caller arrive
/// at the loop at an exact point inside a pass's bookkeeping.
final class InlineExecutor: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        job.runSynchronously(on: asUnownedTaskExecutor())
    }
}

/// A log handler that runs `hook` for each message, synchronously, in the
/// logging code's own context.
struct HookLogHandler: LogHandler {
    let hook: @Sendable (String) -> Void
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { hook("\(event.message)") }
}

@Suite("ReconcileLoop fairness and retry wake-ups", .timeLimit(.minutes(1)))
struct LoopFairnessTests {
    @Test("reconcileNow callers are served in arrival order, even one arriving while a pass hands over")
    func arrivalOrder() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        let gate = StepGate()
        kernel.installGate(nil)
        kernel.state.withLock { $0.stepGate = gate }
        final class Shared: Sendable {
            let order = Mutex<[String]>([])
            let late = Mutex<Task<Void, Never>?>(nil)
            let armed = Mutex(false)
            let loop = Mutex<ToyLoop?>(nil)
        }
        let shared = Shared()
        var configuration = toyConfiguration()
        // The first pass's bookkeeping logs; at that instant (while the loop
        // still holds the turn), caller D arrives. Served in order, D goes
        // behind B and C; a loop that marked itself free before waking B let D in first.
        configuration.logger = Logger(label: "test") { _ in
            HookLogHandler { message in
                guard message.hasPrefix("pass"), shared.armed.withLock({ armed in defer { armed = false }; return armed })
                else { return }
                let loop = shared.loop.withLock { $0! }
                let task = Task(executorPreference: InlineExecutor()) {
                    _ = try? await loop.reconcileNow()
                    shared.order.withLock { $0.append("D") }
                }
                shared.late.withLock { $0 = task }
            }
        }
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        shared.loop.withLock { $0 = loop }

        func call(_ name: String) -> Task<Void, Never> {
            Task {
                _ = try? await loop.reconcileNow()
                shared.order.withLock { $0.append(name) }
            }
        }
        let a = call("A")
        await loop.waitUntil { $0.passesStarted == 1 }
        let b = call("B")
        await loop.waitUntil { $0.passesWaiting == 1 }
        let c = call("C")
        await loop.waitUntil { $0.passesWaiting == 2 }
        shared.armed.withLock { $0 = true }
        for done in 1...4 {
            gate.release()
            while shared.order.withLock({ $0.count }) < done { await Task.yield() }
        }
        for task in [a, b, c] { await task.value }
        await shared.late.withLock { $0 }?.value
        #expect(shared.order.withLock { $0 } == ["A", "B", "C", "D"])
        #expect(kernel.maxInFlight == 1)
    }

    @Test("a hint during the retry backoff runs the pass after the debounce, and the failure count keeps growing")
    func hintShortensBackoff() async throws {
        let clock = VirtualClock()
        let kernel = ToyKernel()
        var configuration = toyConfiguration(interval: .never)
        configuration.retryBackoff = Backoff(initial: .seconds(10), maximum: .seconds(60), jitter: 0)
        let loop = makeToyLoop(kernel: kernel, desired: ["a": 1], configuration: configuration, clock: clock)
        kernel.failPasses(2)
        try await withRunningLoop(loop) {
            await loop.waitUntil { $0.passesCompleted == 1 && $0.monitorUp && $0.isIdle }
            #expect(await loop.probe.failures == 1)
            // Nothing asked for a pass: the retry waits out its 10 s.
            await clock.advance(by: .seconds(1), settling: loop)
            #expect(kernel.passes == 1)
            // A change: the pass follows after the debounce, not at 10 s.
            kernel.hint(.changed)
            await loop.waitUntil { $0.hintsReceived == 1 && $0.isIdle }
            await clock.advance(by: .milliseconds(100) - .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 1)
            await clock.advance(by: .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 2)
            // It failed too: the next retry nothing asks for backs off longer (20 s).
            #expect(await loop.probe.failures == 2)
            await clock.advance(by: .seconds(20) - .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 2)
            await clock.advance(by: .nanoseconds(1), settling: loop)
            #expect(kernel.passes == 3)
            #expect(await loop.lastReport?.converged == true)
            #expect(await loop.probe.failures == 0)
        }
    }
}
