import LinxKernelSim
import LinxReconcile

/// How one scenario ended.
public struct FuzzOutcome: Sendable {
    /// The scenario that ran.
    public var scenario: FuzzScenario
    /// Nil when the scenario passed.
    public var failure: CaseFailure?
    /// Faults that fired, by kind (scheduled drifts and reboots included).
    public var fired: [SimFaultKind: Int]
    /// Reconcile passes run, both phases.
    public var passes: Int
    /// The sandbox's history plus the trace, when the run was traced: two
    /// runs of one scenario must give the same text.
    public var history: String?
    /// The pass-by-pass trace, when the run was traced (and the scenario
    /// was not refused before it ran).
    public var trace: FuzzTrace?
}

/// Runs one convergence-fuzzing scenario: a fault phase (the subject's
/// faults armed, desired-state changes, drift and reboots scheduled), then a
/// quiet phase in which the Source must converge within `maxPasses`.
///
/// Every pass is audited: a report must be honest about what changed (fully
/// so unless an interface vanished or the machine rebooted under it), a pass
/// that throws must have changed nothing, a valid desired state is never
/// rejected, and foreign state is intact after every pass.
public enum FuzzRunner {
    /// Runs `scenario`. `traced` records the sandbox's history and a
    /// ``FuzzTrace`` (slower: campaigns trace only the failures they report).
    /// A scenario that ``FuzzScenario/validate(available:subject:)`` refuses
    /// for this subject is not run: its outcome is that failure, 0 passes.
    public static func run<Subject: FuzzableSubject>(
        _ subject: Subject, scenario: FuzzScenario, maxPasses: Int, traced: Bool = false
    ) async -> FuzzOutcome {
        do {
            try scenario.validate(available: subject.fuzzKinds, subject: subject.name)
        } catch {
            return FuzzOutcome(scenario: scenario, failure: CaseFailure("\(error) (nothing was run)"), fired: [:], passes: 0)
        }
        let sandbox: Subject.Sandbox
        do {
            sandbox = try await subject.makeSandbox(seed: scenario.seed)
        } catch {
            return FuzzOutcome(
                scenario: scenario, failure: CaseFailure("could not make a sandbox: \(error)"), fired: [:], passes: 0)
        }
        subject.recordsHistory(traced, in: sandbox)
        var state = ScenarioRun(
            subject: subject, sandbox: sandbox, scenario: scenario, maxPasses: max(1, maxPasses),
            run: CaseRun(subject: subject, sandbox: sandbox, options: ConformanceOptions(), random: SimRandom(seed: scenario.seed)),
            trace: traced ? FuzzTrace(subject: subject.name, scenario: scenario.description, maxPasses: max(1, maxPasses)) : nil)
        var failure: CaseFailure?
        do {
            try await state.execute()
        } catch let caught as CaseFailure {
            failure = caught
        } catch {
            failure = CaseFailure("unexpected error: \(error)")
        }
        if let failure, state.trace != nil { await state.recordFailure(failure) }
        var fired = subject.faultsFired(in: sandbox)
        fired[.drift, default: 0] += state.drifts
        let history = state.trace.map { subject.history(of: sandbox).joined(separator: "\n") + "\n--\n" + $0.description }
        await subject.tearDown(sandbox)
        return FuzzOutcome(
            scenario: scenario, failure: failure, fired: fired, passes: state.passes, history: history, trace: state.trace)
    }
}

/// The mutable state of one scenario while it runs.
struct ScenarioRun<Subject: FuzzableSubject> {
    typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>
    typealias Report = CaseRun<Subject>.Report
    typealias Expected = [Subject.EntryKey: Subject.EntryValue]

    let subject: Subject
    let sandbox: Subject.Sandbox
    let scenario: FuzzScenario
    let maxPasses: Int
    var run: CaseRun<Subject>
    /// One Source for the whole scenario, as a ReconcileLoop keeps one: what
    /// a Source remembers between passes (rtnl's pass memo) is fuzzed too.
    let source: Subject.Source
    /// Nil unless the run is traced: building it costs more than the pass.
    var trace: FuzzTrace?
    var passes = 0
    var drifts = 0
    var monitor: MonitorProbe?
    var monitorDeaths = 0
    /// The pass being run, for the trace's failure.
    var step = "setup"
    /// What the current desired state should put in the scope.
    var expected: Expected = [:]
    /// The next pass's record (events and desired changes gather before it runs).
    var pending = FuzzTrace.Pass(step: "")
    var faultLines = 0
    var firedBefore: [SimFaultKind: Int] = [:]

