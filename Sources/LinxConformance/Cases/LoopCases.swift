import LinxKernelSim
import LinxReconcile
import Synchronization

/// The cases that run the Source inside a ``ReconcileLoop`` on virtual time:
/// the loop, not the suite, must bring the scope back after drift and after
/// passes that fail.
extension CaseRun {
    typealias Loop = ReconcileLoop<Subject.Source, VirtualClock>

    static var loopInterval: Duration { .seconds(10) }

    /// Converges through the loop, drifts the scope, and lets the loop's own
    /// timer (or monitor) heal it within a few intervals.
    mutating func loopHealsDrift() async throws {
        let desired = subject.validDesired(in: sandbox, using: &random)
        var foreign = try await makeForeign(avoiding: desired)
        try await withLoop(desired) { run, loop, clock in
            try await run.expectLoopConverged(loop, clock, desired: desired, foreign: foreign, step: "first loop pass")
            let drift: Drift<Subject.EntryKey, Subject.EntryValue>
            do {
                drift = try await run.subject.drift(in: run.sandbox, desired: desired, using: &run.random)
            } catch {
                throw CaseFailure("the subject could not drift the scope: \(error)")
            }
            foreign.merge(drift.addedForeign) { _, new in new }
            try await run.expectLoopConverged(loop, clock, desired: desired, foreign: foreign, step: "after drift (\(drift.label))")
        }
    }

    /// Passes that throw (an invalid desired state handed to the loop) and,
    /// when the subject can, passes under faults: the loop keeps running,
    /// keeps its lastApplied while passes throw, leaves the scope alone, and
    /// converges once a valid desired state is back and the faults stop.
    mutating func loopSurvivesErrorPasses() async throws {
        guard let invalid = subject.invalidDesired(in: sandbox).first else {
            throw CaseFailure("\(subject.name) lists no invalid desired states; list at least one: every Source must refuse bad input with .invalidDesired and apply nothing, and this case shows it does")
        }
        let desired = subject.validDesired(in: sandbox, using: &random)
        let foreign = try await makeForeign(avoiding: desired)
        try await withLoop(desired) { run, loop, clock in
            try await run.expectLoopConverged(loop, clock, desired: desired, foreign: foreign, step: "first loop pass")
            let owned = await loop.lastApplied
            let before = try await run.snapshot()
            let failuresBefore = await loop.probe.failures
            await loop.setDesired(invalid.desired)
            try await run.advance(loop, clock) { $0.failures > failuresBefore }
            guard await !loop.probe.finished else { throw CaseFailure("the loop stopped after a pass that threw") }
            if await loop.lastApplied != owned {
                throw CaseFailure("the loop changed lastApplied on a pass that threw (\(invalid.label))")
            }
            let changes = before.describeChanges(to: try await run.snapshot())
            if !changes.isEmpty {
                throw CaseFailure("a loop pass with an invalid desired state (\(invalid.label)) changed the scope", evidence: changes)
            }
            let next = run.subject.validDesired(in: run.sandbox, using: &run.random)
            let faulty = run.subject.capabilities.contains(.faultInjection)
            if faulty { try await run.startFaults() }
            await loop.setDesired(next)
            for _ in 0..<3 { try await run.advance(loop, clock) { _ in true } }
            if faulty { try await run.endFaults() }
            try await run.expectLoopConverged(loop, clock, desired: next, foreign: foreign, step: "after the errors")
        }
    }

    /// Runs `body` with a loop over the Source started on a virtual clock,
    /// and always stops it.
    private mutating func withLoop(
        _ desired: Desired, _ body: (inout CaseRun, Loop, VirtualClock) async throws -> Void
    ) async throws {
        let clock = VirtualClock()
        let configuration = ReconcileLoopConfiguration(
            interval: .every(Self.loopInterval), debounce: .milliseconds(100),
            retryBackoff: Backoff(initial: .seconds(1), maximum: .seconds(8)), jitterSeed: random.next(),
            label: "conformance")
        let loop = Loop(
            source: source, scope: scope, desired: desired, options: subject.options(for: sandbox),
            lastApplied: subject.emptyLastApplied, configuration: configuration, clock: clock)
        let running = Task { try await loop.run() }
        do {
            try await body(&self, loop, clock)
        } catch {
            loop.stop()
            _ = await running.result
            throw error
        }
        loop.stop()
        _ = await running.result
    }

