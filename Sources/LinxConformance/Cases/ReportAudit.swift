import LinxReconcile

/// Checks one report against what really happened to the scope: the
/// independent snapshots taken just before and just after the pass.
///
/// A report is honest when its shape matches its strategy, every applied op's
/// effect is visible, no pending op had any, nothing changed that no op in
/// the report explains, and it claims convergence only when the scope really
/// satisfies the desired state.
public struct ReportAudit<Subject: ConformanceSubject>: Sendable {
    public typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>

    let subject: Subject
    let sandbox: Subject.Sandbox

    public init(subject: Subject, sandbox: Subject.Sandbox) {
        self.subject = subject
        self.sandbox = sandbox
    }

    /// The contract violations of `report`, one line each; empty when honest.
    ///
    /// `quiet` says nothing but the Source changed the scope during the
    /// pass. With concurrent writers (fuzzing's EEXIST races, vanishing
    /// interfaces) pass `false`: changes nobody reported are then allowed.
    /// `expected` saves recomputing the desired state's entries.
    public func violations(
        of report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>,
        desired: Subject.Source.Desired, before: Snapshot, after: Snapshot, quiet: Bool = true,
        expected: [Subject.EntryKey: Subject.EntryValue]? = nil
    ) -> [String] {
        var problems = Self.shapeViolations(of: report)
        var explained = Set<Subject.EntryKey>(minimumCapacity: report.applied.count + report.failed.count)
        for op in report.applied {
            let effect = subject.effect(of: op, in: sandbox)
            effect.addTouchedKeys(to: &explained)
            explained.formUnion(subject.sideEffects(of: op, before: before, in: sandbox))
            guard quiet else { continue }
            for (key, value) in effect.sets where after[key] != value {
                problems.append("applied \(describe(op)) but \(key) is \(after[key].map { "\($0)" } ?? "absent"), not \(value)")
            }
            for key in effect.removes where after[key] != nil {
                problems.append("applied \(describe(op)) but \(key) is still present")
            }
        }
        for failed in report.failed {
            subject.effect(of: failed.op, in: sandbox).addTouchedKeys(to: &explained)
            explained.formUnion(subject.sideEffects(of: failed.op, before: before, in: sandbox))
        }
        let changed = before.changedKeys(to: after)
        // Only a change no attempted op explains can convict a pending op.
        let unexplained = quiet ? changed.filter { !explained.contains($0) } : []
        for op in report.pending where !unexplained.isEmpty {
            let effect = subject.effect(of: op, in: sandbox)
            for key in effect.sets.keys where unexplained.contains(key) {
                problems.append("\(describe(op)) is pending (never attempted) but \(key) changed")
            }
            for key in effect.removes where effect.sets[key] == nil && unexplained.contains(key) {
                problems.append("\(describe(op)) is pending (never attempted) but \(key) changed")
            }
        }
        if quiet {
            for key in unexplained {
                problems.append(
                    "\(key) changed (\(before[key].map { "\($0)" } ?? "absent") -> \(after[key].map { "\($0)" } ?? "absent")) but no op in the report touches it")
            }
            if report.converged {
                let missing = after.violations(of: expected ?? subject.expectedEntries(for: desired, in: sandbox))
                problems += missing.map { "report says converged, but \($0)" }
            }
        }
        return problems
    }

    /// Checks that depend on the report alone.
    public static func shapeViolations(
        of report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
    ) -> [String] {
        var problems: [String] = []
        // Walks `planned` bucket by bucket without concatenating it. Ops are
        // remembered by hash value and position, not copied into a set (an
        // op holds up to two items): only ops with equal hashes are compared.
        // The audit runs on every pass of every scenario.
        let count = report.applied.count + report.failed.count + report.pending.count
        if count > 1 {
            var first = [Int: Int](minimumCapacity: count)
            var collided: [(hash: Int, position: Int)] = []
            func once(_ op: ReconcileOp<Subject.Source.Item>, at position: Int) {
                let hash = op.hashValue
                guard let earlier = first[hash] else {
                    first[hash] = position
                    return
                }
                let seen = op == Self.op(at: earlier, in: report)
                    || collided.contains { $0.hash == hash && op == Self.op(at: $0.position, in: report) }
                if seen {
                    problems.append("\(op.symbol) \(op.item) appears more than once across applied, failed and pending; each planned op must appear exactly once")
                } else {
                    collided.append((hash, position))
                }
            }
            for (i, op) in report.applied.enumerated() { once(op, at: i) }
            for (i, failed) in report.failed.enumerated() { once(failed.op, at: report.applied.count + i) }
            for (i, op) in report.pending.enumerated() { once(op, at: report.applied.count + report.failed.count + i) }
        }
        switch report.strategy {
        case .bestEffort:
            if !report.pending.isEmpty {
                problems.append("best-effort report has \(report.pending.count) pending ops; best-effort tries every op")
            }
        case .failFast:
            if report.failed.count > 1 {
                problems.append("fail-fast report has \(report.failed.count) failed ops; it must stop at the first")
            }
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("fail-fast report has pending ops but no failed op that stopped it")
            }
        case .staged:
            // Several failures are allowed (a stage's ops are all attempted);
            // that pending ops were never attempted is checked against the scope.
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("staged report has pending ops but no failed op that stopped it")
            }
        case .allOrNothing:
            if !report.failed.isEmpty && !report.applied.isEmpty {
                problems.append("all-or-nothing report has \(report.applied.count) applied ops beside a refused transaction; a refused transaction applies nothing")
            }
            if report.failed.count > 1 {
                problems.append("all-or-nothing report has \(report.failed.count) failed ops; the kernel refuses a transaction at one command")
            }
            if report.failed.isEmpty && !report.pending.isEmpty {
                problems.append("all-or-nothing report has pending ops but no refused op")
            }
        }
        return problems
    }

    /// The op at `position` of applied, then failed, then pending.
    private static func op(
        at position: Int, in report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
    ) -> ReconcileOp<Subject.Source.Item> {
        if position < report.applied.count { return report.applied[position] }
        let failed = position - report.applied.count
        if failed < report.failed.count { return report.failed[failed].op }
        return report.pending[failed - report.failed.count]
    }

    private func describe(_ op: ReconcileOp<Subject.Source.Item>) -> String {
        "\(op.symbol) \(op.item)"
    }
}
