import LinxKernelSim
import LinxReconcile
import Synchronization

/// How one scenario ended.
public struct FuzzOutcome: Sendable {
    public var scenario: FuzzScenario
    /// Nil when the scenario passed.
    public var failure: CaseFailure?
    /// Faults that fired, by kind (scheduled drifts and reboots included).
    public var fired: [SimFaultKind: Int]
    /// Reconcile passes run, both phases.
    public var passes: Int
    /// The kernel's history plus one line per pass, when recorded: two runs
    /// of one scenario must give the same text.
    public var history: String?
}

/// Runs one convergence-fuzzing scenario: a fault phase (the kernel's fault
/// plan armed, desired-state changes, drift and reboots scheduled), then a
/// quiet phase in which the Source must converge within `maxPasses`.
///
/// Every pass is audited: a report must be honest about what changed (fully
/// so unless an interface vanished or the machine rebooted under it), a pass
/// that throws must have changed nothing, a valid desired state is never
/// rejected, and foreign state is intact after every pass.
public enum FuzzRunner {
    public static func run<Subject: FuzzableSubject>(
        _ subject: Subject, scenario: FuzzScenario, maxPasses: Int, recordHistory: Bool = false
    ) async -> FuzzOutcome {
        let sandbox: Subject.Sandbox
        do {
            sandbox = try await subject.makeSandbox(seed: scenario.seed)
        } catch {
            return FuzzOutcome(
                scenario: scenario, failure: CaseFailure("could not make a sandbox: \(error)"), fired: [:], passes: 0)
        }
        let kernel = subject.kernel(of: sandbox)
        kernel.recordsHistory = recordHistory
        var state = ScenarioRun(
            subject: subject, sandbox: sandbox, kernel: kernel, scenario: scenario, maxPasses: max(1, maxPasses),
            run: CaseRun(subject: subject, sandbox: sandbox, options: ConformanceOptions(), random: SimRandom(seed: scenario.seed)))
        var failure: CaseFailure?
        do {
            try await state.execute()
        } catch let caught as CaseFailure {
            failure = caught
        } catch {
            failure = CaseFailure("unexpected error: \(error)")
        }
        await subject.tearDown(sandbox)
        var fired = kernel.faultsFired
        fired[.drift, default: 0] += state.drifts
        let history = recordHistory ? kernel.historyText + "\n--\n" + state.trace.joined(separator: "\n") : nil
        return FuzzOutcome(scenario: scenario, failure: failure, fired: fired, passes: state.passes, history: history)
    }
}

/// The mutable state of one scenario while it runs.
struct ScenarioRun<Subject: FuzzableSubject> {
    typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>

    let subject: Subject
    let sandbox: Subject.Sandbox
    let kernel: SimKernel
    let scenario: FuzzScenario
    let maxPasses: Int
    var run: CaseRun<Subject>
    var passes = 0
    var drifts = 0
    var trace: [String] = []
    var monitor: MonitorProbe?

