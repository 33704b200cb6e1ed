import LinxReconcile
import Synchronization

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
    /// The last reading whose violations of the expected entries are known
    /// (which expected keys it lacks or holds otherwise): the next pass's
    /// "before" is usually that very reading.
    private let verified = VerifiedReading<Subject.EntryKey, Subject.EntryValue>()

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
        // One sweep over the ops does what shapeViolations' duplicate check
        // and the effect checks each did with a sweep of their own: every
        // op's effect is asked for once, and one table of keys serves both
        // (see OpLedger).
        var ledger = OpLedger(report)
        var problems: [String] = []
        // Each op copied out of its array once, into a constant: an op
        // passed straight from a buffer (or an array) to a function is
        // copied for every call (the callee could see the memory change),
        // and an op, with its boxed update case, copies and destroys
        // through its type's value witnesses. The audit reads every op of
        // every pass.
        report.applied.withUnsafeBufferPointer { applied in
            for position in applied.indices {
                let op = applied[position]
                let effect = subject.effect(of: op, in: sandbox)
                // The usual single-entry effect by a switch (the closures of
                // forEachSet/forEachRemove copied captured state per op),
                // one switch for both the ledger's key and the quiet check:
                // each switch over the storage copies it (through its value
                // witnesses), and `onlyKey` was a second one per op.
                let onlyKey: Subject.EntryKey?
                switch effect.storage {
                case .setting(let key, let value):
                    onlyKey = effect.mayChange.isEmpty ? key : nil
                    if quiet && after.entries[key] != value { problems.append(Self.notVisible(op, key, value, in: after)) }
                case .removing(let key):
                    onlyKey = effect.mayChange.isEmpty ? key : nil
                    if quiet && after.entries[key] != nil { problems.append(Self.stillPresent(op, key)) }
                case .collections:
                    onlyKey = effect.onlyKey
                    if quiet {
                        // An effect's collections are sets: sorted, an op's
                        // lines read the same in every process.
                        var lines: [String] = []
                        effect.forEachSet { key, value in
                            if after[key] != value { lines.append(Self.notVisible(op, key, value, in: after)) }
                        }
                        effect.forEachRemove { key in
                            if after[key] != nil { lines.append(Self.stillPresent(op, key)) }
                        }
                        if !lines.isEmpty { problems += lines.sorted() }
                    }
                }
                ledger.record(op, at: position, effect: effect, onlyKey: onlyKey, attempted: true)
                for key in subject.sideEffects(of: op, before: before, in: sandbox) { ledger.explain(key) }
            }
        }
        report.failed.withUnsafeBufferPointer { failed in
            for offset in failed.indices {
                let op = failed[offset].op
                let effect = subject.effect(of: op, in: sandbox)
                ledger.record(op, at: report.applied.count + offset, effect: effect, attempted: true)
                for key in subject.sideEffects(of: op, before: before, in: sandbox) { ledger.explain(key) }
            }
        }
        let wanted = quiet && report.converged ? expected ?? subject.expectedEntries(for: desired, in: sandbox) : nil
        // The expected entries `after` is checked against along a chain of
        // quiet passes, converged or not (the caller's, never recomputed
        // for a pass that needs no converged check).
        let tracked = quiet ? wanted ?? expected : nil
        // When the expected keys `before` violates are known, only a key
        // that changed can have joined or left them: the converged check
        // looks at those and the changes instead of every expected entry.
        var violated = tracked.flatMap { verified.violated(in: before.reading, of: $0) }
        // Only a change no attempted op explains can convict a pending op;
        // with other writers about (not quiet) changes need no explaining.
        var unexplained = Set<Subject.EntryKey>()
        if quiet {
            // The ledger's table for the closure: reading the `var` ledger
            // from inside it copied the whole ledger per change.
            let explained = ledger.table
            before.forEachChange(to: after) { key, _, now in
                if !OpLedger.isExplained(key, in: explained) { unexplained.insert(key) }
                if violated != nil, let value = tracked?[key] {
                    if now == value { violated!.remove(key) } else { violated!.insert(key) }
                }
            }
        }
        let attempted = report.applied.count + report.failed.count
        report.pending.withUnsafeBufferPointer { pending in
            for offset in pending.indices {
                let op = pending[offset]
                let effect = subject.effect(of: op, in: sandbox)
                ledger.record(op, at: attempted + offset, effect: effect, attempted: false)
                guard !unexplained.isEmpty else { continue }
                var lines: [String] = []
                effect.forEachSet { key, _ in
                    if unexplained.contains(key) { lines.append(Self.pendingChanged(op, key)) }
                }
                effect.forEachRemove { key in
                    if !effect.setsKey(key) && unexplained.contains(key) { lines.append(Self.pendingChanged(op, key)) }
                }
                if !lines.isEmpty { problems += lines.sorted() }
            }
        }
        if quiet {
            // Sorted: a set's order changes with the process's hash seed, and
            // a failure's lines must read the same on every replay.
            problems += unexplained.map { key in
                "\(key) changed (\(before[key].map { "\($0)" } ?? "absent") -> \(after[key].map { "\($0)" } ?? "absent")) but no op in the report touches it"
            }.sorted()
            if let wanted {
                let keys = violated ?? after.violatedKeys(of: wanted)
                let missing = keys.compactMap { Snapshot.violation($0, expected: wanted[$0]!, actual: after[$0]) }.sorted()
                problems += missing.map { "report says converged, but \($0)" }
                verified.remember(after, violates: keys, of: wanted)
            } else if let tracked, let violated {
                verified.remember(after, violates: violated, of: tracked)
            }
        }
        return ledger.duplicates + Self.strategyViolations(of: report) + problems
    }

    /// Checks that depend on the report alone.
    public static func shapeViolations(
        of report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
    ) -> [String] {
        var ledger = OpLedger(report)
        for (i, op) in report.applied.enumerated() { ledger.recordByHash(op, at: i) }
        for (i, failed) in report.failed.enumerated() { ledger.recordByHash(failed.op, at: report.applied.count + i) }
        for (i, op) in report.pending.enumerated() {
            ledger.recordByHash(op, at: report.applied.count + report.failed.count + i)
        }
        return ledger.duplicates + strategyViolations(of: report)
    }

    /// One pass over a report's ops: which entry keys the attempted ops
    /// (applied and failed) explain, and each planned op at most once
    /// across applied, failed and pending (checked op by op in that order,
    /// without concatenating the three).
    ///
    /// Ops are remembered by position, not copied into a set (an op holds
    /// up to two items), in buckets: by the one entry key an op's effect
    /// touches when it touches exactly one (the usual op: hashing a small
    /// key, not the whole op, and the same table entry that records the key
    /// as explained), else by the op's hash value. Only ops of one bucket
    /// are compared. Equal ops have equal effects (an effect is a function
    /// of the op), so two equal ops always share a bucket: the answer is the
    /// one comparing every pair would give.
    struct OpLedger {
        typealias Report = ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
        let report: Report
        /// Duplicate-op lines, in op order.
        private(set) var duplicates: [String] = []
        /// Per key: bit 0 set when an attempted op or its side effect
        /// touches it; above it, 1 + the position of the first single-key op
        /// of that key (0 when none).
        private var keys: [Subject.EntryKey: Int] = [:]
        private var firstByHash: [Int: Int] = [:]
        /// Ops that share a bucket with an earlier, different op.
        private var collidedByKey: [(key: Subject.EntryKey, position: Int)] = []
        private var collidedByHash: [(hash: Int, position: Int)] = []

        init(_ report: Report) {
            self.report = report
            keys.reserveCapacity(report.applied.count + report.failed.count + report.pending.count)
        }

        /// Per key, whether it is explained (bit 0) and the first single-key
        /// op of it (see `keys`), for ``isExplained(_:in:)``.
        var table: [Subject.EntryKey: Int] { keys }

        /// Whether an attempted op, or a side effect of one, touches `key`,
        /// by a ledger's ``table``.
        static func isExplained(_ key: Subject.EntryKey, in table: [Subject.EntryKey: Int]) -> Bool {
            (table[key] ?? 0) & 1 != 0
        }

        /// Records that `key` is explained (a side effect of an attempted op).
        mutating func explain(_ key: Subject.EntryKey) {
            keys[key, default: 0] |= 1
        }

        /// Records the op at `position` (of applied, then failed, then
        /// pending): its effect's keys as explained when it was `attempted`,
        /// and whether an equal op came before it.
        mutating func record(
            _ op: ReconcileOp<Subject.Source.Item>, at position: Int,
            effect: OpEffect<Subject.EntryKey, Subject.EntryValue>, attempted: Bool
        ) {
            record(op, at: position, effect: effect, onlyKey: effect.onlyKey, attempted: attempted)
        }

        /// ``record(_:at:effect:attempted:)`` with the effect's `onlyKey`
        /// already known (the audit reads it in the switch it makes anyway).
        mutating func record(
            _ op: ReconcileOp<Subject.Source.Item>, at position: Int,
            effect: OpEffect<Subject.EntryKey, Subject.EntryValue>, onlyKey: Subject.EntryKey?, attempted: Bool
        ) {
            guard let key = onlyKey else {
                if attempted {
                    var touched = Set<Subject.EntryKey>()
                    effect.addTouchedKeys(to: &touched)
                    for key in touched { explain(key) }
                }
                recordByHash(op, at: position)
                return
            }
            guard let earlier = Self.claim(&keys[key, default: 0], position: position, attempted: attempted) else { return }
            let seen = op == ReportAudit.op(at: earlier, in: report)
                || collidedByKey.contains { $0.key == key && op == ReportAudit.op(at: $0.position, in: report) }
            if seen { duplicate(op) } else { collidedByKey.append((key, position)) }
        }

        /// Records the op at `position` by its hash value alone (no effect:
        /// it explains nothing), for whether an equal op came before it.
        mutating func recordByHash(_ op: ReconcileOp<Subject.Source.Item>, at position: Int) {
            let hash = op.hashValue
            guard let earlier = firstByHash[hash] else {
                firstByHash[hash] = position
                return
            }
            let seen = op == ReportAudit.op(at: earlier, in: report)
                || collidedByHash.contains { $0.hash == hash && op == ReportAudit.op(at: $0.position, in: report) }
            if seen { duplicate(op) } else { collidedByHash.append((hash, position)) }
        }

        private mutating func duplicate(_ op: ReconcileOp<Subject.Source.Item>) {
            duplicates.append("\(op.symbol) \(op.item) appears more than once across applied, failed and pending; each planned op must appear exactly once")
        }

        /// Updates one key's slot for a single-key op at `position`; the
        /// position of the first single-key op of that key when there was one.
        private static func claim(_ slot: inout Int, position: Int, attempted: Bool) -> Int? {
            if attempted { slot |= 1 }
            let first = slot >> 1
            if first == 0 {
                slot |= (position + 1) << 1
                return nil
            }
            return first - 1
        }
    }

    /// The checks of the report's shape against its strategy.
    static func strategyViolations(
        of report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
    ) -> [String] {
        var problems: [String] = []
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
    fileprivate static func op(
        at position: Int, in report: ReconcileReport<Subject.Source.Item, Subject.Source.LastApplied>
    ) -> ReconcileOp<Subject.Source.Item> {
        if position < report.applied.count { return report.applied[position] }
        let failed = position - report.applied.count
        if failed < report.failed.count { return report.failed[failed].op }
        return report.pending[failed - report.failed.count]
    }

    private static func describe(_ op: ReconcileOp<Subject.Source.Item>) -> String {
        "\(op.symbol) \(op.item)"
    }

    /// The line for a pending op whose entry changed anyway.
    private static func pendingChanged(_ op: ReconcileOp<Subject.Source.Item>, _ key: Subject.EntryKey) -> String {
        "\(describe(op)) is pending (never attempted) but \(key) changed"
    }

    /// The line for an applied op whose removed entry `after` still holds.
    private static func stillPresent(_ op: ReconcileOp<Subject.Source.Item>, _ key: Subject.EntryKey) -> String {
        "applied \(describe(op)) but \(key) is still present"
    }

    /// The line for an applied op whose set entry `after` does not hold.
    private static func notVisible(
        _ op: ReconcileOp<Subject.Source.Item>, _ key: Subject.EntryKey, _ value: Subject.EntryValue, in after: Snapshot
    ) -> String {
        "applied \(describe(op)) but \(key) is \(after[key].map { "\($0)" } ?? "absent"), not \(value)"
    }
}

/// A reading of a scope checked against a set of expected entries, with
/// the expected keys it violates (lacks, or holds with another value), kept
/// by an audit from one pass to the next: the next pass's "before" is
/// usually that very reading, and its violations then follow from the
/// pass's changes alone.
final class VerifiedReading<Key: Hashable & Sendable & CustomStringConvertible, Value: Hashable & Sendable & CustomStringConvertible>:
    Sendable
{
    private let last = Mutex<(reading: ScopeReading, expected: [Key: Value], violated: Set<Key>)?>(nil)

    /// The keys of `expected` that `reading` violates, when it was checked
    /// against the same entries (the caller's dictionary is usually the very
    /// one remembered, which compares in constant time); nil when unknown.
    func violated(in reading: ScopeReading, of expected: [Key: Value]) -> Set<Key>? {
        last.withLock { last in
            guard let last, last.reading == reading, last.expected == expected else { return nil }
            return last.violated
        }
    }

    /// Remembers that `snapshot` violates exactly the `violated` keys of `expected`.
    func remember(_ snapshot: ScopeSnapshot<Key, Value>, violates violated: Set<Key>, of expected: [Key: Value]) {
        last.withLock { $0 = (snapshot.reading, expected, violated) }
    }
}
