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
///
/// The same record holds the Source to the project's first rule: it never
/// deletes what it cannot prove it owns (see ``advance(_:from:subject:sandbox:expected:before:foreign:step:)``,
/// the one step conformance passes and fuzzing's passes share).
struct OwnershipOracle<Subject: ConformanceSubject>: Sendable {
    typealias Key = Subject.EntryKey
    typealias LastApplied = Subject.Source.LastApplied
    typealias Report = ReconcileReport<Subject.Source.Item, LastApplied>
    typealias Snapshot = ScopeSnapshot<Subject.EntryKey, Subject.EntryValue>

    /// What the Source made and has not released, as of one pass: each
    /// entry with the step that made it, and of those the ones it adopted
    /// (the entry was already there, unowned, when the Source first wrote
    /// it: the Source may use it, but it was never the Source's to delete).
    struct Made: Sendable {
        var steps: [Key: String] = [:]
        var adopted = Set<Key>()
    }

    /// What the Source made, for the lastApplied values it handed back
    /// (newest last). A pass started from a lastApplied seen here continues
    /// that record; from any other (a restart that lost it) the Source owns
    /// nothing the suite can hold it to.
    private var ledger: [(lastApplied: LastApplied, made: Made)] = []
    /// Entries the Source made before a restart that lost its lastApplied:
    /// it cannot prove they are its own, so it may leave them; releasing
    /// them is no offence either (they were its own).
    private var orphans = Set<Key>()

    /// What the Source made and still owns, as of the last pass started
    /// from `lastApplied`.
    func made(given lastApplied: LastApplied) -> [Key: String] {
        record(given: lastApplied)?.steps ?? [:]
    }

    /// The newest record of a pass that handed back `lastApplied`: a chain
    /// of passes finds it last.
    private func record(given lastApplied: LastApplied) -> Made? {
        ledger.last { $0.lastApplied == lastApplied }?.made
    }