    mutating func execute() async throws {
        var foreign = try await run.makeForeign(avoiding: subject.emptyDesired)
        var desired = subject.fuzzDesired(in: sandbox, using: &run.random)
        var expected = subject.expectedEntries(for: desired, in: sandbox)
        var schedule = [[Event]](repeating: [], count: scenario.faultPasses)
        for (event, count) in [(Event.change, scenario.changes), (.drift, scenario.drifts), (.reboot, scenario.reboots)] {
            for _ in 0..<count { schedule[run.random.below(scenario.faultPasses)].append(event) }
        }
        var lastApplied = subject.emptyLastApplied
        if !scenario.kinds.isEmpty {
            kernel.arm(SimFaultPlan(rate: Double(scenario.ratePercent) / 100, kinds: scenario.kinds))
        }
        // The scope only changes through passes and scheduled events, so a
        // pass's "after" is the next one's "before" unless an event ran.
        var previous: Snapshot?
        for index in 0..<scenario.faultPasses {
            let step = "fault pass \(index + 1)"
            if !schedule[index].isEmpty { previous = nil }
            for event in schedule[index] {
                switch event {
                case .change:
                    desired = subject.fuzzDesired(in: sandbox, using: &run.random)
                    expected = subject.expectedEntries(for: desired, in: sandbox)
                    trace.append("\(step): desired state changed")
                case .drift:
                    if let drift = try? await subject.drift(in: sandbox, desired: desired, using: &run.random) {
                        drifts += 1
                        foreign.merge(drift.addedForeign) { _, new in new }
                        trace.append("\(step): drift \(drift.label)")
                    }
                case .reboot:
                    kernel.reboot()
                    try repair(step)
                    foreign = try await stillIntact(foreign)
                    trace.append("\(step): reboot")
                }
            }
            try await keepMonitor(step)
            let firedBefore = kernel.faultsFired
            let before: Snapshot
            if let previous {
                before = previous
            } else {
                before = try await run.snapshot()
            }
            let result: Result<CaseRun<Subject>.Report, ReconcileError>
            do {
                result = .success(try await run.source.reconcile(
                    scope: run.scope, desired: desired, lastApplied: lastApplied, options: subject.options(for: sandbox)))
            } catch {
                result = .failure(error)
            }
            passes += 1
            let after = try await run.snapshot()
            previous = after
            let firedAfter = kernel.faultsFired
            let destructive = firedAfter[.vanish, default: 0] > firedBefore[.vanish, default: 0]
                || firedAfter[.reboot, default: 0] > firedBefore[.reboot, default: 0]
            switch result {
            case .success(let report):
                trace.append("\(step): \(Self.summary(report))")
                let problems = run.audit.violations(of: report, desired: desired, before: before, after: after, quiet: !destructive, expected: expected)
                if !problems.isEmpty {
                    throw CaseFailure("\(step): the report is not honest", evidence: problems + CaseRun<Subject>.lines(of: report))
                }
                if !destructive { try run.expectForeignIntact(foreign, in: after, step: step) }
                lastApplied = report.lastApplied
            case .failure(let error):
                trace.append("\(step): threw \(error)")
                if case .invalidDesired = error {
                    throw CaseFailure("\(step): a valid desired state was rejected: \(error)")
                }
                let changes = before.describeChanges(to: after)
                if !destructive && !changes.isEmpty {
                    throw CaseFailure("\(step): the pass threw (\(error)) yet changed the scope", evidence: changes)
                }
            }
            if destructive {
                try repair(step)
                foreign = try await stillIntact(foreign)
                previous = nil
            }
        }
        kernel.clearFaults()
        try repair("quiet phase")
        for index in 1...maxPasses {
            let step = "quiet pass \(index)"
            let pass = try await run.pass(desired, lastApplied: lastApplied, step: step, expected: expected)
            passes += 1
            trace.append("\(step): \(Self.summary(pass.report))")
            try run.expectForeignIntact(foreign, in: pass.after, step: step)
            lastApplied = pass.report.lastApplied
            if pass.report.converged {
                try run.expectConverged(pass, desired: desired, step: step, expected: expected)
                let again = try await run.pass(
                    desired, lastApplied: lastApplied, step: "after convergence", expected: expected)
                passes += 1
                try run.expectNoOp(again, after: pass, step: "after convergence")
                return
            }
        }
        throw CaseFailure("not converged within \(maxPasses) quiet passes after the faults stopped")
    }

    /// What a scheduled event does before a pass.
    enum Event { case change, drift, reboot }

    func repair(_ step: String) throws {
        do {
            try subject.repair(sandbox)
        } catch {
            throw CaseFailure("\(step): the subject could not repair the sandbox: \(error)")
        }
    }

    /// Foreign state that survived a fault that legitimately destroyed some.
    func stillIntact(_ foreign: [Subject.EntryKey: Subject.EntryValue]) async throws -> [Subject.EntryKey: Subject.EntryValue] {
        let now = try await run.snapshot()
        return foreign.filter { now[$0.key] == $0.value }
    }

    /// Keeps a monitor open (when the subject has one), so overflow and
    /// monitor-death faults have a target; after a monitor death, checks its
    /// stream ended with an error and opens another.
    mutating func keepMonitor(_ step: String) async throws {
        if let monitor {
            guard kernel.faultsFired[.monitorDeath, default: 0] > monitorDeaths else { return }
            if await monitor.endedWithError() == false {
                throw CaseFailure("\(step): the monitor died but its stream did not finish with an error")
            }
            self.monitor = nil
        }
        monitorDeaths = kernel.faultsFired[.monitorDeath, default: 0]
        monitor = await subject.openMonitor(in: sandbox)
    }

    var monitorDeaths = 0

    static func summary(_ report: CaseRun<Subject>.Report) -> String {
        "applied \(report.applied.count), failed \(report.failed.count), pending \(report.pending.count), converged \(report.converged)"
    }
}