    init(
        subject: Subject, sandbox: Subject.Sandbox, scenario: FuzzScenario, maxPasses: Int, run: CaseRun<Subject>,
        trace: FuzzTrace?
    ) {
        self.subject = subject
        self.sandbox = sandbox
        self.scenario = scenario
        self.maxPasses = maxPasses
        self.run = run
        self.source = run.source
        self.trace = trace
    }

    mutating func execute() async throws {
        var foreign = try await run.makeForeign(avoiding: subject.emptyDesired)
        var desired = subject.fuzzDesired(in: sandbox, using: &run.random)
        expected = subject.expectedEntries(for: desired, in: sandbox)
        if trace != nil { pending.desired = Self.entries(expected) }
        var schedule = [[Event]](repeating: [], count: scenario.faultPasses)
        for (event, count) in [(Event.change, scenario.changes), (.drift, scenario.drifts), (.reboot, scenario.reboots)] {
            for _ in 0..<count { schedule[run.random.below(scenario.faultPasses)].append(event) }
        }
        var lastApplied = subject.emptyLastApplied
        try await armFaults()
        // The scope only changes through passes and scheduled events, so a
        // pass's "after" is the next one's "before" unless an event ran.
        var previous: Snapshot?
        for index in 0..<scenario.faultPasses {
            step = "fault pass \(index + 1)"
            if !schedule[index].isEmpty { previous = nil }
            for event in schedule[index] {
                switch event {
                case .change:
                    desired = subject.fuzzDesired(in: sandbox, using: &run.random)
                    let next = subject.expectedEntries(for: desired, in: sandbox)
                    if trace != nil { pending.desiredChanges += Self.changes(from: expected, to: next) }
                    expected = next
                case .drift:
                    if let drift = try? await subject.drift(in: sandbox, desired: desired, using: &run.random) {
                        drifts += 1
                        foreign.merge(drift.addedForeign) { _, new in new }
                        run.knownForeign.formUnion(drift.addedForeign.keys)
                        note("drift \(drift.label)")
                    } else {
                        note("drift could not run")
                    }
                case .reboot:
                    try await reboot()
                    foreign = try await stillIntact(foreign)
                    note("reboot (subject repaired the sandbox)")
                }
            }
            try await keepMonitor()
            let firedBefore = subject.faultsFired(in: sandbox)
            let before: Snapshot
            if let previous {
                before = previous
            } else {
                before = try await run.snapshot()
            }
            let result: Result<Report, ReconcileError>
            do {
                result = .success(try await source.reconcile(
                    scope: run.scope, desired: desired, lastApplied: lastApplied, options: subject.options(for: sandbox)))
            } catch {
                result = .failure(error)
            }
            passes += 1
            let after = try await run.snapshot()
            previous = after
            let firedAfter = subject.faultsFired(in: sandbox)
            let destructive = firedAfter[.vanish, default: 0] > firedBefore[.vanish, default: 0]
                || firedAfter[.reboot, default: 0] > firedBefore[.reboot, default: 0]
            switch result {
            case .success(let report):
                record(report)
                let problems = run.audit.violations(of: report, desired: desired, before: before, after: after, quiet: !destructive, expected: expected)
                    + followOwnership(report, from: lastApplied, before: before)
                if !problems.isEmpty {
                    throw CaseFailure("\(step): the report is not honest", evidence: problems + CaseRun<Subject>.lines(of: report))
                }
                if !destructive { try run.expectForeignIntact(foreign, in: after, step: step) }
                lastApplied = report.lastApplied
            case .failure(let error):
                record(threw: error, lastApplied: lastApplied)
                if case .invalidDesired = error {
                    throw CaseFailure("\(step): a valid desired state was rejected: \(error)")
                }
                let changes = before.describeChanges(to: after)
                if !destructive && !changes.isEmpty {
                    throw CaseFailure("\(step): the pass threw (\(error)) yet changed the scope", evidence: changes)
                }
            }
            if destructive {
                try repair()
                foreign = try await stillIntact(foreign)
                previous = nil
                note("after the pass: an interface vanished or the machine rebooted; the subject repaired the sandbox")
            }
        }
        step = "quiet phase"
        try await disarmFaults()
        try repair()
        if scenario.faultPasses > 0 { note("faults disarmed") }
        // Nothing touches the scope between quiet passes: each one's "after"
        // is the next one's "before".
        var scope: Snapshot?
        for index in 1...maxPasses {
            step = "quiet pass \(index)"
            let pass = try await quietPass(desired, lastApplied: lastApplied, before: scope)
            scope = pass.after
            try run.expectForeignIntact(foreign, in: pass.after, step: step)
            lastApplied = pass.report.lastApplied
            if pass.report.converged {
                try run.expectConverged(pass, desired: desired, step: step, expected: expected)
                step = "after convergence"
                let again = try await quietPass(desired, lastApplied: lastApplied, before: pass.after)
                try run.expectNoOp(again, after: pass, step: step)
                return
            }
        }
        step = "quiet phase"
        throw CaseFailure("not converged within \(maxPasses) quiet passes after the faults stopped")
    }

