import LinxKernelSim
import LinxReconcile

/// Why a case failed: what was expected, and the evidence (report lines,
/// snapshot differences) that shows it was not.
public struct CaseFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// One line: the broken promise.
    public var message: String
    /// Supporting lines, most useful first.
    public var evidence: [String]

    public init(_ message: String, evidence: [String] = []) {
        self.message = message
        self.evidence = evidence
    }

    /// The message, then up to 20 evidence lines, indented. A value that
    /// holds a newline or tab is shown escaped (`\n`, `\t`), so every line
    /// of the output is one line of evidence.
    public var description: String {
        ([Self.oneLine(message)] + evidence.prefix(20).map { "  \(Self.oneLine($0))" }
            + (evidence.count > 20 ? ["  ... \(evidence.count - 20) more"] : [])).joined(separator: "\n")
    }

    static func oneLine(_ text: String) -> String {
        guard text.contains(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" }) else { return text }
        var escaped = ""
        for character in text {
            switch character {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// One case's running state: the subject, its sandbox, the seeded random
/// stream, and the helpers case bodies are written with.
struct CaseRun<Subject: ConformanceSubject>: Sendable {
    typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>
    typealias Desired = Subject.Source.Desired
    typealias LastApplied = Subject.Source.LastApplied
    typealias Report = ReconcileReport<Subject.Source.Item, LastApplied>

    /// The outcome of one audited pass.
    struct Pass {
        var report: Report
        var before: Snapshot
        var after: Snapshot
    }

    let subject: Subject
    let sandbox: Subject.Sandbox
    let options: ConformanceOptions
    var random: SimRandom
    /// What the Source made, followed from every audited pass.
    var oracle = OwnershipOracle<Subject>()
    /// Every entry the case made as someone else (foreign state, drift).
    var knownForeign = Set<Subject.EntryKey>()

    var source: Subject.Source { subject.source(for: sandbox) }
    var scope: Subject.Source.Scope { subject.scope(of: sandbox) }
    /// One audit for the whole case: it remembers what it verified (see
    /// ``ReportAudit``), so the next pass need not verify it again.
    let audit: ReportAudit<Subject>

    init(subject: Subject, sandbox: Subject.Sandbox, options: ConformanceOptions, random: SimRandom) {
        self.subject = subject
        self.sandbox = sandbox
        self.options = options
        self.random = random
        audit = ReportAudit(subject: subject, sandbox: sandbox)
    }

    func snapshot() async throws -> Snapshot {
        do {
            return try await subject.snapshot(of: sandbox)
        } catch let skip as ConformanceSkip {
            throw skip
        } catch {
            throw CaseFailure("could not observe the scope independently: \(error)")
        }
    }

    /// Runs one pass, checks its report against the scope, and fails the
    /// case on any dishonesty (or on a pass that could not run at all).
    /// `expected` saves recomputing the desired state's entries (see
    /// ``ReportAudit/violations(of:desired:before:after:quiet:expected:)``).
    mutating func pass(
        _ desired: Desired, lastApplied: LastApplied, step: String, quiet: Bool = true,
        expected: [Subject.EntryKey: Subject.EntryValue]? = nil
    ) async throws -> Pass {
        do {
            return try await attempt(desired, lastApplied: lastApplied, step: step, quiet: quiet, expected: expected)
        } catch let notRun as PassDidNotRun {
            throw CaseFailure("\(step): the pass could not run: \(notRun.error)")
        }
    }

    /// A pass that threw instead of reporting: nothing was applied.
    struct PassDidNotRun: Error {
        var error: ReconcileError
    }

    /// Like ``pass(_:lastApplied:step:quiet:)`` but a pass that could not
    /// run is thrown as ``PassDidNotRun`` for the caller to judge.
    mutating func attempt(
        _ desired: Desired, lastApplied: LastApplied, step: String, quiet: Bool = true,
        expected: [Subject.EntryKey: Subject.EntryValue]? = nil
    ) async throws -> Pass {
        let before = try await snapshot()
        let journal = try await stamp()
        let report: Report
        do {
            report = try await source.reconcile(
                scope: scope, desired: desired, lastApplied: lastApplied, options: subject.options(for: sandbox))
        } catch {
            throw PassDidNotRun(error: error)
        }
        let after = try await snapshot()
        let wanted = expected ?? subject.expectedEntries(for: desired, in: sandbox)
        var problems = audit.violations(
            of: report, desired: desired, before: before, after: after, quiet: quiet, expected: wanted)
        if quiet {
            if report.planned.isEmpty, let journal, let now = try await stamp(), now != journal {
                problems.append("the report names no op, yet the pass wrote the scope (journal \(journal) -> \(now))")
            }
            problems += oracle.follow(
                report, from: lastApplied, desired: desired, subject: subject, sandbox: sandbox, expected: wanted, before: before,
                after: after, foreign: knownForeign, step: step)
        }
        if !problems.isEmpty {
            throw CaseFailure("\(step): the report is not honest", evidence: problems + Self.lines(of: report))
        }
        return Pass(report: report, before: before, after: after)
    }

    /// Makes a fresh desired state and converges on it, failing when one
    /// pass is not enough.
    mutating func converge(step: String, foreign: Bool = true)
        async throws -> (desired: Desired, pass: Pass, foreign: [Subject.EntryKey: Subject.EntryValue])
    {
        let desired = subject.validDesired(in: sandbox, using: &random)
        var made: [Subject.EntryKey: Subject.EntryValue] = [:]
        if foreign { made = try await makeForeign(avoiding: desired) }
        let pass = try await self.pass(desired, lastApplied: subject.emptyLastApplied, step: step)
        try expectConverged(pass, desired: desired, step: step)
        return (desired, pass, made)
    }

    /// The scope's journal stamp, when the subject keeps one (a simulated
    /// kernel whose history is off, as in fuzzing, keeps none).
    func stamp() async throws -> MutationStamp? {
        guard subject.capabilities.contains(.mutationJournal) else { return nil }
        do {
            return try await subject.mutationStamp(of: sandbox)
        } catch {
            throw CaseFailure("could not read the scope's mutation journal: \(error)")
        }
    }

    mutating func makeForeign(avoiding desired: Desired) async throws -> [Subject.EntryKey: Subject.EntryValue] {
        do {
            let made = try await subject.makeForeignState(in: sandbox, avoiding: desired, using: &random)
            knownForeign.formUnion(made.keys)
            return made
        } catch let skip as ConformanceSkip {
            throw skip
        } catch {
            throw CaseFailure("the subject could not make foreign state: \(error)")
        }
    }

    func expectConverged(
        _ pass: Pass, desired: Desired, step: String, expected: [Subject.EntryKey: Subject.EntryValue]? = nil
    ) throws {
        guard pass.report.converged else {
            throw CaseFailure("\(step): the pass did not converge", evidence: Self.lines(of: pass.report))
        }
        let missing = pass.after.violations(of: expected ?? subject.expectedEntries(for: desired, in: sandbox))
        if !missing.isEmpty {
            throw CaseFailure("\(step): the scope does not hold the desired state", evidence: missing)
        }
    }

    func expectForeignIntact(_ foreign: [Subject.EntryKey: Subject.EntryValue], in snapshot: Snapshot, step: String) throws {
        let damage = snapshot.violations(of: foreign)
        if !damage.isEmpty {
            throw CaseFailure("\(step): foreign state was touched", evidence: damage)
        }
    }

    static func lines(of report: Report) -> [String] {
        var lines = ["report: strategy \(report.strategy.rawValue), converged \(report.converged)"]
        lines += report.applied.map { "  applied \($0.symbol) \($0.item)" }
        lines += report.failed.map { "  failed  \($0.op.symbol) \($0.op.item): \($0.error)" }
        lines += report.pending.map { "  pending \($0.symbol) \($0.item)" }
        return lines
    }
}
