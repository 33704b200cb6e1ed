import LinxReconcile

/// The suite's own record of what a Source owns, kept from the reports and
/// the independent snapshots alone, never from the Source's lastApplied.
///
/// A Source's reports can each look honest while its ownership drifts from
/// the truth: a release left out of a report, an item dropped from
/// lastApplied after a failed write (it is never released: a leak), a failed
/// create recorded as owned (a later release deletes whatever someone else
/// puts there). The oracle catches these because it knows, from every
/// applied create, what the Source made, and after every pass checks that
/// each such entry is still wanted, still accounted for by an op of the
/// report, or gone.
struct OwnershipOracle<Subject: ConformanceSubject>: Sendable {
    typealias Key = Subject.EntryKey
    typealias LastApplied = Subject.Source.LastApplied
    typealias Report = ReconcileReport<Subject.Source.Item, LastApplied>
    typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>

    /// Entries the Source made and has not released, each with the step
    /// that made it, for the lastApplied values it handed back (newest
    /// last). A pass started from a lastApplied seen here continues that
    /// record; from any other (a restart that lost it) the Source owns
    /// nothing the suite can hold it to.
    private var ledger: [(lastApplied: LastApplied, made: [Key: String])] = []
    /// Entries the Source made before a restart that lost its lastApplied:
    /// it cannot prove they are its own, so it may leave them.
    private var orphans = Set<Key>()

    /// What the Source made and still owns, as of the last pass started
    /// from `lastApplied`.
    func made(given lastApplied: LastApplied) -> [Key: String] {
        ledger.last { $0.lastApplied == lastApplied }?.made ?? [:]
    }

    /// Follows one pass and returns what it got wrong about ownership, one
    /// line each. `foreign` is every entry the case made as someone else
    /// (never the Source's, whatever the reports say).
    mutating func follow(
        _ report: Report, from lastApplied: LastApplied, desired: Subject.Source.Desired, subject: Subject,
        sandbox: Subject.Sandbox,
        expected: [Key: Subject.EntryValue], before: Snapshot, after: Snapshot, foreign: Set<Key>, step: String
    ) -> [String] {
        if let last = ledger.last, !ledger.contains(where: { $0.lastApplied == lastApplied }) {
            orphans.formUnion(last.made.keys)
        }
        var made = made(given: lastApplied)
        var accounted = Set<Key>()
        for op in report.applied {
            let effect = subject.effect(of: op, in: sandbox)
            switch op {
            case .create, .update:
                for key in effect.sets.keys where !foreign.contains(key) && made[key] == nil { made[key] = step }
            case .delete:
                for key in effect.touchedKeys { made[key] = nil }
            }
            effect.addTouchedKeys(to: &accounted)
        }
        for op in report.failed.map(\.op) + report.pending {
            subject.effect(of: op, in: sandbox).addTouchedKeys(to: &accounted)
        }
        var problems: [String] = []
        let emptied = expected.isEmpty && report.converged
        for (key, madeAt) in made.sorted(by: { "\($0.key)" < "\($1.key)" }) where expected[key] == nil {
            // A failed or pending release: still made, retried next pass.
            if accounted.contains(key) { continue }
            if after[key] == nil || foreign.contains(key) {
                made[key] = nil
                continue
            }
            problems.append(
                emptied
                    ? "\(key), made by the Source (\(madeAt)), is still there after a pass that converged on an empty desired state"
                    : "\(key), made by the Source (\(madeAt)), is no longer desired yet still there, and the report has no op for it: a release left out of the report, or an item lost from lastApplied (a leak)"
            )
            made[key] = nil
        }
        if report.converged {
            for (key, value) in after.entries
            where !orphans.contains(key) && subject.mustBeAbsent(key, value: value, when: desired, in: sandbox) {
                problems.append("report says converged, but \(key) = \(value) is present, and this desired state wants it absent")
            }
        }
        problems += Self.lastAppliedViolations(
            of: report, from: lastApplied, subject: subject, sandbox: sandbox, expected: expected, after: after)
        ledger.append((report.lastApplied, made))
        return problems
    }

    /// What the report's lastApplied gets wrong about its own ops, when the
    /// subject can read lastApplied (``ConformanceSubject/ownedEntries(in:scope:in:)``).
    /// Ownership the kernel records (read from `after`, the scope after the
    /// pass) is the same on both sides, so only the lastApplied part can
    /// disagree with a failed op; an applied op is checked against both.
    static func lastAppliedViolations(
        of report: Report, from lastApplied: LastApplied, subject: Subject, sandbox: Subject.Sandbox,
        expected: [Key: Subject.EntryValue], after scope: Snapshot
    ) -> [String] {
        guard let before = subject.ownedEntries(in: lastApplied, scope: scope, in: sandbox),
            let after = subject.ownedEntries(in: report.lastApplied, scope: scope, in: sandbox)
        else { return [] }
        var problems: [String] = []
        func keys(of op: ReconcileOp<Subject.Source.Item>) -> [Key] {
            let effect = subject.effect(of: op, in: sandbox)
            let identity = Set(effect.sets.keys).union(effect.removes)
            return (identity.isEmpty ? effect.mayChange : identity).sorted { "\($0)" < "\($1)" }
        }
        for failed in report.failed {
            for key in keys(of: failed.op) {
                switch failed.op {
                case .create where !before.contains(key) && after.contains(key):
                    problems.append(
                        "the create of \(key) failed (\(failed.error)), yet lastApplied now owns it: a later release would delete whatever someone else puts there")
                case .update where before.contains(key) && !after.contains(key),
                    .delete where before.contains(key) && !after.contains(key):
                    problems.append(
                        "the \(failed.op.isDelete ? "release" : "update") of \(key) failed (\(failed.error)), yet lastApplied no longer owns it: it can never be released (a leak)")
                default: break
                }
            }
        }
        for op in report.applied {
            for key in keys(of: op) {
                switch op {
                case .create where !after.contains(key), .update where !after.contains(key):
                    problems.append("applied \(op.symbol) \(op.item), yet lastApplied does not own \(key): it can never be released (a leak)")
                case .delete where after.contains(key) && expected[key] == nil:
                    problems.append("released \(key), yet lastApplied still owns it")
                default: break
                }
            }
        }
        return problems
    }
}