    /// One audited quiet-phase pass, recorded in the trace before the audit
    /// can fail it; `before` is the scope as the last pass left it, nil to
    /// read it.
    mutating func quietPass(
        _ desired: Subject.Source.Desired, lastApplied: Subject.Source.LastApplied, before known: Snapshot? = nil
    ) async throws -> CaseRun<Subject>.Pass {
        let before: Snapshot
        if let known {
            before = known
        } else {
            before = try await run.snapshot()
        }
        let report: Report
        do {
            report = try await source.reconcile(
                scope: run.scope, desired: desired, lastApplied: lastApplied, options: subject.options(for: sandbox))
        } catch {
            passes += 1
            record(threw: error, lastApplied: lastApplied)
            throw CaseFailure("\(step): the pass could not run: \(error)")
        }
        passes += 1
        record(report)
        let after = try await run.snapshot()
        let problems = run.audit.violations(
            of: report, desired: desired, before: before, after: after, quiet: true, expected: expected)
            + followOwnership(report, from: lastApplied, before: before)
        if !problems.isEmpty {
            throw CaseFailure("\(step): the report is not honest", evidence: problems + CaseRun<Subject>.lines(of: report))
        }
        return CaseRun<Subject>.Pass(report: report, before: before, after: after)
    }

    /// Follows the pass in the case's ownership oracle: an applied release
    /// (or an unasked-for write) of an entry that was there before and was
    /// never the Source's fails the scenario, in a fault pass as in a quiet one.
    mutating func followOwnership(_ report: Report, from lastApplied: Subject.Source.LastApplied, before: Snapshot) -> [String] {
        run.oracle.followUnowned(
            report, from: lastApplied, subject: subject, sandbox: sandbox, expected: expected, before: before,
            foreign: run.knownForeign, step: step)
    }

    /// What a scheduled event does before a pass.
    enum Event { case change, drift, reboot }

    func armFaults() async throws {
        guard !scenario.kinds.isEmpty else { return }
        do {
            try await subject.armFaults(
                FuzzFaults(rate: Double(scenario.ratePercent) / 100, kinds: scenario.kinds, seed: scenario.seed), in: sandbox)
        } catch {
            throw CaseFailure("the subject could not arm faults: \(error)")
        }
    }

    func disarmFaults() async throws {
        do {
            try await subject.disarmFaults(in: sandbox)
        } catch {
            throw CaseFailure("the subject could not disarm faults: \(error)")
        }
    }

    func reboot() async throws {
        do {
            try await subject.reboot(sandbox)
        } catch {
            throw CaseFailure("\(step): the subject could not reboot the sandbox: \(error)")
        }
        try repair()
    }

    func repair() throws {
        do {
            try subject.repair(sandbox)
        } catch {
            throw CaseFailure("\(step): the subject could not repair the sandbox: \(error)")
        }
    }

    /// Foreign state that survived a fault that legitimately destroyed some.
    func stillIntact(_ foreign: Expected) async throws -> Expected {
        let now = try await run.snapshot()
        return foreign.filter { now[$0.key] == $0.value }
    }