    /// Follows one pass and returns what it got wrong about ownership, one
    /// line each. `foreign` is every entry the case made as someone else
    /// (never the Source's, whatever the reports say).
    mutating func follow(
        _ report: Report, from lastApplied: LastApplied, desired: Subject.Source.Desired, subject: Subject,
        sandbox: Subject.Sandbox,
        expected: [Key: Subject.EntryValue], before: Snapshot, after: Snapshot, foreign: Set<Key>, step: String
    ) -> [String] {
        var (made, problems) = advance(
            report, from: lastApplied, subject: subject, sandbox: sandbox, expected: expected, before: before,
            foreign: foreign, step: step)
        var accounted = Set<Key>()
        for op in report.applied {
            subject.effect(of: op, in: sandbox).addTouchedKeys(to: &accounted)
        }
        for op in report.failed.map(\.op) + report.pending {
            subject.effect(of: op, in: sandbox).addTouchedKeys(to: &accounted)
        }
        let emptied = expected.isEmpty && report.converged
        var ownedAfter: Set<Key>?
        var ownedAfterRead = false
        for (key, madeAt) in made.steps.sorted(by: { "\($0.key)" < "\($1.key)" }) where expected[key] == nil {
            // A failed or pending release: still made, retried next pass.
            if accounted.contains(key) { continue }
            if after[key] == nil || foreign.contains(key) {
                made.steps[key] = nil
                made.adopted.remove(key)
                continue
            }
            // An adopted entry is the user's: leaving it is right, unless
            // the Source recorded it as its own (sysctl's keys, which always
            // exist, are adopted and recorded, and must be released).
            if made.adopted.contains(key) {
                if !ownedAfterRead {
                    ownedAfter = subject.ownedEntries(in: report.lastApplied, scope: after, in: sandbox)
                    ownedAfterRead = true
                }
                if ownedAfter?.contains(key) != true { continue }
            }
            problems.append(
                emptied
                    ? "\(key), made by the Source (\(madeAt)), is still there after a pass that converged on an empty desired state"
                    : "\(key), made by the Source (\(madeAt)), is no longer desired yet still there, and the report has no op for it: a release left out of the report, or an item lost from lastApplied (a leak)"
            )
            made.steps[key] = nil
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

    /// Follows one pass of a fuzzing scenario: records what the Source made
    /// and returns the writes and releases of entries that were never its
    /// own (see ``advance(_:from:subject:sandbox:expected:before:foreign:step:)``).
    /// Fuzzing's other checks are its own: faults, vanished interfaces and
    /// reboots make the leak checks of ``follow(_:from:desired:subject:sandbox:expected:before:after:foreign:step:)``
    /// too strict for its fault phase.
    mutating func followUnowned(
        _ report: Report, from lastApplied: LastApplied, subject: Subject, sandbox: Subject.Sandbox,
        expected: [Key: Subject.EntryValue], before: Snapshot, foreign: Set<Key>, step: String
    ) -> [String] {
        let (made, problems) = advance(
            report, from: lastApplied, subject: subject, sandbox: sandbox, expected: expected, before: before,
            foreign: foreign, step: step)
        ledger.append((report.lastApplied, made))
        return problems
    }

    /// The one step both ``follow(_:from:desired:subject:sandbox:expected:before:after:foreign:step:)``
    /// and ``followUnowned(_:from:subject:sandbox:expected:before:foreign:step:)``
    /// take: what the Source has made after `report`'s applied ops, and the
    /// ops that touched an entry that was there before the pass and was never
    /// the Source's.
    ///
    /// The project's first rule: nothing the user owns is ever deleted, and
    /// an entry that existed before the Source wanted it is not the
    /// Source's. An applied release of an entry present in `before` is
    /// wrong unless the Source made it (an applied create or update of an
    /// earlier pass, and not an adopted one), it was made before a restart
    /// that lost lastApplied, or the Source owns it by what the subject can
    /// read (``ConformanceSubject/ownedEntries(in:scope:in:)`` of the
    /// lastApplied the pass started from, on `before`: rtnl's route tag,
    /// nftables' table marker). A create or update of such an entry is
    /// wrong too when the desired state does not name it: the Source wrote
    /// over something of someone else's that it was not asked to manage. (A
    /// write the desired state asks for adopts the entry: sysctl writes keys
    /// that always exist.) Kernel side effects are not ops and are never
    /// judged here.
    private mutating func advance(
        _ report: Report, from lastApplied: LastApplied, subject: Subject, sandbox: Subject.Sandbox,
        expected: [Key: Subject.EntryValue], before: Snapshot, foreign: Set<Key>, step: String
    ) -> (made: Made, problems: [String]) {
        var made: Made
        if let known = record(given: lastApplied) {
            made = known
        } else {
            if let last = ledger.last { orphans.formUnion(last.made.steps.keys) }
            made = Made()
        }
        var problems: [String] = []
        // Read once, and only when some op touches an entry it did not make.
        var owned: Set<Key>?
        var ownedRead = false
        func owns(_ key: Key) -> Bool {
            if (made.steps[key] != nil && !made.adopted.contains(key)) || orphans.contains(key) { return true }
            if !ownedRead {
                owned = subject.ownedEntries(in: lastApplied, scope: before, in: sandbox)
                ownedRead = true
            }
            return owned?.contains(key) ?? false
        }
        for op in report.applied {
            let effect = subject.effect(of: op, in: sandbox)
            switch op {
            case .create, .update:
                effect.forEachSet { key, _ in
                    if before[key] != nil && expected[key] == nil && !owns(key) {
                        problems.append(
                            "applied \(op.symbol) \(op.item) wrote \(key), which was there before this pass (\(before[key]!)) and is not the Source's: it never created it, neither lastApplied nor the kernel's record says it owns it, and the desired state does not name it. A Source may change only what it made or what the desired state asks for")
                    }
                    guard made.steps[key] == nil, !foreign.contains(key) else { return }
                    made.steps[key] = step
                    // Already there and not the Source's: used, never its own.
                    if before[key] != nil && !owns(key) { made.adopted.insert(key) }
                }
            case .delete:
                // The keys listed (and sorted) only when one was there and
                // is not the Source's: every fuzzed pass deletes something.
                var unowned = false
                Self.forEachNamed(by: effect) { key in
                    if !unowned && before[key] != nil && !owns(key) { unowned = true }
                }
                if unowned {
                    for key in Self.named(by: op, effect: effect) where before[key] != nil && !owns(key) {
                        problems.append(
                            "applied \(op.symbol) \(op.item) deleted \(key), which was there before this pass (\(before[key]!)) and is not the Source's: it never created it, and neither lastApplied nor the kernel's record says it owns it. An entry that existed before the Source wanted it belongs to someone else (the user); a Source must never delete what it cannot prove it owns")
                    }
                }
                // Only a key the record holds is removed: a removal of any
                // key copies the record the ledger shares.
                func release(_ key: Key) {
                    if made.steps[key] != nil { made.steps[key] = nil }
                    if made.adopted.contains(key) { made.adopted.remove(key) }
                }
                effect.forEachSet { key, _ in release(key) }
                effect.forEachRemove(release)
                for key in effect.mayChange { release(key) }
            }
        }
        return (made, problems)
    }

    /// The entries `op` names: those it sets or removes, or when it
    /// predicts neither (a sysctl release writes back a value only the
    /// kernel knows), those it may change.
    static func named(
        by op: ReconcileOp<Subject.Source.Item>, effect: OpEffect<Key, Subject.EntryValue>
    ) -> [Key] {
        var keys = Set<Key>()
        forEachNamed(by: effect) { keys.insert($0) }
        return keys.sorted { "\($0)" < "\($1)" }
    }

    /// ``named(by:effect:)`` one key at a time, in no order, without a
    /// collection (a key both set and removed comes twice).
    static func forEachNamed(by effect: OpEffect<Key, Subject.EntryValue>, _ body: (Key) -> Void) {
        var predicted = false
        effect.forEachSet { key, _ in
            predicted = true
            body(key)
        }
        effect.forEachRemove { key in
            predicted = true
            body(key)
        }
        if !predicted { for key in effect.mayChange { body(key) } }
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
            named(by: op, effect: subject.effect(of: op, in: sandbox))
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