    /// Moves virtual time on, one interval at a time (at most a few), until
    /// the loop's latest report converged and the scope holds `desired`.
    func expectLoopConverged(
        _ loop: Loop, _ clock: VirtualClock, desired: Desired, foreign: [Subject.EntryKey: Subject.EntryValue],
        step: String
    ) async throws {
        let expected = subject.expectedEntries(for: desired, in: sandbox)
        var lastProblem: [String] = ["no pass completed"]
        for attempt in 0..<6 {
            if attempt > 0 {
                try await advance(loop, clock) { _ in true }
            } else {
                try await settle(loop)
            }
            let snapshot = try await self.snapshot()
            let report = await loop.lastReport
            let missing = snapshot.violations(of: expected)
            if let report, report.converged, missing.isEmpty {
                try expectForeignIntact(foreign, in: snapshot, step: step)
                return
            }
            lastProblem = missing + (report.map { Self.lines(of: $0) } ?? ["no report yet"])
        }
        throw CaseFailure("\(step): the loop did not converge within 6 intervals", evidence: lastProblem)
    }

    /// Waits (without moving time) until the loop finished a pass and is idle.
    func settle(_ loop: Loop) async throws {
        let settled = await firstOf(timeout: options.hintTimeout) {
            let probe = await loop.waitUntil { $0.finished || ($0.passesCompleted > 0 && $0.isIdle) }
            return !probe.finished
        }
        if !settled { throw CaseFailure("the loop did not finish its first pass and settle within \(options.hintTimeout)") }
    }

    /// Advances virtual time by one interval and waits until the loop has
    /// completed a pass, `condition` holds and the loop is idle again; fails
    /// (rather than hangs) when that takes more than a few wall-clock seconds.
    func advance(_ loop: Loop, _ clock: VirtualClock, until condition: @escaping @Sendable (ReconcileLoopProbe) -> Bool)
        async throws
    {
        let completed = await loop.probe.passesCompleted
        let timeout = options.hintTimeout
        let settled = await firstOf(timeout: timeout) {
            // Let a pass already due (hint, debounce, first pass) run first.
            _ = await loop.waitUntil { $0.isIdle || $0.finished }
            clock.advance(by: Self.loopInterval)
            let probe = await loop.waitUntil { probe in
                probe.finished || (probe.passesCompleted > completed && probe.isIdle && condition(probe))
            }
            return !probe.finished
        }
        if !settled {
            throw CaseFailure("the loop did not finish a pass and settle within \(timeout) of wall time after time moved on")
        }
    }
}

/// The result of `work`, or false when `timeout` of wall time passes first.
/// The loop's probe waits cannot be cancelled, so the losing side is left
/// to finish on its own (the loop is always stopped, which releases it).
func firstOf(timeout: Duration, _ work: @escaping @Sendable () async -> Bool) async -> Bool {
    let once = ResumeOnce()
    return await withCheckedContinuation { continuation in
        once.arm(continuation)
        Task { once.resume(returning: await work()) }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(returning: false)
        }
    }
}

/// A continuation resumed by whichever side gets there first.
final class ResumeOnce: Sendable {
    private let waiting = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func arm(_ continuation: CheckedContinuation<Bool, Never>) {
        waiting.withLock { $0 = continuation }
    }

    func resume(returning value: Bool) {
        let continuation = waiting.withLock { waiting in
            defer { waiting = nil }
            return waiting
        }
        continuation?.resume(returning: value)
    }
}