    /// Keeps a monitor open (when the subject has one), so overflow and
    /// monitor-death faults have a target; after a monitor death, checks its
    /// stream ended with an error and opens another.
    mutating func keepMonitor() async throws {
        let deaths = subject.faultsFired(in: sandbox)[.monitorDeath, default: 0]
        if let monitor {
            guard deaths > monitorDeaths else { return }
            if await monitor.endedWithError() == false {
                throw CaseFailure("\(step): the monitor died but its stream did not finish with an error")
            }
            self.monitor = nil
            note("the monitor died; a new one is opened")
        }
        monitorDeaths = deaths
        monitor = await subject.openMonitor(in: sandbox)
    }

    // MARK: trace

    mutating func note(_ event: String) {
        guard trace != nil else { return }
        pending.events.append(event)
    }

    /// Closes the pending record as the pass just run: its faults, then the
    /// caller's ops and verdict.
    mutating func closePass() -> FuzzTrace.Pass {
        var pass = pending
        pass.step = step
        pending = FuzzTrace.Pass(step: "")
        let log = subject.faultLog(of: sandbox)
        let fired = subject.faultsFired(in: sandbox)
        if log.count > faultLines {
            pass.faults = Array(log[faultLines...])
        } else {
            pass.faults = fired.keys.sorted().compactMap { kind in
                let new = fired[kind, default: 0] - firedBefore[kind, default: 0]
                return new > 0 ? "\(kind.rawValue) x\(new)" : nil
            }
        }
        faultLines = log.count
        firedBefore = fired
        return pass
    }

    mutating func record(_ report: Report) {
        guard trace != nil else { return }
        var pass = closePass()
        pass.ops = report.applied.map { FuzzTrace.Op(result: "applied", op: "\($0.symbol) \($0.item)") }
            + report.failed.map { FuzzTrace.Op(result: "failed", op: "\($0.op.symbol) \($0.op.item)", error: "\($0.error)") }
            + report.pending.map { FuzzTrace.Op(result: "pending", op: "\($0.symbol) \($0.item)") }
        pass.report = FuzzTrace.Verdict(
            converged: report.converged, applied: report.applied.count, failed: report.failed.count,
            pending: report.pending.count)
        pass.lastApplied = subject.describe(report.lastApplied)
        trace?.passes.append(pass)
    }

    mutating func record(threw error: ReconcileError, lastApplied: Subject.Source.LastApplied) {
        guard trace != nil else { return }
        var pass = closePass()
        pass.threw = "\(error)"
        pass.lastApplied = subject.describe(lastApplied)
        trace?.passes.append(pass)
    }

    /// Ends the trace with `failure` and, key by key, where the scope now
    /// differs from the expected entries.
    mutating func recordFailure(_ failure: CaseFailure) async {
        var differences: [FuzzTrace.Difference] = []
        if let now = try? await run.snapshot() {
            for (key, value) in expected where now[key] != value {
                differences.append(FuzzTrace.Difference(key: "\(key)", expected: "\(value)", actual: now[key].map { "\($0)" }))
            }
        }
        trace?.failure = FuzzTrace.Failure(
            step: step, message: failure.message, evidence: failure.evidence,
            differences: differences.sorted { $0.key < $1.key })
    }

    static func entries(_ expected: Expected) -> [FuzzTrace.Entry] {
        expected.map { FuzzTrace.Entry(key: "\($0.key)", value: "\($0.value)") }.sorted { $0.key < $1.key }
    }

    /// `+key = value`, `-key`, `~key: old -> new`, by key.
    static func changes(from old: Expected, to new: Expected) -> [String] {
        var lines: [(String, String)] = []
        for (key, value) in new {
            switch old[key] {
            case nil: lines.append(("\(key)", "+\(key) = \(value)"))
            case let was? where was != value: lines.append(("\(key)", "~\(key): \(was) -> \(value)"))
            default: break
            }
        }
        for key in old.keys where new[key] == nil { lines.append(("\(key)", "-\(key)")) }
        let sorted = lines.sorted { $0.0 < $1.0 }.map(\.1)
        return sorted.isEmpty ? ["(same entries)"] : sorted
    }
}
